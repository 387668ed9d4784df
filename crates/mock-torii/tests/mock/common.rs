//! Helpers shared by the integration tests: starting mocks, a tonic client, plain HTTP, clause
//! builders and stream reading with timeouts.

use std::time::Duration;

use bytes::Bytes;
use dojo_reactive_mock_torii::{MockConfig, MockTorii, RunningMock};
use dojo_reactive_torii::types::{self, primitive::PrimitiveType as P};
use dojo_reactive_torii::world::{self, world_client::WorldClient};
use http_body_util::{BodyExt, Full};
use serde_json::Value;
use tonic::codec::CompressionEncoding;
use tonic::transport::Channel;
use tonic::Streaming;

pub type Client = WorldClient<Channel>;

/// How long a test waits for something that should happen (only a failing test waits it out: a
/// debug mock applying 200,000 updates took over 10 s on a 2-core machine at load 20).
pub const PATIENCE: Duration = Duration::from_secs(60);
/// How long a test waits to be confident that nothing arrives.
pub const QUIET: Duration = Duration::from_millis(300);

pub async fn start(entities: usize) -> RunningMock {
    start_with(MockConfig {
        entities,
        event_messages: 20,
        ..MockConfig::default()
    })
    .await
}

pub async fn start_with(config: MockConfig) -> RunningMock {
    MockTorii::start(config).await.expect("mock starts")
}

pub async fn client(mock: &RunningMock) -> Client {
    let channel = Channel::from_shared(mock.url())
        .expect("valid url")
        .connect()
        .await
        .expect("connects");
    WorldClient::new(channel)
        .max_decoding_message_size(16 * 1024 * 1024)
        .accept_compressed(CompressionEncoding::Gzip)
}

pub fn retrieve(
    clause: Option<types::Clause>,
    limit: u32,
    cursor: &str,
) -> world::RetrieveEntitiesRequest {
    world::RetrieveEntitiesRequest {
        query: Some(types::Query {
            clause,
            pagination: Some(types::Pagination {
                cursor: cursor.to_owned(),
                limit,
                ..Default::default()
            }),
            ..Default::default()
        }),
    }
}

/// Every entity matching `query` (its pagination limit is used as the page size).
pub async fn page_all(
    client: &mut Client,
    mut request: world::RetrieveEntitiesRequest,
) -> Vec<types::Entity> {
    let mut all = Vec::new();
    for _ in 0..10_000 {
        let page = client
            .retrieve_entities(request.clone())
            .await
            .expect("retrieve succeeds")
            .into_inner();
        all.extend(page.entities);
        if page.next_cursor.is_empty() {
            return all;
        }
        if let Some(p) = request.query.as_mut().and_then(|q| q.pagination.as_mut()) {
            p.cursor = page.next_cursor;
        }
    }
    panic!("paging did not end");
}

pub async fn matching(client: &mut Client, clause: types::Clause) -> Vec<String> {
    let mut ids: Vec<String> = page_all(client, retrieve(Some(clause), 1000, ""))
        .await
        .iter()
        .map(|e| hex(&e.hashed_keys))
        .collect();
    ids.sort();
    ids
}

pub fn hex(bytes: &[u8]) -> String {
    let mut out = String::from("0x");
    for b in bytes {
        out.push_str(&format!("{b:02x}"));
    }
    out
}

pub fn unhex(text: &str) -> Vec<u8> {
    let digits = text.trim_start_matches("0x");
    (0..digits.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&digits[i..i + 2], 16).expect("hex"))
        .collect()
}

/// The world's entities as `/_mock/world` JSON objects.
pub fn world_entities(mock: &RunningMock) -> Vec<Value> {
    match mock
        .control()
        .world(dojo_reactive_mock_torii::Kind::Entities)
    {
        Value::Object(mut o) => match o.remove("entities") {
            Some(Value::Array(a)) => a,
            _ => panic!("entities array"),
        },
        _ => panic!("object"),
    }
}

/// Ids (sorted) of world entities satisfying `pred`.
pub fn expected(mock: &RunningMock, pred: impl Fn(&Value) -> bool) -> Vec<String> {
    let mut ids: Vec<String> = world_entities(mock)
        .into_iter()
        .filter(|e| pred(e))
        .map(|e| e["entityId"].as_str().expect("id").to_owned())
        .collect();
    ids.sort();
    ids
}

pub fn clause(kind: types::clause::ClauseType) -> types::Clause {
    types::Clause {
        clause_type: Some(kind),
    }
}

pub fn prim(value: P) -> types::MemberValue {
    types::MemberValue {
        value_type: Some(types::member_value::ValueType::Primitive(
            types::Primitive {
                primitive_type: Some(value),
            },
        )),
    }
}

pub fn string(value: &str) -> types::MemberValue {
    types::MemberValue {
        value_type: Some(types::member_value::ValueType::String(value.to_owned())),
    }
}

pub fn list(values: Vec<types::MemberValue>) -> types::MemberValue {
    types::MemberValue {
        value_type: Some(types::member_value::ValueType::List(
            types::MemberValueList { values },
        )),
    }
}

pub fn member(
    model: &str,
    member: &str,
    op: types::ComparisonOperator,
    value: types::MemberValue,
) -> types::Clause {
    clause(types::clause::ClauseType::Member(types::MemberClause {
        model: model.to_owned(),
        member: member.to_owned(),
        operator: op as i32,
        value: Some(value),
    }))
}

pub fn keys(keys: Vec<Vec<u8>>, variable: bool, models: &[&str]) -> types::Clause {
    clause(types::clause::ClauseType::Keys(types::KeysClause {
        keys,
        pattern_matching: if variable {
            types::PatternMatching::VariableLen as i32
        } else {
            types::PatternMatching::FixedLen as i32
        },
        models: models.iter().map(|m| (*m).to_owned()).collect(),
    }))
}

pub fn hashed(ids: &[Vec<u8>]) -> types::Clause {
    clause(types::clause::ClauseType::HashedKeys(
        types::HashedKeysClause {
            hashed_keys: ids.to_vec(),
        },
    ))
}

pub fn composite(op: types::LogicalOperator, clauses: Vec<types::Clause>) -> types::Clause {
    clause(types::clause::ClauseType::Composite(
        types::CompositeClause {
            operator: op as i32,
            clauses,
        },
    ))
}

pub async fn subscribe(
    client: &mut Client,
    clause: Option<types::Clause>,
) -> (u64, Streaming<world::SubscribeEntityResponse>) {
    let mut stream = client
        .subscribe_entities(world::SubscribeEntitiesRequest {
            clause,
            world_addresses: Vec::new(),
        })
        .await
        .expect("subscribes")
        .into_inner();
    let first = next(&mut stream).await.expect("handshake");
    assert!(first.entity.is_none(), "the handshake carries no entity");
    assert_ne!(first.subscription_id, 0);
    (first.subscription_id, stream)
}

/// The next message; `None` when the stream ended. Panics after [`PATIENCE`] or on an error.
pub async fn next(
    stream: &mut Streaming<world::SubscribeEntityResponse>,
) -> Option<world::SubscribeEntityResponse> {
    tokio::time::timeout(PATIENCE, stream.message())
        .await
        .expect("a message or the end within the patience")
        .expect("no stream error")
}

/// Asserts nothing arrives for [`QUIET`].
pub async fn assert_quiet(stream: &mut Streaming<world::SubscribeEntityResponse>) {
    if let Ok(message) = tokio::time::timeout(QUIET, stream.message()).await {
        panic!("expected nothing, got {message:?}");
    }
}

/// A control request over HTTP: `(status, JSON body)`.
pub async fn http(
    mock: &RunningMock,
    method: &str,
    path: &str,
    body: Option<Value>,
) -> (u16, Value) {
    let request = http::Request::builder()
        .method(method)
        .uri(format!("{}{path}", mock.url()))
        .header("content-type", "application/json")
        .body(Full::new(Bytes::from(
            body.map(|b| b.to_string()).unwrap_or_default(),
        )))
        .expect("request");
    let (status, headers, body, _) = raw(request).await;
    if !body.is_empty() {
        assert_eq!(
            headers.get("content-type").and_then(|v| v.to_str().ok()),
            Some("application/json"),
            "{path} answers JSON"
        );
    }
    let value = if body.is_empty() {
        Value::Null
    } else {
        serde_json::from_slice(&body).expect("JSON body")
    };
    (status, value)
}

/// Sends a raw HTTP/1.1 request: status, headers, body bytes, trailers.
pub async fn raw(
    request: http::Request<Full<Bytes>>,
) -> (u16, http::HeaderMap, Bytes, Option<http::HeaderMap>) {
    let client = hyper_util::client::legacy::Client::builder(hyper_util::rt::TokioExecutor::new())
        .build_http::<Full<Bytes>>();
    let response = tokio::time::timeout(PATIENCE, client.request(request))
        .await
        .expect("in time")
        .expect("response");
    let status = response.status().as_u16();
    let headers = response.headers().clone();
    let collected = tokio::time::timeout(PATIENCE, response.into_body().collect())
        .await
        .expect("in time")
        .expect("body");
    let trailers = collected.trailers().cloned();
    (status, headers, collected.to_bytes(), trailers)
}

/// The u64 primitive at `member` of the first model of a streamed entity.
pub fn u64_member(entity: &types::Entity, member: &str) -> u64 {
    let model = entity.models.first().expect("a model");
    let ty = model
        .children
        .iter()
        .find(|m| m.name == member)
        .and_then(|m| m.ty.as_ref())
        .expect("member");
    match &ty.ty_type {
        Some(types::ty::TyType::Primitive(types::Primitive {
            primitive_type: Some(P::U64(v)),
        })) => *v,
        other => panic!("{member} is not a u64: {other:?}"),
    }
}
