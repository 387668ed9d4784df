//! The synchronizer's clock in a browser: `Date.now()` and `setTimeout` timers that are cleared
//! when their future is dropped (the synchronizer races many of them).

use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};

use dojo_reactive_core::sync::Clock;
use js_sys::{Function, Promise, Reflect};
use wasm_bindgen::{JsCast, JsValue};
use wasm_bindgen_futures::JsFuture;

/// Wall-clock time and timers of the current global scope (window or worker).
#[derive(Debug, Clone, Copy, Default)]
pub struct BrowserClock;

/// A pending `setTimeout`; dropping it clears the timer.
struct Timer {
    id: Option<JsValue>,
    done: JsFuture,
}

fn global_function(name: &str) -> Option<Function> {
    Reflect::get(&js_sys::global(), &JsValue::from_str(name))
        .ok()?
        .dyn_into::<Function>()
        .ok()
}

impl Timer {
    fn new(ms: u64) -> Timer {
        let mut id = None;
        let delay = JsValue::from_f64(ms.min(i32::MAX as u64) as f64);
        let promise = Promise::new(&mut |resolve, _reject| {
            id = global_function("setTimeout")
                .and_then(|set| set.call2(&js_sys::global(), &resolve, &delay).ok());
            if id.is_none() {
                // No timers in this scope: resolve at once (the caller re-checks the time).
                let _ = resolve.call0(&JsValue::UNDEFINED);
            }
        });
        Timer {
            id,
            done: JsFuture::from(promise),
        }
    }
}

impl Future for Timer {
    type Output = ();

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        match Pin::new(&mut self.done).poll(cx) {
            Poll::Ready(_) => {
                self.id = None;
                Poll::Ready(())
            }
            Poll::Pending => Poll::Pending,
        }
    }
}

impl Drop for Timer {
    fn drop(&mut self) {
        if let (Some(id), Some(clear)) = (self.id.take(), global_function("clearTimeout")) {
            let _ = clear.call1(&js_sys::global(), &id);
        }
    }
}

impl Clock for BrowserClock {
    fn now_ms(&self) -> u64 {
        js_sys::Date::now() as u64
    }

    async fn sleep_until(&self, deadline_ms: u64) {
        loop {
            let now = self.now_ms();
            if now >= deadline_ms {
                return;
            }
            // Timers may fire a little early against Date.now(); wait again for the rest.
            Timer::new(deadline_ms - now).await;
        }
    }
}

/// Yields to the scope's event loop (a `setTimeout` of 0): the messages and network answers
/// waiting run before the caller goes on.
pub(crate) async fn yield_task() {
    Timer::new(0).await;
}
