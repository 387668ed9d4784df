//! Historical event messages over the client: Torii's `historical: true` retrieve as rows of
//! the core's [`EventLog`], and the walk that reads them newest first into a log.

use dojo_reactive_core::{
    Clause, Delivery, Entity, EventLog, Felt, IncomingEvent, KeysClause, LogChange,
    PatternMatching, Placement,
};

use crate::clause::clause_to_wire;
use crate::client::{EntityKind, ToriiClient};
use crate::error::ToriiError;
use crate::proto::types;

/// What an event log reads: the models it keeps, an optional clause narrowing them, the worlds.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct HistoricalQuery {
    /// Model tags (`namespace-Model`); empty means every event model.
    pub models: Vec<String>,
    /// Torii's clause language; `None` keeps every event of `models`.
    pub clause: Option<Clause>,
    /// The worlds (empty: every world).
    pub world_addresses: Vec<Felt>,
}

impl HistoricalQuery {
    /// The clause of its subscription (`SubscribeEventMessages`): its clause, or its models as
    /// a wildcard keys clause.
    pub fn subscription_clause(&self) -> Option<types::Clause> {
        match &self.clause {
            Some(clause) => Some(clause_to_wire(clause)),
            None if self.models.is_empty() => None,
            None => Some(clause_to_wire(&Clause::Keys(KeysClause {
                keys: Vec::new(),
                pattern_matching: PatternMatching::VariableLen,
                models: self.models.clone(),
            }))),
        }
    }
}

/// One page of historical rows, each row one event.
#[derive(Debug, Default)]
pub struct HistoricalPage {
    /// The events of the page, newest first.
    pub rows: Vec<IncomingEvent>,
    /// Rows skipped because their content is invalid.
    pub rejected: Vec<ToriiError>,
    /// The cursor of the next page, `None` after the last page.
    pub next_cursor: Option<String>,
}

/// The events a row (historical or streamed) carries: one per model state it has, deletions
/// (empty states) left out, restricted to `models` when not empty.
pub fn events_of(entity: Entity, models: &[String]) -> Vec<IncomingEvent> {
    let Entity {
        id,
        models: states,
        created_at,
        executed_at,
        world_address,
        ..
    } = entity;
    states
        .into_iter()
        .filter(|state| !state.is_deletion())
        .filter(|state| models.is_empty() || models.iter().any(|m| state.name == m.as_str()))
        .map(|state| IncomingEvent {
            entity: id,
            state,
            executed_at,
            created_at,
            world_address,
        })
        .collect()
}

/// Where a walk of the history stops reading (newest first).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct WalkBounds {
    /// Stop after the first page reaching a row executed before this second (a catch-up reads
    /// down to the newest second held, less a margin; a cold sync from 0).
    pub down_to_s: u64,
    /// Rows per page.
    pub page_size: u32,
    /// The clock, for the log's age bound.
    pub now_s: u64,
}

impl ToriiClient {
    /// One page of Torii's history of event messages (`RetrieveEventMessages` with
    /// `historical: true`), newest first.
    pub async fn retrieve_historical_events(
        &self,
        query: &HistoricalQuery,
        cursor: Option<&str>,
        limit: u32,
    ) -> Result<HistoricalPage, ToriiError> {
        let wire = types::Query {
            clause: query.clause.as_ref().map(clause_to_wire),
            no_hashed_keys: false,
            models: query.models.clone(),
            pagination: Some(types::Pagination {
                cursor: cursor.unwrap_or_default().to_owned(),
                limit,
                direction: types::PaginationDirection::Forward as i32,
                order_by: Vec::new(),
            }),
            historical: true,
            world_addresses: query.world_addresses.iter().map(|f| f.0.to_vec()).collect(),
        };
        let page = self.retrieve(EntityKind::EventMessages, wire).await?;
        Ok(HistoricalPage {
            rows: page
                .items
                .into_iter()
                .flat_map(|entity| events_of(entity, &query.models))
                .collect(),
            rejected: page.rejected,
            next_cursor: page.next_cursor,
        })
    }

    /// Reads the history newest first into `log` as one delivery, page by page, until a page
    /// reaches `bounds.down_to_s`, a row older than the log's age bound, as many rows as its
    /// count bound (older ones would be evicted), or the end. Returns each page's change, for
    /// the store and the views.
    pub async fn walk_history(
        &self,
        query: &HistoricalQuery,
        log: &mut EventLog,
        bounds: WalkBounds,
    ) -> Result<Vec<LogChange>, ToriiError> {
        let mut walk = HistoryWalk::new(bounds);
        let mut changes = Vec::new();
        while let Some(change) = walk.next_page(self, query, log).await? {
            if !change.is_empty() {
                changes.push(change);
            }
        }
        Ok(changes)
    }
}

/// A walk of the history in progress (see [`ToriiClient::walk_history`]), one page per
/// [`HistoryWalk::next_page`]: a caller shows and stores each page's change as it comes and
/// bounds each request's time.
#[derive(Debug)]
pub struct HistoryWalk {
    bounds: WalkBounds,
    delivery: Delivery,
    cursor: Option<String>,
    read: usize,
    done: bool,
}

impl HistoryWalk {
    /// A walk within `bounds`, from the newest row.
    pub fn new(bounds: WalkBounds) -> Self {
        Self {
            bounds,
            delivery: Delivery::new(),
            cursor: None,
            read: 0,
            done: false,
        }
    }

    /// Reads the next page into `log`; returns its change (possibly empty), or `None` once the
    /// walk is over.
    pub async fn next_page(
        &mut self,
        client: &ToriiClient,
        query: &HistoricalQuery,
        log: &mut EventLog,
    ) -> Result<Option<LogChange>, ToriiError> {
        if self.done {
            return Ok(None);
        }
        let bounds = self.bounds;
        let page = client
            .retrieve_historical_events(query, self.cursor.as_deref(), bounds.page_size.max(1))
            .await?;
        let oldest = page.rows.last().map(|row| row.executed_at);
        self.read = self.read.saturating_add(page.rows.len());
        let change = log.apply(&mut self.delivery, page.rows, Placement::Walk, bounds.now_s);
        let count = log.retention().count.unwrap_or(usize::MAX);
        let reached = match oldest {
            None => true,
            Some(at) => {
                at < bounds.down_to_s || log.too_old(at, bounds.now_s) || self.read >= count
            }
        };
        match page.next_cursor {
            Some(next) if !reached => self.cursor = Some(next),
            _ => self.done = true,
        }
        Ok(Some(change))
    }
}
