//! The benches' world of `arena-Player` states (the core and view criterion benches read the
//! same 100,000 players).

use crate::{EnumValue, Felt, Member, Primitive, PrimitiveType, Struct, Ty, Value};

/// The benches' 4-predicate scan of `arena-Player` (gold, class, position, alive): the filter
/// the issue's < 10 ms goal is measured with.
pub const FOUR_PREDICATE_SCAN: &str = r#"{"where": [
    {"member": "gold", "op": "gte", "value": "5000"},
    {"member": "class", "op": "in", "value": ["Mage", "Rogue"]},
    {"member": "pos.x", "op": "lt", "value": 50},
    {"member": "alive", "op": "eq", "value": true}
]}"#;

/// Entity ids spread like Poseidon hashes.
pub fn entity(i: u64) -> Felt {
    let mut bytes = [0u8; 32];
    let mut x = i.wrapping_mul(0x9e37_79b9_7f4a_7c15) ^ 0x2545_f491_4f6c_dd1d;
    for chunk in bytes.chunks_mut(8) {
        x ^= x >> 27;
        x = x.wrapping_mul(0x94d0_49bb_1331_11eb);
        chunk.copy_from_slice(&x.to_be_bytes());
    }
    bytes[0] &= 0x07;
    Felt(bytes)
}

fn p(t: PrimitiveType) -> Ty {
    Ty::Primitive(t)
}

/// The shape of `arena-Player`: keys `player` (address) and `id` (u32), integers of several
/// widths, a bool, an enum, a ByteArray and a nested struct.
pub fn player_shape() -> Ty {
    Ty::Struct {
        name: "arena-Player".into(),
        members: vec![
            ("player".into(), true, p(PrimitiveType::ContractAddress)),
            ("id".into(), true, p(PrimitiveType::U32)),
            ("gold".into(), false, p(PrimitiveType::U64)),
            ("hp".into(), false, p(PrimitiveType::I16)),
            ("score".into(), false, p(PrimitiveType::U128)),
            ("alive".into(), false, p(PrimitiveType::Bool)),
            (
                "class".into(),
                false,
                Ty::Enum {
                    name: "Class".into(),
                    options: ["Warrior", "Mage", "Rogue"]
                        .iter()
                        .map(|n| (n.to_string(), Ty::unit()))
                        .collect(),
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
                        ("y".into(), false, p(PrimitiveType::U32)),
                    ],
                },
            ),
        ],
    }
}

/// The `i`-th player: members derived from `i` (for example `pos.x = i % 100`).
pub fn player_state(i: u64) -> Struct {
    let m = |name: &str, key: bool, value: Value| Member {
        name: name.into(),
        key,
        value,
    };
    let prim = Value::Primitive;
    Struct {
        name: "arena-Player".into(),
        members: vec![
            m(
                "player",
                true,
                prim(Primitive::ContractAddress(Felt::from(u128::from(i % 64)))),
            ),
            m("id", true, prim(Primitive::U32(i as u32))),
            m(
                "gold",
                false,
                prim(Primitive::U64(i.wrapping_mul(2654435761) % 10_000)),
            ),
            m("hp", false, prim(Primitive::I16((i % 200) as i16 - 50))),
            m("score", false, prim(Primitive::U128(u128::from(i) << 70))),
            m("alive", false, prim(Primitive::Bool(!i.is_multiple_of(3)))),
            m(
                "class",
                false,
                Value::Enum(EnumValue {
                    name: "Class".into(),
                    option: (i % 3) as u32,
                    variant: ["Warrior", "Mage", "Rogue"][(i % 3) as usize].into(),
                    value: Box::new(Value::unit()),
                }),
            ),
            m("name", false, Value::ByteArray(format!("player-{i}"))),
            m(
                "pos",
                false,
                Value::Struct(Struct {
                    name: "Vec2".into(),
                    members: vec![
                        m("x", false, prim(Primitive::U32((i % 100) as u32))),
                        m("y", false, prim(Primitive::U32((i / 100 % 100) as u32))),
                    ],
                }),
            ),
        ],
    }
}
