//! The worker's side of the writer election (see `docs/tabs.md`): claiming and renewing the
//! database's writer record. The election itself (Web Locks or the lease timer, the
//! BroadcastChannel relay) runs in the worker script (`js/src/worker.ts`); it calls these
//! between `open` and `lead`; and whether a follower's restore held a relayed DELTA.

use dojo_reactive_storage::schema_switch::Verdict;
use dojo_reactive_storage::writer::{claim_writer, renew_writer, Claim, ClaimRule, WriterId};
use js_sys::Promise;
use serde_json::json;
use wasm_bindgen::prelude::*;

use dojo_reactive_core::sync::TargetKind;

use crate::adapter::DeltaRelay;
use crate::clock::BrowserClock;
use crate::errors::{outdated_manifest, store_error};
use crate::json::json_to_js;
use crate::worker::SyncWorker;

/// A lease holder silent for longer than this is presumed gone (the lease fallback).
const LEASE_STALE_MS: f64 = 1_500.0;

#[wasm_bindgen]
impl SyncWorker {
    /// Claims the right to write the database, in one transaction: with `lease` false (the
    /// caller holds the database's Web Lock) always; with `lease` true only when the recorded
    /// writer is stale (silent for 1.5 s), older code, or this `owner`. A writer recorded
    /// under another manifest is replaced only when Torii judges this worker's manifest
    /// current (asked here, see `judgeManifest`). Resolves `{ won: true, epoch }` (every later
    /// write of this worker is fenced on `epoch`) or `{ won: false, epoch, owner, protocol,
    /// manifest?, outdated? }` naming the holder (`outdated`: the `OutdatedManifestError` of
    /// this worker's manifest, which must never write); rejects with a `StorageError`. Once won,
    /// the DELTAs of every later commit are numbered under `epoch` (their `relay` field) and
    /// their relay marks stored with them.
    #[wasm_bindgen(js_name = claimWriter, unchecked_return_type = "Promise<WriterClaim>")]
    pub fn claim_writer(&self, owner: String, protocol: u32, lease: bool, now_ms: f64) -> Promise {
        let backend = self.backend();
        let (storage, judge) = (self.storage(), self.judge());
        wasm_bindgen_futures::future_to_promise(async move {
            let rule = if lease {
                ClaimRule::IfStale {
                    stale_ms: LEASE_STALE_MS,
                }
            } else {
                ClaimRule::Always
            };
            let mut me = WriterId {
                owner,
                protocol,
                manifest: judge.manifest_hash().to_owned(),
                switching: false,
            };
            let fail = |e| JsValue::from(store_error(&e));
            let mut claim = claim_writer(&backend, &me, rule, now_ms)
                .await
                .map_err(fail)?;
            let mut outdated = None;
            let other_manifest = matches!(&claim, Claim::Held(holder)
                if holder.manifest.as_deref().is_some_and(|m| m != me.manifest));
            if other_manifest {
                match judge
                    .verdict(storage.inner(), &BrowserClock)
                    .await
                    .map_err(fail)?
                {
                    Some(Verdict::Current) => {
                        me.switching = true;
                        claim = claim_writer(&backend, &me, rule, now_ms)
                            .await
                            .map_err(fail)?;
                    }
                    Some(Verdict::Outdated { models }) => {
                        outdated = Some(outdated_manifest(&models, &me.manifest));
                    }
                    Some(Verdict::Undecided) | None => {}
                }
            }
            if let Claim::Won(epoch) = claim {
                storage.relay_under(epoch);
            }
            Ok(json_to_js(&match claim {
                Claim::Won(epoch) => json!({ "won": true, "epoch": epoch }),
                Claim::Held(holder) => json!({
                    "won": false,
                    "epoch": holder.epoch,
                    "owner": holder.owner,
                    "protocol": holder.protocol,
                    "manifest": holder.manifest,
                    "outdated": outdated,
                }),
            }))
        })
    }

    /// Renews this worker's lease on the writer record (the lease fallback); rejects with a
    /// `StorageError` of kind `lostLeadership` when another worker claimed it since.
    #[wasm_bindgen(js_name = renewWriter, unchecked_return_type = "Promise<void>")]
    pub fn renew_writer(&self, epoch: f64, now_ms: f64) -> Promise {
        let backend = self.backend();
        wasm_bindgen_futures::future_to_promise(async move {
            renew_writer(&backend, epoch as u64, now_ms)
                .await
                .map_err(|e| JsValue::from(store_error(&e)))?;
            Ok(JsValue::UNDEFINED)
        })
    }
}

#[wasm_bindgen]
impl SyncWorker {
    /// Whether the stored state `open` sent already held this relayed DELTA of `target`
    /// (`"entities"` or `"eventMessages"`), numbered `n` under `epoch` and `persisted` or not
    /// when relayed: the relay mark `open` read with that state says so (see
    /// `docs/tabs.md`). A follower drops such a DELTA instead of applying it again; false for
    /// an unknown target or when no mark was stored.
    #[wasm_bindgen(js_name = holdsRelayed)]
    pub fn holds_relayed(&self, target: &str, epoch: f64, n: f64, persisted: bool) -> bool {
        let Some(target) = TargetKind::from_name(target) else {
            return false;
        };
        let (Some(epoch), Some(n)) = (count(epoch), count(n)) else {
            return false;
        };
        self.storage()
            .holds_relayed(DeltaRelay { target, epoch, n }, persisted)
    }

    /// The newest relay mark `open` read, over every target: `{ epoch, n }`, the newest relayed
    /// DELTA the stored state it sent held (`undefined` when no mark was stored). A follower
    /// counts the DELTAs after it to notice ones it never received.
    #[wasm_bindgen(js_name = restoredMark, unchecked_return_type = "RelayMark | undefined")]
    pub fn restored_mark(&self) -> JsValue {
        self.storage()
            .newest_restored_mark()
            .map_or(JsValue::UNDEFINED, |mark| {
                json_to_js(&json!({ "epoch": mark.epoch, "n": mark.n }))
            })
    }
}

/// A whole non-negative number from JS (`None` for anything else).
fn count(value: f64) -> Option<u64> {
    (value.fract() == 0.0 && (0.0..=9_007_199_254_740_991.0).contains(&value))
        .then_some(value as u64)
}
