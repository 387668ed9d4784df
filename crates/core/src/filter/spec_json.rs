//! The query DSL's written forms ([`QuerySpec`], [`FilterSpec`], [`SelectionSpec`],
//! [`OrderSpec`], [`PredicateSpec`], [`ConditionSpec`]) read from JSON by hand, and their serde
//! `Deserialize` through it. Derived deserializers would bring serde's generic visitors and,
//! through its error messages, float formatting into the page's wasm module (~40 KB); the view
//! reads a query with [`QuerySpec::from_json`] instead.
//!
//! Every object refuses fields it does not know; `null` reads as an absent field.

use serde::de::Error as _;
use serde::{Deserialize, Deserializer};
use serde_json::{Map, Value as Json};

use super::condition::named_keys;
use super::operand::snippet;
use super::{ConditionSpec, Direction, FilterOp, FilterSpec, KeyMatching, PredicateSpec};
use super::{OrderSpec, QuerySpec, SelectionSpec};

/// The fields of `json`, an object `what` with only the fields `allowed`.
fn fields<'a>(
    json: &'a Json,
    what: &str,
    allowed: &[&str],
) -> Result<&'a Map<String, Json>, String> {
    let Json::Object(map) = json else {
        return Err(format!("{what} is an object, got {}", snippet(json)));
    };
    match map.keys().find(|k| !allowed.contains(&k.as_str())) {
        Some(extra) => Err(format!(
            "unknown field `{extra}` in {what} (its fields: {})",
            allowed.join(", ")
        )),
        None => Ok(map),
    }
}

/// The field `name` of `map`, absent when missing or `null`.
fn field<'a>(map: &'a Map<String, Json>, name: &str) -> Option<&'a Json> {
    map.get(name).filter(|v| !v.is_null())
}

/// A string field.
fn text(map: &Map<String, Json>, name: &str, what: &str) -> Result<Option<String>, String> {
    match field(map, name) {
        None => Ok(None),
        Some(Json::String(s)) => Ok(Some(s.clone())),
        Some(other) => Err(format!(
            "{what}: {name} is a string, got {}",
            snippet(other)
        )),
    }
}

/// A field holding a list, each item read by `item`.
fn list<T>(
    map: &Map<String, Json>,
    name: &str,
    what: &str,
    item: impl Fn(&Json) -> Result<T, String>,
) -> Result<Option<Vec<T>>, String> {
    match field(map, name) {
        None => Ok(None),
        Some(Json::Array(items)) => {
            let mut parsed = Vec::with_capacity(items.len());
            for json in items {
                parsed.push(item(json)?);
            }
            Ok(Some(parsed))
        }
        Some(other) => Err(format!("{what}: {name} is a list, got {}", snippet(other))),
    }
}

/// A member path in a list of them.
fn path(json: &Json) -> Result<String, String> {
    match json {
        Json::String(s) => Ok(s.clone()),
        other => Err(format!("a member path is a string, got {}", snippet(other))),
    }
}

impl QuerySpec {
    /// Reads a query `{ filter?, select?, orderBy?, limit?, cursor? }`.
    pub fn from_json(json: &Json) -> Result<QuerySpec, String> {
        const WHAT: &str = "the query";
        let map = fields(
            json,
            WHAT,
            &["filter", "select", "orderBy", "limit", "cursor"],
        )?;
        let limit =
            match field(map, "limit") {
                None => None,
                Some(n) => Some(n.as_u64().and_then(|n| u32::try_from(n).ok()).ok_or_else(
                    || {
                        format!(
                            "{WHAT}: limit is a whole number up to {}, got {}",
                            u32::MAX,
                            snippet(n)
                        )
                    },
                )?),
            };
        Ok(QuerySpec {
            filter: field(map, "filter")
                .map(FilterSpec::from_json)
                .transpose()?,
            select: field(map, "select")
                .map(SelectionSpec::from_json)
                .transpose()?,
            order_by: list(map, "orderBy", WHAT, OrderSpec::from_json)?.unwrap_or_default(),
            limit,
            cursor: text(map, "cursor", WHAT)?,
        })
    }
}

impl FilterSpec {
    /// Reads a filter `{ keys?, where? }`.
    pub fn from_json(json: &Json) -> Result<FilterSpec, String> {
        const WHAT: &str = "the filter";
        let map = fields(json, WHAT, &["keys", "where"])?;
        let keys = match field(map, "keys") {
            None => Default::default(),
            Some(Json::Object(named)) => named_keys(named),
            Some(other) => {
                return Err(format!(
                    "{WHAT}: keys is an object (key member → value), got {}",
                    snippet(other)
                ))
            }
        };
        Ok(FilterSpec {
            keys,
            predicates: list(map, "where", WHAT, ConditionSpec::from_json)?.unwrap_or_default(),
        })
    }
}

impl PredicateSpec {
    /// Reads a member predicate `{ member, op, value }`.
    pub fn from_json(json: &Json) -> Result<PredicateSpec, String> {
        const WHAT: &str = "a member predicate";
        let map = fields(json, WHAT, &["member", "op", "value"])?;
        let member = text(map, "member", WHAT)?.ok_or_else(|| format!("{WHAT} needs member"))?;
        let op = text(map, "op", WHAT)?.ok_or_else(|| format!("{WHAT} needs op"))?;
        let op = FilterOp::from_name(&op).ok_or_else(|| {
            let names: Vec<&str> = FilterOp::ALL.iter().map(|op| op.name()).collect();
            format!("unknown op `{op}` (the ops: {})", names.join(", "))
        })?;
        let value = map
            .get("value")
            .cloned()
            .ok_or_else(|| format!("{WHAT} needs value"))?;
        Ok(PredicateSpec { member, op, value })
    }
}

impl SelectionSpec {
    /// Reads a member selection `{ include?, exclude? }`.
    pub fn from_json(json: &Json) -> Result<SelectionSpec, String> {
        const WHAT: &str = "select";
        let map = fields(json, WHAT, &["include", "exclude"])?;
        Ok(SelectionSpec {
            include: list(map, "include", WHAT, path)?,
            exclude: list(map, "exclude", WHAT, path)?.unwrap_or_default(),
        })
    }
}

impl OrderSpec {
    /// Reads one `orderBy` entry `{ member, direction? }`.
    pub fn from_json(json: &Json) -> Result<OrderSpec, String> {
        const WHAT: &str = "an orderBy entry";
        let map = fields(json, WHAT, &["member", "direction"])?;
        let member = text(map, "member", WHAT)?.ok_or_else(|| format!("{WHAT} needs member"))?;
        let direction = match text(map, "direction", WHAT)?.as_deref() {
            None | Some("asc") => Direction::Asc,
            Some("desc") => Direction::Desc,
            Some(other) => {
                return Err(format!(
                    "{WHAT}: direction is \"asc\" or \"desc\", got {}",
                    crate::Quoted(other)
                ))
            }
        };
        Ok(OrderSpec { member, direction })
    }
}

impl KeyMatching {
    /// The DSL spelling's matching (`fixedLen`, `variableLen`).
    pub fn from_name(name: &str) -> Option<KeyMatching> {
        match name {
            "fixedLen" => Some(KeyMatching::FixedLen),
            "variableLen" => Some(KeyMatching::VariableLen),
            _ => None,
        }
    }
}

/// `Deserialize` for written forms read by their `from_json`.
macro_rules! deserialize_from_json {
    ($($spec:ty),*) => {$(
        impl<'de> Deserialize<'de> for $spec {
            fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
                let json = Json::deserialize(deserializer)?;
                <$spec>::from_json(&json).map_err(D::Error::custom)
            }
        }
    )*};
}

deserialize_from_json!(
    QuerySpec,
    FilterSpec,
    PredicateSpec,
    SelectionSpec,
    OrderSpec,
    ConditionSpec
);

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn a_query_is_read_whole_and_alike_by_hand_and_through_serde() {
        let json = json!({
            "filter": {
                "keys": { "player": "0x5" },
                "where": [
                    { "member": "pos.x", "op": "gte", "value": 10 },
                    { "or": [{ "member": "class", "op": "notIn", "value": ["Mage"] }] },
                    { "keys": ["0x1", null], "matching": "variableLen" }
                ]
            },
            "select": { "include": ["pos"], "exclude": ["pos.y"] },
            "orderBy": [{ "member": "gold", "direction": "desc" }, { "member": "name" }],
            "limit": 25,
            "cursor": "ob2:0x1"
        });
        let spec = QuerySpec::from_json(&json).unwrap();
        let filter = spec.filter.clone().unwrap();
        assert_eq!(filter.keys.get("player"), Some(&json!("0x5")));
        assert_eq!(filter.predicates.len(), 3);
        assert_eq!(
            filter.predicates[0],
            ConditionSpec::Member(PredicateSpec {
                member: "pos.x".into(),
                op: FilterOp::Gte,
                value: json!(10),
            })
        );
        assert!(matches!(
            &filter.predicates[2],
            ConditionSpec::KeyPattern {
                matching: KeyMatching::VariableLen,
                ..
            }
        ));
        assert_eq!(
            spec.select.clone().unwrap().include,
            Some(vec!["pos".to_owned()])
        );
        assert_eq!(spec.order_by[0].direction, Direction::Desc);
        assert_eq!(spec.order_by[1].direction, Direction::Asc);
        assert_eq!(
            (spec.limit, spec.cursor.as_deref()),
            (Some(25), Some("ob2:0x1"))
        );
        assert_eq!(serde_json::from_value::<QuerySpec>(json).unwrap(), spec);
        // Absent and null fields are the defaults.
        let empty = QuerySpec::default();
        assert_eq!(QuerySpec::from_json(&json!({})).unwrap(), empty);
        assert_eq!(
            QuerySpec::from_json(&json!({ "filter": null, "orderBy": null, "limit": null }))
                .unwrap(),
            empty
        );
    }

    #[test]
    fn a_query_with_an_unknown_field_or_a_wrong_type_is_refused_with_its_place() {
        for (json, expected) in [
            (json!({ "limt": 5 }), "unknown field `limt` in the query"),
            (
                json!({ "filter": { "wher": [] } }),
                "unknown field `wher` in the filter",
            ),
            (
                json!({ "select": { "only": [] } }),
                "unknown field `only` in select",
            ),
            (
                json!({ "orderBy": [{ "member": "x", "dir": "asc" }] }),
                "unknown field `dir`",
            ),
            (json!({ "limit": -1 }), "limit is a whole number"),
            (json!({ "limit": 1.5 }), "limit is a whole number"),
            (
                json!({ "limit": 4_294_967_296_u64 }),
                "limit is a whole number",
            ),
            (json!({ "cursor": 5 }), "cursor is a string"),
            (json!({ "orderBy": {} }), "orderBy is a list"),
            (
                json!({ "orderBy": [{ "direction": "up" }] }),
                "needs member",
            ),
            (
                json!({ "orderBy": [{ "member": "x", "direction": "up" }] }),
                "\"asc\" or \"desc\"",
            ),
            (
                json!({ "select": { "include": [1] } }),
                "a member path is a string",
            ),
            (json!({ "filter": { "keys": [] } }), "keys is an object"),
            (
                json!({ "filter": { "where": [{ "member": "x", "op": "like", "value": 1 }] } }),
                "unknown op `like`",
            ),
            (
                json!({ "filter": { "where": [{ "member": "x", "op": "eq" }] } }),
                "needs value",
            ),
            (json!([]), "the query is an object"),
        ] {
            let error = QuerySpec::from_json(&json).unwrap_err();
            assert!(error.contains(expected), "{json}: {error}");
            let through_serde = serde_json::from_value::<QuerySpec>(json).unwrap_err();
            assert!(
                through_serde.to_string().contains(expected),
                "{through_serde}"
            );
        }
    }
}
