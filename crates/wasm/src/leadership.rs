//! The worker's side of the writer election (see `docs/tabs.md`): claiming and renewing the
//! database's writer record. The election itself (Web Locks or the lease timer, the
//! BroadcastChannel relay) runs in the worker script (`js/src/worker.ts`); it calls these
//! between `open` and `lead`.

use dojo_reactive_storage::writer::{claim_writer, renew_writer, Claim, ClaimRule, WriterId};
use js_sys::Promise;
use serde_json::json;
use wasm_bindgen::prelude::*;

use crate::errors::store_error;
use crate::json::json_to_js;
use crate::worker::SyncWorker;

/// A lease holder silent for longer than this is presumed gone (the lease fallback).
const LEASE_STALE_MS: f64 = 1_500.0;

#[wasm_bindgen]
impl SyncWorker {
    /// Claims the right to write the database, in one transaction: with `lease` false (the
    /// caller holds the database's Web Lock) always; with `lease` true only when the recorded
    /// writer is stale (silent for 1.5 s), older code, or this `owner`. Resolves
    /// `{ won: true, epoch }` (every later write of this worker is fenced on `epoch`) or
    /// `{ won: false, epoch, owner, protocol }` naming the holder; rejects with a
    /// `StorageError`.
    #[wasm_bindgen(js_name = claimWriter, unchecked_return_type = "Promise<WriterClaim>")]
    pub fn claim_writer(&self, owner: String, protocol: u32, lease: bool, now_ms: f64) -> Promise {
        let backend = self.backend();
        wasm_bindgen_futures::future_to_promise(async move {
            let rule = if lease {
                ClaimRule::IfStale {
                    stale_ms: LEASE_STALE_MS,
                }
            } else {
                ClaimRule::Always
            };
            let me = WriterId { owner, protocol };
            let claim = claim_writer(&backend, &me, rule, now_ms)
                .await
                .map_err(|e| JsValue::from(store_error(&e)))?;
            Ok(json_to_js(&match claim {
                Claim::Won(epoch) => json!({ "won": true, "epoch": epoch }),
                Claim::Held(holder) => json!({
                    "won": false,
                    "epoch": holder.epoch,
                    "owner": holder.owner,
                    "protocol": holder.protocol,
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
