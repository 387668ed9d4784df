//! Controllers (`RetrieveControllers`) and offchain messages (`PublishMessage`,
//! `PublishMessageBatch`): our client
//! against mock-torii over real sockets, both directions of the wire.

#![cfg(not(target_arch = "wasm32"))]

use std::time::Duration;

use dojo_reactive_core::Felt;
use dojo_reactive_mock_torii::messaging::PublishFaults;
use dojo_reactive_mock_torii::{MockConfig, MockTorii, RunningMock};
use dojo_reactive_torii::controller::{controller_query, publish_request, published_entity_id};
use dojo_reactive_torii::{EntityKind, ToriiClient, ToriiError};
use serde_json::json;

const WAIT: Duration = Duration::from_secs(10);

async fn start() -> RunningMock {
    MockTorii::start(MockConfig {
        entities: 40,
        messages: true,
        ..MockConfig::default()
    })
    .await
    .expect("mock starts")
}

fn chat(identity: &str, channel: &str, text: &str) -> String {
    json!({
        "types": {},
        "primaryType": "arena-Message",
        "domain": { "name": "arena", "version": "1", "chainId": "SN_SEPOLIA", "revision": "1" },
        "message": { "identity": identity, "channel": channel, "text": text },
    })
    .to_string()
}

fn world(mock: &RunningMock) -> Felt {
    Felt(mock.control().world_address())
}

#[tokio::test]
async fn controllers_page_and_are_found_by_address_and_username() {
    let mock = start().await;
    let client = ToriiClient::new(&mock.url()).unwrap();
    let mut all = Vec::new();
    let mut cursor = None;
    loop {
        let page = client
            .retrieve_controllers(controller_query(&[], &[], cursor, 3))
            .await
            .unwrap();
        assert!(page.rejected.is_empty());
        all.extend(page.items);
        cursor = page.next_cursor;
        if cursor.is_none() {
            break;
        }
    }
    assert!(all.len() >= 5, "one controller per player: {}", all.len());
    assert!(all.windows(2).all(|w| w[0].address.0 < w[1].address.0));
    let alice = all[1].clone();
    let by_address = client
        .retrieve_controllers(controller_query(&[alice.address], &[], None, 0))
        .await
        .unwrap();
    assert_eq!(by_address.items, std::slice::from_ref(&alice));

    mock.control()
        .set_controller(&alice.address.to_hex(), "alice")
        .unwrap();
    let by_name = client
        .retrieve_controllers(controller_query(&[], &["alice".to_owned()], None, 0))
        .await
        .unwrap();
    assert_eq!(by_name.items.len(), 1);
    assert_eq!(by_name.items[0].address, alice.address);
    assert_eq!(by_name.items[0].username, "alice");
}

#[tokio::test]
async fn a_published_message_is_indexed_as_an_entity_and_streamed() {
    let mock = start().await;
    let client = ToriiClient::new(&mock.url()).unwrap();
    let mut stream = client
        .subscribe(EntityKind::Entities, None, &[])
        .await
        .unwrap();
    let signature = [
        Felt::from_hex("0x1").unwrap(),
        Felt::from_hex("0x2").unwrap(),
    ];
    let id = client
        .publish_message(publish_request(
            &world(&mock),
            chat("0xabc", "0x7", "hello"),
            &signature,
        ))
        .await
        .unwrap();
    let entity = published_entity_id(&id).expect("a world-scoped id");
    let update = tokio::time::timeout(WAIT, stream.next())
        .await
        .expect("the message is streamed in time")
        .unwrap()
        .unwrap();
    assert_eq!(update.id, entity);
    let message = update.model("arena-Message").expect("the message model");
    assert_eq!(
        message.get_path("text").map(|v| format!("{v:?}")),
        Some(format!(
            "{:?}",
            dojo_reactive_core::Value::ByteArray("hello".into())
        ))
    );
}

#[tokio::test]
async fn rejected_publishes_are_typed_rpc_errors_with_torii_reason() {
    let mock = start().await;
    let client = ToriiClient::new(&mock.url()).unwrap();
    let signature = [Felt::from_hex("0x1").unwrap()];
    let publish = |message: String| {
        let client = client.clone();
        let request = publish_request(&world(&mock), message, &signature);
        async move { client.publish_message(request).await }
    };
    let unknown = publish(chat("0x1", "0x1", "x").replace("arena-Message", "arena-Nope"))
        .await
        .unwrap_err();
    assert!(
        matches!(&unknown, ToriiError::Rpc { code, message } if code == "Internal" && message == "Model not found: arena-Nope"),
        "{unknown:?}"
    );
    assert!(!unknown.is_retryable());
    let bad_member = publish(chat("0x1", "0x1", "x").replace("\"text\"", "\"mood\""))
        .await
        .unwrap_err();
    assert!(
        bad_member.to_string().contains("Field not found: mood"),
        "{bad_member}"
    );
    let not_json = publish("{".to_owned()).await.unwrap_err();
    assert!(
        matches!(&not_json, ToriiError::Rpc { code, .. } if code == "InvalidArgument"),
        "{not_json:?}"
    );
    mock.control().publish_faults(PublishFaults {
        reject: 1,
        reason: None,
        unindexed: 0,
    });
    let refused = publish(chat("0x1", "0x1", "x")).await.unwrap_err();
    assert!(
        refused.to_string().contains("Invalid signature"),
        "{refused}"
    );
    assert!(
        publish(chat("0x1", "0x1", "x")).await.is_ok(),
        "one refusal only"
    );
}

#[tokio::test]
async fn a_batch_publishes_in_order_and_stops_at_the_first_refused_message() {
    let mock = start().await;
    let client = ToriiClient::new(&mock.url()).unwrap();
    let signature = [Felt::from_hex("0x1").unwrap()];
    let request = |message: String| publish_request(&world(&mock), message, &signature);
    let ids = client
        .publish_message_batch(vec![
            request(chat("0xa1", "0x1", "first")),
            request(chat("0xa2", "0x1", "second")),
        ])
        .await
        .unwrap();
    assert_eq!(ids.len(), 2, "one answer per message");
    let entities: Vec<Felt> = ids
        .iter()
        .map(|id| published_entity_id(id).expect("a world-scoped id"))
        .collect();
    assert_ne!(entities[0], entities[1]);
    let held = |entity: Felt| {
        let client = client.clone();
        async move {
            let query = dojo_reactive_torii::types::Query {
                clause: Some(dojo_reactive_torii::types::Clause {
                    clause_type: Some(dojo_reactive_torii::types::clause::ClauseType::HashedKeys(
                        dojo_reactive_torii::types::HashedKeysClause {
                            hashed_keys: vec![entity.0.to_vec()],
                        },
                    )),
                }),
                ..Default::default()
            };
            let page = client.retrieve(EntityKind::Entities, query).await.unwrap();
            page.items
                .iter()
                .any(|e| e.model("arena-Message").is_some())
        }
    };
    assert!(
        held(entities[0]).await && held(entities[1]).await,
        "both stored"
    );

    // A refused message fails the call; Torii keeps those before it.
    let refused = client
        .publish_message_batch(vec![
            request(chat("0xb1", "0x2", "kept")),
            request(chat("0xb2", "0x2", "x").replace("arena-Message", "arena-Nope")),
            request(chat("0xb3", "0x2", "never")),
        ])
        .await
        .unwrap_err();
    assert!(
        refused.to_string().contains("Model not found: arena-Nope"),
        "{refused}"
    );
    let id_of = |identity: &str| {
        let keys = [
            Felt::from_hex(identity).unwrap().0,
            Felt::from_hex("0x2").unwrap().0,
        ];
        Felt(dojo_reactive_mock_torii::felt::entity_id(&keys))
    };
    assert!(
        held(id_of("0xb1")).await,
        "the message before the refused one is stored"
    );
    assert!(!held(id_of("0xb3")).await, "the one after it is not");
}
