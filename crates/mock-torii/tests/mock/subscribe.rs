//! Subscriptions: handshake, commit order, old-or-new matching, clause updates, deletions,
//! buffer overflow, event messages.

use dojo_reactive_mock_torii::{MockConfig, SetRequest, UpdatesRequest};
use dojo_reactive_torii::types::{primitive::PrimitiveType as P, ComparisonOperator as Op};
use dojo_reactive_torii::world;
use serde_json::{json, Map, Value};

use crate::common::*;

fn updates(count: usize, ids: &[&str], model: Option<&str>) -> UpdatesRequest {
    UpdatesRequest {
        count,
        model: model.map(str::to_owned),
        entity_ids: ids.iter().map(|s| (*s).to_owned()).collect(),
    }
}

fn set(id: &str, model: &str, values: Value) -> SetRequest {
    let Value::Object(values) = values else {
        panic!("object")
    };
    SetRequest {
        entity_id: Some(id.to_owned()),
        keys: None,
        model: model.to_owned(),
        values,
    }
}

fn first_player(mock: &dojo_reactive_mock_torii::RunningMock, skip: usize) -> String {
    world_entities(mock)
        .iter()
        .filter(|e| e["models"].get("arena-Player").is_some())
        .nth(skip)
        .and_then(|e| e["entityId"].as_str())
        .expect("a player")
        .to_owned()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn handshake_first_then_one_model_per_update_in_commit_order() {
    let mock = start(50).await;
    let mut client = client(&mock).await;
    let (id, mut stream) = subscribe(&mut client, None).await;
    let player = first_player(&mock, 0);
    mock.control()
        .apply_updates(&updates(60, &[&player], Some("arena-Player")))
        .expect("updates");
    let mut last = 0;
    for _ in 0..60 {
        let message = next(&mut stream).await.expect("an update");
        assert_eq!(message.subscription_id, id);
        let entity = message.entity.expect("an entity");
        assert_eq!(hex(&entity.hashed_keys), player);
        assert_eq!(entity.models.len(), 1, "one model per update");
        assert_eq!(entity.models[0].name, "arena-Player");
        let version = u64_member(&entity, "last_updated_at");
        assert!(version > last, "commit order");
        last = version;
    }
    assert_quiet(&mut stream).await;
    // Random updates over the whole world arrive too, each with exactly one model.
    mock.control()
        .apply_updates(&updates(20, &[], None))
        .expect("updates");
    for _ in 0..20 {
        let entity = next(&mut stream)
            .await
            .expect("update")
            .entity
            .expect("entity");
        assert_eq!(entity.models.len(), 1);
    }
    assert_eq!(mock.control().subscription_count(), 1);
    drop(stream);
    // The dropped stream is forgotten (at once, or on the next broadcast).
    mock.control()
        .apply_updates(&updates(1, &[], None))
        .expect("update");
    tokio::time::timeout(PATIENCE, async {
        while mock.control().subscription_count() != 0 {
            tokio::time::sleep(std::time::Duration::from_millis(20)).await;
        }
    })
    .await
    .expect("subscription forgotten");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn updates_are_sent_when_old_or_new_state_matches() {
    let mock = start(20).await;
    let mut client = client(&mock).await;
    let player = first_player(&mock, 0);
    let other = first_player(&mock, 1);
    mock.control()
        .set(&set(&player, "arena-Player", json!({"hp": 900})))
        .expect("set");
    mock.control()
        .set(&set(&other, "arena-Player", json!({"hp": 10})))
        .expect("set");
    let (_, mut stream) = subscribe(
        &mut client,
        Some(member("arena-Player", "hp", Op::Gte, prim(P::U32(500)))),
    )
    .await;
    // Leaving the filter: old matches.
    mock.control()
        .set(&set(&player, "arena-Player", json!({"hp": 100})))
        .expect("set");
    let entity = next(&mut stream)
        .await
        .expect("leave")
        .entity
        .expect("entity");
    assert_eq!(hex(&entity.hashed_keys), player);
    // Neither old nor new matches: nothing.
    mock.control()
        .set(&set(&player, "arena-Player", json!({"hp": 50})))
        .expect("set");
    mock.control()
        .set(&set(&other, "arena-Player", json!({"hp": 20})))
        .expect("set");
    assert_quiet(&mut stream).await;
    // Entering: new matches.
    mock.control()
        .set(&set(&other, "arena-Player", json!({"hp": 600})))
        .expect("set");
    let entity = next(&mut stream)
        .await
        .expect("enter")
        .entity
        .expect("entity");
    assert_eq!(hex(&entity.hashed_keys), other);
    // A Position update of a matching entity is sent (the clause sees the whole entity).
    mock.control()
        .set(&set(&other, "arena-Position", json!({"vec.x": 3})))
        .expect("set");
    let entity = next(&mut stream)
        .await
        .expect("position")
        .entity
        .expect("entity");
    assert_eq!(entity.models[0].name, "arena-Position");
    // Keys clause restricted to a model: only that model's updates.
    let address = world_entities(&mock)
        .iter()
        .find(|e| e["entityId"] == other.as_str())
        .and_then(|e| {
            e["models"]["arena-Player"]["player"]
                .as_str()
                .map(str::to_owned)
        })
        .expect("the player's address");
    let (_, mut keyed) = subscribe(
        &mut client,
        Some(keys(vec![unhex(&address)], false, &["arena-Position"])),
    )
    .await;
    mock.control()
        .set(&set(&other, "arena-Player", json!({"hp": 601})))
        .expect("set");
    mock.control()
        .set(&set(&other, "arena-Position", json!({"vec": {"y": 4}})))
        .expect("set");
    let entity = next(&mut keyed)
        .await
        .expect("position")
        .entity
        .expect("entity");
    assert_eq!(entity.models[0].name, "arena-Position");
    assert_quiet(&mut keyed).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn update_entities_subscription_replaces_the_clause() {
    let mock = start(20).await;
    let mut client = client(&mock).await;
    let a = first_player(&mock, 0);
    let b = first_player(&mock, 1);
    let (id, mut stream) = subscribe(&mut client, Some(hashed(&[unhex(&a)]))).await;
    mock.control()
        .apply_updates(&updates(1, &[&b], None))
        .expect("b");
    mock.control()
        .apply_updates(&updates(1, &[&a], None))
        .expect("a");
    let entity = next(&mut stream).await.expect("a").entity.expect("entity");
    assert_eq!(hex(&entity.hashed_keys), a);
    client
        .update_entities_subscription(world::UpdateEntitiesSubscriptionRequest {
            subscription_id: id,
            clause: Some(hashed(&[unhex(&b)])),
            world_addresses: vec![],
        })
        .await
        .expect("updated");
    mock.control()
        .apply_updates(&updates(1, &[&a], None))
        .expect("a");
    mock.control()
        .apply_updates(&updates(1, &[&b], None))
        .expect("b");
    let entity = next(&mut stream).await.expect("b").entity.expect("entity");
    assert_eq!(hex(&entity.hashed_keys), b);
    assert_quiet(&mut stream).await;
    let status = client
        .update_entities_subscription(world::UpdateEntitiesSubscriptionRequest {
            subscription_id: id ^ 1,
            clause: None,
            world_addresses: vec![],
        })
        .await
        .expect_err("unknown id");
    assert_eq!(status.code(), tonic::Code::NotFound);
    // An entity subscription is not an event-message subscription.
    let status = client
        .update_event_messages_subscription(world::UpdateEntitiesSubscriptionRequest {
            subscription_id: id,
            clause: None,
            world_addresses: vec![],
        })
        .await
        .expect_err("wrong kind");
    assert_eq!(status.code(), tonic::Code::NotFound);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn deletion_arrives_as_an_empty_struct() {
    let mock = start(20).await;
    let mut client = client(&mock).await;
    let player = first_player(&mock, 2);
    let (_, mut stream) = subscribe(&mut client, Some(hashed(&[unhex(&player)]))).await;
    mock.control()
        .delete(&player, "arena-Position")
        .expect("delete");
    let entity = next(&mut stream)
        .await
        .expect("deletion")
        .entity
        .expect("entity");
    assert_eq!(entity.models.len(), 1);
    assert_eq!(entity.models[0].name, "arena-Position");
    assert!(entity.models[0].children.is_empty());
    let page = client
        .retrieve_entities(retrieve(Some(hashed(&[unhex(&player)])), 10, ""))
        .await
        .expect("page")
        .into_inner();
    let names: Vec<&str> = page.entities[0]
        .models
        .iter()
        .map(|m| m.name.as_str())
        .collect();
    assert_eq!(
        names,
        ["arena-Player"],
        "a retrieved entity has only the models it has"
    );
    assert_eq!(
        mock.control().delete(&player, "arena-Position"),
        Err(dojo_reactive_mock_torii::ControlError::NotFound(
            "the entity has no model arena-Position".into()
        ))
    );
    // Setting it again recreates it with its key.
    mock.control()
        .set(&set(
            &player,
            "arena-Position",
            json!({"vec": {"x": 1, "y": 2}}),
        ))
        .expect("set");
    let entity = next(&mut stream)
        .await
        .expect("recreated")
        .entity
        .expect("entity");
    assert_eq!(entity.models[0].children.len(), 3);
    // Deleting every model removes the entity from retrieves.
    mock.control()
        .delete(&player, "arena-Position")
        .expect("delete");
    mock.control()
        .delete(&player, "arena-Player")
        .expect("delete");
    let page = client
        .retrieve_entities(retrieve(Some(hashed(&[unhex(&player)])), 10, ""))
        .await
        .expect("page")
        .into_inner();
    assert!(page.entities.is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_full_buffer_ends_the_stream() {
    let mock = start_with(MockConfig {
        entities: 20,
        event_messages: 0,
        buffer: 8,
        ..MockConfig::default()
    })
    .await;
    let mut client = client(&mock).await;
    let (_, mut stream) = subscribe(&mut client, None).await;
    // A slow consumer: every streamed message waits 100 ms, so the buffer fills at once.
    mock.control().delay(std::time::Duration::from_millis(100));
    mock.control()
        .apply_updates(&updates(200, &[], None))
        .expect("updates");
    let mut received = 0;
    while let Some(message) = next(&mut stream).await {
        assert!(message.entity.is_some());
        received += 1;
        assert!(received <= 200);
    }
    assert!(
        received < 50,
        "the stream ended early (buffer of 8 plus what the slow stream took), after {received}"
    );
    assert_eq!(mock.control().subscription_count(), 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn event_messages_stream_separately() {
    let mock = start(10).await;
    let mut client = client(&mock).await;
    let mut events = client
        .subscribe_event_messages(world::SubscribeEntitiesRequest {
            clause: None,
            world_addresses: vec![],
        })
        .await
        .expect("subscribe")
        .into_inner();
    let handshake = next(&mut events).await.expect("handshake");
    assert!(handshake.entity.is_none());
    let (_, mut entities) = subscribe(&mut client, None).await;
    mock.control()
        .apply_updates(&updates(3, &[], Some("arena-Moved")))
        .expect("moved");
    for _ in 0..3 {
        let entity = next(&mut events)
            .await
            .expect("event")
            .entity
            .expect("entity");
        assert_eq!(entity.models[0].name, "arena-Moved");
        assert_eq!(
            u64_member(&entity, "at"),
            entity.executed_at,
            "at is the block time"
        );
    }
    assert_quiet(&mut entities).await;
    mock.control()
        .apply_updates(&updates(1, &[], Some("arena-Inventory")))
        .expect("inventory");
    let entity = next(&mut entities)
        .await
        .expect("entity")
        .entity
        .expect("entity");
    assert_eq!(entity.models[0].name, "arena-Inventory");
    assert_quiet(&mut events).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn set_with_keys_creates_entities() {
    let mock = start(10).await;
    let mut client = client(&mock).await;
    let (_, mut stream) = subscribe(&mut client, None).await;
    let mut values = Map::new();
    values.insert("name".into(), json!("Newcomer"));
    values.insert("class".into(), json!({"variant": "Rogue", "value": 7}));
    values.insert(
        "debt".into(),
        json!("-170141183460469231731687303715884105728"),
    );
    let id = mock
        .control()
        .set(&SetRequest {
            entity_id: None,
            keys: Some(vec!["0x1234".into()]),
            model: "arena-Player".into(),
            values,
        })
        .expect("created");
    let entity = next(&mut stream)
        .await
        .expect("created")
        .entity
        .expect("entity");
    assert_eq!(hex(&entity.hashed_keys), id);
    let world = world_entities(&mock);
    let created = world
        .iter()
        .find(|e| e["entityId"] == id.as_str())
        .expect("in the world");
    let player = &created["models"]["arena-Player"];
    assert_eq!(player["name"], "Newcomer");
    assert_eq!(player["class"], json!({"variant": "Rogue", "value": 7}));
    assert_eq!(player["debt"], "-170141183460469231731687303715884105728");
    assert_eq!(player["player"], format!("0x{:0>64}", "1234"));
    assert_eq!(player["hp"], 0);
    // Poseidon of the key, as Dojo computes entity ids.
    let expected_id = dojo_reactive_mock_torii::felt::entity_id(&[{
        let mut k = [0u8; 32];
        k[30] = 0x12;
        k[31] = 0x34;
        k
    }]);
    assert_eq!(id, dojo_reactive_mock_torii::felt::hex64(&expected_id));
    // Bad sets are refused without touching the world.
    let bad = [
        set(&id, "arena-Player", json!({"hp": -1})),
        set(&id, "arena-Player", json!({"player": "0x1"})),
        set(&id, "arena-Player", json!({"nope": 1})),
        set(&id, "arena-Nope", json!({})),
        set(&id, "arena-Inventory", json!({"items": [1]})),
    ];
    for request in bad {
        assert!(mock.control().set(&request).is_err(), "{request:?}");
    }
}
