//! The events the wasm `SyncWorker` emits (`emit(event, delta?)`), which the worker script
//! posts to the main thread as they are: their one Rust definition. Their TypeScript
//! definitions are `WorkerMessage` in `js/src/messages.ts` (what the main thread parses) and
//! `WorkerEvent` in [`crate::types`] (the generated `.d.ts`); `js/test/boundary.test.mjs`
//! checks both against one serialised example of every variant,
//! `js/test/fixtures/worker-events.json`, which the test below keeps equal to this enum's output.

use std::collections::BTreeMap;

use dojo_reactive_core::sync::{SyncTick, TargetTick, Transition};
use serde::Serialize;

use crate::adapter::DeltaRelay;
use crate::errors::ErrorInfo;

/// One event of the worker, tagged by `type` (`INIT_ACK`, `DELTA`, ...), fields in camelCase.
#[derive(Debug, Clone, Serialize)]
#[serde(
    tag = "type",
    rename_all = "SCREAMING_SNAKE_CASE",
    rename_all_fields = "camelCase"
)]
pub enum WorkerEvent<'a> {
    /// The persisted state was sent (as DELTAs), before any network; `lead` syncs next.
    InitAck {
        /// Hash of the manifest the database is keyed on.
        manifest_hash: &'a str,
        /// The Torii version the stored data was synced from (`None` when none is recorded).
        torii_version: Option<&'a str>,
        /// The database name.
        db_name: &'a str,
        /// Model states restored from the database.
        restored: usize,
        /// Where the data is kept.
        persistence: Persistence,
        /// How the start went.
        timings: StartTimings,
        /// Where each of the page's sync targets stands once the stored data is in the view, by
        /// kind: complete when it was stored complete under the same definition (before any
        /// network; the ticks say the same later).
        targets: BTreeMap<&'static str, Vec<TargetTick>>,
    },
    /// One kind's stored data was sent (its DELTAs came before), before INIT_ACK: where the
    /// page's targets of that kind stand now that it is in the view, as INIT_ACK will say. The
    /// kinds are restored in the order the page declares their first target, so a target of
    /// the first kind is complete before the others are read.
    Restored {
        /// The kind (`entities`, `tokenBalances`, ...).
        target: &'static str,
        /// Its targets, complete when stored complete under the same definition.
        targets: Vec<TargetTick>,
    },
    /// One batch of changes; its bytes are `emit`'s second argument.
    Delta {
        /// False while the store has not taken the batch (a failed write waits for a retry).
        persisted: bool,
        /// Its place in the leader's relayed sequence (absent for the stored state, and before
        /// this worker leads).
        #[serde(skip_serializing_if = "Option::is_none")]
        relay: Option<DeltaRelay>,
    },
    /// One change of an event-log target's log (an `EventBatch`, its bytes `emit`'s second
    /// argument): after INIT_ACK the stored log in chunks, newest first (the first a snapshot),
    /// then each change as it is stored.
    Events {
        /// The id of the target whose log changed (the batch names it too).
        target: &'a str,
        /// False when the store did not take the change (it is written with the next one).
        persisted: bool,
        /// Whether the batch is a chunk of the stored log (events shown before, not new ones).
        stored: bool,
        /// Whether the whole stored log is sent once this batch is applied.
        restored: bool,
        /// Whether the target is complete once this batch is applied: its stored log is sent
        /// and a walk read its whole history within the retention.
        complete: bool,
    },
    /// A synchronizer's status.
    SyncTick {
        /// The tick, with the model states not yet stored.
        tick: TickWithUnpersisted<'a>,
    },
    /// A synchronizer's state change.
    Transition {
        /// The change.
        transition: &'a Transition,
    },
    /// A non-fatal error (sync goes on).
    SyncError {
        /// The error.
        error: &'a ErrorInfo,
    },
    /// Sync stopped for good.
    SyncFatal {
        /// The error.
        error: &'a ErrorInfo,
    },
}

/// A synchronizer's tick with the count of its target's model states shown but not stored yet.
#[derive(Debug, Clone, Serialize)]
pub struct TickWithUnpersisted<'a> {
    /// The tick (its fields, flattened).
    #[serde(flatten)]
    pub tick: &'a SyncTick,
    /// Model states of the tick's target shown but not stored yet.
    pub unpersisted: usize,
}

/// Where the worker keeps the data.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub enum Persistence {
    /// In IndexedDB.
    IndexedDb,
    /// In memory only (the browser offers no IndexedDB here).
    Memory,
}

/// When the worker's `open` began (epoch ms) and how long each step took (ms).
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct StartTimings {
    /// When `SyncWorker.open` began (`Date.now()`).
    pub started_at: f64,
    /// Opening and checking the database.
    pub open_ms: f64,
    /// Sending the stored segments.
    pub restore_ms: f64,
}

#[cfg(test)]
mod tests {
    use super::*;
    use dojo_reactive_core::sync::testing::{entity_id, model_state, test_setup, Harness};
    use dojo_reactive_core::sync::{SyncTarget, TargetKind};

    /// The fixture the JS tests read (`js/test/boundary.test.mjs`).
    const FIXTURE: &str = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../js/test/fixtures/worker-events.json"
    );

    /// A real tick and transition: a synchronizer that paged a two-entity snapshot.
    fn synced() -> (SyncTick, Transition) {
        let mut h = Harness::new();
        for n in 0..2 {
            h.server.write(
                TargetKind::Entities,
                entity_id(n),
                model_state("ns-Player", n, 7, 1),
            );
        }
        let mut sync = h.synchronizer(test_setup(SyncTarget::entities()));
        let until = h.in_ms(10_000);
        let _ = h.sim.run_until(sync.run(), until);
        let tick = h.recorder.last_tick().expect("the synchronizer ticked");
        let transition = h
            .recorder
            .transitions()
            .into_iter()
            .next()
            .expect("the synchronizer moved");
        (tick, transition)
    }

    /// One example of every event, as JSON.
    fn examples() -> serde_json::Value {
        let (tick, transition) = synced();
        let error = ErrorInfo::new("TransportError", "Torii did not answer")
            .with("consecutiveFailures", 2)
            .with("retryInMs", 1000);
        let fatal = ErrorInfo::new("SyncFatalError", "the retry budget is spent")
            .with("reason", "budget")
            .with("attempts", 5);
        let events = [
            WorkerEvent::InitAck {
                manifest_hash: "manifest-hash:v1:00",
                torii_version: Some("1.8.16"),
                db_name: "dojo-reactive-0x1",
                restored: 2,
                persistence: Persistence::IndexedDb,
                timings: StartTimings {
                    started_at: 1_700_000_000_000.0,
                    open_ms: 3.0,
                    restore_ms: 40.0,
                },
                targets: BTreeMap::from([(
                    "entities",
                    vec![TargetTick {
                        id: "region".into(),
                        digest: "00000000000000ff".into(),
                        complete: true,
                    }],
                )]),
            },
            WorkerEvent::Restored {
                target: "tokenBalances",
                targets: vec![TargetTick {
                    id: "balances".into(),
                    digest: "00000000000000aa".into(),
                    complete: true,
                }],
            },
            WorkerEvent::Delta {
                persisted: true,
                relay: Some(DeltaRelay {
                    target: TargetKind::Entities,
                    epoch: 3,
                    n: 17,
                }),
            },
            WorkerEvent::Events {
                target: "feed",
                persisted: true,
                stored: false,
                restored: true,
                complete: false,
            },
            WorkerEvent::SyncTick {
                tick: TickWithUnpersisted {
                    tick: &tick,
                    unpersisted: 0,
                },
            },
            WorkerEvent::Transition {
                transition: &transition,
            },
            WorkerEvent::SyncError { error: &error },
            WorkerEvent::SyncFatal { error: &fatal },
        ];
        serde_json::to_value(events).expect("events serialise")
    }

    #[test]
    fn the_js_fixture_is_one_example_of_every_event() {
        let expected = serde_json::to_string_pretty(&examples()).expect("JSON") + "\n";
        if std::env::var_os("UPDATE_FIXTURES").is_some() {
            std::fs::write(FIXTURE, &expected).expect("fixture written");
        }
        let stored = std::fs::read_to_string(FIXTURE).unwrap_or_default();
        assert!(
            stored == expected,
            "js/test/fixtures/worker-events.json is not what the worker emits; regenerate it with \
             UPDATE_FIXTURES=1 cargo test -p dojo-reactive-wasm --lib messages, then run the js \
             tests (boundary.test.mjs checks the TypeScript definitions against it)"
        );
    }

    #[test]
    fn events_are_tagged_by_type_with_camel_case_fields() {
        let json = examples();
        let types: Vec<_> = json
            .as_array()
            .into_iter()
            .flatten()
            .map(|event| event["type"].as_str().unwrap_or_default().to_owned())
            .collect();
        assert_eq!(
            types,
            [
                "INIT_ACK",
                "RESTORED",
                "DELTA",
                "EVENTS",
                "SYNC_TICK",
                "TRANSITION",
                "SYNC_ERROR",
                "SYNC_FATAL"
            ]
        );
        assert_eq!(json[0]["manifestHash"], "manifest-hash:v1:00");
        assert_eq!(json[0]["timings"]["openMs"], 3.0);
        assert_eq!(json[0]["toriiVersion"], "1.8.16");
        assert_eq!(json[0]["persistence"], "indexedDb");
        assert_eq!(json[0]["targets"]["entities"][0]["complete"], true);
        assert_eq!(json[1]["target"], "tokenBalances");
        assert_eq!(json[1]["targets"][0]["complete"], true);
        assert_eq!(json[2]["persisted"], true);
        assert_eq!(json[2]["relay"]["target"], "entities");
        assert_eq!(json[2]["relay"]["n"], 17);
        assert_eq!(json[3]["persisted"], true);
        assert_eq!(json[3]["target"], "feed");
        assert_eq!(json[4]["tick"]["unpersisted"], 0);
        assert_eq!(json[4]["tick"]["target"], "entities");
        assert_eq!(json[6]["error"]["name"], "TransportError");
        assert_eq!(json[6]["error"]["consecutiveFailures"], 2);
    }
}
