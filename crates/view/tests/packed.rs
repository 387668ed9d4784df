//! Packed states against decoded ones, on random states of every value kind: packing keeps a
//! state exactly, equal packings mean equal states, and every member a filter reads in place is
//! what it reads on the decoded state (scalars, array elements and lengths, key felts: so a
//! filter matches the same states either way).

use dojo_reactive_core::{
    EnumValue, Felt, FilterState, Member, Name, Primitive, Step, Steps, Struct, Value, U256,
};
use dojo_reactive_view::packed::{Names, Packed, PackedState};
use proptest::prelude::*;

fn felt() -> impl Strategy<Value = [u8; 32]> {
    // Small values (leading zeros trimmed) and full-width ones.
    prop_oneof![
        any::<u64>().prop_map(|v| {
            let mut bytes = [0u8; 32];
            bytes[24..].copy_from_slice(&v.to_be_bytes());
            bytes
        }),
        any::<[u8; 32]>(),
    ]
}

fn primitive() -> impl Strategy<Value = Primitive> {
    prop_oneof![
        any::<i8>().prop_map(Primitive::I8),
        any::<i16>().prop_map(Primitive::I16),
        any::<i32>().prop_map(Primitive::I32),
        any::<i64>().prop_map(Primitive::I64),
        any::<i128>().prop_map(Primitive::I128),
        any::<u8>().prop_map(Primitive::U8),
        any::<u16>().prop_map(Primitive::U16),
        any::<u32>().prop_map(Primitive::U32),
        any::<u64>().prop_map(Primitive::U64),
        any::<u128>().prop_map(Primitive::U128),
        felt().prop_map(|b| Primitive::U256(U256(b))),
        any::<bool>().prop_map(Primitive::Bool),
        felt().prop_map(|b| Primitive::Felt252(Felt(b))),
        felt().prop_map(|b| Primitive::ClassHash(Felt(b))),
        felt().prop_map(|b| Primitive::ContractAddress(Felt(b))),
        felt().prop_map(|b| Primitive::EthAddress(Felt(b))),
    ]
}

/// Names from a small set (so paths hit), hostile ones included.
fn name() -> impl Strategy<Value = String> {
    prop::sample::select(vec!["a", "b", "x", "__proto__", "constructor", "é", ""])
        .prop_map(str::to_owned)
}

fn members(value: impl Strategy<Value = Value> + Clone) -> impl Strategy<Value = Vec<Member>> {
    prop::collection::vec((name(), any::<bool>(), value), 0..5).prop_map(|members| {
        members
            .into_iter()
            .map(|(name, key, value)| Member {
                name: name.into(),
                key,
                value,
            })
            .collect()
    })
}

fn value() -> BoxedStrategy<Value> {
    let leaf = prop_oneof![
        primitive().prop_map(Value::Primitive),
        ".{0,12}".prop_map(Value::ByteArray),
    ];
    leaf.prop_recursive(4, 48, 5, |inner| {
        prop_oneof![
            (name(), members(inner.clone())).prop_map(|(name, members)| Value::Struct(Struct {
                name: name.into(),
                members,
            })),
            (name(), any::<u32>(), name(), inner.clone()).prop_map(
                |(name, option, variant, value)| Value::Enum(EnumValue {
                    name: name.into(),
                    option,
                    variant: variant.into(),
                    value: Box::new(value),
                })
            ),
            prop::collection::vec(inner.clone(), 0..4).prop_map(Value::Tuple),
            prop::collection::vec(inner.clone(), 0..4).prop_map(Value::Array),
            prop::collection::vec(inner, 0..4).prop_map(Value::FixedSizeArray),
        ]
    })
    .boxed()
}

fn state() -> impl Strategy<Value = Struct> {
    members(value()).prop_map(|members| Struct {
        name: "ns-M".into(),
        members,
    })
}

fn steps() -> impl Strategy<Value = Steps> {
    prop::collection::vec(
        (name(), 0usize..6).prop_map(|(name, hint)| Step::new(name, hint)),
        1..4,
    )
}

proptest! {
    #[test]
    fn packing_keeps_a_state_and_reads_agree_with_the_decoded_one(
        state in state(),
        other in state(),
        paths in prop::collection::vec(steps(), 1..8),
    ) {
        let mut names = Names::new();
        let packed = Packed::pack(&state, &mut names);
        prop_assert_eq!(packed.unpack(&state.name, &names), Some(state.clone()));
        prop_assert_eq!(Packed::pack(&other, &mut names) == packed, other == state);
        let model = Name::from("ns-M");
        let read = PackedState::new(&model, packed.as_bytes(), &names);
        prop_assert_eq!(FilterState::is_deletion(&read), state.members.is_empty());
        prop_assert_eq!(read.key_felts(), state.key_felts());
        // The same state packed with another table (names in another order, owned): the same
        // steps (which remember their names' indices per table) read the same, in turn.
        let mut own = Names::new();
        Packed::pack(&other, &mut own);
        let packed_own = Packed::pack(&state, &mut own);
        let read_own = PackedState::owned(&model, packed_own, own);
        for _ in 0..2 {
            for read in [&read, &read_own] {
                for path in &paths {
                    prop_assert_eq!(read.scalar(path), state.scalar(path), "{:?}", path);
                    prop_assert_eq!(read.elements(path), state.elements(path), "{:?}", path);
                    prop_assert_eq!(read.array_len(path), state.array_len(path), "{:?}", path);
                }
            }
        }
    }
}

proptest! {
    #[test]
    fn hostile_bytes_and_foreign_tables_read_as_absent_and_never_panic(
        state in state(),
        bytes in prop::collection::vec(any::<u8>(), 0..200),
        flips in prop::collection::vec((any::<prop::sample::Index>(), any::<u8>()), 0..6),
        paths in prop::collection::vec(steps(), 1..6),
    ) {
        let mut names = Names::new();
        let model = Name::from("ns-M");
        // A state packed with one table, its bytes corrupted at random.
        let mut corrupted = Packed::pack(&state, &mut names).into_bytes();
        for (at, byte) in &flips {
            if !corrupted.is_empty() {
                let at = at.index(corrupted.len());
                corrupted[at] ^= byte;
            }
        }
        let empty = Names::new();
        for (bytes, names) in [(&bytes, &names), (&corrupted, &names), (&corrupted, &empty)] {
            let read = PackedState::new(&model, bytes, names);
            let _ = read.unpack();
            let _ = FilterState::is_deletion(&read);
            let _ = read.key_felts();
            for path in &paths {
                let _ = read.scalar(path);
                let _ = read.elements(path);
                let _ = read.array_len(path);
            }
        }
        // Read with a table that lacks its names, a state with members reads as absent.
        if !state.members.is_empty() {
            let packed = Packed::pack(&state, &mut names);
            prop_assert_eq!(packed.unpack(&model, &empty), None);
        }
    }
}
