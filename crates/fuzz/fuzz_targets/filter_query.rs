//! Arbitrary JSON text parsed as a filter and as a query of a small fixed model (`ns-Player`,
//! which has keys, integers of several widths, a u256, a bool, an enum, a byte array, a nested
//! struct and an array). Nothing may panic; a compiled filter turns into a Torii clause and is
//! evaluated on sample states, and a compiled query's page respects its limit, cursor and order.
#![no_main]

use std::collections::HashMap;

use dojo_reactive_core::{
    EntityId, EnumValue, Felt, Filter, Member, Primitive, PrimitiveType, Query, Struct, Ty, Value,
    U256,
};
use libfuzzer_sys::fuzz_target;

const MODEL: &str = "ns-Player";

fuzz_target!(|data: &[u8]| {
    let Ok(json) = std::str::from_utf8(data) else {
        return;
    };
    let shapes = shapes();
    let samples = samples();
    if let Ok(filter) = Filter::parse(MODEL, json, &shapes) {
        let _ = filter.to_clause();
        for (id, state) in &samples {
            let _ = filter.matches(id, state);
        }
    }
    if let Ok(query) = Query::parse(MODEL, json, &shapes) {
        let page = query.run(samples.iter().map(|(id, state)| (id, state)));
        let ids: Vec<&EntityId> = page.items.iter().map(|(id, _)| id).collect();
        assert!(ids.windows(2).all(|w| w[0] < w[1]), "page not in id order");
        assert!(
            page.items.len() <= samples.len(),
            "page larger than its input"
        );
        if let Some(cursor) = &page.next_cursor {
            let last = ids.last().map(|id| id.to_hex());
            assert_eq!(
                last.as_ref(),
                Some(cursor),
                "next cursor is not the last id"
            );
        }
    }
});

fn p(t: PrimitiveType) -> Ty {
    Ty::Primitive(t)
}

/// The one model the filters and queries are checked against.
fn shapes() -> HashMap<String, Ty> {
    let vec2 = Ty::Struct {
        name: "Vec2".into(),
        members: vec![
            ("x".into(), false, p(PrimitiveType::U32)),
            ("y".into(), false, p(PrimitiveType::I32)),
        ],
    };
    let class = Ty::Enum {
        name: "Class".into(),
        options: vec![("Warrior".into(), Ty::unit()), ("Mage".into(), Ty::unit())],
    };
    let player = Ty::Struct {
        name: MODEL.into(),
        members: vec![
            ("player".into(), true, p(PrimitiveType::ContractAddress)),
            ("id".into(), true, p(PrimitiveType::U32)),
            ("gold".into(), false, p(PrimitiveType::U64)),
            ("hp".into(), false, p(PrimitiveType::I16)),
            ("big".into(), false, p(PrimitiveType::U256)),
            ("alive".into(), false, p(PrimitiveType::Bool)),
            ("class".into(), false, class),
            ("name".into(), false, Ty::ByteArray),
            ("pos".into(), false, vec2),
            (
                "items".into(),
                false,
                Ty::Array(Some(Box::new(p(PrimitiveType::U8)))),
            ),
        ],
    };
    HashMap::from([(MODEL.to_owned(), player)])
}

/// Three states of the model with distinct ids and values.
fn samples() -> Vec<(EntityId, Struct)> {
    (1u8..=3)
        .map(|n| {
            let member = |name: &str, key: bool, value: Value| Member {
                name: name.into(),
                key,
                value,
            };
            let prim = |p: Primitive| Value::Primitive(p);
            let state = Struct {
                name: MODEL.into(),
                members: vec![
                    member("player", true, prim(Primitive::ContractAddress(felt(n)))),
                    member("id", true, prim(Primitive::U32(u32::from(n)))),
                    member("gold", false, prim(Primitive::U64(u64::from(n) * 100))),
                    member("hp", false, prim(Primitive::I16(i16::from(n) - 2))),
                    member(
                        "big",
                        false,
                        prim(Primitive::U256(U256::from(u128::from(n)))),
                    ),
                    member("alive", false, prim(Primitive::Bool(n % 2 == 1))),
                    member(
                        "class",
                        false,
                        Value::Enum(EnumValue {
                            name: "Class".into(),
                            option: u32::from(n % 2),
                            variant: if n % 2 == 0 { "Warrior" } else { "Mage" }.into(),
                            value: Box::new(Value::Tuple(Vec::new())),
                        }),
                    ),
                    member("name", false, Value::ByteArray(format!("player {n}"))),
                    member(
                        "pos",
                        false,
                        Value::Struct(Struct {
                            name: "Vec2".into(),
                            members: vec![
                                member("x", false, prim(Primitive::U32(u32::from(n)))),
                                member("y", false, prim(Primitive::I32(-i32::from(n)))),
                            ],
                        }),
                    ),
                    member(
                        "items",
                        false,
                        Value::Array((0..n).map(|i| prim(Primitive::U8(i))).collect()),
                    ),
                ],
            };
            (felt(n), state)
        })
        .collect()
}

fn felt(n: u8) -> Felt {
    Felt::from(u128::from(n))
}
