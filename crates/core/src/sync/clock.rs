//! Time for the synchronizer: injected, so tests run hours of backoff in milliseconds.

use std::rc::Rc;

/// A clock and timer.
#[allow(async_fn_in_trait)]
pub trait Clock {
    /// Milliseconds since the Unix epoch (or any fixed origin; only differences matter).
    fn now_ms(&self) -> u64;

    /// Completes once `now_ms() >= deadline_ms`. Must be cancel-safe.
    async fn sleep_until(&self, deadline_ms: u64);
}

impl<C: Clock + ?Sized> Clock for &C {
    fn now_ms(&self) -> u64 {
        (**self).now_ms()
    }

    async fn sleep_until(&self, deadline_ms: u64) {
        (**self).sleep_until(deadline_ms).await
    }
}

impl<C: Clock + ?Sized> Clock for Rc<C> {
    fn now_ms(&self) -> u64 {
        (**self).now_ms()
    }

    async fn sleep_until(&self, deadline_ms: u64) {
        (**self).sleep_until(deadline_ms).await
    }
}
