//! The HTTP side: gRPC-web by hand, gzip, CORS, `GET /`, control API errors and JSON formats,
//! manifest, and large update batches.

use base64::Engine;
use bytes::Bytes;
use dojo_reactive_mock_torii::{MockConfig, RunningMock};
use dojo_reactive_torii::world;
use http_body_util::Full;
use prost::Message;
use serde_json::{json, Value};
use tonic::codec::CompressionEncoding;

use crate::common::*;

fn frame(message: &impl Message) -> Vec<u8> {
    let payload = message.encode_to_vec();
    let mut out = vec![0u8];
    out.extend_from_slice(&(payload.len() as u32).to_be_bytes());
    out.extend_from_slice(&payload);
    out
}

/// Splits a gRPC-web body into (flag, payload) frames.
fn frames(mut body: &[u8]) -> Vec<(u8, Vec<u8>)> {
    let mut out = Vec::new();
    while body.len() >= 5 {
        let flag = body[0];
        let length = u32::from_be_bytes([body[1], body[2], body[3], body[4]]) as usize;
        assert!(body.len() >= 5 + length, "complete frame");
        out.push((flag, body[5..5 + length].to_vec()));
        body = &body[5 + length..];
    }
    assert!(body.is_empty(), "no trailing bytes");
    out
}

fn web_request(
    mock: &dojo_reactive_mock_torii::RunningMock,
    content_type: &str,
    body: Vec<u8>,
) -> http::request::Builder {
    let _ = body;
    http::Request::builder()
        .method("POST")
        .uri(format!("{}/world.World/RetrieveEntities", mock.url()))
        .header("content-type", content_type)
        .header("x-grpc-web", "1")
        .header("origin", "http://game.example")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn grpc_web_binary_and_text_by_hand() {
    let mock = start(20).await;
    let request = retrieve(None, 3, "");
    let body = frame(&request);
    let (status, headers, bytes, _) =
        raw(
            web_request(&mock, "application/grpc-web+proto", body.clone())
                .body(Full::new(Bytes::from(body.clone())))
                .expect("request"),
        )
        .await;
    assert_eq!(status, 200);
    assert_eq!(headers["content-type"], "application/grpc-web+proto");
    assert_eq!(headers["access-control-allow-origin"], "*");
    let parts = frames(&bytes);
    assert_eq!(parts.len(), 2, "a message and the trailers");
    assert_eq!(parts[0].0, 0, "an uncompressed message");
    let response = world::RetrieveEntitiesResponse::decode(parts[0].1.as_slice()).expect("decodes");
    assert_eq!(response.entities.len(), 3);
    assert!(!response.next_cursor.is_empty());
    assert_eq!(parts[1].0, 0x80, "the trailer frame");
    let trailers = String::from_utf8(parts[1].1.clone()).expect("text");
    assert!(
        trailers.to_ascii_lowercase().contains("grpc-status:0"),
        "{trailers}"
    );

    // grpc-web-text: base64 both ways.
    let encoded = base64::engine::general_purpose::STANDARD.encode(&body);
    let (status, headers, bytes, _) = raw(web_request(&mock, "application/grpc-web-text", vec![])
        .header("accept", "application/grpc-web-text")
        .body(Full::new(Bytes::from(encoded)))
        .expect("request"))
    .await;
    assert_eq!(status, 200);
    assert!(headers["content-type"]
        .to_str()
        .expect("ascii")
        .starts_with("application/grpc-web-text"));
    // The body may be several base64 chunks, each padded.
    let text = String::from_utf8(bytes.to_vec()).expect("base64 text");
    let mut decoded = Vec::new();
    let mut rest = text.as_str();
    while !rest.is_empty() {
        let end = rest.find('=').map(|i| {
            let mut j = i;
            while rest[j..].starts_with('=') {
                j += 1;
            }
            j
        });
        let (chunk, tail) = rest.split_at(end.unwrap_or(rest.len()));
        decoded.extend(
            base64::engine::general_purpose::STANDARD
                .decode(chunk)
                .expect("base64"),
        );
        rest = tail;
    }
    let parts = frames(&decoded);
    let response = world::RetrieveEntitiesResponse::decode(parts[0].1.as_slice()).expect("decodes");
    assert_eq!(response.entities.len(), 3);
    assert_eq!(parts.last().expect("trailers").0, 0x80);

    // An error travels in the trailer frame.
    let bad = frame(&retrieve(None, 3, "not-a-cursor"));
    let (status, headers, bytes, _) = raw(web_request(&mock, "application/grpc-web+proto", vec![])
        .body(Full::new(Bytes::from(bad)))
        .expect("request"))
    .await;
    assert_eq!(status, 200);
    let in_headers = headers
        .get("grpc-status")
        .map(|v| v.to_str().unwrap_or("").to_owned());
    let in_body = frames(&bytes)
        .into_iter()
        .find(|(flag, _)| *flag == 0x80)
        .map(|(_, t)| String::from_utf8_lossy(&t).to_string());
    let status_text = in_headers.or(in_body).expect("a grpc-status");
    assert!(status_text.contains('3'), "INVALID_ARGUMENT: {status_text}");

    // gzip is sent when accepted.
    let (status, headers, bytes, _) = raw(web_request(&mock, "application/grpc-web+proto", vec![])
        .header("grpc-accept-encoding", "gzip")
        .body(Full::new(Bytes::from(frame(&retrieve(None, 50, "")))))
        .expect("request"))
    .await;
    assert_eq!(status, 200);
    assert_eq!(headers["grpc-encoding"], "gzip");
    assert_eq!(frames(&bytes)[0].0, 1, "a compressed message");
}

/// Entities in a page of 20 asked for by a native gRPC client that sends gzip requests.
async fn gzip_request_page(mock: &RunningMock) -> usize {
    let mut client = client(mock)
        .await
        .send_compressed(CompressionEncoding::Gzip);
    client
        .retrieve_entities(retrieve(None, 20, ""))
        .await
        .expect("page")
        .into_inner()
        .entities
        .len()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn without_send_gzip_responses_are_plain_and_gzip_requests_still_accepted() {
    let mock = start_with(MockConfig {
        entities: 20,
        send_gzip: false,
        ..MockConfig::default()
    })
    .await;
    let (status, headers, bytes, _) = raw(web_request(&mock, "application/grpc-web+proto", vec![])
        .header("grpc-accept-encoding", "gzip")
        .body(Full::new(Bytes::from(frame(&retrieve(None, 50, "")))))
        .expect("request"))
    .await;
    assert_eq!(status, 200);
    assert!(headers.get("grpc-encoding").is_none(), "{headers:?}");
    assert_eq!(frames(&bytes)[0].0, 0, "an uncompressed message");
    assert_eq!(gzip_request_page(&mock).await, 20);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn native_grpc_with_gzip_both_ways() {
    let mock = start(20).await;
    assert_eq!(gzip_request_page(&mock).await, 20);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cors_preflight_and_root() {
    let mock = start(5).await;
    let request = http::Request::builder()
        .method("OPTIONS")
        .uri(format!("{}/world.World/SubscribeEntities", mock.url()))
        .header("origin", "http://game.example")
        .header("access-control-request-method", "POST")
        .header(
            "access-control-request-headers",
            "content-type,x-grpc-web,x-user-agent,grpc-timeout",
        )
        .body(Full::new(Bytes::new()))
        .expect("request");
    let (status, headers, _, _) = raw(request).await;
    assert!((200..300).contains(&status));
    assert_eq!(headers["access-control-allow-origin"], "*");
    let allowed = headers["access-control-allow-headers"]
        .to_str()
        .expect("ascii")
        .to_ascii_lowercase();
    for header in ["content-type", "x-grpc-web", "x-user-agent", "grpc-timeout"] {
        assert!(allowed.contains(header), "{header} allowed: {allowed}");
    }
    assert!(headers["access-control-allow-methods"]
        .to_str()
        .expect("ascii")
        .contains("POST"));
    // Exposed headers on a real response.
    let (status, headers, _, _) = raw(web_request(&mock, "application/grpc-web+proto", vec![])
        .body(Full::new(Bytes::from(frame(&retrieve(None, 1, "")))))
        .expect("request"))
    .await;
    assert_eq!(status, 200);
    let exposed = headers["access-control-expose-headers"]
        .to_str()
        .expect("ascii")
        .to_ascii_lowercase();
    for header in ["grpc-status", "grpc-message", "grpc-encoding", "x-grpc-web"] {
        assert!(exposed.contains(header), "{header} exposed: {exposed}");
    }
    let (status, root) = http(&mock, "GET", "/", None).await;
    assert_eq!(status, 200);
    assert_eq!(
        root,
        json!({"service": "torii", "version": "1.8.16 (mock)", "success": true})
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn control_errors_are_json() {
    let mock = start(5).await;
    let cases: Vec<(&str, &str, Option<Value>, u16)> = vec![
        ("GET", "/_mock/nope", None, 404),
        ("GET", "/_mock/updates", None, 405),
        (
            "POST",
            "/_mock/updates",
            Some(json!({"count": "many"})),
            400,
        ),
        (
            "POST",
            "/_mock/updates",
            Some(json!({"count": 1, "bogus": true})),
            400,
        ),
        (
            "POST",
            "/_mock/updates",
            Some(json!({"count": 1, "entityIds": ["0x1"]})),
            404,
        ),
        (
            "POST",
            "/_mock/updates",
            Some(json!({"count": 1, "entityIds": ["zz"]})),
            400,
        ),
        (
            "POST",
            "/_mock/updates",
            Some(json!({"count": 1, "model": "arena-Nope"})),
            400,
        ),
        (
            "POST",
            "/_mock/set",
            Some(json!({"entityId": "0x1", "model": "arena-Player", "values": {}})),
            404,
        ),
        (
            "POST",
            "/_mock/delete",
            Some(json!({"entityId": "0x1", "model": "arena-Player"})),
            404,
        ),
        (
            "POST",
            "/_mock/malformed",
            Some(json!({"kind": "weird"})),
            400,
        ),
        (
            "POST",
            "/_mock/fail",
            Some(json!({"count": 1, "code": "nope"})),
            400,
        ),
        ("POST", "/_mock/rate", Some(json!({"perSec": -1})), 400),
        ("GET", "/_mock/world?kind=nope", None, 400),
    ];
    for (method, path, body, want) in cases {
        let (status, value) = http(&mock, method, path, body.clone()).await;
        assert_eq!(status, want, "{method} {path} {body:?}: {value}");
        assert!(value["error"].is_string(), "{path}: {value}");
    }
    // A raw non-JSON body.
    let request = http::Request::builder()
        .method("POST")
        .uri(format!("{}/_mock/stall", mock.url()))
        .body(Full::new(Bytes::from_static(b"{not json")))
        .expect("request");
    let (status, _, body, _) = raw(request).await;
    assert_eq!(status, 400);
    assert!(serde_json::from_slice::<Value>(&body).expect("JSON")["error"].is_string());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn manifest_world_json_and_log_formats() {
    let mock = start(12).await;
    let (status, manifest) = http(&mock, "GET", "/_mock/manifest", None).await;
    assert_eq!(status, 200);
    assert_eq!(manifest["world"]["seed"], "arena-7");
    assert_eq!(
        manifest["world"]["address"]
            .as_str()
            .expect("address")
            .len(),
        66
    );
    let tags: Vec<&str> = manifest["models"]
        .as_array()
        .expect("models")
        .iter()
        .map(|m| m["tag"].as_str().expect("tag"))
        .collect();
    assert_eq!(tags, ["arena-Player", "arena-Position", "arena-Inventory"]);
    assert_eq!(manifest["events"][0]["tag"], "arena-Moved");
    let player = &manifest["models"][0]["members"];
    assert_eq!(
        player[0],
        json!({"name": "player", "type": "core::starknet::contract_address::ContractAddress", "key": true})
    );
    assert_eq!(player[1]["type"], "core::byte_array::ByteArray");
    assert_eq!(player[2]["type"], "arena::models::Class");
    let inventory = &manifest["models"][2]["members"];
    assert_eq!(inventory[2]["type"], "Array<u32>");
    assert_eq!(inventory[3]["type"], "(bool, i8)");
    assert_eq!(inventory[4]["type"], "[u16; 3]");
    // The selector is Dojo's: poseidon(bytearray_hash("arena"), bytearray_hash("Player")).
    let selector = dojo_reactive_mock_torii::felt::selector("arena", "Player").to_bytes_be();
    assert_eq!(
        manifest["models"][0]["selector"],
        dojo_reactive_mock_torii::felt::hex64(&selector)
    );

    let (status, world) = http(&mock, "GET", "/_mock/world", None).await;
    assert_eq!(status, 200);
    assert_eq!(
        world,
        mock.control()
            .world(dojo_reactive_mock_torii::Kind::Entities)
    );
    let entities = world["entities"].as_array().expect("entities");
    assert_eq!(entities.len(), 12);
    let player = entities
        .iter()
        .find_map(|e| e["models"].get("arena-Player"))
        .expect("a player");
    assert!(player["hp"].is_u64() && player["level"].is_u64() && player["karma"].is_i64());
    assert!(
        player["gold"].is_string() && player["mana"].is_string() && player["score"].is_string()
    );
    assert!(player["debt"].is_string() && player["balance"].is_string());
    assert!(player["alive"].is_boolean());
    assert_eq!(player["player"].as_str().expect("felt").len(), 66);
    assert_eq!(player["skin"].as_str().expect("felt").len(), 66);
    assert_eq!(player["wallet"].as_str().expect("eth").len(), 42);
    assert!(player["class"]["variant"].is_string());
    assert!(player["name"].is_string());
    let inventory = entities
        .iter()
        .find_map(|e| e["models"].get("arena-Inventory"))
        .expect("an inventory");
    assert!(
        inventory["items"].is_array() && inventory["flags"].as_array().expect("tuple").len() == 2
    );
    assert_eq!(inventory["hotbar"].as_array().expect("fixed").len(), 3);
    let (_, events) = http(&mock, "GET", "/_mock/world?kind=event_messages", None).await;
    assert_eq!(events["entities"].as_array().expect("events").len(), 20);
    assert!(events["entities"][0]["models"]["arena-Moved"]["direction"]["variant"].is_string());

    // Set through HTTP with a nested path, then the log.
    let id = entities
        .iter()
        .find(|e| e["models"].get("arena-Position").is_some())
        .expect("player")["entityId"]
        .clone();
    let (status, body) = http(
        &mock,
        "POST",
        "/_mock/set",
        Some(json!({"entityId": id, "model": "arena-Position", "values": {"vec.x": 77}})),
    )
    .await;
    assert_eq!(status, 200, "{body}");
    let (_, world) = http(&mock, "GET", "/_mock/world", None).await;
    let position = world["entities"]
        .as_array()
        .expect("entities")
        .iter()
        .find(|e| e["entityId"] == id)
        .expect("entity")["models"]["arena-Position"]
        .clone();
    assert_eq!(position["vec"]["x"], 77);

    let mut client = client(&mock).await;
    let mut request = retrieve(Some(keys(vec![], true, &[])), 7, "");
    if let Some(q) = request.query.as_mut() {
        q.models = vec!["arena-Player".into()];
    }
    client.retrieve_entities(request).await.expect("page");
    let (_, log) = http(&mock, "GET", "/_mock/log", None).await;
    let last = log
        .as_array()
        .expect("log")
        .last()
        .expect("an entry")
        .clone();
    assert_eq!(last["method"], "RetrieveEntities");
    let detail = last["detail"].as_str().expect("detail");
    assert!(
        detail.contains("limit=7")
            && detail.contains("models=[arena-Player]")
            && detail.contains("clause=keys"),
        "{detail}"
    );
    assert!(last["seq"].is_u64());
    let (status, _) = http(&mock, "POST", "/_mock/log/clear", None).await;
    assert_eq!(status, 200);
    let (_, log) = http(&mock, "GET", "/_mock/log", None).await;
    assert_eq!(log, json!([]));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_hundred_thousand_updates_at_once() {
    let mock = start(1000).await;
    let mut client = client(&mock).await;
    let (_, mut stream) = subscribe(&mut client, Some(hashed(&[vec![7]]))).await;
    let (status, body) = http(
        &mock,
        "POST",
        "/_mock/updates",
        Some(json!({"count": 200_000})),
    )
    .await;
    assert_eq!(status, 200);
    assert_eq!(body, json!({"applied": 200_000}));
    let status = mock.control().status();
    assert!(status["sequence"].as_u64().expect("sequence") > 200_000);
    assert_quiet(&mut stream).await;
}
