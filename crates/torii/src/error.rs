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

impl From<tonic::Status> for ToriiError {
    fn from(status: tonic::Status) -> Self {
        use tonic::Code;
        let message = status.message().to_owned();
        let lowered = message.to_ascii_lowercase();
        let malformed_hint = [
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
        ]
        .iter()
        .any(|hint| lowered.contains(hint));
        match status.code() {
            Code::Unavailable
            | Code::DeadlineExceeded
            | Code::ResourceExhausted
            | Code::Aborted
            | Code::Cancelled => ToriiError::Unavailable { message },
            Code::Internal | Code::Unknown | Code::DataLoss if malformed_hint => {
                ToriiError::Malformed { message }
            }
            Code::Unknown if lowered.contains("transport") || lowered.contains("connect") => {
                ToriiError::Unavailable { message }
            }
            code => ToriiError::Rpc {
                code: format!("{code:?}"),
                message,
            },
        }
    }
}
