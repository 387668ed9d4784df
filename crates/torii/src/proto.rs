//! Code generated from `proto/*.proto`: protobuf messages and, natively, tonic's `world.World`
//! client and server (the browser build has its own gRPC-web client: `build.rs`).

#![allow(missing_docs, clippy::all, clippy::pedantic)]

/// Messages of the protobuf package `types` (entities, clauses, queries, schema types).
pub mod types {
    include!(concat!(env!("OUT_DIR"), "/types.rs"));
}

/// The `world.World` service: request/response messages (natively, its client and server too).
pub mod world {
    include!(concat!(env!("OUT_DIR"), "/world.rs"));
}
