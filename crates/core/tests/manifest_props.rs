//! Properties of the manifest hash: the order of entries in the file, JSON key order and felt
//! spelling do not change it; any change to a member, a class hash or a tag does.

use dojo_reactive_core::{compute_manifest_hash, Manifest};
use proptest::prelude::*;
use serde_json::{json, Map, Value as Json};

const TYPES: &[&str] = &[
    "core::integer::u8",
    "core::integer::u32",
    "core::integer::u64",
    "core::integer::i128",
    "core::felt252",
    "core::bool",
    "core::starknet::contract_address::ContractAddress",
    "core::byte_array::ByteArray",
    "core::array::Array::<core::integer::u16>",
    "ns::models::Vec2",
];

#[derive(Debug, Clone)]
struct Member {
    name: String,
    ty: usize,
    key: bool,
}

#[derive(Debug, Clone)]
struct Resource {
    tag: String,
    class_hash: u64,
    members: Vec<Member>,
}

fn members() -> impl Strategy<Value = Vec<Member>> {
    prop::collection::btree_set("[a-z]{1,6}", 0..6).prop_flat_map(|names| {
        let names: Vec<String> = names.into_iter().collect();
        let n = names.len();
        (
            Just(names),
            prop::collection::vec((0..TYPES.len(), any::<bool>()), n),
        )
            .prop_map(|(names, specs)| {
                names
                    .into_iter()
                    .zip(specs)
                    .map(|(name, (ty, key))| Member { name, ty, key })
                    .collect()
            })
    })
}

fn resources(max: usize) -> impl Strategy<Value = Vec<Resource>> {
    prop::collection::btree_set("[A-Z][a-z]{0,5}", 0..max).prop_flat_map(|names| {
        let names: Vec<String> = names.into_iter().collect();
        let n = names.len();
        (
            Just(names),
            prop::collection::vec((any::<u64>(), members()), n),
        )
            .prop_map(|(names, specs)| {
                names
                    .into_iter()
                    .zip(specs)
                    .map(|(name, (class_hash, members))| Resource {
                        tag: format!("ns-{name}"),
                        class_hash,
                        members,
                    })
                    .collect()
            })
    })
}

fn felt(value: u64, padded: bool) -> String {
    if padded {
        format!("0x{value:064x}")
    } else {
        format!("0x{value:x}")
    }
}

/// JSON for a resource; `variant` changes key order and felt spelling only.
fn resource_json(r: &Resource, variant: bool) -> Json {
    let members: Vec<Json> = r
        .members
        .iter()
        .map(|m| {
            let mut map = Map::new();
            if variant {
                map.insert("key".into(), json!(m.key));
                map.insert("type".into(), json!(TYPES[m.ty]));
                map.insert("name".into(), json!(m.name));
            } else {
                map.insert("name".into(), json!(m.name));
                map.insert("type".into(), json!(TYPES[m.ty]));
                map.insert("key".into(), json!(m.key));
            }
            Json::Object(map)
        })
        .collect();
    json!({
        "members": members,
        "class_hash": felt(r.class_hash, variant),
        "tag": r.tag,
        "selector": felt(r.class_hash ^ 1, !variant),
    })
}

fn manifest_json(world: u64, models: &[Resource], events: &[Resource], variant: bool) -> Json {
    json!({
        "world": { "class_hash": felt(world, variant), "address": felt(world ^ 7, variant) },
        "models": models.iter().map(|r| resource_json(r, variant)).collect::<Vec<_>>(),
        "events": events.iter().map(|r| resource_json(r, variant)).collect::<Vec<_>>(),
    })
}

fn hash(value: &Json) -> String {
    compute_manifest_hash(&Manifest::from_json(value).unwrap())
}

#[derive(Debug, Clone)]
enum Mutation {
    Rename(usize),
    Retype(usize, usize),
    FlipKey(usize),
    Swap(usize, usize),
    Remove(usize),
    Add,
    ClassHash,
    Tag,
}

fn mutation() -> impl Strategy<Value = Mutation> {
    prop_oneof![
        any::<usize>().prop_map(Mutation::Rename),
        (any::<usize>(), 1..TYPES.len()).prop_map(|(i, d)| Mutation::Retype(i, d)),
        any::<usize>().prop_map(Mutation::FlipKey),
        (any::<usize>(), any::<usize>()).prop_map(|(i, j)| Mutation::Swap(i, j)),
        any::<usize>().prop_map(Mutation::Remove),
        Just(Mutation::Add),
        Just(Mutation::ClassHash),
        Just(Mutation::Tag),
    ]
}

/// Applies a mutation that must change the hash; false when it cannot apply (e.g. no members).
fn mutate(r: &mut Resource, m: &Mutation) -> bool {
    let n = r.members.len();
    match *m {
        Mutation::Rename(i) if n > 0 => r.members[i % n].name.push_str("_1"),
        Mutation::Retype(i, d) if n > 0 => {
            let member = &mut r.members[i % n];
            member.ty = (member.ty + d) % TYPES.len();
        }
        Mutation::FlipKey(i) if n > 0 => r.members[i % n].key ^= true,
        Mutation::Swap(i, j) if n > 1 && i % n != j % n => r.members.swap(i % n, j % n),
        Mutation::Remove(i) if n > 0 => {
            r.members.remove(i % n);
        }
        Mutation::Add => r.members.push(Member {
            name: "zzzzzzz".into(),
            ty: 0,
            key: false,
        }),
        Mutation::ClassHash => r.class_hash ^= 0x10,
        Mutation::Tag => r.tag.push('Z'),
        _ => return false,
    }
    true
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 1000, ..ProptestConfig::default() })]

    #[test]
    fn hash_is_stable_under_reordering_and_spelling(
        world in any::<u64>(),
        models in resources(6),
        events in resources(3),
        seed in any::<u64>(),
    ) {
        // Event tags must not collide with model tags.
        let events: Vec<Resource> = events.into_iter().map(|mut e| { e.tag.push_str("Ev"); e }).collect();
        let base = hash(&manifest_json(world, &models, &events, false));
        let mut shuffled_models = models.clone();
        let mut shuffled_events = events.clone();
        let k = shuffled_models.len().max(1);
        shuffled_models.rotate_left((seed as usize) % k);
        shuffled_models.reverse();
        shuffled_events.reverse();
        let shuffled = manifest_json(world, &shuffled_models, &shuffled_events, true);
        prop_assert_eq!(hash(&shuffled), base.clone());
        prop_assert!(base.starts_with("manifest-hash:v1:"));
    }

    #[test]
    fn any_member_change_changes_the_hash(
        world in any::<u64>(),
        models in resources(6),
        events in resources(3),
        which in any::<prop::sample::Index>(),
        change in mutation(),
    ) {
        let events: Vec<Resource> = events.into_iter().map(|mut e| { e.tag.push_str("Ev"); e }).collect();
        let base = hash(&manifest_json(world, &models, &events, false));
        let total = models.len() + events.len();
        prop_assume!(total > 0);
        let i = which.index(total);
        let (mut models2, mut events2) = (models.clone(), events.clone());
        let target = if i < models2.len() { &mut models2[i] } else { &mut events2[i - models.len()] };
        prop_assume!(mutate(target, &change));
        let (before, after) = if i < models.len() { (&models[i], &models2[i]) } else { (&events[i - models.len()], &events2[i - models.len()]) };
        // Swapping two members with identical signatures is no change at all.
        let same = before.tag == after.tag && before.class_hash == after.class_hash
            && before.members.iter().zip(&after.members).all(|(a, b)| a.name == b.name && a.ty == b.ty && a.key == b.key)
            && before.members.len() == after.members.len();
        prop_assume!(!same);
        prop_assert_ne!(hash(&manifest_json(world, &models2, &events2, false)), base);
    }
}

#[test]
fn world_class_hash_and_resource_kind_matter() {
    let model = Resource {
        tag: "ns-A".into(),
        class_hash: 1,
        members: vec![],
    };
    let base = hash(&manifest_json(1, std::slice::from_ref(&model), &[], false));
    assert_ne!(
        hash(&manifest_json(2, std::slice::from_ref(&model), &[], false)),
        base
    );
    assert_ne!(
        hash(&manifest_json(1, &[], std::slice::from_ref(&model), false)),
        base
    );
}
