//! Delivery faults of one subscription stream: duplicated messages (a copy sent right after the
//! original or after `lag` later messages) and reordered messages (held in windows and sent in a
//! seeded shuffle). The messages themselves are never changed: a late copy or a message moved
//! back carries the version fields (`updated_at`, `executed_at`, game members) of the write it
//! reports, as a late delivery of a real Torii update would.
//!
//! [`Delivery`] is the per-stream state; the pending counts and the shuffle's random source
//! live in [`Faults`] (set through the control API), so every stream takes from the same budget.

use std::collections::VecDeque;
use std::time::Duration;

use crate::faults::Faults;

/// How long a stream waits, with messages held back, for the next message before it sends
/// what it holds (an unfilled window shuffled, late copies in their order).
pub const HOLD: Duration = Duration::from_secs(1);

/// The delivery state of one stream: messages ready to send, late copies waiting for their turn,
/// and the reorder window being filled.
#[derive(Debug)]
pub struct Delivery<T> {
    ready: VecDeque<T>,
    /// Copies still to wait for this many sent messages.
    late: Vec<(u32, T)>,
    window: Vec<T>,
    window_size: usize,
}

impl<T> Default for Delivery<T> {
    fn default() -> Self {
        Delivery {
            ready: VecDeque::new(),
            late: Vec::new(),
            window: Vec::new(),
            window_size: 0,
        }
    }
}

impl<T: Clone> Delivery<T> {
    /// Takes a message that arrived for the stream, applying the pending delivery faults.
    pub fn push(&mut self, message: T, faults: &Faults) {
        match faults.take_reorder() {
            Some(size) => {
                self.window_size = size;
                self.window.push(message);
                if self.window.len() >= self.window_size {
                    self.release_window(faults);
                }
            }
            None => {
                self.release_window(faults);
                self.emit(message, faults);
            }
        }
    }

    /// The next message to send, if one is ready.
    pub fn pop(&mut self) -> Option<T> {
        self.ready.pop_front()
    }

    /// Whether messages are held back (a window being filled, or late copies).
    pub fn holding(&self) -> bool {
        !self.window.is_empty() || !self.late.is_empty()
    }

    /// Makes everything held ready: the window shuffled, then the late copies in their order.
    /// Called after [`HOLD`] without a new message and when the stream's source has ended.
    pub fn flush(&mut self, faults: &Faults) {
        self.release_window(faults);
        let mut late = std::mem::take(&mut self.late);
        late.sort_by_key(|(remaining, _)| *remaining);
        self.ready.extend(late.into_iter().map(|(_, copy)| copy));
    }

    /// Shuffles the window into the ready messages.
    fn release_window(&mut self, faults: &Faults) {
        if self.window.is_empty() {
            return;
        }
        let mut window = std::mem::take(&mut self.window);
        faults.shuffle(&mut window);
        for message in window {
            self.emit(message, faults);
        }
    }

    /// Makes `message` ready, followed by the late copies now due, and schedules its own copy
    /// when a duplicate is pending.
    fn emit(&mut self, message: T, faults: &Faults) {
        let copy = faults.take_duplicate().map(|lag| (lag, message.clone()));
        self.ready.push_back(message);
        let mut index = 0;
        while index < self.late.len() {
            let Some(entry) = self.late.get_mut(index) else {
                break;
            };
            entry.0 = entry.0.saturating_sub(1);
            if entry.0 == 0 {
                let (_, due) = self.late.remove(index);
                self.ready.push_back(due);
            } else {
                index += 1;
            }
        }
        match copy {
            Some((0, copy)) => self.ready.push_back(copy),
            Some(late) => self.late.push(late),
            None => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn drain(delivery: &mut Delivery<u32>) -> Vec<u32> {
        std::iter::from_fn(|| delivery.pop()).collect()
    }

    #[test]
    fn without_faults_messages_pass_in_order() {
        let faults = Faults::default();
        let mut delivery = Delivery::default();
        for n in 0..5 {
            delivery.push(n, &faults);
        }
        assert!(!delivery.holding());
        assert_eq!(drain(&mut delivery), vec![0, 1, 2, 3, 4]);
    }

    #[test]
    fn duplicates_follow_at_once_or_after_the_lag() {
        let faults = Faults::default();
        faults.set_duplicate(2, 0);
        let mut delivery = Delivery::default();
        for n in 0..4 {
            delivery.push(n, &faults);
        }
        assert_eq!(drain(&mut delivery), vec![0, 0, 1, 1, 2, 3]);
        assert_eq!(faults.pending_duplicates(), 0);

        faults.set_duplicate(1, 2);
        for n in 10..14 {
            delivery.push(n, &faults);
        }
        assert_eq!(drain(&mut delivery), vec![10, 11, 12, 10, 13]);

        faults.set_duplicate(1, 5);
        delivery.push(20, &faults);
        assert!(delivery.holding(), "the copy waits for later messages");
        delivery.flush(&faults);
        assert_eq!(drain(&mut delivery), vec![20, 20]);
    }

    #[test]
    fn reorder_shuffles_each_window_and_keeps_every_message() {
        let faults = Faults::default();
        faults.set_reorder(8, 4, 3);
        let mut delivery = Delivery::default();
        for n in 0..10 {
            delivery.push(n, &faults);
        }
        let sent = drain(&mut delivery);
        assert_eq!(sent.len(), 10);
        let (first, second) = sent.split_at(4);
        let mut a = first.to_vec();
        a.sort_unstable();
        assert_eq!(a, vec![0, 1, 2, 3], "the first window holds the first four");
        let mut b = second[..4].to_vec();
        b.sort_unstable();
        assert_eq!(b, vec![4, 5, 6, 7]);
        assert_eq!(&second[4..], &[8, 9], "after the budget, order is kept");
        assert_ne!(
            &sent[..8],
            &[0, 1, 2, 3, 4, 5, 6, 7],
            "the windows are shuffled"
        );
        assert_eq!(faults.pending_reorder(), 0);
    }

    #[test]
    fn reorder_is_deterministic_for_a_seed() {
        let run = |seed| {
            let faults = Faults::default();
            faults.set_reorder(16, 16, seed);
            let mut delivery = Delivery::default();
            for n in 0..16 {
                delivery.push(n, &faults);
            }
            drain(&mut delivery)
        };
        assert_eq!(run(9), run(9));
        assert_ne!(run(9), run(10));
    }

    #[test]
    fn an_unfilled_window_is_released_by_flush_or_the_next_plain_message() {
        let faults = Faults::default();
        faults.set_reorder(3, 8, 1);
        let mut delivery = Delivery::default();
        for n in 0..3 {
            delivery.push(n, &faults);
        }
        assert!(delivery.holding());
        assert_eq!(drain(&mut delivery), Vec::<u32>::new());
        delivery.push(3, &faults);
        let sent = drain(&mut delivery);
        assert_eq!(sent.len(), 4);
        assert_eq!(
            sent[3], 3,
            "the held window goes before the message after it"
        );

        faults.set_reorder(2, 8, 1);
        delivery.push(4, &faults);
        delivery.push(5, &faults);
        delivery.flush(&faults);
        let mut rest = drain(&mut delivery);
        rest.sort_unstable();
        assert_eq!(rest, vec![4, 5]);
        assert!(!delivery.holding());
    }
}
