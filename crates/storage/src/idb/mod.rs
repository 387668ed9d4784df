//! The IndexedDB backend (wasm32 only): a browser database per world, opened at the
//! [`Schema`]'s version, whose `entities`, `sync_meta` and `metadata` stores hold this crate's
//! binary records (`Uint8Array` values, out-of-line keys).
//!
//! Connection, upgrade and write transactions are driven through web-sys directly, because
//! rexie wraps its `IDBDatabase` privately (no way to open a transaction with a durability hint
//! on a rexie connection, to handle `blocked`, or to abort an upgrade half-way) and idb has no
//! durability option either; idb's request futures are used for reads. Every atomic write is
//! one `readwrite` transaction with `{ durability: "relaxed" }`.
//!
//! A connection closed under the running client (another connection's upgrade through
//! `versionchange`, or the browser's `close`) is reopened by the next call, once the upgrade is
//! done; a database deleted meanwhile (another tab's `reset()`, site data cleared) is never
//! created again that way: those calls fail with [`StoreError::Deleted`].

mod either;
mod open;
mod schema;
mod tx;

pub use either::BrowserBackend;

use std::cell::{Cell, RefCell};
use std::future::IntoFuture as _;
use std::rc::Rc;

use dojo_reactive_core::sync::TargetKind;
use dojo_reactive_core::ManifestFingerprint;
use futures_util::future::{join, join_all};
use idb::{ObjectStore, Query};
use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;
use web_sys::{DomException, Event, IdbDatabase, IdbVersionChangeEvent};

pub use schema::{Migration, MigrationFuture, Schema, UpgradeTx, SCHEMA_VERSION};
pub use tx::classify;

use crate::backend::{
    Backend, Fault, Faults, RawSegment, RawValue, RecordKey, WriteOp, ENTITIES, EVENT_LOG,
    METADATA, SCAN_CHUNK,
};
use crate::error::StoreError;
use crate::store::{CompactionConfig, Storage};
use tx::{
    batch_seq, bytes_js, classify_js, key_js, segment_range, segment_seq, transaction, value_bytes,
    FenceCheck, TxWatch,
};

/// [`Storage`] in IndexedDB.
pub type IndexedDbStorage = Storage<IndexedDbBackend>;

/// What became of an open connection.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Link {
    /// Usable.
    Open,
    /// Closed under us (another connection's upgrade, or the browser): reopened by the next
    /// call.
    Lost,
    /// Closed because another connection deletes the database: never reopened.
    Deleted,
}

struct Connection {
    db: IdbDatabase,
    link: Rc<Cell<Link>>,
    _on_version_change: Closure<dyn FnMut(Event)>,
    _on_close: Closure<dyn FnMut(Event)>,
}

impl Drop for Connection {
    fn drop(&mut self) {
        self.db.set_onversionchange(None);
        self.db.set_onclose(None);
        self.db.close();
    }
}

/// One IndexedDB database. Clones share the connection.
#[derive(Clone)]
pub struct IndexedDbBackend {
    name: String,
    schema: Schema,
    connection: Rc<RefCell<Option<Connection>>>,
    faults: Faults,
    fence: Rc<Cell<Option<u64>>>,
}

impl std::fmt::Debug for IndexedDbBackend {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("IndexedDbBackend")
            .field("name", &self.name)
            .field("version", &self.schema.version())
            .finish()
    }
}

impl IndexedDbBackend {
    /// The database `name` at the current schema (not opened yet).
    pub fn new(name: impl Into<String>) -> Self {
        IndexedDbBackend::with_schema(name, Schema::current())
    }

    /// The database `name` at a given schema (its upgrade path).
    pub fn with_schema(name: impl Into<String>, schema: Schema) -> Self {
        IndexedDbBackend {
            name: name.into(),
            schema,
            connection: Rc::new(RefCell::new(None)),
            faults: Faults::default(),
            fence: Rc::new(Cell::new(None)),
        }
    }

    /// The database name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The version of the open connection, if open.
    pub fn version(&self) -> Option<u32> {
        self.db().ok().map(|db| db.version() as u32)
    }

    /// The names of the database's stores, if open.
    pub fn store_names(&self) -> Vec<String> {
        self.db()
            .map(|db| {
                let list = db.object_store_names();
                (0..list.length()).filter_map(|i| list.get(i)).collect()
            })
            .unwrap_or_default()
    }

    /// The open connection, if any (for tools and tests that watch or poke it).
    pub fn database(&self) -> Option<IdbDatabase> {
        self.db().ok()
    }

    fn db(&self) -> Result<IdbDatabase, StoreError> {
        match &*self.connection.borrow() {
            Some(connection) if connection.link.get() == Link::Open => Ok(connection.db.clone()),
            _ => Err(StoreError::Closed),
        }
    }

    /// The open connection, reopened first when it was closed under us (never when we closed
    /// it: then `open` must be called). A database deleted meanwhile is not created again:
    /// that fails with [`StoreError::Deleted`], as every later call does.
    async fn connected(&self) -> Result<IdbDatabase, StoreError> {
        let link = self.connection.borrow().as_ref().map(|c| c.link.get());
        match link {
            None => Err(StoreError::Closed),
            Some(Link::Open) => self.db(),
            Some(Link::Deleted) => Err(self.deleted()),
            Some(Link::Lost) => match self.connect(open::Existing::Required).await {
                Err(StoreError::Deleted { .. }) => {
                    if let Some(connection) = &*self.connection.borrow() {
                        connection.link.set(Link::Deleted);
                    }
                    Err(self.deleted())
                }
                Err(error) => Err(error),
                Ok(()) => self.db(),
            },
        }
    }

    fn deleted(&self) -> StoreError {
        StoreError::Deleted {
            database: self.name.clone(),
        }
    }

    /// Opens a connection and installs it with its `versionchange` and `close` handlers.
    async fn connect(&self, existing: open::Existing) -> Result<(), StoreError> {
        let db = open::open_database(&self.name, &self.schema, existing).await?;
        let link = Rc::new(Cell::new(Link::Open));
        // Another connection wants to upgrade or delete the database: step aside, so that we
        // never block it. An upgrade is waited out by the reopen (the browser queues our open
        // behind it); a deletion (no new version) is final.
        let on_version_change = {
            let db = db.clone();
            let link = Rc::clone(&link);
            Closure::<dyn FnMut(Event)>::new(move |event: Event| {
                let deleting = event
                    .dyn_ref::<IdbVersionChangeEvent>()
                    .is_some_and(|change| change.new_version().is_none());
                link.set(if deleting { Link::Deleted } else { Link::Lost });
                db.close();
            })
        };
        // The browser closed the connection (storage cleared, disk error): reopened by the next
        // call, unless the database is gone.
        let on_close = {
            let db = db.clone();
            let link = Rc::clone(&link);
            Closure::<dyn FnMut(Event)>::new(move |_: Event| {
                if link.get() == Link::Open {
                    link.set(Link::Lost);
                }
                db.close();
            })
        };
        db.set_onversionchange(Some(on_version_change.as_ref().unchecked_ref()));
        db.set_onclose(Some(on_close.as_ref().unchecked_ref()));
        *self.connection.borrow_mut() = Some(Connection {
            db,
            link,
            _on_version_change: on_version_change,
            _on_close: on_close,
        });
        Ok(())
    }

    async fn read_values(&self, keys: &[RecordKey]) -> Result<Vec<Option<RawValue>>, StoreError> {
        if keys.is_empty() {
            return Ok(Vec::new());
        }
        let db = self.connected().await?;
        let mut stores: Vec<&str> = keys.iter().map(RecordKey::store).collect();
        stores.sort_unstable();
        stores.dedup();
        let tx = transaction(&db, &stores, false)?;
        let mut requests = Vec::with_capacity(keys.len());
        for key in keys {
            let store = tx.object_store(key.store()).map_err(|e| classify_js(&e))?;
            let request = ObjectStore::from(store)
                .get(Query::Key(key_js(key)))
                .map_err(idb_error)?;
            requests.push(request.into_future());
        }
        let values = join_all(requests).await;
        values
            .into_iter()
            .map(|value| value.map(|v| v.map(|v| value_bytes(&v))).map_err(idb_error))
            .collect()
    }
}

/// The typed error for a failed idb request.
fn idb_error(error: idb::Error) -> StoreError {
    match error {
        idb::Error::DomException(dom) => classify(&dom),
        other => StoreError::Io(other.to_string()),
    }
}

/// Every record of `store` in the range `range` builds (anew for each of the two requests, which
/// take it by value), read with `getAllKeys` and `getAll` at once, as raw segments numbered by
/// `seq` of their key.
async fn read_records(
    store: &ObjectStore,
    range: impl Fn() -> Result<Option<Query>, StoreError>,
    seq: impl Fn(&JsValue) -> Result<u64, String>,
) -> Result<Vec<RawSegment>, StoreError> {
    let keys = store.get_all_keys(range()?, None).map_err(idb_error)?;
    let values = store.get_all(range()?, None).map_err(idb_error)?;
    let (keys, values) = join(keys.into_future(), values.into_future()).await;
    let (keys, values) = (keys.map_err(idb_error)?, values.map_err(idb_error)?);
    if keys.len() != values.len() {
        return Err(StoreError::Io(format!(
            "getAllKeys returned {} keys but getAll {} values",
            keys.len(),
            values.len()
        )));
    }
    Ok(keys
        .iter()
        .zip(&values)
        .map(|(key, value)| RawSegment {
            seq: seq(key),
            value: value_bytes(value),
        })
        .collect())
}

impl Backend for IndexedDbBackend {
    async fn open(&self) -> Result<(), StoreError> {
        if self.connection.borrow().is_some() {
            // Opened before and not closed by us: reopen it only if it still exists.
            return self.connected().await.map(|_| ());
        }
        self.connect(open::Existing::MayCreate).await
    }

    async fn read_segments(&self, target: TargetKind) -> Result<Vec<RawSegment>, StoreError> {
        let db = self.connected().await?;
        let tx = transaction(&db, &[ENTITIES], false)?;
        let store = ObjectStore::from(tx.object_store(ENTITIES).map_err(|e| classify_js(&e))?);
        let range = || segment_range(target).map(|r| Some(Query::KeyRange(r.into())));
        read_records(&store, range, |key| segment_seq(key, target)).await
    }

    async fn read_event_batches(&self) -> Result<Vec<RawSegment>, StoreError> {
        let db = self.connected().await?;
        let tx = transaction(&db, &[EVENT_LOG], false)?;
        let store = ObjectStore::from(tx.object_store(EVENT_LOG).map_err(|e| classify_js(&e))?);
        read_records(&store, || Ok(None), batch_seq).await
    }

    async fn scan_segments(
        &self,
        target: TargetKind,
        with: &[RecordKey],
        on_chunk: &mut dyn FnMut(Vec<RawSegment>),
    ) -> Result<Vec<Option<RawValue>>, StoreError> {
        let db = self.connected().await?;
        let mut stores: Vec<&str> = with.iter().map(RecordKey::store).collect();
        stores.push(ENTITIES);
        stores.sort_unstable();
        stores.dedup();
        let tx = transaction(&db, &stores, false)?;
        // Issued in the scan's transaction: the records and the segments are one snapshot.
        let mut extra = Vec::with_capacity(with.len());
        for key in with {
            let store = tx.object_store(key.store()).map_err(|e| classify_js(&e))?;
            let request = ObjectStore::from(store)
                .get(Query::Key(key_js(key)))
                .map_err(idb_error)?;
            extra.push(request.into_future());
        }
        let store = ObjectStore::from(tx.object_store(ENTITIES).map_err(|e| classify_js(&e))?);
        let range = Query::KeyRange(segment_range(target)?.into());
        let keys = store
            .get_all_keys(Some(range), None)
            .map_err(idb_error)?
            .await
            .map_err(idb_error)?;
        // Every chunk's getAll is issued (and its future armed) before the first is awaited:
        // the browser reads the next chunks while this thread decodes the first.
        // Chunks grow 1, 2, 4 ... SCAN_CHUNK segments: the first arrives quickly, the rest in
        // few requests.
        let mut groups = Vec::new();
        let mut rest = keys.as_slice();
        let mut size = 1;
        while !rest.is_empty() {
            let (group, tail) = rest.split_at(size.min(rest.len()));
            groups.push(group);
            rest = tail;
            size = (size * 2).min(SCAN_CHUNK);
        }
        let mut pending = Vec::with_capacity(groups.len());
        for group in groups {
            let (Some(first), Some(last)) = (group.first(), group.last()) else {
                continue;
            };
            let bounds = web_sys::IdbKeyRange::bound(first, last).map_err(|e| classify_js(&e))?;
            let request = store
                .get_all(Some(Query::KeyRange(bounds.into())), None)
                .map_err(idb_error)?;
            pending.push((group, request.into_future()));
        }
        for (group, request) in pending {
            let values = request.await.map_err(idb_error)?;
            if values.len() != group.len() {
                return Err(StoreError::Io(format!(
                    "getAll returned {} segments where getAllKeys listed {}",
                    values.len(),
                    group.len()
                )));
            }
            on_chunk(
                group
                    .iter()
                    .zip(&values)
                    .map(|(key, value)| RawSegment {
                        seq: segment_seq(key, target),
                        value: value_bytes(value),
                    })
                    .collect(),
            );
        }
        join_all(extra)
            .await
            .into_iter()
            .map(|value| value.map(|v| v.map(|v| value_bytes(&v))).map_err(idb_error))
            .collect()
    }

    async fn read(&self, keys: &[RecordKey]) -> Result<Vec<Option<RawValue>>, StoreError> {
        self.read_values(keys).await
    }

    async fn write(&self, ops: Vec<WriteOp>) -> Result<(), StoreError> {
        if ops.is_empty() {
            return Ok(());
        }
        let db = self.connected().await?;
        let mut stores: Vec<&str> = ops
            .iter()
            .map(|op| match op {
                WriteOp::Put(key, _) | WriteOp::Delete(key) => key.store(),
            })
            .collect();
        let fence = self.fence.get();
        if fence.is_some() {
            stores.push(METADATA);
        }
        stores.sort_unstable();
        stores.dedup();
        let tx = transaction(&db, &stores, true)?;
        let watch = TxWatch::new(&tx);
        // Issued first, so it is answered before any of the writes: it aborts them all unless
        // this backend still holds the writer record, or commits them now.
        let fenced = match fence {
            Some(epoch) => match FenceCheck::issue(&tx, epoch) {
                Ok(check) => Some(check),
                Err(error) => {
                    let _ = tx.abort();
                    let _ = watch.done().await;
                    return Err(classify_js(&error));
                }
            },
            None => None,
        };
        let issued: Result<(), JsValue> = ops.iter().try_for_each(|op| {
            match op {
                WriteOp::Put(key, bytes) => {
                    tx.object_store(key.store())?
                        .put_with_key(&bytes_js(bytes), &key_js(key))?;
                }
                WriteOp::Delete(key) => {
                    tx.object_store(key.store())?.delete(&key_js(key))?;
                }
            }
            Ok(())
        });
        let fault = self.faults.take();
        if issued.is_err() || fault.is_some() {
            let _ = tx.abort();
            let outcome = watch.done().await;
            return Err(match (issued, fault) {
                (Err(error), _) => classify_js(&error),
                (Ok(()), Some(Fault::QuotaExceeded)) => {
                    // The same mapping a real QuotaExceededError abort goes through.
                    match DomException::new_with_message_and_name(
                        "quota exceeded (injected)",
                        "QuotaExceededError",
                    ) {
                        Ok(dom) => classify(&dom),
                        Err(error) => classify_js(&error),
                    }
                }
                (Ok(()), Some(Fault::Deleted)) => self.deleted(),
                (Ok(()), _) => match outcome {
                    Err(StoreError::Aborted { message }) => StoreError::Aborted {
                        message: format!("interrupted before commit (injected): {message}"),
                    },
                    Err(other) => other,
                    Ok(()) => StoreError::Io("an aborted transaction committed".into()),
                },
            });
        }
        match fenced {
            // The check commits (or aborts) once it has read the writer record.
            Some(check) => check.outcome(watch.done().await),
            None => {
                // Commit now instead of waiting for the transaction to notice it has nothing left.
                tx::commit(&tx);
                watch.done().await
            }
        }
    }

    async fn update(
        &self,
        key: RecordKey,
        update: &mut dyn FnMut(Option<RawValue>) -> Option<Vec<u8>>,
    ) -> Result<(), StoreError> {
        let db = self.db()?;
        let tx = transaction(&db, &[key.store()], true)?;
        let watch = TxWatch::new(&tx);
        let read = tx
            .object_store(key.store())
            .map_err(|e| classify_js(&e))
            .and_then(|store| {
                ObjectStore::from(store)
                    .get(Query::Key(key_js(&key)))
                    .map_err(idb_error)
            });
        // Awaiting an IndexedDB request keeps its transaction active: the put below joins it.
        let value = match read {
            Ok(request) => request.into_future().await.map_err(idb_error),
            Err(error) => Err(error),
        };
        let written = value.and_then(|value| {
            let Some(bytes) = update(value.map(|v| value_bytes(&v))) else {
                return Ok(());
            };
            tx.object_store(key.store())
                .and_then(|store| store.put_with_key(&bytes_js(&bytes), &key_js(&key)))
                .map(|_| ())
                .map_err(|e| classify_js(&e))
        });
        if let Err(error) = written {
            let _ = tx.abort();
            let _ = watch.done().await;
            return Err(error);
        }
        tx::commit(&tx);
        watch.done().await
    }

    fn fence(&self, epoch: Option<u64>) {
        self.fence.set(epoch);
    }

    async fn destroy(&self) -> Result<(), StoreError> {
        self.close();
        open::delete_database(&self.name).await
    }

    fn close(&self) {
        self.connection.borrow_mut().take();
    }

    fn faults(&self) -> &Faults {
        &self.faults
    }

    async fn write_raw(&self, key: RecordKey, value: RawValue) -> Result<(), StoreError> {
        let db = self.connected().await?;
        let tx = transaction(&db, &[key.store()], true)?;
        let watch = TxWatch::new(&tx);
        let value = match &value {
            Ok(bytes) => bytes_js(bytes),
            Err(text) => JsValue::from_str(text),
        };
        let issued = tx
            .object_store(key.store())
            .and_then(|store| store.put_with_key(&value, &key_js(&key)));
        if let Err(error) = issued {
            let _ = tx.abort();
            let _ = watch.done().await;
            return Err(classify_js(&error));
        }
        watch.done().await
    }
}

/// Deletes a database by name (what `reset` does, without a connection to it). Where the
/// browser offers no IndexedDB there is nothing to delete.
pub async fn delete_db(name: &str) -> Result<(), StoreError> {
    match open::delete_database(name).await {
        Err(StoreError::Unavailable(_)) => Ok(()),
        other => other,
    }
}

/// What [`init_db`] opens.
#[derive(Debug, Clone)]
pub struct InitDbOptions {
    /// The database name; [`crate::default_db_name`] derives one per (Torii URL, world).
    pub db_name: String,
    /// The manifest fingerprint the data must have been written for.
    pub fingerprint: ManifestFingerprint,
    /// The Torii version reported now.
    pub torii_version: String,
    /// The upgrade path ([`Schema::current`] unless testing migrations).
    pub schema: Schema,
    /// Compaction settings.
    pub compaction: CompactionConfig,
}

impl InitDbOptions {
    /// Options with the current schema and default compaction.
    pub fn new(
        db_name: impl Into<String>,
        fingerprint: ManifestFingerprint,
        torii_version: impl Into<String>,
    ) -> Self {
        InitDbOptions {
            db_name: db_name.into(),
            fingerprint,
            torii_version: torii_version.into(),
            schema: Schema::current(),
            compaction: CompactionConfig::default(),
        }
    }

    /// Options for the default database of a world served by a Torii.
    pub fn for_world(
        torii_url: &str,
        world_address: &dojo_reactive_core::Felt,
        fingerprint: ManifestFingerprint,
        torii_version: impl Into<String>,
    ) -> Self {
        InitDbOptions::new(
            crate::default_db_name(torii_url, world_address),
            fingerprint,
            torii_version,
        )
    }
}

/// An opened and checked database.
pub struct InitDb {
    /// The storage, ready to load and commit.
    pub db: IndexedDbStorage,
    /// The manifest hash it was checked against.
    pub manifest_hash: String,
}

/// Opens (creating or migrating) and checks a database: fails with
/// [`StoreError::SchemaMismatch`] when it holds data of another manifest,
/// [`StoreError::ToriiVersionChanged`] when only the Torii version changed (see
/// [`Storage::accept_torii_version`]; [`delete_db`] or `reset` to start over),
/// [`StoreError::Blocked`] when another connection holds an older version open, and
/// [`StoreError::MigrationFailed`] when an upgrade step fails (the database is left as it was).
pub async fn init_db(options: InitDbOptions) -> Result<InitDb, StoreError> {
    let backend = IndexedDbBackend::with_schema(options.db_name, options.schema);
    let db = Storage::with_config(backend, options.compaction);
    let manifest_hash = db
        .init(&options.fingerprint, &options.torii_version)
        .await?;
    Ok(InitDb { db, manifest_hash })
}
