//! Member selections (which members a query returns) and queries (filter + selection + orderBy
//! + limit + cursor).

use super::order::{OrderBy, OrderSpec, SortKey};
use super::{resolve_path, At, Filter, FilterError, FilterSpec, FilterState, ModelShapes};
use crate::bytes32::Felt;
use crate::entity::EntityId;
use crate::value::{Member, Struct, Value};

/// A member selection as written: `{ include?: string[], exclude?: string[] }` (member paths).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SelectionSpec {
    /// Keep only these paths (all members when absent).
    pub include: Option<Vec<String>>,
    /// Then remove these paths.
    pub exclude: Vec<String>,
}

/// A compiled member selection: prunes a model state to the selected member paths.
///
/// `include` keeps the listed paths: `"pos"` keeps the whole `pos` struct, `"pos.x"` keeps `pos`
/// with only its `x`. `exclude` then removes the listed paths. Member order is preserved.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Selection {
    include: Option<Vec<Vec<String>>>,
    exclude: Vec<Vec<String>>,
}

fn split(path: &str) -> Vec<String> {
    let mut parts = Vec::new();
    for part in path.split('.') {
        parts.push(part.to_owned());
    }
    parts
}

impl Selection {
    /// The selection that keeps everything.
    pub fn all() -> Selection {
        Selection::default()
    }

    /// Whether this selection keeps everything.
    pub fn is_all(&self) -> bool {
        self.include.is_none() && self.exclude.is_empty()
    }

    /// Checks every path against the model's shape.
    pub fn compile(
        model: &str,
        spec: &SelectionSpec,
        shapes: &impl ModelShapes,
    ) -> Result<Selection, FilterError> {
        let shape = shapes
            .model_shape(model)
            .ok_or_else(|| FilterError::UnknownModel {
                model: model.to_owned(),
            })?;
        // One loop for both lists (no `collect` into a `Result` per list).
        let check = |paths: &[String]| -> Result<Vec<_>, FilterError> {
            let mut split_paths = Vec::with_capacity(paths.len());
            for path in paths {
                resolve_path(shape, &At { model, path })?;
                split_paths.push(split(path));
            }
            Ok(split_paths)
        };
        Ok(Selection {
            include: spec.include.as_deref().map(check).transpose()?,
            exclude: check(&spec.exclude)?,
        })
    }

    /// The pruned copy of a state.
    pub fn apply(&self, state: &Struct) -> Struct {
        let mut members = match &self.include {
            None => state.members.clone(),
            Some(paths) => {
                let refs: Vec<&[String]> = paths.iter().map(Vec::as_slice).collect();
                include(&state.members, &refs)
            }
        };
        for path in &self.exclude {
            exclude(&mut members, path);
        }
        Struct {
            name: state.name.clone(),
            members,
        }
    }
}

fn include(members: &[Member], paths: &[&[String]]) -> Vec<Member> {
    let mut out = Vec::new();
    for member in members {
        let mut rests: Vec<&[String]> = Vec::new();
        for path in paths {
            if let Some((head, rest)) = path.split_first() {
                if *head == member.name {
                    rests.push(rest);
                }
            }
        }
        if rests.is_empty() {
            continue;
        }
        if rests.iter().any(|rest| rest.is_empty()) {
            out.push(member.clone());
        } else if let Value::Struct(inner) = &member.value {
            out.push(Member {
                name: member.name.clone(),
                key: member.key,
                value: Value::Struct(Struct {
                    name: inner.name.clone(),
                    members: include(&inner.members, &rests),
                }),
            });
        }
    }
    out
}

fn exclude(members: &mut Vec<Member>, path: &[String]) {
    let Some((head, rest)) = path.split_first() else {
        return;
    };
    if rest.is_empty() {
        members.retain(|m| m.name != *head);
        return;
    }
    for member in members.iter_mut().filter(|m| m.name == *head) {
        if let Value::Struct(inner) = &mut member.value {
            exclude(&mut inner.members, rest);
        }
    }
}

/// A query as written: `{ filter?, select?, orderBy?, limit?, cursor? }`.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct QuerySpec {
    /// The filter.
    pub filter: Option<FilterSpec>,
    /// Which members each item shows.
    pub select: Option<SelectionSpec>,
    /// Order of the results (`orderBy`): by these members in turn, then by entity id (by
    /// entity id alone when empty).
    pub order_by: Vec<OrderSpec>,
    /// Most states per page (at least 1; all when absent).
    pub limit: Option<u32>,
    /// `next_cursor` of the previous page.
    pub cursor: Option<String>,
}

/// A compiled query on one model. Results are ordered by entity id, the cursor the id of the
/// last entity of the previous page; or, with `order`, by members (which holds the cursor).
#[derive(Debug, Clone, PartialEq)]
pub struct Query {
    /// Which states.
    pub filter: Filter,
    /// Which members of them.
    pub select: Selection,
    /// Most states per page.
    pub limit: Option<u32>,
    /// Only entities with a larger id (queries in entity id order).
    pub cursor: Option<EntityId>,
    /// Order by members, and where the previous page ended (`None`: by entity id).
    pub order: Option<OrderBy>,
}

/// One page of query results.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct QueryPage {
    /// Matching states (pruned by the selection), by ascending entity id.
    pub items: Vec<(EntityId, Struct)>,
    /// Cursor of the next page, when there are more matches.
    pub next_cursor: Option<String>,
}

impl Query {
    /// Parses query JSON for `model` and checks it against the model's shape.
    pub fn parse(model: &str, json: &str, shapes: &impl ModelShapes) -> Result<Query, FilterError> {
        let spec: QuerySpec =
            serde_json::from_str(json).map_err(|e| FilterError::Json(e.to_string()))?;
        Query::compile(model, &spec, shapes)
    }

    /// Checks a written query and compiles it.
    pub fn compile(
        model: &str,
        spec: &QuerySpec,
        shapes: &impl ModelShapes,
    ) -> Result<Query, FilterError> {
        let filter = match &spec.filter {
            Some(filter) => Filter::compile(model, filter, shapes)?,
            None => Filter::compile(model, &FilterSpec::default(), shapes)?,
        };
        let select = match &spec.select {
            Some(select) => Selection::compile(model, select, shapes)?,
            None => Selection::all(),
        };
        if spec.limit == Some(0) {
            return Err(FilterError::BadLimit);
        }
        if !spec.order_by.is_empty() {
            let order = OrderBy::compile(model, &spec.order_by, spec.cursor.as_deref(), shapes)?;
            return Ok(Query {
                filter,
                select,
                limit: spec.limit,
                cursor: None,
                order: Some(order),
            });
        }
        let cursor = spec
            .cursor
            .as_ref()
            .map(|c| {
                Felt::from_hex(c).map_err(|_| FilterError::BadCursor(c.chars().take(80).collect()))
            })
            .transpose()?;
        Ok(Query {
            filter,
            select,
            limit: spec.limit,
            cursor,
            order: None,
        })
    }

    /// How many of the `(entity id, state)` pairs match the filter (limit and cursor aside).
    pub fn count<'a, S: FilterState>(
        &self,
        states: impl IntoIterator<Item = (&'a EntityId, S)>,
    ) -> usize {
        states
            .into_iter()
            .filter(|(id, state)| self.filter.matches(id, state))
            .count()
    }

    /// Runs the query over `(entity id, state)` pairs of its model.
    pub fn run<'a>(
        &self,
        states: impl IntoIterator<Item = (&'a EntityId, &'a Struct)>,
    ) -> QueryPage {
        let (hits, next_cursor) = self.matching(states);
        let items = hits
            .into_iter()
            .map(|(id, state)| {
                let state = if self.select.is_all() {
                    state.clone()
                } else {
                    self.select.apply(state)
                };
                (*id, state)
            })
            .collect();
        QueryPage { items, next_cursor }
    }

    /// The page [`Query::run`] returns, before the selection: the matching pairs in the query's
    /// order (as given, nothing cloned) and the next page's cursor. States are anything a
    /// filter reads ([`FilterState`]: decoded structs, the view's packed states).
    pub fn matching<'a, S: FilterState>(
        &self,
        states: impl IntoIterator<Item = (&'a EntityId, S)>,
    ) -> (Vec<(&'a EntityId, S)>, Option<String>) {
        if let Some(order) = &self.order {
            return self.matching_ordered(order, states);
        }
        let hits: Vec<(&EntityId, S)> = states
            .into_iter()
            .filter(|(id, _)| self.cursor.is_none_or(|c| **id > c))
            .filter(|(id, state)| self.filter.matches(id, state))
            .collect();
        self.page_by_id(hits)
    }

    /// The page of `hits` in entity id order. Apart from [`Query::matching`], which is
    /// generic over the iterator too, so that its sorts are instantiated once per state type,
    /// not once per caller's iterator (each is ~5 KB of wasm).
    fn page_by_id<'a, S>(
        &self,
        mut hits: Vec<(&'a EntityId, S)>,
    ) -> (Vec<(&'a EntityId, S)>, Option<String>) {
        let limit = self.limit.map_or(usize::MAX, |l| l as usize);
        let more = hits.len() > limit;
        if more {
            hits.select_nth_unstable_by(limit, |a, b| a.0.cmp(b.0));
            hits.truncate(limit);
        }
        hits.sort_unstable_by(|a, b| a.0.cmp(b.0));
        let next_cursor = if more {
            hits.last().map(|(id, _)| id.to_hex())
        } else {
            None
        };
        (hits, next_cursor)
    }

    /// A page in member order: the matches after the cursor, sorted by `order`, cut at the limit.
    fn matching_ordered<'a, S: FilterState>(
        &self,
        order: &OrderBy,
        states: impl IntoIterator<Item = (&'a EntityId, S)>,
    ) -> (Vec<(&'a EntityId, S)>, Option<String>) {
        let hits: Vec<(SortKey, &EntityId, S)> = states
            .into_iter()
            .filter(|(id, state)| self.filter.matches(id, state))
            .map(|(id, state)| (order.key_of(&state), id, state))
            .filter(|(key, id, _)| order.after_cursor(key, id))
            .collect();
        self.page_ordered(order, hits)
    }

    /// The page of `hits` (with their sort keys) in `order`; apart for the reason
    /// [`Query::page_by_id`] is.
    fn page_ordered<'a, S>(
        &self,
        order: &OrderBy,
        mut hits: Vec<(SortKey, &'a EntityId, S)>,
    ) -> (Vec<(&'a EntityId, S)>, Option<String>) {
        let compare = |a: &(SortKey, &EntityId, S), b: &(SortKey, &EntityId, S)| {
            order.compare((&a.0, a.1), (&b.0, b.1))
        };
        let limit = self.limit.map_or(usize::MAX, |l| l as usize);
        let more = hits.len() > limit;
        if more {
            hits.select_nth_unstable_by(limit, compare);
            hits.truncate(limit);
        }
        hits.sort_unstable_by(compare);
        let next_cursor = if more {
            hits.last().map(|(key, id, _)| OrderBy::cursor(key, id))
        } else {
            None
        };
        let hits = hits.into_iter().map(|(_, id, state)| (id, state)).collect();
        (hits, next_cursor)
    }

    /// What [`Query::matching`] returns for a query in entity id order (no `order`), from pairs
    /// given in ascending entity id order: it stops reading them once it holds one match more
    /// than the limit.
    pub fn matching_in_order<'a, S: FilterState>(
        &self,
        states: impl IntoIterator<Item = (&'a EntityId, S)>,
    ) -> (Vec<(&'a EntityId, S)>, Option<String>) {
        let limit = self.limit.map_or(usize::MAX, |l| l as usize);
        let mut hits = Vec::new();
        for (id, state) in states {
            if self.cursor.is_some_and(|c| *id <= c) || !self.filter.matches(id, &state) {
                continue;
            }
            if hits.len() == limit {
                let next_cursor = hits.last().map(|(id, _): &(&EntityId, S)| id.to_hex());
                return (hits, next_cursor);
            }
            hits.push((id, state));
        }
        (hits, None)
    }
}
