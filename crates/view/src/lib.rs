//! The main-thread view model of dojo-reactive, plain Rust (no wasm-bindgen): the replica of
//! synced states fed by DELTAs, model shapes, and the keyed lookup. `crates/wasm` marshals it
//! to and from JS.

#![warn(missing_docs)]

pub mod keys;
pub mod replica;
pub mod shapes;
