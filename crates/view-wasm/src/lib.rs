//! The main thread's wasm module of dojo-reactive: [`View`], the JS marshalling of the view
//! model of `dojo_reactive_view` (the replica fed by DELTAs, the optimistic overlay, queries),
//! values in the Dojo SDK's JS shape ([`sdk`]), and from `dojo-reactive-boundary` the typed
//! errors, `takePanicMessage` and `defaultDbName`. Transport, storage and manifest hashing are
//! in the worker's module (`crates/wasm`), which the main thread does not load to show a
//! world. The contract with the `js/` package is `crates/wasm/API.md`; the TypeScript types of
//! the exports are in [`types`].

#![warn(missing_docs)]

pub mod sdk;
pub mod types;
pub mod view;

pub use dojo_reactive_boundary::{default_db_name, errors, json, panic};
pub use dojo_reactive_view::delta;
pub use panic::take_panic_message;
pub use view::View;
