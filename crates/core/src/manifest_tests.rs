use serde_json::json;

use super::*;
use crate::schema::PrimitiveType;
use crate::sync_config::{ModelSyncSpec, SyncConfig, SyncConfigError};

fn sample() -> Json {
    json!({
        "world": { "class_hash": "0x139", "address": "0x617", "seed": "arena", "name": "Arena",
                   "entrypoints": ["uuid"] },
        "contracts": [ { "tag": "arena-actions", "class_hash": "0x3a7", "abi": [
            { "type": "enum", "name": "arena::models::Direction",
              "variants": [ { "name": "Left", "type": "()" }, { "name": "Right", "type": "()" } ] }
        ] } ],
        "models": [
            { "tag": "arena-Position", "class_hash": "0x445", "selector": "0x1",
              "members": [
                { "name": "player", "type": "core::starknet::contract_address::ContractAddress", "key": true },
                { "name": "vec", "type": "arena::models::Vec2", "key": false },
                { "name": "last_updated_at", "type": "core::integer::u64", "key": false }
              ] },
            { "tag": "arena-Moves", "class_hash": "0x469", "selector": "0x2",
              "members": [
                { "name": "player", "type": "core::starknet::contract_address::ContractAddress", "key": true },
                { "name": "remaining", "type": "core::integer::u8", "key": false },
                { "name": "last_direction", "type": "core::option::Option::<arena::models::Direction>", "key": false },
                { "name": "can_move", "type": "core::bool", "key": false },
                { "name": "history", "type": "core::array::Array::<(core::integer::u8, core::felt252)>", "key": false }
              ] }
        ],
        "events": [
            { "tag": "arena-Moved", "class_hash": "0x5f6", "selector": "0x3",
              "members": [ { "name": "player", "type": "core::starknet::contract_address::ContractAddress", "key": true },
                           { "name": "direction", "type": "arena::models::Direction", "key": false } ] }
        ],
        "abis": [
            { "type": "struct", "name": "arena::models::Vec2",
              "members": [ { "name": "x", "type": "core::integer::u32" }, { "name": "y", "type": "core::integer::u32" } ] },
            { "type": "interface", "name": "ignored", "items": [] },
            { "type": "struct", "name": "broken" }
        ]
    })
}

fn manifest(value: &Json) -> Manifest {
    Manifest::from_json(value).unwrap()
}

#[test]
fn parses_world_models_events_and_abis() {
    let m = manifest(&sample());
    assert_eq!(m.world.class_hash, Felt::from(0x139u128));
    assert_eq!(m.world.address, Some(Felt::from(0x617u128)));
    assert_eq!(m.world.seed.as_deref(), Some("arena"));
    assert_eq!(m.models.len(), 2);
    assert_eq!(m.events.len(), 1);
    assert_eq!(m.models[0].members[0].name, "player");
    assert!(m.models[0].members[0].key);
    assert_eq!(m.models[1].selector, Some(Felt::from(2u128)));
    assert_eq!(
        m.resource("arena-Moved").map(|(k, _)| k),
        Some(ResourceKind::Event)
    );
    let text = sample().to_string();
    assert_eq!(Manifest::from_json_str(&text).unwrap(), m);
}

#[test]
fn resolves_member_types_into_shapes() {
    let m = manifest(&sample());
    let registry = m.schemas().unwrap();
    match registry.get("arena-Position").unwrap() {
        Ty::Struct { name, members } => {
            assert_eq!(name, "arena-Position");
            assert_eq!(
                members[0],
                (
                    "player".into(),
                    true,
                    Ty::Primitive(PrimitiveType::ContractAddress)
                )
            );
            assert!(
                matches!(&members[1].2, Ty::Struct { name, members } if name == "Vec2" && members.len() == 2)
            );
        }
        other => panic!("{other:?}"),
    }
    match m.model_ty("arena-Moves").unwrap() {
        Ty::Struct { members, .. } => {
            assert!(matches!(&members[2].2, Ty::Enum { options, .. } if options.len() == 2));
            assert_eq!(members[3].2, Ty::Primitive(PrimitiveType::Bool));
            assert!(
                matches!(&members[4].2, Ty::Array(Some(inner)) if matches!(**inner, Ty::Tuple(ref t) if t.len() == 2))
            );
        }
        other => panic!("{other:?}"),
    }
    assert!(m.model_ty("arena-Moved").is_ok());
    assert_eq!(
        m.model_ty("arena-Nope"),
        Err(ManifestError::UnknownModel {
            tag: "arena-Nope".into()
        })
    );
    let mut value = sample();
    value["abis"] = json!([]);
    let err = manifest(&value).model_ty("arena-Position").unwrap_err();
    assert!(
        matches!(&err, ManifestError::UnresolvedType { member, .. } if member == "vec"),
        "{err}"
    );
}

fn parse_err(value: Json) -> ManifestError {
    Manifest::from_json(&value).unwrap_err()
}

#[test]
fn bad_manifests_name_what_is_wrong() {
    assert!(matches!(
        Manifest::from_json_str("{"),
        Err(ManifestError::Json(_))
    ));
    assert!(matches!(parse_err(json!([])), ManifestError::WrongType { at, .. } if at == "$"));
    assert_eq!(
        parse_err(json!({"models": []})),
        ManifestError::Missing {
            at: "$".into(),
            field: "world"
        }
    );
    let mut v = sample();
    v["models"][1].as_object_mut().unwrap().remove("class_hash");
    assert_eq!(
        parse_err(v),
        ManifestError::Missing {
            at: "models[1]".into(),
            field: "class_hash"
        }
    );
    let mut v = sample();
    v["models"][0]["class_hash"] = json!("445");
    assert!(
        matches!(parse_err(v), ManifestError::BadFelt { at, .. } if at == "models[0].class_hash")
    );
    let mut v = sample();
    v["models"][0]["tag"] = json!("Position");
    assert!(matches!(parse_err(v), ManifestError::BadName { at, .. } if at == "models[0].tag"));
    for (field, bad) in [("tag", "arena-1Position"), ("tag", "a b-Position")] {
        let mut v = sample();
        v["models"][0][field] = json!(bad);
        let error = parse_err(v);
        assert!(
            matches!(&error, ManifestError::BadName { at, source } if at == "models[0].tag" && source.name == bad),
            "{error:?}"
        );
        assert!(error.to_string().contains("namespace-Model"), "{error}");
    }
    for bad in ["", " ", "has space", "1st", "x.y"] {
        let mut v = sample();
        v["models"][0]["members"][1]["name"] = json!(bad);
        let error = parse_err(v);
        assert!(
            matches!(&error, ManifestError::BadName { at, .. } if at == "models[0].members[1].name"),
            "{bad:?}: {error:?}"
        );
        assert!(
            error.to_string().contains("not a Cairo identifier"),
            "{error}"
        );
    }
    let mut v = sample();
    v["events"][0]["tag"] = json!("arena-Moves");
    assert_eq!(
        parse_err(v),
        ManifestError::DuplicateTag {
            tag: "arena-Moves".into()
        }
    );
    let mut v = sample();
    v["models"][1]["members"][1]["name"] = json!("player");
    assert_eq!(
        parse_err(v),
        ManifestError::DuplicateMember {
            tag: "arena-Moves".into(),
            member: "player".into()
        }
    );
    let mut v = sample();
    v["models"][0]["members"][0]["key"] = json!("yes");
    assert!(
        matches!(parse_err(v), ManifestError::WrongType { at, .. } if at == "models[0].members[0].key")
    );
    let mut v = sample();
    v["models"][0]["members"][2]["type"] = json!(" ");
    assert!(
        matches!(parse_err(v), ManifestError::Empty { at } if at == "models[0].members[2].type")
    );
    let mut v = sample();
    v["models"][0].as_object_mut().unwrap().remove("members");
    assert!(matches!(
        parse_err(v),
        ManifestError::Missing {
            field: "members",
            ..
        }
    ));
    let mut v = sample();
    v["models"] = json!({});
    assert!(matches!(parse_err(v), ManifestError::WrongType { at, .. } if at == "$.models"));
    // Events are optional.
    let mut v = sample();
    v.as_object_mut().unwrap().remove("events");
    assert!(manifest(&v).events.is_empty());
}

#[test]
fn hash_has_the_documented_format() {
    let m = manifest(&sample());
    let hash = compute_manifest_hash(&m);
    assert!(hash.starts_with(MANIFEST_HASH_PREFIX));
    let digits = &hash[MANIFEST_HASH_PREFIX.len()..];
    assert_eq!(digits.len(), 64);
    assert!(digits
        .bytes()
        .all(|b| b.is_ascii_hexdigit() && !b.is_ascii_uppercase()));
    let bytes = canonical_manifest_bytes(&m);
    assert_eq!(&bytes[..16], b"dojo-manifest/v1");
    assert_eq!(bytes[16], b'W');
    assert_eq!(&bytes[17..49], Felt::from(0x139u128).as_bytes());
    assert_eq!(bytes[49], b'M');
    assert_eq!(&bytes[50..54], &2u32.to_be_bytes());
    // Models are sorted by tag: arena-Moves before arena-Position.
    assert_eq!(&bytes[54..58], &11u32.to_be_bytes());
    assert_eq!(&bytes[58..69], b"arena-Moves");
    assert_eq!(
        hash,
        format!(
            "{MANIFEST_HASH_PREFIX}{}",
            hex::encode(Sha256::digest(&bytes))
        )
    );
}

#[test]
fn hash_ignores_order_and_felt_spelling_but_not_members() {
    let base = compute_manifest_hash(&manifest(&sample()));
    let mut v = sample();
    let models = v["models"].as_array_mut().unwrap();
    models.reverse();
    v["models"][0]["class_hash"] = json!("0x0000469");
    v["world"]["address"] = json!("0x999");
    v["abis"] = json!([]);
    assert_eq!(compute_manifest_hash(&manifest(&v)), base);
    let changes: Vec<fn(&mut Json)> = vec![
        |v| v["models"][0]["members"][1]["type"] = json!("core::integer::u16"),
        |v| v["models"][0]["members"][2]["key"] = json!(true),
        |v| v["models"][0]["members"][2]["name"] = json!("updated"),
        |v| v["models"][0]["members"].as_array_mut().unwrap().swap(1, 2),
        |v| {
            v["models"][0]["members"].as_array_mut().unwrap().pop();
        },
        |v| v["models"][0]["class_hash"] = json!("0x446"),
        |v| v["world"]["class_hash"] = json!("0x13a"),
        |v| v["events"][0]["members"][1]["key"] = json!(true),
        |v| v["events"] = json!([]),
    ];
    for (i, change) in changes.iter().enumerate() {
        let mut v = sample();
        change(&mut v);
        assert_ne!(compute_manifest_hash(&manifest(&v)), base, "change {i}");
    }
}

#[test]
fn fingerprint_is_plain_data_and_diffs_by_entry() {
    let m = manifest(&sample());
    let fp = m.fingerprint();
    assert_eq!(fp.hash, compute_manifest_hash(&m));
    assert_eq!(
        fp.entries
            .iter()
            .map(|e| e.tag.as_str())
            .collect::<Vec<_>>(),
        ["arena-Moved", "arena-Moves", "arena-Position"]
    );
    let text = serde_json::to_string(&fp).unwrap();
    assert!(
        text.contains("\"worldClassHash\"") && text.contains("\"memberCount\""),
        "{text}"
    );
    let back: ManifestFingerprint = serde_json::from_str(&text).unwrap();
    assert_eq!(back, fp);
    assert!(fp.diff(&fp).is_empty());
    let mut v = sample();
    v["models"][0]["members"][1]["type"] = json!("core::integer::u16");
    v["events"] = json!([]);
    v["models"]
        .as_array_mut()
        .unwrap()
        .push(json!({"tag": "arena-New", "class_hash": "0x1", "members": []}));
    let newer = manifest(&v).fingerprint();
    let diff = fp.diff(&newer);
    assert!(diff.contains(&FingerprintChange::Changed {
        tag: "arena-Position".into()
    }));
    assert!(diff.contains(&FingerprintChange::Added {
        tag: "arena-New".into()
    }));
    assert!(diff.contains(&FingerprintChange::Removed {
        tag: "arena-Moved".into()
    }));
    assert_eq!(diff.len(), 3);
}

#[test]
fn sync_configuration_is_validated_against_the_manifest() {
    let m = manifest(&sample());
    let config = SyncConfig::from_json_str(
        &m,
        r#"{"models": ["arena-Moves", {"tag": "arena-Position", "versionMember": "last_updated_at"}, {"tag": "arena-Moved"}]}"#,
    )
    .unwrap();
    assert_eq!(config.models().len(), 3);
    assert_eq!(
        config.version_member("arena-Position"),
        Some("last_updated_at")
    );
    assert_eq!(config.version_member("arena-Moves"), None);
    assert_eq!(
        config.get("arena-Moved").map(|s| s.kind),
        Some(ResourceKind::Event)
    );
    assert_eq!(
        config
            .get("arena-Position")
            .and_then(|s| s.version_member.clone()),
        Some(("last_updated_at".into(), PrimitiveType::U64))
    );
    assert_eq!(
        SyncConfig::all_models(&m).tags().collect::<Vec<_>>(),
        ["arena-Position", "arena-Moves"]
    );
    let err = |specs: Vec<ModelSyncSpec>| SyncConfig::new(&m, specs).unwrap_err();
    assert_eq!(
        err(vec![ModelSyncSpec::Tag("arena-Nope".into())]),
        SyncConfigError::UnknownModel {
            tag: "arena-Nope".into()
        }
    );
    assert_eq!(
        err(vec![
            ModelSyncSpec::Tag("arena-Moves".into()),
            ModelSyncSpec::Tag("arena-Moves".into())
        ]),
        SyncConfigError::DuplicateModel {
            tag: "arena-Moves".into()
        }
    );
    assert_eq!(
        err(vec![ModelSyncSpec::with_version("arena-Moves", "nope")]),
        SyncConfigError::UnknownVersionMember {
            model: "arena-Moves".into(),
            member: "nope".into()
        }
    );
    assert_eq!(
        err(vec![ModelSyncSpec::with_version("arena-Moves", "player")]),
        SyncConfigError::KeyVersionMember {
            model: "arena-Moves".into(),
            member: "player".into()
        }
    );
    for member in ["can_move", "last_direction", "history"] {
        assert!(matches!(
            err(vec![ModelSyncSpec::with_version("arena-Moves", member)]),
            SyncConfigError::NotAVersionType { .. }
        ));
    }
    assert!(matches!(
        SyncConfig::from_json_str(&m, r#"{"models": [3]}"#),
        Err(SyncConfigError::Json(_))
    ));
    assert!(matches!(
        SyncConfig::from_json_str(&m, r#"{"model": []}"#),
        Err(SyncConfigError::Json(_))
    ));
}
