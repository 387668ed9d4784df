//! The quiet-stream probe: a stream with no progress for `heartbeat_timeout_ms` may be quiet
//! (nothing was written) or dead (it stopped delivering). Torii pages rows by last write,
//! newest first, so a one-row page is its newest row: held as it is, nothing was missed and
//! the stream is quiet; newer than what is held, the stream missed it and is dead. Token rows
//! are paged by key, not by last write, so no one row tells: a silent token stream is taken
//! as dead and re-read (see [`token_rows`](super::token_rows)).

use super::clock::Clock;
use super::engine::{Env, Failure, St};
use super::storage::StorageAdapter;
use super::transport::{PageRequest, ToriiTransport};

/// What a probe found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Probe {
    /// Nothing missed (or the stream delivered something while the probe was out).
    Quiet,
    /// Torii's newest row is not held: the stream missed it.
    Missed,
}

impl<T: ToriiTransport, S: StorageAdapter, C: Clock> Env<T, S, C> {
    /// Reads Torii's newest row and compares it with what is held.
    pub(crate) async fn probe(&self, st: &mut St<T::Stream>) -> Result<Probe, Failure> {
        if super::token_rows::token_model(st.target.kind).is_some() {
            return Ok(Probe::Missed);
        }
        let asked_at = st.last_progress;
        let request = PageRequest {
            cursor: None,
            limit: 1,
            entity_ids: Vec::new(),
        };
        let target = st.target.clone();
        let page = self
            .call(
                st,
                self.transport.retrieve(&target, &request),
                Some(self.options.request_timeout_ms),
            )
            .await?;
        if st.last_progress != asked_at {
            // The stream delivered while the probe was out: it lives.
            return Ok(Probe::Quiet);
        }
        let missed = page
            .items
            .first()
            .is_some_and(|row| !st.mirror.holds_row(row, |tag| target.includes_model(tag)));
        Ok(if missed { Probe::Missed } else { Probe::Quiet })
    }
}
