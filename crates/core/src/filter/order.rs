//! Ordering query results by members (`orderBy: [{ member, direction? }]`): the totally
//! ordered values it compares ([`SortValue`]), and the cursor that continues after a result in
//! that order (a keyset: the last result's values and id, so paging neither skips nor repeats
//! an entity that did not change while writes stream in).

use std::cmp::Ordering;

use super::{
    is_orderable, resolve_path, At, FilterError, FilterState, ModelShapes, Scalar, Step, Steps,
};
use crate::bytes32::Felt;
use crate::entity::EntityId;
use crate::numeric::BigInt;
use crate::value::Value;

/// A member value with a total order: an exact number (any Cairo integer or felt) or text
/// (`ByteArray`, byte-wise). Numbers order before text (one member never holds both).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct SortValue(Inner);

#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
enum Inner {
    Number(BigInt),
    Text(String),
}

impl SortValue {
    /// The sort value of a member value: numbers and `ByteArray`; `None` for other types
    /// (`bool`, enums, structs, arrays have no order).
    pub fn of(value: &Value) -> Option<SortValue> {
        SortValue::of_scalar(Scalar::of(value)?)
    }

    /// The sort value of a comparable member value (as a [`FilterState`] reads it): numbers and
    /// `ByteArray`; `None` for `bool` and enums.
    pub fn of_scalar(value: Scalar<'_>) -> Option<SortValue> {
        match value {
            Scalar::Primitive(p) => p.as_bigint().map(|n| SortValue(Inner::Number(n))),
            Scalar::Text(text) => Some(SortValue(Inner::Text(text.to_owned()))),
            Scalar::Variant(_) => None,
        }
    }

    pub(crate) fn number(value: BigInt) -> SortValue {
        SortValue(Inner::Number(value))
    }

    pub(crate) fn text(value: String) -> SortValue {
        SortValue(Inner::Text(value))
    }

    fn encode(&self) -> String {
        match &self.0 {
            Inner::Number(n) => {
                let mut out = String::with_capacity(66);
                out.push_str(if n.negative { "n-" } else { "n+" });
                for byte in n.magnitude {
                    out.push_str(&format!("{byte:02x}"));
                }
                out
            }
            Inner::Text(text) => format!("t{text}"),
        }
    }

    fn decode(text: &str) -> Option<SortValue> {
        if let Some(rest) = text.strip_prefix('t') {
            return Some(SortValue::text(rest.to_owned()));
        }
        let (negative, hex) = match text.strip_prefix("n-") {
            Some(hex) => (true, hex),
            None => (false, text.strip_prefix("n+")?),
        };
        let bytes = hex.as_bytes();
        if bytes.len() != 64 {
            return None;
        }
        let mut magnitude = [0u8; 32];
        for (byte, pair) in magnitude.iter_mut().zip(bytes.chunks(2)) {
            let pair = std::str::from_utf8(pair).ok()?;
            *byte = u8::from_str_radix(pair, 16).ok()?;
        }
        let zero = magnitude == [0u8; 32];
        Some(SortValue::number(BigInt {
            negative: negative && !zero,
            magnitude,
        }))
    }
}

/// Ascending or descending.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum Direction {
    /// Smallest first (the default).
    #[default]
    Asc,
    /// Largest first.
    Desc,
}

/// One `orderBy` entry as written.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OrderSpec {
    /// Dotted member path (a number or `ByteArray` member).
    pub member: String,
    /// `asc` (default) or `desc`.
    pub direction: Direction,
}

/// The sort values of one state, one per `orderBy` entry (`None` where the member is absent).
pub type SortKey = Vec<Option<SortValue>>;

#[derive(Debug, Clone, PartialEq)]
struct OrderKey {
    steps: Steps,
    descending: bool,
}

/// A compiled `orderBy`: results by these members in turn, then by ascending entity id; with
/// the position of a previous page's last result when the query continues one.
#[derive(Debug, Clone, PartialEq)]
pub struct OrderBy {
    keys: Vec<OrderKey>,
    after: Option<(SortKey, EntityId)>,
}

/// A cursor is this prefix, the entity id (`0x` hex), then for each sort value `,-` (absent) or
/// `,` + the byte length of its encoding + `:` + the encoding (`n+`/`n-` and 64 hex digits, or
/// `t` and the text, which may hold anything). Not JSON: reading JSON text would bring
/// serde_json's parser into the page's wasm module for this alone.
const CURSOR_PREFIX: &str = "ob2:";

impl OrderBy {
    /// Checks `orderBy` (each entry an orderable member) and the cursor.
    pub(crate) fn compile(
        model: &str,
        specs: &[OrderSpec],
        cursor: Option<&str>,
        shapes: &impl ModelShapes,
    ) -> Result<OrderBy, FilterError> {
        let shape = shapes
            .model_shape(model)
            .ok_or_else(|| FilterError::UnknownModel {
                model: model.to_owned(),
            })?;
        let mut keys = Vec::with_capacity(specs.len());
        for spec in specs {
            let at = At {
                model,
                path: &spec.member,
            };
            let (steps, ty) = resolve_path(shape, &at)?;
            if !is_orderable(ty) {
                return Err(FilterError::NotOrderable {
                    model: model.to_owned(),
                    path: spec.member.clone(),
                    ty: ty.to_string(),
                });
            }
            keys.push(OrderKey {
                steps,
                descending: spec.direction == Direction::Desc,
            });
        }
        let after = cursor
            .map(|text| {
                decode_cursor(text, keys.len())
                    .ok_or_else(|| FilterError::BadCursor(text.chars().take(80).collect()))
            })
            .transpose()?;
        Ok(OrderBy { keys, after })
    }

    /// The member paths ordered by, each with whether it is descending.
    pub fn members(&self) -> impl Iterator<Item = (String, bool)> + '_ {
        self.keys.iter().map(|k| {
            let path: Vec<&str> = k.steps.iter().map(Step::name).collect();
            (path.join("."), k.descending)
        })
    }

    /// The sort key of a state.
    pub fn key_of(&self, state: &(impl FilterState + ?Sized)) -> SortKey {
        self.keys
            .iter()
            .map(|k| state.scalar(&k.steps).and_then(SortValue::of_scalar))
            .collect()
    }

    /// The order of two results: by each member in its direction, then by ascending id.
    pub fn compare(&self, a: (&SortKey, &EntityId), b: (&SortKey, &EntityId)) -> Ordering {
        for ((key, x), y) in self.keys.iter().zip(a.0).zip(b.0) {
            let order = x.cmp(y);
            let order = if key.descending {
                order.reverse()
            } else {
                order
            };
            if order != Ordering::Equal {
                return order;
            }
        }
        a.1.cmp(b.1)
    }

    /// Whether a result comes after the cursor's position (always, without a cursor).
    pub fn after_cursor(&self, key: &SortKey, id: &EntityId) -> bool {
        self.after
            .as_ref()
            .is_none_or(|(at, at_id)| self.compare((key, id), (at, at_id)) == Ordering::Greater)
    }

    /// The cursor continuing after the result with this key and id.
    pub fn cursor(key: &SortKey, id: &EntityId) -> String {
        let mut out = format!("{CURSOR_PREFIX}{}", id.to_hex());
        for value in key {
            match value {
                None => out.push_str(",-"),
                Some(value) => {
                    let encoded = value.encode();
                    out.push_str(&format!(",{}:{encoded}", encoded.len()));
                }
            }
        }
        out
    }
}

/// The sort values and entity id of a cursor ([`CURSOR_PREFIX`]) of `arity` values.
fn decode_cursor(text: &str, arity: usize) -> Option<(SortKey, EntityId)> {
    let body = text.strip_prefix(CURSOR_PREFIX)?;
    let (id, mut rest) = body.split_at_checked(body.find(',').unwrap_or(body.len()))?;
    let id = Felt::from_hex(id).ok()?;
    let mut key = SortKey::with_capacity(arity);
    while let Some(item) = rest.strip_prefix(',') {
        if let Some(after) = item.strip_prefix('-') {
            key.push(None);
            rest = after;
            continue;
        }
        let (len, after) = item.split_once(':')?;
        let len: usize = len.parse().ok()?;
        key.push(Some(SortValue::decode(after.get(..len)?)?));
        rest = after.get(len..)?;
    }
    (rest.is_empty() && key.len() == arity).then_some((key, id))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cursors_read_back_what_they_hold_and_refuse_anything_else() {
        let id = Felt::from(7u128);
        let key: SortKey = vec![
            Some(SortValue::text("a,b:-c,\"\\ é".to_owned())),
            None,
            Some(SortValue::number(BigInt::from_i128(-42))),
            Some(SortValue::text(String::new())),
        ];
        let cursor = OrderBy::cursor(&key, &id);
        assert_eq!(decode_cursor(&cursor, 4), Some((key.clone(), id)));
        // Another number of values, a cut, a trailing byte, a bad length: refused.
        assert_eq!(decode_cursor(&cursor, 3), None);
        for bad in [
            cursor[..cursor.len() - 1].to_owned(),
            format!("{cursor}x"),
            format!("{cursor},"),
            cursor.replacen("ob2:", "ob1:", 1),
            format!("ob2:{},99:t", id.to_hex()),
            "ob2:".to_owned(),
        ] {
            assert_eq!(decode_cursor(&bad, 4), None, "{bad}");
        }
        assert_eq!(
            decode_cursor(&OrderBy::cursor(&Vec::new(), &id), 0),
            Some((Vec::new(), id))
        );
    }
}
