//! The world's state: entities and event messages in wire form, indexed by id and by the
//! sequence number of their last write, plus the clock and the random source of scripted updates.

use std::collections::{BTreeMap, HashMap};

use dojo_reactive_torii::types;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

use crate::felt::Bytes32;
use crate::world::{self, Clock, Record, WorldInfo};

/// Which table a record lives in.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Kind {
    /// Entities (`RetrieveEntities`, `SubscribeEntities`).
    Entities,
    /// Event messages (`RetrieveEventMessages`, `SubscribeEventMessages`).
    EventMessages,
}

impl Kind {
    /// The table holding models with tag `tag` (the event model lives with event messages).
    pub fn of_model(tag: &str) -> Kind {
        match crate::schema::model(tag) {
            Some(m) if m.is_event => Kind::EventMessages,
            _ => Kind::Entities,
        }
    }
}

/// One table: records by id, ordered by the sequence number of their last write.
#[derive(Debug, Default)]
pub struct Table {
    records: HashMap<Bytes32, Record>,
    by_seq: BTreeMap<u64, Bytes32>,
    /// Every id in creation order (for random picks).
    ids: Vec<Bytes32>,
    /// Ids that had a model with this tag at some point (for random picks by model).
    by_model: HashMap<String, Vec<Bytes32>>,
}

impl Table {
    fn from_records(list: Vec<Record>) -> Table {
        let mut table = Table {
            records: HashMap::with_capacity(list.len()),
            ..Table::default()
        };
        for record in list {
            table.insert_new(record);
        }
        table
    }

    fn insert_new(&mut self, record: Record) {
        self.by_seq.insert(record.seq, record.id);
        self.ids.push(record.id);
        for st in &record.models {
            self.by_model
                .entry(st.name.clone())
                .or_default()
                .push(record.id);
        }
        self.records.insert(record.id, record);
    }

    /// The record with id `id`.
    pub fn get(&self, id: &Bytes32) -> Option<&Record> {
        self.records.get(id)
    }

    /// Records newest write first, starting strictly before sequence `before` when given.
    pub fn newest_first(&self, before: Option<u64>) -> impl Iterator<Item = &Record> + '_ {
        let range = match before {
            Some(seq) => self.by_seq.range(..seq),
            None => self.by_seq.range(..),
        };
        range.rev().filter_map(|(_, id)| self.records.get(id))
    }

    /// Records in creation order.
    pub fn in_creation_order(&self) -> impl Iterator<Item = &Record> + '_ {
        self.ids.iter().filter_map(|id| self.records.get(id))
    }

    /// The number of records that have at least one model.
    pub fn live_count(&self) -> usize {
        self.records
            .values()
            .filter(|r| !r.models.is_empty())
            .count()
    }
}

/// The outcome of a write, for broadcasting.
#[derive(Debug)]
pub struct Written {
    /// The table written.
    pub kind: Kind,
    /// The entity id.
    pub id: Bytes32,
    /// The tag of the model written.
    pub tag: String,
    /// The model's value before the write (`None`: it did not exist).
    pub old: Option<types::Struct>,
}

/// A failed control operation on the store.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StoreError {
    /// No such entity.
    UnknownEntity(String),
    /// The entity does not have that model.
    NoSuchModel(String),
}

/// The whole state of the world.
#[derive(Debug)]
pub struct Store {
    /// Identity of the world.
    pub world: WorldInfo,
    /// Entities.
    pub entities: Table,
    /// Event messages.
    pub event_messages: Table,
    /// Sequence numbers and timestamps.
    pub clock: Clock,
    /// Token contracts, tokens and balances.
    pub tokens: crate::tokens::Tokens,
    /// Every event message ever written (`historical: true` retrieves).
    pub history: crate::history::History,
    /// Cartridge controllers (usernames of accounts).
    pub controllers: crate::messaging::Controllers,
    /// Faults of the next `PublishMessage` calls.
    pub publish_faults: crate::messaging::PublishFaults,
    rng: ChaCha8Rng,
}

impl Store {
    /// The initial world for `seed`.
    pub fn generate(seed: u64, entities: usize, event_messages: usize) -> Store {
        let generated = world::generate(seed, entities, event_messages);
        let players: Vec<Bytes32> = generated
            .entities
            .iter()
            .filter(|r| r.keys.len() == 1)
            .take(200)
            .map(|r| r.keys[0])
            .collect();
        Store {
            tokens: crate::tokens::Tokens::generate(seed, &players),
            controllers: crate::messaging::Controllers::generate(generated.entities.iter()),
            publish_faults: crate::messaging::PublishFaults::default(),
            world: WorldInfo::new(seed),
            history: crate::history::History::from_records(generated.event_messages.iter()),
            entities: Table::from_records(generated.entities),
            event_messages: Table::from_records(generated.event_messages),
            clock: generated.clock,
            rng: ChaCha8Rng::seed_from_u64(seed ^ 0x5eed_0f9d_47e5),
        }
    }

    /// This world with GLD holders added until it holds `balances` token balances (see
    /// [`crate::tokens::Tokens::fill_balances`]).
    pub fn with_balances(mut self, seed: u64, balances: usize) -> Store {
        self.tokens.fill_balances(seed, balances);
        self
    }

    /// The table of `kind`.
    pub fn table(&self, kind: Kind) -> &Table {
        match kind {
            Kind::Entities => &self.entities,
            Kind::EventMessages => &self.event_messages,
        }
    }

    fn table_mut(&mut self, kind: Kind) -> &mut Table {
        match kind {
            Kind::Entities => &mut self.entities,
            Kind::EventMessages => &mut self.event_messages,
        }
    }

    /// Creates an empty record with these keys if none exists; returns its id.
    pub fn ensure_record(&mut self, kind: Kind, keys: Vec<Bytes32>) -> Bytes32 {
        let id = crate::felt::entity_id(&keys);
        if self.table(kind).get(&id).is_none() {
            let (seq, time) = self.clock.next_live();
            self.table_mut(kind).insert_new(Record {
                id,
                keys,
                models: Vec::new(),
                created_at: time,
                updated_at: time,
                executed_at: time,
                seq,
            });
        }
        id
    }

    /// Writes model `value` (set) or removes model `tag` (`value == None`) of entity `id`,
    /// advancing the sequence and timestamps.
    pub fn write(
        &mut self,
        kind: Kind,
        id: &Bytes32,
        tag: &str,
        value: Option<types::Struct>,
    ) -> Result<Written, StoreError> {
        let stamp = self.clock.next_live();
        self.write_stamped(kind, id, tag, value, stamp)
    }

    /// [`Store::write`] with the sequence number and block timestamp already taken.
    fn write_stamped(
        &mut self,
        kind: Kind,
        id: &Bytes32,
        tag: &str,
        value: Option<types::Struct>,
        (seq, time): (u64, u64),
    ) -> Result<Written, StoreError> {
        let table = self.table_mut(kind);
        let Some(record) = table.records.get_mut(id) else {
            return Err(StoreError::UnknownEntity(crate::felt::hex64(id)));
        };
        let position = record.models.iter().position(|m| m.name == tag);
        let old = match (position, value) {
            (Some(i), Some(new)) => Some(std::mem::replace(&mut record.models[i], new)),
            (None, Some(new)) => {
                record.models.push(new);
                table.by_model.entry(tag.to_owned()).or_default().push(*id);
                None
            }
            (Some(i), None) => Some(record.models.remove(i)),
            (None, None) => return Err(StoreError::NoSuchModel(tag.to_owned())),
        };
        let Some(record) = table.records.get_mut(id) else {
            return Err(StoreError::UnknownEntity(crate::felt::hex64(id)));
        };
        table.by_seq.remove(&record.seq);
        record.seq = seq;
        record.executed_at = time;
        record.updated_at = time;
        if old.is_none() && record.models.len() == 1 {
            // The entity (re)appears with this write.
            record.created_at = time;
        }
        table.by_seq.insert(seq, *id);
        if kind == Kind::EventMessages {
            if let Some(model) = record.model(tag).cloned() {
                let record = record.clone();
                self.history.push(&record, model, time);
            }
        }
        Ok(Written {
            kind,
            id: *id,
            tag: tag.to_owned(),
            old,
        })
    }

    /// Picks the target of a scripted update: an entity of `kind` having model `tag` (any model
    /// when `None`). Returns the id and the model tag, or `None` when nothing qualifies.
    pub fn pick(&mut self, kind: Kind, tag: Option<&str>) -> Option<(Bytes32, String)> {
        let len = self.candidates(kind, tag).len();
        if len == 0 {
            return None;
        }
        for _ in 0..32 {
            let index = self.rng.random_range(0..len);
            let id = *self.candidates(kind, tag).get(index)?;
            if let Some(found) = self.model_choice(kind, &id, tag) {
                return Some((id, found));
            }
        }
        // Sparse: scan from a random start.
        let start = self.rng.random_range(0..len);
        for offset in 0..len {
            let id = *self.candidates(kind, tag).get((start + offset) % len)?;
            if let Some(found) = self.model_choice(kind, &id, tag) {
                return Some((id, found));
            }
        }
        None
    }

    fn candidates(&self, kind: Kind, tag: Option<&str>) -> &[Bytes32] {
        let table = self.table(kind);
        match tag {
            Some(tag) => table.by_model.get(tag).map(Vec::as_slice).unwrap_or(&[]),
            None => &table.ids,
        }
    }

    /// The model of entity `id` a scripted update touches: `tag` if it has it, else a random one
    /// of its models.
    pub fn model_choice(&mut self, kind: Kind, id: &Bytes32, tag: Option<&str>) -> Option<String> {
        let count = self.table(kind).get(id)?.models.len();
        if count == 0 {
            return None;
        }
        let pick = self.rng.random_range(0..count);
        let record = self.table(kind).get(id)?;
        match tag {
            Some(tag) => record.model(tag).map(|_| tag.to_owned()),
            None => record.models.get(pick).map(|m| m.name.clone()),
        }
    }

    /// Applies one scripted update to model `tag` of entity `id`.
    pub fn bump(&mut self, kind: Kind, id: &Bytes32, tag: &str) -> Result<Written, StoreError> {
        let current = self
            .table(kind)
            .get(id)
            .ok_or_else(|| StoreError::UnknownEntity(crate::felt::hex64(id)))?
            .model(tag)
            .cloned()
            .ok_or_else(|| StoreError::NoSuchModel(tag.to_owned()))?;
        let mut next = current;
        let stamp = self.clock.next_live();
        world::bump(&mut next, &mut self.rng, stamp.1);
        self.write_stamped(kind, id, tag, Some(next), stamp)
    }
}
