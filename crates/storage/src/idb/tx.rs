//! IndexedDB plumbing that neither rexie nor idb offers: transactions opened with a durability
//! hint, the outcome of a transaction with the DOMException that aborted it, record keys and
//! byte values in their JS form, and the mapping of DOMExceptions onto [`StoreError`].

use std::cell::RefCell;
use std::rc::Rc;

use dojo_reactive_core::sync::TargetKind;
use futures_channel::oneshot;
use js_sys::{Array, ArrayBuffer, Object, Reflect, Uint8Array};
use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;
use web_sys::{DomException, Event, IdbDatabase, IdbFactory, IdbKeyRange, IdbTransaction};

use crate::backend::{RawValue, RecordKey};
use crate::error::StoreError;

#[wasm_bindgen]
extern "C" {
    /// An `IDBDatabase` seen through the methods web-sys lacks or marks deprecated.
    #[wasm_bindgen(extends = Object)]
    type DatabaseExt;

    /// `IDBDatabase.transaction(stores, mode, options)`: web-sys only has it behind
    /// `web_sys_unstable_apis`, rexie and idb not at all.
    #[wasm_bindgen(method, catch, js_name = transaction)]
    fn transaction_with_options(
        this: &DatabaseExt,
        stores: &JsValue,
        mode: &str,
        options: &JsValue,
    ) -> Result<IdbTransaction, JsValue>;

    /// An `IDBTransaction` seen through `commit()`.
    #[wasm_bindgen(extends = Object)]
    type TransactionExt;

    /// `IDBTransaction.commit()`: ends the transaction without waiting for it to go idle.
    #[wasm_bindgen(method, catch, js_name = commit)]
    fn commit_now(this: &TransactionExt) -> Result<(), JsValue>;
}

/// Asks a transaction to commit now (its outcome still arrives through [`TxWatch`]).
pub(crate) fn commit(tx: &IdbTransaction) {
    // Throws only if the transaction already ended, which its outcome reports anyway.
    let _ = tx.unchecked_ref::<TransactionExt>().commit_now();
}

/// Runs `callback` once after `ms` milliseconds (window or worker `setTimeout`).
pub(crate) fn set_timeout(ms: u32, callback: impl FnOnce() + 'static) -> Result<(), StoreError> {
    let global = js_sys::global();
    let function = Reflect::get(&global, &JsValue::from_str("setTimeout"))
        .ok()
        .and_then(|f| f.dyn_into::<js_sys::Function>().ok())
        .ok_or_else(|| StoreError::Unavailable("no setTimeout in this global scope".into()))?;
    let closure = Closure::once_into_js(callback);
    function
        .call2(&global, &closure, &JsValue::from(ms))
        .map(|_| ())
        .map_err(|e| classify_js(&e))
}

/// The IndexedDB factory of this context (window or worker).
pub(crate) fn factory() -> Result<IdbFactory, StoreError> {
    let global = js_sys::global();
    let value = Reflect::get(&global, &JsValue::from_str("indexedDB"))
        .map_err(|e| StoreError::Unavailable(describe(&e)))?;
    value
        .dyn_into::<IdbFactory>()
        .map_err(|_| StoreError::Unavailable("no indexedDB in this global scope".into()))
}

/// A transaction over `stores`; read-write ones are opened with `{ durability: "relaxed" }`
/// (the commit is reported once the data is handed to the OS, without waiting for a flush).
pub(crate) fn transaction(
    db: &IdbDatabase,
    stores: &[&str],
    write: bool,
) -> Result<IdbTransaction, StoreError> {
    let names = Array::new();
    for store in stores {
        names.push(&JsValue::from_str(store));
    }
    let mode = if write { "readwrite" } else { "readonly" };
    let options = Object::new();
    if write {
        // Setting a property on a fresh plain object cannot fail.
        let _ = Reflect::set(
            &options,
            &JsValue::from_str("durability"),
            &JsValue::from_str("relaxed"),
        );
    }
    db.unchecked_ref::<DatabaseExt>()
        .transaction_with_options(&names, mode, &options)
        .map_err(|e| classify_js(&e))
}

/// The writer check of a fenced write: a read of the writer record, issued before the writes,
/// whose success handler aborts the transaction unless the record names the fence's epoch
/// (synchronously, so no write can commit in between), or else commits it at once.
pub(crate) struct FenceCheck {
    refused: Rc<RefCell<Option<StoreError>>>,
    request: web_sys::IdbRequest,
    _on_success: Closure<dyn FnMut(Event)>,
}

impl Drop for FenceCheck {
    fn drop(&mut self) {
        // The handler must never run once its closure is gone (an aborted write drops it early).
        self.request.set_onsuccess(None);
    }
}

impl FenceCheck {
    /// Issues the check in `tx` (before any write of it).
    pub(crate) fn issue(tx: &IdbTransaction, epoch: u64) -> Result<FenceCheck, JsValue> {
        let request = tx
            .object_store(crate::backend::METADATA)?
            .get(&key_js(&RecordKey::Meta(crate::writer::META_WRITER)))?;
        let refused = Rc::new(RefCell::new(None));
        let on_success = {
            let (tx, request, refused) = (tx.clone(), request.clone(), Rc::clone(&refused));
            Closure::<dyn FnMut(Event)>::new(move |_: Event| {
                let value = request
                    .result()
                    .ok()
                    .filter(|v| !v.is_undefined())
                    .map(|v| value_bytes(&v));
                match crate::writer::check_fence(epoch, value.as_ref()) {
                    Ok(()) => commit(&tx),
                    Err(error) => {
                        *refused.borrow_mut() = Some(error);
                        let _ = tx.abort();
                    }
                }
            })
        };
        request.set_onsuccess(Some(on_success.as_ref().unchecked_ref()));
        Ok(FenceCheck {
            refused,
            request,
            _on_success: on_success,
        })
    }

    /// The write's outcome: the check's refusal when it aborted the transaction.
    pub(crate) fn outcome(self, done: Result<(), StoreError>) -> Result<(), StoreError> {
        match self.refused.borrow_mut().take() {
            Some(refusal) => Err(refusal),
            None => done,
        }
    }
}

/// Resolves when a transaction completes (`Ok`) or aborts (the error that aborted it).
pub(crate) struct TxWatch {
    receiver: oneshot::Receiver<Result<(), StoreError>>,
    _complete: Closure<dyn FnMut(Event)>,
    _abort: Closure<dyn FnMut(Event)>,
    tx: IdbTransaction,
}

impl TxWatch {
    /// Watches a transaction; call right after creating it, before anything is awaited.
    pub(crate) fn new(tx: &IdbTransaction) -> Self {
        let (sender, receiver) = oneshot::channel();
        let sender = Rc::new(RefCell::new(Some(sender)));
        let on_complete = {
            let sender = Rc::clone(&sender);
            Closure::<dyn FnMut(Event)>::new(move |_: Event| {
                if let Some(s) = sender.borrow_mut().take() {
                    let _ = s.send(Ok(()));
                }
            })
        };
        let on_abort = {
            let tx = tx.clone();
            Closure::<dyn FnMut(Event)>::new(move |_: Event| {
                if let Some(s) = sender.borrow_mut().take() {
                    let _ = s.send(Err(classify_abort(tx.error())));
                }
            })
        };
        tx.set_oncomplete(Some(on_complete.as_ref().unchecked_ref()));
        tx.set_onabort(Some(on_abort.as_ref().unchecked_ref()));
        TxWatch {
            receiver,
            _complete: on_complete,
            _abort: on_abort,
            tx: tx.clone(),
        }
    }

    /// Waits for the outcome.
    pub(crate) async fn done(self) -> Result<(), StoreError> {
        let result = match (&mut { self.receiver }).await {
            Ok(result) => result,
            Err(_) => Err(StoreError::Io("transaction outcome lost".into())),
        };
        self.tx.set_oncomplete(None);
        self.tx.set_onabort(None);
        result
    }
}

fn classify_abort(error: Option<DomException>) -> StoreError {
    match error {
        Some(error) => classify(&error),
        None => StoreError::Aborted {
            message: "transaction aborted".into(),
        },
    }
}

/// The typed error for a DOMException raised by IndexedDB.
pub fn classify(error: &DomException) -> StoreError {
    let message = format!("{}: {}", error.name(), error.message());
    match error.name().as_str() {
        "QuotaExceededError" => StoreError::QuotaExceeded { message },
        "AbortError" => StoreError::Aborted { message },
        "InvalidStateError" => StoreError::Closed,
        "SecurityError" => StoreError::Unavailable(message),
        _ => StoreError::Io(message),
    }
}

/// The typed error for any thrown JS value.
pub(crate) fn classify_js(error: &JsValue) -> StoreError {
    match error.dyn_ref::<DomException>() {
        Some(dom) => classify(dom),
        None => StoreError::Io(describe(error)),
    }
}

/// A short printable description of a JS value.
pub(crate) fn describe(value: &JsValue) -> String {
    if let Some(text) = value.as_string() {
        let short: String = text.chars().take(80).collect();
        return format!("string {short:?}");
    }
    if let Some(error) = value.dyn_ref::<js_sys::Error>() {
        return String::from(error.message());
    }
    if let Some(n) = value.as_f64() {
        return format!("number {n}");
    }
    format!("a JS {}", value.js_typeof().as_string().unwrap_or_default())
}

/// A record's key in its JS form.
pub(crate) fn key_js(key: &RecordKey) -> JsValue {
    match key {
        RecordKey::Segment(target, seq) => Array::of2(
            &JsValue::from_str(target.name()),
            &JsValue::from_f64(*seq as f64),
        )
        .into(),
        RecordKey::SyncState(target) => {
            Array::of2(&JsValue::from_str(target.name()), &JsValue::from_str("")).into()
        }
        RecordKey::Meta(name) => JsValue::from_str(name),
        RecordKey::EventBatch(seq) => JsValue::from_f64(*seq as f64),
    }
}

/// Largest integer an IndexedDB number key holds exactly.
const MAX_SAFE: f64 = 9_007_199_254_740_991.0;

/// The range of a target's segment keys.
pub(crate) fn segment_range(target: TargetKind) -> Result<IdbKeyRange, StoreError> {
    let name = JsValue::from_str(target.name());
    let lower = Array::of2(&name, &JsValue::from_f64(0.0));
    let upper = Array::of2(&name, &JsValue::from_f64(MAX_SAFE));
    IdbKeyRange::bound(&lower, &upper).map_err(|e| classify_js(&e))
}

/// The sequence number of a segment key read back, or why it is not one.
pub(crate) fn segment_seq(key: &JsValue, target: TargetKind) -> Result<u64, String> {
    let parts = key
        .dyn_ref::<Array>()
        .filter(|a| a.length() == 2)
        .ok_or_else(|| describe(key))?;
    let seq = parts.get(1).as_f64();
    match (parts.get(0).as_string(), seq) {
        (Some(name), Some(seq))
            if name == target.name() && (0.0..=MAX_SAFE).contains(&seq) && seq.fract() == 0.0 =>
        {
            Ok(seq as u64)
        }
        _ => Err(format!(
            "[{}, {}]",
            describe(&parts.get(0)),
            describe(&parts.get(1))
        )),
    }
}

/// The sequence number of an `event_log` key read back, or why it is not one.
pub(crate) fn batch_seq(key: &JsValue) -> Result<u64, String> {
    match key.as_f64() {
        Some(seq) if (0.0..=MAX_SAFE).contains(&seq) && seq.fract() == 0.0 => Ok(seq as u64),
        _ => Err(describe(key)),
    }
}

/// Bytes as a JS value that owns its buffer (never a view of wasm memory).
pub(crate) fn bytes_js(bytes: &[u8]) -> JsValue {
    let array = Uint8Array::new_with_length(bytes.len() as u32);
    array.copy_from(bytes);
    array.into()
}

/// A value read back as bytes, or a description of what it is instead.
pub(crate) fn value_bytes(value: &JsValue) -> RawValue {
    if let Some(array) = value.dyn_ref::<Uint8Array>() {
        return Ok(array.to_vec());
    }
    if let Some(buffer) = value.dyn_ref::<ArrayBuffer>() {
        return Ok(Uint8Array::new(buffer).to_vec());
    }
    Err(format!("not a byte array but {}", describe(value)))
}
