//! Opening (with migrations) and deleting a database, with every outcome typed: success,
//! `blocked` (another connection holds the old version), a failed migration (the upgrade is
//! aborted, the old version stays), a database newer than this code, a database that had to
//! exist and was deleted (a reopen never creates it again), or any other failure.
//!
//! rexie's builder cannot do this: it runs only declarative store changes (through idb's
//! builder, which panics when one fails), has no `blocked` handler (its future then never
//! resolves), and cannot abort an upgrade half-way.

use std::cell::{Cell, RefCell};
use std::rc::Rc;

use futures_channel::oneshot;
use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;
use web_sys::{DomException, IdbDatabase, IdbOpenDbRequest, IdbVersionChangeEvent};

use crate::error::StoreError;

use super::schema::{Schema, UpgradeTx};
use super::tx::{classify, factory, set_timeout};

type Slot<T> = Rc<RefCell<Option<oneshot::Sender<T>>>>;

fn send<T>(slot: &Slot<T>, value: T) -> bool {
    match slot.borrow_mut().take() {
        Some(sender) => sender.send(value).is_ok(),
        None => false,
    }
}

/// How long a `blocked` open or delete waits for the other connections to close before it
/// is reported: connections that are closing (waiting for their last transaction) make the
/// browser fire `blocked` too, and they are gone a moment later.
pub(crate) const BLOCKED_GRACE_MS: u32 = 1500;

/// Whether opening may create the database.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Existing {
    /// Create it when missing (a first start).
    MayCreate,
    /// It must exist (a reopen under a running client): a missing database is
    /// [`StoreError::Deleted`] and is not created.
    Required,
}

/// Opens `name` at the schema's version, running the missing migrations.
pub(crate) async fn open_database(
    name: &str,
    schema: &Schema,
    existing: Existing,
) -> Result<IdbDatabase, StoreError> {
    let version = schema.version();
    let request = factory()?
        .open_with_u32(name, version)
        .map_err(|e| super::tx::classify_js(&e))?;
    let (sender, receiver) = oneshot::channel::<Result<IdbDatabase, StoreError>>();
    let slot: Slot<_> = Rc::new(RefCell::new(Some(sender)));
    // Set once this open has been given up (blocked): a later upgrade is aborted, a later
    // success closed.
    let cancelled = Rc::new(Cell::new(false));
    let migration_error: Rc<RefCell<Option<(u32, String)>>> = Rc::new(RefCell::new(None));
    // Set when a database that had to exist was about to be created (the upgrade is aborted,
    // which deletes the new database again).
    let missing = Rc::new(Cell::new(false));

    let on_upgrade = {
        let request = request.clone();
        let schema = schema.clone();
        let cancelled = Rc::clone(&cancelled);
        let migration_error = Rc::clone(&migration_error);
        let missing = Rc::clone(&missing);
        Closure::once_into_js(move |event: IdbVersionChangeEvent| {
            let (Some(tx), Ok(db)) = (request.transaction(), request.result()) else {
                return;
            };
            if cancelled.get() {
                let _ = tx.abort();
                return;
            }
            if existing == Existing::Required && event.old_version() == 0.0 {
                missing.set(true);
                let _ = tx.abort();
                return;
            }
            let Ok(db) = db.dyn_into::<IdbDatabase>() else {
                let _ = tx.abort();
                return;
            };
            let old = event.old_version() as u32;
            let upgrade = UpgradeTx {
                db,
                tx: tx.clone(),
                old_version: old,
                new_version: version,
            };
            wasm_bindgen_futures::spawn_local(async move {
                for step in schema.steps_after(old) {
                    if let Err(reason) = (step.run)(upgrade.clone()).await {
                        *migration_error.borrow_mut() =
                            Some((old, format!("v{}: {reason}", step.version)));
                        let _ = tx.abort();
                        return;
                    }
                }
            });
        })
    };
    let on_blocked = {
        let slot = Rc::clone(&slot);
        let cancelled = Rc::clone(&cancelled);
        let name = name.to_owned();
        Closure::once_into_js(move |_: JsValue| {
            let give_up = move || {
                let blocked = StoreError::Blocked {
                    database: name,
                    version,
                };
                if send(&slot, Err(blocked)) {
                    cancelled.set(true);
                }
            };
            // Without a timer, give up at once rather than wait forever.
            let _ = set_timeout(BLOCKED_GRACE_MS, give_up);
        })
    };
    let on_success = {
        let slot = Rc::clone(&slot);
        let request = request.clone();
        Closure::once_into_js(move |_: JsValue| {
            let db = request
                .result()
                .ok()
                .and_then(|db| db.dyn_into::<IdbDatabase>().ok());
            match db {
                Some(db) => {
                    if !send(&slot, Ok(db.clone())) {
                        db.close();
                    }
                }
                None => {
                    send(
                        &slot,
                        Err(StoreError::Io("open succeeded without a database".into())),
                    );
                }
            }
        })
    };
    let on_error = {
        let slot = Rc::clone(&slot);
        let request = request.clone();
        let name = name.to_owned();
        Closure::once_into_js(move |_: JsValue| {
            if missing.get() {
                send(&slot, Err(StoreError::Deleted { database: name }));
                return;
            }
            let error = request.error().ok().flatten();
            let failed = migration_error.borrow_mut().take();
            let outcome = match (failed, error) {
                (Some((from, reason)), _) => StoreError::MigrationFailed {
                    from,
                    to: version,
                    reason,
                },
                (None, Some(error)) if error.name() == "VersionError" => {
                    StoreError::VersionTooNew {
                        supported: version,
                        message: error.message(),
                    }
                }
                (None, Some(error)) => classify(&error),
                (None, None) => StoreError::Io("open failed".into()),
            };
            send(&slot, Err(outcome));
        })
    };
    set_handlers(&request, &on_upgrade, &on_blocked, &on_success, &on_error);
    receiver
        .await
        .unwrap_or_else(|_| Err(StoreError::Io("open request dropped".into())))
}

fn set_handlers(
    request: &IdbOpenDbRequest,
    upgrade: &JsValue,
    blocked: &JsValue,
    success: &JsValue,
    error: &JsValue,
) {
    request.set_onupgradeneeded(upgrade.dyn_ref());
    request.set_onblocked(blocked.dyn_ref());
    request.set_onsuccess(success.dyn_ref());
    request.set_onerror(error.dyn_ref());
}

/// Deletes a database. Fails with [`StoreError::Blocked`] while another connection keeps it
/// open (the deletion then happens as soon as that connection closes).
pub(crate) async fn delete_database(name: &str) -> Result<(), StoreError> {
    let request = factory()?
        .delete_database(name)
        .map_err(|e| super::tx::classify_js(&e))?;
    let (sender, receiver) = oneshot::channel::<Result<(), StoreError>>();
    let slot: Slot<_> = Rc::new(RefCell::new(Some(sender)));
    let on_success = {
        let slot = Rc::clone(&slot);
        Closure::once_into_js(move |_: JsValue| {
            send(&slot, Ok(()));
        })
    };
    let on_error = {
        let slot = Rc::clone(&slot);
        let request = request.clone();
        Closure::once_into_js(move |_: JsValue| {
            let error: Option<DomException> = request.error().ok().flatten();
            send(
                &slot,
                Err(error.map_or_else(|| StoreError::Io("delete failed".into()), |e| classify(&e))),
            );
        })
    };
    let on_blocked = {
        let slot = Rc::clone(&slot);
        let name = name.to_owned();
        Closure::once_into_js(move |_: JsValue| {
            let give_up = move || {
                send(
                    &slot,
                    Err(StoreError::Blocked {
                        database: name,
                        version: 0,
                    }),
                );
            };
            let _ = set_timeout(BLOCKED_GRACE_MS, give_up);
        })
    };
    request.set_onsuccess(on_success.dyn_ref());
    request.set_onerror(on_error.dyn_ref());
    request.set_onblocked(on_blocked.dyn_ref());
    let result = receiver
        .await
        .unwrap_or_else(|_| Err(StoreError::Io("delete request dropped".into())));
    result
}
