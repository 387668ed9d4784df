use std::collections::HashMap;

use serde_json::json;

use super::*;
use crate::bytes32::{Felt, U256};
use crate::value::{EnumValue, Member, Primitive};

fn p(t: PrimitiveType) -> Ty {
    Ty::Primitive(t)
}

fn shape() -> Ty {
    Ty::Struct {
        name: "ns-Player".into(),
        members: vec![
            ("player".into(), true, p(PrimitiveType::ContractAddress)),
            ("id".into(), true, p(PrimitiveType::U32)),
            ("gold".into(), false, p(PrimitiveType::U64)),
            ("hp".into(), false, p(PrimitiveType::I16)),
            ("big".into(), false, p(PrimitiveType::U256)),
            ("alive".into(), false, p(PrimitiveType::Bool)),
            (
                "class".into(),
                false,
                Ty::Enum {
                    name: "Class".into(),
                    options: vec![
                        ("Warrior".into(), Ty::unit()),
                        ("Mage".into(), Ty::unit()),
                        ("Rogue".into(), Ty::unit()),
                    ],
                },
            ),
            ("name".into(), false, Ty::ByteArray),
            (
                "pos".into(),
                false,
                Ty::Struct {
                    name: "Vec2".into(),
                    members: vec![
                        ("x".into(), false, p(PrimitiveType::U32)),
                        ("y".into(), false, p(PrimitiveType::I32)),
                    ],
                },
            ),
            (
                "items".into(),
                false,
                Ty::Array(Some(Box::new(p(PrimitiveType::U8)))),
            ),
        ],
    }
}

fn shapes() -> HashMap<String, Ty> {
    let mut shapes = HashMap::new();
    shapes.insert("ns-Player".to_owned(), shape());
    shapes.insert(
        "ns-Named".to_owned(),
        Ty::Struct {
            name: "ns-Named".into(),
            members: vec![
                ("label".into(), true, Ty::ByteArray),
                ("v".into(), false, p(PrimitiveType::U8)),
            ],
        },
    );
    shapes
}

fn m(name: &str, key: bool, value: Value) -> Member {
    Member {
        name: name.into(),
        key,
        value,
    }
}

fn prim(p: Primitive) -> Value {
    Value::Primitive(p)
}

fn player(id: u32, gold: u64, hp: i16, class: &str, x: u32) -> Struct {
    let option = ["Warrior", "Mage", "Rogue"]
        .iter()
        .position(|c| *c == class)
        .unwrap_or(0) as u32;
    Struct {
        name: "ns-Player".into(),
        members: vec![
            m(
                "player",
                true,
                prim(Primitive::ContractAddress(Felt::from(0xabu128))),
            ),
            m("id", true, prim(Primitive::U32(id))),
            m("gold", false, prim(Primitive::U64(gold))),
            m("hp", false, prim(Primitive::I16(hp))),
            m("big", false, prim(Primitive::U256(U256::from(u128::MAX)))),
            m("alive", false, prim(Primitive::Bool(hp > 0))),
            m(
                "class",
                false,
                Value::Enum(EnumValue {
                    name: "Class".into(),
                    option,
                    variant: class.into(),
                    value: Box::new(Value::unit()),
                }),
            ),
            m("name", false, Value::ByteArray(format!("p{id}"))),
            m(
                "pos",
                false,
                Value::Struct(Struct {
                    name: "Vec2".into(),
                    members: vec![
                        m("x", false, prim(Primitive::U32(x))),
                        m("y", false, prim(Primitive::I32(-(x as i32)))),
                    ],
                }),
            ),
            m("items", false, Value::Array(vec![prim(Primitive::U8(1))])),
        ],
    }
}

fn filter(json: serde_json::Value) -> Result<Filter, FilterError> {
    Filter::parse("ns-Player", &json.to_string(), &shapes())
}

fn check(json: serde_json::Value, state: &Struct, expected: bool) {
    let f = filter(json.clone()).unwrap();
    assert_eq!(f.matches(&Felt::ZERO, state), expected, "{json}");
    let clause = f.to_clause();
    assert_eq!(
        clause.matches(&Felt::ZERO, std::slice::from_ref(state)),
        expected,
        "clause of {json}: {clause:?}"
    );
}

#[test]
fn evaluates_every_operator() {
    let s = player(7, 100, -5, "Mage", 3);
    check(json!({}), &s, true);
    check(json!({"keys": {"id": 7}}), &s, true);
    check(json!({"keys": {"id": "7", "player": "0xab"}}), &s, true);
    check(json!({"keys": {"id": 8}}), &s, false);
    check(
        json!({"where": [{"member": "gold", "op": "eq", "value": "100"}]}),
        &s,
        true,
    );
    check(
        json!({"where": [{"member": "gold", "op": "neq", "value": 100}]}),
        &s,
        false,
    );
    check(
        json!({"where": [{"member": "gold", "op": "gt", "value": 99}]}),
        &s,
        true,
    );
    check(
        json!({"where": [{"member": "gold", "op": "gte", "value": 101}]}),
        &s,
        false,
    );
    check(
        json!({"where": [{"member": "hp", "op": "lt", "value": -4}]}),
        &s,
        true,
    );
    check(
        json!({"where": [{"member": "hp", "op": "lte", "value": "-6"}]}),
        &s,
        false,
    );
    check(
        json!({"where": [{"member": "big", "op": "eq", "value": u128::MAX.to_string()}]}),
        &s,
        true,
    );
    check(
        json!({"where": [{"member": "alive", "op": "eq", "value": false}]}),
        &s,
        true,
    );
    check(
        json!({"where": [{"member": "class", "op": "in", "value": ["Rogue", "Mage"]}]}),
        &s,
        true,
    );
    check(
        json!({"where": [{"member": "class", "op": "neq", "value": {"variant": "Mage"}}]}),
        &s,
        false,
    );
    check(
        json!({"where": [{"member": "name", "op": "gt", "value": "p"}]}),
        &s,
        true,
    );
    check(
        json!({"where": [{"member": "pos.x", "op": "eq", "value": 3}]}),
        &s,
        true,
    );
    check(
        json!({"where": [{"member": "pos.y", "op": "gt", "value": -3}]}),
        &s,
        false,
    );
    check(
        json!({"where": [{"member": "gold", "op": "in", "value": []}]}),
        &s,
        false,
    );
    check(
        json!({"keys": {"id": 7}, "where": [
            {"member": "gold", "op": "gte", "value": 100},
            {"member": "pos.x", "op": "lt", "value": 4}
        ]}),
        &s,
        true,
    );
    // Deleted states and other models never match.
    let deleted = Struct {
        name: "ns-Player".into(),
        members: vec![],
    };
    check(json!({}), &deleted, false);
    check(
        json!({"where": [{"member": "gold", "op": "neq", "value": 1}]}),
        &deleted,
        false,
    );
    let mut other = s.clone();
    other.name = "ns-Other".into();
    check(json!({}), &other, false);
}

fn error(json: serde_json::Value) -> FilterError {
    filter(json.clone()).expect_err(&json.to_string())
}

#[test]
fn rejects_invalid_filters_with_named_errors() {
    assert!(matches!(
        Filter::parse("ns-Nope", "{}", &shapes()),
        Err(FilterError::UnknownModel { model }) if model == "ns-Nope"
    ));
    for (json, path) in [
        (
            json!({"where": [{"member": "pos.z", "op": "eq", "value": 1}]}),
            "pos.z",
        ),
        (
            json!({"where": [{"member": "gold.x", "op": "eq", "value": 1}]}),
            "gold.x",
        ),
        (
            json!({"where": [{"member": "", "op": "eq", "value": 1}]}),
            "",
        ),
        (json!({"keys": {"nope": 1}}), "nope"),
    ] {
        assert_eq!(
            error(json),
            FilterError::UnknownMember {
                model: "ns-Player".into(),
                path: path.into()
            }
        );
    }
    assert!(
        matches!(error(json!({"keys": {"gold": 1}})), FilterError::NotAKey { member, .. } if member == "gold")
    );
    assert!(matches!(
        error(json!({"where": [{"member": "pos", "op": "eq", "value": 1}]})),
        FilterError::NotComparable { path, .. } if path == "pos"
    ));
    assert!(matches!(
        error(json!({"where": [{"member": "items", "op": "in", "value": [1]}]})),
        FilterError::NotComparable { .. }
    ));
    assert!(matches!(
        error(json!({"where": [{"member": "class", "op": "gt", "value": "Mage"}]})),
        FilterError::OperatorNotAllowed { op: "gt", .. }
    ));
    assert!(matches!(
        error(json!({"where": [{"member": "alive", "op": "lt", "value": true}]})),
        FilterError::OperatorNotAllowed { .. }
    ));
    assert!(matches!(
        error(json!({"where": [{"member": "alive", "op": "eq", "value": 1}]})),
        FilterError::TypeMismatch { .. }
    ));
    assert!(matches!(
        error(json!({"where": [{"member": "gold", "op": "eq", "value": true}]})),
        FilterError::TypeMismatch { .. }
    ));
    assert!(matches!(
        error(json!({"where": [{"member": "class", "op": "eq", "value": 1}]})),
        FilterError::TypeMismatch { .. }
    ));
    assert!(matches!(
        error(json!({"where": [{"member": "gold", "op": "in", "value": 5}]})),
        FilterError::InNeedsList { found, .. } if found == "5"
    ));
    for bad in [json!(1.5), json!("12abc"), json!(1e30), json!("")] {
        assert!(matches!(
            error(json!({"where": [{"member": "gold", "op": "eq", "value": bad}]})),
            FilterError::BadNumber { .. }
        ));
    }
    for (member, value) in [
        ("hp", json!(40000)),
        ("gold", json!(-1)),
        ("id", json!("4294967296")),
    ] {
        assert!(matches!(
            error(json!({"where": [{"member": member, "op": "eq", "value": value}]})),
            FilterError::OutOfRange { .. }
        ));
    }
    assert!(matches!(
        error(json!({"where": [{"member": "gold", "op": "in", "value": [1, "x"]}]})),
        FilterError::BadNumber { .. }
    ));
    assert!(matches!(
        error(json!({"where": [{"member": "class", "op": "eq", "value": "Bard"}]})),
        FilterError::UnknownVariant { options, .. } if options == "Warrior, Mage, Rogue"
    ));
    assert!(matches!(
        error(json!({"where": [{"member": "gold", "op": "like", "value": 1}]})),
        FilterError::Json(_)
    ));
    assert!(matches!(error(json!({"wher": []})), FilterError::Json(_)));
    assert!(matches!(
        Filter::parse("ns-Player", "{", &shapes()),
        Err(FilterError::Json(_))
    ));
    let message =
        error(json!({"where": [{"member": "hp", "op": "eq", "value": 40000}]})).to_string();
    assert!(
        message.contains("ns-Player.hp") && message.contains("i16"),
        "{message}"
    );
}

#[test]
fn translates_to_clauses() {
    let f = filter(json!({"keys": {"id": 7}})).unwrap();
    assert_eq!(
        f.to_clause(),
        Clause::Keys(KeysClause {
            keys: vec![None, Some(Felt::from(7u128))],
            pattern_matching: PatternMatching::FixedLen,
            models: vec!["ns-Player".into()],
        })
    );
    assert_eq!(
        Filter::all("ns-Player").to_clause(),
        Clause::Keys(KeysClause {
            keys: vec![],
            pattern_matching: PatternMatching::VariableLen,
            models: vec!["ns-Player".into()],
        })
    );
    let f = filter(
        json!({"keys": {"id": 7}, "where": [{"member": "class", "op": "in", "value": ["Mage"]}]}),
    )
    .unwrap();
    match f.to_clause() {
        Clause::Composite(c) => {
            assert_eq!(c.operator, LogicalOperator::And);
            assert_eq!(c.clauses.len(), 2);
            assert_eq!(
                c.clauses[1],
                Clause::Member(MemberClause {
                    model: "ns-Player".into(),
                    member: "class".into(),
                    operator: ComparisonOperator::In,
                    value: crate::clause::MemberValue::List(vec![
                        crate::clause::MemberValue::String("Mage".into())
                    ]),
                })
            );
        }
        other => panic!("{other:?}"),
    }
    // A ByteArray key has no fixed width: keys become member clauses.
    let named = Filter::parse("ns-Named", r#"{"keys": {"label": "a"}}"#, &shapes()).unwrap();
    assert!(matches!(
        named.to_clause(),
        Clause::Member(MemberClause {
            operator: ComparisonOperator::Eq,
            ..
        })
    ));
    let state = Struct {
        name: "ns-Named".into(),
        members: vec![
            m("label", true, Value::ByteArray("a".into())),
            m("v", false, prim(Primitive::U8(1))),
        ],
    };
    assert!(named.matches(&Felt::ZERO, &state));
    assert!(named.to_clause().matches(&Felt::ZERO, &[state]));
}

#[test]
fn selections_prune_members() {
    let s = player(1, 2, 3, "Rogue", 4);
    let sel = |json: serde_json::Value| {
        let spec: SelectionSpec = serde_json::from_value(json).unwrap();
        Selection::compile("ns-Player", &spec, &shapes()).unwrap()
    };
    let kept = sel(json!({"include": ["id", "pos.x"]})).apply(&s);
    assert_eq!(kept.members_json(), json!({"id": 1, "pos": {"x": 4}}));
    let dropped = sel(json!({"exclude": ["items", "pos.y", "name"]})).apply(&s);
    assert_eq!(dropped.members.len(), s.members.len() - 2);
    assert_eq!(dropped.get_path("pos.x"), s.get_path("pos.x"));
    assert_eq!(dropped.get_path("pos.y"), None);
    let both = sel(json!({"include": ["pos"], "exclude": ["pos.x"]})).apply(&s);
    assert_eq!(both.members_json(), json!({"pos": {"y": -4}}));
    assert!(sel(json!({})).is_all());
    let spec: SelectionSpec = serde_json::from_value(json!({"include": ["pos.z"]})).unwrap();
    assert!(matches!(
        Selection::compile("ns-Player", &spec, &shapes()),
        Err(FilterError::UnknownMember { .. })
    ));
}

#[test]
fn queries_page_by_entity_id() {
    let states: Vec<(Felt, Struct)> = (0..25u32)
        .map(|i| {
            (
                Felt::from(u128::from(i * 7 % 25)),
                player(i, u64::from(i), 1, "Mage", i),
            )
        })
        .collect();
    let json = json!({"filter": {"where": [{"member": "gold", "op": "gte", "value": 5}]}, "select": {"include": ["gold"]}, "limit": 6});
    let mut query = Query::parse("ns-Player", &json.to_string(), &shapes()).unwrap();
    let mut seen = Vec::new();
    loop {
        let page = query.run(states.iter().map(|(id, s)| (id, s)));
        assert!(page.items.len() <= 6);
        assert!(page.items.windows(2).all(|w| w[0].0 < w[1].0));
        seen.extend(page.items.iter().map(|(id, s)| (*id, s.members.len())));
        match page.next_cursor {
            Some(cursor) => {
                let next = json!({"filter": {"where": [{"member": "gold", "op": "gte", "value": 5}]}, "select": {"include": ["gold"]}, "limit": 6, "cursor": cursor});
                query = Query::parse("ns-Player", &next.to_string(), &shapes()).unwrap();
            }
            None => break,
        }
    }
    assert_eq!(seen.len(), 20);
    assert!(seen.iter().all(|(_, members)| *members == 1));
    assert!(matches!(
        Query::parse("ns-Player", r#"{"limit": 0}"#, &shapes()),
        Err(FilterError::BadLimit)
    ));
    assert!(matches!(
        Query::parse("ns-Player", r#"{"cursor": "abc"}"#, &shapes()),
        Err(FilterError::BadCursor(_))
    ));
}

#[test]
fn pages_read_in_id_order_equal_pages_of_a_full_scan() {
    let states: Vec<(Felt, Struct)> = (0..40u32)
        .map(|i| {
            (
                Felt::from(u128::from(i * 13 % 40)),
                player(i, u64::from(i % 9), 1, "Mage", i),
            )
        })
        .collect();
    let unordered: Vec<(&Felt, &Struct)> = states.iter().map(|(id, s)| (id, s)).collect();
    let mut sorted = states.clone();
    sorted.sort_by_key(|a| a.0);
    let seen: Vec<Felt> = {
        let mut pages = Vec::new();
        for limit in [1, 3, 7, 40, 100] {
            let mut cursor: Option<String> = None;
            loop {
                let mut spec = json!({"filter": {"where": [{"member": "gold", "op": "gte", "value": 4}]}, "limit": limit});
                if let Some(c) = &cursor {
                    spec["cursor"] = json!(c);
                }
                let query = Query::parse("ns-Player", &spec.to_string(), &shapes()).unwrap();
                let (hits, next) = query.matching(unordered.iter().copied());
                let (in_order, next_in_order) =
                    query.matching_in_order(sorted.iter().map(|(id, s)| (id, s)));
                let ids = |v: &[(&Felt, &Struct)]| v.iter().map(|(id, _)| **id).collect::<Vec<_>>();
                assert_eq!(ids(&hits), ids(&in_order), "limit {limit} after {cursor:?}");
                assert_eq!(next, next_in_order, "limit {limit} after {cursor:?}");
                pages.extend(hits.iter().map(|(id, _)| **id));
                match next {
                    Some(next) => cursor = Some(next),
                    None => break,
                }
            }
        }
        pages
    };
    // Every limit pages through the same 20 matches.
    assert_eq!(seen.len(), 5 * 20);
}

#[test]
fn entity_keys_are_given_only_when_every_key_member_is_fixed() {
    let both = filter(json!({"keys": {"id": 7, "player": "0xab"}, "where": [{"member": "hp", "op": "gt", "value": 1}]}))
        .unwrap();
    assert_eq!(
        both.entity_keys(),
        Some(vec![Felt::from(0xabu128), Felt::from(7u128)]),
        "in declaration order, whatever the order given"
    );
    assert_eq!(
        filter(json!({"keys": {"id": 7}})).unwrap().entity_keys(),
        None
    );
    assert_eq!(filter(json!({})).unwrap().entity_keys(), None);
    let named = Filter::parse("ns-Named", r#"{"keys": {"label": "a"}}"#, &shapes()).unwrap();
    assert_eq!(
        named.entity_keys(),
        None,
        "a ByteArray key has no fixed serialization"
    );
}

#[test]
fn evaluates_the_whole_clause_language_like_its_translation() {
    let mut s = player(7, 100, -5, "Mage", 3);
    if let Some(items) = s.members.iter_mut().find(|m| m.name == "items") {
        items.value = Value::Array(vec![
            prim(Primitive::U8(1)),
            prim(Primitive::U8(4)),
            prim(Primitive::U8(9)),
        ]);
    }
    let id = Felt::from(0x77u128);
    let check_at = |json: serde_json::Value, expected: bool| {
        let f = filter(json.clone()).unwrap();
        assert_eq!(f.matches(&id, &s), expected, "{json}");
        let clause = f.to_clause();
        assert_eq!(
            clause.matches(&id, std::slice::from_ref(&s)),
            expected,
            "clause of {json}: {clause:?}"
        );
    };
    let w = |member: &str, op: &str, value: serde_json::Value| json!({"where": [{"member": member, "op": op, "value": value}]});
    check_at(w("gold", "notIn", json!([1, 2])), true);
    check_at(w("gold", "notIn", json!([1, "100"])), false);
    check_at(w("gold", "notIn", json!([])), true);
    check_at(w("class", "notIn", json!(["Rogue"])), true);
    check_at(w("class", "notIn", json!(["Mage", "Rogue"])), false);
    check_at(w("items", "contains", json!(4)), true);
    check_at(w("items", "contains", json!(5)), false);
    check_at(w("items", "containsAll", json!([9, 1])), true);
    check_at(w("items", "containsAll", json!([9, 2])), false);
    check_at(w("items", "containsAll", json!([])), true);
    check_at(w("items", "containsAny", json!([2, 9])), true);
    check_at(w("items", "containsAny", json!([2, 3])), false);
    check_at(w("items", "containsAny", json!([])), false);
    check_at(w("items", "arrayLengthEq", json!(3)), true);
    check_at(w("items", "arrayLengthGt", json!(3)), false);
    check_at(w("items", "arrayLengthGt", json!("2")), true);
    check_at(w("items", "arrayLengthLt", json!(4)), true);
    check_at(w("items", "arrayLengthLt", json!(3)), false);
    // Composites, nested.
    let gold = |op: &str, v: u64| json!({"member": "gold", "op": op, "value": v});
    check_at(
        json!({"where": [{"or": [gold("eq", 1), gold("eq", 100)]}]}),
        true,
    );
    check_at(
        json!({"where": [{"or": [gold("eq", 1), gold("eq", 2)]}]}),
        false,
    );
    check_at(
        json!({"where": [{"or": [{"and": [gold("gt", 1), gold("lt", 50)]}, {"and": [gold("gt", 99), {"or": [gold("eq", 7), gold("eq", 100)]}]}]}]}),
        true,
    );
    check_at(
        json!({"where": [{"and": [gold("gt", 1), gold("lt", 50)]}]}),
        false,
    );
    // Key conditions: named, patterns with wildcards, hashed keys.
    check_at(
        json!({"where": [{"or": [{"keys": {"id": 8}}, {"keys": {"id": 7, "player": "0xab"}}]}]}),
        true,
    );
    check_at(json!({"where": [{"keys": ["0xab", "7"]}]}), true);
    check_at(json!({"where": [{"keys": [null, "7"]}]}), true);
    check_at(json!({"where": [{"keys": [null, "8"]}]}), false);
    check_at(
        json!({"where": [{"keys": [null], "matching": "fixedLen"}]}),
        false,
    );
    check_at(
        json!({"where": [{"keys": [null], "matching": "variableLen"}]}),
        true,
    );
    check_at(
        json!({"where": [{"keys": ["0xac"], "matching": "variableLen"}]}),
        false,
    );
    check_at(json!({"where": [{"hashedKeys": ["0x77"]}]}), true);
    check_at(json!({"where": [{"hashedKeys": ["0x78", "0x79"]}]}), false);
    check_at(json!({"where": [{"hashedKeys": []}]}), true);
    check_at(
        json!({"where": [{"or": [{"hashedKeys": ["0x1"]}, gold("eq", 100)]}]}),
        true,
    );
    // A deleted state matches nothing, hashed keys included.
    let f = filter(json!({"where": [{"hashedKeys": ["0x77"]}]})).unwrap();
    let deleted = Struct {
        name: "ns-Player".into(),
        members: vec![],
    };
    assert!(!f.matches(&id, &deleted));
    assert!(!f.to_clause().matches(&id, &[deleted]));
}

#[test]
fn refuses_malformed_conditions_with_named_errors() {
    let w = |member: &str, op: &str, value: serde_json::Value| json!({"where": [{"member": member, "op": op, "value": value}]});
    assert!(matches!(
        error(w("gold", "contains", json!(1))),
        FilterError::NotAnArray { op: "contains", .. }
    ));
    assert!(matches!(
        error(w("name", "arrayLengthEq", json!(1))),
        FilterError::NotAnArray { .. }
    ));
    assert!(matches!(
        error(w("items", "containsAny", json!(1))),
        FilterError::InNeedsList {
            op: "containsAny",
            ..
        }
    ));
    assert!(matches!(
        error(w("gold", "notIn", json!(1))),
        FilterError::InNeedsList { op: "notIn", .. }
    ));
    assert!(matches!(
        error(w("items", "contains", json!(300))),
        FilterError::OutOfRange { .. }
    ));
    assert!(matches!(
        error(w("items", "arrayLengthGt", json!(-1))),
        FilterError::OutOfRange { .. }
    ));
    assert!(matches!(
        error(json!({"where": [{"or": []}]})),
        FilterError::EmptyComposite { operator: "or", .. }
    ));
    assert!(matches!(
        error(json!({"where": [{"or": [{"keys": {"gold": 1}}]}]})),
        FilterError::NotAKey { .. }
    ));
    assert!(matches!(
        error(json!({"where": [{"keys": ["zz"]}]})),
        FilterError::BadNumber { .. }
    ));
    for bad in [
        json!({"where": [{"or": [], "and": []}]}),
        json!({"where": [{"keys": [null], "matching": "prefix"}]}),
        json!({"where": [{"keys": "0x1"}]}),
        json!({"where": [{"hashedKeys": "0x1"}]}),
        json!({"where": [{"or": {"member": "gold"}}]}),
        json!({"where": [{"member": "gold", "op": "eq", "value": 1, "extra": 1}]}),
        json!({"where": [7]}),
    ] {
        assert!(matches!(error(bad.clone()), FilterError::Json(_)), "{bad}");
    }
    let message = error(json!({"where": [{"nope": 1}]})).to_string();
    assert!(message.contains("{ or: [...] }"), "{message}");
}

fn with_gold(id: u32, gold: u64, x: u32) -> (Felt, Struct) {
    (Felt::from(u128::from(id)), player(id, gold, 1, "Mage", x))
}

fn page_all(
    spec: serde_json::Value,
    rows: &mut Vec<(Felt, Struct)>,
    between: impl Fn(usize, &mut Vec<(Felt, Struct)>),
) -> Vec<Felt> {
    let mut seen = Vec::new();
    let mut cursor: Option<String> = None;
    for page in 0.. {
        let mut json = spec.clone();
        if let Some(c) = &cursor {
            json["cursor"] = json!(c);
        }
        let query = Query::parse("ns-Player", &json.to_string(), &shapes()).unwrap();
        let result = query.run(rows.iter().map(|(id, s)| (id, s)));
        seen.extend(result.items.iter().map(|(id, _)| *id));
        match result.next_cursor {
            Some(next) => cursor = Some(next),
            None => break,
        }
        between(page, rows);
    }
    seen
}

#[test]
fn order_by_members_pages_stably_while_states_change() {
    // gold repeats (ties broken by id), x descending within.
    let mut rows: Vec<(Felt, Struct)> = (0..30u32)
        .map(|i| with_gold(i, u64::from(i % 5), 30 - i))
        .collect();
    let spec = json!({"orderBy": [{"member": "gold"}, {"member": "pos.x", "direction": "desc"}], "limit": 4,
                      "filter": {"where": [{"member": "gold", "op": "lte", "value": 3}]}});
    let query = Query::parse("ns-Player", &spec.to_string(), &shapes()).unwrap();
    let all = query.run(rows.iter().map(|(id, s)| (id, s)));
    assert_eq!(all.items.len(), 4);
    let full = Query::parse(
        "ns-Player",
        &json!({"orderBy": spec["orderBy"], "filter": spec["filter"]}).to_string(),
        &shapes(),
    )
    .unwrap()
    .run(rows.iter().map(|(id, s)| (id, s)));
    assert_eq!(full.items.len(), 24);
    let golds: Vec<(u64, u32)> = full
        .items
        .iter()
        .map(|(_, s)| {
            let gold = match s.get_path("gold") {
                Some(Value::Primitive(Primitive::U64(g))) => *g,
                _ => u64::MAX,
            };
            let x = match s.get_path("pos.x") {
                Some(Value::Primitive(Primitive::U32(x))) => *x,
                _ => u32::MAX,
            };
            (gold, x)
        })
        .collect();
    assert!(
        golds
            .windows(2)
            .all(|w| w[0].0 < w[1].0 || (w[0].0 == w[1].0 && w[0].1 > w[1].1)),
        "{golds:?}"
    );
    let expected: Vec<Felt> = full.items.iter().map(|(id, _)| *id).collect();
    // Paged without writes: the same sequence.
    assert_eq!(
        page_all(spec.clone(), &mut rows.clone(), |_, _| {}),
        expected
    );
    // Writes between pages (new entities, deletions, moves of entities already returned):
    // every entity that did not change is returned exactly once, in order.
    let untouched: Vec<Felt> = expected
        .iter()
        .copied()
        .filter(|id| *id != Felt::from(0u128) && *id != Felt::from(28u128))
        .collect();
    let seen = page_all(spec, &mut rows, |page, rows| {
        if page == 0 {
            rows.push(with_gold(100, 0, 999));
            rows.push(with_gold(101, 3, 0));
            rows.retain(|(id, _)| *id != Felt::from(28u128));
            // Entity 0 (returned first) moves to the end.
            if let Some(row) = rows.iter_mut().find(|(id, _)| *id == Felt::from(0u128)) {
                *row = with_gold(0, 3, 0);
            }
        }
    });
    let seen_untouched: Vec<Felt> = seen
        .iter()
        .copied()
        .filter(|id| untouched.contains(id))
        .collect();
    assert_eq!(seen_untouched, untouched);
    assert!(
        seen.contains(&Felt::from(101u128)),
        "a new entity after the cursor is read"
    );
    assert!(
        !seen.contains(&Felt::from(100u128)),
        "a new entity before the cursor is not"
    );
}

#[test]
fn order_by_refuses_unordered_members_and_foreign_cursors_and_counts_matches() {
    let bad = |spec: serde_json::Value| Query::parse("ns-Player", &spec.to_string(), &shapes());
    assert!(matches!(
        bad(json!({"orderBy": [{"member": "alive"}]})),
        Err(FilterError::NotOrderable { .. })
    ));
    assert!(matches!(
        bad(json!({"orderBy": [{"member": "class"}]})),
        Err(FilterError::NotOrderable { .. })
    ));
    assert!(matches!(
        bad(json!({"orderBy": [{"member": "pos"}]})),
        Err(FilterError::NotOrderable { .. })
    ));
    assert!(matches!(
        bad(json!({"orderBy": [{"member": "nope"}]})),
        Err(FilterError::UnknownMember { .. })
    ));
    assert!(matches!(
        bad(json!({"orderBy": [{"member": "gold", "direction": "up"}]})),
        Err(FilterError::Json(_))
    ));
    assert!(matches!(
        bad(json!({"orderBy": [{"member": "gold"}], "cursor": "0x5"})),
        Err(FilterError::BadCursor(_))
    ));
    let rows: Vec<(Felt, Struct)> = (0..10u32).map(|i| with_gold(i, u64::from(i), i)).collect();
    let first =
        bad(json!({"orderBy": [{"member": "gold"}, {"member": "name"}], "limit": 3})).unwrap();
    let cursor = first
        .run(rows.iter().map(|(id, s)| (id, s)))
        .next_cursor
        .unwrap();
    // The cursor of a query ordered by two members does not fit one ordered by one.
    assert!(matches!(
        bad(json!({"orderBy": [{"member": "gold"}], "cursor": cursor})),
        Err(FilterError::BadCursor(_))
    ));
    let count = bad(
        json!({"filter": {"where": [{"member": "gold", "op": "gte", "value": 4}]}, "limit": 1}),
    )
    .unwrap();
    assert_eq!(count.count(rows.iter().map(|(id, s)| (id, s))), 6);
}

#[test]
fn bounds_come_from_top_level_range_conditions() {
    use std::ops::Bound;
    let f = filter(json!({"where": [
        {"member": "pos.x", "op": "gte", "value": 3}, {"member": "pos.x", "op": "gt", "value": 2},
        {"member": "pos.x", "op": "lt", "value": 9}, {"member": "pos.x", "op": "lte", "value": 10},
        {"or": [{"member": "gold", "op": "eq", "value": 1}, {"member": "gold", "op": "eq", "value": 2}]}
    ]})).unwrap();
    let x = f.bounds("pos.x").unwrap();
    let n = |v: u32| SortValue::of(&prim(Primitive::U32(v))).unwrap();
    assert_eq!(x.lower, Bound::Included(n(3)));
    assert_eq!(x.upper, Bound::Excluded(n(9)));
    assert!(x.contains(&n(3)) && x.contains(&n(8)) && !x.contains(&n(9)) && !x.contains(&n(2)));
    assert_eq!(f.bounds("gold"), None, "an or bounds nothing");
    assert_eq!(f.bounds("pos.y"), None);
    let keyed = filter(json!({"keys": {"id": 7}})).unwrap();
    assert_eq!(keyed.bounds("id").unwrap().lower, Bound::Included(n(7)));
}
