//! The filter DSL agrees with Torii's server-side filtering: for filters on every kind of member,
//! every one of the 14 operators, key patterns (fixed and variable length, wildcards), hashed
//! keys and nested AND / OR composites, evaluating the filter locally on the entities our client
//! retrieved selects exactly the entities mock-torii returns for the filter's translated
//! `Clause`.

#![cfg(not(target_arch = "wasm32"))]

use std::collections::BTreeSet;

use dojo_reactive_core::{Entity, Felt, Filter, Primitive, Struct, Value};
use dojo_reactive_mock_torii::{MockConfig, MockTorii};
use dojo_reactive_torii::clause::clause_to_wire;
use dojo_reactive_torii::{types, EntityKind, ToriiClient};
use serde_json::{json, Value as Json};

const PLAYER: &str = "arena-Player";
const INVENTORY: &str = "arena-Inventory";

async fn retrieve_all(client: &ToriiClient, clause: Option<types::Clause>) -> Vec<Entity> {
    let mut all = Vec::new();
    let mut cursor = String::new();
    loop {
        let query = types::Query {
            clause: clause.clone(),
            pagination: Some(types::Pagination {
                cursor,
                limit: 1000,
                ..Default::default()
            }),
            ..Default::default()
        };
        let page = client
            .retrieve(EntityKind::Entities, query)
            .await
            .expect("a page");
        assert!(page.rejected.is_empty());
        all.extend(page.items);
        match page.next_cursor {
            Some(next) => cursor = next,
            None => return all,
        }
    }
}

/// The DSL operand for a member's value: enums by variant name, everything else as its JSON.
fn operand(value: &Value) -> Json {
    match value {
        Value::Enum(e) => json!(e.variant),
        other => other.to_json(),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn local_filter_evaluation_matches_the_servers_clause_filtering() {
    let mock = MockTorii::start(MockConfig {
        entities: 400,
        seed: 5,
        ..MockConfig::default()
    })
    .await
    .expect("mock starts");
    let client = ToriiClient::new(&mock.url()).unwrap();
    let entities = retrieve_all(&client, None).await;
    let shapes = client.schemas();
    let players: Vec<&Struct> = entities.iter().filter_map(|e| e.model(PLAYER)).collect();
    assert!(players.len() > 250);

    // Operands come from real states so filters select some entities and not others.
    let mut filters = Vec::new();
    for member in [
        "level", "xp", "hp", "gold", "mana", "score", "mood", "heat", "karma", "balance", "debt",
        "alive", "name", "class", "guild", "skin", "wallet",
    ] {
        for sample in [
            players[3],
            players[players.len() / 2],
            players[players.len() - 5],
        ] {
            let value = operand(sample.get_path(member).expect("member exists"));
            for op in ["eq", "neq", "gt", "gte", "lt", "lte"] {
                filters.push(json!({ "where": [{ "member": member, "op": op, "value": value }] }));
            }
            let other = operand(players[7].get_path(member).expect("member exists"));
            filters.push(
                json!({ "where": [{ "member": member, "op": "in", "value": [value, other] }] }),
            );
        }
    }
    let player_key = operand(players[11].get_path("player").expect("key"));
    filters.push(json!({ "keys": { "player": player_key } }));
    filters.push(json!({ "keys": { "player": player_key }, "where": [{ "member": "alive", "op": "eq", "value": true }] }));
    filters.push(json!({ "where": [{ "member": "level", "op": "gte", "value": 10 }, { "member": "class", "op": "neq", "value": "Mage" }] }));

    let mut checked = 0;
    let mut selective = 0;
    for spec in &filters {
        // Operators a member's type does not support (e.g. `gt` on a bool) are refused by the
        // DSL with a typed error; only compiled filters are compared.
        let Ok(filter) = Filter::parse(PLAYER, &spec.to_string(), &shapes) else {
            continue;
        };
        let local: BTreeSet<Felt> = entities
            .iter()
            .filter(|e| {
                e.model(PLAYER)
                    .is_some_and(|state| filter.matches(&e.id, state))
            })
            .map(|e| e.id)
            .collect();
        let server: BTreeSet<Felt> =
            retrieve_all(&client, Some(clause_to_wire(&filter.to_clause())))
                .await
                .into_iter()
                .map(|e| e.id)
                .collect();
        assert_eq!(
            local, server,
            "filter {spec} selects different entities locally and on the server"
        );
        checked += 1;
        selective += usize::from(!local.is_empty() && local.len() < players.len());
    }
    assert!(checked >= 60, "only {checked} filters compiled");
    assert!(
        selective >= 40,
        "only {selective} filters selected a proper subset"
    );
}

/// Local evaluation and the server's select the same entities for every filter of `specs` on
/// `model`; returns how many selected a proper, non-empty subset of the model's entities.
async fn agree(client: &ToriiClient, entities: &[Entity], model: &str, specs: &[Json]) -> usize {
    let shapes = client.schemas();
    let held = entities.iter().filter(|e| e.model(model).is_some()).count();
    let mut selective = 0;
    for spec in specs {
        let filter = Filter::parse(model, &spec.to_string(), &shapes)
            .unwrap_or_else(|e| panic!("{spec} compiles: {e}"));
        let local: BTreeSet<Felt> = entities
            .iter()
            .filter(|e| {
                e.model(model)
                    .is_some_and(|state| filter.matches(&e.id, state))
            })
            .map(|e| e.id)
            .collect();
        let server: BTreeSet<Felt> =
            retrieve_all(client, Some(clause_to_wire(&filter.to_clause())))
                .await
                .into_iter()
                .map(|e| e.id)
                .collect();
        assert_eq!(
            local, server,
            "filter {spec} on {model} selects different entities locally and on the server"
        );
        selective += usize::from(!local.is_empty() && local.len() < held);
    }
    selective
}

fn hex(felt: &Felt) -> String {
    felt.to_hex()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_operator_key_form_and_composite_agrees_with_the_server() {
    let mock = MockTorii::start(MockConfig {
        entities: 300,
        seed: 11,
        ..MockConfig::default()
    })
    .await
    .expect("mock starts");
    let client = ToriiClient::new(&mock.url()).unwrap();
    let entities = retrieve_all(&client, None).await;
    let inventories: Vec<&Entity> = entities
        .iter()
        .filter(|e| e.model(INVENTORY).is_some())
        .collect();
    let players: Vec<&Entity> = entities
        .iter()
        .filter(|e| e.model(PLAYER).is_some())
        .collect();
    assert!(inventories.len() > 20 && players.len() > 20);
    let state = |e: &Entity, model: &str, member: &str| -> Value {
        e.model(model)
            .and_then(|s| s.get_path(member))
            .cloned()
            .expect("member exists")
    };
    let elements = |e: &Entity, member: &str| -> Vec<Json> {
        match state(e, INVENTORY, member) {
            Value::Array(items) | Value::FixedSizeArray(items) => {
                items.iter().map(Value::to_json).collect()
            }
            other => panic!("{member} is an array, got {other:?}"),
        }
    };
    let w = |member: &str, op: &str, value: Json| json!({ "where": [{ "member": member, "op": op, "value": value }] });

    // Array operators on a dynamic array (items) and a fixed-size one (hotbar).
    let mut inventory_specs = Vec::new();
    for sample in [
        inventories[1],
        inventories[inventories.len() / 2],
        inventories[inventories.len() - 2],
    ] {
        for member in ["items", "hotbar"] {
            let mine = elements(sample, member);
            let other = elements(inventories[5], member);
            let first = mine.first().cloned().unwrap_or(json!(0));
            inventory_specs.push(w(member, "contains", first.clone()));
            inventory_specs.push(w(
                member,
                "containsAll",
                json!(mine.iter().take(2).collect::<Vec<_>>()),
            ));
            inventory_specs.push(w(member, "containsAll", json!([first.clone(), 10_001])));
            inventory_specs.push(w(
                member,
                "containsAny",
                json!([first.clone(), other.first().cloned().unwrap_or(json!(1))]),
            ));
            inventory_specs.push(w(member, "containsAny", json!([])));
            inventory_specs.push(w(member, "containsAll", json!([])));
            for op in ["arrayLengthEq", "arrayLengthGt", "arrayLengthLt"] {
                inventory_specs.push(w(member, op, json!(mine.len())));
            }
        }
        // Key patterns: both keys, a wildcard each, a prefix; too short for FixedLen.
        let player = state(sample, INVENTORY, "player").to_json();
        let slot = match state(sample, INVENTORY, "slot") {
            Value::Primitive(Primitive::U8(slot)) => json!(format!("{slot:#x}")),
            other => panic!("slot is a u8, got {other:?}"),
        };
        for (keys, matching) in [
            (json!([player, slot]), "fixedLen"),
            (json!([null, slot]), "fixedLen"),
            (json!([player, null]), "fixedLen"),
            (json!([player]), "variableLen"),
            (json!([player]), "fixedLen"),
            (json!([null, null, null]), "variableLen"),
            (json!([]), "variableLen"),
        ] {
            inventory_specs.push(json!({ "where": [{ "keys": keys, "matching": matching }] }));
        }
        inventory_specs.push(json!({ "where": [{ "keys": { "slot": state(sample, INVENTORY, "slot").to_json() } }] }));
    }
    // Hashed keys: inventories, and an entity without one (which must not match).
    let ids: Vec<String> = inventories.iter().take(4).map(|e| hex(&e.id)).collect();
    let player_only = players
        .iter()
        .find(|e| e.model(INVENTORY).is_none())
        .map(|e| hex(&e.id))
        .expect("a player without an inventory");
    inventory_specs.push(json!({ "where": [{ "hashedKeys": ids }] }));
    inventory_specs.push(json!({ "where": [{ "hashedKeys": [player_only.clone()] }] }));
    inventory_specs.push(json!({ "where": [{ "or": [{ "hashedKeys": [player_only] }, { "hashedKeys": [ids[0]] }] }] }));
    inventory_specs.push(json!({ "where": [{ "hashedKeys": [] }] }));
    let selective_inventory = agree(&client, &entities, INVENTORY, &inventory_specs).await;

    // notIn on every kind of scalar, composites nested three deep.
    let mut player_specs = Vec::new();
    let pick = |i: usize, member: &str| {
        let v = state(players[i], PLAYER, member);
        match v {
            Value::Enum(e) => json!(e.variant),
            other => other.to_json(),
        }
    };
    for member in [
        "level", "gold", "score", "heat", "debt", "alive", "name", "class", "guild", "wallet",
    ] {
        player_specs.push(w(
            member,
            "notIn",
            json!([pick(3, member), pick(9, member)]),
        ));
        player_specs.push(w(member, "notIn", json!([])));
        player_specs.push(w(member, "in", json!([])));
    }
    let cond =
        |member: &str, op: &str, value: Json| json!({ "member": member, "op": op, "value": value });
    let level = pick(players.len() / 2, "level");
    player_specs.push(json!({ "where": [{ "or": [cond("level", "lt", level.clone()), cond("class", "eq", json!("Mage"))] }] }));
    player_specs.push(json!({ "where": [{ "or": [
        { "and": [cond("level", "gte", level.clone()), cond("alive", "eq", json!(true))] },
        { "and": [cond("class", "in", json!(["Rogue", "Warrior"])), { "or": [cond("gold", "gt", pick(4, "gold")), cond("heat", "lt", json!(0))] }] }
    ] }] }));
    player_specs.push(json!({ "keys": { "player": pick(11, "player") }, "where": [{ "or": [cond("alive", "eq", json!(true)), cond("alive", "eq", json!(false))] }] }));
    player_specs.push(json!({ "where": [cond("level", "lte", level), { "or": [{ "keys": [pick(12, "player")] }, { "keys": { "player": pick(13, "player") } }, cond("name", "neq", pick(14, "name"))] }] }));
    let selective_player = agree(&client, &entities, PLAYER, &player_specs).await;

    assert!(
        selective_inventory >= 40,
        "only {selective_inventory} inventory filters selected a proper subset"
    );
    // Of the ten `notIn` of two values and the four composites (empty lists select all or
    // nothing; `alive` notIn two values may select nothing), most select a proper subset.
    assert!(
        selective_player >= 12,
        "only {selective_player} player filters selected a proper subset"
    );
}
