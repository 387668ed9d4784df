//! Torii clauses written as JSON (the sync targets' `clause`), in the shape of Torii's own
//! clients (externally tagged, as `torii-wasm` and dojo.js write them):
//!
//! ```json
//! { "HashedKeys": ["0x1", "0x2"] }
//! { "Keys": { "keys": ["0x7", null], "pattern_matching": "FixedLen", "models": ["ns-Player"] } }
//! { "Member": { "model": "ns-Position", "member": "vec.x", "operator": "Gte", "value": 10 } }
//! { "Composite": { "operator": "Or", "clauses": [ ... ] } }
//! ```
//!
//! Keys are hex felts (`null` or `""`: any felt); `pattern_matching` is `FixedLen` (default) or
//! `VariableLen`; `models` is optional. Operators are Torii's 14, written `Eq` or `EQ` (`Neq`,
//! `Gt`, `Gte`, `Lt`, `Lte`, `In`, `NotIn`, `Contains`, `ContainsAll`, `ContainsAny`,
//! `ArrayLengthEq`, `ArrayLengthGt`, `ArrayLengthLt`, or with underscores: `NOT_IN`). A member
//! value is written as in a query filter and typed by the manifest (numbers as JSON numbers or
//! decimal/`0x` strings, enums by variant name, `ByteArray`s as strings, `bool`s); `In`,
//! `NotIn`, `ContainsAll` and `ContainsAny` take a list; `Contains*` values are typed as the
//! array's elements; `ArrayLength*` take a count. `{ "String": "..." }` passes text through
//! untyped. Composites nest to any depth up to [`MAX_DEPTH`].

use serde_json::{Map, Value as Json};

use crate::bytes32::Felt;
use crate::clause::{
    Clause, ComparisonOperator, CompositeClause, KeysClause, LogicalOperator, MemberClause,
    MemberValue, PatternMatching,
};
use crate::filter::{resolve_path, At, Operand};
use crate::schema::{SchemaRegistry, Ty};
use crate::value::Primitive;

/// Deepest nesting of composites accepted.
pub const MAX_DEPTH: usize = 32;

/// A clause that cannot be read: where (a JSON path such as `clause.Composite.clauses[1]`) and
/// what is wrong.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{at}: {message}")]
pub struct ClauseJsonError {
    /// Where in the clause.
    pub at: String,
    /// What is wrong.
    pub message: String,
}

/// Reads a clause; member values are typed by `schemas` (the manifest's models).
pub fn clause_from_json(
    json: &Json,
    schemas: &SchemaRegistry,
    at: &str,
) -> Result<Clause, ClauseJsonError> {
    read(json, schemas, at, 0)
}

fn fail(at: &str, message: impl Into<String>) -> ClauseJsonError {
    ClauseJsonError {
        at: at.to_owned(),
        message: message.into(),
    }
}

fn object<'j>(json: &'j Json, at: &str) -> Result<&'j Map<String, Json>, ClauseJsonError> {
    json.as_object()
        .ok_or_else(|| fail(at, format!("expected an object, got {json}")))
}

fn text<'j>(map: &'j Map<String, Json>, key: &str, at: &str) -> Result<&'j str, ClauseJsonError> {
    map.get(key)
        .and_then(Json::as_str)
        .ok_or_else(|| fail(&format!("{at}.{key}"), "expected a string"))
}

fn felt(json: &Json, at: &str) -> Result<Felt, ClauseJsonError> {
    json.as_str()
        .and_then(|s| Felt::from_hex(s).ok())
        .ok_or_else(|| fail(at, format!("expected a hex felt (\"0x…\"), got {json}")))
}

/// Operator and variant names compare without case and underscores.
fn squash(name: &str) -> String {
    name.chars()
        .filter(|c| *c != '_')
        .map(|c| c.to_ascii_uppercase())
        .collect()
}

fn read(
    json: &Json,
    schemas: &SchemaRegistry,
    at: &str,
    depth: usize,
) -> Result<Clause, ClauseJsonError> {
    if depth > MAX_DEPTH {
        return Err(fail(at, format!("composites nest deeper than {MAX_DEPTH}")));
    }
    let map = object(json, at)?;
    let (tag, body) = match (map.len(), map.iter().next()) {
        (1, Some(entry)) => entry,
        _ => {
            return Err(fail(
                at,
                "expected one of { HashedKeys }, { Keys }, { Member }, { Composite }",
            ))
        }
    };
    let at = format!("{at}.{tag}");
    match tag.as_str() {
        "HashedKeys" => {
            let ids = body
                .as_array()
                .ok_or_else(|| fail(&at, "expected an array of hex entity ids"))?;
            let mut felts = Vec::with_capacity(ids.len());
            for (i, id) in ids.iter().enumerate() {
                felts.push(felt(id, &format!("{at}[{i}]"))?);
            }
            Ok(Clause::HashedKeys(felts))
        }
        "Keys" => keys(object(body, &at)?, &at).map(Clause::Keys),
        "Member" => member(object(body, &at)?, schemas, &at).map(Clause::Member),
        "Composite" => {
            let body = object(body, &at)?;
            let operator = match squash(text(body, "operator", &at)?).as_str() {
                "AND" => LogicalOperator::And,
                "OR" => LogicalOperator::Or,
                other => {
                    return Err(fail(
                        &format!("{at}.operator"),
                        format!("expected And or Or, got {other:?}"),
                    ))
                }
            };
            let clauses = body
                .get("clauses")
                .and_then(Json::as_array)
                .ok_or_else(|| fail(&format!("{at}.clauses"), "expected an array of clauses"))?;
            let mut read_clauses = Vec::with_capacity(clauses.len());
            for (i, c) in clauses.iter().enumerate() {
                read_clauses.push(read(c, schemas, &format!("{at}.clauses[{i}]"), depth + 1)?);
            }
            let clauses = read_clauses;
            Ok(Clause::Composite(CompositeClause { operator, clauses }))
        }
        other => Err(fail(
            &at,
            format!("unknown clause {other:?}: expected HashedKeys, Keys, Member or Composite"),
        )),
    }
}

fn keys(body: &Map<String, Json>, at: &str) -> Result<KeysClause, ClauseJsonError> {
    let slots = body.get("keys").and_then(Json::as_array).ok_or_else(|| {
        fail(
            &format!("{at}.keys"),
            "expected an array of hex felts or null",
        )
    })?;
    let mut keys = Vec::with_capacity(slots.len());
    for (i, slot) in slots.iter().enumerate() {
        keys.push(match slot {
            Json::Null => None,
            Json::String(s) if s.is_empty() => None,
            other => Some(felt(other, &format!("{at}.keys[{i}]"))?),
        });
    }
    let pattern_matching = match body.get("pattern_matching").map(|p| p.as_str()) {
        None => PatternMatching::FixedLen,
        Some(Some(name)) if squash(name) == "FIXEDLEN" => PatternMatching::FixedLen,
        Some(Some(name)) if squash(name) == "VARIABLELEN" => PatternMatching::VariableLen,
        Some(_) => {
            return Err(fail(
                &format!("{at}.pattern_matching"),
                "expected FixedLen or VariableLen",
            ))
        }
    };
    let models = match body.get("models") {
        None | Some(Json::Null) => Vec::new(),
        Some(Json::Array(models)) => models
            .iter()
            .map(|m| {
                m.as_str()
                    .map(str::to_owned)
                    .ok_or_else(|| fail(&format!("{at}.models"), "expected model tags"))
            })
            .collect::<Result<_, _>>()?,
        Some(_) => {
            return Err(fail(
                &format!("{at}.models"),
                "expected an array of model tags",
            ))
        }
    };
    Ok(KeysClause {
        keys,
        pattern_matching,
        models,
    })
}

fn operator(name: &str, at: &str) -> Result<ComparisonOperator, ClauseJsonError> {
    use ComparisonOperator as Op;
    Ok(match squash(name).as_str() {
        "EQ" => Op::Eq,
        "NEQ" => Op::Neq,
        "GT" => Op::Gt,
        "GTE" => Op::Gte,
        "LT" => Op::Lt,
        "LTE" => Op::Lte,
        "IN" => Op::In,
        "NOTIN" => Op::NotIn,
        "CONTAINS" => Op::Contains,
        "CONTAINSALL" => Op::ContainsAll,
        "CONTAINSANY" => Op::ContainsAny,
        "ARRAYLENGTHEQ" => Op::ArrayLengthEq,
        "ARRAYLENGTHGT" => Op::ArrayLengthGt,
        "ARRAYLENGTHLT" => Op::ArrayLengthLt,
        _ => {
            return Err(fail(
                at,
                format!("unknown operator {name:?}: expected one of Eq, Neq, Gt, Gte, Lt, Lte, In, NotIn, Contains, ContainsAll, ContainsAny, ArrayLengthEq, ArrayLengthGt, ArrayLengthLt"),
            ))
        }
    })
}

fn member(
    body: &Map<String, Json>,
    schemas: &SchemaRegistry,
    at: &str,
) -> Result<MemberClause, ClauseJsonError> {
    use ComparisonOperator as Op;
    let model = text(body, "model", at)?;
    let path = text(body, "member", at)?;
    let op = operator(text(body, "operator", at)?, &format!("{at}.operator"))?;
    let value_at = format!("{at}.value");
    let json = body
        .get("value")
        .ok_or_else(|| fail(&value_at, "missing value"))?;
    let shape = schemas
        .get(model)
        .ok_or_else(|| fail(&format!("{at}.model"), format!("unknown model {model:?}")))?;
    let place = At { model, path };
    let (_, ty) =
        resolve_path(shape, &place).map_err(|e| fail(&format!("{at}.member"), e.to_string()))?;
    let element = || match ty {
        Ty::Array(Some(element)) => Ok(element.as_ref()),
        Ty::FixedSizeArray {
            element: Some(element),
            ..
        } => Ok(element.as_ref()),
        other => Err(fail(
            &value_at,
            format!("{model}.{path} is {other}, not an array"),
        )),
    };
    let value = match op {
        Op::In | Op::NotIn => typed_list(json, ty, &place, &value_at)?,
        Op::ContainsAll | Op::ContainsAny => typed_list(json, element()?, &place, &value_at)?,
        Op::Contains if matches!(ty, Ty::ByteArray) => typed(json, ty, &place, &value_at)?,
        Op::Contains => typed(json, element()?, &place, &value_at)?,
        Op::ArrayLengthEq | Op::ArrayLengthGt | Op::ArrayLengthLt => {
            let count = json
                .as_u64()
                .and_then(|n| u32::try_from(n).ok())
                .ok_or_else(|| fail(&value_at, format!("expected an array length, got {json}")))?;
            MemberValue::Primitive(Primitive::U32(count))
        }
        _ => typed(json, ty, &place, &value_at)?,
    };
    Ok(MemberClause {
        model: model.to_owned(),
        member: path.to_owned(),
        operator: op,
        value,
    })
}

/// One value typed as `ty`; `{ "String": "..." }` passes through as text.
fn typed(json: &Json, ty: &Ty, place: &At<'_>, at: &str) -> Result<MemberValue, ClauseJsonError> {
    if let Some(Json::String(text)) = json.as_object().and_then(|m| m.get("String")) {
        return Ok(MemberValue::String(text.clone()));
    }
    Operand::parse(json, ty, place)
        .map(|operand| operand.to_member_value())
        .map_err(|e| fail(at, e.to_string()))
}

/// A list of values typed as `ty` (a JSON array, or `{ "List": [...] }`).
fn typed_list(
    json: &Json,
    ty: &Ty,
    place: &At<'_>,
    at: &str,
) -> Result<MemberValue, ClauseJsonError> {
    let items = json
        .as_array()
        .or_else(|| {
            json.as_object()
                .and_then(|m| m.get("List"))
                .and_then(Json::as_array)
        })
        .ok_or_else(|| fail(at, format!("expected a list of values, got {json}")))?;
    let mut values = Vec::with_capacity(items.len());
    for (i, item) in items.iter().enumerate() {
        values.push(typed(item, ty, place, &format!("{at}[{i}]"))?);
    }
    Ok(MemberValue::List(values))
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;
    use crate::schema::PrimitiveType;

    fn schemas() -> SchemaRegistry {
        let mut schemas = SchemaRegistry::new();
        schemas.register(
            "ns-Player",
            Ty::Struct {
                name: "ns-Player".into(),
                members: vec![
                    ("id".into(), true, Ty::Primitive(PrimitiveType::U32)),
                    ("gold".into(), false, Ty::Primitive(PrimitiveType::U64)),
                    (
                        "class".into(),
                        false,
                        Ty::Enum {
                            name: "Class".into(),
                            options: vec![
                                ("Mage".into(), Ty::unit()),
                                ("Rogue".into(), Ty::unit()),
                            ],
                        },
                    ),
                    (
                        "items".into(),
                        false,
                        Ty::Array(Some(Box::new(Ty::Primitive(PrimitiveType::U8)))),
                    ),
                ],
            },
        );
        schemas
    }

    fn member(member: &str, operator: &str, value: Json) -> Json {
        json!({ "Member": { "model": "ns-Player", "member": member, "operator": operator, "value": value } })
    }

    #[test]
    fn every_clause_form_and_operator_reads() {
        let s = schemas();
        let read = |json: Json| clause_from_json(&json, &s, "clause").unwrap();
        for (op, value) in [
            ("Eq", json!(5)),
            ("NEQ", json!("0x5")),
            ("Gt", json!(1)),
            ("Gte", json!(1)),
            ("Lt", json!(1)),
            ("LTE", json!(1)),
            ("In", json!([1, 2])),
            ("NOT_IN", json!([3])),
        ] {
            let Clause::Member(m) = read(member("gold", op, value)) else {
                panic!("{op}")
            };
            assert!(!matches!(m.value, MemberValue::String(_)), "{op} is typed");
        }
        for (op, value) in [
            ("Contains", json!(2)),
            ("ContainsAll", json!([1, 2])),
            ("CONTAINS_ANY", json!({ "List": [1] })),
            ("ArrayLengthEq", json!(2)),
            ("ArrayLengthGt", json!(1)),
            ("ARRAY_LENGTH_LT", json!(3)),
        ] {
            read(member("items", op, value));
        }
        assert_eq!(
            read(member("class", "Eq", json!("Mage"))),
            Clause::Member(MemberClause {
                model: "ns-Player".into(),
                member: "class".into(),
                operator: ComparisonOperator::Eq,
                value: MemberValue::String("Mage".into()),
            })
        );
        let nested = read(json!({ "Composite": { "operator": "Or", "clauses": [
            { "HashedKeys": ["0x1"] },
            { "Composite": { "operator": "And", "clauses": [
                { "Keys": { "keys": ["0x7", null], "pattern_matching": "VariableLen", "models": ["ns-Player"] } },
                member("gold", "Gt", json!("100")),
            ] } },
        ] } }));
        let Clause::Composite(or) = nested else {
            panic!()
        };
        assert_eq!(or.operator, LogicalOperator::Or);
        let Clause::Composite(and) = &or.clauses[1] else {
            panic!()
        };
        let Clause::Keys(keys) = &and.clauses[0] else {
            panic!()
        };
        assert_eq!(keys.keys, vec![Some(Felt::from(7u128)), None]);
        assert_eq!(keys.pattern_matching, PatternMatching::VariableLen);
    }

    #[test]
    fn mistakes_name_where_they_are() {
        let s = schemas();
        let error = |json: Json| clause_from_json(&json, &s, "targets[0].clause").unwrap_err();
        let e = error(
            json!({ "Composite": { "operator": "Or", "clauses": [member("gold", "Eq", json!("many"))] } }),
        );
        assert_eq!(e.at, "targets[0].clause.Composite.clauses[0].Member.value");
        assert!(error(member("nope", "Eq", json!(1)))
            .to_string()
            .contains("no member"));
        assert!(error(member("gold", "Like", json!(1)))
            .to_string()
            .contains("unknown operator"));
        assert!(error(json!({ "HashedKeys": ["x"] }))
            .to_string()
            .contains("hex felt"));
        assert!(error(json!({ "Keys": {}, "Member": {} }))
            .to_string()
            .contains("one of"));
        let mut deep = json!({ "HashedKeys": [] });
        for _ in 0..40 {
            deep = json!({ "Composite": { "operator": "And", "clauses": [deep] } });
        }
        assert!(error(deep).to_string().contains("deeper"));
    }
}
