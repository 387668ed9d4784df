//! Integration tests of mock-torii over real sockets on 127.0.0.1: a tonic client for gRPC,
//! hand-made gRPC-web requests, and plain HTTP for the control API.

mod cli;
mod common;
mod delivery;
mod faults;
mod historical;
mod retrieve;
mod subscribe;
mod tokens;
mod web;
