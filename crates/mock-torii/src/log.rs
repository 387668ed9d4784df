//! The request log: one entry per gRPC call (method, a short detail, whether the caller
//! accepted gzip answers), readable and clearable through the control API.

use std::collections::VecDeque;
use std::sync::{Mutex, PoisonError};

use axum::extract::Request;
use axum::middleware::Next;
use axum::response::Response;
use serde::Serialize;

/// The most entries kept; older ones are dropped first.
const CAPACITY: usize = 100_000;

/// One logged gRPC call.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct LogEntry {
    /// Position in the log (increasing, never reused until the mock is reset).
    pub seq: u64,
    /// The RPC name, e.g. `RetrieveEntities`.
    pub method: String,
    /// `key=value` pairs: cursor, limit, models, clause kind, subscription id...
    pub detail: String,
    /// Rows a retrieve answered with (absent for other calls, and until it answered).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub rows: Option<usize>,
    /// Whether the call's `grpc-accept-encoding` offered gzip (the answer may be gzipped).
    pub accepts_gzip: bool,
}

tokio::task_local! {
    /// Whether the gRPC call being served offered gzip; set by [`encoding_layer`].
    static ACCEPTS_GZIP: bool;
}

/// Layer around the gRPC service: runs the call with its `grpc-accept-encoding` known to
/// [`RequestLog::push`], so the log tells which calls asked for plain answers.
pub async fn encoding_layer(request: Request, next: Next) -> Response {
    let accepts_gzip = request
        .headers()
        .get_all("grpc-accept-encoding")
        .iter()
        .filter_map(|value| value.to_str().ok())
        .any(|value| value.split(',').any(|name| name.trim() == "gzip"));
    ACCEPTS_GZIP.scope(accepts_gzip, next.run(request)).await
}

/// The log of gRPC calls.
#[derive(Debug, Default)]
pub struct RequestLog {
    inner: Mutex<(u64, VecDeque<LogEntry>)>,
}

impl RequestLog {
    /// Appends an entry; returns its `seq`.
    pub fn push(&self, method: &str, detail: String) -> u64 {
        let mut inner = self.inner.lock().unwrap_or_else(PoisonError::into_inner);
        inner.0 += 1;
        let seq = inner.0;
        if inner.1.len() == CAPACITY {
            inner.1.pop_front();
        }
        inner.1.push_back(LogEntry {
            seq,
            method: method.to_owned(),
            detail,
            rows: None,
            accepts_gzip: ACCEPTS_GZIP.try_with(|gzip| *gzip).unwrap_or(false),
        });
        seq
    }

    /// Records how many rows the call logged as `seq` answered with.
    pub fn set_rows(&self, seq: u64, rows: usize) {
        let mut inner = self.inner.lock().unwrap_or_else(PoisonError::into_inner);
        if let Some(entry) = inner.1.iter_mut().rev().find(|e| e.seq == seq) {
            entry.rows = Some(rows);
        }
    }

    /// Every entry, oldest first.
    pub fn entries(&self) -> Vec<LogEntry> {
        let inner = self.inner.lock().unwrap_or_else(PoisonError::into_inner);
        inner.1.iter().cloned().collect()
    }

    /// Forgets every entry (sequence numbers go on).
    pub fn clear(&self) {
        self.inner
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .1
            .clear();
    }

    /// Forgets every entry and restarts the numbering.
    pub fn reset(&self) {
        *self.inner.lock().unwrap_or_else(PoisonError::into_inner) = (0, VecDeque::new());
    }
}
