//! The range of values a filter allows one member in, read from its top-level `eq`, `gt`,
//! `gte`, `lt` and `lte` conditions (and named keys): what an ordered index on the member needs
//! to read only the entities that can match.

use std::ops::Bound;

use super::operand::Operand;
use super::order::SortValue;
use super::{Filter, FilterOp};

/// A range of member values; either end may be open.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MemberBounds {
    /// The smallest value allowed.
    pub lower: Bound<SortValue>,
    /// The largest value allowed.
    pub upper: Bound<SortValue>,
}

impl MemberBounds {
    /// Whether `value` lies in the range.
    pub fn contains(&self, value: &SortValue) -> bool {
        self.above_lower(value) && self.below_upper(value)
    }

    /// Whether `value` is not below the lower end.
    pub fn above_lower(&self, value: &SortValue) -> bool {
        match &self.lower {
            Bound::Included(low) => value >= low,
            Bound::Excluded(low) => value > low,
            Bound::Unbounded => true,
        }
    }

    /// Whether `value` is not above the upper end.
    pub fn below_upper(&self, value: &SortValue) -> bool {
        match &self.upper {
            Bound::Included(high) => value <= high,
            Bound::Excluded(high) => value < high,
            Bound::Unbounded => true,
        }
    }

    fn narrow(&mut self, op: FilterOp, value: SortValue) {
        let tighter_lower =
            |current: &Bound<SortValue>, new: &Bound<SortValue>| match (current, new) {
                (Bound::Unbounded, _) => true,
                (Bound::Included(a) | Bound::Excluded(a), Bound::Included(b)) => b > a,
                (Bound::Included(a), Bound::Excluded(b)) => b >= a,
                (Bound::Excluded(a), Bound::Excluded(b)) => b > a,
                (_, Bound::Unbounded) => false,
            };
        let tighter_upper =
            |current: &Bound<SortValue>, new: &Bound<SortValue>| match (current, new) {
                (Bound::Unbounded, _) => true,
                (Bound::Included(a) | Bound::Excluded(a), Bound::Included(b)) => b < a,
                (Bound::Included(a), Bound::Excluded(b)) => b <= a,
                (Bound::Excluded(a), Bound::Excluded(b)) => b < a,
                (_, Bound::Unbounded) => false,
            };
        let (lower, upper) = match op {
            FilterOp::Eq => (Bound::Included(value.clone()), Bound::Included(value)),
            FilterOp::Gt => (Bound::Excluded(value), Bound::Unbounded),
            FilterOp::Gte => (Bound::Included(value), Bound::Unbounded),
            FilterOp::Lt => (Bound::Unbounded, Bound::Excluded(value)),
            FilterOp::Lte => (Bound::Unbounded, Bound::Included(value)),
            _ => return,
        };
        if tighter_lower(&self.lower, &lower) {
            self.lower = lower;
        }
        if tighter_upper(&self.upper, &upper) {
            self.upper = upper;
        }
    }
}

fn sort_value(operand: &Operand) -> Option<SortValue> {
    match operand {
        Operand::Primitive(p) => p.as_bigint().map(SortValue::number),
        Operand::Text(text) => Some(SortValue::text(text.clone())),
        Operand::Variant { .. } | Operand::List(_) => None,
    }
}

impl Filter {
    /// The range the filter allows the member at `path` in, from its top-level conditions
    /// (every match lies in it); `None` when none of them bounds the member.
    pub fn bounds(&self, path: &str) -> Option<MemberBounds> {
        let mut bounds = MemberBounds {
            lower: Bound::Unbounded,
            upper: Bound::Unbounded,
        };
        let mut bounded = false;
        let keys = self
            .keys
            .iter()
            .filter(|k| k.name == path)
            .map(|k| (FilterOp::Eq, &k.operand));
        let predicates = self
            .predicates
            .iter()
            .filter(|p| p.path == path)
            .map(|p| (p.op, &p.operand));
        for (op, operand) in keys.chain(predicates) {
            if let (true, Some(value)) = (
                matches!(
                    op,
                    FilterOp::Eq | FilterOp::Gt | FilterOp::Gte | FilterOp::Lt | FilterOp::Lte
                ),
                sort_value(operand),
            ) {
                bounds.narrow(op, value);
                bounded = true;
            }
        }
        bounded.then_some(bounds)
    }
}
