//! A single-threaded simulation: run every ready task until nothing can progress, then move
//! the virtual clock to the next timer, and so on.

use std::future::Future;
use std::pin::pin;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::task::{Context, Poll};

use futures_executor::{LocalPool, LocalSpawner};
use futures_util::task::{waker, ArcWake, LocalSpawnExt};

use super::clock::VirtualClock;

struct Flag(AtomicBool);

impl ArcWake for Flag {
    fn wake_by_ref(arc_self: &Arc<Self>) {
        arc_self.0.store(true, Ordering::SeqCst);
    }
}

/// Polls without a clock step before a simulation is declared stuck in a busy loop.
const MAX_POLLS_WITHOUT_TIME: u64 = 10_000_000;

/// How a simulated run ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SimOutcome<T> {
    /// The future completed.
    Done(T),
    /// The time limit was reached first.
    TimeLimit,
    /// The stop condition held.
    Stopped,
    /// Nothing could progress and no timer was pending.
    Deadlock,
}

impl<T> SimOutcome<T> {
    /// The output, if the future completed.
    pub fn done(self) -> Option<T> {
        match self {
            SimOutcome::Done(value) => Some(value),
            _ => None,
        }
    }
}

/// A simulation over a [`VirtualClock`] (see the module documentation).
pub struct Sim {
    pool: LocalPool,
    spawner: LocalSpawner,
    clock: VirtualClock,
}

impl Sim {
    /// A simulation driving `clock`.
    pub fn new(clock: VirtualClock) -> Self {
        let pool = LocalPool::new();
        let spawner = pool.spawner();
        Sim {
            pool,
            spawner,
            clock,
        }
    }

    /// The clock.
    pub fn clock(&self) -> &VirtualClock {
        &self.clock
    }

    /// Runs `task` alongside (a script, a server writer...).
    pub fn spawn(&self, task: impl Future<Output = ()> + 'static) {
        // Spawning only fails on a shut-down pool, which this one never is.
        let _ = self.spawner.spawn_local(task);
    }

    /// Runs `fut` until it completes or virtual time would pass `until_ms`.
    pub fn run_until<F: Future>(&mut self, fut: F, until_ms: u64) -> SimOutcome<F::Output> {
        self.run_with(fut, until_ms, || false)
    }

    /// Runs `fut` until it completes, `stop` holds (checked whenever everything is idle), or
    /// virtual time would pass `until_ms`. Dropping the future afterwards is how a test kills
    /// a process mid-way.
    pub fn run_with<F: Future>(
        &mut self,
        fut: F,
        until_ms: u64,
        mut stop: impl FnMut() -> bool,
    ) -> SimOutcome<F::Output> {
        let flag = Arc::new(Flag(AtomicBool::new(true)));
        let waker = waker(Arc::clone(&flag));
        let mut cx = Context::from_waker(&waker);
        let mut fut = pin!(fut);
        let mut polls = 0u64;
        loop {
            if flag.0.swap(false, Ordering::SeqCst) {
                polls += 1;
                if let Poll::Ready(value) = fut.as_mut().poll(&mut cx) {
                    return SimOutcome::Done(value);
                }
            }
            self.pool.run_until_stalled();
            if flag.0.load(Ordering::SeqCst) {
                if polls > MAX_POLLS_WITHOUT_TIME {
                    return SimOutcome::Deadlock;
                }
                continue;
            }
            if stop() {
                return SimOutcome::Stopped;
            }
            match self.clock.next_deadline() {
                Some(at) if at <= until_ms => {
                    polls = 0;
                    self.clock.advance_to(at);
                }
                Some(_) => {
                    self.clock.advance_to(until_ms);
                    return SimOutcome::TimeLimit;
                }
                None => return SimOutcome::Deadlock,
            }
        }
    }
}
