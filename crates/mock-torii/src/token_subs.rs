//! Live token and token-balance subscriptions: registry, broadcast and response streams
//! (handshake first, like entities; bounded buffer; ended by end-streams and restart).

use std::collections::HashMap;
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

use futures_util::Stream;
use tokio::sync::mpsc;
use tonic::Status;

use crate::faults::Faults;
use crate::tokens::{BalanceFilter, TokenChange};

/// What a token subscription receives.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TokenStreamKind {
    /// `SubscribeTokens`: token changes.
    Tokens,
    /// `SubscribeTokenBalances`: balance changes.
    Balances,
}

#[derive(Debug)]
struct State {
    kind: TokenStreamKind,
    filter: Mutex<BalanceFilter>,
    ended: AtomicBool,
}

struct Entry {
    state: Arc<State>,
    sender: mpsc::Sender<TokenChange>,
}

type Registry = Arc<Mutex<HashMap<u64, Entry>>>;

fn lock(registry: &Registry) -> MutexGuard<'_, HashMap<u64, Entry>> {
    registry.lock().unwrap_or_else(PoisonError::into_inner)
}

struct Unregister {
    registry: Registry,
    id: u64,
    state: Arc<State>,
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

/// A response stream of a token subscription.
pub type TokenStream<T> = Pin<Box<dyn Stream<Item = Result<T, Status>> + Send>>;

/// Every live token and balance subscription.
#[derive(Clone)]
pub struct TokenSubscriptions {
    registry: Registry,
    buffer: usize,
}

impl std::fmt::Debug for TokenSubscriptions {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TokenSubscriptions")
            .field("count", &self.count())
            .finish()
    }
}

impl TokenSubscriptions {
    /// An empty registry; each subscriber buffers at most `buffer` messages.
    pub fn new(buffer: usize) -> TokenSubscriptions {
        TokenSubscriptions {
            registry: Arc::default(),
            buffer: buffer.max(1),
        }
    }

    /// The number of live token subscriptions.
    pub fn count(&self) -> usize {
        lock(&self.registry).len()
    }

    /// Registers a subscriber; `wrap(id, None)` is the handshake, `wrap(id, Some(change))` an
    /// update.
    pub fn subscribe<T: Send + 'static>(
        &self,
        kind: TokenStreamKind,
        filter: BalanceFilter,
        faults: Arc<Faults>,
        wrap: fn(u64, Option<TokenChange>) -> T,
    ) -> (u64, TokenStream<T>) {
        let (sender, receiver) = mpsc::channel(self.buffer);
        let state = Arc::new(State {
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
        let stream = futures_util::stream::unfold(
            (false, receiver, guard, faults),
            move |(handshake_sent, mut receiver, guard, faults)| async move {
                if !handshake_sent {
                    faults.wait().await;
                    return Some((Ok(wrap(id, None)), (true, receiver, guard, faults)));
                }
                if guard.state.ended.load(Ordering::Relaxed) {
                    return None;
                }
                let change = receiver.recv().await?;
                faults.wait().await;
                if guard.state.ended.load(Ordering::Relaxed) {
                    return None;
                }
                Some((Ok(wrap(id, Some(change))), (true, receiver, guard, faults)))
            },
        );
        (id, Box::pin(stream))
    }

    /// Replaces the filter of subscription `id` of `kind`; `false` when there is none.
    pub fn update(&self, kind: TokenStreamKind, id: u64, filter: BalanceFilter) -> bool {
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

    /// Ends every stream at once and forgets every subscription.
    pub fn end_all(&self) {
        let mut registry = lock(&self.registry);
        for entry in registry.values() {
            entry.state.ended.store(true, Ordering::Relaxed);
        }
        registry.clear();
    }

    /// Sends changes to the subscribers they concern; a full buffer drops the subscriber.
    pub fn broadcast(&self, changes: &[TokenChange], stalled: bool) {
        let mut registry = lock(&self.registry);
        if registry.is_empty() || stalled {
            return;
        }
        let mut dropped = Vec::new();
        for change in changes {
            for (id, entry) in registry.iter() {
                let wanted = {
                    let filter = entry
                        .state
                        .filter
                        .lock()
                        .unwrap_or_else(PoisonError::into_inner);
                    match (entry.state.kind, change) {
                        (TokenStreamKind::Tokens, TokenChange::Token(t)) => filter.admits_token(t),
                        (TokenStreamKind::Balances, TokenChange::Balance(b)) => filter.admits(b),
                        _ => false,
                    }
                };
                if wanted && entry.sender.try_send(change.clone()).is_err() {
                    dropped.push(*id);
                }
            }
            for id in dropped.drain(..) {
                registry.remove(&id);
            }
        }
    }
}
