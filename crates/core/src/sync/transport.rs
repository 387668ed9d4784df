//! The network side of the synchronizer: Torii's version, snapshot pages and subscriptions.

use std::rc::Rc;

use super::error::TransportError;
use super::target::SyncTarget;
use crate::entity::{Entity, EntityId};

/// One snapshot page request.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct PageRequest {
    /// Where to continue (`None`: the first page).
    pub cursor: Option<String>,
    /// Page size (0: the server's default).
    pub limit: u32,
    /// Only these entities (combined with the target's clause); empty: the whole target.
    pub entity_ids: Vec<EntityId>,
}

/// A record of a page that could not be decoded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RejectedRecord {
    /// The entity, when its id was readable.
    pub entity: Option<EntityId>,
    /// What was wrong.
    pub reason: String,
}

/// One snapshot page, newest write first (Torii's `event_id DESC` order).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct SnapshotPage {
    /// Entities that decoded cleanly (whole: every synced model they have).
    pub items: Vec<Entity>,
    /// Records that were skipped.
    pub rejected: Vec<RejectedRecord>,
    /// Cursor of the next page; `None` after the last one.
    pub next_cursor: Option<String>,
}

/// A live subscription (its handshake has arrived).
#[allow(async_fn_in_trait)]
pub trait UpdateStream {
    /// The id Torii gave the subscription.
    fn id(&self) -> u64;

    /// The next update (an entity with just the model that changed; a model with no members is
    /// a deletion). `Some(Err(e))` with `e.bad_record` is one skipped record and the stream goes
    /// on; any other error, or `None`, means the stream is over. Must be cancel-safe: dropping
    /// the future before it completes loses nothing.
    async fn next(&mut self) -> Option<Result<Entity, TransportError>>;
}

/// Access to Torii for one synchronizer. Calls take `&self` so several targets can share one.
#[allow(async_fn_in_trait)]
pub trait ToriiTransport {
    /// The subscription stream type.
    type Stream: UpdateStream;

    /// Torii's version string (`GET /`).
    async fn version(&self) -> Result<String, TransportError>;

    /// One snapshot page of the target.
    async fn retrieve(
        &self,
        target: &SyncTarget,
        request: &PageRequest,
    ) -> Result<SnapshotPage, TransportError>;

    /// Subscribes to the target's updates and waits for the handshake.
    async fn subscribe(&self, target: &SyncTarget) -> Result<Self::Stream, TransportError>;

    /// Replaces the filter of a live subscription with the target's.
    async fn update_subscription(
        &self,
        target: &SyncTarget,
        subscription_id: u64,
    ) -> Result<(), TransportError>;
}

/// `ToriiTransport` for shared handles: `&T` and `Rc<T>` forward every call.
macro_rules! forward_torii_transport {
    ($($handle:ty),+) => {$(
        impl<T: ToriiTransport + ?Sized> ToriiTransport for $handle {
            type Stream = T::Stream;

            async fn version(&self) -> Result<String, TransportError> {
                (**self).version().await
            }

            async fn retrieve(
                &self,
                target: &SyncTarget,
                request: &PageRequest,
            ) -> Result<SnapshotPage, TransportError> {
                (**self).retrieve(target, request).await
            }

            async fn subscribe(&self, target: &SyncTarget) -> Result<Self::Stream, TransportError> {
                (**self).subscribe(target).await
            }

            async fn update_subscription(
                &self,
                target: &SyncTarget,
                subscription_id: u64,
            ) -> Result<(), TransportError> {
                (**self).update_subscription(target, subscription_id).await
            }
        }
    )+};
}

forward_torii_transport!(&T, Rc<T>);
