//! Old and new tabs on one database during a game deploy (see `docs/tabs.md`, "During a
//! deploy"): the worker asks Torii which models the world has ([`ManifestJudge`]) and applies
//! the rule of [`dojo_reactive_storage::schema_switch`]. Only a writer whose manifest Torii
//! judged current puts the database on it ([`ManifestJudge::adopt`], fenced like every write);
//! a writer Torii contradicts reports `OutdatedManifestError` and gives up the database; a tab
//! that does not lead shows only the stored models its manifest describes as stored
//! ([`preload_matching`]).

use std::cell::{Cell, RefCell};
use std::future::Future;

use dojo_reactive_core::sync::{BackoffConfig, Clock, StorageError, StorageErrorKind, TargetKind};
use dojo_reactive_core::ManifestFingerprint;
use dojo_reactive_storage::schema_switch::{judge, ToriiModels, Verdict};
use dojo_reactive_storage::writer::resign_writer;
use dojo_reactive_storage::{Backend, DataOrigin, Storage, StoreError};
use dojo_reactive_torii::ToriiError;
use futures_util::lock::Mutex;

use crate::adapter::DeltaSink;
use crate::delta::encode_deltas;
use crate::errors::{outdated_manifest, ErrorInfo};
use crate::world_check::within;

/// How long Torii's list of models is trusted before it is asked again (ms).
const MODELS_FRESH_MS: u64 = 5_000;

/// What Torii answered about the world's models.
enum Listing {
    /// Its models.
    Models(ToriiModels),
    /// It refused the call for good (e.g. a Torii without `Worlds`).
    Refused,
}

/// Judges this worker's manifest against the stored one by the models Torii lists.
pub struct ManifestJudge<F> {
    fetch: F,
    fingerprint: ManifestFingerprint,
    origin: DataOrigin,
    timeout_ms: u64,
    backoff: BackoffConfig,
    /// Torii's last answer and when it came.
    answered: RefCell<Option<(u64, ToriiModels)>>,
    /// Set once this worker put the database on its manifest (later starts skip the check).
    adopted: Cell<bool>,
    /// Set once Torii's contradiction was reported (the synchronizers and the event logs both
    /// ask for the adoption: it is reported once).
    reported: Cell<bool>,
    /// Held by the adoption under way: another caller waits for its outcome instead of asking
    /// Torii beside it (a hanging Torii would hold one more connection per caller).
    one_at_a_time: Mutex<()>,
}

impl<F, Fut> ManifestJudge<F>
where
    F: Fn() -> Fut,
    Fut: Future<Output = Result<ToriiModels, ToriiError>>,
{
    /// A judge of `fingerprint` (the data's `origin`), asking Torii through `fetch` (each call
    /// within `timeout_ms`, retried with `backoff` by [`ManifestJudge::adopt`]).
    pub fn new(
        fetch: F,
        fingerprint: ManifestFingerprint,
        origin: DataOrigin,
        timeout_ms: u64,
        backoff: BackoffConfig,
    ) -> Self {
        ManifestJudge {
            fetch,
            fingerprint,
            origin,
            timeout_ms,
            backoff,
            answered: RefCell::new(None),
            adopted: Cell::new(false),
            reported: Cell::new(false),
            one_at_a_time: Mutex::new(()),
        }
    }

    /// This worker's manifest hash.
    pub fn manifest_hash(&self) -> &str {
        &self.fingerprint.hash
    }

    /// Torii's models (asked again when the last answer is older than 5 s); `None` when Torii
    /// did not answer in time.
    async fn torii_models<C: Clock>(&self, clock: &C) -> Option<Listing> {
        let now = clock.now_ms();
        if let Some((at, models)) = &*self.answered.borrow() {
            if now.saturating_sub(*at) < MODELS_FRESH_MS {
                return Some(Listing::Models(models.clone()));
            }
        }
        match within(clock, self.timeout_ms, (self.fetch)()).await? {
            Ok(models) => {
                *self.answered.borrow_mut() = Some((clock.now_ms(), models.clone()));
                Some(Listing::Models(models))
            }
            Err(error) if !error.is_retryable() => Some(Listing::Refused),
            Err(_) => None,
        }
    }

    /// The verdict on this manifest against what the database holds now; `None` when Torii did
    /// not answer in time. A Torii that refuses `Worlds` for good cannot arbitrate: this
    /// manifest is then current (the writer's manifest wins, as without this check).
    pub async fn verdict<B: Backend, C: Clock>(
        &self,
        storage: &Storage<B>,
        clock: &C,
    ) -> Result<Option<Verdict>, StoreError> {
        let stored = storage.stored_manifest().await?;
        Ok(match self.torii_models(clock).await {
            Some(Listing::Models(models)) => {
                Some(judge(&self.fingerprint, stored.as_ref(), &models))
            }
            Some(Listing::Refused) => Some(Verdict::Current),
            None => None,
        })
    }

    /// The leader's step before its synchronizers write (it claimed the database): asks Torii
    /// until it answers (while `running`), then puts the database on this manifest when Torii
    /// judges it current. Otherwise the writer gives the database up (`storage`'s backend is
    /// fenced off) and this fails with a `lostLeadership` error, after reporting
    /// `OutdatedManifestError` to `sink` when Torii contradicts this manifest.
    pub async fn adopt<B: Backend, C: Clock, K: DeltaSink>(
        &self,
        storage: &Storage<B>,
        clock: &C,
        sink: &K,
        running: impl Fn() -> bool,
    ) -> Result<(), StorageError> {
        let _one = self.one_at_a_time.lock().await;
        if self.adopted.get() {
            return Ok(());
        }
        let mut failures = 0u32;
        let mut backoff = dojo_reactive_core::sync::Backoff::new(self.backoff);
        let verdict = loop {
            if !running() {
                return Err(given_up("the worker stopped"));
            }
            if let Some(verdict) = self.verdict(storage, clock).await? {
                break verdict;
            }
            failures = failures.saturating_add(1);
            let wake = clock.now_ms().saturating_add(backoff.delay_ms(failures));
            clock.sleep_until(wake).await;
        };
        match verdict {
            Verdict::Current => {
                storage
                    .adopt_manifest(&self.fingerprint, &self.origin)
                    .await?;
                self.adopted.set(true);
                Ok(())
            }
            Verdict::Outdated { models } => {
                resign_writer(storage.backend());
                if !self.reported.replace(true) {
                    sink.error(outdated_manifest(&models, &self.fingerprint.hash));
                }
                Err(given_up("Torii contradicts this tab's manifest"))
            }
            Verdict::Undecided => {
                resign_writer(storage.backend());
                Err(given_up(
                    "the database stays on the manifest it holds until Torii lists this one's \
                     models",
                ))
            }
        }
    }
}

/// The error of a writer that gave the database up: never retried, the worker follows.
fn given_up(why: &str) -> StorageError {
    StorageError {
        kind: StorageErrorKind::LostLeadership,
        message: format!("this tab's writer lost its leadership of the database: {why}"),
    }
}

/// The models a tab must not show from a database on `stored` (see
/// [`dojo_reactive_storage::schema_switch::hidden_models`]): none when it is on `own`.
pub fn hidden(own: &ManifestFingerprint, stored: Option<&ManifestFingerprint>) -> Vec<String> {
    match stored {
        Some(stored) if stored.hash != own.hash => {
            dojo_reactive_storage::schema_switch::hidden_models(own, stored)
        }
        _ => Vec::new(),
    }
}

/// Sends the stored states of `target` to `sink` as DELTAs of at most `chunk` states, except
/// those of the `hidden` models; returns how many were sent.
pub async fn preload_matching<B: Backend, K: DeltaSink>(
    storage: &Storage<B>,
    sink: &K,
    target: TargetKind,
    hidden: &[String],
    chunk: usize,
) -> Result<usize, StoreError> {
    let loaded = storage.load(target).await?;
    let shown: Vec<_> = loaded
        .data
        .models
        .iter()
        .filter(|record| !hidden.iter().any(|tag| tag == record.model()))
        .filter_map(|record| record.get().cloned())
        .collect();
    match encode_deltas(target, &shown, &[], chunk) {
        Ok(buffers) => {
            for bytes in buffers {
                sink.delta(&bytes, true, None);
            }
        }
        Err(error) => sink.error(ErrorInfo::new(
            "StorageError",
            format!("the stored states could not be sent to the view ({error})"),
        )),
    }
    Ok(shown.len())
}

#[cfg(all(test, not(target_arch = "wasm32")))]
mod tests {
    use std::rc::Rc;

    use dojo_reactive_core::sync::testing::InstantClock;
    use dojo_reactive_core::sync::{SyncBatch, TargetKind};
    use dojo_reactive_core::{Felt, FingerprintEntry, ResourceKind};
    use dojo_reactive_storage::writer::{claim_writer, ClaimRule, WriterId};
    use dojo_reactive_storage::{decode_state_changes, MemoryBackend};
    use futures_executor::block_on;

    use super::*;

    #[derive(Default, Clone)]
    struct Sink {
        deltas: Rc<RefCell<Vec<Vec<u8>>>>,
        errors: Rc<RefCell<Vec<ErrorInfo>>>,
    }

    impl DeltaSink for Sink {
        fn delta(
            &self,
            bytes: &[u8],
            _persisted: bool,
            _relay: Option<crate::adapter::DeltaRelay>,
        ) {
            self.deltas.borrow_mut().push(bytes.to_vec());
        }

        fn error(&self, info: ErrorInfo) {
            self.errors.borrow_mut().push(info);
        }
    }

    fn manifest(name: &str, position_class: u8) -> ManifestFingerprint {
        let entry = |tag: &str, class: u8| FingerprintEntry {
            tag: tag.into(),
            kind: ResourceKind::Model,
            class_hash: Felt::from(u128::from(class)).to_hex(),
            signature: format!("{tag}:{class}"),
            member_count: 1,
        };
        ManifestFingerprint {
            hash: format!("manifest-hash:v1:{name}"),
            world_class_hash: Felt::from(9u128).to_hex(),
            entries: vec![entry("a-Player", 1), entry("a-Position", position_class)],
        }
    }

    fn torii(position_class: u8) -> ToriiModels {
        let player = *Felt::from(1u128).as_bytes();
        let position = *Felt::from(u128::from(position_class)).as_bytes();
        ToriiModels::new([
            ("a", "Player", &player[..]),
            ("a", "Position", &position[..]),
        ])
    }

    fn origin() -> DataOrigin {
        DataOrigin::new("http://torii", &Felt::from(7u128))
    }

    fn judge_of(
        fingerprint: ManifestFingerprint,
        deployed: u8,
    ) -> ManifestJudge<impl Fn() -> std::future::Ready<Result<ToriiModels, ToriiError>>> {
        ManifestJudge::new(
            move || std::future::ready(Ok(torii(deployed))),
            fingerprint,
            origin(),
            1_000,
            BackoffConfig::default(),
        )
    }

    fn record(id: u128, model: &str) -> dojo_reactive_core::sync::ModelRecord {
        use dojo_reactive_core::{Member, Primitive, Struct, Value};
        dojo_reactive_core::sync::ModelRecord {
            entity: Felt::from(id),
            world_address: Felt::from(7u128),
            state: Struct {
                name: model.into(),
                members: vec![Member {
                    name: "value".into(),
                    key: false,
                    value: Value::Primitive(Primitive::U32(1)),
                }],
            },
            created_at: 1,
            updated_at: 2,
            executed_at: 3,
        }
    }

    #[test]
    fn an_old_writer_gives_the_database_up_and_a_new_one_switches_it() {
        block_on(async {
            let backend = MemoryBackend::new();
            let old = manifest("old", 2);
            let new = manifest("new", 3);
            let clock = InstantClock::default();
            let sink = Sink::default();
            // The old code wrote players and positions.
            let storage = Storage::new(backend.clone());
            storage.open(&old, &origin()).await.unwrap();
            storage.adopt_manifest(&old, &origin()).await.unwrap();
            storage
                .commit(&SyncBatch {
                    upserts: vec![record(1, "a-Player"), record(1, "a-Position")],
                    ..SyncBatch::new(TargetKind::Entities)
                })
                .await
                .unwrap();

            // The new code leads once the deploy reached Torii: the positions go.
            let me = |manifest: &str| WriterId {
                owner: manifest.into(),
                protocol: 1,
                manifest: manifest.into(),
                switching: true,
            };
            claim_writer(&backend, &me(&new.hash), ClaimRule::Always, 1.0)
                .await
                .unwrap();
            let newer = judge_of(new.clone(), 3);
            newer.adopt(&storage, &clock, &sink, || true).await.unwrap();
            assert_eq!(storage.stored_manifest().await.unwrap(), Some(new.clone()));
            let loaded = storage.load(TargetKind::Entities).await.unwrap();
            assert_eq!(loaded.data.models.len(), 1, "only the player stays");

            // An old tab's writer is contradicted: it reports and writes nothing more.
            let reader = Storage::new(backend.clone());
            reader.open(&old, &origin()).await.unwrap();
            claim_writer(&backend, &me(&old.hash), ClaimRule::Always, 2.0)
                .await
                .unwrap();
            let older = judge_of(old.clone(), 3);
            let error = older
                .adopt(&reader, &clock, &sink, || true)
                .await
                .unwrap_err();
            assert_eq!(error.kind, StorageErrorKind::LostLeadership);
            // Asked again (the event logs ask beside the synchronizers): refused, reported once.
            claim_writer(&backend, &me(&old.hash), ClaimRule::Always, 3.0)
                .await
                .unwrap();
            let again = older.adopt(&reader, &clock, &sink, || true).await;
            assert_eq!(again.unwrap_err().kind, StorageErrorKind::LostLeadership);
            let errors = sink.errors.borrow().clone();
            assert_eq!(errors.len(), 1);
            assert_eq!(errors[0].name, "OutdatedManifestError");
            assert_eq!(
                errors[0].fields["models"],
                serde_json::json!(["a-Position"])
            );
            assert!(errors[0].message.contains("reload it"));
            assert_eq!(reader.stored_manifest().await.unwrap(), Some(new.clone()));
            assert!(matches!(
                reader
                    .commit(&SyncBatch {
                        upserts: vec![record(2, "a-Position")],
                        ..SyncBatch::new(TargetKind::Entities)
                    })
                    .await,
                Err(StoreError::LostLeadership { .. })
            ));

            // What the old tab shows: the stored players, not the new positions.
            assert_eq!(hidden(&old, Some(&new)), vec!["a-Position".to_owned()]);
            storage
                .commit(&SyncBatch {
                    upserts: vec![record(3, "a-Position")],
                    ..SyncBatch::new(TargetKind::Entities)
                })
                .await
                .unwrap_err();
            let shown = Sink::default();
            let sent = preload_matching(
                &reader,
                &shown,
                TargetKind::Entities,
                &hidden(&old, Some(&new)),
                10,
            )
            .await
            .unwrap();
            assert_eq!(sent, 1);
            let deltas = shown.deltas.borrow();
            let (_, changes) = decode_state_changes(&deltas[0]).unwrap();
            assert_eq!(changes.len(), 1);
        });
    }

    #[test]
    fn without_an_answer_from_torii_nothing_is_switched_and_a_refusal_lets_the_writer_decide() {
        block_on(async {
            let backend = MemoryBackend::new();
            let storage = Storage::new(backend.clone());
            let old = manifest("old", 2);
            storage.open(&old, &origin()).await.unwrap();
            storage.adopt_manifest(&old, &origin()).await.unwrap();
            let offline = ManifestJudge::new(
                || {
                    std::future::ready(Err(ToriiError::Unavailable {
                        message: "connection refused".into(),
                    }))
                },
                manifest("new", 3),
                origin(),
                1_000,
                BackoffConfig::default(),
            );
            let clock = InstantClock::default();
            let tries = Cell::new(0);
            let result = offline
                .adopt(&storage, &clock, &Sink::default(), || {
                    tries.set(tries.get() + 1);
                    tries.get() < 4
                })
                .await;
            assert_eq!(result.unwrap_err().kind, StorageErrorKind::LostLeadership);
            assert_eq!(storage.stored_manifest().await.unwrap(), Some(old.clone()));

            // A Torii that refuses Worlds for good cannot arbitrate: the writer's manifest wins.
            let refusing = ManifestJudge::new(
                || {
                    std::future::ready(Err(ToriiError::Rpc {
                        code: "Unimplemented".into(),
                        message: "no Worlds".into(),
                    }))
                },
                manifest("new", 3),
                origin(),
                1_000,
                BackoffConfig::default(),
            );
            refusing
                .adopt(&storage, &clock, &Sink::default(), || true)
                .await
                .unwrap();
            assert_eq!(
                storage.stored_manifest().await.unwrap(),
                Some(manifest("new", 3))
            );
        });
    }
}
