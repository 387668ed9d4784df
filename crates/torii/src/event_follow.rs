//! Keeping an event log current: subscribe to the event-message stream, walk the history back
//! until it meets what the log holds (all of it within the retention on a cold start), then add
//! the stream's events as they arrive. A stream that ends or fails is subscribed again and the
//! history walked again down to the newest second held (less a margin); a stream silent for
//! `heartbeat_ms` is probed by the same walk, and subscribed again when the walk found events it
//! did not deliver. The log's identity makes every re-read harmless: an event seen again is
//! not added twice. Until one walk has read the whole history within the retention (a log not
//! yet `walked`: cold, or restored from a walk a reload interrupted), each session's walk does,
//! whatever the log holds; the sink hears once when one did.

use dojo_reactive_core::sync::{Backoff, BackoffConfig, Clock};
use dojo_reactive_core::{Delivery, EventLog, LogChange, Placement};
use futures_util::future::{select, Either};
use std::pin::pin;

use crate::client::{EntityKind, ToriiClient};
use crate::error::ToriiError;
use crate::event_log::{events_of, HistoricalQuery, HistoryWalk, WalkBounds};

/// How a follower reads and waits.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FollowOptions {
    /// Rows per history page.
    pub page_size: u32,
    /// A stream silent this long is probed by a catch-up walk.
    pub heartbeat_ms: u64,
    /// Seconds below the newest second held where a catch-up walk stops.
    pub margin_s: u64,
    /// Longest wait for a subscription's handshake or one history walk.
    pub request_timeout_ms: u64,
    /// Delays between failed attempts.
    pub backoff: BackoffConfig,
}

/// Where a follower's changes and errors go, and whether it should stop.
#[allow(async_fn_in_trait)]
pub trait FollowSink {
    /// One change of the log (already applied to `log`): store it and show it.
    async fn change(&mut self, log: &EventLog, change: LogChange);
    /// The first walk that read the whole history within the retention ended (after its
    /// changes): the log is complete.
    async fn walked(&mut self);
    /// A failure the follower recovers from by itself (it retries).
    fn error(&mut self, error: &ToriiError);
    /// Whether to stop (checked between steps).
    fn stopped(&self) -> bool;
}

/// Why a streaming session ended.
enum SessionEnd {
    /// The sink asked to stop.
    Stopped,
    /// Subscribe again (after a failure, the stream's end, or events it missed).
    Resubscribe,
}

/// Follows `query` into `log` until `sink` says stop; `walked` says whether a walk already read
/// the whole history within the retention into `log` (else the first session's walk does).
pub async fn follow<C: Clock, S: FollowSink>(
    client: &ToriiClient,
    query: &HistoricalQuery,
    log: &mut EventLog,
    walked: bool,
    clock: &C,
    options: FollowOptions,
    sink: &mut S,
) {
    let mut backoff = Backoff::new(options.backoff);
    let mut failures = 0u32;
    let mut walked = walked;
    while !sink.stopped() {
        match session(client, query, log, &mut walked, clock, options, sink).await {
            Ok(SessionEnd::Stopped) => return,
            Ok(SessionEnd::Resubscribe) => failures = 0,
            Err(error) => {
                sink.error(&error);
                failures = failures.saturating_add(1);
                let delay = backoff.delay_ms(failures);
                clock
                    .sleep_until(clock.now_ms().saturating_add(delay))
                    .await;
            }
        }
    }
}

/// Races `work` against `ms` milliseconds of `clock`: `None` when the time ran out first.
async fn within<C: Clock, T>(
    clock: &C,
    ms: u64,
    work: impl std::future::Future<Output = T>,
) -> Option<T> {
    let deadline = clock.now_ms().saturating_add(ms);
    match select(pin!(work), pin!(clock.sleep_until(deadline))).await {
        Either::Left((value, _)) => Some(value),
        Either::Right(_) => None,
    }
}

/// A call that did not answer in time: Torii is treated as unavailable (retried with backoff).
fn timed_out(what: &str, ms: u64) -> ToriiError {
    ToriiError::Unavailable {
        message: format!("{what} took longer than {ms} ms (requestTimeoutMs)"),
    }
}

/// Rows per page of a heartbeat's probe: a quiet world has few events in its last seconds.
const PROBE_PAGE_SIZE: u32 = 50;

/// One walk of the history into `log`, `page_size` rows a page, down to its newest second less
/// the margin, or, `full`, all of the retention; returns whether it added events.
#[allow(clippy::too_many_arguments)]
async fn catch_up<C: Clock, S: FollowSink>(
    client: &ToriiClient,
    query: &HistoricalQuery,
    log: &mut EventLog,
    full: bool,
    clock: &C,
    options: FollowOptions,
    page_size: u32,
    sink: &mut S,
) -> Result<bool, ToriiError> {
    let newest = log.newest_executed_at().filter(|_| !full);
    let bounds = WalkBounds {
        down_to_s: newest.map_or(0, |at| at.saturating_sub(options.margin_s)),
        page_size,
        now_s: clock.now_ms() / 1000,
    };
    let mut walk = HistoryWalk::new(bounds);
    let mut added = false;
    // Each page within the request timeout, its change shown and stored before the next.
    while let Some(change) = within(
        clock,
        options.request_timeout_ms,
        walk.next_page(client, query, log),
    )
    .await
    .ok_or_else(|| timed_out("a page of the event history", options.request_timeout_ms))??
    {
        if !change.is_empty() {
            added |= !change.added.is_empty();
            sink.change(log, change).await;
        }
        if sink.stopped() {
            break;
        }
    }
    Ok(added)
}

/// Subscribes, catches up (the whole retention until `walked`), then streams until the stream
/// ends, fails or missed events.
async fn session<C: Clock, S: FollowSink>(
    client: &ToriiClient,
    query: &HistoricalQuery,
    log: &mut EventLog,
    walked: &mut bool,
    clock: &C,
    options: FollowOptions,
    sink: &mut S,
) -> Result<SessionEnd, ToriiError> {
    // Subscribed before the walk: an event written meanwhile is in one or the other (or both,
    // and then added once).
    let mut subscription = within(
        clock,
        options.request_timeout_ms,
        client.subscribe(
            EntityKind::EventMessages,
            query.subscription_clause(),
            &query.world_addresses,
        ),
    )
    .await
    .ok_or_else(|| timed_out("subscribing to event messages", options.request_timeout_ms))??;
    let full = !*walked;
    catch_up(
        client,
        query,
        log,
        full,
        clock,
        options,
        options.page_size,
        sink,
    )
    .await?;
    // A walk the sink stopped did not end.
    if full && !sink.stopped() {
        *walked = true;
        sink.walked().await;
    }
    let mut delivery = Delivery::new();
    loop {
        if sink.stopped() {
            return Ok(SessionEnd::Stopped);
        }
        let next = within(clock, options.heartbeat_ms, subscription.next()).await;
        match next {
            Some(Some(Ok(entity))) => {
                let rows = events_of(entity, &query.models);
                let change = log.apply(
                    &mut delivery,
                    rows,
                    Placement::Arrival,
                    clock.now_ms() / 1000,
                );
                if !change.is_empty() {
                    sink.change(log, change).await;
                }
            }
            // A row that does not decode is skipped; the stream goes on.
            Some(Some(Err(ToriiError::InvalidEntity { .. }))) => {}
            Some(Some(Err(error))) => return Err(error),
            Some(None) => return Ok(SessionEnd::Resubscribe),
            None => {
                // Silent: a walk tells a quiet world from a stream that stopped delivering.
                let probe = options.page_size.min(PROBE_PAGE_SIZE);
                if catch_up(client, query, log, false, clock, options, probe, sink).await? {
                    return Ok(SessionEnd::Resubscribe);
                }
                let trimmed = log.trim(clock.now_ms() / 1000);
                if !trimmed.is_empty() {
                    let change = LogChange {
                        added: Vec::new(),
                        evicted: trimmed,
                    };
                    sink.change(log, change).await;
                }
            }
        }
    }
}
