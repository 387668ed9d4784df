//! The worker's one-shot Torii calls for the page: Cartridge controllers (`RetrieveControllers`)
//! and offchain messages (`PublishMessage`, `PublishMessageBatch`). They go through the worker's Torii client (the
//! page has no transport); their answers are plain JSON.

use dojo_reactive_core::Felt;
use dojo_reactive_torii::controller::{controller_query, publish_request, published_entity_id};
use dojo_reactive_torii::ToriiError;
use js_sys::Promise;
use serde_json::json;
use wasm_bindgen::prelude::*;

use crate::errors::ErrorInfo;
use crate::worker::SyncWorker;

/// Most controllers asked for per page.
const CONTROLLER_PAGE: u32 = 500;

/// Parses `0x` felts of a caller's list.
fn felts(values: &[String], what: &str) -> Result<Vec<Felt>, ErrorInfo> {
    values
        .iter()
        .map(|text| {
            Felt::from_hex(text).map_err(|e| {
                ErrorInfo::validation(format!("{what}: {text:?} is not a 0x felt ({e})"))
                    .with("argument", what)
            })
        })
        .collect()
}

/// Torii's answer to a stored message, as the page reads it: `{ id, entityId }`.
fn published_json(id: String) -> serde_json::Value {
    let entity = published_entity_id(&id).map(|f| f.to_hex());
    json!({ "id": id, "entityId": entity })
}

/// The world address this worker publishes to.
fn world_felt(world: &str) -> Result<Felt, ErrorInfo> {
    Felt::from_hex(world).map_err(|e| ErrorInfo::validation(format!("world address: {e}")))
}

/// A failed call as the page's error: Torii's refusal of a message is a `PublishError` (with
/// Torii's `reason`); not reaching Torii is a `TransportError`.
fn call_error(error: &ToriiError, publishing: bool) -> ErrorInfo {
    match error {
        ToriiError::Rpc { code, message } if publishing => ErrorInfo::new(
            "PublishError",
            format!(
                "Torii refused the message: {message} (check that the typed data's primaryType \
                 names a model of this world, its members are that model's, it has an `identity` \
                 and the signature is the identity account's)"
            ),
        )
        .with("reason", message)
        .with("code", code),
        other => ErrorInfo::new("TransportError", format!("Torii call failed: {other}"))
            .with("retryable", other.is_retryable()),
    }
}

#[wasm_bindgen]
impl SyncWorker {
    /// The controllers with any of these addresses (`0x` felts) or usernames, every page
    /// (everything when both are empty): resolves with
    /// `[{ address, username, deployedAt }]` (addresses `0x` + 64 hex digits).
    #[wasm_bindgen(
        js_name = retrieveControllers,
        unchecked_return_type = "Promise<{ address: string; username: string; deployedAt: number }[]>"
    )]
    pub fn retrieve_controllers(&self, addresses: Vec<String>, usernames: Vec<String>) -> Promise {
        let client = self.torii();
        wasm_bindgen_futures::future_to_promise(async move {
            let addresses = felts(&addresses, "addresses")?;
            let mut found = Vec::new();
            let mut cursor = None;
            loop {
                let query = controller_query(&addresses, &usernames, cursor, CONTROLLER_PAGE);
                let page = client
                    .retrieve_controllers(query)
                    .await
                    .map_err(|e| call_error(&e, false))?;
                found.extend(page.items.into_iter().map(|c| {
                    json!({ "address": c.address.to_hex(), "username": c.username, "deployedAt": c.deployed_at })
                }));
                cursor = page.next_cursor;
                if cursor.is_none() {
                    break;
                }
            }
            Ok(crate::json::json_to_js(&serde_json::Value::Array(found)))
        })
    }

    /// Publishes an offchain message (SNIP-12 typed data as JSON text, signature felts) to this
    /// worker's world: resolves with `{ id, entityId }` (Torii's world-scoped id and the
    /// entity the message is stored under); rejects with a `PublishError` carrying Torii's
    /// reason, or a `TransportError`.
    #[wasm_bindgen(
        js_name = publishMessage,
        unchecked_return_type = "Promise<{ id: string; entityId?: string }>"
    )]
    pub fn publish_message(&self, typed_data: String, signature: Vec<String>) -> Promise {
        let client = self.torii();
        let world = self.world_address();
        wasm_bindgen_futures::future_to_promise(async move {
            let signature = felts(&signature, "signature")?;
            let world = world_felt(&world)?;
            let id = client
                .publish_message(publish_request(&world, typed_data, &signature))
                .await
                .map_err(|e| call_error(&e, true))?;
            Ok(crate::json::json_to_js(&published_json(id)))
        })
    }

    /// Publishes several offchain messages in one call (`PublishMessageBatch`): `typedData[i]`
    /// signed by the next `signatureLengths[i]` felts of `signatures` (every message's felts,
    /// in order). Resolves with `[{ id, entityId }]` in order; rejects as `publishMessage` does
    /// when Torii refuses one (those before it may be stored: Torii stores them in order and
    /// stops at the refused one).
    #[wasm_bindgen(
        js_name = publishMessages,
        unchecked_return_type = "Promise<{ id: string; entityId?: string }[]>"
    )]
    pub fn publish_messages(
        &self,
        #[wasm_bindgen(js_name = typedData)] typed_data: Vec<String>,
        signatures: Vec<String>,
        #[wasm_bindgen(js_name = signatureLengths)] signature_lengths: Vec<u32>,
    ) -> Promise {
        let client = self.torii();
        let world = self.world_address();
        wasm_bindgen_futures::future_to_promise(async move {
            let total: usize = signature_lengths.iter().map(|n| *n as usize).sum();
            if typed_data.is_empty()
                || signature_lengths.len() != typed_data.len()
                || total != signatures.len()
            {
                return Err(ErrorInfo::validation(format!(
                    "publishMessages takes at least one message and one signature length per message, summing to the felts given ({} messages, {} lengths, {} felts)",
                    typed_data.len(),
                    signature_lengths.len(),
                    signatures.len()
                ))
                .into());
            }
            let world = world_felt(&world)?;
            let mut messages = Vec::with_capacity(typed_data.len());
            let mut felts_left = signatures.as_slice();
            for (i, (text, length)) in typed_data.into_iter().zip(&signature_lengths).enumerate() {
                let (own, rest) = felts_left.split_at((*length as usize).min(felts_left.len()));
                felts_left = rest;
                let signature = felts(own, &format!("signatures of message {i}"))?;
                messages.push(publish_request(&world, text, &signature));
            }
            let ids = client
                .publish_message_batch(messages)
                .await
                .map_err(|e| call_error(&e, true))?;
            let answers = ids.into_iter().map(published_json).collect();
            Ok(crate::json::json_to_js(&serde_json::Value::Array(answers)))
        })
    }
}
