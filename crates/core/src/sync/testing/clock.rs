//! A virtual clock: time moves only when the simulation says so.

use std::cell::{Cell, RefCell};
use std::collections::BTreeMap;
use std::future::Future;
use std::pin::Pin;
use std::rc::Rc;
use std::task::{Context, Poll, Waker};

use crate::sync::Clock;

#[derive(Debug, Default)]
struct ClockInner {
    now: u64,
    timers: BTreeMap<(u64, u64), Waker>,
    next_id: u64,
}

/// A shared virtual clock (clones share the time).
#[derive(Debug, Clone, Default)]
pub struct VirtualClock {
    inner: Rc<RefCell<ClockInner>>,
}

impl VirtualClock {
    /// A clock at `start_ms`.
    pub fn new(start_ms: u64) -> Self {
        let clock = VirtualClock::default();
        clock.inner.borrow_mut().now = start_ms;
        clock
    }

    /// The current time.
    pub fn now(&self) -> u64 {
        self.inner.borrow().now
    }

    /// The earliest pending timer.
    pub fn next_deadline(&self) -> Option<u64> {
        self.inner.borrow().timers.keys().next().map(|(at, _)| *at)
    }

    /// Moves time forward to `at` (never backwards) and wakes every timer due by then.
    pub fn advance_to(&self, at: u64) {
        let due: Vec<Waker> = {
            let mut inner = self.inner.borrow_mut();
            inner.now = inner.now.max(at);
            let now = inner.now;
            let later = inner.timers.split_off(&(now.saturating_add(1), 0));
            let due = std::mem::replace(&mut inner.timers, later);
            due.into_values().collect()
        };
        for waker in due {
            waker.wake();
        }
    }

    /// Moves time forward by `ms`.
    pub fn advance_by(&self, ms: u64) {
        let now = self.now();
        self.advance_to(now.saturating_add(ms));
    }

    /// A future that completes at `deadline_ms`.
    pub fn sleep(&self, deadline_ms: u64) -> Sleep {
        Sleep {
            clock: self.clone(),
            deadline: deadline_ms,
            id: None,
        }
    }
}

/// The future of [`VirtualClock::sleep`]; dropping it cancels its timer.
#[derive(Debug)]
pub struct Sleep {
    clock: VirtualClock,
    deadline: u64,
    id: Option<u64>,
}

impl Future for Sleep {
    type Output = ();

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        let deadline = self.deadline;
        let mut inner = self.clock.inner.borrow_mut();
        if inner.now >= deadline {
            if let Some(id) = self.id {
                inner.timers.remove(&(deadline, id));
            }
            drop(inner);
            self.id = None;
            return Poll::Ready(());
        }
        let id = match self.id {
            Some(id) => id,
            None => {
                let id = inner.next_id;
                inner.next_id += 1;
                id
            }
        };
        inner.timers.insert((deadline, id), cx.waker().clone());
        drop(inner);
        self.id = Some(id);
        Poll::Pending
    }
}

impl Drop for Sleep {
    fn drop(&mut self) {
        if let Some(id) = self.id {
            if let Ok(mut inner) = self.clock.inner.try_borrow_mut() {
                inner.timers.remove(&(self.deadline, id));
            }
        }
    }
}

impl Clock for VirtualClock {
    fn now_ms(&self) -> u64 {
        self.now()
    }

    async fn sleep_until(&self, deadline_ms: u64) {
        self.sleep(deadline_ms).await
    }
}

/// A clock whose time jumps to every deadline slept until, so a sleep returns at once: for code
/// whose waits (backoff, timeouts) a test wants to skip rather than schedule.
#[derive(Debug, Default)]
pub struct InstantClock(Cell<u64>);

impl Clock for InstantClock {
    fn now_ms(&self) -> u64 {
        self.0.get()
    }

    async fn sleep_until(&self, deadline_ms: u64) {
        self.0.set(self.0.get().max(deadline_ms));
    }
}
