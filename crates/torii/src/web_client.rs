//! gRPC-web over `fetch` (window or worker): the transport under the generated `world.World`
//! client in browsers.
//!
//! The response body is read chunk by chunk from the `fetch` stream by a local task and split
//! into frames by [`FrameDecoder`], which refuses a frame longer than the message cap from its
//! header alone: a server cannot make the client buffer more than the cap by announcing a huge
//! length. At most a few chunks are read ahead of what tonic consumed, and dropping the body
//! (a finished call, a dropped subscription) aborts the request.

use std::future::Future;
use std::pin::Pin;
use std::task::{ready, Context, Poll};

use bytes::Bytes;
use futures_channel::{mpsc, oneshot};
use futures_util::future::{poll_fn, select, Either};
use futures_util::StreamExt;
use http::header::CONTENT_TYPE;
use http::{Request, Response};
use http_body::Frame;
use http_body_util::BodyExt;
use js_sys::{Array, Function, Promise, Reflect, Uint8Array};
use tonic::Status;
use wasm_bindgen::{JsCast, JsValue};
use wasm_bindgen_futures::JsFuture;
use web_sys::{AbortController, Headers, ReadableStreamDefaultReader, RequestInit};

use crate::grpc_web::{FrameDecoder, FrameError, WebFrame};

/// The content type sent and expected (binary gRPC-web; the base64 `-text` form is not used).
const GRPC_WEB: &str = "application/grpc-web+proto";
/// Body chunks read ahead of the decoder.
const READ_AHEAD_CHUNKS: usize = 4;

/// A gRPC-web client for the server at `base_url`, with frames capped at `max_message_bytes`.
#[derive(Debug, Clone)]
pub struct WebClient {
    base_url: String,
    max_message_bytes: usize,
}

impl WebClient {
    /// A client of `base_url` (no trailing slash).
    pub fn new(base_url: String, max_message_bytes: usize) -> WebClient {
        WebClient {
            base_url,
            max_message_bytes,
        }
    }
}

impl tower_service::Service<Request<tonic::body::Body>> for WebClient {
    type Response = Response<WebBody>;
    type Error = Status;
    type Future = Pin<Box<dyn Future<Output = Result<Response<WebBody>, Status>>>>;

    fn poll_ready(&mut self, _: &mut Context<'_>) -> Poll<Result<(), Status>> {
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, request: Request<tonic::body::Body>) -> Self::Future {
        let url = format!("{}{}", self.base_url, request.uri());
        Box::pin(post(url, request, self.max_message_bytes))
    }
}

fn js_text(error: &JsValue) -> String {
    error
        .as_string()
        .or_else(|| {
            error
                .dyn_ref::<js_sys::Error>()
                .map(|e| String::from(e.to_string()))
        })
        .unwrap_or_else(|| format!("{error:?}"))
}

/// POSTs one gRPC-web call and answers with its streaming body.
async fn post(
    url: String,
    request: Request<tonic::body::Body>,
    limit: usize,
) -> Result<Response<WebBody>, Status> {
    let js_failed = |what: &str, e: JsValue| Status::internal(format!("{what}: {}", js_text(&e)));
    let (parts, body) = request.into_parts();
    let body = body.collect().await?.to_bytes();
    let headers = Headers::new().map_err(|e| js_failed("Headers", e))?;
    for (name, value) in [
        ("content-type", GRPC_WEB),
        ("accept", GRPC_WEB),
        ("x-grpc-web", "1"),
    ] {
        headers
            .set(name, value)
            .map_err(|e| js_failed("Headers", e))?;
    }
    for (name, value) in &parts.headers {
        if name != CONTENT_TYPE {
            if let Ok(value) = value.to_str() {
                // `fetch` refuses some names (e.g. `te`): those are left out.
                let _ = headers.set(name.as_str(), value);
            }
        }
    }
    let abort = AbortController::new().map_err(|e| js_failed("AbortController", e))?;
    let init = RequestInit::new();
    init.set_method("POST");
    init.set_headers(&headers);
    init.set_body(&Uint8Array::from(body.as_ref()));
    init.set_signal(Some(&abort.signal()));
    let global = js_sys::global();
    let fetch: Function = Reflect::get(&global, &JsValue::from_str("fetch"))
        .ok()
        .and_then(|f| f.dyn_into().ok())
        .ok_or_else(|| Status::internal("this JavaScript context has no fetch"))?;
    let unreachable = |e: JsValue| Status::unavailable(format!("POST {url}: {}", js_text(&e)));
    let promise: Promise = fetch
        .call2(&global, &JsValue::from_str(&url), &init)
        .map_err(unreachable)?
        .dyn_into()
        .map_err(|_| Status::internal("fetch did not return a promise"))?;
    let response: web_sys::Response = JsFuture::from(promise)
        .await
        .map_err(unreachable)?
        .dyn_into()
        .map_err(|_| Status::internal("fetch did not answer with a Response"))?;

    let mut builder = Response::builder().status(response.status());
    let mut content_type = None;
    if let Ok(Some(entries)) = js_sys::try_iter(&response.headers()) {
        for entry in entries.flatten() {
            let pair = Array::from(&entry);
            if let (Some(name), Some(value)) = (pair.get(0).as_string(), pair.get(1).as_string()) {
                if name.eq_ignore_ascii_case("content-type") {
                    content_type = Some(value.clone());
                }
                builder = builder.header(name, value);
            }
        }
    }
    // A non-200 answer is left to tonic, which reads a status from the HTTP code.
    if response.status() == 200 {
        let binary = content_type.as_deref().is_some_and(|ct| {
            ct.split(';')
                .next()
                .is_some_and(|t| matches!(t.trim(), "application/grpc-web" | GRPC_WEB))
        });
        if !binary {
            return Err(Status::internal(format!(
                "Torii answered with content-type {:?}, not {GRPC_WEB}",
                content_type.unwrap_or_default()
            )));
        }
    }
    let body = WebBody::start(response.body(), abort, limit);
    builder
        .body(body)
        .map_err(|e| Status::internal(format!("Torii's response headers: {e}")))
}

/// A gRPC-web response body: frames of at most the cap, then the trailers.
pub struct WebBody {
    chunks: mpsc::Receiver<Result<Bytes, Status>>,
    decoder: FrameDecoder,
    ended: bool,
    /// Dropped with the body: the reading task then aborts the request.
    _cancel: oneshot::Sender<()>,
}

impl WebBody {
    fn start(
        stream: Option<web_sys::ReadableStream>,
        abort: AbortController,
        limit: usize,
    ) -> WebBody {
        let (sender, chunks) = mpsc::channel(READ_AHEAD_CHUNKS);
        let (cancel, cancelled) = oneshot::channel();
        if let Some(stream) = stream {
            let reader: ReadableStreamDefaultReader = stream.get_reader().unchecked_into();
            wasm_bindgen_futures::spawn_local(read_body(reader, sender, cancelled, abort));
        }
        WebBody {
            chunks,
            decoder: FrameDecoder::new(limit),
            ended: false,
            _cancel: cancel,
        }
    }
}

/// Moves the chunks of `reader` into `sender` until the body ends, fails, or is dropped (then
/// the request is aborted).
async fn read_body(
    reader: ReadableStreamDefaultReader,
    mut sender: mpsc::Sender<Result<Bytes, Status>>,
    mut cancelled: oneshot::Receiver<()>,
    abort: AbortController,
) {
    loop {
        let read = JsFuture::from(reader.read());
        let chunk = match select(read, &mut cancelled).await {
            Either::Right(_) => break,
            Either::Left((Err(error), _)) => Err(Status::unavailable(format!(
                "reading Torii's response failed: {}",
                js_text(&error)
            ))),
            Either::Left((Ok(result), _)) => {
                let done = Reflect::get(&result, &JsValue::from_str("done"))
                    .ok()
                    .and_then(|d| d.as_bool())
                    .unwrap_or(true);
                if done {
                    break;
                }
                let value = Reflect::get(&result, &JsValue::from_str("value"))
                    .unwrap_or(JsValue::UNDEFINED);
                match value.dyn_into::<Uint8Array>() {
                    Ok(bytes) => Ok(Bytes::from(bytes.to_vec())),
                    Err(_) => Err(Status::internal("Torii's response body is not bytes")),
                }
            }
        };
        let failed = chunk.is_err();
        // Waits while the decoder is READ_AHEAD_CHUNKS behind; fails once the body is dropped.
        let ready = poll_fn(|cx| sender.poll_ready(cx)).await;
        if ready.is_err() || sender.start_send(chunk).is_err() || failed {
            break;
        }
    }
    abort.abort();
}

/// The tonic status of a body that cannot be framed.
fn frame_status(error: FrameError) -> Status {
    match error {
        FrameError::TooLarge { .. } => Status::out_of_range(error.to_string()),
        _ => Status::internal(error.to_string()),
    }
}

impl http_body::Body for WebBody {
    type Data = Bytes;
    type Error = Status;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, Status>>> {
        let this = &mut *self;
        loop {
            if this.ended {
                return Poll::Ready(None);
            }
            match this.decoder.next_frame() {
                Ok(Some(WebFrame::Data(data))) => return Poll::Ready(Some(Ok(Frame::data(data)))),
                Ok(Some(WebFrame::Trailers(trailers))) => {
                    return Poll::Ready(Some(Ok(Frame::trailers(trailers))))
                }
                Ok(None) => {}
                Err(error) => {
                    this.ended = true;
                    return Poll::Ready(Some(Err(frame_status(error))));
                }
            }
            match ready!(this.chunks.poll_next_unpin(cx)) {
                Some(Ok(chunk)) => this.decoder.push(&chunk),
                Some(Err(status)) => {
                    this.ended = true;
                    return Poll::Ready(Some(Err(status)));
                }
                None => {
                    this.ended = true;
                    return Poll::Ready(this.decoder.finish().err().map(|e| Err(frame_status(e))));
                }
            }
        }
    }
}
