//! One step of a compiled member path ([`Step`]), and the index of its name that a state
//! holding names by index (the view's packed states) looks up once, not once per state.

use std::fmt;
use std::sync::atomic::{AtomicU64, Ordering};

/// A member path step: the member's name and its index in the model's shape (a hint: a state
/// that differs finds the member by name). It remembers its name's index in the last name
/// table asked ([`Step::name_index`]), so a scan over states sharing a table compares integers.
pub struct Step {
    name: String,
    hint: usize,
    /// `table << 32 | index` of the last lookup that found the name; 0 when none did.
    memo: AtomicU64,
}

impl Step {
    /// A step to the member `name`, expected at index `hint`.
    pub fn new(name: impl Into<String>, hint: usize) -> Step {
        Step {
            name: name.into(),
            hint,
            memo: AtomicU64::new(0),
        }
    }

    /// The member's name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The member's index in the model's shape.
    pub fn hint(&self) -> usize {
        self.hint
    }

    /// The index of the name in the name table numbered `table` (non-zero, unique to the table;
    /// a table only grows, so an index found stays true): remembered from the last call for
    /// that table, else looked up with `find`. `None` when the table lacks the name (looked up
    /// again next time: the table may have grown).
    #[inline]
    pub fn name_index(&self, table: u32, find: impl FnOnce(&str) -> Option<u32>) -> Option<u32> {
        let memo = self.memo.load(Ordering::Relaxed);
        if memo >> 32 == u64::from(table) && table != 0 {
            return Some(memo as u32);
        }
        let index = find(&self.name)?;
        self.memo.store(
            (u64::from(table) << 32) | u64::from(index),
            Ordering::Relaxed,
        );
        Some(index)
    }
}

impl Clone for Step {
    fn clone(&self) -> Step {
        Step {
            name: self.name.clone(),
            hint: self.hint,
            memo: AtomicU64::new(self.memo.load(Ordering::Relaxed)),
        }
    }
}

impl PartialEq for Step {
    fn eq(&self, other: &Step) -> bool {
        self.name == other.name && self.hint == other.hint
    }
}

impl Eq for Step {}

impl fmt::Debug for Step {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}@{}", self.name, self.hint)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_name_index_is_looked_up_once_per_table_and_never_remembered_absent() {
        let step = Step::new("hp", 1);
        let mut lookups = 0;
        let find = |found: Option<u32>| {
            move |name: &str| {
                assert_eq!(name, "hp");
                found
            }
        };
        assert_eq!(step.name_index(1, find(None)), None);
        for _ in 0..3 {
            assert_eq!(
                step.name_index(1, |n| {
                    lookups += 1;
                    find(Some(7))(n)
                }),
                Some(7)
            );
        }
        assert_eq!(lookups, 1);
        // Another table: looked up there, and the first table's index is not reused.
        assert_eq!(step.name_index(2, find(Some(3))), Some(3));
        assert_eq!(step.name_index(1, find(Some(7))), Some(7));
        assert_eq!(step.clone(), step);
    }
}
