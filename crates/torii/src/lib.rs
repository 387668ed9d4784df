//! The Torii wire protocol for dojo-reactive.
//!
//! This crate owns the project's own `world.proto`, `types.proto` and `schema.proto` (names, packages
//! and field numbers identical to Torii 1.8), the prost messages generated from them (and, natively,
//! tonic's client and server), a client for `world.World` that speaks gRPC natively (tonic over
//! HTTP/2) and gRPC-web in browsers (our own small client over `fetch`, without tonic: its frame
//! decoder refuses frames above the message cap before reading them, [`grpc_web`], and gzip
//! messages are inflated by the browser's `DecompressionStream`), the `GET /` version probe, and
//! the lossless conversion of wire entities into `dojo-reactive-core` values. Nothing received from the network can panic here: every
//! malformed input becomes a [`ToriiError`].

pub mod clause;
mod client;
pub mod controller;
pub mod convert;
mod error;
pub mod event_follow;
pub mod event_log;
pub mod grpc_web;
#[cfg(target_arch = "wasm32")]
mod inflate;
pub mod proto;
mod subscription;
pub mod token;
pub mod token_sync;
mod transport;
#[cfg(target_arch = "wasm32")]
mod web_client;

pub use client::{EntityKind, EntityPage, Page, ToriiClient};
pub use convert::WireError;
pub use error::ToriiError;
pub use proto::{types, world};
pub use subscription::{
    EntitySubscription, StreamMessage, Subscription, TokenBalanceSubscription, TokenSubscription,
};
pub mod sync_transport;
