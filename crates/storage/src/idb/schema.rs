//! The IndexedDB schema and its versioned upgrade path.
//!
//! A [`Schema`] is the list of [`Migration`]s from version 1 up; opening a database at an older
//! version runs the missing ones, in order, inside the `versionchange` transaction. A step that
//! fails makes the opener abort that transaction: IndexedDB then discards everything the
//! upgrade did and the database stays at its old version, data intact
//! ([`StoreError::MigrationFailed`](crate::StoreError::MigrationFailed)).

use std::future::Future;
use std::pin::Pin;

use futures_util::future::join;
use idb::{ObjectStore, Query};
use js_sys::Array;
use wasm_bindgen::JsValue;
use web_sys::{
    IdbDatabase, IdbIndexParameters, IdbObjectStore, IdbObjectStoreParameters, IdbTransaction,
};

use crate::backend::{
    ENTITIES, EVENT_LOG, METADATA, OVERLAY_OPS, SYNC_META, TOKENS, TOKEN_CONTRACTS,
};

use super::tx::describe;

/// The current schema version.
pub const SCHEMA_VERSION: u32 = 2;

/// The future a migration step returns.
pub type MigrationFuture = Pin<Box<dyn Future<Output = Result<(), String>>>>;

/// One upgrade step: its body creates or changes stores and may read and rewrite records.
#[derive(Clone, Copy)]
pub struct Migration {
    /// The version this step upgrades to (from `version - 1`).
    pub version: u32,
    /// What it does.
    pub description: &'static str,
    /// The step; an `Err` aborts the whole upgrade.
    pub run: fn(UpgradeTx) -> MigrationFuture,
}

impl std::fmt::Debug for Migration {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Migration(v{}: {})", self.version, self.description)
    }
}

/// The ordered upgrade path of a database.
#[derive(Debug, Clone)]
pub struct Schema {
    migrations: Vec<Migration>,
}

impl Default for Schema {
    fn default() -> Self {
        Schema::current()
    }
}

impl Schema {
    /// Schema v2: the stores of the plan (v1), then the event logs' store (v2).
    pub fn current() -> Self {
        Schema {
            migrations: vec![
                Migration {
                    version: 1,
                    description:
                        "entities, sync_meta, overlay_ops, tokens, tokenContracts, metadata",
                    run: v1,
                },
                Migration {
                    version: 2,
                    description: "event_log",
                    run: v2,
                },
            ],
        }
    }

    /// Schema v1 alone: what databases written before the event logs have (tests open one
    /// to check the upgrade).
    pub fn v1() -> Self {
        Schema {
            migrations: Schema::current().migrations.into_iter().take(1).collect(),
        }
    }

    /// The version a database has once every step ran.
    pub fn version(&self) -> u32 {
        self.migrations.last().map_or(0, |m| m.version)
    }

    /// The same path with one more step, which must upgrade to the next version.
    pub fn with(mut self, migration: Migration) -> Result<Self, String> {
        if migration.version != self.version() + 1 {
            return Err(format!(
                "migration to v{} cannot follow v{}",
                migration.version,
                self.version()
            ));
        }
        self.migrations.push(migration);
        Ok(self)
    }

    /// The steps from `old` (exclusive) to the newest.
    pub(crate) fn steps_after(&self, old: u32) -> impl Iterator<Item = &Migration> {
        self.migrations.iter().filter(move |m| m.version > old)
    }
}

/// The `versionchange` transaction a migration step runs in.
#[derive(Debug, Clone)]
pub struct UpgradeTx {
    pub(crate) db: IdbDatabase,
    pub(crate) tx: IdbTransaction,
    /// The version being upgraded from (0 for a new database).
    pub old_version: u32,
    /// The version being upgraded to.
    pub new_version: u32,
}

fn js_err(error: JsValue) -> String {
    describe(&error)
}

impl UpgradeTx {
    /// Names of the existing stores.
    pub fn store_names(&self) -> Vec<String> {
        let list = self.db.object_store_names();
        (0..list.length()).filter_map(|i| list.get(i)).collect()
    }

    /// Creates a store: records keyed out of line (`key_path` empty), by one property, or by
    /// several (an array key path).
    pub fn create_store(&self, name: &str, key_path: &[&str]) -> Result<IdbObjectStore, String> {
        let params = IdbObjectStoreParameters::new();
        match key_path {
            [] => {}
            [one] => params.set_key_path(&JsValue::from_str(one)),
            many => {
                let array: Array = many.iter().map(|p| JsValue::from_str(p)).collect();
                params.set_key_path(&array);
            }
        }
        self.db
            .create_object_store_with_optional_parameters(name, &params)
            .map_err(js_err)
    }

    /// Adds an index to a store.
    pub fn create_index(
        &self,
        store: &str,
        name: &str,
        key_path: &str,
        unique: bool,
    ) -> Result<(), String> {
        let params = IdbIndexParameters::new();
        params.set_unique(unique);
        self.store(store)?
            .create_index_with_str_and_optional_parameters(name, key_path, &params)
            .map(|_| ())
            .map_err(js_err)
    }

    /// Deletes a store and its records.
    pub fn delete_store(&self, name: &str) -> Result<(), String> {
        self.db.delete_object_store(name).map_err(js_err)
    }

    /// A store of the upgrade transaction.
    pub fn store(&self, name: &str) -> Result<IdbObjectStore, String> {
        self.tx.object_store(name).map_err(js_err)
    }

    /// Every record of a store as (key, value).
    pub async fn records(&self, store: &str) -> Result<Vec<(JsValue, JsValue)>, String> {
        let store = ObjectStore::from(self.store(store)?);
        let keys = store
            .get_all_keys(None::<Query>, None)
            .map_err(|e| e.to_string())?;
        let values = store
            .get_all(None::<Query>, None)
            .map_err(|e| e.to_string())?;
        let (keys, values) = join(keys.into_future(), values.into_future()).await;
        let keys = keys.map_err(|e| e.to_string())?;
        let values = values.map_err(|e| e.to_string())?;
        if keys.len() != values.len() {
            return Err("getAllKeys and getAll disagree".into());
        }
        Ok(keys.into_iter().zip(values).collect())
    }

    /// Writes a record (the upgrade fails if the write does).
    pub fn put(&self, store: &str, key: &JsValue, value: &JsValue) -> Result<(), String> {
        self.store(store)?
            .put_with_key(value, key)
            .map(|_| ())
            .map_err(js_err)
    }

    /// Deletes every record of a store.
    pub fn clear(&self, store: &str) -> Result<(), String> {
        self.store(store)?.clear().map(|_| ()).map_err(js_err)
    }
}

use std::future::IntoFuture as _;

fn v1(tx: UpgradeTx) -> MigrationFuture {
    Box::pin(async move {
        tx.create_store(ENTITIES, &[])?;
        tx.create_store(SYNC_META, &[])?;
        tx.create_store(OVERLAY_OPS, &["opId"])?;
        tx.create_index(OVERLAY_OPS, "entityId", "entityId", false)?;
        tx.create_store(TOKENS, &["contractAddress", "tokenId"])?;
        tx.create_store(TOKEN_CONTRACTS, &["contractAddress"])?;
        tx.create_store(METADATA, &[])?;
        Ok(())
    })
}

fn v2(tx: UpgradeTx) -> MigrationFuture {
    Box::pin(async move {
        tx.create_store(EVENT_LOG, &[])?;
        Ok(())
    })
}
