//! Property: on generated model states, the filter DSL evaluated directly agrees with its
//! translation to a Torii clause evaluated by the clause evaluator (keys clause with felt
//! serialization of signed and wide keys, member clauses, composites), including deleted
//! states; and a query's pages partition the matches.

use std::collections::HashMap;

use dojo_reactive_core::{
    EnumValue, Felt, Filter, Member, Primitive, PrimitiveType, Query, Struct, Ty, Value, U256,
};
use proptest::prelude::*;
use serde_json::{json, Value as Json};

const CLASSES: [&str; 3] = ["Warrior", "Mage", "Rogue"];
const NAMES: [&str; 4] = ["", "a", "ab", "b"];

fn p(t: PrimitiveType) -> Ty {
    Ty::Primitive(t)
}

fn shapes() -> HashMap<String, Ty> {
    let class = Ty::Enum {
        name: "Class".into(),
        options: CLASSES
            .iter()
            .map(|c| (c.to_string(), Ty::unit()))
            .collect(),
    };
    let vec2 = Ty::Struct {
        name: "Vec2".into(),
        members: vec![
            ("x".into(), false, p(PrimitiveType::U32)),
            ("y".into(), false, p(PrimitiveType::I32)),
        ],
    };
    let mut shapes = HashMap::new();
    shapes.insert(
        "ns-Player".to_owned(),
        Ty::Struct {
            name: "ns-Player".into(),
            members: vec![
                ("player".into(), true, p(PrimitiveType::ContractAddress)),
                ("slot".into(), true, p(PrimitiveType::I8)),
                ("wide".into(), true, p(PrimitiveType::U256)),
                ("gold".into(), false, p(PrimitiveType::U64)),
                ("hp".into(), false, p(PrimitiveType::I16)),
                ("big".into(), false, p(PrimitiveType::U128)),
                ("alive".into(), false, p(PrimitiveType::Bool)),
                ("class".into(), false, class.clone()),
                ("name".into(), false, Ty::ByteArray),
                ("pos".into(), false, vec2),
            ],
        },
    );
    shapes.insert(
        "ns-Named".to_owned(),
        Ty::Struct {
            name: "ns-Named".into(),
            members: vec![
                ("label".into(), true, Ty::ByteArray),
                ("kind".into(), true, class),
                ("v".into(), false, p(PrimitiveType::I64)),
            ],
        },
    );
    shapes
}

fn member(name: &str, key: bool, value: Value) -> Member {
    Member {
        name: name.into(),
        key,
        value,
    }
}

fn prim(p: Primitive) -> Value {
    Value::Primitive(p)
}

fn class(i: usize) -> Value {
    Value::Enum(EnumValue {
        name: "Class".into(),
        option: i as u32,
        variant: CLASSES[i].into(),
        value: Box::new(Value::unit()),
    })
}

fn wide(i: u8) -> U256 {
    let mut bytes = [0u8; 32];
    if i & 1 == 1 {
        bytes[0] = 0x80; // above 2^255: the high felt is non-zero
    }
    bytes[31] = i >> 1;
    U256(bytes)
}

const GOLDS: [u64; 4] = [0, 1, 2, u64::MAX];
const BIGS: [u128; 3] = [0, 7, u128::MAX];

#[derive(Debug, Clone)]
struct PlayerGen {
    player: u8,
    slot: i8,
    wide: u8,
    gold: usize,
    hp: i16,
    big: usize,
    alive: bool,
    class: usize,
    name: usize,
    x: u32,
    y: i32,
    deleted: bool,
}

fn player_gen() -> impl Strategy<Value = PlayerGen> {
    (
        (
            1u8..4,
            -2i8..3,
            0u8..4,
            0..GOLDS.len(),
            -3i16..4,
            0..BIGS.len(),
        ),
        (
            any::<bool>(),
            0..3usize,
            0..NAMES.len(),
            0u32..3,
            -2i32..3,
            prop::bool::weighted(0.1),
        ),
    )
        .prop_map(
            |((player, slot, wide, gold, hp, big), (alive, class, name, x, y, deleted))| {
                PlayerGen {
                    player,
                    slot,
                    wide,
                    gold,
                    hp,
                    big,
                    alive,
                    class,
                    name,
                    x,
                    y,
                    deleted,
                }
            },
        )
}

fn player(g: &PlayerGen) -> Struct {
    let members = if g.deleted {
        vec![]
    } else {
        vec![
            member(
                "player",
                true,
                prim(Primitive::ContractAddress(Felt::from(u128::from(g.player)))),
            ),
            member("slot", true, prim(Primitive::I8(g.slot))),
            member("wide", true, prim(Primitive::U256(wide(g.wide)))),
            member("gold", false, prim(Primitive::U64(GOLDS[g.gold]))),
            member("hp", false, prim(Primitive::I16(g.hp))),
            member("big", false, prim(Primitive::U128(BIGS[g.big]))),
            member("alive", false, prim(Primitive::Bool(g.alive))),
            member("class", false, class(g.class)),
            member("name", false, Value::ByteArray(NAMES[g.name].into())),
            member(
                "pos",
                false,
                Value::Struct(Struct {
                    name: "Vec2".into(),
                    members: vec![
                        member("x", false, prim(Primitive::U32(g.x))),
                        member("y", false, prim(Primitive::I32(g.y))),
                    ],
                }),
            ),
        ]
    };
    Struct {
        name: "ns-Player".into(),
        members,
    }
}

fn u256_json(v: U256, hex: bool) -> Json {
    if hex {
        json!(v.to_hex())
    } else {
        Value::Primitive(Primitive::U256(v)).to_json()
    }
}

/// A random JSON value for a member: (json, orderable).
fn value_json(member: &str, choice: u8) -> (Json, bool) {
    let c = choice as usize;
    match member {
        "player" => (json!(format!("0x{:x}", 1 + c % 3)), true),
        "slot" => (
            if c.is_multiple_of(2) {
                json!(c as i64 % 5 - 2)
            } else {
                json!(format!("{}", c as i64 % 5 - 2))
            },
            true,
        ),
        "wide" => (u256_json(wide((c % 4) as u8), c.is_multiple_of(2)), true),
        "gold" => (
            if c.is_multiple_of(2) {
                json!(GOLDS[c % 4].to_string())
            } else {
                json!(GOLDS[c % 3])
            },
            true,
        ),
        "hp" => (json!(c as i64 % 7 - 3), true),
        "big" => (json!(BIGS[c % 3].to_string()), true),
        "alive" => (json!(c.is_multiple_of(2)), false),
        "class" => (json!(CLASSES[c % 3]), false),
        "name" => (json!(NAMES[c % 4]), true),
        "pos.x" => (json!(c % 3), true),
        _ => (json!(c as i64 % 5 - 2), true), // pos.y
    }
}

const WHERE_MEMBERS: [&str; 12] = [
    "player", "slot", "wide", "gold", "hp", "big", "alive", "class", "name", "pos.x", "pos.y",
    "gold",
];
const OPS: [&str; 7] = ["eq", "neq", "gt", "gte", "lt", "lte", "in"];

fn filter_json(keys: &[(usize, u8)], predicates: &[(usize, usize, Vec<u8>)]) -> Json {
    let mut key_map = serde_json::Map::new();
    for (k, choice) in keys {
        let name = ["player", "slot", "wide"][k % 3];
        key_map.insert(name.into(), value_json(name, *choice).0);
    }
    let mut wheres = Vec::new();
    for (m, op, choices) in predicates {
        let member = WHERE_MEMBERS[m % WHERE_MEMBERS.len()];
        let (_, orderable) = value_json(member, 0);
        let mut op = OPS[op % OPS.len()];
        if !orderable && !matches!(op, "eq" | "neq" | "in") {
            op = "neq";
        }
        let value = if op == "in" {
            Json::Array(choices.iter().map(|c| value_json(member, *c).0).collect())
        } else {
            value_json(member, choices.first().copied().unwrap_or(0)).0
        };
        wheres.push(json!({"member": member, "op": op, "value": value}));
    }
    json!({"keys": key_map, "where": wheres})
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 2000, ..ProptestConfig::default() })]

    #[test]
    fn dsl_and_clause_translation_agree(
        states in prop::collection::vec(player_gen(), 1..12),
        keys in prop::collection::vec((0usize..3, any::<u8>()), 0..3),
        predicates in prop::collection::vec((any::<usize>(), any::<usize>(), prop::collection::vec(any::<u8>(), 0..4)), 0..4),
    ) {
        let shapes = shapes();
        let json = filter_json(&keys, &predicates);
        let filter = Filter::parse("ns-Player", &json.to_string(), &shapes)
            .map_err(|e| TestCaseError::fail(format!("{json}: {e}")))?;
        let clause = filter.to_clause();
        for (i, g) in states.iter().enumerate() {
            let state = player(g);
            let id = Felt::from(i as u128);
            prop_assert_eq!(
                filter.matches(&id, &state),
                clause.matches(&id, std::slice::from_ref(&state)),
                "filter {} on {:?} via {:?}", json, g, clause
            );
        }
    }

    #[test]
    fn byte_array_keys_fall_back_to_member_clauses(
        label in 0..NAMES.len(),
        kind in 0..3usize,
        v in -3i64..3,
        want_label in 0..NAMES.len(),
        want_kind in 0..3usize,
        use_kind in any::<bool>(),
    ) {
        let shapes = shapes();
        let state = Struct {
            name: "ns-Named".into(),
            members: vec![
                member("label", true, Value::ByteArray(NAMES[label].into())),
                member("kind", true, class(kind)),
                member("v", false, prim(Primitive::I64(v))),
            ],
        };
        let json = if use_kind {
            json!({"keys": {"label": NAMES[want_label], "kind": CLASSES[want_kind]}})
        } else {
            json!({"keys": {"label": NAMES[want_label]}, "where": [{"member": "v", "op": "gte", "value": 0}]})
        };
        let filter = Filter::parse("ns-Named", &json.to_string(), &shapes).unwrap();
        prop_assert_eq!(filter.matches(&Felt::ZERO, &state), filter.to_clause().matches(&Felt::ZERO, std::slice::from_ref(&state)));
    }

    #[test]
    fn query_pages_partition_the_matches(
        states in prop::collection::vec(player_gen(), 0..40),
        limit in 1u32..7,
        predicates in prop::collection::vec((any::<usize>(), any::<usize>(), prop::collection::vec(any::<u8>(), 0..3)), 0..2),
    ) {
        let shapes = shapes();
        let filter = filter_json(&[], &predicates);
        let rows: Vec<(Felt, Struct)> = states.iter().enumerate().map(|(i, g)| (Felt::from((i as u128 * 7919) % 1000), player(g))).collect();
        let compiled = Filter::parse("ns-Player", &filter.to_string(), &shapes).unwrap();
        let mut expected: Vec<Felt> = rows.iter().filter(|(id, s)| compiled.matches(id, s)).map(|(id, _)| *id).collect();
        expected.sort();
        let mut got = Vec::new();
        let mut cursor: Option<String> = None;
        loop {
            let mut spec = json!({"filter": filter, "limit": limit});
            if let Some(c) = &cursor {
                spec["cursor"] = json!(c);
            }
            let query = Query::parse("ns-Player", &spec.to_string(), &shapes).unwrap();
            let page = query.run(rows.iter().map(|(id, s)| (id, s)));
            prop_assert!(page.items.len() <= limit as usize);
            got.extend(page.items.iter().map(|(id, _)| *id));
            match page.next_cursor {
                Some(c) => cursor = Some(c),
                None => break,
            }
        }
        prop_assert_eq!(got, expected);
    }
}
