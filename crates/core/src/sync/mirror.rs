//! The synchronizer's in-memory account of what it stored: the version ledger and, for every
//! stored model state, only what tells an incoming state apart from it (a [`Fingerprint`]), changed only through ledger decisions, with an undo log so that a storage batch
//! that fails leaves memory exactly as storage is. The states themselves live in storage and in
//! the view; a batch carries the ones it changed until it is committed.

use std::collections::HashSet;

use super::fingerprint::{Fingerprint, Fingerprinter};
use super::storage::{
    LedgerEntry, ModelKey, ModelRecord, StoredTarget, StoredWrite, SyncBatch, TargetSyncState,
};
use super::stored::StoredRecord;
use super::target::{SyncTarget, TargetKind};
use crate::bytes32::Felt;
use crate::entity::{Entity, EntityId};
use crate::hasher::{FastHashBuilder, FastMap};
use crate::ledger::{Decision, Ledger, ModelId, Source, StateKind, Version};
use crate::sync_config::SyncConfig;
use crate::value::Struct;

/// A set of entity ids.
pub(crate) type EntitySet = HashSet<EntityId, FastHashBuilder>;

/// What a snapshot pass has shown.
#[derive(Debug, Default)]
pub(crate) struct Seen {
    /// Entities with a row.
    pub entities: EntitySet,
    /// (entity, model) states the rows carried.
    pub models: HashSet<(EntityId, ModelId), FastHashBuilder>,
    /// Entities whose row was rejected: their content is unknown, nothing of them is absent.
    pub opaque: EntitySet,
}

impl Seen {
    fn has(&self, entity: &EntityId, model: ModelId) -> bool {
        self.models.contains(&(*entity, model)) || self.opaque.contains(entity)
    }
}

/// Torii's metadata of one incoming row or update.
#[derive(Debug, Clone, Copy)]
pub(crate) struct RowMeta {
    pub id: EntityId,
    pub world_address: Felt,
    pub created_at: u64,
    pub updated_at: u64,
    pub executed_at: u64,
}

impl RowMeta {
    pub(crate) fn of(entity: &Entity) -> Self {
        RowMeta {
            id: entity.id,
            world_address: entity.world_address,
            created_at: entity.created_at,
            updated_at: entity.updated_at,
            executed_at: entity.executed_at,
        }
    }
}

/// What one (entity, model) looked like before the batch under construction changed it.
#[derive(Debug, Clone)]
pub(crate) struct UndoEntry {
    entity: EntityId,
    model: ModelId,
    version: Option<Version>,
    held: Option<Fingerprint>,
}

/// Changes applied in memory and not yet committed: each changed (entity, model) in the order
/// it first changed, the state it has now (`None`: deleted), and what it was before.
#[derive(Debug, Default)]
pub(crate) struct Pending {
    order: Vec<(EntityId, ModelId)>,
    states: FastMap<(EntityId, ModelId), Option<ModelRecord>>,
    undo: Vec<UndoEntry>,
}

impl Pending {
    /// Whether nothing changed.
    pub(crate) fn is_empty(&self) -> bool {
        self.order.is_empty()
    }

    /// What undoes these changes in memory, for changes that are not committed after all.
    pub(crate) fn into_undo(self) -> Undo {
        Undo(self.undo)
    }
}

/// The undo log of a batch handed to storage.
#[derive(Debug, Default)]
pub(crate) struct Undo(Vec<UndoEntry>);

/// How seeding from storage went.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(crate) struct SeedReport {
    /// Versions restored.
    pub restored: usize,
    /// Model states stored without a version (given one from their timestamps).
    pub unversioned: usize,
    /// Write versions without a stored state (forgotten; the replay reads them again).
    pub orphaned: usize,
}

/// Ledger + what tells stored states apart (see the module documentation); the main thread's
/// copy of synced states is another thing, `dojo_reactive_view::replica::Replica`.
#[derive(Debug)]
pub(crate) struct StoreMirror {
    /// The versions and, under the same keys, every stored model state as its fingerprint
    /// ([`Ledger::held`]).
    pub ledger: Ledger,
    fingerprints: Fingerprinter,
    models: Vec<(ModelId, String)>,
    /// Snapshot rows identical to what is held.
    pub unchanged: u64,
    /// Model states deleted by absence from a complete snapshot.
    pub absent_deleted: u64,
    /// While seeding: what it did so far.
    seeding: Seeding,
}

/// What a seed keeps until it ends ([`StoreMirror::finish_seed`]).
#[derive(Debug, Default)]
struct Seeding {
    report: SeedReport,
    /// Held states versioned by their own timestamps (no write version seen for them yet).
    unversioned: HashSet<(EntityId, ModelId), FastHashBuilder>,
    /// Held states whose write version a later version took away, with that write version's
    /// timestamps (a state's, as the synchronizer writes them), in order: versioned by the
    /// last ones when the seed ends if nothing versioned them since.
    unversioned_later: Vec<((EntityId, ModelId), (u64, u64))>,
}

impl StoreMirror {
    pub(crate) fn new(config: &SyncConfig) -> Self {
        let mut mirror = StoreMirror {
            ledger: Ledger::from_config(config),
            fingerprints: Fingerprinter::default(),
            models: Vec::new(),
            unchanged: 0,
            absent_deleted: 0,
            seeding: Seeding::default(),
        };
        for model in config.models() {
            mirror.model_id(&model.tag);
        }
        mirror
    }

    /// The ledger handle of a model, registering it.
    pub(crate) fn model_id(&mut self, tag: &str) -> ModelId {
        if let Some(id) = self.ledger.find_model(tag) {
            if self.models.iter().any(|(m, _)| *m == id) {
                return id;
            }
        }
        let id = self.ledger.model_id(tag);
        self.models.push((id, tag.to_owned()));
        id
    }

    /// The fingerprint function of this mirror: [`Self::seed_write`] takes stored states
    /// fingerprinted by it (or encoded).
    pub(crate) fn fingerprinter(&self) -> &Fingerprinter {
        &self.fingerprints
    }

    /// Tags of every model seen or configured.
    pub(crate) fn model_tags(&self) -> impl Iterator<Item = &str> {
        self.models.iter().map(|(_, tag)| tag.as_str())
    }

    /// The fingerprint of what is stored of (entity, model); `None` when nothing is stored, or
    /// when the stored state cannot be decoded (then nothing equals it).
    fn held_fingerprint(&self, entity: &EntityId, model: ModelId) -> Option<Fingerprint> {
        self.ledger
            .held(entity, model)
            .filter(|held| *held != Fingerprint::UNDECODABLE)
    }

    /// Whether (entity, model) is stored as `state` with these timestamps.
    fn holds(
        &self,
        entity: &EntityId,
        model: ModelId,
        state: &Struct,
        executed_at: u64,
        updated_at: u64,
    ) -> bool {
        self.held_fingerprint(entity, model)
            .is_some_and(|held| held == self.fingerprints.of(state, executed_at, updated_at))
    }

    /// Whether `record` is what is stored of its (entity, model).
    pub(crate) fn holds_record(&self, record: &ModelRecord) -> bool {
        self.ledger
            .find_model(record.model())
            .and_then(|model| self.held_fingerprint(&record.entity, model))
            == Some(self.fingerprints.of_record(record))
    }

    /// Whether a state of (entity, model) is stored.
    pub(crate) fn is_held(&self, entity: &EntityId, model: ModelId) -> bool {
        self.ledger.held(entity, model).is_some()
    }

    /// How many model states are stored.
    pub(crate) fn held_states(&self) -> usize {
        self.ledger.held_count()
    }

    /// Whether a snapshot row would change nothing: every model state of `row` that
    /// `includes` accepts is held as it is, and no other accepted model of the entity is held.
    pub(crate) fn holds_row(&self, row: &Entity, includes: impl Fn(&str) -> bool) -> bool {
        let shown = |tag: &str| row.models.iter().any(|state| &*state.name == tag);
        for state in row.models.iter().filter(|state| includes(&state.name)) {
            let Some(model) = self.ledger.find_model(&state.name) else {
                return false;
            };
            if !self.holds(&row.id, model, state, row.executed_at, row.updated_at) {
                return false;
            }
        }
        self.models
            .iter()
            .filter(|(_, tag)| includes(tag) && !shown(tag))
            .all(|(model, _)| !self.is_held(&row.id, *model))
    }

    /// Restores what storage holds: its ledger entries, and a fingerprint of each of its model
    /// states (made by storage as it read them, with [`Self::fingerprinter`], or decoded here one
    /// at a time and dropped, with the last state of a segment the segment). Inconsistent
    /// leftovers are repaired so that memory and storage agree on every (entity, model) the
    /// next replay may touch. [`Self::seed_write`] each, then [`Self::finish_seed`].
    #[cfg(test)]
    pub(crate) fn seed(&mut self, ledger: &[LedgerEntry], models: Vec<StoredRecord>) -> SeedReport {
        for entry in ledger {
            self.seed_write(StoredWrite::Version(entry.clone()));
        }
        for record in models {
            self.seed_write(StoredWrite::State(record));
        }
        self.finish_seed()
    }

    /// Restores one stored write, in the order storage stored them (a later write supersedes
    /// an earlier one; an (entity, model)'s version comes before its state when one record
    /// holds both): what a start-up does as storage reads them ([`Self::seed`] for a whole
    /// load). A state without a write version is versioned by its own timestamps, as a row of
    /// the oldest possible snapshot.
    pub(crate) fn seed_write(&mut self, write: StoredWrite) {
        match write {
            StoredWrite::Version(entry) => {
                let model = self.model_id(&entry.model);
                let key = (entry.entity, model);
                if entry.version.state != StateKind::Write {
                    self.unversioning(key);
                }
                self.ledger.restore(&entry.entity, model, &entry.version);
                self.seeding.report.restored += 1;
                self.seeding.unversioned.remove(&key);
            }
            StoredWrite::VersionCleared(key) => {
                let model = self.model_id(&key.model);
                let key = (key.entity, model);
                self.unversioning(key);
                self.ledger.remove(&key.0, model);
                self.seeding.unversioned.remove(&key);
            }
            StoredWrite::State(record) => {
                if record.is_deletion() {
                    return;
                }
                let model = self.model_id(record.model());
                let key = (*record.entity(), model);
                if !self.versioned(&key) || self.seeding.unversioned.contains(&key) {
                    let at = unversioned(record.executed_at(), record.updated_at());
                    self.ledger.restore(&key.0, model, &at);
                    self.seeding.unversioned.insert(key);
                }
                let fingerprint = record.fingerprint(&self.fingerprints);
                self.ledger.hold(&key.0, model, fingerprint);
            }
            StoredWrite::StateDeleted(key) => {
                let model = self.model_id(&key.model);
                let key = (key.entity, model);
                self.ledger.unhold(&key.0, model);
                // The version its timestamps gave it goes with it.
                if self.seeding.unversioned.remove(&key) {
                    self.ledger.remove(&key.0, model);
                }
            }
        }
    }

    /// Before a version that is not a write replaces `key`'s (or none does): notes a held
    /// state's write version's timestamps.
    fn unversioning(&mut self, key: (EntityId, ModelId)) {
        if !self.is_held(&key.0, key.1) {
            return;
        }
        if let Some(v) = self.ledger.get(&key.0, key.1) {
            if v.state == StateKind::Write {
                let at = (v.executed_at, v.updated_at);
                self.seeding.unversioned_later.push((key, at));
            }
        }
    }

    fn versioned(&self, (entity, model): &(EntityId, ModelId)) -> bool {
        matches!(self.ledger.get(entity, *model), Some(v) if v.state == StateKind::Write)
    }

    /// Ends a seed: a held state whose write version a later version took away is versioned
    /// by that write version's timestamps (every held state had one: its own, or one made of
    /// its timestamps when it came), and write versions without a held state are forgotten.
    pub(crate) fn finish_seed(&mut self) -> SeedReport {
        let seeding = std::mem::take(&mut self.seeding);
        let mut report = seeding.report;
        report.unversioned = seeding
            .unversioned
            .iter()
            .filter(|key| self.is_held(&key.0, key.1))
            .count();
        // The last first: once versioned, a key's earlier entries are passed over.
        for (key, (executed_at, updated_at)) in seeding.unversioned_later.into_iter().rev() {
            if self.is_held(&key.0, key.1) && !self.versioned(&key) {
                self.ledger
                    .restore(&key.0, key.1, &unversioned(executed_at, updated_at));
                report.unversioned += 1;
            }
        }
        let orphans: Vec<(EntityId, ModelId)> = self
            .models
            .iter()
            .flat_map(|(model, _)| {
                self.ledger
                    .entities(*model)
                    .map(move |entity| (*entity, *model))
            })
            .filter(|key| self.versioned(key) && !self.is_held(&key.0, key.1))
            .collect();
        for (entity, model) in orphans {
            self.ledger.remove(&entity, model);
            report.orphaned += 1;
        }
        self.ledger.reset_stats();
        report
    }

    /// Records that (entity, model) changes in this batch, with what it was before.
    fn note(
        pending: &mut Pending,
        entity: EntityId,
        model: ModelId,
        version: Option<Version>,
        held: Option<Fingerprint>,
    ) {
        if pending.states.contains_key(&(entity, model)) {
            return;
        }
        pending.states.insert((entity, model), None);
        pending.order.push((entity, model));
        pending.undo.push(UndoEntry {
            entity,
            model,
            version,
            held,
        });
    }

    /// Observes one model state of a row or update; applies it in memory when the ledger says
    /// so. Returns `None` when the state is identical to the one held (nothing to write).
    pub(crate) fn observe(
        &mut self,
        pending: &mut Pending,
        meta: &RowMeta,
        state: &Struct,
        source: Source,
    ) -> Option<Decision> {
        let model = self.model_id(&state.name);
        let fingerprint = self
            .fingerprints
            .of(state, meta.executed_at, meta.updated_at);
        if self.held_fingerprint(&meta.id, model) == Some(fingerprint) {
            self.unchanged += 1;
            return None;
        }
        let version_before = self.ledger.get(&meta.id, model);
        let decision =
            self.ledger
                .observe_state(&meta.id, state, source, meta.executed_at, meta.updated_at);
        if decision.applies() {
            let key = (meta.id, model);
            let held_before = self.ledger.held(&key.0, model);
            Self::note(pending, meta.id, model, version_before, held_before);
            let now = if state.is_deletion() {
                self.ledger.unhold(&key.0, model);
                None
            } else {
                self.ledger.hold(&key.0, model, fingerprint);
                Some(ModelRecord {
                    entity: meta.id,
                    world_address: meta.world_address,
                    state: state.clone(),
                    created_at: meta.created_at,
                    updated_at: meta.updated_at,
                    executed_at: meta.executed_at,
                })
            };
            pending.states.insert(key, now);
        }
        Some(decision)
    }

    /// Completes a snapshot read at `(epoch, page)` that showed `seen`: every held model state
    /// it did not show becomes absent and is deleted (with `only_entities_seen`, only states of
    /// the entities it read). Returns how many states were deleted.
    pub(crate) fn complete_snapshot(
        &mut self,
        pending: &mut Pending,
        epoch: u32,
        page: u64,
        seen: &Seen,
        only_entities_seen: bool,
    ) -> u64 {
        let mut deleted = 0;
        let models: Vec<ModelId> = self.models.iter().map(|(m, _)| *m).collect();
        // Whether what is held of (entity, model) stands: the pass showed it, or (for a
        // partial pass) did not read the entity at all.
        let stands = |e: &EntityId, model: ModelId| {
            seen.has(e, model) || (only_entities_seen && !seen.entities.contains(e))
        };
        for model in models {
            let before: Vec<(EntityId, Option<Version>)> = self
                .ledger
                .entities(model)
                .filter(|e| !stands(e, model))
                .map(|e| (*e, self.ledger.get(e, model)))
                .collect();
            self.ledger
                .complete_snapshot(model, epoch, page, |e| stands(e, model));
            for (entity, version) in before {
                if self.ledger.get(&entity, model) == version {
                    continue;
                }
                let held = self.ledger.unhold(&entity, model);
                if held.is_some() {
                    deleted += 1;
                }
                Self::note(pending, entity, model, version, held);
                pending.states.insert((entity, model), None);
            }
        }
        self.absent_deleted += deleted;
        deleted
    }

    /// Whether some held (entity, model) is not in `seen` (a complete pass then deletes it
    /// unless something keeps it).
    pub(crate) fn holds_unseen(&self, seen: &Seen) -> bool {
        self.ledger
            .held_keys()
            .any(|key| !seen.models.contains(&key))
    }

    /// Every held (entity, model) that no scope of `target` covers, judged on `stored` (what
    /// storage holds of this kind, read for the purpose: the mirror keeps fingerprints, not
    /// states). A stored state that cannot be decoded is left alone. The states are decoded
    /// one entity at a time and not kept: judging a kind holds its encoded states, not them
    /// all decoded.
    pub(crate) fn uncovered(
        &self,
        target: &SyncTarget,
        stored: &StoredTarget,
    ) -> Vec<(EntityId, ModelId)> {
        let mut by_entity: FastMap<EntityId, Vec<(ModelId, &StoredRecord)>> = FastMap::default();
        for stored in &stored.models {
            let Some(model) = self.ledger.find_model(stored.model()) else {
                continue;
            };
            if self.is_held(stored.entity(), model) {
                by_entity
                    .entry(*stored.entity())
                    .or_default()
                    .push((model, stored));
            }
        }
        let mut uncovered = Vec::new();
        for (entity, held) in by_entity {
            let (models, states): (Vec<ModelId>, Vec<Struct>) = held
                .iter()
                .filter_map(|(model, stored)| Some((*model, stored.decode_once()?.state)))
                .unzip();
            for (model, state) in models.into_iter().zip(&states) {
                if !target.covers(&entity, &state.name, &states) {
                    uncovered.push((entity, model));
                }
            }
        }
        uncovered
    }

    /// The entities of which some model state is held, in ascending id order (the order
    /// compaction stores them in, so that a chunk of them is read from few segments).
    pub(crate) fn held_entities(&self) -> Vec<EntityId> {
        let mut entities: Vec<EntityId> =
            self.ledger.held_keys().map(|(entity, _)| entity).collect();
        entities.sort_unstable();
        entities.dedup();
        entities
    }

    /// Forgets every held (entity, model) no scope of `target` covers (judged on `stored`, see
    /// [`Self::uncovered`]): its state and its version go (a deletion in the batch), so it may
    /// come back with any later version.
    pub(crate) fn drop_uncovered(
        &mut self,
        pending: &mut Pending,
        target: &SyncTarget,
        stored: &StoredTarget,
    ) -> u64 {
        let uncovered = self.uncovered(target, stored);
        for (entity, model) in &uncovered {
            let version = self.ledger.remove(entity, *model);
            let held = self.ledger.unhold(entity, *model);
            Self::note(pending, *entity, *model, version, held);
        }
        uncovered.len() as u64
    }

    /// Turns the pending changes into a storage batch (the current state of every changed
    /// (entity, model)) and its undo log.
    pub(crate) fn finish(
        &self,
        mut pending: Pending,
        target: TargetKind,
        sync_state: Option<TargetSyncState>,
    ) -> (SyncBatch, Undo) {
        let mut batch = SyncBatch::new(target);
        batch.sync_state = sync_state;
        for (entity, model) in &pending.order {
            let tag = self.tag(*model);
            if let Some(version) = self.ledger.get(entity, *model) {
                batch.ledger.push(LedgerEntry {
                    entity: *entity,
                    model: tag.clone().into(),
                    version,
                });
            }
            match pending.states.remove(&(*entity, *model)).flatten() {
                Some(record) => batch.upserts.push(record),
                None => batch.deletions.push(ModelKey {
                    entity: *entity,
                    model: tag.into(),
                }),
            }
        }
        (batch, Undo(pending.undo))
    }

    /// Puts memory back as it was before a batch whose commit failed.
    pub(crate) fn rollback(&mut self, undo: Undo) {
        for entry in undo.0.into_iter().rev() {
            match entry.version {
                Some(version) => self.ledger.restore(&entry.entity, entry.model, &version),
                None => {
                    self.ledger.remove(&entry.entity, entry.model);
                }
            }
            match entry.held {
                Some(held) => {
                    self.ledger.hold(&entry.entity, entry.model, held);
                }
                None => {
                    self.ledger.unhold(&entry.entity, entry.model);
                }
            }
        }
    }

    fn tag(&self, model: ModelId) -> String {
        self.ledger.model_tag(model).unwrap_or_default().to_owned()
    }

    /// Every held ledger version, as storage should hold it.
    pub(crate) fn ledger_entries(&self) -> Vec<LedgerEntry> {
        let mut entries = Vec::with_capacity(self.ledger.len());
        for (model, tag) in &self.models {
            for entity in self.ledger.entities(*model) {
                if let Some(version) = self.ledger.get(entity, *model) {
                    entries.push(LedgerEntry {
                        entity: *entity,
                        model: tag.clone().into(),
                        version,
                    });
                }
            }
        }
        entries
    }
}

/// The version of a stored state that has none: its own timestamps, as a row of the oldest
/// possible snapshot.
fn unversioned(executed_at: u64, updated_at: u64) -> Version {
    Version {
        source: Source::Snapshot { epoch: 0, page: 0 },
        executed_at,
        updated_at,
        state: StateKind::Write,
        game: None,
    }
}

#[cfg(test)]
mod tests {
    use std::cell::Cell;
    use std::rc::Rc;

    use super::*;
    use crate::sync::stored::{EncodedRecord, RecordHead};
    use crate::value::{Member, Primitive, Value};

    /// An encoded record that counts its decodings (`None`: it cannot be decoded).
    #[derive(Debug)]
    struct Counted(Option<ModelRecord>, Rc<Cell<u32>>);

    impl EncodedRecord for Counted {
        fn decode(&self, _: &RecordHead) -> Result<ModelRecord, String> {
            self.1.set(self.1.get() + 1);
            self.0.clone().ok_or_else(|| "bad bytes".to_owned())
        }
    }

    fn record(n: u128, hp: u32) -> ModelRecord {
        ModelRecord {
            entity: Felt::from(n),
            world_address: Felt::ZERO,
            state: Struct {
                name: "ns-M".into(),
                members: vec![Member {
                    name: "hp".into(),
                    key: false,
                    value: Value::Primitive(Primitive::U32(hp)),
                }],
            },
            created_at: 1,
            updated_at: 10,
            executed_at: 10,
        }
    }

    /// `records` as a load hands them over (encoded), each decoding to `decoded(record)`.
    fn encoded(
        records: &[ModelRecord],
        decodes: &Rc<Cell<u32>>,
        decoded: impl Fn(&ModelRecord) -> Option<ModelRecord>,
    ) -> Vec<StoredRecord> {
        records
            .iter()
            .map(|r| {
                let head = RecordHead {
                    entity: r.entity,
                    model: r.state.name.clone(),
                    updated_at: r.updated_at,
                    executed_at: r.executed_at,
                };
                let source = Counted(decoded(r), Rc::clone(decodes));
                StoredRecord::encoded(head, Box::new(source))
            })
            .collect()
    }

    #[test]
    fn seeding_fingerprints_each_stored_state_once_and_keeps_none_of_them() {
        let decodes = Rc::new(Cell::new(0));
        let records: Vec<_> = (1..=3).map(|n| record(n, 5)).collect();
        let mut mirror = StoreMirror::new(&SyncConfig::default());
        let report = mirror.seed(&[], encoded(&records, &decodes, |r| Some(r.clone())));
        assert_eq!(
            report.unversioned, 3,
            "versioned by their heads' timestamps"
        );
        assert_eq!(
            decodes.get(),
            3,
            "each state decoded once, to fingerprint it"
        );
        assert_eq!(
            Rc::strong_count(&decodes),
            1,
            "no stored record (nor the segment it shares) outlives the seed"
        );

        // The same state again: nothing to write, and nothing decoded.
        let mut pending = Pending::default();
        let meta = RowMeta {
            id: Felt::from(1u128),
            world_address: Felt::ZERO,
            created_at: 1,
            updated_at: 10,
            executed_at: 10,
        };
        let source = Source::Stream { epoch: 1, seq: 1 };
        let same = mirror.observe(&mut pending, &meta, &records[0].state, source);
        assert!(same.is_none());
        assert_eq!((decodes.get(), mirror.unchanged), (3, 1));

        // A newer state of entity 2 replaces the one held; the batch carries the new state and
        // undoing it puts the old one back.
        let newer = RowMeta {
            id: Felt::from(2u128),
            updated_at: 11,
            executed_at: 11,
            ..meta
        };
        let state = record(2, 9).state;
        assert!(mirror
            .observe(&mut pending, &newer, &state, source)
            .is_some_and(|d| d.applies()));
        let (batch, undo) = mirror.finish(pending, TargetKind::Entities, None);
        assert_eq!(batch.upserts.len(), 1);
        assert_eq!(batch.upserts[0].state, state);
        assert!(mirror.holds_record(&batch.upserts[0]));
        mirror.rollback(undo);
        assert!(mirror.holds_record(&records[1]));
        assert!(!mirror.holds_record(&batch.upserts[0]));
        assert_eq!(mirror.held_states(), 3);
        assert!(mirror.holds_record(&records[2]));
        assert_eq!(decodes.get(), 3);
        let other = ModelRecord {
            updated_at: 12,
            ..records[2].clone()
        };
        assert!(!mirror.holds_record(&other), "the timestamps count");
    }

    #[test]
    fn a_stored_state_that_cannot_be_decoded_is_held_and_equals_nothing() {
        let decodes = Rc::new(Cell::new(0));
        let stored = record(1, 5);
        let mut mirror = StoreMirror::new(&SyncConfig::default());
        mirror.seed(
            &[],
            encoded(std::slice::from_ref(&stored), &decodes, |_| None),
        );
        assert_eq!(mirror.held_states(), 1);
        assert!(!mirror.holds_record(&stored));
        // A later state arriving is compared unequal and written over it.
        let mut pending = Pending::default();
        let meta = RowMeta {
            id: stored.entity,
            world_address: Felt::ZERO,
            created_at: 1,
            updated_at: 11,
            executed_at: 11,
        };
        let decision = mirror.observe(
            &mut pending,
            &meta,
            &stored.state,
            Source::Stream { epoch: 1, seq: 1 },
        );
        assert!(decision.is_some_and(|d| d.applies()));
        assert_eq!(pending.order.len(), 1);
        let written = ModelRecord {
            updated_at: 11,
            executed_at: 11,
            ..stored.clone()
        };
        assert!(mirror.holds_record(&written));
        assert!(!mirror.holds_row(
            &Entity {
                id: stored.entity,
                world_address: Felt::ZERO,
                models: vec![record(1, 6).state],
                created_at: 1,
                updated_at: 11,
                executed_at: 11,
            },
            |_| true
        ));
    }

    #[test]
    fn a_deleted_state_goes_in_the_batch_as_a_deletion_and_is_no_longer_held() {
        let mut mirror = StoreMirror::new(&SyncConfig::default());
        let mut pending = Pending::default();
        let written = record(1, 5);
        let meta = RowMeta::of(&Entity {
            id: written.entity,
            world_address: Felt::ZERO,
            models: Vec::new(),
            created_at: 1,
            updated_at: 10,
            executed_at: 10,
        });
        let source = |seq| Source::Stream { epoch: 1, seq };
        mirror.observe(&mut pending, &meta, &written.state, source(1));
        let deletion = Struct {
            name: "ns-M".into(),
            members: Vec::new(),
        };
        let later = RowMeta {
            updated_at: 11,
            executed_at: 11,
            ..meta
        };
        mirror.observe(&mut pending, &later, &deletion, source(2));
        let (batch, _) = mirror.finish(pending, TargetKind::Entities, None);
        assert!(batch.upserts.is_empty());
        assert_eq!(batch.deletions.len(), 1);
        assert_eq!(mirror.held_states(), 0);
    }

    /// A write version as storage keeps it.
    fn write_version(at: u64) -> Version {
        Version {
            source: Source::Snapshot { epoch: 3, page: 1 },
            executed_at: at,
            updated_at: at,
            state: StateKind::Write,
            game: None,
        }
    }

    fn key(n: u128) -> ModelKey {
        ModelKey {
            entity: Felt::from(n),
            model: "ns-M".into(),
        }
    }

    #[test]
    fn seeding_write_by_write_ends_as_seeding_the_load_would() {
        let mut mirror = StoreMirror::new(&SyncConfig::default());
        let state = |n: u128, at: u64| {
            StoredWrite::State(StoredRecord::from(ModelRecord {
                updated_at: at,
                executed_at: at,
                ..record(n, 5)
            }))
        };
        let version = |n: u128, at: u64| {
            StoredWrite::Version(LedgerEntry {
                entity: Felt::from(n),
                model: "ns-M".into(),
                version: write_version(at),
            })
        };
        // 1: versioned, then a newer state and version. 2: a state before its version.
        // 3: a state whose version is forgotten later. 4: a state deleted later (its own
        // version goes with it). 5: a version whose state is deleted later (an orphan).
        // 6: a state whose version is forgotten twice, versioned again in between.
        for write in [
            version(1, 10),
            state(1, 10),
            state(2, 20),
            version(1, 11),
            state(1, 11),
            version(2, 21),
            version(3, 30),
            state(3, 30),
            state(4, 40),
            version(5, 50),
            state(5, 50),
            StoredWrite::VersionCleared(key(3)),
            StoredWrite::StateDeleted(key(4)),
            StoredWrite::StateDeleted(key(5)),
            version(6, 60),
            state(6, 60),
            StoredWrite::VersionCleared(key(6)),
            version(6, 62),
            StoredWrite::VersionCleared(key(6)),
        ] {
            mirror.seed_write(write);
        }
        let report = mirror.finish_seed();
        let model = mirror.ledger.find_model("ns-M").unwrap();
        let at = |n: u128| {
            mirror
                .ledger
                .get(&Felt::from(n), model)
                .map(|v| (v.source, v.updated_at))
        };
        assert_eq!(at(1), Some((Source::Snapshot { epoch: 3, page: 1 }, 11)));
        assert_eq!(at(2), Some((Source::Snapshot { epoch: 3, page: 1 }, 21)));
        // Versioned by the timestamps of the write version it lost.
        assert_eq!(at(3), Some((Source::Snapshot { epoch: 0, page: 0 }, 30)));
        assert_eq!(at(6), Some((Source::Snapshot { epoch: 0, page: 0 }, 62)));
        assert_eq!((at(4), at(5)), (None, None));
        assert_eq!(mirror.held_states(), 4);
        assert_eq!((report.unversioned, report.orphaned), (2, 1));
    }
}
