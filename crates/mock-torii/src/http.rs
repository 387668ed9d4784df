//! The plain-HTTP side of the port: `GET /` (Torii's version probe) and the JSON control API
//! under `/_mock/`. Errors are `{"error": "..."}` with a 4xx status.

use std::time::Duration;

use axum::body::Bytes;
use axum::extract::{RawQuery, State};
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::Router;
use serde::de::DeserializeOwned;
use serde::Deserialize;
use serde_json::{json, Value};

use crate::control::{Control, ControlError, SetRequest, UpdatesRequest};
use crate::faults::{code_from_name, MalformedKind};
use crate::store::Kind;

fn json_body(status: StatusCode, body: Vec<u8>) -> Response {
    (status, [(header::CONTENT_TYPE, "application/json")], body).into_response()
}

fn ok(value: Value) -> Response {
    json_body(
        StatusCode::OK,
        serde_json::to_vec(&value).unwrap_or_default(),
    )
}

fn error(status: StatusCode, message: impl Into<String>) -> Response {
    let body = serde_json::to_vec(&json!({ "error": message.into() })).unwrap_or_default();
    json_body(status, body)
}

fn from_control(result: Result<Value, ControlError>) -> Response {
    match result {
        Ok(value) => ok(value),
        Err(ControlError::BadRequest(m)) => error(StatusCode::BAD_REQUEST, m),
        Err(ControlError::NotFound(m)) => error(StatusCode::NOT_FOUND, m),
    }
}

/// Parses a JSON request body; an empty body reads as `{}`.
#[allow(clippy::result_large_err)]
fn parse<T: DeserializeOwned>(body: &Bytes) -> Result<T, Response> {
    let text: &[u8] = if body.iter().all(u8::is_ascii_whitespace) {
        b"{}"
    } else {
        body
    };
    serde_json::from_slice(text)
        .map_err(|e| error(StatusCode::BAD_REQUEST, format!("invalid JSON body: {e}")))
}

macro_rules! parse_or_return {
    ($body:expr) => {
        match parse(&$body) {
            Ok(value) => value,
            Err(response) => return response,
        }
    };
}

/// Runs a control operation that may hold the world lock for long on the blocking pool.
async fn blocking<F>(f: F) -> Response
where
    F: FnOnce() -> Response + Send + 'static,
{
    tokio::task::spawn_blocking(f)
        .await
        .unwrap_or_else(|_| error(StatusCode::INTERNAL_SERVER_ERROR, "the operation failed"))
}

/// The router of `GET /` and `/_mock/*`.
pub(crate) fn router(control: Control) -> Router {
    Router::new()
        .route("/", get(root))
        .route("/_mock/manifest", get(manifest).post(upgrade_model))
        .route("/_mock/world", get(world))
        .route("/_mock/status", get(status))
        .route("/_mock/log", get(log))
        .route("/_mock/log/clear", post(log_clear))
        .route("/_mock/updates", post(updates))
        .route("/_mock/rate", post(rate))
        .route("/_mock/token-updates", post(token_updates))
        .route("/_mock/balance", post(balance))
        .route("/_mock/set", post(set))
        .route("/_mock/delete", post(delete))
        .route("/_mock/stall", post(stall))
        .route("/_mock/end-streams", post(end_streams))
        .route("/_mock/fail", post(fail))
        .route("/_mock/delay", post(delay))
        .route("/_mock/malformed", post(malformed))
        .route("/_mock/duplicate", post(duplicate))
        .route("/_mock/reorder", post(reorder))
        .route("/_mock/restart", post(restart))
        .route("/_mock/reset", post(reset))
        .route("/_mock/controller", post(controller))
        .route("/_mock/publish-faults", post(publish_faults))
        .fallback(not_found)
        .method_not_allowed_fallback(method_not_allowed)
        .with_state(control)
}

async fn not_found() -> Response {
    error(StatusCode::NOT_FOUND, "no such route")
}

async fn method_not_allowed() -> Response {
    error(
        StatusCode::METHOD_NOT_ALLOWED,
        "method not allowed on this route",
    )
}

async fn root(State(control): State<Control>) -> Response {
    ok(json!({"service": "torii", "version": control.version(), "success": true}))
}

async fn manifest(State(control): State<Control>) -> Response {
    ok(control.manifest())
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct UpgradeRequest {
    upgrade: String,
}

async fn upgrade_model(State(control): State<Control>, body: Bytes) -> Response {
    let request: UpgradeRequest = parse_or_return!(body);
    from_control(control.upgrade_model(&request.upgrade))
}

async fn status(State(control): State<Control>) -> Response {
    ok(control.status())
}

async fn world(State(control): State<Control>, RawQuery(query): RawQuery) -> Response {
    let mut kind = Kind::Entities;
    for pair in query
        .as_deref()
        .unwrap_or("")
        .split('&')
        .filter(|p| !p.is_empty())
    {
        let (key, value) = pair.split_once('=').unwrap_or((pair, ""));
        match (key, value) {
            ("kind", "entities") => kind = Kind::Entities,
            ("kind", "event_messages") => kind = Kind::EventMessages,
            ("kind", other) => {
                return error(
                    StatusCode::BAD_REQUEST,
                    format!("kind must be entities or event_messages, not {other:?}"),
                )
            }
            (other, _) => {
                return error(
                    StatusCode::BAD_REQUEST,
                    format!("unknown parameter {other:?}"),
                )
            }
        }
    }
    blocking(move || json_body(StatusCode::OK, control.world_bytes(kind))).await
}

async fn log(State(control): State<Control>) -> Response {
    ok(serde_json::to_value(control.log()).unwrap_or(Value::Null))
}

async fn log_clear(State(control): State<Control>) -> Response {
    control.clear_log();
    ok(json!({"ok": true}))
}

async fn updates(State(control): State<Control>, body: Bytes) -> Response {
    let request: UpdatesRequest = parse_or_return!(body);
    blocking(move || {
        from_control(
            control
                .apply_updates(&request)
                .map(|n| json!({ "applied": n })),
        )
    })
    .await
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct TokenUpdatesRequest {
    count: usize,
}

async fn token_updates(State(control): State<Control>, body: Bytes) -> Response {
    let request: TokenUpdatesRequest = parse_or_return!(body);
    blocking(move || ok(json!({ "changes": control.apply_token_updates(request.count) }))).await
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ControllerRequest {
    address: String,
    username: String,
}

async fn controller(State(control): State<Control>, body: Bytes) -> Response {
    let request: ControllerRequest = parse_or_return!(body);
    from_control(
        control
            .set_controller(&request.address, &request.username)
            .map(|existed| json!({ "renamed": existed })),
    )
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct PublishFaultsRequest {
    #[serde(default)]
    reject: u32,
    #[serde(default)]
    reason: Option<String>,
    #[serde(default)]
    unindexed: u32,
}

async fn publish_faults(State(control): State<Control>, body: Bytes) -> Response {
    let request: PublishFaultsRequest = parse_or_return!(body);
    control.publish_faults(crate::messaging::PublishFaults {
        reject: request.reject,
        reason: request.reason,
        unindexed: request.unindexed,
    });
    ok(json!({}))
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct BalanceRequest {
    account: String,
    contract: String,
    #[serde(default)]
    token_id: Option<String>,
    amount: String,
}

async fn balance(State(control): State<Control>, body: Bytes) -> Response {
    let request: BalanceRequest = parse_or_return!(body);
    blocking(move || {
        from_control(control.set_balance(
            &request.account,
            &request.contract,
            request.token_id.as_deref(),
            &request.amount,
        ))
    })
    .await
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct RateRequest {
    per_sec: f64,
}

async fn rate(State(control): State<Control>, body: Bytes) -> Response {
    let request: RateRequest = parse_or_return!(body);
    from_control(
        control
            .set_rate(request.per_sec)
            .map(|()| json!({"perSec": request.per_sec})),
    )
}

async fn set(State(control): State<Control>, body: Bytes) -> Response {
    let request: SetRequest = parse_or_return!(body);
    blocking(move || from_control(control.set(&request).map(|id| json!({ "entityId": id })))).await
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct DeleteRequest {
    entity_id: String,
    model: String,
}

async fn delete(State(control): State<Control>, body: Bytes) -> Response {
    let request: DeleteRequest = parse_or_return!(body);
    blocking(move || {
        from_control(
            control
                .delete(&request.entity_id, &request.model)
                .map(|()| json!({"ok": true})),
        )
    })
    .await
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct StallRequest {
    enabled: bool,
}

async fn stall(State(control): State<Control>, body: Bytes) -> Response {
    let request: StallRequest = parse_or_return!(body);
    control.stall(request.enabled);
    ok(json!({"stalled": request.enabled}))
}

async fn end_streams(State(control): State<Control>) -> Response {
    let ended = control.subscription_count();
    control.end_streams();
    ok(json!({ "ended": ended }))
}

#[derive(Deserialize)]
#[serde(untagged)]
enum CodeValue {
    Name(String),
    Number(i64),
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct FailRequest {
    count: u32,
    #[serde(default)]
    code: Option<CodeValue>,
}

async fn fail(State(control): State<Control>, body: Bytes) -> Response {
    let request: FailRequest = parse_or_return!(body);
    let code = match &request.code {
        None => Some(tonic::Code::Unavailable),
        Some(CodeValue::Name(name)) => code_from_name(name),
        Some(CodeValue::Number(n)) => code_from_name(&n.to_string()),
    };
    let Some(code) = code.filter(|c| *c != tonic::Code::Ok) else {
        return error(
            StatusCode::BAD_REQUEST,
            "code must be a gRPC status name (e.g. \"unavailable\") or number 1-16",
        );
    };
    control.fail(request.count, code);
    ok(json!({"count": request.count, "code": format!("{code:?}")}))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct DelayRequest {
    ms: u64,
}

async fn delay(State(control): State<Control>, body: Bytes) -> Response {
    let request: DelayRequest = parse_or_return!(body);
    if request.ms > 600_000 {
        return error(StatusCode::BAD_REQUEST, "ms must be at most 600000");
    }
    control.delay(Duration::from_millis(request.ms));
    ok(json!({"ms": request.ms}))
}

fn one() -> u32 {
    1
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct MalformedRequest {
    kind: String,
    #[serde(default = "one")]
    count: u32,
}

async fn malformed(State(control): State<Control>, body: Bytes) -> Response {
    let request: MalformedRequest = parse_or_return!(body);
    let Some(kind) = MalformedKind::parse(&request.kind) else {
        return error(
            StatusCode::BAD_REQUEST,
            "kind must be protobuf, content-type, truncate, schema or oversize",
        );
    };
    control.malformed(kind, request.count);
    ok(json!({"kind": request.kind, "count": request.count}))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct DuplicateRequest {
    count: u32,
    #[serde(default)]
    lag: u32,
}

async fn duplicate(State(control): State<Control>, body: Bytes) -> Response {
    let request: DuplicateRequest = parse_or_return!(body);
    control.duplicate(request.count, request.lag);
    ok(json!({"count": request.count, "lag": request.lag}))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ReorderRequest {
    count: u32,
    window: u32,
    #[serde(default)]
    seed: u64,
}

async fn reorder(State(control): State<Control>, body: Bytes) -> Response {
    let request: ReorderRequest = parse_or_return!(body);
    if request.count > 0 && request.window < 2 {
        return error(StatusCode::BAD_REQUEST, "window must be at least 2");
    }
    control.reorder(request.count, request.window, request.seed);
    ok(json!({"count": request.count, "window": request.window, "seed": request.seed}))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RestartRequest {
    #[serde(default)]
    version: Option<String>,
}

async fn restart(State(control): State<Control>, body: Bytes) -> Response {
    let request: RestartRequest = parse_or_return!(body);
    control.restart(request.version);
    ok(json!({"version": control.version()}))
}

async fn reset(State(control): State<Control>) -> Response {
    blocking(move || {
        control.reset();
        ok(json!({"ok": true}))
    })
    .await
}
