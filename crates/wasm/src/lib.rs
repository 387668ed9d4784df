//! The wasm-bindgen facade of dojo-reactive's sync worker ([`SyncWorker`]: transport,
//! synchronizers, IndexedDB, DELTA batches out) and the helpers that need its code (manifest
//! hashing, `deleteDatabase`). The main thread loads its own, smaller module
//! (`dojo-reactive-view-wasm`: the view); both share `dojo-reactive-boundary` (typed errors,
//! the panic hook, `defaultDbName`). The contract with the `js/` package is `API.md` beside
//! this crate; the TypeScript types of every export are in [`types`].
//!
//! Browser-only parts (the worker, its clock) are compiled for `wasm32` only; the rest builds
//! and is unit-tested natively.

#![warn(missing_docs)]

pub mod adapter;
pub mod config;
pub mod deploy;
pub mod event_targets;
pub mod manifest;
pub mod messages;
pub mod schema_json;
mod token_targets;
pub mod types;
mod unpersisted;
pub mod version_gate;
pub mod world_check;

#[cfg(target_arch = "wasm32")]
mod clock;
#[cfg(target_arch = "wasm32")]
mod event_logs;
#[cfg(target_arch = "wasm32")]
mod leadership;
#[cfg(target_arch = "wasm32")]
mod social;
#[cfg(target_arch = "wasm32")]
mod worker;

#[cfg(target_arch = "wasm32")]
pub use clock::BrowserClock;
pub use dojo_reactive_boundary::{default_db_name, errors, json, panic};
pub use dojo_reactive_view::delta;
pub use panic::take_panic_message;
#[cfg(target_arch = "wasm32")]
pub use worker::{delete_database, SyncWorker};
