//! Live subscriptions: a registry of subscribers (id, table, clause, bounded buffer), the
//! broadcast of each committed write to the subscribers it concerns, and the response stream
//! (handshake first, then one message per changed model, through the stream's delivery faults).

use std::collections::HashMap;
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, PoisonError};

use dojo_reactive_torii::{types, world::SubscribeEntityResponse};
use futures_util::Stream;
use tokio::sync::mpsc::{self, error::TrySendError};
use tonic::Status;

use crate::delivery::{Delivery, HOLD};
use crate::faults::{Faults, MalformedKind};
use crate::felt::Bytes32;
use crate::query::{Compiled, View};
use crate::store::{Kind, Written};
use crate::world::Record;

/// What a subscriber wants: its clause and whether its world filter admits this world.
#[derive(Clone, Debug)]
pub struct Filter {
    /// The compiled clause.
    pub clause: Compiled,
    /// `false` when the subscription named other worlds only.
    pub world_ok: bool,
}

#[derive(Debug)]
struct SubscriberState {
    kind: Kind,
    filter: Mutex<Filter>,
    /// Set when the server ends the stream (end-streams, restart): it ends without draining.
    ended: AtomicBool,
}

struct Entry {
    state: Arc<SubscriberState>,
    sender: mpsc::Sender<Arc<types::Entity>>,
}

type Registry = Arc<Mutex<HashMap<u64, Entry>>>;

/// The state of one response stream: its source of committed writes and its delivery faults.
struct StreamState {
    handshake_sent: bool,
    receiver: mpsc::Receiver<Arc<types::Entity>>,
    guard: Unregister,
    faults: Arc<Faults>,
    delivery: Delivery<Arc<types::Entity>>,
}

impl StreamState {
    /// The next message to send, after the delivery faults; `None` once the stream is over
    /// (ended by the server, or its source closed and nothing is held back).
    async fn next_message(&mut self) -> Option<Arc<types::Entity>> {
        loop {
            if self.guard.state.ended.load(Ordering::Relaxed) {
                return None;
            }
            if let Some(message) = self.delivery.pop() {
                return Some(message);
            }
            let received = if self.delivery.holding() {
                match tokio::time::timeout(HOLD, self.receiver.recv()).await {
                    Ok(received) => received,
                    Err(_) => {
                        self.delivery.flush(&self.faults);
                        continue;
                    }
                }
            } else {
                self.receiver.recv().await
            };
            match received {
                Some(message) => self.delivery.push(message, &self.faults),
                None if self.delivery.holding() => self.delivery.flush(&self.faults),
                None => return None,
            }
        }
    }
}

/// The stream type of subscription responses.
pub type EntityStream = Pin<Box<dyn Stream<Item = Result<SubscribeEntityResponse, Status>> + Send>>;

/// Every live subscription of entities and event messages.
#[derive(Clone)]
pub struct Subscriptions {
    registry: Registry,
    buffer: usize,
}

impl std::fmt::Debug for Subscriptions {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Subscriptions")
            .field("count", &self.count())
            .field("buffer", &self.buffer)
            .finish()
    }
}

fn lock(registry: &Registry) -> std::sync::MutexGuard<'_, HashMap<u64, Entry>> {
    registry.lock().unwrap_or_else(PoisonError::into_inner)
}

/// Removes the subscriber from the registry when its stream is dropped.
struct Unregister {
    registry: Registry,
    id: u64,
    state: Arc<SubscriberState>,
}

impl Drop for Unregister {
    fn drop(&mut self) {
        let mut registry = lock(&self.registry);
        if registry
            .get(&self.id)
            .is_some_and(|e| Arc::ptr_eq(&e.state, &self.state))
        {
            registry.remove(&self.id);
        }
    }
}

impl Subscriptions {
    /// An empty registry whose subscribers each buffer at most `buffer` messages.
    pub fn new(buffer: usize) -> Subscriptions {
        Subscriptions {
            registry: Arc::default(),
            buffer: buffer.max(1),
        }
    }

    /// The number of live subscriptions.
    pub fn count(&self) -> usize {
        lock(&self.registry).len()
    }

    /// Registers a subscriber and returns its id and response stream. Writes committed after
    /// this call reach the stream, after the handshake.
    pub fn subscribe(
        &self,
        kind: Kind,
        filter: Filter,
        faults: Arc<Faults>,
    ) -> (u64, EntityStream) {
        let (sender, receiver) = mpsc::channel(self.buffer);
        let state = Arc::new(SubscriberState {
            kind,
            filter: Mutex::new(filter),
            ended: AtomicBool::new(false),
        });
        let id = {
            let mut registry = lock(&self.registry);
            let mut id: u64 = rand::random();
            while id == 0 || registry.contains_key(&id) {
                id = rand::random();
            }
            registry.insert(
                id,
                Entry {
                    state: Arc::clone(&state),
                    sender,
                },
            );
            id
        };
        let guard = Unregister {
            registry: Arc::clone(&self.registry),
            id,
            state,
        };
        let state = StreamState {
            handshake_sent: false,
            receiver,
            guard,
            faults,
            delivery: Delivery::default(),
        };
        let stream = futures_util::stream::unfold(state, move |mut state| async move {
            if !state.handshake_sent {
                state.faults.wait().await;
                state.handshake_sent = true;
                let handshake = SubscribeEntityResponse {
                    entity: None,
                    subscription_id: id,
                };
                return Some((Ok(handshake), state));
            }
            let entity = state.next_message().await?;
            state.faults.wait().await;
            if state.guard.state.ended.load(Ordering::Relaxed) {
                return None;
            }
            let mut entity = Arc::unwrap_or_clone(entity);
            if state
                .faults
                .take_malformed(&[MalformedKind::Schema])
                .is_some()
            {
                crate::world::break_schema(&mut entity);
            }
            let message = SubscribeEntityResponse {
                entity: Some(entity),
                subscription_id: id,
            };
            Some((Ok(message), state))
        });
        (id, Box::pin(stream))
    }

    /// Replaces the filter of subscription `id` of `kind`; `false` when there is none.
    pub fn update(&self, kind: Kind, id: u64, filter: Filter) -> bool {
        let registry = lock(&self.registry);
        match registry.get(&id) {
            Some(entry) if entry.state.kind == kind => {
                *entry
                    .state
                    .filter
                    .lock()
                    .unwrap_or_else(PoisonError::into_inner) = filter;
                true
            }
            _ => false,
        }
    }

    /// Ends every stream at once (buffered messages are dropped) and forgets every subscription.
    pub fn end_all(&self) {
        let mut registry = lock(&self.registry);
        for entry in registry.values() {
            entry.state.ended.store(true, Ordering::Relaxed);
        }
        registry.clear();
    }

    /// Sends a committed write to every subscriber whose clause matches the model's old or new
    /// state. A subscriber whose buffer is full is dropped: its stream ends after what it
    /// buffered. While `stalled`, nothing is sent (the updates are lost for the subscribers).
    pub fn broadcast(&self, written: &Written, record: &Record, world: &Bytes32, stalled: bool) {
        let mut registry = lock(&self.registry);
        if registry.is_empty() || stalled {
            return;
        }
        let new_view = View {
            changed: Some(&written.tag),
            ..View::of(record)
        };
        let old_view = View {
            replaced: Some((&written.tag, written.old.as_ref())),
            ..new_view
        };
        let mut message: Option<Arc<types::Entity>> = None;
        let mut dropped = Vec::new();
        for (id, entry) in registry.iter() {
            if entry.state.kind != written.kind {
                continue;
            }
            let matches = {
                let filter = entry
                    .state
                    .filter
                    .lock()
                    .unwrap_or_else(PoisonError::into_inner);
                filter.world_ok
                    && (filter.clause.matches(&new_view) || filter.clause.matches(&old_view))
            };
            if !matches {
                continue;
            }
            let message = message.get_or_insert_with(|| {
                let model = record
                    .model(&written.tag)
                    .cloned()
                    .unwrap_or_else(|| types::Struct {
                        name: written.tag.clone(),
                        children: Vec::new(),
                    });
                Arc::new(types::Entity {
                    hashed_keys: record.id.to_vec(),
                    models: vec![model],
                    created_at: record.created_at,
                    updated_at: record.updated_at,
                    executed_at: record.executed_at,
                    world_address: world.to_vec(),
                })
            });
            match entry.sender.try_send(Arc::clone(message)) {
                Ok(()) => {}
                Err(TrySendError::Full(_)) | Err(TrySendError::Closed(_)) => dropped.push(*id),
            }
        }
        for id in dropped {
            registry.remove(&id);
        }
    }
}
