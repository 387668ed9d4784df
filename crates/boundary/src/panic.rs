//! The module's panic hook: a panic's message is recorded before the module traps, so the JS
//! side can turn the trap that follows (`RuntimeError: unreachable`) into an error carrying it
//! (`takePanicMessage`). The previous hook still runs (natively: the usual report on stderr).

use std::cell::RefCell;
use std::sync::Once;

use wasm_bindgen::prelude::*;

thread_local! {
    /// The last panic's message, until taken.
    static LAST_PANIC: RefCell<Option<String>> = const { RefCell::new(None) };
}

/// Installs the hook (once; later calls do nothing). `View::new` and `SyncWorker::start` call it.
pub fn install() {
    static INSTALL: Once = Once::new();
    INSTALL.call_once(|| {
        let previous = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |info| {
            let message = info.to_string();
            LAST_PANIC.with(|slot| {
                if let Ok(mut slot) = slot.try_borrow_mut() {
                    *slot = Some(message);
                }
            });
            previous(info);
        }));
    });
}

/// The message of the last panic (location and text), once: `undefined` when none happened
/// since the last call.
#[wasm_bindgen(js_name = takePanicMessage)]
pub fn take_panic_message() -> Option<String> {
    LAST_PANIC.with(|slot| slot.try_borrow_mut().ok().and_then(|mut slot| slot.take()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_panic_message_is_recorded_and_taken_once() {
        install();
        install();
        let _ = take_panic_message();
        let result = std::panic::catch_unwind(|| panic!("the replica lost entity 7"));
        assert!(result.is_err());
        let message = take_panic_message().expect("the hook recorded the panic");
        assert!(message.contains("the replica lost entity 7"), "{message}");
        assert!(
            message.contains("panic.rs"),
            "the location is kept: {message}"
        );
        assert_eq!(take_panic_message(), None, "taken once");
    }
}
