//! Typed errors of the Torii client: every failure says what went wrong and whether retrying helps.

use crate::convert::WireError;

/// Everything that can go wrong talking to Torii.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ToriiError {
    /// The Torii URL cannot be used.
    #[error("invalid Torii URL {url:?}: {reason}")]
    InvalidUrl {
        /// The URL given.
        url: String,
        /// Why it was rejected.
        reason: String,
    },
    /// Torii could not be reached or asked us to come back later (connection refused, reset,
    /// UNAVAILABLE, deadline). Retrying with backoff is the right reaction.
    #[error("Torii is unavailable: {message}")]
    Unavailable {
        /// What the transport or server said.
        message: String,
    },
    /// Torii answered with something that is not a valid gRPC message: bad protobuf, a wrong
    /// content type, or a body cut in the middle of a frame (a proxy or a broken server).
    #[error("Torii sent a malformed response: {message}")]
    Malformed {
        /// What was wrong with it.
        message: String,
    },
    /// Torii answered with a gRPC error status.
    #[error("Torii answered {code}: {message}")]
    Rpc {
        /// The gRPC status code name (e.g. `InvalidArgument`).
        code: String,
        /// The status message.
        message: String,
    },
    /// A well-formed message whose content is not a valid Dojo value for its model.
    #[error("Torii sent an invalid entity{}: {source}", entity_suffix(.entity))]
    InvalidEntity {
        /// The entity id, when it could be read.
        entity: Option<String>,
        /// What is wrong with it.
        source: WireError,
    },
    /// A message (or a gRPC-web frame) larger than the 16 MiB message cap, refused before it
    /// was read. Retrying the same call does not help; smaller pages do.
    #[error("Torii sent a message larger than the client accepts: {message} (ask for smaller pages: pageSize)")]
    TooLarge {
        /// What the transport said (the announced size and the cap).
        message: String,
    },
    /// A subscription did not start with Torii's handshake message.
    #[error("subscription handshake failed: {message}")]
    Handshake {
        /// What arrived instead.
        message: String,
    },
    /// `GET /` did not answer like Torii.
    #[error("Torii version probe failed: {message}")]
    VersionProbe {
        /// What went wrong.
        message: String,
    },
    /// `GET /` answered with a body larger than the probe reads (Torii's answer is a short
    /// JSON object): the rest was not read. Retrying does not help; the URL may name a web page
    /// rather than Torii.
    #[error(
        "Torii version probe failed: `GET {url}` answered more than {limit} bytes, which is not          Torii's version JSON; the rest was not read (check that toriiUrl names Torii)"
    )]
    ProbeTooLarge {
        /// The URL probed.
        url: String,
        /// The most bytes the probe reads.
        limit: usize,
    },
}

fn entity_suffix(entity: &Option<String>) -> String {
    entity
        .as_ref()
        .map(|id| format!(" {id}"))
        .unwrap_or_default()
}

impl ToriiError {
    /// Whether the same call may succeed later (transient transport or server trouble).
    pub fn is_retryable(&self) -> bool {
        matches!(
            self,
            ToriiError::Unavailable { .. }
                | ToriiError::Malformed { .. }
                | ToriiError::Handshake { .. }
        )
    }
}

/// Message fragments of a status that mean the server could not be reached: tonic's transport
/// errors natively, and `fetch` failures in browsers (Chromium, Firefox, Safari wording).
const UNREACHABLE_HINTS: &[&str] = &[
    "transport error",
    "connection refused",
    "connection reset",
    "error trying to connect",
    "failed to fetch",
    "networkerror",
    "load failed",
];

/// Message fragments of a status that mean the response was not valid gRPC.
const MALFORMED_HINTS: &[&str] = &[
    "decode",
    "protobuf",
    "content-type",
    "content type",
    "eof",
    "frame",
    "truncat",
    "invalid compression",
    "h2 protocol",
    "unexpected",
];

/// Most characters of a message kept from the transport or the server.
const MESSAGE_LIMIT: usize = 300;

/// The first line of a transport's message, at most [`MESSAGE_LIMIT`] characters: what a person
/// reads, without the JavaScript stack some browsers append to an error's text.
pub(crate) fn first_line(message: &str) -> String {
    let line = message
        .lines()
        .map(str::trim)
        .find(|l| !l.is_empty())
        .unwrap_or_default();
    match line.char_indices().nth(MESSAGE_LIMIT) {
        Some((cut, _)) => format!("{}…", &line[..cut]),
        None => line.to_owned(),
    }
}

/// gRPC status codes (their numbers on the wire; the names are those of the gRPC spec in
/// CamelCase, as [`ToriiError::Rpc`] reports them).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Code {
    Ok,
    Cancelled,
    Unknown,
    InvalidArgument,
    DeadlineExceeded,
    NotFound,
    AlreadyExists,
    PermissionDenied,
    ResourceExhausted,
    FailedPrecondition,
    Aborted,
    OutOfRange,
    Unimplemented,
    Internal,
    Unavailable,
    DataLoss,
    Unauthenticated,
}

impl Code {
    /// The code of a wire number; numbers outside the spec read as `Unknown`.
    fn from_wire(code: i32) -> Code {
        const CODES: [Code; 17] = [
            Code::Ok,
            Code::Cancelled,
            Code::Unknown,
            Code::InvalidArgument,
            Code::DeadlineExceeded,
            Code::NotFound,
            Code::AlreadyExists,
            Code::PermissionDenied,
            Code::ResourceExhausted,
            Code::FailedPrecondition,
            Code::Aborted,
            Code::OutOfRange,
            Code::Unimplemented,
            Code::Internal,
            Code::Unavailable,
            Code::DataLoss,
            Code::Unauthenticated,
        ];
        usize::try_from(code)
            .ok()
            .and_then(|i| CODES.get(i).copied())
            .unwrap_or(Code::Unknown)
    }
}

/// The error of a call that ended with gRPC status `code` (its wire number) and `message`:
/// the one mapping of statuses to [`ToriiError`], for tonic's statuses natively and the
/// gRPC-web trailers in browsers.
pub(crate) fn status_error(code: i32, message: &str) -> ToriiError {
    let message = first_line(message);
    let lowered = message.to_ascii_lowercase();
    let hinted = |hints: &[&str]| hints.iter().any(|hint| lowered.contains(hint));
    match Code::from_wire(code) {
        Code::Unavailable
        | Code::DeadlineExceeded
        | Code::ResourceExhausted
        | Code::Aborted
        | Code::Cancelled => ToriiError::Unavailable { message },
        Code::OutOfRange => ToriiError::TooLarge { message },
        Code::Unknown | Code::Internal if hinted(UNREACHABLE_HINTS) => {
            ToriiError::Unavailable { message }
        }
        Code::Internal | Code::Unknown | Code::DataLoss if hinted(MALFORMED_HINTS) => {
            ToriiError::Malformed { message }
        }
        code => ToriiError::Rpc {
            code: format!("{code:?}"),
            message,
        },
    }
}

#[cfg(not(target_arch = "wasm32"))]
impl From<tonic::Status> for ToriiError {
    fn from(status: tonic::Status) -> Self {
        status_error(status.code() as i32, status.message())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn classify(code: Code, message: &str) -> ToriiError {
        status_error(code as i32, message)
    }

    #[test]
    fn wire_numbers_name_their_codes() {
        assert_eq!(Code::from_wire(5), Code::NotFound);
        assert_eq!(Code::from_wire(16), Code::Unauthenticated);
        for outside in [-1, 17, i32::MAX] {
            assert_eq!(Code::from_wire(outside), Code::Unknown);
        }
        assert_eq!(
            status_error(42, "what"),
            ToriiError::Rpc {
                code: "Unknown".into(),
                message: "what".into()
            }
        );
    }

    /// tonic's statuses (native) go through the same mapping, with the same code names.
    #[cfg(not(target_arch = "wasm32"))]
    #[test]
    fn tonic_statuses_map_like_their_wire_numbers() {
        for number in 0..=16 {
            let status = tonic::Status::new(tonic::Code::from_i32(number), "no such subscription");
            assert_eq!(
                ToriiError::from(status),
                status_error(number, "no such subscription"),
                "{number}"
            );
        }
        let error = ToriiError::from(tonic::Status::new(tonic::Code::PermissionDenied, "x"));
        assert_eq!(
            error,
            ToriiError::Rpc {
                code: "PermissionDenied".into(),
                message: "x".into()
            }
        );
    }

    #[test]
    fn unreachable_servers_are_unavailable_on_every_platform() {
        for message in [
            "JS API error: TypeError: Failed to fetch",
            "JS API error: TypeError: NetworkError when attempting to fetch resource.",
            "transport error",
            "error trying to connect: tcp connect error: Connection refused (os error 111)",
        ] {
            let error = classify(Code::Unknown, message);
            assert!(
                matches!(error, ToriiError::Unavailable { .. }),
                "{message}: {error:?}"
            );
            assert!(error.is_retryable());
        }
        assert!(matches!(
            classify(Code::Unavailable, "x"),
            ToriiError::Unavailable { .. }
        ));
        assert!(matches!(
            classify(Code::DeadlineExceeded, "x"),
            ToriiError::Unavailable { .. }
        ));
    }

    #[test]
    fn messages_keep_their_first_line_only() {
        let error = classify(
            Code::Unknown,
            "JS API error: TypeError: Failed to fetch\n    at imports.wbg.__wbg_fetch (worker.js:1:2)\n    at wasm://wasm/00af:wasm-function[12]",
        );
        assert_eq!(
            error,
            ToriiError::Unavailable {
                message: "JS API error: TypeError: Failed to fetch".into()
            }
        );
        let long = "x".repeat(1_000);
        assert_eq!(first_line(&long).chars().count(), MESSAGE_LIMIT + 1);
        assert_eq!(first_line("\n  two\nthree"), "two");
    }

    #[test]
    fn broken_responses_are_malformed_and_other_statuses_keep_their_code() {
        let error = classify(
            Code::Internal,
            "failed to decode Protobuf message: invalid wire type",
        );
        assert!(matches!(error, ToriiError::Malformed { .. }), "{error:?}");
        let error = classify(Code::NotFound, "no such subscription");
        assert_eq!(
            error,
            ToriiError::Rpc {
                code: "NotFound".into(),
                message: "no such subscription".into()
            }
        );
        assert!(!error.is_retryable());
        assert!(error.to_string().contains("NotFound"));
    }

    #[test]
    fn oversized_messages_are_too_large_and_not_retried() {
        // tonic's own cap, and the gRPC-web frame decoder's.
        for message in [
            "Error, decoded message length too large: found 20000000 bytes, the limit is: 16777216 bytes",
            "Torii announced a gRPC-web frame of 4294967295 bytes, more than the 16777216-byte message cap; it was refused before being read",
        ] {
            let error = classify(Code::OutOfRange, message);
            assert_eq!(
                error,
                ToriiError::TooLarge {
                    message: message.into()
                }
            );
            assert!(!error.is_retryable());
            assert!(error.to_string().contains("smaller pages"), "{error}");
        }
    }
}
