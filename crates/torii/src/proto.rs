//! Code generated from `proto/*.proto`: protobuf messages and the `world.World` client and server.

#![allow(missing_docs, clippy::all, clippy::pedantic)]

/// Messages of the protobuf package `types` (entities, clauses, queries, schema types).
pub mod types {
    tonic::include_proto!("types");
}

/// The `world.World` service: request/response messages, client and server.
pub mod world {
    tonic::include_proto!("world");
}
