//! The pure-Rust core of dojo-reactive.
//!
//! This crate owns everything that can be decided without IO: the value model for every Dojo/Torii
//! type ([`Value`], [`Primitive`], exact big integers and felts), entities and their per-model
//! states ([`Entity`]), and the shape of each model ([`Ty`], [`SchemaRegistry`]) used to reject data
//! whose member types do not match. It has no wasm, network, protobuf or storage dependency, so
//! all of it is tested natively and deterministically; the other crates convert into these types.

mod bytes32;
mod entity;
mod name;
mod overlay;
mod schema;
mod token;
mod value;

mod cairo_type;
mod clause;
mod clause_json;
mod event_log;
mod felts;
mod filter;
mod hasher;
mod json_text;
mod ledger;
mod manifest;
mod numeric;
mod queue;
mod quoted;
mod sync_config;

pub use bytes32::{Felt, ParseBytesError, U256};
pub use entity::{Entity, EntityId};
pub use name::{
    check_member_name, check_tag, is_identifier, is_namespace, is_valid_tag, split_tag, BadName,
    Name, NameKind,
};
pub use overlay::{
    Delta, DeltaError, Guard, Overlay, OverlayEntry, OverlayError, OverlayEvent, OverlaySubmission,
    OverlayTimeoutError, TransactionSubmission, WriteSubmission, DEFAULT_GUARD_POLL_INTERVAL_MS,
    DEFAULT_OVERLAY_TIMEOUT_MS,
};
pub use schema::{PrimitiveType, SchemaMismatch, SchemaRegistry, Ty};
pub use token::{ContractType, Token, TokenBalance, TokenContract};
pub use value::{EnumValue, Member, Primitive, Struct, Value};

pub use clause::{
    Clause, ComparisonOperator, CompositeClause, KeysClause, LogicalOperator, MemberClause,
    MemberValue, PatternMatching,
};
pub use clause_json::{clause_from_json, ClauseJsonError};
pub use event_log::{
    Delivery, EventContent, EventIdentity, EventLog, EventQuery, EventRetention, IncomingEvent,
    LogChange, LoggedEvent, Placement,
};
pub use felts::FIELD_PRIME;
pub use filter::{
    ConditionSpec, Direction, Filter, FilterError, FilterOp, FilterSpec, FilterState, KeyMatching,
    MemberBounds, ModelShapes, OrderBy, OrderSpec, PredicateSpec, Query, QueryPage, QuerySpec,
    Scalar, Selection, SelectionSpec, SortKey, SortValue, Step, Steps,
};
pub use hasher::{FastHashBuilder, FastHasher, FastMap};
pub use ledger::{Decision, Ledger, LedgerStats, ModelId, Observation, Source, StateKind, Version};
pub use manifest::{
    build_manifest_fingerprint, canonical_manifest_bytes, compute_manifest_hash, FingerprintChange,
    FingerprintEntry, Manifest, ManifestError, ManifestFingerprint, MemberSignature, ResourceEntry,
    ResourceKind, WorldEntry, MANIFEST_HASH_PREFIX,
};
pub use queue::{Backpressure, Enqueued, QueueConfig, QueueStats, UpdateQueue};
pub use quoted::Quoted;
pub use sync_config::{ModelSync, ModelSyncSpec, SyncConfig, SyncConfigError};

pub mod sync;
