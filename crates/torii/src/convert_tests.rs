//! Unit tests of the wire-to-core conversion: exact values and every kind of bad input.

use super::*;
use types::primitive::PrimitiveType as P;

fn prim(p: P) -> types::Ty {
    types::Ty {
        ty_type: Some(TyType::Primitive(types::Primitive {
            primitive_type: Some(p),
        })),
    }
}

fn member(name: &str, key: bool, ty: types::Ty) -> types::Member {
    types::Member {
        name: name.into(),
        ty: Some(ty),
        key,
    }
}

fn model(tag: &str, children: Vec<types::Member>) -> types::Struct {
    types::Struct {
        name: tag.into(),
        children,
    }
}

fn entity(models: Vec<types::Struct>) -> types::Entity {
    types::Entity {
        hashed_keys: vec![0xab; 32],
        models,
        created_at: 1,
        updated_at: 2,
        executed_at: 3,
        world_address: vec![0x01],
    }
}

fn decode_one(ty: types::Ty) -> Result<Value, WireError> {
    let wire = entity(vec![model("t-M", vec![member("v", false, ty)])]);
    let entity = entity_from_wire(wire, &mut SchemaRegistry::new())?;
    Ok(entity.models[0].members[0].value.clone())
}

#[test]
fn every_primitive_keeps_its_exact_value() {
    let mut u256 = [0xffu8; 32];
    u256[0] = 0x80;
    let cases = vec![
        (P::I8(-128), Primitive::I8(-128)),
        (P::I16(-32768), Primitive::I16(-32768)),
        (P::I32(i32::MIN), Primitive::I32(i32::MIN)),
        (P::I64(i64::MIN), Primitive::I64(i64::MIN)),
        (
            P::I128(i128::MIN.to_be_bytes().to_vec()),
            Primitive::I128(i128::MIN),
        ),
        (
            P::I128((-2i128).to_be_bytes().to_vec()),
            Primitive::I128(-2),
        ),
        (P::U8(255), Primitive::U8(255)),
        (P::U16(65535), Primitive::U16(65535)),
        (P::U32(u32::MAX), Primitive::U32(u32::MAX)),
        (P::U64(u64::MAX), Primitive::U64(u64::MAX)),
        (
            P::U128(u128::MAX.to_be_bytes().to_vec()),
            Primitive::U128(u128::MAX),
        ),
        (P::U128(vec![1, 0]), Primitive::U128(256)),
        (P::U256(u256.to_vec()), Primitive::U256(U256(u256))),
        (P::Bool(true), Primitive::Bool(true)),
        (P::Felt252(vec![7; 32]), Primitive::Felt252(Felt([7; 32]))),
        (
            P::ClassHash(vec![1]),
            Primitive::ClassHash(Felt::from(1u128)),
        ),
        (
            P::ContractAddress(vec![2; 32]),
            Primitive::ContractAddress(Felt([2; 32])),
        ),
        (
            P::EthAddress(vec![3; 20]),
            Primitive::EthAddress(Felt::from_be_slice(&[3; 20]).unwrap()),
        ),
    ];
    for (wire, expected) in cases {
        assert_eq!(
            decode_one(prim(wire.clone())).unwrap(),
            Value::Primitive(expected),
            "{wire:?}"
        );
    }
}

#[test]
fn oversized_and_out_of_range_primitives_are_typed_errors() {
    let bad = vec![
        P::Felt252(vec![1; 33]),
        P::ContractAddress(vec![9; 40]),
        P::U256(vec![1; 33]),
        P::U128(vec![1; 17]),
        P::I128(vec![1; 15]),
        P::EthAddress(vec![1; 21]),
    ];
    for wire in bad {
        let err = decode_one(prim(wire.clone())).unwrap_err();
        assert!(
            matches!(err, WireError::BadLength { ref path, .. } if path == "v"),
            "{wire:?}: {err}"
        );
    }
    for wire in [P::U8(256), P::U16(70_000), P::I8(200), P::I16(-40_000)] {
        let err = decode_one(prim(wire.clone())).unwrap_err();
        assert!(
            matches!(err, WireError::OutOfRange { .. }),
            "{wire:?}: {err}"
        );
    }
}

#[test]
fn missing_types_are_typed_errors() {
    assert!(matches!(
        decode_one(types::Ty { ty_type: None }),
        Err(WireError::MissingType { .. })
    ));
    let no_primitive = types::Ty {
        ty_type: Some(TyType::Primitive(types::Primitive {
            primitive_type: None,
        })),
    };
    assert!(matches!(
        decode_one(no_primitive),
        Err(WireError::MissingType { .. })
    ));
    let wire = entity(vec![model(
        "t-M",
        vec![types::Member {
            name: "x".into(),
            ty: None,
            key: false,
        }],
    )]);
    let err = entity_from_wire(wire, &mut SchemaRegistry::new()).unwrap_err();
    assert_eq!(err, WireError::MissingType { path: "x".into() });
}

fn class_enum(option: u32) -> types::Ty {
    let unit = |name: &str| types::EnumOption {
        name: name.into(),
        ty: Some(types::Ty {
            ty_type: Some(TyType::Tuple(types::Array { children: vec![] })),
        }),
    };
    types::Ty {
        ty_type: Some(TyType::Enum(types::Enum {
            name: "Class".into(),
            option,
            options: vec![
                unit("Warrior"),
                types::EnumOption {
                    name: "Rogue".into(),
                    ty: Some(prim(P::U8(4))),
                },
            ],
        })),
    }
}

#[test]
fn enums_keep_the_active_variant_and_reject_unknown_options() {
    let Value::Enum(rogue) = decode_one(class_enum(1)).unwrap() else {
        panic!("not an enum")
    };
    assert_eq!((rogue.variant.as_str(), rogue.option), ("Rogue", 1));
    assert_eq!(*rogue.value, Value::Primitive(Primitive::U8(4)));
    let Value::Enum(warrior) = decode_one(class_enum(0)).unwrap() else {
        panic!("not an enum")
    };
    assert!(warrior.value.is_unit());
    let err = decode_one(class_enum(2)).unwrap_err();
    assert!(
        matches!(
            err,
            WireError::BadEnumOption {
                option: 2,
                options: 2,
                ..
            }
        ),
        "{err}"
    );
}

#[test]
fn containers_decode_and_their_shapes_are_checked() {
    let fixed = |size: u32, n: usize| types::Ty {
        ty_type: Some(TyType::FixedSizeArray(types::FixedSizeArray {
            children: vec![prim(P::U16(1)); n],
            size,
        })),
    };
    assert_eq!(
        decode_one(fixed(3, 3)).unwrap(),
        Value::FixedSizeArray(vec![Value::Primitive(Primitive::U16(1)); 3])
    );
    assert!(matches!(
        decode_one(fixed(3, 2)),
        Err(WireError::FixedSizeMismatch {
            size: 3,
            len: 2,
            ..
        })
    ));
    let mixed = types::Ty {
        ty_type: Some(TyType::Array(types::Array {
            children: vec![prim(P::U32(1)), prim(P::U64(2))],
        })),
    };
    assert!(matches!(
        decode_one(mixed),
        Err(WireError::MixedArray { .. })
    ));
    let tuple = types::Ty {
        ty_type: Some(TyType::Tuple(types::Array {
            children: vec![prim(P::Bool(true)), prim(P::I8(-1))],
        })),
    };
    assert_eq!(
        decode_one(tuple).unwrap(),
        Value::Tuple(vec![
            Value::Primitive(Primitive::Bool(true)),
            Value::Primitive(Primitive::I8(-1))
        ])
    );
}

#[test]
fn a_model_whose_member_types_change_is_rejected() {
    let mut schemas = SchemaRegistry::new();
    let good = entity(vec![model(
        "arena-Player",
        vec![member("gold", false, prim(P::U64(5)))],
    )]);
    entity_from_wire(good.clone(), &mut schemas).unwrap();
    entity_from_wire(good, &mut schemas).unwrap();
    let bad = entity(vec![model(
        "arena-Player",
        vec![member("gold", false, prim(P::U32(5)))],
    )]);
    match entity_from_wire(bad, &mut schemas) {
        Err(WireError::Schema(mismatch)) => {
            assert_eq!(
                (
                    mismatch.path.as_str(),
                    mismatch.expected.as_str(),
                    mismatch.found.as_str()
                ),
                ("gold", "u64", "u32")
            );
        }
        other => panic!("expected a schema mismatch, got {other:?}"),
    }
}

#[test]
fn deletions_and_ids_are_handled() {
    let mut schemas = SchemaRegistry::new();
    let deleted = entity(vec![model("arena-Player", vec![])]);
    let decoded = entity_from_wire(deleted, &mut schemas).unwrap();
    assert!(decoded.models[0].is_deletion());
    assert_eq!(decoded.id, Felt([0xab; 32]));
    assert_eq!(
        (decoded.created_at, decoded.updated_at, decoded.executed_at),
        (1, 2, 3)
    );
    let mut bad_id = entity(vec![]);
    bad_id.hashed_keys = vec![1; 33];
    assert_eq!(
        entity_from_wire(bad_id, &mut schemas),
        Err(WireError::BadEntityId { len: 33 })
    );
}

fn nested(name: &str, children: Vec<types::Member>) -> types::Ty {
    types::Ty {
        ty_type: Some(TyType::Struct(types::Struct {
            name: name.into(),
            children,
        })),
    }
}

#[test]
fn javascript_special_names_are_ordinary_names() {
    let mut schemas = SchemaRegistry::new();
    let special = ["__proto__", "constructor", "prototype"];
    for (namespace, name) in [
        ("__proto__", "constructor"),
        ("constructor", "prototype"),
        ("prototype", "__proto__"),
    ] {
        let tag = format!("{namespace}-{name}");
        let inner = nested("Inner", vec![member("__proto__", false, prim(P::U32(7)))]);
        let wire = entity(vec![model(
            &tag,
            vec![
                member(special[0], true, prim(P::U8(1))),
                member(special[1], false, inner),
                member(special[2], false, prim(P::Bool(true))),
            ],
        )]);
        let decoded = entity_from_wire(wire, &mut schemas).unwrap();
        let state = &decoded.models[0];
        assert_eq!(state.name, tag);
        let names: Vec<&str> = state.members.iter().map(|m| m.name.as_str()).collect();
        assert_eq!(names, special);
        let Value::Struct(inner) = &state.members[1].value else {
            panic!("a nested struct");
        };
        assert_eq!(inner.members[0].name, "__proto__");
        assert!(schemas.get(&tag).is_some(), "the shape is learned");
    }
}

#[test]
fn names_that_are_not_identifiers_are_rejected_with_their_path() {
    let mut schemas = SchemaRegistry::new();
    for tag in [
        "arena",
        "arena-",
        "-Player",
        "a b-Player",
        "arena-Play er",
        "arena-1P",
    ] {
        let wire = entity(vec![model(tag, vec![member("v", false, prim(P::U8(1)))])]);
        match entity_from_wire(wire, &mut schemas) {
            Err(WireError::BadName { path, source }) => {
                assert_eq!(path, "");
                assert_eq!(source.name, tag);
                assert!(source.to_string().contains("namespace-Model"));
            }
            other => panic!("{tag:?}: expected a bad name, got {other:?}"),
        }
        // A deletion carries the tag too.
        let deletion = entity(vec![model(tag, vec![])]);
        assert!(matches!(
            entity_from_wire(deletion, &mut schemas),
            Err(WireError::BadName { .. })
        ));
    }
    let top = entity(vec![model(
        "arena-Player",
        vec![member("not a name", false, prim(P::U8(1)))],
    )]);
    let error = entity_from_wire(top, &mut schemas).unwrap_err();
    assert!(
        matches!(&error, WireError::BadName { path, .. } if path == "not a name"),
        "{error:?}"
    );
    assert!(
        error.to_string().contains("not a Cairo identifier"),
        "{error}"
    );
    let deep = entity(vec![model(
        "arena-Player",
        vec![member(
            "vec",
            false,
            nested("Vec2", vec![member("x.y", false, prim(P::U32(1)))]),
        )],
    )]);
    let error = entity_from_wire(deep, &mut schemas).unwrap_err();
    assert!(
        matches!(&error, WireError::BadName { path, .. } if path == "vec.x.y"),
        "{error:?}"
    );
    assert!(schemas.get("arena-Player").is_none(), "nothing is learned");
}
