//! The entries of a filter's `where`: member predicates, key conditions (named key members, a
//! pattern of key felts with wildcards, hashed keys) and their `and` / `or` composites, nested;
//! compiled against the model's shape and evaluated on one model state, or translated to
//! Torii's clause.

use std::collections::BTreeMap;

use serde_json::Value as Json;

use super::operand::{snippet, Operand};
use super::{At, FilterError, FilterState, PredicateSpec};
use crate::bytes32::Felt;
use crate::clause::{Clause, CompositeClause, KeysClause, LogicalOperator, PatternMatching};
use crate::entity::EntityId;
use crate::schema::{PrimitiveType, Ty};
use crate::value::Primitive;

/// How a key pattern's length is matched (Torii's `PatternMatching`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum KeyMatching {
    /// The model has exactly as many key felts as the pattern has slots (the default).
    #[default]
    FixedLen,
    /// The model has at least as many key felts (a prefix match).
    VariableLen,
}

/// One `where` entry as written (JSON, see the module doc of `filter`).
#[derive(Debug, Clone, PartialEq)]
pub enum ConditionSpec {
    /// `{ member, op, value }`.
    Member(PredicateSpec),
    /// `{ keys: { member: value } }`: named key members equal these values.
    Keys(BTreeMap<String, Json>),
    /// `{ keys: [felt | null, ...], matching? }`: the model's key felts (their Cairo
    /// serialization, in declaration order) match the pattern; `null` is a wildcard.
    KeyPattern {
        /// Pattern slots as written.
        keys: Vec<Json>,
        /// How the length is matched.
        matching: KeyMatching,
    },
    /// `{ hashedKeys: [id, ...] }`: the entity id is one of these (none: every entity).
    HashedKeys(Vec<Json>),
    /// `{ and: [...] }`: every condition holds.
    And(Vec<ConditionSpec>),
    /// `{ or: [...] }`: some condition holds.
    Or(Vec<ConditionSpec>),
}

const FORMS: &str = "a where entry is { member, op, value }, { and: [...] }, { or: [...] }, \
                     { keys: { member: value } }, { keys: [felt | null, ...], matching? } or \
                     { hashedKeys: [id, ...] }";

impl ConditionSpec {
    /// Reads one `where` entry.
    pub fn from_json(json: &Json) -> Result<ConditionSpec, String> {
        let Json::Object(map) = json else {
            return Err(format!("{FORMS}; got {}", snippet(json)));
        };
        let only = |allowed: &[&str]| match map.keys().find(|k| !allowed.contains(&k.as_str())) {
            Some(extra) => Err(format!(
                "unknown field `{extra}` in {}: {FORMS}",
                snippet(json)
            )),
            None => Ok(()),
        };
        let list = |value: &Json| match value {
            Json::Array(items) => {
                let mut specs = Vec::with_capacity(items.len());
                for item in items {
                    specs.push(ConditionSpec::from_json(item)?);
                }
                Ok(specs)
            }
            other => Err(format!(
                "`and` / `or` take a list of where entries, got {}",
                snippet(other)
            )),
        };
        if let Some(items) = map.get("and") {
            only(&["and"])?;
            return list(items).map(ConditionSpec::And);
        }
        if let Some(items) = map.get("or") {
            only(&["or"])?;
            return list(items).map(ConditionSpec::Or);
        }
        if let Some(ids) = map.get("hashedKeys") {
            only(&["hashedKeys"])?;
            let Json::Array(ids) = ids else {
                return Err(format!(
                    "hashedKeys takes a list of entity ids, got {}",
                    snippet(ids)
                ));
            };
            return Ok(ConditionSpec::HashedKeys(ids.clone()));
        }
        match map.get("keys") {
            Some(Json::Object(named)) => {
                only(&["keys"])?;
                Ok(ConditionSpec::Keys(named_keys(named)))
            }
            Some(Json::Array(slots)) => {
                only(&["keys", "matching"])?;
                let matching = match map.get("matching") {
                    None => KeyMatching::default(),
                    Some(m) => m.as_str().and_then(KeyMatching::from_name).ok_or_else(|| {
                        format!(
                            "matching is \"fixedLen\" or \"variableLen\", got {}",
                            snippet(m)
                        )
                    })?,
                };
                Ok(ConditionSpec::KeyPattern {
                    keys: slots.clone(),
                    matching,
                })
            }
            Some(other) => Err(format!(
                "keys is an object (member → value) or a list of key felts, got {}",
                snippet(other)
            )),
            None => PredicateSpec::from_json(json)
                .map(ConditionSpec::Member)
                .map_err(|e| format!("{e} in {}: {FORMS}", snippet(json))),
        }
    }
}

/// Named key members (`{ member: value }`) as a map, inserted one by one: `collect` would sort
/// the pairs to bulk-build it, a sort instantiated for this alone.
pub(super) fn named_keys(named: &serde_json::Map<String, Json>) -> BTreeMap<String, Json> {
    let mut keys = BTreeMap::new();
    for (name, value) in named {
        keys.insert(name.clone(), value.clone());
    }
    keys
}

/// A compiled `where` entry (member predicates are compiled by the filter, see
/// [`super::Predicate`]).
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Condition {
    /// A member predicate.
    Test(super::Predicate),
    /// Key felts against a pattern (`models` holds the filter's model).
    KeyPattern(KeysClause),
    /// Entity ids, sorted (empty: every entity).
    HashedKeys(Vec<EntityId>),
    /// Every condition.
    All(Vec<Condition>),
    /// Some condition.
    Any(Vec<Condition>),
}

/// Compiles `where` entries; `and` entries are flattened into the list they appear in.
pub(crate) fn compile_all(
    specs: &[ConditionSpec],
    model: &str,
    shape: &Ty,
    out: &mut Vec<Condition>,
) -> Result<(), FilterError> {
    for spec in specs {
        match spec {
            ConditionSpec::And(inner) => compile_all(inner, model, shape, out)?,
            other => out.push(compile(other, model, shape)?),
        }
    }
    Ok(())
}

fn compile(spec: &ConditionSpec, model: &str, shape: &Ty) -> Result<Condition, FilterError> {
    let felt = Ty::Primitive(PrimitiveType::Felt252);
    let felt_of = |json: &Json, path: &str| -> Result<Felt, FilterError> {
        match Operand::parse(json, &felt, &At { model, path })? {
            Operand::Primitive(Primitive::Felt252(value)) => Ok(value),
            _ => Err(FilterError::Json(format!("{path}: not a felt"))),
        }
    };
    Ok(match spec {
        ConditionSpec::Member(predicate) => {
            Condition::Test(super::compile_predicate(model, shape, predicate)?)
        }
        ConditionSpec::Keys(named) => {
            let mut tests = Vec::with_capacity(named.len());
            for (name, value) in named {
                let key = super::compile_key(model, shape, name, value)?;
                tests.push(Condition::Test(key.into_predicate()));
            }
            match tests.len() {
                1 => tests.remove(0),
                _ => Condition::All(tests),
            }
        }
        ConditionSpec::KeyPattern { keys, matching } => {
            let mut pattern = Vec::with_capacity(keys.len());
            for (i, slot) in keys.iter().enumerate() {
                pattern.push(match slot {
                    Json::Null => None,
                    json => Some(felt_of(json, &format!("keys[{i}]"))?),
                });
            }
            Condition::KeyPattern(KeysClause {
                keys: pattern,
                pattern_matching: match matching {
                    KeyMatching::FixedLen => PatternMatching::FixedLen,
                    KeyMatching::VariableLen => PatternMatching::VariableLen,
                },
                models: vec![model.to_owned()],
            })
        }
        ConditionSpec::HashedKeys(ids) => {
            let mut set = Vec::with_capacity(ids.len());
            for (i, id) in ids.iter().enumerate() {
                set.push(felt_of(id, &format!("hashedKeys[{i}]"))?);
            }
            set.sort_unstable();
            set.dedup();
            Condition::HashedKeys(set)
        }
        ConditionSpec::And(inner) | ConditionSpec::Or(inner) => {
            let operator = if matches!(spec, ConditionSpec::And(_)) {
                "and"
            } else {
                "or"
            };
            if inner.is_empty() {
                return Err(FilterError::EmptyComposite {
                    model: model.to_owned(),
                    operator,
                });
            }
            let mut parts = Vec::with_capacity(inner.len());
            if operator == "and" {
                compile_all(inner, model, shape, &mut parts)?;
                Condition::All(parts)
            } else {
                for part in inner {
                    parts.push(compile(part, model, shape)?);
                }
                Condition::Any(parts)
            }
        }
    })
}

impl Condition {
    /// Whether the state (of the filter's model, not deleted) of entity `id` passes.
    pub(crate) fn test(&self, id: &EntityId, state: &(impl FilterState + ?Sized)) -> bool {
        match self {
            Condition::Test(predicate) => predicate.test(state),
            Condition::KeyPattern(pattern) => pattern.matches_keys(&state.key_felts()),
            Condition::HashedKeys(ids) => ids.is_empty() || ids.binary_search(id).is_ok(),
            Condition::All(parts) => parts.iter().all(|c| c.test(id, state)),
            Condition::Any(parts) => parts.iter().any(|c| c.test(id, state)),
        }
    }

    /// The equivalent Torii clause.
    pub(crate) fn to_clause(&self, model: &str) -> Clause {
        match self {
            Condition::Test(predicate) => Clause::Member(predicate.to_member_clause(model)),
            Condition::KeyPattern(pattern) => Clause::Keys(pattern.clone()),
            Condition::HashedKeys(ids) => Clause::HashedKeys(ids.clone()),
            Condition::All(parts) | Condition::Any(parts) => Clause::Composite(CompositeClause {
                operator: if matches!(self, Condition::All(_)) {
                    LogicalOperator::And
                } else {
                    LogicalOperator::Or
                },
                clauses: parts.iter().map(|c| c.to_clause(model)).collect(),
            }),
        }
    }
}

/// Whether an entity matching `clause` always holds a state of `model` (so the clause alone
/// selects the same entities as the filter).
pub(crate) fn implies_model(clause: &Clause, model: &str) -> bool {
    match clause {
        Clause::HashedKeys(_) => false,
        Clause::Member(member) => member.model == model,
        Clause::Keys(keys) => matches!(keys.models.as_slice(), [only] if only == model),
        Clause::Composite(composite) => match composite.operator {
            LogicalOperator::And => composite.clauses.iter().any(|c| implies_model(c, model)),
            LogicalOperator::Or => {
                !composite.clauses.is_empty()
                    && composite.clauses.iter().all(|c| implies_model(c, model))
            }
        },
    }
}
