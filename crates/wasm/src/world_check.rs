//! Whether Torii knows the configured world (its `Worlds` RPC): a world it does not index is
//! a typed error once Torii answers, instead of syncing an empty world without complaint.

use std::future::{poll_fn, Future};
use std::pin::pin;
use std::task::Poll;

use dojo_reactive_core::sync::{Backoff, BackoffConfig, Clock};
use dojo_reactive_core::Felt;
use dojo_reactive_torii::ToriiError;

use crate::errors::ErrorInfo;

/// How the check ended.
#[derive(Debug, Clone, PartialEq)]
pub enum WorldCheck {
    /// Torii lists the world.
    Known,
    /// Torii answered without the world: the error to report.
    Unknown(ErrorInfo),
    /// Torii refused the call for good (e.g. a Torii without `Worlds`): nothing to say.
    Unchecked,
    /// The worker stopped before Torii answered.
    Stopped,
}

/// Whether the world addresses Torii answered include `world` (spellings of one felt match).
pub fn lists_world(answered: &[String], world: &Felt) -> bool {
    answered
        .iter()
        .any(|address| Felt::from_hex(address.trim()).is_ok_and(|felt| felt == *world))
}

/// The error for a world Torii does not know: a `ValidationError` of `worldAddress`.
pub fn unknown_world(world: &Felt, torii_url: &str) -> ErrorInfo {
    ErrorInfo::validation(format!(
        "Torii at {torii_url} does not know the world {}: check worldAddress (or the manifest's \
         world address) and toriiUrl",
        world.to_hex()
    ))
    .with("argument", "worldAddress")
    .with("reason", "unknownWorld")
    .with("worldAddress", world.to_hex())
    .with("toriiUrl", torii_url)
}

/// The output of `call` if it completes within `timeout_ms`, else `None` (the call is dropped).
pub async fn within<C: Clock, T>(
    clock: &C,
    timeout_ms: u64,
    call: impl Future<Output = T>,
) -> Option<T> {
    let deadline = clock.now_ms().saturating_add(timeout_ms);
    let mut call = pin!(call);
    let mut timer = pin!(clock.sleep_until(deadline));
    poll_fn(|cx| {
        if let Poll::Ready(answer) = call.as_mut().poll(cx) {
            return Poll::Ready(Some(answer));
        }
        timer.as_mut().poll(cx).map(|()| None)
    })
    .await
}

/// Asks Torii which worlds it knows (`fetch`, each call within `timeout_ms`) until it answers,
/// retrying unreachable or hanging calls with `backoff` (the synchronizers report Torii being
/// offline meanwhile), while `running` says so.
pub async fn check_world<C, F, Fut>(
    clock: &C,
    mut fetch: F,
    world: &Felt,
    torii_url: &str,
    timeout_ms: u64,
    backoff: BackoffConfig,
    running: impl Fn() -> bool,
) -> WorldCheck
where
    C: Clock,
    F: FnMut() -> Fut,
    Fut: Future<Output = Result<Vec<String>, ToriiError>>,
{
    let mut backoff = Backoff::new(backoff);
    let mut failures = 0u32;
    while running() {
        let answer = within(clock, timeout_ms, fetch()).await;
        match answer {
            Some(Ok(worlds)) if lists_world(&worlds, world) => return WorldCheck::Known,
            Some(Ok(_)) => return WorldCheck::Unknown(unknown_world(world, torii_url)),
            Some(Err(error)) if !error.is_retryable() => return WorldCheck::Unchecked,
            Some(Err(_)) | None => {
                failures = failures.saturating_add(1);
                let wake = clock.now_ms().saturating_add(backoff.delay_ms(failures));
                clock.sleep_until(wake).await;
            }
        }
    }
    WorldCheck::Stopped
}

#[cfg(all(test, not(target_arch = "wasm32")))]
mod tests {
    use std::cell::Cell;

    use dojo_reactive_core::sync::testing::InstantClock;
    use futures_executor::block_on;

    use super::*;

    #[test]
    fn a_listed_world_matches_in_any_spelling() {
        let world = Felt::from(0x7u128);
        assert!(lists_world(&["0x0007".into()], &world));
        assert!(lists_world(&["0x1".into(), " 0x7".into()], &world));
        assert!(!lists_world(&["0x123".into(), "nonsense".into()], &world));
        assert!(!lists_world(&[], &world));
    }

    #[test]
    fn torii_is_asked_again_until_it_answers() {
        let world = Felt::from(0x7u128);
        let fast = BackoffConfig {
            initial_ms: 1,
            max_ms: 2,
            ..BackoffConfig::default()
        };
        let calls = Cell::new(0);
        let check = block_on(check_world(
            &InstantClock::default(),
            || {
                calls.set(calls.get() + 1);
                let n = calls.get();
                async move {
                    if n < 3 {
                        Err(ToriiError::Unavailable {
                            message: "connection refused".into(),
                        })
                    } else {
                        Ok(vec!["0x123".to_owned()])
                    }
                }
            },
            &world,
            "http://torii",
            1_000,
            fast,
            || true,
        ));
        assert_eq!(calls.get(), 3);
        let WorldCheck::Unknown(error) = check else {
            panic!("{check:?}");
        };
        assert_eq!(error.name, "ValidationError");
        assert_eq!(error.fields["reason"], "unknownWorld");
        assert!(error.message.contains("does not know the world"));

        let refused = block_on(check_world(
            &InstantClock::default(),
            || async {
                Err(ToriiError::Rpc {
                    code: "Unimplemented".into(),
                    message: "no Worlds".into(),
                })
            },
            &world,
            "http://torii",
            1_000,
            fast,
            || true,
        ));
        assert_eq!(refused, WorldCheck::Unchecked);
        let stopped = block_on(check_world(
            &InstantClock::default(),
            || async { Ok(Vec::new()) },
            &world,
            "http://torii",
            1_000,
            fast,
            || false,
        ));
        assert_eq!(stopped, WorldCheck::Stopped);
    }
}
