#![doc = include_str!("../README.md")]
#![warn(missing_docs)]

pub mod control;
pub mod delivery;
pub mod faults;
pub mod felt;
pub mod history;
mod http;
pub mod json;
pub mod log;
pub mod manifest;
pub mod messaging;
pub mod query;
pub mod schema;
mod server;
pub mod service;
pub mod store;
pub mod subs;
pub mod token_subs;
pub mod tokens;
pub mod wire;
pub mod world;

pub use control::{Control, ControlError, SetRequest, UpdatesRequest};
pub use faults::MalformedKind;
pub use log::LogEntry;
pub use server::{MockTorii, RunningMock, MAX_MESSAGE};
pub use store::Kind;

/// The knobs of a mock server (the binary's flags).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MockConfig {
    /// Address to bind (default `127.0.0.1`).
    pub host: String,
    /// Port to bind; 0 picks a free port (the library default; the binary defaults to 8080).
    pub port: u16,
    /// Number of generated entities (three players with Player+Position for each inventory).
    pub entities: usize,
    /// Number of generated `arena-Moved` event messages.
    pub event_messages: usize,
    /// Seed of the generated world.
    pub seed: u64,
    /// The version string of `GET /`.
    pub version: String,
    /// Messages buffered per subscriber; a subscriber whose buffer is full is disconnected.
    pub buffer: usize,
    /// Gzip responses for clients that accept it (default); `false` sends them uncompressed
    /// (gzip requests are still accepted), which streams several times faster from a debug build.
    pub send_gzip: bool,
    /// Adds the models named like JavaScript's special properties
    /// ([`schema::hostile_models`]) to the manifest and to `Worlds`; the default world is
    /// unchanged without it.
    pub hostile_names: bool,
    /// Adds the offchain message model ([`schema::message_models`]) that `PublishMessage`
    /// accepts; the default world is unchanged without it.
    pub messages: bool,
    /// Token balances in all: GLD holders are added until the world holds this many (0, or
    /// fewer than the generated world's few hundred, adds none).
    pub balances: usize,
}

impl Default for MockConfig {
    fn default() -> Self {
        MockConfig {
            host: "127.0.0.1".to_owned(),
            port: 0,
            entities: 1000,
            event_messages: 100,
            seed: 7,
            version: "1.8.16 (mock)".to_owned(),
            buffer: 16_384,
            send_gzip: true,
            hostile_names: false,
            messages: false,
            balances: 0,
        }
    }
}
