//! The crate's own gRPC-web client (no tonic in the browser build) in headless Chromium, against
//! a running mock-torii that gzips its answers: every RPC the client uses, statuses and broken
//! answers as typed errors, a cancelled read that loses nothing, and a dropped subscription that
//! releases its request.
//!
//! Run through `.ci/test`, which starts the mock and builds these tests with its URL in
//! `MOCK_TORII_URL` (read at compile time). By hand:
//! `MOCK_TORII_URL=http://127.0.0.1:8080 CHROMEDRIVER=/usr/bin/chromedriver \
//!  cargo test -p dojo-reactive-torii --target wasm32-unknown-unknown`

#![cfg(target_arch = "wasm32")]

use dojo_reactive_torii::controller::controller_query;
use dojo_reactive_torii::{types, EntityKind, ToriiClient, ToriiError};
use futures_util::FutureExt;
use wasm_bindgen::JsCast;
use wasm_bindgen_futures::JsFuture;
use wasm_bindgen_test::{wasm_bindgen_test, wasm_bindgen_test_configure};

wasm_bindgen_test_configure!(run_in_browser);

/// The mock-torii these tests talk to, fixed when the tests are compiled.
const MOCK_TORII_URL: &str = match option_env!("MOCK_TORII_URL") {
    Some(url) => url,
    None => "http://127.0.0.1:8080",
};

/// Sends `body` to the mock's control API with the page's `fetch`; its JSON answer.
async fn control(method: &str, route: &str, body: &str) -> serde_json::Value {
    let init = web_sys::RequestInit::new();
    init.set_method(method);
    if method == "POST" {
        init.set_body(&body.into());
    }
    let url = format!("{MOCK_TORII_URL}/_mock/{route}");
    let request = web_sys::Request::new_with_str_and_init(&url, &init).expect("a request");
    let window = web_sys::window().expect("a window");
    let response: web_sys::Response = JsFuture::from(window.fetch_with_request(&request))
        .await
        .expect("the control API answers")
        .dyn_into()
        .expect("a response");
    assert!(
        response.ok(),
        "control {route} answered {}",
        response.status()
    );
    let text = JsFuture::from(response.text().expect("a body"))
        .await
        .expect("the body is read")
        .as_string()
        .expect("text");
    serde_json::from_str(&text).expect("JSON")
}

/// Live subscriptions of every kind on the mock.
async fn live_subscriptions() -> u64 {
    let status = control("GET", "status", "").await;
    let count = |key: &str| status[key].as_u64().expect("a count");
    count("subscriptions") + count("tokenSubscriptions")
}

/// Waits `ms` milliseconds.
async fn sleep(ms: i32) {
    let promise = js_sys::Promise::new(&mut |resolve, _| {
        let window = web_sys::window().expect("a window");
        window
            .set_timeout_with_callback_and_timeout_and_arguments_0(&resolve, ms)
            .expect("setTimeout");
    });
    JsFuture::from(promise).await.expect("the timer fires");
}

fn client() -> ToriiClient {
    ToriiClient::new(MOCK_TORII_URL).expect("a client")
}

fn first_page(limit: u32) -> Option<types::Pagination> {
    Some(types::Pagination {
        limit,
        ..Default::default()
    })
}

fn entities(limit: u32) -> types::Query {
    types::Query {
        pagination: first_page(limit),
        ..Default::default()
    }
}

#[wasm_bindgen_test]
async fn every_rpc_of_the_client_works_over_grpc_web() {
    let client = client();
    let worlds = client.worlds(&[]).await.expect("Worlds");
    assert_eq!(worlds.len(), 1, "the mock serves one world");
    assert!(!worlds[0].models.is_empty(), "the world has models");

    let page = client
        .retrieve(EntityKind::Entities, entities(100))
        .await
        .expect("RetrieveEntities");
    assert_eq!(page.items.len(), 100, "one page of 100 entities");
    assert!(page.next_cursor.is_some(), "the mock holds more than 100");
    client
        .retrieve(EntityKind::EventMessages, entities(10))
        .await
        .expect("RetrieveEventMessages");
    client
        .retrieve_tokens(types::TokenQuery {
            pagination: first_page(10),
            ..Default::default()
        })
        .await
        .expect("RetrieveTokens");
    client
        .retrieve_token_balances(types::TokenBalanceQuery {
            pagination: first_page(10),
            ..Default::default()
        })
        .await
        .expect("RetrieveTokenBalances");
    client
        .retrieve_token_contracts(types::TokenContractQuery {
            pagination: first_page(10),
            ..Default::default()
        })
        .await
        .expect("RetrieveTokenContracts");
    client
        .retrieve_controllers(controller_query(&[], &[], None, 10))
        .await
        .expect("RetrieveControllers");

    for kind in [EntityKind::Entities, EntityKind::EventMessages] {
        let subscription = client.subscribe(kind, None, &[]).await.expect("handshake");
        assert_ne!(subscription.id(), 0, "the handshake carries an id");
        client
            .update_subscription(kind, subscription.id(), None, &[])
            .await
            .expect("Update*Subscription");
    }
    let tokens = client.subscribe_tokens(&[], &[]).await.expect("tokens");
    client
        .update_tokens_subscription(tokens.id(), &[], &[])
        .await
        .expect("UpdateTokensSubscription");
    let balances = client
        .subscribe_token_balances(&[], &[], &[])
        .await
        .expect("balances");
    client
        .update_token_balances_subscription(balances.id(), &[], &[], &[])
        .await
        .expect("UpdateTokenBalancesSubscription");
    // Torii's refusal of a message comes back as its status, message included.
    let refused = client
        .publish_message(dojo_reactive_torii::world::PublishMessageRequest::default())
        .await
        .unwrap_err();
    assert!(matches!(refused, ToriiError::Rpc { .. }), "{refused:?}");
}

#[wasm_bindgen_test]
async fn statuses_and_broken_answers_are_typed_errors() {
    let client = client();
    control("POST", "fail", r#"{"count":1,"code":"not_found"}"#).await;
    let error = client
        .retrieve(EntityKind::Entities, entities(5))
        .await
        .unwrap_err();
    assert_eq!(
        error,
        ToriiError::Rpc {
            code: "NotFound".into(),
            message: "mock-torii: injected failure".into()
        }
    );
    control("POST", "fail", r#"{"count":1,"code":"unavailable"}"#).await;
    let error = client.subscribe(EntityKind::Entities, None, &[]).await;
    assert!(
        matches!(error, Err(ToriiError::Unavailable { .. })),
        "{:?}",
        error.err()
    );
    for kind in ["content-type", "truncate", "protobuf"] {
        control("POST", "malformed", &format!(r#"{{"kind":"{kind}"}}"#)).await;
        let error = client
            .retrieve(EntityKind::Entities, entities(5))
            .await
            .unwrap_err();
        assert!(
            matches!(error, ToriiError::Malformed { .. }),
            "{kind}: {error:?}"
        );
        assert!(error.is_retryable());
    }
    let next = client
        .retrieve(EntityKind::Entities, entities(5))
        .await
        .expect("the next call is served");
    assert_eq!(next.items.len(), 5);
}

#[wasm_bindgen_test]
async fn a_read_given_up_on_loses_no_message_and_the_end_is_seen() {
    let client = client();
    let mut subscription = client
        .subscribe(EntityKind::Entities, None, &[])
        .await
        .expect("handshake");
    // Polled once and dropped: the read of the body it started stays with the stream.
    assert!(subscription.next().now_or_never().is_none());
    control("POST", "updates", r#"{"count":3}"#).await;
    for _ in 0..3 {
        let update = subscription
            .next()
            .await
            .expect("the stream is open")
            .expect("a valid update");
        assert_eq!(update.models.len(), 1, "one model changed");
    }
    control("POST", "end-streams", "{}").await;
    assert!(
        subscription.next().await.is_none(),
        "a stream the server ended with status OK ends"
    );
}

#[wasm_bindgen_test]
async fn a_dropped_subscription_releases_its_request() {
    let client = client();
    // Streams of earlier tests are ended first, so that only this one is counted.
    control("POST", "end-streams", "{}").await;
    assert_eq!(live_subscriptions().await, 0);
    let subscription = client
        .subscribe(EntityKind::Entities, None, &[])
        .await
        .expect("handshake");
    assert_eq!(live_subscriptions().await, 1);
    drop(subscription);
    // The mock sees the aborted request when it next writes to it.
    for _ in 0..50 {
        control("POST", "updates", r#"{"count":1}"#).await;
        if live_subscriptions().await == 0 {
            return;
        }
        sleep(100).await;
    }
    panic!("the mock still serves the dropped subscription after 5 s");
}
