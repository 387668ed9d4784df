//! A plain-Rust mirror of Torii's `types.Clause` (subscription and query filters), and an
//! evaluator of its semantics on core values.
//!
//! The transport converts [`Clause`] to and from the wire; the evaluator is the reference the
//! filter DSL is tested against and that a mock server can filter with.
//!
//! # Semantics of [`Clause::matches`] on an entity (its id and model states)
//!
//! - A model state with no members (a deletion) counts as absent: it matches no `Keys` or
//!   `Member` clause.
//! - `HashedKeys`: the entity id is one of the listed ids; an empty list matches every entity.
//! - `Keys`: some present model (one of `models`, or any when `models` is empty) has key felts
//!   ([`Struct::key_felts`]) matching the pattern: `FixedLen` needs as many felts as pattern
//!   slots, `VariableLen` at least as many; a `None` slot matches any felt.
//! - `Member`: the model `model` is present and the member at the dotted path compares with the
//!   value. Primitives compare exactly by number ([`Primitive::compare`]) or truth value; a
//!   string operand compares with a number when it parses as one (decimal or `0x` hex), with an
//!   enum by variant name, with a `ByteArray` as text (byte-wise order). `IN`/`NOT_IN` take a
//!   list; `CONTAINS*` look inside arrays and tuples (`CONTAINS` on a `ByteArray` is substring);
//!   `ARRAY_LENGTH_*` compare an array's length. Incomparable values never match (`NEQ` and
//!   `NOT_IN` included).
//! - `Composite`: `AND` of no clauses is true, `OR` of no clauses is false.

use std::cmp::Ordering;

use crate::bytes32::Felt;
use crate::entity::EntityId;
use crate::numeric::BigInt;
use crate::value::{Primitive, Struct, Value};

/// Torii's `Clause`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Clause {
    /// `HashedKeysClause`: entities with one of these ids (empty: all).
    HashedKeys(Vec<EntityId>),
    /// `KeysClause`.
    Keys(KeysClause),
    /// `MemberClause`.
    Member(MemberClause),
    /// `CompositeClause`.
    Composite(CompositeClause),
}

/// Torii's `PatternMatching`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum PatternMatching {
    /// Exactly as many keys as pattern slots.
    FixedLen,
    /// At least as many keys as pattern slots (a prefix match).
    VariableLen,
}

/// Torii's `KeysClause`: key felts with wildcards (`None`, an empty `bytes` on the wire).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeysClause {
    /// Pattern slots.
    pub keys: Vec<Option<Felt>>,
    /// How the length is matched.
    pub pattern_matching: PatternMatching,
    /// Model tags the entity must have one of (empty: any).
    pub models: Vec<String>,
}

/// Torii's `ComparisonOperator`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[allow(missing_docs)]
pub enum ComparisonOperator {
    Eq,
    Neq,
    Gt,
    Gte,
    Lt,
    Lte,
    In,
    NotIn,
    Contains,
    ContainsAll,
    ContainsAny,
    ArrayLengthEq,
    ArrayLengthGt,
    ArrayLengthLt,
}

impl ComparisonOperator {
    /// Whether a value (for `ArrayLength*`, an array's length) that compares `order` with the
    /// operand passes this operator: the one reading of the ordering operators (clauses and the
    /// query filter alike); false for the list operators.
    pub fn accepts(self, order: Ordering) -> bool {
        match self {
            Self::Eq | Self::ArrayLengthEq => order == Ordering::Equal,
            Self::Neq => order != Ordering::Equal,
            Self::Gt | Self::ArrayLengthGt => order == Ordering::Greater,
            Self::Gte => order != Ordering::Less,
            Self::Lt | Self::ArrayLengthLt => order == Ordering::Less,
            Self::Lte => order != Ordering::Greater,
            _ => false,
        }
    }
}

/// Torii's `MemberValue`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum MemberValue {
    /// A typed primitive.
    Primitive(Primitive),
    /// Text: an enum variant name, a `ByteArray`, or a number.
    String(String),
    /// A list (for `IN`, `NOT_IN`, `CONTAINS_ALL`, `CONTAINS_ANY`).
    List(Vec<MemberValue>),
}

/// Torii's `MemberClause`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MemberClause {
    /// Model tag.
    pub model: String,
    /// Dotted member path (`"pos.x"`).
    pub member: String,
    /// Comparison.
    pub operator: ComparisonOperator,
    /// Operand.
    pub value: MemberValue,
}

/// Torii's `LogicalOperator`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum LogicalOperator {
    /// All clauses.
    And,
    /// Any clause.
    Or,
}

/// Torii's `CompositeClause`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CompositeClause {
    /// How the clauses combine.
    pub operator: LogicalOperator,
    /// The clauses.
    pub clauses: Vec<Clause>,
}

impl Clause {
    /// Whether the entity with this id and these model states matches (see the module
    /// documentation for the exact semantics).
    pub fn matches(&self, id: &EntityId, models: &[Struct]) -> bool {
        match self {
            Clause::HashedKeys(ids) => ids.is_empty() || ids.contains(id),
            Clause::Keys(keys) => keys.matches(models),
            Clause::Member(member) => member.matches(models),
            Clause::Composite(composite) => match composite.operator {
                LogicalOperator::And => composite.clauses.iter().all(|c| c.matches(id, models)),
                LogicalOperator::Or => composite.clauses.iter().any(|c| c.matches(id, models)),
            },
        }
    }
}

impl KeysClause {
    fn matches(&self, models: &[Struct]) -> bool {
        models
            .iter()
            .filter(|m| !m.is_deletion())
            .filter(|m| self.models.is_empty() || self.models.iter().any(|tag| *tag == m.name))
            .any(|m| self.matches_keys(&m.key_felts()))
    }

    /// Whether these key felts match the pattern.
    pub fn matches_keys(&self, keys: &[Felt]) -> bool {
        let length_ok = match self.pattern_matching {
            PatternMatching::FixedLen => keys.len() == self.keys.len(),
            PatternMatching::VariableLen => keys.len() >= self.keys.len(),
        };
        length_ok
            && self
                .keys
                .iter()
                .zip(keys)
                .all(|(slot, key)| slot.is_none_or(|want| want == *key))
    }
}

impl MemberClause {
    fn matches(&self, models: &[Struct]) -> bool {
        models
            .iter()
            .filter(|m| m.name == self.model && !m.is_deletion())
            .any(|m| {
                m.get_path(&self.member)
                    .is_some_and(|value| evaluate(value, self.operator, &self.value))
            })
    }
}

/// Compares a value with a non-list operand; `None` when they are not comparable.
pub(crate) fn compare_operand(value: &Value, operand: &MemberValue) -> Option<Ordering> {
    match (value, operand) {
        (Value::Primitive(p), MemberValue::Primitive(q)) => p.compare(q),
        (Value::Primitive(p), MemberValue::String(text)) => BigInt::parse(text)?.compare_with(p),
        (Value::Enum(e), MemberValue::String(text)) => Some(e.variant.as_str().cmp(text)),
        (Value::ByteArray(b), MemberValue::String(text)) => Some(b.as_str().cmp(text)),
        _ => None,
    }
}

fn equals(value: &Value, operand: &MemberValue) -> bool {
    compare_operand(value, operand) == Some(Ordering::Equal)
}

fn elements(value: &Value) -> Option<&[Value]> {
    match value {
        Value::Array(items) | Value::FixedSizeArray(items) | Value::Tuple(items) => Some(items),
        _ => None,
    }
}

/// Applies one comparison to a value.
pub(crate) fn evaluate(value: &Value, operator: ComparisonOperator, operand: &MemberValue) -> bool {
    use ComparisonOperator as Op;
    let list = match operand {
        MemberValue::List(items) => Some(items.as_slice()),
        _ => None,
    };
    match operator {
        Op::Eq | Op::Neq | Op::Gt | Op::Gte | Op::Lt | Op::Lte => {
            if list.is_some() {
                return false;
            }
            compare_operand(value, operand).is_some_and(|order| operator.accepts(order))
        }
        Op::In => list.is_some_and(|items| items.iter().any(|item| equals(value, item))),
        Op::NotIn => list.is_some_and(|items| {
            items
                .iter()
                .all(|item| compare_operand(value, item).is_some_and(|o| o != Ordering::Equal))
        }),
        Op::Contains => match (value, operand) {
            (Value::ByteArray(text), MemberValue::String(needle)) => text.contains(needle.as_str()),
            _ => elements(value).is_some_and(|items| items.iter().any(|i| equals(i, operand))),
        },
        Op::ContainsAll => match (elements(value), list) {
            (Some(items), Some(wanted)) => wanted
                .iter()
                .all(|w| items.iter().any(|item| equals(item, w))),
            _ => false,
        },
        Op::ContainsAny => match (elements(value), list) {
            (Some(items), Some(wanted)) => wanted
                .iter()
                .any(|w| items.iter().any(|item| equals(item, w))),
            _ => false,
        },
        Op::ArrayLengthEq | Op::ArrayLengthGt | Op::ArrayLengthLt => {
            let (Some(items), MemberValue::Primitive(p)) = (elements(value), operand) else {
                return false;
            };
            Primitive::U64(items.len() as u64)
                .compare(p)
                .is_some_and(|order| operator.accepts(order))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::value::{EnumValue, Member};

    fn member(name: &str, key: bool, value: Value) -> Member {
        Member {
            name: name.into(),
            key,
            value,
        }
    }

    fn state() -> Struct {
        Struct {
            name: "ns-Player".into(),
            members: vec![
                member("id", true, Value::Primitive(Primitive::U32(7))),
                member("gold", false, Value::Primitive(Primitive::U64(100))),
                member(
                    "class",
                    false,
                    Value::Enum(EnumValue {
                        name: "Class".into(),
                        option: 1,
                        variant: "Mage".into(),
                        value: Box::new(Value::unit()),
                    }),
                ),
                member("name", false, Value::ByteArray("alice".into())),
                member(
                    "items",
                    false,
                    Value::Array(vec![
                        Value::Primitive(Primitive::U8(1)),
                        Value::Primitive(Primitive::U8(2)),
                    ]),
                ),
            ],
        }
    }

    fn clause(member: &str, operator: ComparisonOperator, value: MemberValue) -> Clause {
        Clause::Member(MemberClause {
            model: "ns-Player".into(),
            member: member.into(),
            operator,
            value,
        })
    }

    use ComparisonOperator as Op;
    use MemberValue as V;

    #[test]
    fn member_comparisons_are_exact_and_typed() {
        let s = [state()];
        let id = Felt::from(1u128);
        let yes = |c: Clause| assert!(c.matches(&id, &s), "{c:?}");
        let no = |c: Clause| assert!(!c.matches(&id, &s), "{c:?}");
        yes(clause("gold", Op::Eq, V::Primitive(Primitive::U8(100))));
        yes(clause("gold", Op::Gt, V::String("99".into())));
        yes(clause("gold", Op::Lte, V::String("0x64".into())));
        no(clause("gold", Op::Lt, V::Primitive(Primitive::I8(-1))));
        yes(clause("class", Op::Eq, V::String("Mage".into())));
        yes(clause("class", Op::Neq, V::String("Rogue".into())));
        yes(clause("name", Op::Gt, V::String("al".into())));
        yes(clause("name", Op::Contains, V::String("lic".into())));
        no(clause("gold", Op::Neq, V::String("not a number".into())));
        yes(clause(
            "gold",
            Op::In,
            V::List(vec![
                V::Primitive(Primitive::U64(1)),
                V::String("100".into()),
            ]),
        ));
        no(clause("gold", Op::In, V::Primitive(Primitive::U64(100))));
        yes(clause(
            "gold",
            Op::NotIn,
            V::List(vec![V::Primitive(Primitive::U64(1))]),
        ));
        yes(clause(
            "items",
            Op::Contains,
            V::Primitive(Primitive::U8(2)),
        ));
        yes(clause(
            "items",
            Op::ContainsAll,
            V::List(vec![
                V::Primitive(Primitive::U8(2)),
                V::Primitive(Primitive::U8(1)),
            ]),
        ));
        no(clause(
            "items",
            Op::ContainsAll,
            V::List(vec![
                V::Primitive(Primitive::U8(3)),
                V::Primitive(Primitive::U8(1)),
            ]),
        ));
        yes(clause(
            "items",
            Op::ContainsAny,
            V::List(vec![
                V::Primitive(Primitive::U8(3)),
                V::Primitive(Primitive::U8(1)),
            ]),
        ));
        yes(clause(
            "items",
            Op::ArrayLengthEq,
            V::Primitive(Primitive::U32(2)),
        ));
        yes(clause(
            "items",
            Op::ArrayLengthLt,
            V::Primitive(Primitive::U32(3)),
        ));
        no(clause("missing", Op::Eq, V::Primitive(Primitive::U32(3))));
    }

    #[test]
    fn keys_hashed_keys_and_composites() {
        let s = [state()];
        let id = Felt::from(1u128);
        let keys = |keys: Vec<Option<Felt>>, p, models: Vec<&str>| {
            Clause::Keys(KeysClause {
                keys,
                pattern_matching: p,
                models: models.into_iter().map(String::from).collect(),
            })
        };
        assert!(keys(
            vec![Some(Felt::from(7u128))],
            PatternMatching::FixedLen,
            vec![]
        )
        .matches(&id, &s));
        assert!(keys(vec![None], PatternMatching::FixedLen, vec!["ns-Player"]).matches(&id, &s));
        assert!(!keys(vec![None], PatternMatching::FixedLen, vec!["ns-Other"]).matches(&id, &s));
        assert!(!keys(vec![None, None], PatternMatching::FixedLen, vec![]).matches(&id, &s));
        assert!(keys(vec![], PatternMatching::VariableLen, vec![]).matches(&id, &s));
        assert!(!keys(
            vec![Some(Felt::from(8u128))],
            PatternMatching::VariableLen,
            vec![]
        )
        .matches(&id, &s));
        assert!(Clause::HashedKeys(vec![]).matches(&id, &s));
        assert!(Clause::HashedKeys(vec![id]).matches(&id, &s));
        assert!(!Clause::HashedKeys(vec![Felt::from(2u128)]).matches(&id, &s));
        let and = |clauses| {
            Clause::Composite(CompositeClause {
                operator: LogicalOperator::And,
                clauses,
            })
        };
        let or = |clauses| {
            Clause::Composite(CompositeClause {
                operator: LogicalOperator::Or,
                clauses,
            })
        };
        assert!(and(vec![]).matches(&id, &s));
        assert!(!or(vec![]).matches(&id, &s));
        assert!(or(vec![
            Clause::HashedKeys(vec![Felt::ZERO]),
            Clause::HashedKeys(vec![])
        ])
        .matches(&id, &s));
        // Deleted model states match nothing model-based.
        let deleted = [Struct {
            name: "ns-Player".into(),
            members: vec![],
        }];
        assert!(!keys(vec![], PatternMatching::VariableLen, vec![]).matches(&id, &deleted));
        assert!(!clause("gold", Op::Neq, V::Primitive(Primitive::U8(1))).matches(&id, &deleted));
    }
}
