//! A scripted [`ToriiTransport`]: a server-side world, subscriptions fed by its writes, and a
//! fault script.

use std::cell::{Cell, RefCell};
use std::collections::{BTreeMap, VecDeque};
use std::rc::Rc;

use futures_channel::mpsc::{unbounded, UnboundedReceiver, UnboundedSender};
use futures_util::StreamExt;
use serde_json::Value as Json;

use super::clock::VirtualClock;
use super::world::ServerWorld;
use crate::entity::{Entity, EntityId};
use crate::sync::{
    PageRequest, RejectedRecord, SnapshotPage, SyncTarget, TargetKind, ToriiTransport,
    TransportError, UpdateStream,
};
use crate::value::Struct;

/// Which transport call.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum CallKind {
    /// `version`.
    Version,
    /// `retrieve`.
    Retrieve,
    /// `subscribe`.
    Subscribe,
    /// `update_subscription`.
    UpdateSubscription,
}

/// One call the server received.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CallRecord {
    /// Which call.
    pub kind: CallKind,
    /// The target's kind.
    pub target: TargetKind,
    /// The page cursor (retrieve).
    pub cursor: Option<String>,
    /// How many ids a by-id retrieve asked for.
    pub ids: usize,
    /// The page size a retrieve asked for.
    pub limit: u32,
    /// How many rows a retrieve served.
    pub rows: usize,
    /// The ids of the sync targets a retrieve paged (the scopes of its filter).
    pub scopes: Vec<String>,
    /// Whether it failed.
    pub failed: bool,
    /// Virtual time it was served.
    pub at: u64,
}

type Message = Result<Entity, TransportError>;

struct SubShared {
    pending: Cell<usize>,
    ended: Cell<bool>,
}

struct Sub {
    id: u64,
    target: SyncTarget,
    tx: UnboundedSender<Message>,
    shared: Rc<SubShared>,
    held: Option<Message>,
}

struct Inner {
    worlds: BTreeMap<TargetKind, ServerWorld>,
    version: String,
    seq: u64,
    base_secs: u64,
    writes_per_second: u64,
    subs: Vec<Sub>,
    next_sub_id: u64,
    buffer: usize,
    stalled: bool,
    down: bool,
    fail_any: VecDeque<bool>,
    fail_kind: BTreeMap<CallKindKey, VecDeque<bool>>,
    duplicate_next: u32,
    reorder_next: u32,
    reject_rows: u32,
    latency_ms: u64,
    calls: Vec<CallRecord>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
struct CallKindKey(u8);

impl From<CallKind> for CallKindKey {
    fn from(kind: CallKind) -> Self {
        CallKindKey(kind as u8)
    }
}

/// The scripted server and its transport (clones share the server).
#[derive(Clone)]
pub struct ScriptedTransport {
    inner: Rc<RefCell<Inner>>,
    clock: VirtualClock,
}

impl ScriptedTransport {
    /// An empty server at version `"1.8.16 (scripted)"`; calls take no time until
    /// [`ScriptedTransport::set_latency`].
    pub fn new(clock: VirtualClock) -> Self {
        let inner = Inner {
            worlds: BTreeMap::new(),
            version: "1.8.16 (scripted)".to_owned(),
            seq: 0,
            base_secs: 1_735_689_600,
            writes_per_second: 4,
            subs: Vec::new(),
            next_sub_id: 0x5eed_1d00,
            buffer: 16_384,
            stalled: false,
            down: false,
            fail_any: VecDeque::new(),
            fail_kind: BTreeMap::new(),
            duplicate_next: 0,
            reorder_next: 0,
            reject_rows: 0,
            latency_ms: 0,
            calls: Vec::new(),
        };
        ScriptedTransport {
            inner: Rc::new(RefCell::new(inner)),
            clock,
        }
    }

    // ----- the world -----

    /// Writes one model state (a state with no members deletes the model) and sends the update
    /// to every live subscription of that kind whose filter matches before or after.
    pub fn write(&self, kind: TargetKind, id: EntityId, state: Struct) {
        let mut inner = self.inner.borrow_mut();
        inner.seq += 1;
        let seq = inner.seq;
        let at = inner.base_secs + seq / inner.writes_per_second.max(1);
        let (message, before) =
            inner
                .worlds
                .entry(kind)
                .or_default()
                .write(id, state.clone(), seq, at);
        let after: Vec<Struct> = inner
            .worlds
            .get(&kind)
            .and_then(|w| w.entities.get(&id))
            .map(|e| e.models.values().map(|m| m.state.clone()).collect())
            .unwrap_or_default();
        inner.broadcast(kind, &message, &before, &after);
    }

    /// Deletes one model of an entity.
    pub fn delete(&self, kind: TargetKind, id: EntityId, model: &str) {
        self.write(
            kind,
            id,
            Struct {
                name: model.to_owned().into(),
                members: Vec::new(),
            },
        );
    }

    /// Deletes every model of an entity.
    pub fn delete_entity(&self, kind: TargetKind, id: EntityId) {
        let models: Vec<String> = self
            .inner
            .borrow()
            .worlds
            .get(&kind)
            .and_then(|w| w.entities.get(&id))
            .map(|e| e.models.keys().cloned().collect())
            .unwrap_or_default();
        for model in models {
            self.delete(kind, id, &model);
        }
    }

    /// The server's world of a kind (a copy).
    pub fn world(&self, kind: TargetKind) -> ServerWorld {
        self.inner
            .borrow()
            .worlds
            .get(&kind)
            .cloned()
            .unwrap_or_default()
    }

    /// The world as JSON (see [`ServerWorld::world_json`]).
    pub fn world_json(&self, target: &SyncTarget) -> Json {
        self.world(target.kind).world_json(target)
    }

    /// Torii timestamps advance by one second every `writes` writes (default 4: many ties).
    pub fn set_writes_per_second(&self, writes: u64) {
        self.inner.borrow_mut().writes_per_second = writes.max(1);
    }

    // ----- faults -----

    /// The next `count` calls (of any kind) fail; `retryable` chooses transient or permanent.
    pub fn fail_next(&self, count: usize, retryable: bool) {
        let mut inner = self.inner.borrow_mut();
        inner.fail_any.extend(std::iter::repeat_n(retryable, count));
    }

    /// The next `count` calls of one kind fail.
    pub fn fail_next_of(&self, kind: CallKind, count: usize, retryable: bool) {
        let mut inner = self.inner.borrow_mut();
        inner
            .fail_kind
            .entry(kind.into())
            .or_default()
            .extend(std::iter::repeat_n(retryable, count));
    }

    /// An outage: while down every call fails transiently; going down ends every stream.
    pub fn set_down(&self, down: bool) {
        let mut inner = self.inner.borrow_mut();
        inner.down = down;
        if down {
            inner.end_streams();
        }
    }

    /// Ends every live stream now (their buffered messages are dropped).
    pub fn end_streams(&self) -> usize {
        self.inner.borrow_mut().end_streams()
    }

    /// While stalled, streams stay open and receive nothing: updates are lost for them.
    pub fn stall(&self, stalled: bool) {
        self.inner.borrow_mut().stalled = stalled;
    }

    /// A restart: every stream ends, and the version changes when one is given.
    pub fn restart(&self, version: Option<&str>) {
        let mut inner = self.inner.borrow_mut();
        inner.end_streams();
        if let Some(version) = version {
            inner.version = version.to_owned();
        }
    }

    /// Each of the next `count` updates is delivered twice.
    pub fn duplicate_next(&self, count: u32) {
        self.inner.borrow_mut().duplicate_next += count;
    }

    /// Each of the next `count` updates is held back and delivered after the one that follows
    /// it (on the same subscription).
    pub fn reorder_next(&self, count: u32) {
        self.inner.borrow_mut().reorder_next += count;
    }

    /// The next `count` page rows come back as rejected records (with their id).
    pub fn reject_next_rows(&self, count: u32) {
        self.inner.borrow_mut().reject_rows += count;
    }

    /// Sends a message to every live subscription of a kind without changing the world.
    pub fn inject(&self, kind: TargetKind, message: Result<Entity, TransportError>) {
        let mut inner = self.inner.borrow_mut();
        let buffer = inner.buffer;
        for sub in inner.subs.iter_mut().filter(|s| s.target.kind == kind) {
            sub.send(message.clone(), buffer);
        }
        inner.subs.retain(|s| !s.tx.is_closed());
    }

    /// Messages a subscriber may have unread before it is dropped (default 16,384).
    pub fn set_buffer(&self, messages: usize) {
        self.inner.borrow_mut().buffer = messages.max(1);
    }

    /// Every call takes this much virtual time.
    pub fn set_latency(&self, ms: u64) {
        self.inner.borrow_mut().latency_ms = ms;
    }

    /// The version `GET /` reports.
    pub fn set_version(&self, version: &str) {
        self.inner.borrow_mut().version = version.to_owned();
    }

    /// Calls received so far.
    pub fn calls(&self) -> Vec<CallRecord> {
        self.inner.borrow().calls.clone()
    }

    /// Live subscriptions.
    pub fn subscription_count(&self) -> usize {
        let mut inner = self.inner.borrow_mut();
        inner.subs.retain(|s| !s.tx.is_closed());
        inner.subs.len()
    }

    async fn serve(
        &self,
        kind: CallKind,
        target: TargetKind,
        request: Option<&PageRequest>,
    ) -> Result<(), TransportError> {
        let latency = self.inner.borrow().latency_ms;
        if latency > 0 {
            let at = self.clock.now().saturating_add(latency);
            self.clock.sleep(at).await;
        }
        let mut inner = self.inner.borrow_mut();
        let failure = if inner.down {
            Some(true)
        } else if let Some(retryable) = inner.fail_any.pop_front() {
            Some(retryable)
        } else {
            inner
                .fail_kind
                .get_mut(&kind.into())
                .and_then(VecDeque::pop_front)
        };
        inner.calls.push(CallRecord {
            kind,
            target,
            cursor: request.and_then(|r| r.cursor.clone()),
            ids: request.map_or(0, |r| r.entity_ids.len()),
            limit: request.map_or(0, |r| r.limit),
            rows: 0,
            scopes: Vec::new(),
            failed: failure.is_some(),
            at: self.clock.now(),
        });
        match failure {
            Some(true) => Err(TransportError::transient(format!("{kind:?}: unavailable"))),
            Some(false) => Err(TransportError::permanent(format!("{kind:?}: rejected"))),
            None => Ok(()),
        }
    }
}

impl Sub {
    /// Sends one message under the subscriber-buffer rule; closes the stream on overflow.
    fn send(&mut self, message: Message, buffer: usize) {
        if self.shared.ended.get() || self.tx.is_closed() {
            return;
        }
        if self.shared.pending.get() >= buffer {
            // Torii drops a subscriber that fell behind: its stream ends after what it had.
            self.tx.close_channel();
            return;
        }
        self.shared.pending.set(self.shared.pending.get() + 1);
        let _ = self.tx.unbounded_send(message);
    }
}

impl Inner {
    fn end_streams(&mut self) -> usize {
        let count = self.subs.len();
        for sub in self.subs.drain(..) {
            sub.shared.ended.set(true);
            sub.tx.close_channel();
        }
        count
    }

    fn broadcast(
        &mut self,
        kind: TargetKind,
        message: &Entity,
        before: &[Struct],
        after: &[Struct],
    ) {
        if self.stalled {
            return;
        }
        let changed = message
            .models
            .first()
            .map(|m| m.name.clone())
            .unwrap_or_default();
        let duplicate = if self.duplicate_next > 0 {
            self.duplicate_next -= 1;
            true
        } else {
            false
        };
        let reorder = if self.reorder_next > 0 {
            self.reorder_next -= 1;
            true
        } else {
            false
        };
        let buffer = self.buffer;
        for sub in self.subs.iter_mut().filter(|s| s.target.kind == kind) {
            if !sub.target.includes_model(&changed) {
                continue;
            }
            if let Some(clause) = &sub.target.clause {
                if !clause.matches(&message.id, before) && !clause.matches(&message.id, after) {
                    continue;
                }
            }
            let held = sub.held.take();
            if reorder {
                sub.held = Some(Ok(message.clone()));
            } else {
                sub.send(Ok(message.clone()), buffer);
                if duplicate {
                    sub.send(Ok(message.clone()), buffer);
                }
            }
            if let Some(held) = held {
                sub.send(held, buffer);
            }
        }
        self.subs.retain(|s| !s.tx.is_closed());
    }
}

/// A scripted subscription stream.
pub struct ScriptedStream {
    id: u64,
    rx: UnboundedReceiver<Message>,
    shared: Rc<SubShared>,
}

impl UpdateStream for ScriptedStream {
    fn id(&self) -> u64 {
        self.id
    }

    async fn next(&mut self) -> Option<Result<Entity, TransportError>> {
        if self.shared.ended.get() {
            return None;
        }
        let message = self.rx.next().await;
        if self.shared.ended.get() {
            return None;
        }
        if message.is_some() {
            self.shared
                .pending
                .set(self.shared.pending.get().saturating_sub(1));
        }
        message
    }
}

impl ToriiTransport for ScriptedTransport {
    type Stream = ScriptedStream;

    async fn version(&self) -> Result<String, TransportError> {
        self.serve(CallKind::Version, TargetKind::Entities, None)
            .await?;
        Ok(self.inner.borrow().version.clone())
    }

    async fn retrieve(
        &self,
        target: &SyncTarget,
        request: &PageRequest,
    ) -> Result<SnapshotPage, TransportError> {
        self.serve(CallKind::Retrieve, target.kind, Some(request))
            .await?;
        let mut inner = self.inner.borrow_mut();
        let (rows, next_cursor) = match inner.worlds.get(&target.kind) {
            Some(world) => world.page(target, request)?,
            None => (Vec::new(), None),
        };
        let mut page = SnapshotPage {
            items: Vec::with_capacity(rows.len()),
            rejected: Vec::new(),
            next_cursor,
        };
        for row in rows {
            if inner.reject_rows > 0 {
                inner.reject_rows -= 1;
                page.rejected.push(RejectedRecord {
                    entity: Some(row.id),
                    reason: "scripted bad record".to_owned(),
                });
            } else {
                page.items.push(row);
            }
        }
        if let Some(call) = inner.calls.last_mut() {
            call.rows = page.items.len() + page.rejected.len();
            call.scopes = target.scopes.iter().map(|s| s.id.clone()).collect();
        }
        Ok(page)
    }

    async fn subscribe(&self, target: &SyncTarget) -> Result<ScriptedStream, TransportError> {
        self.serve(CallKind::Subscribe, target.kind, None).await?;
        let mut inner = self.inner.borrow_mut();
        let (tx, rx) = unbounded();
        let shared = Rc::new(SubShared {
            pending: Cell::new(0),
            ended: Cell::new(false),
        });
        inner.next_sub_id = inner
            .next_sub_id
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1);
        let id = inner.next_sub_id;
        inner.subs.push(Sub {
            id,
            target: target.clone(),
            tx,
            shared: Rc::clone(&shared),
            held: None,
        });
        Ok(ScriptedStream { id, rx, shared })
    }

    async fn update_subscription(
        &self,
        target: &SyncTarget,
        subscription_id: u64,
    ) -> Result<(), TransportError> {
        self.serve(CallKind::UpdateSubscription, target.kind, None)
            .await?;
        let mut inner = self.inner.borrow_mut();
        match inner.subs.iter_mut().find(|s| s.id == subscription_id) {
            Some(sub) => {
                sub.target = target.clone();
                Ok(())
            }
            None => Err(TransportError::permanent(format!(
                "no subscription {subscription_id}"
            ))),
        }
    }
}
