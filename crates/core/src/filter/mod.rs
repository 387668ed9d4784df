//! The filter DSL: `{ keys?, where? }` conditions on one model, checked against the model's
//! shape, evaluated on core values, and translated to a Torii [`Clause`] for server-side
//! filtering. It speaks Torii's whole clause language.
//!
//! ```json
//! { "keys": { "player": "0x5" },
//!   "where": [ { "member": "pos.x", "op": "gte", "value": 10 },
//!              { "or": [ { "member": "class", "op": "in", "value": ["Mage", "Rogue"] },
//!                        { "member": "items", "op": "contains", "value": 7 } ] } ] }
//! ```
//!
//! - `keys` names key members (top level) and the value each must equal.
//! - `where` lists conditions that must all hold. Each is one of
//!   - `{ member, op, value }`: `member` is a dotted path through structs; `op` is `eq`, `neq`,
//!     `gt`, `gte`, `lt`, `lte`, `in` or `notIn` (a list value), `contains` (an array member
//!     has the element), `containsAll` / `containsAny` (a list of elements), `arrayLengthEq`,
//!     `arrayLengthGt` or `arrayLengthLt` (an array member's length);
//!   - `{ and: [...] }` / `{ or: [...] }` of conditions, nested at will (never empty);
//!   - `{ keys: { member: value } }`: named key members, as at the top level;
//!   - `{ keys: [felt | null, ...], matching?: "fixedLen" | "variableLen" }`: the model's key
//!     felts (their Cairo serialization in declaration order) match the pattern, `null` a
//!     wildcard; `fixedLen` (default) needs as many felts as slots, `variableLen` at least;
//!   - `{ hashedKeys: [id, ...] }`: the entity id is one of these (an empty list: any).
//! - Values follow the JS shape: integers as JSON numbers or decimal strings (`"-5"`, big ones
//!   must be strings), felts and addresses as `0x` hex strings (decimal also accepted), `bool` as
//!   `true`/`false`, enums by variant name (`"Mage"` or `{ "variant": "Mage" }`), `ByteArray`
//!   as a string. Each value must fit the member's type (an array operator's, its element
//!   type; a length, `u64`) exactly.
//! - Ordering operators apply to numbers and `ByteArray` (byte-wise), not to `bool` or enums.
//!   Structs and tuples are not comparable: compare one of their members instead.
//!
//! Evaluation ([`Filter::matches`]) agrees with [`Clause::matches`] on the translation
//! ([`Filter::to_clause`]) and with Torii's; both treat a deleted model state as not matching.

mod bounds;
mod condition;
mod operand;
mod order;
mod select;
mod spec_json;
mod state;
mod step;

#[cfg(test)]
mod tests;

use std::cmp::Ordering;
use std::collections::{BTreeMap, HashMap};

use serde_json::Value as Json;

use crate::bytes32::Felt;
use crate::clause::{
    Clause, ComparisonOperator, CompositeClause, KeysClause, LogicalOperator, MemberClause,
    PatternMatching,
};
use crate::entity::EntityId;
use crate::schema::{PrimitiveType, SchemaRegistry, Ty};
use crate::value::{Member, Struct, Value};

pub use bounds::MemberBounds;
pub use condition::{ConditionSpec, KeyMatching};
pub use order::{Direction, OrderBy, OrderSpec, SortKey, SortValue};
pub use select::{Query, QueryPage, QuerySpec, Selection, SelectionSpec};
pub use state::{FilterState, Scalar};
pub use step::Step;

use condition::Condition;

/// Typed operands (the sync targets' JSON clauses type their values with them too).
pub(crate) use operand::Operand;

/// Known model shapes by tag, to check filters against.
pub trait ModelShapes {
    /// The shape of a model (a [`Ty::Struct`]), if known.
    fn model_shape(&self, tag: &str) -> Option<&Ty>;
}

impl ModelShapes for SchemaRegistry {
    fn model_shape(&self, tag: &str) -> Option<&Ty> {
        self.get(tag)
    }
}

impl ModelShapes for HashMap<String, Ty> {
    fn model_shape(&self, tag: &str) -> Option<&Ty> {
        self.get(tag)
    }
}

/// A filter operator: Torii's 14 comparison operators, spelled in camelCase.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum FilterOp {
    /// Equal.
    Eq,
    /// Not equal.
    Neq,
    /// Greater than.
    Gt,
    /// Greater than or equal.
    Gte,
    /// Less than.
    Lt,
    /// Less than or equal.
    Lte,
    /// Equal to one of a list.
    In,
    /// Comparable with, and equal to none of, a list.
    NotIn,
    /// An array member has an element equal to the value.
    Contains,
    /// An array member has every value of a list among its elements.
    ContainsAll,
    /// An array member has some value of a list among its elements.
    ContainsAny,
    /// An array member's length equals the value.
    ArrayLengthEq,
    /// An array member's length is greater than the value.
    ArrayLengthGt,
    /// An array member's length is less than the value.
    ArrayLengthLt,
}

/// What an operator takes: a value of the member's type, a list of them, an element of an
/// array member, a list of elements, or an array length.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum OperandKind {
    Single,
    List,
    Element,
    Elements,
    Length,
}

impl FilterOp {
    /// Every operator.
    pub const ALL: [FilterOp; 14] = [
        FilterOp::Eq,
        FilterOp::Neq,
        FilterOp::Gt,
        FilterOp::Gte,
        FilterOp::Lt,
        FilterOp::Lte,
        FilterOp::In,
        FilterOp::NotIn,
        FilterOp::Contains,
        FilterOp::ContainsAll,
        FilterOp::ContainsAny,
        FilterOp::ArrayLengthEq,
        FilterOp::ArrayLengthGt,
        FilterOp::ArrayLengthLt,
    ];

    /// The operator of a DSL spelling ([`FilterOp::name`]).
    pub fn from_name(name: &str) -> Option<FilterOp> {
        FilterOp::ALL.into_iter().find(|op| op.name() == name)
    }

    /// The DSL spelling.
    pub fn name(self) -> &'static str {
        match self {
            FilterOp::Eq => "eq",
            FilterOp::Neq => "neq",
            FilterOp::Gt => "gt",
            FilterOp::Gte => "gte",
            FilterOp::Lt => "lt",
            FilterOp::Lte => "lte",
            FilterOp::In => "in",
            FilterOp::NotIn => "notIn",
            FilterOp::Contains => "contains",
            FilterOp::ContainsAll => "containsAll",
            FilterOp::ContainsAny => "containsAny",
            FilterOp::ArrayLengthEq => "arrayLengthEq",
            FilterOp::ArrayLengthGt => "arrayLengthGt",
            FilterOp::ArrayLengthLt => "arrayLengthLt",
        }
    }

    fn is_ordering(self) -> bool {
        matches!(
            self,
            FilterOp::Gt | FilterOp::Gte | FilterOp::Lt | FilterOp::Lte
        )
    }

    fn operand_kind(self) -> OperandKind {
        match self {
            FilterOp::Eq
            | FilterOp::Neq
            | FilterOp::Gt
            | FilterOp::Gte
            | FilterOp::Lt
            | FilterOp::Lte => OperandKind::Single,
            FilterOp::In | FilterOp::NotIn => OperandKind::List,
            FilterOp::Contains => OperandKind::Element,
            FilterOp::ContainsAll | FilterOp::ContainsAny => OperandKind::Elements,
            FilterOp::ArrayLengthEq | FilterOp::ArrayLengthGt | FilterOp::ArrayLengthLt => {
                OperandKind::Length
            }
        }
    }

    fn operator(self) -> ComparisonOperator {
        match self {
            FilterOp::Eq => ComparisonOperator::Eq,
            FilterOp::Neq => ComparisonOperator::Neq,
            FilterOp::Gt => ComparisonOperator::Gt,
            FilterOp::Gte => ComparisonOperator::Gte,
            FilterOp::Lt => ComparisonOperator::Lt,
            FilterOp::Lte => ComparisonOperator::Lte,
            FilterOp::In => ComparisonOperator::In,
            FilterOp::NotIn => ComparisonOperator::NotIn,
            FilterOp::Contains => ComparisonOperator::Contains,
            FilterOp::ContainsAll => ComparisonOperator::ContainsAll,
            FilterOp::ContainsAny => ComparisonOperator::ContainsAny,
            FilterOp::ArrayLengthEq => ComparisonOperator::ArrayLengthEq,
            FilterOp::ArrayLengthGt => ComparisonOperator::ArrayLengthGt,
            FilterOp::ArrayLengthLt => ComparisonOperator::ArrayLengthLt,
        }
    }
}

/// The DSL as written (JSON, read by [`FilterSpec::from_json`]); compile it with
/// [`Filter::compile`].
#[derive(Debug, Clone, Default, PartialEq)]
pub struct FilterSpec {
    /// Key member name → value (`keys`).
    pub keys: BTreeMap<String, Json>,
    /// Conditions that must all hold (`where`).
    pub predicates: Vec<ConditionSpec>,
}

/// One `where` entry as written.
#[derive(Debug, Clone, PartialEq)]
pub struct PredicateSpec {
    /// Dotted member path.
    pub member: String,
    /// Operator.
    pub op: FilterOp,
    /// Operand (a list for `in`, `notIn`, `containsAll` and `containsAny`).
    pub value: Json,
}

/// Why a filter, member selection or query was rejected.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum FilterError {
    /// Malformed JSON or an unknown field or operator.
    #[error("filter: {0}")]
    Json(String),
    /// A model with no known shape.
    #[error("filter: unknown model {}", crate::Quoted(.model))]
    UnknownModel {
        /// The tag.
        model: String,
    },
    /// A member path that does not exist in the model.
    #[error("filter: {model} has no member `{path}`")]
    UnknownMember {
        /// The tag.
        model: String,
        /// The path.
        path: String,
    },
    /// A `keys` entry naming a member that is not a key.
    #[error("filter: {model}.{member} is not a key member (use `where` for it)")]
    NotAKey {
        /// The tag.
        model: String,
        /// The member.
        member: String,
    },
    /// A member of a type that cannot be compared (struct, tuple, array).
    #[error(
        "filter: {model}.{path} is {ty}, which cannot be compared; compare one of its members"
    )]
    NotComparable {
        /// The tag.
        model: String,
        /// The path.
        path: String,
        /// Its type.
        ty: String,
    },
    /// An ordering operator on a type without an order (bool, enum).
    #[error("filter: `{op}` does not apply to {model}.{path} ({ty}); use eq, neq or in")]
    OperatorNotAllowed {
        /// The tag.
        model: String,
        /// The path.
        path: String,
        /// The operator.
        op: &'static str,
        /// The member type.
        ty: String,
    },
    /// A value of the wrong JSON kind for the member.
    #[error("filter: {model}.{path} is {expected}, got {found}")]
    TypeMismatch {
        /// The tag.
        model: String,
        /// The path.
        path: String,
        /// What the member needs.
        expected: String,
        /// What was given (JSON, truncated).
        found: String,
    },
    /// `in`, `notIn`, `containsAll` or `containsAny` without a list.
    #[error("filter: `{op}` on {model}.{path} needs a list value, got {found}")]
    InNeedsList {
        /// The tag.
        model: String,
        /// The path.
        path: String,
        /// The operator.
        op: &'static str,
        /// What was given.
        found: String,
    },
    /// An array operator (`contains*`, `arrayLength*`) on a member that is not an array.
    #[error("filter: `{op}` needs an array member; {model}.{path} is {ty}")]
    NotAnArray {
        /// The tag.
        model: String,
        /// The path.
        path: String,
        /// The operator.
        op: &'static str,
        /// The member type.
        ty: String,
    },
    /// An `and` or `or` with no conditions.
    #[error("filter on {model}: `{operator}` needs at least one condition")]
    EmptyComposite {
        /// The tag.
        model: String,
        /// `and` or `or`.
        operator: &'static str,
    },
    /// A number that is not an integer or cannot be read.
    #[error("filter: {model}.{path}: {} is not an integer (write big numbers as decimal strings, felts as 0x hex)", crate::Quoted(.text))]
    BadNumber {
        /// The tag.
        model: String,
        /// The path.
        path: String,
        /// The text.
        text: String,
    },
    /// An integer outside the member type's range.
    #[error("filter: {model}.{path}: {text} does not fit in {ty}")]
    OutOfRange {
        /// The tag.
        model: String,
        /// The path.
        path: String,
        /// The value.
        text: String,
        /// The member type.
        ty: &'static str,
    },
    /// An enum variant name that the enum does not have.
    #[error("filter: {model}.{path} has no variant {} (variants: {options})", crate::Quoted(.variant))]
    UnknownVariant {
        /// The tag.
        model: String,
        /// The path.
        path: String,
        /// The name given.
        variant: String,
        /// The enum's variants, comma-separated.
        options: String,
    },
    /// `orderBy` on a member without an order.
    #[error("query: cannot order by {model}.{path} ({ty}); order by a number or ByteArray member")]
    NotOrderable {
        /// The tag.
        model: String,
        /// The path.
        path: String,
        /// The member type.
        ty: String,
    },
    /// A `limit` of zero.
    #[error("query: limit must be at least 1")]
    BadLimit,
    /// A cursor this query did not produce.
    #[error("query: cursor {} is not a cursor returned by a previous page", crate::Quoted(.0))]
    BadCursor(String),
}

/// A compiled filter on one model.
#[derive(Debug, Clone, PartialEq)]
pub struct Filter {
    model: String,
    keys: Vec<KeyTest>,
    /// The member predicates of the top level (`and` entries flattened), tested first.
    predicates: Vec<Predicate>,
    /// The other top-level conditions (`or`, key patterns, hashed keys).
    conditions: Vec<Condition>,
    /// `(member index, felt width)` of every key member in declaration order, when all widths
    /// are fixed and every tested key serializes to felts: keys then translate to a `KeysClause`.
    key_layout: Option<Vec<(usize, usize)>>,
}

#[derive(Debug, Clone, PartialEq)]
struct KeyTest {
    index: usize,
    name: String,
    /// The one-step path to the key member.
    steps: Steps,
    operand: Operand,
}

/// A compiled member predicate.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Predicate {
    path: String,
    steps: Steps,
    op: FilterOp,
    operand: Operand,
}

impl KeyTest {
    fn test(&self, state: &(impl FilterState + ?Sized)) -> bool {
        state
            .scalar(&self.steps)
            .is_some_and(|value| self.operand.compare(&value) == Some(Ordering::Equal))
    }

    /// The same test as an `eq` predicate.
    fn into_predicate(self) -> Predicate {
        Predicate {
            path: self.name,
            steps: self.steps,
            op: FilterOp::Eq,
            operand: self.operand,
        }
    }
}

impl Predicate {
    /// Whether the state passes (of any model: the filter checks the model first).
    pub(crate) fn test(&self, state: &(impl FilterState + ?Sized)) -> bool {
        self.operand.test(self.op, state, &self.steps)
    }

    pub(crate) fn to_member_clause(&self, model: &str) -> MemberClause {
        MemberClause {
            model: model.to_owned(),
            member: self.path.clone(),
            operator: self.op.operator(),
            value: self.operand.to_member_value(),
        }
    }
}

/// Context for error messages.
pub(crate) struct At<'a> {
    pub(crate) model: &'a str,
    pub(crate) path: &'a str,
}

impl At<'_> {
    pub(crate) fn unknown(&self) -> FilterError {
        FilterError::UnknownMember {
            model: self.model.to_owned(),
            path: self.path.to_owned(),
        }
    }
}

/// Each key member's index and felt width, in member order; `None` when a key has no fixed
/// width.
fn key_layout(members: &[(String, bool, Ty)]) -> Option<Vec<(usize, usize)>> {
    let mut layout = Vec::new();
    for (index, (_, key, ty)) in members.iter().enumerate() {
        if *key {
            layout.push((index, ty.felt_width()?));
        }
    }
    Some(layout)
}

fn struct_members(shape: &Ty) -> Option<&[(String, bool, Ty)]> {
    match shape {
        Ty::Struct { members, .. } => Some(members),
        _ => None,
    }
}

/// The [`Step`]s along a member path: a compiled path, as [`FilterState::scalar`] reads it.
pub type Steps = Vec<Step>;

/// Walks a dotted path through struct shapes: the steps and the member's type.
pub(crate) fn resolve_path<'t>(shape: &'t Ty, at: &At<'_>) -> Result<(Steps, &'t Ty), FilterError> {
    let mut steps = Vec::new();
    let mut current = shape;
    for part in at.path.split('.') {
        let members = struct_members(current).ok_or_else(|| at.unknown())?;
        let (index, (_, _, ty)) = members
            .iter()
            .enumerate()
            .find(|(_, (name, _, _))| name == part)
            .ok_or_else(|| at.unknown())?;
        steps.push(Step::new(part, index));
        current = ty;
    }
    Ok((steps, current))
}

/// Text order without calling into libc for short strings: on the scan path most names are a
/// few bytes and `memcmp`'s call and vector setup cost more than the comparison.
#[inline]
pub(crate) fn text_cmp(a: &str, b: &str) -> Ordering {
    if a.len() <= 64 && b.len() <= 64 {
        a.bytes().cmp(b.bytes())
    } else {
        a.cmp(b)
    }
}

/// Whether two names are equal (see [`text_cmp`]).
#[inline]
pub(crate) fn same_text(a: &str, b: &str) -> bool {
    a.len() == b.len() && text_cmp(a, b) == Ordering::Equal
}

/// The member at `steps` of a state (index hints first, then by name).
pub(crate) fn member_at<'v>(state: &'v Struct, steps: &[Step]) -> Option<&'v Value> {
    let (last, path) = steps.split_last()?;
    let mut members: &[Member] = &state.members;
    for step in path {
        match &find_member(members, step)?.value {
            Value::Struct(inner) => members = &inner.members,
            _ => return None,
        }
    }
    Some(&find_member(members, last)?.value)
}

/// The member a step names: at its index hint when the name matches there, else by name.
#[inline]
fn find_member<'v>(members: &'v [Member], step: &Step) -> Option<&'v Member> {
    let name = step.name();
    match members.get(step.hint()) {
        Some(m) if same_text(&m.name, name) => Some(m),
        _ => members.iter().find(|m| same_text(&m.name, name)),
    }
}

fn check_operator(op: FilterOp, ty: &Ty, at: &At<'_>) -> Result<(), FilterError> {
    if op.is_ordering() && !is_orderable(ty) {
        return Err(FilterError::OperatorNotAllowed {
            model: at.model.to_owned(),
            path: at.path.to_owned(),
            op: op.name(),
            ty: ty.to_string(),
        });
    }
    Ok(())
}

/// Whether values of this type have an order (numbers and `ByteArray`; not `bool` or enums).
pub(crate) fn is_orderable(ty: &Ty) -> bool {
    matches!(ty, Ty::ByteArray) || matches!(ty, Ty::Primitive(p) if *p != PrimitiveType::Bool)
}

/// The element type of an array member, for the array operators.
fn array_element<'t>(op: FilterOp, ty: &'t Ty, at: &At<'_>) -> Result<&'t Ty, FilterError> {
    let element = match ty {
        Ty::Array(element) | Ty::FixedSizeArray { element, .. } => element.as_deref(),
        _ => None,
    };
    element.ok_or_else(|| FilterError::NotAnArray {
        model: at.model.to_owned(),
        path: at.path.to_owned(),
        op: op.name(),
        ty: ty.to_string(),
    })
}

/// Parses a list operand, each item against `ty`.
fn list_operand(op: FilterOp, json: &Json, ty: &Ty, at: &At<'_>) -> Result<Operand, FilterError> {
    let Json::Array(items) = json else {
        // Check the member is comparable first, for the clearer error.
        Operand::parse(json, ty, at)?;
        return Err(FilterError::InNeedsList {
            model: at.model.to_owned(),
            path: at.path.to_owned(),
            op: op.name(),
            found: operand::snippet(json),
        });
    };
    let mut operands = Vec::with_capacity(items.len());
    for item in items {
        operands.push(Operand::parse(item, ty, at)?);
    }
    Ok(Operand::List(operands))
}

/// Checks one member predicate against the model's shape and compiles it.
pub(crate) fn compile_predicate(
    model: &str,
    shape: &Ty,
    predicate: &PredicateSpec,
) -> Result<Predicate, FilterError> {
    let at = At {
        model,
        path: &predicate.member,
    };
    let (steps, ty) = resolve_path(shape, &at)?;
    check_operator(predicate.op, ty, &at)?;
    let op = predicate.op;
    let operand = match op.operand_kind() {
        OperandKind::Single => Operand::parse(&predicate.value, ty, &at)?,
        OperandKind::List => list_operand(op, &predicate.value, ty, &at)?,
        OperandKind::Element => Operand::parse(&predicate.value, array_element(op, ty, &at)?, &at)?,
        OperandKind::Elements => {
            list_operand(op, &predicate.value, array_element(op, ty, &at)?, &at)?
        }
        OperandKind::Length => {
            array_element(op, ty, &at)?;
            Operand::parse(&predicate.value, &Ty::Primitive(PrimitiveType::U64), &at)?
        }
    };
    Ok(Predicate {
        path: predicate.member.clone(),
        steps,
        op,
        operand,
    })
}

/// Checks one named key member (`keys: { name: value }`) and compiles its equality test.
fn compile_key(model: &str, shape: &Ty, name: &str, json: &Json) -> Result<KeyTest, FilterError> {
    let members = struct_members(shape).ok_or_else(|| FilterError::UnknownModel {
        model: model.to_owned(),
    })?;
    let at = At { model, path: name };
    let (index, (_, is_key, ty)) = members
        .iter()
        .enumerate()
        .find(|(_, (n, _, _))| n == name)
        .ok_or_else(|| at.unknown())?;
    if !is_key {
        return Err(FilterError::NotAKey {
            model: model.to_owned(),
            member: name.to_owned(),
        });
    }
    Ok(KeyTest {
        index,
        name: name.to_owned(),
        steps: vec![Step::new(name, index)],
        operand: Operand::parse(json, ty, &at)?,
    })
}

impl Filter {
    /// A filter that keeps every (non-deleted) state of `model`.
    pub fn all(model: impl Into<String>) -> Filter {
        Filter {
            model: model.into(),
            keys: Vec::new(),
            predicates: Vec::new(),
            conditions: Vec::new(),
            key_layout: Some(Vec::new()),
        }
    }

    /// Parses DSL JSON for `model` and checks it against the model's shape.
    pub fn parse(
        model: &str,
        json: &str,
        shapes: &impl ModelShapes,
    ) -> Result<Filter, FilterError> {
        let spec: FilterSpec =
            serde_json::from_str(json).map_err(|e| FilterError::Json(e.to_string()))?;
        Filter::compile(model, &spec, shapes)
    }

    /// Checks a written filter against the model's shape and compiles it.
    pub fn compile(
        model: &str,
        spec: &FilterSpec,
        shapes: &impl ModelShapes,
    ) -> Result<Filter, FilterError> {
        let shape = shapes
            .model_shape(model)
            .ok_or_else(|| FilterError::UnknownModel {
                model: model.to_owned(),
            })?;
        let members = struct_members(shape).ok_or_else(|| FilterError::UnknownModel {
            model: model.to_owned(),
        })?;

        // In member order, each placed as it is compiled (a model has a few keys): no sort
        // instantiated for it in the view's module.
        let mut keys: Vec<KeyTest> = Vec::with_capacity(spec.keys.len());
        for (name, json) in &spec.keys {
            let key = compile_key(model, shape, name, json)?;
            let at = keys.partition_point(|k| k.index <= key.index);
            keys.insert(at, key);
        }

        let mut compiled = Vec::with_capacity(spec.predicates.len());
        condition::compile_all(&spec.predicates, model, shape, &mut compiled)?;
        let mut predicates = Vec::with_capacity(compiled.len());
        let mut conditions = Vec::new();
        for condition in compiled {
            match condition {
                Condition::Test(predicate) => predicates.push(predicate),
                other => conditions.push(other),
            }
        }

        let key_layout = key_layout(members).filter(|layout| {
            keys.iter().all(|k| {
                let width = layout.iter().find(|(i, _)| *i == k.index).map(|(_, w)| *w);
                k.operand.key_felts().map(|felts| felts.len()) == width
            })
        });
        Ok(Filter {
            model: model.to_owned(),
            keys,
            predicates,
            conditions,
            key_layout,
        })
    }

    /// The model this filter applies to.
    pub fn model(&self) -> &str {
        &self.model
    }

    /// Whether the filter keeps every state of its model.
    pub fn is_all(&self) -> bool {
        self.keys.is_empty() && self.predicates.is_empty() && self.conditions.is_empty()
    }

    /// Whether the model state of entity `id` passes: it must be a non-deleted state of this
    /// filter's model, match every `keys` entry and every `where` condition. States are anything
    /// a filter reads ([`FilterState`]: decoded structs, the view's packed states).
    pub fn matches(&self, id: &EntityId, state: &(impl FilterState + ?Sized)) -> bool {
        if state.is_deletion() || !same_text(state.model(), &self.model) {
            return false;
        }
        // Stops at the first failed condition: a state's members sit together (the view's
        // packed states are one buffer), so the work saved outweighs the branches.
        self.keys.iter().all(|key| key.test(state))
            && self.predicates.iter().all(|p| p.test(state))
            && self.conditions.iter().all(|c| c.test(id, state))
    }

    /// The equivalent Torii clause, for server-side subscription filters. Keys become a
    /// `FixedLen` `KeysClause` (untested keys as wildcards) when every key member has a fixed
    /// felt width, else `EQ` member clauses; predicates become member clauses, `and` / `or`
    /// composite clauses, key patterns keys clauses, hashed keys a hashed-keys clause; several
    /// parts are joined with `AND`. When no part implies the model (no condition, or only
    /// hashed keys), "every entity with this model" (`VariableLen` with no keys) is added.
    pub fn to_clause(&self) -> Clause {
        let mut parts = Vec::with_capacity(self.predicates.len() + 1);
        if !self.keys.is_empty() {
            match &self.key_layout {
                Some(layout) => parts.push(Clause::Keys(self.keys_clause(layout))),
                None => {
                    for key in &self.keys {
                        parts.push(Clause::Member(MemberClause {
                            model: self.model.clone(),
                            member: key.name.clone(),
                            operator: ComparisonOperator::Eq,
                            value: key.operand.to_member_value(),
                        }));
                    }
                }
            }
        }
        for predicate in &self.predicates {
            parts.push(Clause::Member(predicate.to_member_clause(&self.model)));
        }
        for condition in &self.conditions {
            parts.push(condition.to_clause(&self.model));
        }
        let present = Clause::Keys(KeysClause {
            keys: Vec::new(),
            pattern_matching: PatternMatching::VariableLen,
            models: vec![self.model.clone()],
        });
        // The filter keeps only entities with a state of its model: say so when no part does.
        if !parts
            .iter()
            .any(|part| condition::implies_model(part, &self.model))
        {
            parts.push(present);
        }
        match parts.len() {
            1 => parts.pop().unwrap_or(Clause::HashedKeys(Vec::new())),
            _ => Clause::Composite(CompositeClause {
                operator: LogicalOperator::And,
                clauses: parts,
            }),
        }
    }

    /// The Cairo serialization of the entity's keys when the filter fixes every key member of
    /// its model (each tested for equality with an operand of fixed felt width): the entity id
    /// is then their Poseidon hash, and only that entity can match.
    pub fn entity_keys(&self) -> Option<Vec<Felt>> {
        let layout = self.key_layout.as_ref()?;
        if layout.is_empty() {
            return None;
        }
        let mut felts = Vec::with_capacity(layout.iter().map(|(_, w)| w).sum());
        for (index, _) in layout {
            let key = self.keys.iter().find(|k| k.index == *index)?;
            felts.extend(key.operand.key_felts()?);
        }
        Some(felts)
    }

    fn keys_clause(&self, layout: &[(usize, usize)]) -> KeysClause {
        let mut pattern = Vec::with_capacity(layout.iter().map(|(_, w)| w).sum());
        for (index, width) in layout {
            let tested = self.keys.iter().find(|k| k.index == *index);
            match tested.and_then(|k| k.operand.key_felts()) {
                Some(felts) => pattern.extend(felts.into_iter().map(Some)),
                None => pattern.extend(std::iter::repeat_n(None, *width)),
            }
        }
        KeysClause {
            keys: pattern,
            pattern_matching: PatternMatching::FixedLen,
            models: vec![self.model.clone()],
        }
    }
}
