//! Fault injection: failing calls, delays, stalled streams, malformed responses, and the
//! budgets of duplicated and reordered stream messages (applied by [`crate::delivery`]).
//!
//! `fail`, `delay`, `stall` and the `schema` kind of malformed responses act inside the gRPC
//! service. The byte-level kinds act on HTTP responses: `content-type` in a layer outside
//! tonic-web (so it reaches gRPC and gRPC-web clients alike), `protobuf`, `truncate` and
//! `oversize` in a layer inside tonic-web that re-frames the gRPC body message by message and
//! breaks the next frame sent on any gRPC response (a unary reply or a streamed message).

use std::collections::VecDeque;
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::task::{Context, Poll};
use std::time::Duration;

use axum::body::Body;
use axum::extract::{Request, State};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use bytes::{Buf, Bytes, BytesMut};
use http::HeaderMap;
use http_body::Frame;
use rand::seq::SliceRandom;
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use tonic::{Code, Status};

/// How the next responses are broken.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum MalformedKind {
    /// A well-framed message whose bytes are not valid protobuf.
    Protobuf,
    /// A `text/html` answer instead of gRPC.
    ContentType,
    /// The body is cut in the middle of a frame.
    Truncate,
    /// An entity whose struct breaks its model's schema (a `u32` member sent as `u64`).
    Schema,
    /// A frame header announcing a 4 GiB message, then the body ends.
    Oversize,
}

impl MalformedKind {
    /// Parses `protobuf`, `content-type`, `truncate`, `schema` or `oversize`.
    pub fn parse(text: &str) -> Option<MalformedKind> {
        match text {
            "protobuf" => Some(MalformedKind::Protobuf),
            "content-type" => Some(MalformedKind::ContentType),
            "truncate" => Some(MalformedKind::Truncate),
            "schema" => Some(MalformedKind::Schema),
            "oversize" => Some(MalformedKind::Oversize),
            _ => None,
        }
    }
}

/// Parses a gRPC status code by name (`unavailable`, `DEADLINE_EXCEEDED`, ...) or number.
pub fn code_from_name(text: &str) -> Option<Code> {
    if let Ok(number) = text.parse::<i32>() {
        return (0..=16).contains(&number).then(|| Code::from_i32(number));
    }
    let code = match text.to_ascii_lowercase().replace('-', "_").as_str() {
        "ok" => Code::Ok,
        "cancelled" | "canceled" => Code::Cancelled,
        "unknown" => Code::Unknown,
        "invalid_argument" => Code::InvalidArgument,
        "deadline_exceeded" => Code::DeadlineExceeded,
        "not_found" => Code::NotFound,
        "already_exists" => Code::AlreadyExists,
        "permission_denied" => Code::PermissionDenied,
        "resource_exhausted" => Code::ResourceExhausted,
        "failed_precondition" => Code::FailedPrecondition,
        "aborted" => Code::Aborted,
        "out_of_range" => Code::OutOfRange,
        "unimplemented" => Code::Unimplemented,
        "internal" => Code::Internal,
        "unavailable" => Code::Unavailable,
        "data_loss" => Code::DataLoss,
        "unauthenticated" => Code::Unauthenticated,
        _ => return None,
    };
    Some(code)
}

/// The fault knobs, shared by the service, the streams and the HTTP layers.
#[derive(Debug, Default)]
pub struct Faults {
    fail: Mutex<Option<(u32, Code)>>,
    delay_ms: AtomicU64,
    stalled: AtomicBool,
    malformed: Mutex<Option<(MalformedKind, u32)>>,
    /// Messages still to duplicate, and the lag of their copies.
    duplicate: Mutex<(u32, u32)>,
    reorder: Mutex<Reorder>,
}

/// The budget of reordered messages, their window size and the shuffle's random source.
#[derive(Debug)]
struct Reorder {
    remaining: u32,
    window: usize,
    rng: ChaCha8Rng,
}

impl Default for Reorder {
    fn default() -> Self {
        Reorder {
            remaining: 0,
            window: 0,
            rng: ChaCha8Rng::seed_from_u64(0),
        }
    }
}

impl Faults {
    /// The next `count` gRPC calls fail with `code`.
    pub fn set_fail(&self, count: u32, code: Code) {
        *self.fail.lock().unwrap_or_else(PoisonError::into_inner) =
            (count > 0).then_some((count, code));
    }

    /// Takes one pending failure, if any.
    pub fn take_fail(&self) -> Option<Status> {
        let mut fail = self.fail.lock().unwrap_or_else(PoisonError::into_inner);
        let (remaining, code) = (*fail)?;
        *fail = (remaining > 1).then_some((remaining - 1, code));
        Some(Status::new(code, "mock-torii: injected failure"))
    }

    /// Delays every gRPC response and every streamed message by `delay`.
    pub fn set_delay(&self, delay: Duration) {
        self.delay_ms.store(
            u64::try_from(delay.as_millis()).unwrap_or(u64::MAX),
            Ordering::Relaxed,
        );
    }

    /// The current delay.
    pub fn delay(&self) -> Duration {
        Duration::from_millis(self.delay_ms.load(Ordering::Relaxed))
    }

    /// Sleeps for the current delay, if any.
    pub async fn wait(&self) {
        let delay = self.delay();
        if !delay.is_zero() {
            tokio::time::sleep(delay).await;
        }
    }

    /// Stalls (or resumes) every stream: while stalled, updates are dropped for subscribers.
    pub fn set_stalled(&self, stalled: bool) {
        self.stalled.store(stalled, Ordering::Relaxed);
    }

    /// Whether streams are stalled.
    pub fn stalled(&self) -> bool {
        self.stalled.load(Ordering::Relaxed)
    }

    /// The next `count` responses (or streamed messages) are broken in the way `kind` says.
    pub fn set_malformed(&self, kind: MalformedKind, count: u32) {
        *self
            .malformed
            .lock()
            .unwrap_or_else(PoisonError::into_inner) = (count > 0).then_some((kind, count));
    }

    /// Takes one pending malformation of one of `kinds`.
    pub fn take_malformed(&self, kinds: &[MalformedKind]) -> Option<MalformedKind> {
        let mut malformed = self
            .malformed
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        let (kind, remaining) = (*malformed)?;
        if !kinds.contains(&kind) {
            return None;
        }
        *malformed = (remaining > 1).then_some((kind, remaining - 1));
        Some(kind)
    }

    /// The next `count` streamed entity or event-message updates are each sent twice: the copy
    /// right after the original (`lag` 0) or after `lag` later messages of the same stream.
    pub fn set_duplicate(&self, count: u32, lag: u32) {
        *self
            .duplicate
            .lock()
            .unwrap_or_else(PoisonError::into_inner) = (count, lag);
    }

    /// Takes one pending duplication: the lag of its copy.
    pub fn take_duplicate(&self) -> Option<u32> {
        let mut duplicate = self
            .duplicate
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        let (remaining, lag) = *duplicate;
        if remaining == 0 {
            return None;
        }
        duplicate.0 = remaining - 1;
        Some(lag)
    }

    /// Updates still to be duplicated.
    pub fn pending_duplicates(&self) -> u32 {
        self.duplicate
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .0
    }

    /// The next `count` streamed entity or event-message updates are held in windows of
    /// `window` messages per stream and sent in a shuffled order drawn from `seed`.
    pub fn set_reorder(&self, count: u32, window: u32, seed: u64) {
        let window = usize::try_from(window).unwrap_or(usize::MAX);
        *self.reorder.lock().unwrap_or_else(PoisonError::into_inner) = Reorder {
            remaining: if window > 1 { count } else { 0 },
            window,
            rng: ChaCha8Rng::seed_from_u64(seed),
        };
    }

    /// Takes one pending reordering: the window size the message is held in.
    pub fn take_reorder(&self) -> Option<usize> {
        let mut reorder = self.reorder.lock().unwrap_or_else(PoisonError::into_inner);
        if reorder.remaining == 0 {
            return None;
        }
        reorder.remaining -= 1;
        Some(reorder.window)
    }

    /// Updates still to be reordered.
    pub fn pending_reorder(&self) -> u32 {
        self.reorder
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .remaining
    }

    /// Shuffles a reorder window with the seeded random source.
    pub fn shuffle<T>(&self, items: &mut [T]) {
        let mut reorder = self.reorder.lock().unwrap_or_else(PoisonError::into_inner);
        items.shuffle(&mut reorder.rng);
    }

    /// Clears every fault.
    pub fn clear(&self) {
        self.set_fail(0, Code::Ok);
        self.set_delay(Duration::ZERO);
        self.set_stalled(false);
        self.set_malformed(MalformedKind::Protobuf, 0);
        self.set_duplicate(0, 0);
        self.set_reorder(0, 0, 0);
    }
}

/// Layer outside tonic-web: answers `text/html` when a `content-type` fault is pending.
pub async fn content_type_layer(
    State(faults): State<Arc<Faults>>,
    request: Request,
    next: Next,
) -> Response {
    if faults
        .take_malformed(&[MalformedKind::ContentType])
        .is_some()
    {
        return (
            [(http::header::CONTENT_TYPE, "text/html; charset=utf-8")],
            "<!doctype html><html><body><h1>502 Bad Gateway</h1><p>mock-torii: injected content-type fault</p></body></html>",
        )
            .into_response();
    }
    next.run(request).await
}

/// Layer inside tonic-web: re-frames gRPC response bodies so that `protobuf` and `truncate`
/// faults can break the next message frame.
pub async fn frame_layer(
    State(faults): State<Arc<Faults>>,
    request: Request,
    next: Next,
) -> Response {
    let response = next.run(request).await;
    let (parts, body) = response.into_parts();
    Response::from_parts(parts, Body::new(FaultBody::new(body, faults)))
}

/// A gRPC response body passed on frame by frame, breaking frames when a fault is pending.
struct FaultBody {
    inner: Body,
    faults: Arc<Faults>,
    buffer: BytesMut,
    ready: VecDeque<Bytes>,
    trailers: Option<HeaderMap>,
    /// The inner body has ended (or a truncation ended this one).
    finished: bool,
    /// Nothing more may be sent (a truncation happened).
    cut: bool,
}

impl FaultBody {
    fn new(inner: Body, faults: Arc<Faults>) -> FaultBody {
        FaultBody {
            inner,
            faults,
            buffer: BytesMut::new(),
            ready: VecDeque::new(),
            trailers: None,
            finished: false,
            cut: false,
        }
    }

    /// Moves complete frames from the buffer to `ready`, applying pending faults.
    fn split_frames(&mut self) {
        while !self.cut && self.buffer.len() >= 5 {
            let mut header = &self.buffer[1..5];
            let length = header.get_u32() as usize;
            let total = 5 + length;
            if self.buffer.len() < total {
                break;
            }
            let frame = self.buffer.split_to(total).freeze();
            // Trailer frames of gRPC-web (flag 0x80) never reach this layer; every frame here
            // is a message.
            match self.faults.take_malformed(&[
                MalformedKind::Protobuf,
                MalformedKind::Truncate,
                MalformedKind::Oversize,
            ]) {
                None => self.ready.push_back(frame),
                Some(MalformedKind::Oversize) => {
                    // A message header announcing 4 GiB and a few bytes of it: a client must
                    // refuse it from the header instead of waiting to buffer the rest.
                    let mut huge = BytesMut::with_capacity(9);
                    huge.extend_from_slice(&[0, 0xff, 0xff, 0xff, 0xff, 1, 2, 3, 4]);
                    self.ready.push_back(huge.freeze());
                    self.cut = true;
                    self.buffer.clear();
                    self.trailers = None;
                }
                Some(MalformedKind::Truncate) => {
                    let keep = (frame.len() / 2).max(3);
                    self.ready.push_back(frame.slice(..keep.min(frame.len())));
                    self.cut = true;
                    self.buffer.clear();
                    self.trailers = None;
                }
                Some(_) => {
                    // Field 1 with wire type 7: no protobuf decoder accepts it.
                    let garbage: &[u8] = &[0x0f, 0xff, 0xff, 0xff, 0x0f, 0x0f];
                    let mut broken = BytesMut::with_capacity(5 + garbage.len());
                    broken.extend_from_slice(&[0]);
                    broken.extend_from_slice(&(garbage.len() as u32).to_be_bytes());
                    broken.extend_from_slice(garbage);
                    self.ready.push_back(broken.freeze());
                }
            }
        }
    }
}

impl http_body::Body for FaultBody {
    type Data = Bytes;
    type Error = axum::Error;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, Self::Error>>> {
        let this = &mut *self;
        loop {
            if let Some(bytes) = this.ready.pop_front() {
                return Poll::Ready(Some(Ok(Frame::data(bytes))));
            }
            if this.cut {
                return Poll::Ready(None);
            }
            if this.finished {
                if !this.buffer.is_empty() {
                    // A partial frame the inner body left behind: pass it on as it is.
                    let rest = this.buffer.split().freeze();
                    return Poll::Ready(Some(Ok(Frame::data(rest))));
                }
                return Poll::Ready(this.trailers.take().map(|t| Ok(Frame::trailers(t))));
            }
            match Pin::new(&mut this.inner).poll_frame(cx) {
                Poll::Pending => return Poll::Pending,
                Poll::Ready(None) => this.finished = true,
                Poll::Ready(Some(Err(error))) => return Poll::Ready(Some(Err(error))),
                Poll::Ready(Some(Ok(frame))) => match frame.into_data() {
                    Ok(data) => {
                        this.buffer.extend_from_slice(&data);
                        this.split_frames();
                    }
                    Err(frame) => {
                        if let Ok(trailers) = frame.into_trailers() {
                            this.trailers = Some(trailers);
                        }
                        this.finished = true;
                    }
                },
            }
        }
    }

    fn is_end_stream(&self) -> bool {
        false
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counters_run_down() {
        let faults = Faults::default();
        faults.set_fail(2, Code::Unavailable);
        assert_eq!(
            faults.take_fail().map(|s| s.code()),
            Some(Code::Unavailable)
        );
        assert!(faults.take_fail().is_some());
        assert!(faults.take_fail().is_none());
        faults.set_malformed(MalformedKind::Schema, 1);
        assert!(faults.take_malformed(&[MalformedKind::Protobuf]).is_none());
        assert_eq!(
            faults.take_malformed(&[MalformedKind::Schema]),
            Some(MalformedKind::Schema)
        );
        assert!(faults.take_malformed(&[MalformedKind::Schema]).is_none());
        assert_eq!(code_from_name("unavailable"), Some(Code::Unavailable));
        assert_eq!(
            code_from_name("DEADLINE_EXCEEDED"),
            Some(Code::DeadlineExceeded)
        );
        assert_eq!(code_from_name("14"), Some(Code::Unavailable));
        assert_eq!(code_from_name("nope"), None);
    }
}
