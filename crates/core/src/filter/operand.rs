//! Filter values: parsed from JSON against the member's type, compared with core values.

use std::cmp::Ordering;

use serde_json::Value as Json;

use super::{text_cmp, At, FilterError, FilterOp, FilterState, Scalar, Steps};
use crate::bytes32::Felt;
use crate::clause::MemberValue;
use crate::numeric::{BigInt, FitError};
use crate::schema::{PrimitiveType, Ty};
use crate::value::Primitive;

/// A typed filter operand.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Operand {
    /// A value of the member's primitive type.
    Primitive(Primitive),
    /// An enum variant, by name and option index.
    Variant { name: String, option: u32 },
    /// `ByteArray` text.
    Text(String),
    /// Operands of `in`.
    List(Vec<Operand>),
}

/// Short JSON text of a value, for error messages.
pub(crate) fn snippet(json: &Json) -> String {
    let text = crate::json_text::json_text(json);
    if text.chars().count() > 60 {
        format!("{}…", text.chars().take(60).collect::<String>())
    } else {
        text
    }
}

fn mismatch(at: &At<'_>, expected: String, found: &Json) -> FilterError {
    FilterError::TypeMismatch {
        model: at.model.to_owned(),
        path: at.path.to_owned(),
        expected,
        found: snippet(found),
    }
}

fn number(json: &Json, ty: PrimitiveType, at: &At<'_>) -> Result<Primitive, FilterError> {
    let bad = |text: String| FilterError::BadNumber {
        model: at.model.to_owned(),
        path: at.path.to_owned(),
        text,
    };
    let (value, text) = match json {
        Json::Number(n) => {
            let value = if let Some(v) = n.as_u64() {
                BigInt::from_i128(i128::from(v))
            } else if let Some(v) = n.as_i64() {
                BigInt::from_i128(i128::from(v))
            } else {
                return Err(bad(crate::json_text::number_text(n)));
            };
            (value, crate::json_text::number_text(n))
        }
        Json::String(s) => (
            BigInt::parse(s).ok_or_else(|| bad(s.chars().take(80).collect()))?,
            s.clone(),
        ),
        other => return Err(mismatch(at, format!("{} (a number)", ty.name()), other)),
    };
    value.fit(ty).map_err(|e| match e {
        FitError::OutOfRange | FitError::NotNumeric => FilterError::OutOfRange {
            model: at.model.to_owned(),
            path: at.path.to_owned(),
            text: text.chars().take(80).collect(),
            ty: ty.name(),
        },
    })
}

impl Operand {
    /// Parses one (non-list) value for a member of type `ty`.
    pub(crate) fn parse(json: &Json, ty: &Ty, at: &At<'_>) -> Result<Operand, FilterError> {
        match ty {
            Ty::Primitive(PrimitiveType::Bool) => match json {
                Json::Bool(b) => Ok(Operand::Primitive(Primitive::Bool(*b))),
                other => Err(mismatch(at, "bool (true or false)".to_owned(), other)),
            },
            Ty::Primitive(p) => number(json, *p, at).map(Operand::Primitive),
            Ty::ByteArray => match json {
                Json::String(s) => Ok(Operand::Text(s.clone())),
                other => Err(mismatch(at, "ByteArray (a string)".to_owned(), other)),
            },
            Ty::Enum { name, options } => {
                let variant = match json {
                    Json::String(s) => Some(s.as_str()),
                    Json::Object(map) if map.len() == 1 => {
                        map.get("variant").and_then(Json::as_str)
                    }
                    _ => None,
                };
                let Some(variant) = variant else {
                    return Err(mismatch(at, format!("enum {name} (a variant name)"), json));
                };
                let option = options
                    .iter()
                    .position(|(n, _)| n == variant)
                    .and_then(|i| u32::try_from(i).ok())
                    .ok_or_else(|| FilterError::UnknownVariant {
                        model: at.model.to_owned(),
                        path: at.path.to_owned(),
                        variant: variant.chars().take(80).collect(),
                        options: options
                            .iter()
                            .map(|(n, _)| n.as_str())
                            .collect::<Vec<_>>()
                            .join(", "),
                    })?;
                Ok(Operand::Variant {
                    name: variant.to_owned(),
                    option,
                })
            }
            other => Err(FilterError::NotComparable {
                model: at.model.to_owned(),
                path: at.path.to_owned(),
                ty: other.to_string(),
            }),
        }
    }

    /// Compares a value with this (non-list) operand; `None` when not comparable.
    pub(crate) fn compare(&self, value: &Scalar<'_>) -> Option<Ordering> {
        match (value, self) {
            (Scalar::Primitive(v), Operand::Primitive(p)) => v.compare(p),
            (Scalar::Variant(variant), Operand::Variant { name, .. }) => {
                Some(text_cmp(variant, name))
            }
            (Scalar::Text(text), Operand::Text(t)) => Some(text_cmp(text, t)),
            _ => None,
        }
    }

    /// Whether `<member at steps> <op> self` holds for a state: the one definition of every
    /// operator's meaning, which agrees with Torii's (`crate::clause`), over any
    /// [`FilterState`] (decoded structs, the view's packed states). Comparisons are exact and
    /// typed; a value that is not comparable with the operand never matches (`neq` and `notIn`
    /// included). `in` / `notIn` take a list; `contains*` look for elements of an array member
    /// (`containsAll` of no elements holds, `containsAny` of none does not); `arrayLength*`
    /// compare its length.
    pub(crate) fn test(
        &self,
        op: FilterOp,
        state: &(impl FilterState + ?Sized),
        steps: &Steps,
    ) -> bool {
        use FilterOp as Op;
        let equal =
            |item: &Operand, value: &Scalar<'_>| item.compare(value) == Some(Ordering::Equal);
        match (op, self) {
            (Op::Contains | Op::ContainsAll | Op::ContainsAny, _) => {
                let Some(els) = state.elements(steps) else {
                    return false;
                };
                match (op, self) {
                    (Op::Contains, _) => els.iter().any(|e| equal(self, e)),
                    (Op::ContainsAll, Operand::List(items)) => {
                        items.iter().all(|item| els.iter().any(|e| equal(item, e)))
                    }
                    (Op::ContainsAny, Operand::List(items)) => {
                        items.iter().any(|item| els.iter().any(|e| equal(item, e)))
                    }
                    _ => false,
                }
            }
            (
                Op::ArrayLengthEq | Op::ArrayLengthGt | Op::ArrayLengthLt,
                Operand::Primitive(length),
            ) => state
                .array_len(steps)
                .and_then(|len| Primitive::U64(len as u64).compare(length))
                .is_some_and(|order| op.operator().accepts(order)),
            (Op::In | Op::NotIn, Operand::List(items)) => {
                let Some(value) = state.scalar(steps) else {
                    return false;
                };
                if op == Op::In {
                    items.iter().any(|item| equal(item, &value))
                } else {
                    items.iter().all(|item| {
                        item.compare(&value)
                            .is_some_and(|order| order != Ordering::Equal)
                    })
                }
            }
            (Op::Eq | Op::Neq | Op::Gt | Op::Gte | Op::Lt | Op::Lte, Operand::List(_)) => false,
            (Op::Eq | Op::Neq | Op::Gt | Op::Gte | Op::Lt | Op::Lte, _) => state
                .scalar(steps)
                .and_then(|value| self.compare(&value))
                .is_some_and(|order| op.operator().accepts(order)),
            _ => false,
        }
    }

    /// The operand as a Torii `MemberValue`.
    pub(crate) fn to_member_value(&self) -> MemberValue {
        match self {
            Operand::Primitive(p) => MemberValue::Primitive(*p),
            Operand::Variant { name, .. } => MemberValue::String(name.clone()),
            Operand::Text(text) => MemberValue::String(text.clone()),
            Operand::List(items) => {
                MemberValue::List(items.iter().map(Operand::to_member_value).collect())
            }
        }
    }

    /// The Cairo serialization of a key operand, when it has a fixed one (primitives and
    /// variants; not `ByteArray` or lists).
    pub(crate) fn key_felts(&self) -> Option<Vec<Felt>> {
        match self {
            Operand::Primitive(p) => {
                let mut out = Vec::with_capacity(2);
                p.serialize_felts(&mut out);
                Some(out)
            }
            Operand::Variant { option, .. } => Some(vec![Felt::from(u128::from(*option))]),
            Operand::Text(_) | Operand::List(_) => None,
        }
    }
}
