//! The main-thread view model of dojo-reactive, plain Rust (no wasm-bindgen): the replica of
//! synced states fed by DELTAs ([`replica`], [`delta`]), model shapes ([`shapes`]), the keyed
//! lookup ([`keys`]), each model's ids in order for small-limit queries ([`id_order`]), ordered
//! indexes on members a game declares ([`index`]), and the [`model::ViewModel`] that merges the optimistic overlay over synced
//! states, reports settled writes and answers queries. `crates/wasm` marshals it to and from JS.

#![warn(missing_docs)]

pub mod delta;
pub mod id_order;
pub mod index;
pub mod keys;
pub mod model;
pub mod packed;
pub mod replica;
pub mod shapes;

pub use dojo_reactive_storage::{decode_event_batch, EventBatch};
pub use index::IndexSpec;
pub use model::{Consistency, Matches, Polled, SettledWrite, UnknownShape, ViewModel, ViewOptions};
