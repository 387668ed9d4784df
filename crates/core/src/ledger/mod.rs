//! The version ledger: per (entity, model), the version of the state last applied, and the rule
//! that decides whether an incoming state may replace it.
//!
//! Torii sends no block number or event index, so a [`Version`] is Torii's
//! `(executed_at, updated_at)` (Unix seconds, ties within a second are normal), the position of
//! the observation in its [`Source`], and, for models configured with one, a game-defined
//! monotonic member (compared exactly with [`Primitive::compare`]) that takes precedence over
//! the timestamps.
//!
//! # Rules
//!
//! Stream epochs come from [`Ledger::begin_epoch`] (one per subscription, increasing, persisted);
//! a snapshot row carries the epoch of the subscription that was live (past its handshake) when
//! its page was read, and a page number that increases with every page read in that epoch.
//!
//! 1. **Same stream**: an update from the stream epoch that wrote the held version, with a higher
//!    `seq`, applies when its version is not lower: arrival order breaks ties, so a later message
//!    with equal timestamps is never rejected. A lower version (a game member or
//!    `(executed_at, updated_at)` below the held one) is a delivery out of order, a late
//!    duplicate or a reordered message, and is dropped as [`Decision::Regressed`]: an older
//!    state is never shown over a newer one. A `seq` not above the held one is a
//!    [`Decision::Duplicate`].
//! 2. **Otherwise, versions compare**: the game member first when both sides have one and they
//!    differ, then `(executed_at, updated_at)` lexicographically. Higher applies
//!    ([`Decision::Replaced`]), lower is dropped ([`Decision::Stale`]).
//! 3. **Ties** go to the observation known to be later by its position alone:
//!    a stream update beats a snapshot row of its own or an earlier epoch (the stream is gap-free
//!    from before the snapshot was read, so anything newer the snapshot had will arrive on it);
//!    a snapshot row beats a stream update only from an *earlier* epoch (that stream has ended,
//!    possibly with gaps, before the snapshot was read); between snapshot rows the later
//!    `(epoch, page)` wins; a stream update beats one from an earlier epoch. The loser is
//!    [`Decision::TieLost`]; the same snapshot position twice is a [`Decision::Duplicate`].
//! 4. **Deletions** (a model state with no members) are versioned tombstones that follow the
//!    same rules: they win over older writes and lose to newer ones, and the tombstone keeps
//!    blocking stale writes.
//! 5. **Absence** ([`Ledger::complete_snapshot`], [`Ledger::observe_absent`]): a complete
//!    snapshot that no longer contains a held (entity, model) has no timestamps to offer; it is a
//!    tombstone ordered by position only (rule 3 with every version treated as tied). Later
//!    stream updates of the same or a later epoch, and later snapshot rows, replace it; anything
//!    observed before it is stale. A complete snapshot also sets the model's *floor*: an entity
//!    the ledger holds nothing for is treated as absent at that position, so a late row or
//!    update from before it cannot resurrect an entity the snapshot showed gone, and tombstones
//!    older than the floor can be pruned ([`Ledger::prune_tombstones`]).
//!
//! Caller contract: tag snapshot pages with the epoch of a subscription that is live and past
//! its handshake (after a stream ends, begin a new epoch before reading pages); call
//! `complete_snapshot` only after every row of a snapshot that covered the whole model (for the
//! synced filter) was observed. Torii orders pages by event id, so an entity updated while pages
//! are read can move to an already-read page and be missed: fetch such entities (those updated
//! by the live stream during paging) again by id before completing the snapshot.
//!
//! Together with the sync order (subscribe, wait for the handshake, page the snapshot, then apply
//! buffered updates) this converges to Torii's latest state, and an older version never replaces
//! a newer one where the versions differ; only same-second ties can regress transiently, and
//! the live stream then repairs them.

#[cfg(test)]
mod tests;

use std::cmp::Ordering;
use std::collections::hash_map::Entry;
use std::collections::HashMap;

use crate::entity::EntityId;
use crate::hasher::FastMap;
use crate::sync::Fingerprint;
use crate::sync_config::SyncConfig;
use crate::value::{Primitive, Struct};

/// Where an observation came from, and its position in that source's order.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Source {
    /// An update from a subscription stream: `epoch` from [`Ledger::begin_epoch`], `seq` its
    /// arrival index within that subscription (strictly increasing).
    Stream {
        /// The subscription's epoch.
        epoch: u32,
        /// Arrival index within the subscription.
        seq: u64,
    },
    /// A row of a snapshot (bootstrap or replay) page read while subscription `epoch` was live.
    Snapshot {
        /// Epoch of the live subscription when the page was read (0 when none was).
        epoch: u32,
        /// Page number, increasing with every page read within the epoch.
        page: u64,
    },
}

impl Source {
    /// The epoch this source belongs to.
    pub fn epoch(&self) -> u32 {
        match *self {
            Source::Stream { epoch, .. } | Source::Snapshot { epoch, .. } => epoch,
        }
    }
}

/// What a held version says about the model.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum StateKind {
    /// A model state was written.
    Write,
    /// The model was deleted (a versioned tombstone).
    Deleted,
    /// A complete snapshot no longer had it (a tombstone ordered by position only).
    Absent,
}

/// An incoming model state's version.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Observation {
    /// Where it came from.
    pub source: Source,
    /// Block timestamp of the change (Unix seconds).
    pub executed_at: u64,
    /// When Torii indexed it (Unix seconds).
    pub updated_at: u64,
    /// The configured version member's value, for writes of models that have one.
    pub game: Option<Primitive>,
    /// Whether the state is a deletion.
    pub deletion: bool,
}

impl Observation {
    /// A write with Torii's timestamps.
    pub fn write(source: Source, executed_at: u64, updated_at: u64) -> Self {
        Observation {
            source,
            executed_at,
            updated_at,
            game: None,
            deletion: false,
        }
    }

    /// A deletion with Torii's timestamps.
    pub fn deletion(source: Source, executed_at: u64, updated_at: u64) -> Self {
        Observation {
            deletion: true,
            ..Observation::write(source, executed_at, updated_at)
        }
    }

    /// The same observation carrying the game version member's value.
    pub fn with_game(self, game: Primitive) -> Self {
        Observation {
            game: Some(game),
            ..self
        }
    }
}

/// A held version.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Version {
    /// Where it came from.
    pub source: Source,
    /// Block timestamp (0 for [`StateKind::Absent`]).
    pub executed_at: u64,
    /// Indexing timestamp (0 for [`StateKind::Absent`]).
    pub updated_at: u64,
    /// Write, deletion or absence.
    pub state: StateKind,
    /// The game version member's value, for writes of models that have one.
    pub game: Option<Primitive>,
}

/// What the ledger decided about an observation.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Decision {
    /// Nothing was held for this (entity, model): apply.
    Inserted,
    /// Newer than the held version (or a later tie winner), which it supersedes: apply.
    Replaced,
    /// A later update of the same stream whose version is lower than the held one (delivered
    /// out of order, or a late duplicate): drop, counted apart from stale snapshot rows.
    Regressed,
    /// Older than the held version: drop.
    Stale,
    /// Same version as the held one, and the held one wins the tie: drop.
    TieLost,
    /// The same source position was already observed: drop.
    Duplicate,
}

impl Decision {
    /// Whether the caller must apply (write or delete) the observed state.
    pub fn applies(self) -> bool {
        matches!(self, Decision::Inserted | Decision::Replaced)
    }
}

/// Counts of every decision since the ledger was created, restored or its stats were reset.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct LedgerStats {
    /// [`Decision::Inserted`].
    pub inserted: u64,
    /// [`Decision::Replaced`].
    pub replaced: u64,
    /// [`Decision::Regressed`].
    pub regressed: u64,
    /// [`Decision::Stale`].
    pub stale: u64,
    /// [`Decision::TieLost`].
    pub tie_lost: u64,
    /// [`Decision::Duplicate`].
    pub duplicate: u64,
    /// Writes of a model with a configured version member that lacked it (or had a
    /// non-primitive there); they were versioned by timestamps only.
    pub missing_version_member: u64,
}

impl LedgerStats {
    /// Observations that must be applied: inserted + replaced.
    pub fn applied(&self) -> u64 {
        self.inserted + self.replaced
    }

    /// Held versions superseded by an applied observation: replaced.
    pub fn superseded(&self) -> u64 {
        self.replaced
    }

    /// Observations dropped: stale + regressed + tie lost + duplicate.
    pub fn stale_dropped(&self) -> u64 {
        self.stale + self.regressed + self.tie_lost + self.duplicate
    }

    fn count(&mut self, decision: Decision) {
        let counter = match decision {
            Decision::Inserted => &mut self.inserted,
            Decision::Replaced => &mut self.replaced,
            Decision::Regressed => &mut self.regressed,
            Decision::Stale => &mut self.stale,
            Decision::TieLost => &mut self.tie_lost,
            Decision::Duplicate => &mut self.duplicate,
        };
        *counter += 1;
    }
}

/// A model's handle inside one ledger (cheaper than looking its tag up on every call).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ModelId(u32);

const STATE_MASK: u8 = 0b11;
const SNAPSHOT_BIT: u8 = 0b100;
/// In a table's entry: it has a version (a stamp made by [`Stamp::new`] has it).
const VERSION_BIT: u8 = 0b1000;
/// In a table's entry: it holds a fingerprint.
const HELD_BIT: u8 = 0b1_0000;

/// The packed held version (32 bytes); the game value lives in a side table.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Stamp {
    executed_at: u64,
    updated_at: u64,
    order: u64,
    epoch: u32,
    flags: u8,
}

impl Stamp {
    fn new(source: Source, executed_at: u64, updated_at: u64, state: StateKind) -> Stamp {
        let (order, epoch, snapshot) = match source {
            Source::Stream { epoch, seq } => (seq, epoch, 0),
            Source::Snapshot { epoch, page } => (page, epoch, SNAPSHOT_BIT),
        };
        let state = match state {
            StateKind::Write => 0,
            StateKind::Deleted => 1,
            StateKind::Absent => 2,
        };
        Stamp {
            executed_at,
            updated_at,
            order,
            epoch,
            flags: state | snapshot | VERSION_BIT,
        }
    }

    fn state(&self) -> StateKind {
        match self.flags & STATE_MASK {
            0 => StateKind::Write,
            1 => StateKind::Deleted,
            _ => StateKind::Absent,
        }
    }

    fn is_snapshot(&self) -> bool {
        self.flags & SNAPSHOT_BIT != 0
    }

    fn source(&self) -> Source {
        if self.is_snapshot() {
            Source::Snapshot {
                epoch: self.epoch,
                page: self.order,
            }
        } else {
            Source::Stream {
                epoch: self.epoch,
                seq: self.order,
            }
        }
    }

    /// Whether `self` is known to be observed later than `other` from positions alone (rule 3).
    fn read_after(&self, other: &Stamp) -> bool {
        match (self.is_snapshot(), other.is_snapshot()) {
            (false, false) => (self.epoch, self.order) > (other.epoch, other.order),
            (false, true) => self.epoch >= other.epoch,
            (true, false) => self.epoch > other.epoch,
            (true, true) => (self.epoch, self.order) > (other.epoch, other.order),
        }
    }

    fn same_position(&self, other: &Stamp) -> bool {
        self.is_snapshot() == other.is_snapshot()
            && self.epoch == other.epoch
            && self.order == other.order
    }
}

/// Compares two versions: the game member first when both have comparable, differing values,
/// then `(executed_at, updated_at)`.
fn version_cmp(
    a: &Stamp,
    a_game: Option<&Primitive>,
    b: &Stamp,
    b_game: Option<&Primitive>,
) -> Ordering {
    if let (Some(x), Some(y)) = (a_game, b_game) {
        match x.compare(y) {
            Some(Ordering::Equal) | None => {}
            Some(order) => return order,
        }
    }
    (a.executed_at, a.updated_at).cmp(&(b.executed_at, b.updated_at))
}

/// The ledger's rule (see the module documentation) for `incoming` against `held`.
pub(crate) fn decide(
    held: &Stamp,
    held_game: Option<&Primitive>,
    incoming: &Stamp,
    incoming_game: Option<&Primitive>,
) -> Decision {
    let by_position = |lost: Decision| {
        if incoming.read_after(held) {
            Decision::Replaced
        } else if incoming.same_position(held) {
            Decision::Duplicate
        } else {
            lost
        }
    };
    if incoming.state() == StateKind::Absent {
        return by_position(Decision::TieLost);
    }
    if held.state() == StateKind::Absent {
        return by_position(Decision::Stale);
    }
    if !incoming.is_snapshot() && !held.is_snapshot() && incoming.epoch == held.epoch {
        return if incoming.order > held.order {
            if version_cmp(incoming, incoming_game, held, held_game) == Ordering::Less {
                Decision::Regressed
            } else {
                Decision::Replaced
            }
        } else {
            Decision::Duplicate
        };
    }
    match version_cmp(incoming, incoming_game, held, held_game) {
        Ordering::Greater => Decision::Replaced,
        Ordering::Less => Decision::Stale,
        Ordering::Equal => by_position(Decision::TieLost),
    }
}

/// What a table holds of one entity: its version, when it has one, and the fingerprint of the
/// model state the synchronizer stores for it (its mirror's), when it stores one: one key for
/// both. 48 bytes; the flags of the stamp say which of the two are there.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Held {
    stamp: Stamp,
    fingerprint: Fingerprint,
}

impl Held {
    const EMPTY: Held = Held {
        stamp: Stamp {
            executed_at: 0,
            updated_at: 0,
            order: 0,
            epoch: 0,
            flags: 0,
        },
        fingerprint: Fingerprint::UNDECODABLE,
    };

    fn version(&self) -> Option<&Stamp> {
        (self.stamp.flags & VERSION_BIT != 0).then_some(&self.stamp)
    }

    fn fingerprint(&self) -> Option<Fingerprint> {
        (self.stamp.flags & HELD_BIT != 0).then_some(self.fingerprint)
    }

    /// Sets the version, keeping the fingerprint.
    fn set_version(&mut self, stamp: Stamp) {
        let held = self.stamp.flags & HELD_BIT;
        self.stamp = stamp;
        self.stamp.flags |= held;
    }

    fn clear_version(&mut self) {
        self.stamp.flags &= !VERSION_BIT;
    }

    fn is_empty(&self) -> bool {
        self.stamp.flags & (VERSION_BIT | HELD_BIT) == 0
    }
}

/// One model's held versions (and held fingerprints, see [`Held`]).
#[derive(Debug, Clone, Default)]
pub(crate) struct ModelTable {
    pub(crate) tag: String,
    pub(crate) version_member: Option<String>,
    entries: FastMap<EntityId, Held>,
    /// Entries with a version.
    versions: usize,
    /// Entries with a fingerprint.
    held: usize,
    pub(crate) games: FastMap<EntityId, Primitive>,
    /// Position of the latest complete snapshot: entities not held are absent as of it.
    pub(crate) floor: Option<Stamp>,
}

/// The version ledger (see the module documentation for the rules).
#[derive(Debug, Clone)]
pub struct Ledger {
    tables: Vec<ModelTable>,
    by_tag: HashMap<String, ModelId>,
    next_epoch: u32,
    stats: LedgerStats,
}

impl Default for Ledger {
    fn default() -> Self {
        Ledger::new()
    }
}

impl Ledger {
    /// An empty ledger with no version members configured.
    pub fn new() -> Ledger {
        Ledger {
            tables: Vec::new(),
            by_tag: HashMap::new(),
            next_epoch: 1,
            stats: LedgerStats::default(),
        }
    }

    /// An empty ledger with the configuration's models and version members.
    pub fn from_config(config: &SyncConfig) -> Ledger {
        let mut ledger = Ledger::new();
        ledger.apply_config(config);
        ledger
    }

    /// Sets every configured model's version member (see [`Ledger::set_version_member`]).
    pub fn apply_config(&mut self, config: &SyncConfig) {
        for model in config.models() {
            let member = model.version_member.as_ref().map(|(name, _)| name.as_str());
            self.set_version_member(&model.tag, member);
        }
    }

    /// Sets (or clears) the game version member of a model. Changing it forgets the game values
    /// held for that model (they measured something else); timestamps are kept.
    pub fn set_version_member(&mut self, tag: &str, member: Option<&str>) -> ModelId {
        let id = self.model_id(tag);
        if let Some(table) = self.tables.get_mut(id.0 as usize) {
            if table.version_member.as_deref() != member {
                table.version_member = member.map(str::to_owned);
                table.games.clear();
            }
        }
        id
    }

    /// The handle of a model, registering it when new.
    pub fn model_id(&mut self, tag: &str) -> ModelId {
        if let Some(id) = self.by_tag.get(tag) {
            return *id;
        }
        let id = ModelId(self.tables.len() as u32);
        self.tables.push(ModelTable {
            tag: tag.to_owned(),
            ..ModelTable::default()
        });
        self.by_tag.insert(tag.to_owned(), id);
        id
    }

    /// The handle of a registered model.
    pub fn find_model(&self, tag: &str) -> Option<ModelId> {
        self.by_tag.get(tag).copied()
    }

    /// The tag of a model handle.
    pub fn model_tag(&self, model: ModelId) -> Option<&str> {
        self.tables.get(model.0 as usize).map(|t| t.tag.as_str())
    }

    /// The version member configured for a model.
    pub fn version_member(&self, model: ModelId) -> Option<&str> {
        self.tables.get(model.0 as usize)?.version_member.as_deref()
    }

    /// Starts a new subscription epoch: higher than every epoch this ledger (or the ledger it was
    /// restored from) has seen.
    pub fn begin_epoch(&mut self) -> u32 {
        let epoch = self.next_epoch;
        self.next_epoch = self.next_epoch.saturating_add(1);
        epoch
    }

    /// The most recent epoch handed out or observed (0 if none).
    pub fn current_epoch(&self) -> u32 {
        self.next_epoch.saturating_sub(1)
    }

    /// Decides on an observation of `(entity, model)`, records it when it applies, and counts
    /// the decision. A handle from another ledger is ignored and reported as stale.
    pub fn observe(&mut self, entity: &EntityId, model: ModelId, obs: &Observation) -> Decision {
        let state = if obs.deletion {
            StateKind::Deleted
        } else {
            StateKind::Write
        };
        let game = if obs.deletion { None } else { obs.game };
        let stamp = Stamp::new(obs.source, obs.executed_at, obs.updated_at, state);
        self.record(entity, model, stamp, game)
    }

    /// Like [`Ledger::observe`] for a model state as received: the tag is the state's name, an
    /// empty state is a deletion, and the configured version member is read from the state.
    pub fn observe_state(
        &mut self,
        entity: &EntityId,
        state: &Struct,
        source: Source,
        executed_at: u64,
        updated_at: u64,
    ) -> Decision {
        let model = self.model_id(&state.name);
        let mut obs = if state.is_deletion() {
            Observation::deletion(source, executed_at, updated_at)
        } else {
            Observation::write(source, executed_at, updated_at)
        };
        if !obs.deletion {
            if let Some(member) = self.version_member(model) {
                obs.game = state
                    .member(member)
                    .and_then(|m| m.value.as_primitive())
                    .copied();
                if obs.game.is_none() {
                    self.stats.missing_version_member += 1;
                }
            }
        }
        self.observe(entity, model, &obs)
    }

    /// Decides between two updates of one (entity, model) from the same stream that are both
    /// still buffered, before either reached the ledger: whether `incoming` (arrived later)
    /// replaces `pending`. It does unless its version is lower (delivered out of order), which
    /// is counted as [`Decision::Regressed`]. Each argument is `(state, executed_at, updated_at)`.
    pub fn supersedes_pending(
        &mut self,
        pending: (&Struct, u64, u64),
        incoming: (&Struct, u64, u64),
    ) -> bool {
        let model = self.model_id(&incoming.0.name);
        let member = self.version_member(model);
        let game = |state: &Struct| {
            if state.is_deletion() {
                return None;
            }
            member
                .and_then(|m| state.member(m))
                .and_then(|m| m.value.as_primitive())
                .copied()
        };
        let stamp = |(state, executed_at, updated_at): (&Struct, u64, u64)| {
            let kind = if state.is_deletion() {
                StateKind::Deleted
            } else {
                StateKind::Write
            };
            Stamp::new(
                Source::Stream { epoch: 0, seq: 0 },
                executed_at,
                updated_at,
                kind,
            )
        };
        let order = version_cmp(
            &stamp(incoming),
            game(incoming.0).as_ref(),
            &stamp(pending),
            game(pending.0).as_ref(),
        );
        if order == Ordering::Less {
            self.stats.count(Decision::Regressed);
            return false;
        }
        true
    }

    /// Records that a complete snapshot page read at `(epoch, page)` did not contain a held
    /// `(entity, model)` (rule 5). When it applies, the caller deletes the model locally.
    pub fn observe_absent(
        &mut self,
        entity: &EntityId,
        model: ModelId,
        epoch: u32,
        page: u64,
    ) -> Decision {
        let stamp = Stamp::new(Source::Snapshot { epoch, page }, 0, 0, StateKind::Absent);
        self.record(entity, model, stamp, None)
    }

    /// Records that a snapshot covering the whole model was read completely, its last page being
    /// `(epoch, page)`, and that `seen` entities were in it (call after observing all its rows).
    /// Every held entity not seen is observed absent (rule 5), and the model's floor moves to
    /// this position. Returns the entities whose write the absence replaced: delete their model
    /// state locally.
    pub fn complete_snapshot(
        &mut self,
        model: ModelId,
        epoch: u32,
        page: u64,
        mut seen: impl FnMut(&EntityId) -> bool,
    ) -> Vec<EntityId> {
        let stamp = Stamp::new(Source::Snapshot { epoch, page }, 0, 0, StateKind::Absent);
        self.next_epoch = self.next_epoch.max(epoch.saturating_add(1));
        let Some(table) = self.tables.get_mut(model.0 as usize) else {
            return Vec::new();
        };
        table.floor = match table.floor {
            Some(floor) if !stamp.read_after(&floor) => Some(floor),
            _ => Some(stamp),
        };
        let unseen: Vec<(EntityId, bool)> = table
            .entries
            .iter()
            .filter_map(|(entity, entry)| Some((entity, entry.version()?)))
            .filter(|(entity, _)| !seen(entity))
            .map(|(entity, held)| (*entity, held.state() == StateKind::Write))
            .collect();
        let mut deleted = Vec::new();
        for (entity, was_write) in unseen {
            if self.record(&entity, model, stamp, None).applies() && was_write {
                deleted.push(entity);
            }
        }
        deleted
    }

    /// Forgets the tombstones (deletions and absences) of a model observed at or before its
    /// floor: the floor blocks stale copies of them just as well. Returns how many.
    pub fn prune_tombstones(&mut self, model: ModelId) -> usize {
        let Some(table) = self.tables.get_mut(model.0 as usize) else {
            return 0;
        };
        let Some(floor) = table.floor else {
            return 0;
        };
        let mut pruned = 0;
        table.entries.retain(|_, entry| {
            let Some(held) = entry.version() else {
                return true;
            };
            if held.state() == StateKind::Write
                || !(floor.read_after(held) || floor.same_position(held))
            {
                return true;
            }
            entry.clear_version();
            pruned += 1;
            !entry.is_empty()
        });
        table.versions -= pruned;
        pruned
    }

    fn record(
        &mut self,
        entity: &EntityId,
        model: ModelId,
        stamp: Stamp,
        game: Option<Primitive>,
    ) -> Decision {
        self.next_epoch = self.next_epoch.max(stamp.epoch.saturating_add(1));
        let Some(table) = self.tables.get_mut(model.0 as usize) else {
            self.stats.count(Decision::Stale);
            return Decision::Stale;
        };
        let ModelTable {
            entries,
            versions,
            games,
            floor,
            ..
        } = table;
        let first = |floor: &Option<Stamp>| match floor {
            Some(floor) => match decide(floor, None, &stamp, game.as_ref()) {
                Decision::Replaced => Decision::Inserted,
                other => other,
            },
            None => Decision::Inserted,
        };
        let decision = match entries.entry(*entity) {
            Entry::Vacant(slot) => {
                let decision = first(floor);
                if decision.applies() {
                    slot.insert(Held::EMPTY).set_version(stamp);
                    *versions += 1;
                }
                decision
            }
            Entry::Occupied(mut slot) => match slot.get().version().copied() {
                None => {
                    let decision = first(floor);
                    if decision.applies() {
                        slot.get_mut().set_version(stamp);
                        *versions += 1;
                    }
                    decision
                }
                Some(held) => {
                    let held_game = if games.is_empty() {
                        None
                    } else {
                        games.get(entity)
                    };
                    let decision = decide(&held, held_game, &stamp, game.as_ref());
                    if decision.applies() {
                        slot.get_mut().set_version(stamp);
                        if game.is_none() && held_game.is_some() {
                            games.remove(entity);
                        }
                    }
                    decision
                }
            },
        };
        if decision.applies() {
            if let Some(game) = game {
                games.insert(*entity, game);
            }
        }
        self.stats.count(decision);
        decision
    }

    /// The version held for `(entity, model)`.
    pub fn get(&self, entity: &EntityId, model: ModelId) -> Option<Version> {
        let table = self.tables.get(model.0 as usize)?;
        let stamp = table.entries.get(entity)?.version()?;
        Some(Version {
            source: stamp.source(),
            executed_at: stamp.executed_at,
            updated_at: stamp.updated_at,
            state: stamp.state(),
            game: table.games.get(entity).copied(),
        })
    }

    /// Puts a version back (e.g. read from storage next to the entity), replacing what is held.
    pub fn restore(&mut self, entity: &EntityId, model: ModelId, version: &Version) {
        self.next_epoch = self
            .next_epoch
            .max(version.source.epoch().saturating_add(1));
        let Some(table) = self.tables.get_mut(model.0 as usize) else {
            return;
        };
        let stamp = Stamp::new(
            version.source,
            version.executed_at,
            version.updated_at,
            version.state,
        );
        let entry = table.entries.entry(*entity).or_insert(Held::EMPTY);
        if entry.version().is_none() {
            table.versions += 1;
        }
        entry.set_version(stamp);
        match version.game {
            Some(game) if version.state == StateKind::Write => {
                table.games.insert(*entity, game);
            }
            _ => {
                table.games.remove(entity);
            }
        }
    }

    /// Forgets `(entity, model)` (e.g. a tombstone old enough that no stale copy can arrive).
    pub fn remove(&mut self, entity: &EntityId, model: ModelId) -> Option<Version> {
        let version = self.get(entity, model)?;
        if let Some(table) = self.tables.get_mut(model.0 as usize) {
            if let Entry::Occupied(mut entry) = table.entries.entry(*entity) {
                entry.get_mut().clear_version();
                table.versions -= 1;
                if entry.get().is_empty() {
                    entry.remove();
                }
            }
            table.games.remove(entity);
        }
        Some(version)
    }

    /// Entities with a held version (write or tombstone) of a model, in no particular order.
    pub fn entities(&self, model: ModelId) -> impl Iterator<Item = &EntityId> + '_ {
        self.tables
            .get(model.0 as usize)
            .into_iter()
            .flat_map(|t| t.entries.iter())
            .filter(|(_, entry)| entry.version().is_some())
            .map(|(entity, _)| entity)
    }

    /// Number of held (entity, model) versions, tombstones included.
    pub fn len(&self) -> usize {
        self.tables.iter().map(|t| t.versions).sum()
    }

    /// The fingerprint held for `(entity, model)` (the synchronizer's mirror keeps the
    /// fingerprint of each stored state here, under the key of its version).
    pub(crate) fn held(&self, entity: &EntityId, model: ModelId) -> Option<Fingerprint> {
        self.tables
            .get(model.0 as usize)?
            .entries
            .get(entity)?
            .fingerprint()
    }

    /// Holds `fingerprint` for `(entity, model)`; returns the one it replaces. A handle from
    /// another ledger holds nothing.
    pub(crate) fn hold(
        &mut self,
        entity: &EntityId,
        model: ModelId,
        fingerprint: Fingerprint,
    ) -> Option<Fingerprint> {
        let table = self.tables.get_mut(model.0 as usize)?;
        let entry = table.entries.entry(*entity).or_insert(Held::EMPTY);
        let before = entry.fingerprint();
        if before.is_none() {
            table.held += 1;
        }
        entry.fingerprint = fingerprint;
        entry.stamp.flags |= HELD_BIT;
        before
    }

    /// Forgets the fingerprint held for `(entity, model)`; returns it.
    pub(crate) fn unhold(&mut self, entity: &EntityId, model: ModelId) -> Option<Fingerprint> {
        let table = self.tables.get_mut(model.0 as usize)?;
        let Entry::Occupied(mut entry) = table.entries.entry(*entity) else {
            return None;
        };
        let before = entry.get().fingerprint()?;
        entry.get_mut().stamp.flags &= !HELD_BIT;
        table.held -= 1;
        if entry.get().is_empty() {
            entry.remove();
        }
        Some(before)
    }

    /// Every (entity, model) with a held fingerprint, in no particular order.
    pub(crate) fn held_keys(&self) -> impl Iterator<Item = (EntityId, ModelId)> + '_ {
        self.tables.iter().enumerate().flat_map(|(model, table)| {
            table
                .entries
                .iter()
                .filter(|(_, entry)| entry.fingerprint().is_some())
                .map(move |(entity, _)| (*entity, ModelId(model as u32)))
        })
    }

    /// Number of held fingerprints.
    pub(crate) fn held_count(&self) -> usize {
        self.tables.iter().map(|t| t.held).sum()
    }

    /// Whether nothing is held.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Decision counts.
    pub fn stats(&self) -> &LedgerStats {
        &self.stats
    }

    /// Zeroes the decision counts.
    pub fn reset_stats(&mut self) {
        self.stats = LedgerStats::default();
    }
}
