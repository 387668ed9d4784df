//! Our `ToriiClient` in headless Chromium over gRPC-web against a running mock-torii: the version
//! probe, paging a whole world, streaming updates, and typed errors instead of traps.
//!
//! Run through `.ci/test`, which starts the mock (1,000 entities) and compiles its URL in through
//! `MOCK_TORII_URL`.

#![cfg(target_arch = "wasm32")]

use std::collections::HashSet;

use dojo_reactive_torii::{types, EntityKind, ToriiClient, ToriiError};
use wasm_bindgen::JsCast;
use wasm_bindgen_futures::JsFuture;
use wasm_bindgen_test::{wasm_bindgen_test, wasm_bindgen_test_configure};

wasm_bindgen_test_configure!(run_in_browser);

const MOCK_TORII_URL: &str = match option_env!("MOCK_TORII_URL") {
    Some(url) => url,
    None => "http://127.0.0.1:8080",
};

/// POSTs JSON to the mock's control API with the page's `fetch`.
async fn control(route: &str, body: &str) {
    let init = web_sys::RequestInit::new();
    init.set_method("POST");
    init.set_body(&body.into());
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
}

/// The mock's request log (`GET /_mock/log`) as JSON entries.
async fn request_log() -> Vec<serde_json::Value> {
    let window = web_sys::window().expect("a window");
    let url = format!("{MOCK_TORII_URL}/_mock/log");
    let response: web_sys::Response = JsFuture::from(window.fetch_with_str(&url))
        .await
        .expect("the control API answers")
        .dyn_into()
        .expect("a response");
    let text = JsFuture::from(response.text().expect("a body"))
        .await
        .expect("the body reads")
        .as_string()
        .expect("text");
    serde_json::from_str(&text).expect("the log is a JSON array")
}

fn page(cursor: String, limit: u32) -> types::Query {
    types::Query {
        pagination: Some(types::Pagination {
            cursor,
            limit,
            ..Default::default()
        }),
        ..Default::default()
    }
}

#[wasm_bindgen_test]
async fn the_version_probe_works_in_the_browser() {
    let client = ToriiClient::new(MOCK_TORII_URL).unwrap();
    let version = client.version().await.expect("GET / answers");
    assert!(version.contains("mock"), "{version}");
}

#[wasm_bindgen_test]
async fn the_whole_world_pages_through_grpc_web() {
    let client = ToriiClient::new(MOCK_TORII_URL).unwrap();
    let mut seen = HashSet::new();
    let mut cursor = String::new();
    loop {
        let page = client
            .retrieve(EntityKind::Entities, page(cursor, 250))
            .await
            .expect("a page");
        assert!(page.rejected.is_empty(), "{:?}", page.rejected.first());
        for entity in page.items {
            assert!(seen.insert(entity.id), "entity {} twice", entity.id);
        }
        match page.next_cursor {
            Some(next) => cursor = next,
            None => break,
        }
    }
    assert_eq!(
        seen.len(),
        1000,
        "the mock in .ci/test holds 1,000 entities"
    );
}

#[wasm_bindgen_test]
async fn updates_stream_over_grpc_web() {
    let client = ToriiClient::new(MOCK_TORII_URL).unwrap();
    let mut subscription = client
        .subscribe(EntityKind::Entities, None, &[])
        .await
        .expect("handshake");
    control("updates", r#"{"count":3}"#).await;
    for _ in 0..3 {
        let update = subscription
            .next()
            .await
            .expect("the stream is open")
            .expect("a valid update");
        assert_eq!(
            update.models.len(),
            1,
            "an update carries the one model that changed"
        );
    }
}

/// Live streams ask for plain messages and unary calls for gzip: inflating each of a thousand
/// small stream messages a second through the browser's `DecompressionStream` put the worker
/// seconds behind (benches/README.md, runs X2/X3), while a page of a cold sync is worth it.
#[wasm_bindgen_test]
async fn live_streams_ask_for_plain_messages_and_pages_for_gzip() {
    let before = request_log()
        .await
        .iter()
        .filter_map(|entry| entry["seq"].as_u64())
        .max()
        .unwrap_or(0);
    let client = ToriiClient::new(MOCK_TORII_URL).unwrap();
    client
        .retrieve(EntityKind::Entities, page(String::new(), 7))
        .await
        .expect("a page");
    let _subscription = client
        .subscribe(EntityKind::Entities, None, &[])
        .await
        .expect("handshake");
    let log = request_log().await;
    let ours: Vec<_> = log
        .iter()
        .filter(|entry| entry["seq"].as_u64().is_some_and(|seq| seq > before))
        .collect();
    let gzip_of = |method: &str| -> Vec<bool> {
        ours.iter()
            .filter(|entry| entry["method"] == method)
            .map(|entry| entry["accepts_gzip"].as_bool().expect("accepts_gzip"))
            .collect()
    };
    let pages = gzip_of("RetrieveEntities");
    let streams = gzip_of("SubscribeEntities");
    assert!(
        !pages.is_empty() && !streams.is_empty(),
        "both calls are logged: {ours:?}"
    );
    assert!(
        pages.iter().all(|gzip| *gzip),
        "a page accepts gzip: {ours:?}"
    );
    assert!(
        streams.iter().all(|gzip| !gzip),
        "a live stream asks for plain messages: {ours:?}"
    );
}

#[wasm_bindgen_test]
async fn bad_urls_and_dead_servers_are_typed_errors() {
    assert!(matches!(
        ToriiClient::new("ftp://example"),
        Err(ToriiError::InvalidUrl { .. })
    ));
    let dead = ToriiClient::new("http://127.0.0.1:9").unwrap();
    let error = dead
        .retrieve(EntityKind::Entities, page(String::new(), 1))
        .await
        .unwrap_err();
    assert!(error.is_retryable(), "{error:?}");
    assert!(dead.version().await.unwrap_err().is_retryable());
}

#[wasm_bindgen_test]
async fn a_frame_announcing_more_than_the_cap_is_refused_from_its_header() {
    let client = ToriiClient::new(MOCK_TORII_URL).unwrap();
    // The mock sends a frame header announcing 4 GiB: refused at once, nothing buffered.
    control("malformed", r#"{"kind":"oversize","count":1}"#).await;
    let error = client
        .retrieve(EntityKind::Entities, page(String::new(), 5))
        .await
        .unwrap_err();
    assert!(matches!(error, ToriiError::TooLarge { .. }), "{error:?}");
    assert!(
        error.to_string().contains("refused before being read"),
        "{error}"
    );
    assert!(!error.is_retryable());
    let next = client
        .retrieve(EntityKind::Entities, page(String::new(), 5))
        .await
        .expect("the next call is served");
    assert_eq!(next.items.len(), 5);
}
