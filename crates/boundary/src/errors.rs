//! `ReactiveErrorInfo`: every failure as a named error with a message a person can act on and
//! the fields that describe it, built from the typed errors of the other crates.

use dojo_reactive_core::sync::{
    FatalReason, StorageError, StorageErrorKind, SyncErrorEvent, SyncErrorKind, SyncFatalError,
};
use dojo_reactive_core::{FilterError, OverlayError, OverlayTimeoutError, Quoted};
use dojo_reactive_storage::StoreError;
use serde::Serialize;
use serde_json::{Map, Value as Json};
use wasm_bindgen::JsValue;

use crate::json::json_to_js;

#[wasm_bindgen::prelude::wasm_bindgen(typescript_custom_section)]
const TS_ERROR_INFO: &'static str = r#"
/** A typed error as plain data; js/ turns it into an error class. */
export interface ReactiveErrorInfo {
  name: "SchemaMismatchError" | "ToriiVersionChangedError" | "SyncFatalError" | "TransportError"
      | "StorageError" | "ValidationError" | "OverlayTimeoutError" | "OverlayError";
  message: string;
  [field: string]: unknown;
}
"#;

/// A typed error as plain data: `{ name, message, ...fields }`.
#[derive(Debug, Clone, PartialEq)]
pub struct ErrorInfo {
    /// The error class name (`SchemaMismatchError`, `ValidationError`, ...).
    pub name: &'static str,
    /// What happened and what to do.
    pub message: String,
    /// Further fields (camelCase).
    pub fields: Map<String, Json>,
}

impl ErrorInfo {
    /// An error with no fields yet.
    pub fn new(name: &'static str, message: impl Into<String>) -> Self {
        ErrorInfo {
            name,
            message: message.into(),
            fields: Map::new(),
        }
    }

    /// A `ValidationError` (bad input from the caller).
    pub fn validation(message: impl Into<String>) -> Self {
        ErrorInfo::new("ValidationError", message)
    }

    /// Adds a field.
    pub fn with(mut self, key: &str, value: impl Serialize) -> Self {
        let value = serde_json::to_value(value).unwrap_or(Json::Null);
        self.fields.insert(key.to_owned(), value);
        self
    }

    /// The info as JSON: `{ name, message, ...fields }`.
    pub fn to_json(&self) -> Json {
        let mut object = self.fields.clone();
        object.insert("name".into(), Json::String(self.name.into()));
        object.insert("message".into(), Json::String(self.message.clone()));
        Json::Object(object)
    }

    /// A plain JS object (for events: it survives `postMessage`).
    pub fn to_object(&self) -> JsValue {
        json_to_js(&self.to_json())
    }

    /// A JS `Error` with `name` set and the fields as properties (to throw or reject with).
    pub fn to_error(&self) -> JsValue {
        let error = js_sys::Error::new(&self.message);
        error.set_name(self.name);
        for (key, value) in &self.fields {
            let _ = js_sys::Reflect::set(&error, &JsValue::from_str(key), &json_to_js(value));
        }
        error.into()
    }
}

impl From<ErrorInfo> for JsValue {
    fn from(info: ErrorInfo) -> JsValue {
        info.to_error()
    }
}

impl Serialize for ErrorInfo {
    /// `{ name, message, ...fields }` (as in the worker's events).
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        self.to_json().serialize(serializer)
    }
}

/// A filter, selector or query rejected: `ValidationError`.
pub fn filter_error(model: &str, error: &FilterError) -> ErrorInfo {
    ErrorInfo::validation(format!("query on {model}: {error}")).with("model", model)
}

/// An overlay call refused: `OverlayError`.
pub fn overlay_error(error: &OverlayError) -> ErrorInfo {
    let info = ErrorInfo::new("OverlayError", error.to_string());
    match error {
        OverlayError::DuplicateTransaction { transaction_id }
        | OverlayError::UnknownTransaction { transaction_id }
        | OverlayError::EmptyWrite { transaction_id } => info.with("transactionId", transaction_id),
        OverlayError::RepeatedWrite {
            transaction_id,
            entity_id,
            model,
        } => info
            .with("transactionId", transaction_id)
            .with("entityId", entity_id)
            .with("model", model),
        OverlayError::TransitionRejected {
            transaction_id,
            pending,
            entity_id,
            model,
            ..
        } => info
            .with("transactionId", transaction_id)
            .with("pending", pending)
            .with("entityId", entity_id)
            .with("model", model),
    }
}

/// An optimistic write rolled back after its timeout: `OverlayTimeoutError`.
pub fn overlay_timeout(error: &OverlayTimeoutError, model: &str) -> ErrorInfo {
    ErrorInfo::new("OverlayTimeoutError", error.to_string())
        .with("transactionId", &error.transaction_id)
        .with("entityId", &error.entity_id)
        .with("model", model)
        .with("guard", &error.guard_description)
}

/// A storage failure of the synchronizer's adapter, by kind.
pub fn storage_error(error: &StorageError) -> ErrorInfo {
    match &error.kind {
        StorageErrorKind::SchemaMismatch {
            stored_hash,
            manifest_hash,
        } => schema_mismatch(manifest_hash, stored_hash),
        StorageErrorKind::ToriiVersionChanged { previous, current } => {
            torii_version_changed(previous, current)
        }
        StorageErrorKind::OtherOrigin { stored, current } => ErrorInfo::validation(format!(
            "the database holds the data of {stored}, not of {current}: give this world its own \
             dbName (or leave dbName out)"
        ))
        .with("argument", "dbName")
        .with("reason", "otherOrigin")
        .with("stored", stored)
        .with("current", current),
        kind => ErrorInfo::new("StorageError", error.to_string()).with("kind", kind),
    }
}

/// A failure of the storage crate (opening, checking, loading).
pub fn store_error(error: &StoreError) -> ErrorInfo {
    storage_error(&StorageError::from(error.clone()))
}

fn schema_mismatch(manifest_hash: &str, stored_hash: &str) -> ErrorInfo {
    ErrorInfo::new(
        "SchemaMismatchError",
        format!(
            "the local database was written for another manifest ({stored_hash}) than the one in \
             use ({manifest_hash}); delete it (deleteDatabase / reset) to sync this world again"
        ),
    )
    .with("manifestHash", manifest_hash)
    .with("storedHash", stored_hash)
}

fn torii_version_changed(previous: &str, current: &str) -> ErrorInfo {
    ErrorInfo::new(
        "ToriiVersionChangedError",
        format!(
            "Torii now reports version {} but the local data was synced from {}; \
             start with onToriiVersionChange: 'reconcile' to keep it, or delete the database",
            Quoted(current),
            Quoted(previous)
        ),
    )
    .with("previous", previous)
    .with("current", current)
}

/// The `OutdatedManifestError` of a tab whose manifest Torii contradicts (during a game
/// deploy, see `docs/tabs.md`): it shows what is stored, never writes, and asks for a reload.
pub fn outdated_manifest(models: &[String], manifest_hash: &str) -> ErrorInfo {
    ErrorInfo::new(
        "OutdatedManifestError",
        format!(
            "this page runs another version of the game than the one deployed (Torii describes \
             {} otherwise): it shows what it has stored but no longer syncs; reload it",
            models.join(", ")
        ),
    )
    .with("models", models)
    .with("manifestHash", manifest_hash)
}

/// The error a halted synchronizer ends with: `SyncFatalError`, or the storage error that
/// stopped it.
pub fn fatal_error(error: &SyncFatalError) -> ErrorInfo {
    let info = match &error.reason {
        FatalReason::Storage { error: storage } if storage.needs_host() => storage_error(storage),
        FatalReason::Storage { error: storage } => ErrorInfo::new(
            "SyncFatalError",
            format!("sync stopped: {storage}; restart the client (forceReplay or reload)"),
        ),
        FatalReason::RetryBudgetExhausted {
            attempts,
            last_error,
        } => ErrorInfo::new(
            "SyncFatalError",
            format!(
                "sync stopped: {}; check that Torii is reachable, then restart the client",
                error.reason
            ),
        )
        .with("attempts", attempts)
        .with("lastError", last_error),
    };
    let reason = match &error.reason {
        FatalReason::RetryBudgetExhausted { .. } => "retryBudgetExhausted",
        FatalReason::Storage { .. } => "storage",
    };
    info.with("reason", reason)
        .with("target", error.last_tick.target)
        .with("lastTick", &error.last_tick)
}

/// A non-fatal sync error (SYNC_ERROR), named by kind, with the event's fields.
pub fn sync_error(event: &SyncErrorEvent) -> ErrorInfo {
    let (name, advice) = match event.kind {
        SyncErrorKind::Storage => (
            "StorageError",
            "the batch was not stored; a replay recovers it",
        ),
        SyncErrorKind::LostLeadership => (
            "StorageError",
            "another tab's worker writes this database now; this tab follows it",
        ),
        SyncErrorKind::ToriiVersionChanged => (
            "ToriiVersionChangedError",
            "syncing goes on; the next start applies onToriiVersionChange",
        ),
        SyncErrorKind::BadRecord => ("TransportError", "the record was skipped"),
        SyncErrorKind::Transient => (
            "TransportError",
            "Torii cannot be reached or did not answer in time; syncing retries on its own",
        ),
        SyncErrorKind::PassFailed | SyncErrorKind::Refetch => {
            ("TransportError", "syncing retries on its own")
        }
    };
    // Retryable: another attempt is scheduled.
    let retryable = event.retry_in_ms.is_some();
    let mut info =
        ErrorInfo::new(name, format!("{} ({advice})", event.message)).with("retryable", retryable);
    if let Ok(serde_json::Value::Object(fields)) = serde_json::to_value(event) {
        for (key, value) in fields {
            if key != "message" {
                info.fields.insert(key, value);
            }
        }
    }
    info
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn storage_kinds_get_their_error_names() {
        let mismatch = StorageError {
            kind: StorageErrorKind::SchemaMismatch {
                stored_hash: "a".into(),
                manifest_hash: "b".into(),
            },
            message: String::new(),
        };
        let info = storage_error(&mismatch);
        assert_eq!(info.name, "SchemaMismatchError");
        assert_eq!(info.fields["storedHash"], "a");
        assert_eq!(info.fields["manifestHash"], "b");
        let changed = StorageError {
            kind: StorageErrorKind::ToriiVersionChanged {
                previous: "1".into(),
                current: "2".into(),
            },
            message: String::new(),
        };
        assert_eq!(storage_error(&changed).name, "ToriiVersionChangedError");
        let io = storage_error(&StorageError::io("quota"));
        assert_eq!(io.name, "StorageError");
        assert_eq!(io.to_json()["kind"]["kind"], "io");
    }

    #[test]
    fn an_outdated_manifest_names_its_models_and_asks_for_a_reload() {
        let info = outdated_manifest(&["arena-Position".into()], "manifest-hash:v1:aa");
        assert_eq!(info.name, "OutdatedManifestError");
        assert_eq!(info.fields["models"], serde_json::json!(["arena-Position"]));
        assert_eq!(info.fields["manifestHash"], "manifest-hash:v1:aa");
        assert!(info.message.contains("arena-Position"));
        assert!(info.message.ends_with("reload it"));
    }
}
