//! The generated `world.World` client over gRPC-web (the crate's `WebClient`) in headless Chromium,
//! against a running mock-torii.
//!
//! Run through `.ci/test`, which starts the mock and builds these tests with its URL in
//! `MOCK_TORII_URL` (read at compile time). By hand:
//! `MOCK_TORII_URL=http://127.0.0.1:8080 CHROMEDRIVER=/usr/bin/chromedriver \
//!  cargo test -p dojo-reactive-torii --target wasm32-unknown-unknown`

#![cfg(target_arch = "wasm32")]

use dojo_reactive_torii::web_client::WebClient;
use dojo_reactive_torii::{types, world};
use wasm_bindgen_test::{wasm_bindgen_test, wasm_bindgen_test_configure};

wasm_bindgen_test_configure!(run_in_browser);

/// The mock-torii these tests talk to, fixed when the tests are compiled.
const MOCK_TORII_URL: &str = match option_env!("MOCK_TORII_URL") {
    Some(url) => url,
    None => "http://127.0.0.1:8080",
};

type WorldClient = world::world_client::WorldClient<WebClient>;

fn client() -> WorldClient {
    world::world_client::WorldClient::new(WebClient::new(
        MOCK_TORII_URL.to_owned(),
        16 * 1024 * 1024,
    ))
}

#[wasm_bindgen_test]
async fn retrieve_entities_returns_one_page() {
    let request = world::RetrieveEntitiesRequest {
        query: Some(types::Query {
            pagination: Some(types::Pagination {
                limit: 100,
                ..Default::default()
            }),
            ..Default::default()
        }),
    };
    let response = client()
        .retrieve_entities(request)
        .await
        .unwrap_or_else(|status| panic!("RetrieveEntities on {MOCK_TORII_URL}: {status}"))
        .into_inner();

    assert_eq!(response.entities.len(), 100, "one page of 100 entities");
    assert!(
        !response.next_cursor.is_empty(),
        "the mock holds more than 100 entities, so there is a next page"
    );
    for entity in &response.entities {
        assert_eq!(
            entity.hashed_keys.len(),
            32,
            "hashed keys are a 32-byte felt"
        );
        assert!(
            !entity.models.is_empty(),
            "a retrieved entity carries its models"
        );
    }
}

#[wasm_bindgen_test]
async fn subscribe_entities_starts_with_the_handshake() {
    let request = world::SubscribeEntitiesRequest {
        clause: None,
        world_addresses: Vec::new(),
    };
    let mut stream = client()
        .subscribe_entities(request)
        .await
        .unwrap_or_else(|status| panic!("SubscribeEntities on {MOCK_TORII_URL}: {status}"))
        .into_inner();

    let first = stream
        .message()
        .await
        .unwrap_or_else(|status| panic!("reading the handshake: {status}"))
        .expect("the stream ended before the handshake");
    assert!(first.entity.is_none(), "the handshake carries no entity");
    assert_ne!(
        first.subscription_id, 0,
        "the handshake carries a subscription id"
    );
}
