//! Waiting on one thing while the live stream keeps being read, ticks keep being emitted and
//! commands keep being heard.

use std::future::{poll_fn, Future};
use std::pin::{pin, Pin};
use std::task::Poll;

use futures_util::StreamExt;

use super::clock::Clock;
use super::engine::{Env, Failure, St};
use super::error::TransportError;
use super::handle::Command;
use super::storage::StorageAdapter;
use super::transport::{ToriiTransport, UpdateStream};
use crate::queue::Backpressure;

/// What woke a wait up.
pub(crate) enum Wake<R> {
    /// The awaited future completed.
    Done(R),
    /// The stream yielded (or ended).
    Item(Option<Result<crate::entity::Entity, TransportError>>),
    /// A command arrived.
    Command(Command),
    /// The timer fired.
    Timer,
}

impl<T: ToriiTransport, S: StorageAdapter, C: Clock> Env<T, S, C> {
    /// Waits until `fut` completes, a stream item or a command arrives, or `timer_at` passes.
    /// The stream is read only when `pump` is set.
    pub(crate) async fn wait<F: Future>(
        &self,
        st: &mut St<T::Stream>,
        mut fut: Pin<&mut F>,
        timer_at: u64,
        pump: bool,
    ) -> Wake<F::Output> {
        let St { live, commands, .. } = st;
        let stream = match live {
            Some(live) if pump => Some(&mut live.stream),
            _ => None,
        };
        let next = pin!(async move {
            match stream {
                Some(stream) => stream.next().await,
                None => std::future::pending().await,
            }
        });
        let sleep = pin!(self.clock.sleep_until(timer_at));
        let command = pin!(commands.next());
        let (mut next, mut sleep, mut command) = (next, sleep, command);
        poll_fn(|cx| {
            if let Poll::Ready(Some(command)) = command.as_mut().poll(cx) {
                return Poll::Ready(Wake::Command(command));
            }
            if let Poll::Ready(value) = fut.as_mut().poll(cx) {
                return Poll::Ready(Wake::Done(value));
            }
            if let Poll::Ready(item) = next.as_mut().poll(cx) {
                return Poll::Ready(Wake::Item(item));
            }
            if let Poll::Ready(()) = sleep.as_mut().poll(cx) {
                return Poll::Ready(Wake::Timer);
            }
            Poll::Pending
        })
        .await
    }

    /// Emits a tick when one is due.
    pub(crate) fn on_timer(&self, st: &mut St<T::Stream>) {
        if self.now() >= st.next_tick_at {
            self.emit_tick(st);
        }
    }

    /// Drives `fut` to completion while buffering stream updates (pausing the stream at the
    /// queue's high-water mark), emitting ticks and hearing commands. Fails when the stream is
    /// lost, a command arrives, or `deadline` passes.
    pub(crate) async fn drive<F: Future>(
        &self,
        st: &mut St<T::Stream>,
        mut fut: Pin<&mut F>,
        deadline: Option<u64>,
    ) -> Result<F::Output, Failure> {
        loop {
            let timer_at = deadline.map_or(st.next_tick_at, |d| d.min(st.next_tick_at));
            let pump = st.queue.backpressure() == Backpressure::Released;
            match self.wait(st, fut.as_mut(), timer_at, pump).await {
                Wake::Done(value) => return Ok(value),
                // Applied once streaming (or by the next pass).
                Wake::Command(Command::Retarget(scopes)) => st.retarget = Some(scopes),
                Wake::Command(command) => return Err(Failure::Command(command)),
                Wake::Item(item) => {
                    if let Err(lost) = self.buffer_item(st, item) {
                        return Err(Failure::Lost(lost));
                    }
                }
                Wake::Timer => {
                    self.on_timer(st);
                    if let Some(deadline) = deadline {
                        if self.now() >= deadline {
                            return Err(Failure::Transient(
                                "Torii did not answer in time".to_owned(),
                            ));
                        }
                    }
                }
            }
        }
    }

    /// Awaits a transport call with a timeout (see [`Env::drive`]); a retryable error is
    /// transient, any other fails the pass. `force_replay` and `resume` are ignored meanwhile.
    pub(crate) async fn call<F, R>(
        &self,
        st: &mut St<T::Stream>,
        fut: F,
        timeout_ms: Option<u64>,
    ) -> Result<R, Failure>
    where
        F: Future<Output = Result<R, TransportError>>,
    {
        let deadline = timeout_ms.map(|t| self.now().saturating_add(t));
        let mut fut = pin!(fut);
        loop {
            match self.drive(st, fut.as_mut(), deadline).await {
                Ok(Ok(value)) => return Ok(value),
                Ok(Err(error)) if error.retryable => return Err(Failure::Transient(error.message)),
                Ok(Err(error)) => {
                    return Err(Failure::Pass {
                        message: error.message,
                        restart: true,
                    })
                }
                Err(Failure::Command(Command::ForceReplay | Command::Resume)) => continue,
                Err(failure) => return Err(failure),
            }
        }
    }
}
