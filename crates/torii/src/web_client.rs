//! gRPC-web over `fetch` (window or worker): the unary and server-streaming calls of
//! `world.World` in browsers, without an HTTP or gRPC stack in the module.
//!
//! A call POSTs its message as one frame ([`message_frame`]) and reads the answer's frames from
//! the `fetch` body as they arrive ([`FrameDecoder`], which refuses a frame above the message cap
//! from its header alone). Messages Torii gzipped are inflated by the browser
//! ([`crate::inflate`]). The call's status comes from the trailers frame, or from the HTTP
//! headers of a trailers-only answer; it becomes a [`ToriiError`] through the crate's one
//! mapping of gRPC statuses. Dropping a stream aborts its request.

use std::future::Future;
use std::marker::PhantomData;
use std::pin::Pin;
use std::task::{ready, Context, Poll};

use bytes::Bytes;
use futures_util::future::poll_fn;
use js_sys::{Function, Promise, Reflect, Uint8Array};
use wasm_bindgen::{JsCast, JsValue};
use wasm_bindgen_futures::JsFuture;
use web_sys::{AbortController, Headers, ReadableStreamDefaultReader, RequestInit};

use crate::error::{status_error, ToriiError};
use crate::grpc_web::{message_frame, FrameDecoder, FrameError, GrpcStatus, WebFrame};
use crate::inflate::{gunzip, gzip_supported};
use crate::transport::{js_message, Method};

/// The content type sent and expected (binary gRPC-web; the base64 `-text` form is not used).
const GRPC_WEB: &str = "application/grpc-web+proto";

/// A gRPC-web client for the server at `base_url`, with messages capped at `max_message_bytes`.
#[derive(Debug, Clone)]
pub(crate) struct WebClient {
    base_url: String,
    max_message_bytes: usize,
    /// Whether Torii may gzip its messages (the context can inflate them).
    gzip: bool,
}

impl WebClient {
    /// A client of `base_url` (no trailing slash).
    pub(crate) fn new(base_url: String, max_message_bytes: usize) -> WebClient {
        WebClient {
            base_url,
            max_message_bytes,
            gzip: gzip_supported(),
        }
    }

    /// Calls a unary method: its one answer.
    pub(crate) async fn unary<Q: prost::Message, R: prost::Message + Default>(
        &self,
        method: Method<Q, R>,
        request: Q,
    ) -> Result<R, ToriiError> {
        let path = method.path;
        let mut stream = self.open(method, request, self.gzip).await?;
        let answer = stream
            .message()
            .await?
            .ok_or_else(|| ToriiError::Malformed {
                message: format!("Torii answered {path} without a message"),
            })?;
        // Read to the trailers: a failure status after the message still fails the call.
        match stream.message().await? {
            None => Ok(answer),
            Some(_) => Err(ToriiError::Malformed {
                message: format!("Torii answered {path} with more than one message"),
            }),
        }
    }

    /// Calls a server-streaming method: its messages as they arrive. A live stream is asked
    /// for plain messages: they are small and come by the thousand a second, and inflating
    /// each through its own `DecompressionStream` costs more than the bytes it saves (at
    /// 1,000 updates/s the worker fell seconds behind); the big answers are unary.
    pub(crate) async fn server_stream<Q: prost::Message, R: prost::Message + Default>(
        &self,
        method: Method<Q, R>,
        request: Q,
    ) -> Result<WebStream<R>, ToriiError> {
        self.open(method, request, false).await
    }

    /// Sends `request` to `method`, accepting gzip messages when `gzip` (and the context can
    /// inflate them); the answer's messages as they arrive.
    async fn open<Q: prost::Message, R: prost::Message + Default>(
        &self,
        method: Method<Q, R>,
        request: Q,
        gzip: bool,
    ) -> Result<WebStream<R>, ToriiError> {
        let gzip = gzip && self.gzip;
        let path = method.path;
        let encoded = request.encode_to_vec();
        let body = (encoded.len() <= self.max_message_bytes)
            .then(|| message_frame(&encoded))
            .flatten()
            .ok_or_else(|| ToriiError::TooLarge {
                message: format!(
                    "the {path} request is {} bytes, more than the {}-byte message cap",
                    encoded.len(),
                    self.max_message_bytes
                ),
            })?;
        let url = format!("{}{path}", self.base_url);
        let (response, abort) = post(&url, &body, gzip).await?;
        WebStream::start(response, abort, self.max_message_bytes, gzip)
    }
}

/// An error of a JavaScript call that should not fail (building headers, a request).
fn js_failed(what: &str, error: &JsValue) -> ToriiError {
    ToriiError::Unavailable {
        message: format!("{what}: {}", js_message(error)),
    }
}

/// POSTs a call's `body` to `url` with the global `fetch`; the response and the controller
/// that aborts it.
async fn post(
    url: &str,
    body: &[u8],
    gzip: bool,
) -> Result<(web_sys::Response, AbortController), ToriiError> {
    let headers = Headers::new().map_err(|e| js_failed("Headers", &e))?;
    let mut fields = vec![
        ("content-type", GRPC_WEB),
        ("accept", GRPC_WEB),
        ("x-grpc-web", "1"),
    ];
    if gzip {
        fields.push(("grpc-accept-encoding", "gzip"));
    }
    for (name, value) in fields {
        headers
            .set(name, value)
            .map_err(|e| js_failed("Headers", &e))?;
    }
    let abort = AbortController::new().map_err(|e| js_failed("AbortController", &e))?;
    let mut pending = AbortUnlessAnswered {
        abort: abort.clone(),
        answered: false,
    };
    let init = RequestInit::new();
    init.set_method("POST");
    init.set_headers(&headers);
    init.set_body(&Uint8Array::from(body));
    init.set_signal(Some(&abort.signal()));
    let global = js_sys::global();
    let fetch: Function = Reflect::get(&global, &JsValue::from_str("fetch"))
        .ok()
        .and_then(|f| f.dyn_into().ok())
        .ok_or_else(|| ToriiError::Unavailable {
            message: "this JavaScript context has no fetch".to_owned(),
        })?;
    let unreachable = |e: JsValue| ToriiError::Unavailable {
        message: format!("POST {url}: {}", js_message(&e)),
    };
    let promise: Promise = fetch
        .call2(&global, &JsValue::from_str(url), &init)
        .map_err(unreachable)?
        .dyn_into()
        .map_err(|_| ToriiError::Unavailable {
            message: "fetch did not return a promise".to_owned(),
        })?;
    let response = JsFuture::from(promise)
        .await
        .map_err(unreachable)?
        .dyn_into()
        .map_err(|_| ToriiError::Unavailable {
            message: "fetch did not answer with a Response".to_owned(),
        })?;
    pending.answered = true;
    Ok((response, abort))
}

/// Aborts a call's fetch when the call is dropped (given up on: a timeout, a cancel) before its
/// answer's headers came, so its connection does not stay open (a browser has only a few per
/// host, and a recovered Torii must not queue behind them); afterwards the answer's
/// [`WebStream`] aborts on drop.
struct AbortUnlessAnswered {
    abort: AbortController,
    answered: bool,
}

impl Drop for AbortUnlessAnswered {
    fn drop(&mut self) {
        if !self.answered {
            self.abort.abort();
        }
    }
}

/// The gRPC code of an HTTP status when an answer has no `grpc-status` (the gRPC spec's
/// HTTP-to-gRPC mapping).
fn code_of_http_status(status: u16) -> i32 {
    match status {
        400 => 13,                   // INTERNAL
        401 => 16,                   // UNAUTHENTICATED
        403 => 7,                    // PERMISSION_DENIED
        404 => 12,                   // UNIMPLEMENTED
        429 | 502 | 503 | 504 => 14, // UNAVAILABLE
        _ => 2,                      // UNKNOWN
    }
}

/// A gzip message being inflated by the browser.
type Inflating = Pin<Box<dyn Future<Output = Result<Vec<u8>, ToriiError>>>>;

/// The messages of one call's answer, read from its body as they are asked for.
///
/// [`WebStream::message`] is cancel-safe: a read of the body or an inflation in progress is kept
/// in the stream when the future asking for the message is dropped, so the next call resumes it
/// and no message is lost.
pub(crate) struct WebStream<M> {
    body: WebBody,
    messages: PhantomData<fn() -> M>,
}

impl<M: prost::Message + Default> WebStream<M> {
    /// Checks the answer's headers and starts reading its body.
    fn start(
        response: web_sys::Response,
        abort: AbortController,
        limit: usize,
        gzip_offered: bool,
    ) -> Result<WebStream<M>, ToriiError> {
        Ok(WebStream {
            body: WebBody::start(response, abort, limit, gzip_offered)?,
            messages: PhantomData,
        })
    }

    /// The next message; `None` once the call ended with status OK. After an error the
    /// stream is over.
    pub(crate) async fn message(&mut self) -> Result<Option<M>, ToriiError> {
        poll_fn(|cx| self.poll_message(cx)).await
    }

    fn poll_message(&mut self, cx: &mut Context<'_>) -> Poll<Result<Option<M>, ToriiError>> {
        let result = ready!(self.body.poll_payload(cx)).and_then(|payload| {
            payload
                .map(|bytes| {
                    M::decode(bytes.as_ref()).map_err(|e| ToriiError::Malformed {
                        message: format!("failed to decode Protobuf message: {e}"),
                    })
                })
                .transpose()
        });
        if result.is_err() {
            self.body.end();
        }
        Poll::Ready(result)
    }
}

/// The body of an answer read frame by frame (one type for every message type: only the
/// protobuf decoding of [`WebStream`] is generic).
struct WebBody {
    /// The body's reader; `None` when the answer has no body.
    reader: Option<ReadableStreamDefaultReader>,
    /// A read of the body in progress.
    reading: Option<JsFuture>,
    /// A gzip message being inflated.
    inflating: Option<Inflating>,
    decoder: FrameDecoder,
    /// Whether compressed messages are gzip (the `grpc-encoding` of the answer).
    gzip: bool,
    limit: usize,
    /// The stream is over (its status read, or a failure returned): it answers `None` now.
    ended: bool,
    /// Aborted when the stream is dropped: the connection is released at once.
    abort: AbortController,
}

impl Drop for WebBody {
    fn drop(&mut self) {
        // Aborting a finished request does nothing.
        self.abort.abort();
    }
}

impl WebBody {
    /// Checks the answer's headers and starts reading its body.
    fn start(
        response: web_sys::Response,
        abort: AbortController,
        limit: usize,
        gzip_offered: bool,
    ) -> Result<WebBody, ToriiError> {
        let headers = response.headers();
        let header = |name: &str| headers.get(name).ok().flatten();
        let mut answer = WebBody {
            reader: None,
            reading: None,
            inflating: None,
            decoder: FrameDecoder::new(limit),
            gzip: false,
            limit,
            ended: false,
            abort,
        };
        // A trailers-only answer carries its status in the headers.
        if let Some(status) = header("grpc-status") {
            let status = GrpcStatus::from_values(&status, header("grpc-message").as_deref());
            if !status.is_ok() {
                return Err(status_error(status.code, &status.message));
            }
            answer.ended = true;
            return Ok(answer);
        }
        let http_status = response.status();
        if http_status != 200 {
            return Err(status_error(
                code_of_http_status(http_status),
                &format!("grpc-status header missing, mapped from HTTP status code {http_status}"),
            ));
        }
        let content_type = header("content-type").unwrap_or_default();
        let media_type = content_type.split(';').next().unwrap_or_default().trim();
        if !matches!(media_type, "application/grpc-web" | GRPC_WEB) {
            return Err(ToriiError::Malformed {
                message: format!(
                    "Torii answered with content-type {content_type:?}, not {GRPC_WEB}"
                ),
            });
        }
        // Torii names the encoding of its compressed messages; a proxy may hide the header,
        // and then it can only be the one offered.
        answer.gzip = match header("grpc-encoding").as_deref() {
            Some("gzip") => true,
            None => gzip_offered,
            Some("identity") => false,
            Some(other) => {
                return Err(ToriiError::Malformed {
                    message: format!("Torii compressed its answer with {other:?}, not gzip"),
                })
            }
        };
        answer.reader = response
            .body()
            .map(|body| body.get_reader().unchecked_into());
        Ok(answer)
    }

    /// Ends the stream: nothing more is read, and the request is aborted.
    fn end(&mut self) {
        self.ended = true;
        self.reading = None;
        self.inflating = None;
        self.abort.abort();
    }

    /// The next message's bytes (inflated), `None` at the end of a successful call.
    fn poll_payload(&mut self, cx: &mut Context<'_>) -> Poll<Result<Option<Bytes>, ToriiError>> {
        loop {
            if let Some(inflating) = self.inflating.as_mut() {
                let inflated = ready!(inflating.as_mut().poll(cx));
                self.inflating = None;
                return Poll::Ready(inflated.map(|bytes| Some(Bytes::from(bytes))));
            }
            if self.ended {
                return Poll::Ready(Ok(None));
            }
            match self.decoder.next_frame() {
                Ok(Some(WebFrame::Message {
                    compressed: false,
                    payload,
                })) => return Poll::Ready(Ok(Some(payload))),
                Ok(Some(WebFrame::Message {
                    compressed: true,
                    payload,
                })) => {
                    if !self.gzip {
                        return Poll::Ready(Err(ToriiError::Malformed {
                            message: "Torii sent a compressed message without naming its \
                                      grpc-encoding"
                                .to_owned(),
                        }));
                    }
                    let limit = self.limit;
                    self.inflating = Some(Box::pin(async move { gunzip(&payload, limit).await }));
                    continue;
                }
                Ok(Some(WebFrame::Trailers(status))) => {
                    self.ended = true;
                    return Poll::Ready(match status {
                        Some(status) if status.is_ok() => Ok(None),
                        Some(status) => Err(status_error(status.code, &status.message)),
                        None => Err(ToriiError::Malformed {
                            message: "Torii's trailers carry no grpc-status".to_owned(),
                        }),
                    });
                }
                Ok(None) => {}
                Err(error) => return Poll::Ready(Err(frame_error(error))),
            }
            let Some(reader) = &self.reader else {
                return Poll::Ready(Err(ended_without_status()));
            };
            let reading = self
                .reading
                .get_or_insert_with(|| JsFuture::from(reader.read()));
            let read = ready!(Pin::new(reading).poll(cx));
            self.reading = None;
            let result = read.map_err(|e| ToriiError::Unavailable {
                message: format!("reading Torii's response failed: {}", js_message(&e)),
            })?;
            let done = Reflect::get(&result, &JsValue::from_str("done"))
                .ok()
                .and_then(|d| d.as_bool())
                .unwrap_or(true);
            if done {
                self.reader = None;
                if let Err(error) = self.decoder.finish() {
                    return Poll::Ready(Err(frame_error(error)));
                }
                continue;
            }
            let chunk: Uint8Array = Reflect::get(&result, &JsValue::from_str("value"))
                .ok()
                .and_then(|v| v.dyn_into().ok())
                .ok_or_else(|| ToriiError::Malformed {
                    message: "Torii's response body is not bytes".to_owned(),
                })?;
            self.decoder.push(&chunk.to_vec());
        }
    }
}

/// The error of a body that ended at a frame boundary without trailers.
fn ended_without_status() -> ToriiError {
    ToriiError::Malformed {
        message: "Torii's answer ended without a grpc-status (truncated by a proxy?)".to_owned(),
    }
}

/// The error of a body that cannot be framed.
fn frame_error(error: FrameError) -> ToriiError {
    match error {
        FrameError::TooLarge { .. } => ToriiError::TooLarge {
            message: error.to_string(),
        },
        _ => ToriiError::Malformed {
            message: error.to_string(),
        },
    }
}
