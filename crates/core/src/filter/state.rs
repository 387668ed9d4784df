//! What a filter reads of a model state: [`FilterState`], the one entry point through which every
//! operator, composite condition, key pattern and sort key sees members. A decoded [`Struct`] is
//! one; the view's packed states are another (they answer without being decoded), so the one
//! definition of the operators (`Operand::test`, over [`Scalar`]s, array elements and lengths)
//! runs over both.

use super::{member_at, Steps};
use crate::bytes32::Felt;
use crate::value::{Primitive, Struct, Value};

/// A comparable member value, borrowed from whatever holds the state: the only kinds a filter
/// compares (structs, tuples and arrays are refused when a filter is compiled).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scalar<'a> {
    /// A primitive.
    Primitive(Primitive),
    /// An enum, by the name of its active variant.
    Variant(&'a str),
    /// `ByteArray` text.
    Text(&'a str),
}

impl<'a> Scalar<'a> {
    /// The comparable form of a value (`None` for structs, tuples and arrays).
    pub fn of(value: &'a Value) -> Option<Scalar<'a>> {
        match value {
            Value::Primitive(p) => Some(Scalar::Primitive(*p)),
            Value::Enum(e) => Some(Scalar::Variant(&e.variant)),
            Value::ByteArray(text) => Some(Scalar::Text(text)),
            _ => None,
        }
    }
}

/// A model state as filters see it. [`Filter::matches`](super::Filter::matches) and queries
/// read states only through this trait; a new operator compares what it returns (a new kind of
/// member read is a method here, implemented for `Struct` and for the view's packed states).
pub trait FilterState {
    /// The model tag of the state.
    fn model(&self) -> &str;
    /// Whether this is a deletion (a state with no members).
    fn is_deletion(&self) -> bool;
    /// The comparable value at a member path (`(name, index hint)` steps from
    /// [`resolve_path`](super::resolve_path)): `None` when the state has no such member or it is
    /// not comparable.
    fn scalar(&self, steps: &Steps) -> Option<Scalar<'_>>;
    /// The elements of the array (or fixed-size array) member at a path, for the `contains*`
    /// operators: `None` when there is no such array or an element is not comparable.
    fn elements(&self, steps: &Steps) -> Option<Vec<Scalar<'_>>>;
    /// The length of the array (or fixed-size array) member at a path, for the
    /// `arrayLength*` operators.
    fn array_len(&self, steps: &Steps) -> Option<usize>;
    /// The key members serialized to felts in declaration order, for key patterns.
    fn key_felts(&self) -> Vec<Felt>;
}

impl FilterState for Struct {
    fn model(&self) -> &str {
        &self.name
    }

    fn is_deletion(&self) -> bool {
        self.members.is_empty()
    }

    fn scalar(&self, steps: &Steps) -> Option<Scalar<'_>> {
        Scalar::of(member_at(self, steps)?)
    }

    fn elements(&self, steps: &Steps) -> Option<Vec<Scalar<'_>>> {
        let items = array_items(member_at(self, steps)?)?;
        let mut scalars = Vec::with_capacity(items.len());
        for item in items {
            scalars.push(Scalar::of(item)?);
        }
        Some(scalars)
    }

    fn array_len(&self, steps: &Steps) -> Option<usize> {
        array_items(member_at(self, steps)?).map(<[Value]>::len)
    }

    fn key_felts(&self) -> Vec<Felt> {
        Struct::key_felts(self)
    }
}

/// The items of an array or fixed-size array value.
fn array_items(value: &Value) -> Option<&[Value]> {
    match value {
        Value::Array(items) | Value::FixedSizeArray(items) => Some(items),
        _ => None,
    }
}

impl<S: FilterState + ?Sized> FilterState for &S {
    fn model(&self) -> &str {
        (**self).model()
    }

    fn is_deletion(&self) -> bool {
        (**self).is_deletion()
    }

    fn scalar(&self, steps: &Steps) -> Option<Scalar<'_>> {
        (**self).scalar(steps)
    }

    fn elements(&self, steps: &Steps) -> Option<Vec<Scalar<'_>>> {
        (**self).elements(steps)
    }

    fn array_len(&self, steps: &Steps) -> Option<usize> {
        (**self).array_len(steps)
    }

    fn key_felts(&self) -> Vec<Felt> {
        (**self).key_felts()
    }
}
