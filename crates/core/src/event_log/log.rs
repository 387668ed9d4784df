//! The append-only log of one event-log target: every event message of its models, in order,
//! once each, within a retention bound.

use std::collections::{BTreeMap, HashMap};

use super::identity::{Delivery, EventContent, EventIdentity};
use crate::{EntityId, Felt, Struct};

/// How much of the history a log keeps: at most `count` events (the newest) and none older than
/// `age_s` seconds before now (by `executed_at`). `None` does not bound.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct EventRetention {
    /// The most events kept.
    pub count: Option<usize>,
    /// The oldest event kept, in seconds before now.
    pub age_s: Option<u64>,
}

/// Where an event is placed among events of the same second.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Placement {
    /// Learnt from a stream: after every event held of its second.
    Arrival,
    /// Learnt from a walk of historical pages (newest first): just before the row the walk
    /// showed before it when that row is of the same second (held or new), else after every
    /// event held of its second. So a catch-up's missed events follow those held, and rows
    /// the walk interleaves with held ones keep the walk's order.
    Walk,
    /// At a position given by the log it came from (a reload, another tab's relay).
    Kept(i64),
}

/// One event message of the log.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LoggedEvent {
    /// Its identity (entity, model, second, content, occurrence).
    pub identity: EventIdentity,
    /// The model state the event carried (its name is the model tag).
    pub state: Struct,
    /// When Torii indexed it (Unix seconds).
    pub created_at: u64,
    /// The world it belongs to.
    pub world_address: Felt,
    /// Its place among events of the same second (see [`Placement`]).
    pub position: i64,
}

impl LoggedEvent {
    /// The entity the event belongs to.
    pub fn entity(&self) -> EntityId {
        self.identity.content.entity
    }

    /// The model tag.
    pub fn model(&self) -> &str {
        &self.identity.content.model
    }

    /// Block timestamp (Unix seconds).
    pub fn executed_at(&self) -> u64 {
        self.identity.content.executed_at
    }

    /// The log's order: by second, then position.
    fn order(&self) -> (u64, i64) {
        (self.executed_at(), self.position)
    }
}

/// An event message as it came from Torii, before the log gives it an identity.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IncomingEvent {
    /// The entity (Torii's hashed keys).
    pub entity: EntityId,
    /// The one model state this row carries.
    pub state: Struct,
    /// Block timestamp (Unix seconds).
    pub executed_at: u64,
    /// When Torii indexed it (Unix seconds).
    pub created_at: u64,
    /// The world.
    pub world_address: Felt,
}

impl IncomingEvent {
    /// The content part of its identity.
    pub fn content(&self) -> EventContent {
        EventContent::of(self.entity, &self.state, self.executed_at)
    }
}

/// What one change did to a log: the events it kept (in the log's order) and the identities it
/// evicted. A store writes both in one transaction; a view applies both.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct LogChange {
    /// Events added and still kept after retention, oldest first.
    pub added: Vec<LoggedEvent>,
    /// Events that left by retention.
    pub evicted: Vec<EventIdentity>,
}

impl LogChange {
    /// Whether nothing changed.
    pub fn is_empty(&self) -> bool {
        self.added.is_empty() && self.evicted.is_empty()
    }
}

/// A read of the log.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct EventQuery {
    /// Only events of this model tag.
    pub model: Option<String>,
    /// Only events of this entity.
    pub entity: Option<EntityId>,
    /// Only events whose key felts start with these (`None` matches any felt).
    pub keys: Option<Vec<Option<Felt>>>,
    /// Only events executed at or after this second.
    pub from_s: Option<u64>,
    /// Only events executed at or before this second.
    pub to_s: Option<u64>,
    /// At most this many (from the newest with `newest_first`, else from the oldest).
    pub limit: Option<usize>,
    /// Newest first (the default order is oldest first).
    pub newest_first: bool,
}

impl EventQuery {
    fn matches(&self, event: &LoggedEvent) -> bool {
        if self.model.as_deref().is_some_and(|m| m != event.model()) {
            return false;
        }
        if self.entity.is_some_and(|e| e != event.entity()) {
            return false;
        }
        match &self.keys {
            None => true,
            Some(pattern) => {
                let keys = event.state.key_felts();
                pattern.len() <= keys.len()
                    && pattern
                        .iter()
                        .zip(&keys)
                        .all(|(want, key)| want.is_none_or(|w| w == *key))
            }
        }
    }
}

/// The gap between positions of consecutive arrivals: a walk places rows between two held
/// events by halving it (so at least 24 rows fit between two held events of one second; past
/// that, a row goes after every event held of its second).
const POSITION_STEP: i64 = 1 << 24;

/// The log: events ordered by `(executed_at, position)`, each identity once.
#[derive(Debug, Default)]
pub struct EventLog {
    retention: EventRetention,
    events: BTreeMap<(u64, i64), LoggedEvent>,
    index: HashMap<EventIdentity, (u64, i64)>,
    /// Next position of an arrival (above every position given).
    high: i64,
}

impl EventLog {
    /// An empty log under `retention`.
    pub fn new(retention: EventRetention) -> Self {
        Self {
            retention,
            events: BTreeMap::new(),
            index: HashMap::new(),
            high: POSITION_STEP,
        }
    }

    /// Its retention bound.
    pub fn retention(&self) -> EventRetention {
        self.retention
    }

    /// How many events it holds.
    pub fn len(&self) -> usize {
        self.events.len()
    }

    /// Whether it holds none.
    pub fn is_empty(&self) -> bool {
        self.events.is_empty()
    }

    /// Whether it holds this event.
    pub fn contains(&self, identity: &EventIdentity) -> bool {
        self.index.contains_key(identity)
    }

    /// The newest event's second, the point a catch-up walk reads down to.
    pub fn newest_executed_at(&self) -> Option<u64> {
        self.events.keys().next_back().map(|(at, _)| *at)
    }

    /// Whether an event of this second is older than the age bound at `now_s` (a walk newest
    /// first stops at the first such row).
    pub fn too_old(&self, executed_at: u64, now_s: u64) -> bool {
        self.retention
            .age_s
            .is_some_and(|age| executed_at < now_s.saturating_sub(age))
    }

    /// Adds the rows of one page or stream batch of `delivery`, in the order they came, then
    /// applies retention at `now_s`. Rows already held (the same identity) change nothing.
    pub fn apply(
        &mut self,
        delivery: &mut Delivery,
        rows: Vec<IncomingEvent>,
        placement: Placement,
        now_s: u64,
    ) -> LogChange {
        let mut added = Vec::new();
        for row in rows {
            let identity = delivery.identify(row.content());
            if let Some(order) = self.index.get(&identity) {
                delivery.anchor = Some(*order);
                continue;
            }
            let placement = match placement {
                Placement::Walk => {
                    Placement::Kept(self.walk_position(row.executed_at, delivery.anchor))
                }
                other => other,
            };
            let event = LoggedEvent {
                identity,
                state: row.state,
                created_at: row.created_at,
                world_address: row.world_address,
                position: 0,
            };
            if let Some(order) = self.insert(event, placement) {
                delivery.anchor = Some(order);
                added.push(order);
            }
        }
        self.finish(added, now_s)
    }

    /// Where a walk places a new row of second `at`, the walk's previous row being `anchor`.
    fn walk_position(&self, at: u64, anchor: Option<(u64, i64)>) -> i64 {
        let Some((anchor_at, upper)) = anchor.filter(|(anchor_at, _)| *anchor_at == at) else {
            return self.high;
        };
        debug_assert_eq!(anchor_at, at);
        match self.events.range((at, i64::MIN)..(at, upper)).next_back() {
            None => upper.saturating_sub(POSITION_STEP),
            Some(((_, lower), _)) => lower + (upper - lower) / 2,
        }
    }

    /// Adds events that already have identities and positions (restored from storage, relayed
    /// by another tab), then applies retention at `now_s`.
    pub fn restore(&mut self, events: Vec<LoggedEvent>, now_s: u64) -> LogChange {
        let mut added = Vec::new();
        for event in events {
            let placement = Placement::Kept(event.position);
            if let Some(order) = self.insert(event, placement) {
                added.push(order);
            }
        }
        self.finish(added, now_s)
    }

    /// Applies retention at `now_s` (a clock tick, a reload under a tighter bound); returns
    /// the identities evicted.
    pub fn trim(&mut self, now_s: u64) -> Vec<EventIdentity> {
        self.evict(now_s)
            .into_iter()
            .map(|(_, identity)| identity)
            .collect()
    }

    /// Removes what retention at `now_s` excludes: events older than the age bound, then the
    /// oldest above the count bound.
    fn evict(&mut self, now_s: u64) -> Vec<((u64, i64), EventIdentity)> {
        let mut evicted = Vec::new();
        let floor = self.retention.age_s.map(|age| now_s.saturating_sub(age));
        let count = self.retention.count.unwrap_or(usize::MAX);
        loop {
            let len = self.events.len();
            let Some(entry) = self.events.first_entry() else {
                break;
            };
            let too_old = floor.is_some_and(|floor| entry.key().0 < floor);
            if !too_old && len <= count {
                break;
            }
            let order = *entry.key();
            let event = entry.remove();
            self.index.remove(&event.identity);
            evicted.push((order, event.identity));
        }
        evicted
    }

    /// The events `query` selects, in its order.
    pub fn query(&self, query: &EventQuery) -> Vec<&LoggedEvent> {
        let from = query.from_s.unwrap_or(0);
        let to = query.to_s.unwrap_or(u64::MAX);
        if from > to {
            return Vec::new();
        }
        let range = self.events.range((from, i64::MIN)..=(to, i64::MAX));
        let limit = query.limit.unwrap_or(usize::MAX);
        let selected = |event: &&LoggedEvent| query.matches(event);
        if query.newest_first {
            range
                .rev()
                .map(|(_, e)| e)
                .filter(selected)
                .take(limit)
                .collect()
        } else {
            range.map(|(_, e)| e).filter(selected).take(limit).collect()
        }
    }

    /// Every event, oldest first.
    pub fn iter(&self) -> impl DoubleEndedIterator<Item = &LoggedEvent> + ExactSizeIterator {
        self.events.values()
    }

    /// Inserts one event unless its identity is held; returns its order key.
    fn insert(&mut self, mut event: LoggedEvent, placement: Placement) -> Option<(u64, i64)> {
        if self.index.contains_key(&event.identity) {
            return None;
        }
        event.position = match placement {
            Placement::Kept(position)
                if !self.events.contains_key(&(event.executed_at(), position)) =>
            {
                position
            }
            // An arrival, a walk, or a position taken (two relayed logs, no room left between
            // two rows): after every event held of its second.
            _ => self.high,
        };
        self.high = self.high.max(event.position.saturating_add(POSITION_STEP));
        let order = event.order();
        self.index.insert(event.identity.clone(), order);
        self.events.insert(order, event);
        Some(order)
    }

    /// Trims, then reports the added events that survived, oldest first.
    fn finish(&mut self, mut added: Vec<(u64, i64)>, now_s: u64) -> LogChange {
        let mut evicted = self.evict(now_s);
        added.sort_unstable();
        // An event added and evicted by the same change was never reported: report neither.
        evicted.retain(|(order, _)| added.binary_search(order).is_err());
        let evicted = evicted.into_iter().map(|(_, identity)| identity).collect();
        let added = added
            .into_iter()
            .filter_map(|order| self.events.get(&order).cloned())
            .collect();
        LogChange { added, evicted }
    }
}
