//! The view model: the replica of synced states (fed only by DELTAs), the optimistic overlay
//! merged over it, the events of settled writes, and queries answered from memory. What a read
//! shows with [`Consistency::Overlay`] is always each pending write over the latest synced state.

use std::collections::{HashMap, HashSet};

use dojo_reactive_core::{
    Direction, EntityId, Felt, FilterError, FilterState, Manifest, OrderSpec, Overlay,
    OverlayEntry, OverlayError, OverlayEvent, OverlaySubmission, Query, QueryPage, QuerySpec,
    Scalar, Steps, Struct, TransactionSubmission, Ty, DEFAULT_GUARD_POLL_INTERVAL_MS,
    DEFAULT_OVERLAY_TIMEOUT_MS,
};
use dojo_reactive_storage::{scan_state_changes, StateChange};

use crate::delta::{decode_delta, DecodeError};
use crate::id_order::IdOrder;
use crate::index::{IndexSpec, Indexes};
use crate::keys::entity_id_of_keys;
use crate::packed::PackedState;
use crate::replica::{Changed, Replica};
use crate::shapes::Shapes;

/// Which state a read shows.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum Consistency {
    /// Pending optimistic writes over synced state (the default).
    #[default]
    Overlay,
    /// Synced state only.
    Synced,
}

/// The overlay's timing options (`None`: the core defaults).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ViewOptions {
    /// Time before an unconfirmed write is rolled back (ms).
    pub overlay_timeout_ms: Option<u64>,
    /// How often guards are re-checked (ms).
    pub overlay_poll_ms: Option<u64>,
}

/// What happened to a pending transaction, with what it wrote.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SettledWrite {
    /// What happened.
    pub event: OverlayEvent,
    /// The entity of its first write.
    pub entity: EntityId,
    /// The model tag of its first write.
    pub model: String,
    /// Every (entity, model) it wrote, in the order given.
    pub writes: Vec<(EntityId, String)>,
}

/// What [`ViewModel::poll`] found.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Polled {
    /// Settled writes, in the order they settled.
    pub events: Vec<SettledWrite>,
    /// Entities whose merged state changed (once each, in the order of `events`).
    pub changed: Vec<EntityId>,
}

/// Why a write cannot be shaped: its model's shape is not known.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UnknownShape {
    /// The model tag.
    pub model: String,
    /// The manifest names the model but no synced state of it arrived yet.
    pub awaiting: bool,
}

impl std::fmt::Display for UnknownShape {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let model = &self.model;
        if self.awaiting {
            write!(
                f,
                "the shape of {model} is not known yet: the manifest does not define its types \
                 and no synced state of it arrived"
            )
        } else {
            write!(
                f,
                "unknown model {}: not in the manifest",
                dojo_reactive_core::Quoted(model)
            )
        }
    }
}

/// The ids of a page of matches, with its cursor.
fn ids_of<S>(
    (hits, next_cursor): (Vec<(&EntityId, S)>, Option<String>),
) -> (Vec<EntityId>, Option<String>) {
    (hits.into_iter().map(|(id, _)| *id).collect(), next_cursor)
}

/// The transaction id a given event is about.
pub fn event_transaction(event: &OverlayEvent) -> &str {
    match event {
        OverlayEvent::Confirmed { transaction_id, .. }
        | OverlayEvent::Replaced { transaction_id, .. }
        | OverlayEvent::RolledBack { transaction_id } => transaction_id,
        OverlayEvent::TimedOut(error) => &error.transaction_id,
    }
}

/// What a query matches (see [`ViewModel::matching`]).
pub struct Matches {
    /// The compiled query (its selection prunes what each match shows).
    pub query: Query,
    /// The matching entities, in the query's order (ascending id unless it has an `orderBy`).
    pub ids: Vec<EntityId>,
    /// The next page's cursor, when there are more matches.
    pub next_cursor: Option<String>,
}

/// A state a query reads: a synced one in place, or a pending write merged over it.
#[derive(Debug, Clone)]
enum Row<'a> {
    Synced(PackedState<'a>),
    Merged(&'a Struct),
}

impl FilterState for Row<'_> {
    fn model(&self) -> &str {
        match self {
            Row::Synced(state) => state.model(),
            Row::Merged(state) => state.model(),
        }
    }

    fn is_deletion(&self) -> bool {
        match self {
            Row::Synced(state) => state.is_deletion(),
            Row::Merged(state) => FilterState::is_deletion(*state),
        }
    }

    fn scalar(&self, steps: &Steps) -> Option<Scalar<'_>> {
        match self {
            Row::Synced(state) => state.scalar(steps),
            Row::Merged(state) => state.scalar(steps),
        }
    }

    fn elements(&self, steps: &Steps) -> Option<Vec<Scalar<'_>>> {
        match self {
            Row::Synced(state) => state.elements(steps),
            Row::Merged(state) => state.elements(steps),
        }
    }

    fn array_len(&self, steps: &Steps) -> Option<usize> {
        match self {
            Row::Synced(state) => state.array_len(steps),
            Row::Merged(state) => state.array_len(steps),
        }
    }

    fn key_felts(&self) -> Vec<Felt> {
        match self {
            Row::Synced(state) => state.key_felts(),
            Row::Merged(state) => FilterState::key_felts(*state),
        }
    }
}

/// A synced state read in place, as a query reads it.
fn synced_row<'a>((id, state): (&'a EntityId, PackedState<'a>)) -> (&'a EntityId, Row<'a>) {
    (id, Row::Synced(state))
}

/// A limit under this share of the entities held reads a model in id order (see [`IdOrder`]).
const ORDERED_LIMIT_SHARE: usize = 8;

/// The main-thread view of one world: synced states, pending writes, queries.
pub struct ViewModel {
    shapes: Shapes,
    replica: Replica,
    /// Entity ids in order, for queries with a small limit.
    order: IdOrder,
    /// Ordered indexes on members the game declared.
    indexes: Indexes,
    overlay: Overlay,
    /// Pending transactions: id → the (entity, model) pairs they write.
    pending: HashMap<String, Vec<(EntityId, String)>>,
    /// Writes settled outside `poll` (confirmations while applying DELTAs, replaced writes),
    /// reported by the next `poll`.
    queued: Vec<SettledWrite>,
    /// The latest time the caller gave (for guards re-checked in `apply_delta`).
    now_ms: u64,
    next_transaction: u64,
}

impl ViewModel {
    /// An empty view of the world `manifest` describes.
    pub fn new(manifest: &Manifest, options: ViewOptions) -> ViewModel {
        ViewModel {
            shapes: Shapes::from_manifest(manifest),
            replica: Replica::new(),
            order: IdOrder::default(),
            indexes: Indexes::default(),
            overlay: Overlay::new(
                options
                    .overlay_poll_ms
                    .unwrap_or(DEFAULT_GUARD_POLL_INTERVAL_MS),
                options
                    .overlay_timeout_ms
                    .unwrap_or(DEFAULT_OVERLAY_TIMEOUT_MS),
            ),
            pending: HashMap::new(),
            queued: Vec::new(),
            now_ms: 0,
            next_transaction: 1,
        }
    }

    /// Applies one DELTA; returns the entities whose synced state changed (once each). Bytes that
    /// are not a DELTA change nothing.
    pub fn apply_delta(&mut self, delta: &[u8]) -> Result<Vec<EntityId>, DecodeError> {
        let (target, changes) = decode_delta(delta)?;
        for change in &changes {
            if let StateChange::Upsert(record) = change {
                self.shapes.learn(&record.state);
            }
        }
        let changed = self.replica.apply(target, changes);
        self.order.changed(&changed, &self.replica);
        self.indexes.changed(&changed, &self.replica);
        self.check_overlay(&changed);
        let mut ids = Vec::new();
        let mut seen = HashSet::new();
        for (entity, _) in &changed {
            if seen.insert(*entity) {
                ids.push(*entity);
            }
        }
        Ok(ids)
    }

    /// Applies one DELTA of the persisted state (a stored segment): its states are indexed now
    /// and decoded when first read. Bytes that are not a segment change nothing.
    pub fn restore(&mut self, delta: Vec<u8>) -> Result<(), DecodeError> {
        let (target, changes) = scan_state_changes(delta)?;
        // Only the overlay and shapes learned from data look at what a restore changed.
        let overlay_active = !self.overlay.is_empty();
        let shapes = &self.shapes;
        let changed = self.replica.restore(target, changes, |model| {
            overlay_active || shapes.learns(model)
        });
        self.order.clear();
        self.indexes.clear();
        for (entity, model) in &changed {
            if self.shapes.learns(model) {
                if let Some(state) = self.replica.state(entity, model) {
                    self.shapes.learn(&state);
                }
            }
        }
        self.check_overlay(&changed);
        Ok(())
    }

    /// Declares an ordered index on members of a model: queries whose top-level conditions
    /// bound its first member (or first two) then read only the entities in that range (see
    /// [`crate::index`]). Fails for a model the manifest does not name, no member or more than
    /// two, or a member the model lacks or that has no order (checked once the model's shape is
    /// known).
    pub fn declare_index(&mut self, spec: IndexSpec) -> Result<(), FilterError> {
        if spec.members.is_empty() || spec.members.len() > 2 {
            return Err(FilterError::Json(format!(
                "an index on {} orders by one or two members, not {}",
                spec.model,
                spec.members.len()
            )));
        }
        if !self.shapes.awaiting(&spec.model) {
            let order = QuerySpec {
                order_by: spec
                    .members
                    .iter()
                    .map(|member| OrderSpec {
                        member: member.clone(),
                        direction: Direction::Asc,
                    })
                    .collect(),
                ..QuerySpec::default()
            };
            Query::compile(&spec.model, &order, self.shapes.registry())?;
        }
        self.indexes.declare(spec);
        Ok(())
    }

    /// Number of entities held (synced).
    pub fn size(&self) -> usize {
        self.replica.len()
    }

    /// Every model state shown for an entity (by model tag, pending writes last); empty when
    /// nothing is held or pending for it.
    pub fn entity(&self, id: &EntityId, consistency: Consistency) -> Vec<Struct> {
        let held = self.replica.entity(id);
        match consistency {
            Consistency::Synced => held,
            Consistency::Overlay => {
                let mut states: Vec<Struct> = held
                    .into_iter()
                    .map(|state| {
                        self.overlay
                            .shown(id, &state.name, Some(&state))
                            .unwrap_or(state)
                    })
                    .collect();
                for model in self.overlay.models_of(id) {
                    if self.replica.get(id, model).is_none() {
                        states.extend(self.overlay.shown(id, model, None));
                    }
                }
                states
            }
        }
    }

    /// The state of (entity, model) a read shows, decoded: the pending write over the synced
    /// state unless `Synced`.
    pub fn shown(&self, id: &EntityId, model: &str, consistency: Consistency) -> Option<Struct> {
        let synced = self.replica.state(id, model);
        if consistency == Consistency::Overlay && !self.overlay.is_empty() {
            if let Some(state) = self.overlay.shown(id, model, synced.as_ref()) {
                return Some(state);
            }
        }
        synced
    }

    /// The entities a query on one model matches, in the query's order, without building what
    /// they show (read each with [`ViewModel::shown`], pruned by the query's selection). A model
    /// the manifest names whose shape is not known yet (no state of it arrived) matches
    /// nothing: `None`.
    pub fn matching(
        &mut self,
        model: &str,
        spec: &QuerySpec,
        consistency: Consistency,
    ) -> Result<Option<Matches>, FilterError> {
        if self.shapes.awaiting(model) {
            return Ok(None);
        }
        let compiled = Query::compile(model, spec, self.shapes.registry())?;
        let overlaid = self.overlaid(model, consistency);
        // Every key fixed: the entity id is the keys' hash, so only that entity can match.
        // When no entity has that id the model is scanned (ids that are not their keys' hash,
        // as in synthetic data, are still found).
        let keyed_id = compiled
            .filter
            .entity_keys()
            .map(|keys| entity_id_of_keys(&keys))
            .filter(|id| self.replica.get(id, model).is_some());
        // Bounds on members of a declared index: only the entities in range are read.
        let indexed = match keyed_id {
            Some(_) => None,
            None => self.indexes.candidates(&compiled.filter, &self.replica),
        };
        let few = compiled.limit.is_some_and(|limit| {
            (limit as usize).saturating_mul(ORDERED_LIMIT_SHARE) < self.replica.len()
        });
        let in_id_order =
            overlaid.is_empty() && few && compiled.order.is_none() && indexed.is_none();
        // A scan of the whole model reads restored states in place once they are packed; a
        // keyed lookup, an index's range or a small page in id order reads only a few (packed
        // as they are read).
        if keyed_id.is_none() && indexed.is_none() && !in_id_order {
            self.replica.pack_restored(model);
        }
        let keyed = keyed_id.and_then(|id| self.replica.state_entry(&id, model));
        let (ids, next_cursor) = if let Some(entry) = keyed.clone().filter(|_| overlaid.is_empty())
        {
            // Every path reads `Row`s: one instantiation of the query's generic scan and sorts
            // (each state type adds ~10 KB of wasm to the page's module).
            ids_of(compiled.matching(std::iter::once(synced_row(entry))))
        } else if in_id_order {
            let order = self.order.ids(model, &self.replica);
            let start = compiled
                .cursor
                .map_or(0, |c| order.partition_point(|id| *id <= c));
            let in_order = order
                .get(start..)
                .unwrap_or_default()
                .iter()
                .filter_map(|id| self.replica.state_entry(id, model))
                .map(synced_row);
            ids_of(compiled.matching_in_order(in_order))
        } else {
            let synced = self.synced_candidates(model, keyed, indexed.as_deref());
            let shadowed: HashSet<EntityId> = overlaid.iter().map(|(id, _)| *id).collect();
            ids_of(
                compiled.matching(
                    synced
                        .filter(|(id, _)| !shadowed.contains(*id))
                        .map(synced_row)
                        .chain(overlaid.iter().map(|(id, s)| (id, Row::Merged(s)))),
                ),
            )
        };
        Ok(Some(Matches {
            ids,
            next_cursor,
            query: compiled,
        }))
    }

    /// How many entities a query on one model matches (its limit and cursor aside), without
    /// building them; 0 while the model's shape is not known.
    pub fn count(
        &self,
        model: &str,
        spec: &QuerySpec,
        consistency: Consistency,
    ) -> Result<usize, FilterError> {
        if self.shapes.awaiting(model) {
            return Ok(0);
        }
        let compiled = Query::compile(model, spec, self.shapes.registry())?;
        let overlaid = self.overlaid(model, consistency);
        let shadowed: HashSet<EntityId> = overlaid.iter().map(|(id, _)| *id).collect();
        let indexed = self.indexes.candidates(&compiled.filter, &self.replica);
        let synced = self.synced_candidates(model, None, indexed.as_deref());
        Ok(compiled.count(
            synced
                .filter(|(id, _)| !shadowed.contains(*id))
                .map(synced_row)
                .chain(overlaid.iter().map(|(id, s)| (id, Row::Merged(s)))),
        ))
    }

    /// The states of `model` with a pending write, merged (none for `Synced` reads).
    fn overlaid(&self, model: &str, consistency: Consistency) -> Vec<(EntityId, Struct)> {
        match consistency {
            Consistency::Synced => Vec::new(),
            Consistency::Overlay => {
                let mut states = Vec::new();
                for (id, m) in self.overlay.pending_keys() {
                    if m != model {
                        continue;
                    }
                    let synced = self.replica.state(id, m);
                    if let Some(state) = self.overlay.merged(id, m, synced.as_ref()) {
                        states.push((*id, state));
                    }
                }
                states
            }
        }
    }

    /// The synced states a query on `model` reads: the one entity its keys fix, else the
    /// entities an index found, else every state of the model.
    fn synced_candidates<'a>(
        &'a self,
        model: &'a str,
        keyed: Option<(&'a EntityId, PackedState<'a>)>,
        indexed: Option<&'a [EntityId]>,
    ) -> Box<dyn Iterator<Item = (&'a EntityId, PackedState<'a>)> + 'a> {
        match (keyed, indexed) {
            (Some(entry), _) => Box::new(std::iter::once(entry)),
            (None, Some(ids)) => Box::new(
                ids.iter()
                    .filter_map(move |id| self.replica.state_entry(id, model)),
            ),
            (None, None) => Box::new(self.replica.states(model)),
        }
    }

    /// Runs a query on one model; results in the query's order (by ascending entity id unless
    /// it has an `orderBy`), each state pruned by the query's selection. A model the manifest names whose shape is not known yet (no state of
    /// it arrived) has no results.
    pub fn query(
        &mut self,
        model: &str,
        spec: &QuerySpec,
        consistency: Consistency,
    ) -> Result<QueryPage, FilterError> {
        let Some(matches) = self.matching(model, spec, consistency)? else {
            return Ok(QueryPage {
                items: Vec::new(),
                next_cursor: None,
            });
        };
        let items = matches
            .ids
            .iter()
            .filter_map(|id| {
                let state = self.shown(id, model, consistency)?;
                Some((*id, matches.query.select.apply(&state)))
            })
            .collect();
        Ok(QueryPage {
            items,
            next_cursor: matches.next_cursor,
        })
    }

    /// The shape a write on `model` must have.
    pub fn write_shape(&self, model: &str) -> Result<&Ty, UnknownShape> {
        self.shapes
            .registry()
            .get(model)
            .ok_or_else(|| UnknownShape {
                model: model.to_owned(),
                awaiting: self.shapes.awaiting(model),
            })
    }

    /// A transaction id for a write submitted without one (`overlay-1`, `overlay-2`, ...).
    pub fn fresh_transaction_id(&mut self) -> String {
        let id = format!("overlay-{}", self.next_transaction);
        self.next_transaction += 1;
        id
    }

    /// Shows an optimistic write on one model at once; confirmed by its guard, rolled back
    /// after its timeout. A write it replaces is reported by the next `poll`.
    pub fn submit(
        &mut self,
        submission: OverlaySubmission,
        now_ms: u64,
    ) -> Result<(), OverlayError> {
        self.submit_transaction(submission.into(), now_ms)
    }

    /// Shows a transaction's writes (several models and entities, absolute and relative) at
    /// once; confirmed and rolled back as one (rules: `dojo_reactive_core::overlay`).
    /// Transactions it replaces are reported by the next `poll`.
    pub fn submit_transaction(
        &mut self,
        submission: TransactionSubmission,
        now_ms: u64,
    ) -> Result<(), OverlayError> {
        self.now_ms = self.now_ms.max(now_ms);
        let transaction_id = submission.transaction_id.clone();
        let mut writes: Vec<(EntityId, String)> = Vec::with_capacity(submission.writes.len());
        for w in &submission.writes {
            writes.push((w.entity_id, w.model.clone()));
        }
        // The synced states the writes apply to, decoded once (the replica holds them packed).
        let mut synced: Vec<(EntityId, &str, Struct)> = Vec::new();
        for (id, model) in &writes {
            if let Some(state) = self.replica.state(id, model) {
                synced.push((*id, model.as_str(), state));
            }
        }
        let replaced = self.overlay.submit_transaction(
            submission,
            |id, model| held(&synced, id, model),
            now_ms,
        )?;
        drop(synced);
        for event in replaced {
            self.settle(event);
        }
        self.pending.insert(transaction_id, writes);
        Ok(())
    }

    /// The unconfirmed writes of pending transactions on an entity.
    pub fn overlay_for(&self, id: &EntityId) -> impl Iterator<Item = &OverlayEntry> {
        self.overlay.entries_for(id)
    }

    /// Confirms a transaction by hand (it settled); all its writes are dropped.
    pub fn ack(&mut self, transaction_id: &str) -> Result<(), OverlayError> {
        self.overlay.ack(transaction_id)?;
        self.pending.remove(transaction_id);
        Ok(())
    }

    /// Rolls a transaction back by hand; reads show the synced state again.
    pub fn rollback(&mut self, transaction_id: &str) -> Result<(), OverlayError> {
        self.overlay.rollback(transaction_id)?;
        self.pending.remove(transaction_id);
        Ok(())
    }

    /// Runs guards and timeouts; returns what happened (with what was found since the last
    /// poll) and the entities whose merged state changed.
    pub fn poll(&mut self, now_ms: u64) -> Polled {
        self.now_ms = self.now_ms.max(now_ms);
        // The guards read decoded synced states: those of the pending writes, decoded once.
        let mut synced: Vec<(EntityId, &str, Struct)> = Vec::new();
        for (id, model) in self.pending.values().flatten() {
            if let Some(state) = self.replica.state(id, model) {
                synced.push((*id, model.as_str(), state));
            }
        }
        let found = self
            .overlay
            .poll(now_ms, |id, model| held(&synced, id, model));
        for event in found {
            self.settle(event);
        }
        let events = std::mem::take(&mut self.queued);
        let mut changed = Vec::new();
        let mut seen = HashSet::new();
        for settled in &events {
            for (entity, _) in &settled.writes {
                if seen.insert(*entity) {
                    changed.push(*entity);
                }
            }
        }
        Polled { events, changed }
    }

    /// When `poll` next has work (ms, the caller's clock), if anything is pending.
    pub fn next_wakeup_ms(&self) -> Option<u64> {
        if !self.queued.is_empty() {
            return Some(self.now_ms);
        }
        self.overlay.next_wakeup_ms()
    }

    /// Re-checks the guards of pending writes on synced states that changed.
    fn check_overlay(&mut self, changed: &[Changed]) {
        if self.overlay.is_empty() {
            return;
        }
        for (entity, model) in changed {
            let synced = self.replica.state(entity, model);
            for event in self
                .overlay
                .on_synced_change(entity, model, synced.as_ref(), self.now_ms)
            {
                self.settle(event);
            }
        }
    }

    /// Forgets a transaction the overlay dropped and queues its event for the next `poll`.
    fn settle(&mut self, event: OverlayEvent) {
        let Some(writes) = self.pending.remove(event_transaction(&event)) else {
            return;
        };
        if let Some((entity, model)) = writes.first().cloned() {
            self.queued.push(SettledWrite {
                event,
                entity,
                model,
                writes,
            });
        }
    }
}

/// The decoded synced state of (`id`, `model`) among `synced`.
fn held<'s>(
    synced: &'s [(EntityId, &str, Struct)],
    id: &EntityId,
    model: &str,
) -> Option<&'s Struct> {
    synced
        .iter()
        .find(|(held, tag, _)| held == id && *tag == model)
        .map(|(_, _, state)| state)
}
