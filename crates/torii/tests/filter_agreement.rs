//! The filter DSL agrees with Torii's server-side filtering: for filters on every kind of member
//! and operator, evaluating the filter locally on the entities our client retrieved selects
//! exactly the entities mock-torii returns for the filter's translated `Clause`.

#![cfg(not(target_arch = "wasm32"))]

use std::collections::BTreeSet;

use dojo_reactive_core::{Entity, Felt, Filter, Struct, Value};
use dojo_reactive_mock_torii::{MockConfig, MockTorii};
use dojo_reactive_torii::clause::clause_to_wire;
use dojo_reactive_torii::{types, EntityKind, ToriiClient};
use serde_json::{json, Value as Json};

const PLAYER: &str = "arena-Player";

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
            .filter(|e| e.model(PLAYER).is_some_and(|state| filter.matches(&e.id, state)))
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
