//! Clause evaluation and paging with Torii's semantics: clauses are compiled once against the
//! model schemas (bad clauses are `INVALID_ARGUMENT`), then evaluated on entity views; pages are
//! ordered by write sequence, newest first, with an opaque keyset cursor.

use std::collections::HashSet;

use dojo_reactive_torii::types::{
    self, clause::ClauseType, member_value::ValueType, ty::TyType, ComparisonOperator,
    LogicalOperator, PatternMatching,
};
use tonic::Status;

use crate::felt::{pad32, Bytes32};
use crate::schema::{self, TypeDef};
use crate::wire::{self, Num, Step};
use crate::world::Record;

/// The page size used when a query's `limit` is 0 (Torii's default).
pub const DEFAULT_LIMIT: u32 = 10_000;

/// What an entity looks like to a clause: its id, keys and models, possibly with one model
/// replaced (the state before a write), and the model a subscription update is about.
#[derive(Clone, Copy, Debug)]
pub struct View<'a> {
    /// The entity id.
    pub id: &'a Bytes32,
    /// The key felts.
    pub keys: &'a [Bytes32],
    /// The models.
    pub models: &'a [types::Struct],
    /// A model whose value is replaced (`None` value: absent) in this view.
    pub replaced: Option<(&'a str, Option<&'a types::Struct>)>,
    /// For a subscription update, the tag of the model that changed.
    pub changed: Option<&'a str>,
}

impl<'a> View<'a> {
    /// The view of a stored record.
    pub fn of(record: &'a Record) -> View<'a> {
        View {
            id: &record.id,
            keys: &record.keys,
            models: &record.models,
            replaced: None,
            changed: None,
        }
    }

    /// The model with tag `tag` in this view.
    pub fn model(&self, tag: &str) -> Option<&'a types::Struct> {
        if let Some((replaced, value)) = self.replaced {
            if replaced == tag {
                return value;
            }
        }
        self.models.iter().find(|m| m.name == tag)
    }

    fn has_any(&self, tags: &[String]) -> bool {
        tags.iter().any(|t| self.model(t).is_some())
    }
}

/// A comparison operator with its operands' kind checked.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Op {
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
    LenEq,
    LenGt,
    LenLt,
}

/// The kind of value a member path leads to, deciding how values compare.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Kind {
    /// Integers, felts, bool: compared by numeric value.
    Number,
    /// ByteArray: compared as strings.
    Text,
    /// Enum: compared by variant name.
    Variant,
}

/// A comparable value.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
enum Scalar {
    Number(Num),
    Text(String),
    Variant(String),
}

#[derive(Clone, Debug)]
struct MemberTest {
    model: String,
    path: Vec<Step>,
    /// `Some(element kind)` when the member is an array, tuple or fixed-size array.
    array_of: Option<Kind>,
    kind: Kind,
    op: Op,
    values: Vec<Scalar>,
    length: u64,
}

/// A clause compiled against the schemas, ready to evaluate.
#[derive(Clone, Debug)]
pub enum Compiled {
    /// Matches everything (no clause, or an empty hashed-keys or composite clause).
    All,
    /// Entity id in a set.
    HashedKeys(HashSet<Bytes32>),
    /// Key pattern.
    Keys {
        /// Pattern keys; `None` is a wildcard.
        keys: Vec<Option<Bytes32>>,
        /// `VariableLen`: prefix match instead of same length.
        variable: bool,
        /// Models whose keys count (empty: any).
        models: Vec<String>,
    },
    /// Member comparison.
    Member(Box<MemberTestBox>),
    /// Every sub-clause matches.
    And(Vec<Compiled>),
    /// Some sub-clause matches.
    Or(Vec<Compiled>),
}

/// A compiled member clause (boxed to keep [`Compiled`] small).
#[derive(Clone, Debug)]
pub struct MemberTestBox(MemberTest);

fn invalid(message: impl Into<String>) -> Status {
    Status::invalid_argument(message.into())
}

/// Compiles an optional wire clause; `None` matches everything.
pub fn compile(clause: Option<&types::Clause>) -> Result<Compiled, Status> {
    match clause.and_then(|c| c.clause_type.as_ref()) {
        None => Ok(Compiled::All),
        Some(clause) => compile_type(clause, 0),
    }
}

fn compile_type(clause: &ClauseType, depth: usize) -> Result<Compiled, Status> {
    if depth > 64 {
        return Err(invalid("clause nesting deeper than 64"));
    }
    match clause {
        ClauseType::HashedKeys(h) => {
            if h.hashed_keys.is_empty() {
                return Ok(Compiled::All);
            }
            let mut set = HashSet::with_capacity(h.hashed_keys.len());
            for key in &h.hashed_keys {
                set.insert(
                    pad32(key).ok_or_else(|| invalid("a hashed key is longer than 32 bytes"))?,
                );
            }
            Ok(Compiled::HashedKeys(set))
        }
        ClauseType::Keys(k) => {
            let variable = match PatternMatching::try_from(k.pattern_matching) {
                Ok(PatternMatching::FixedLen) => false,
                Ok(PatternMatching::VariableLen) => true,
                Err(_) => {
                    return Err(invalid(format!(
                        "unknown pattern matching {}",
                        k.pattern_matching
                    )))
                }
            };
            let mut keys = Vec::with_capacity(k.keys.len());
            for key in &k.keys {
                if key.is_empty() {
                    keys.push(None);
                } else {
                    keys.push(Some(
                        pad32(key).ok_or_else(|| invalid("a key is longer than 32 bytes"))?,
                    ));
                }
            }
            Ok(Compiled::Keys {
                keys,
                variable,
                models: k.models.clone(),
            })
        }
        ClauseType::Member(m) => {
            compile_member(m).map(|t| Compiled::Member(Box::new(MemberTestBox(t))))
        }
        ClauseType::Composite(c) => {
            let operator = LogicalOperator::try_from(c.operator)
                .map_err(|_| invalid(format!("unknown logical operator {}", c.operator)))?;
            let mut parts = Vec::with_capacity(c.clauses.len());
            for sub in &c.clauses {
                match sub.clause_type.as_ref() {
                    Some(sub) => parts.push(compile_type(sub, depth + 1)?),
                    None => parts.push(Compiled::All),
                }
            }
            if parts.is_empty() {
                return Ok(Compiled::All);
            }
            Ok(match operator {
                LogicalOperator::And => Compiled::And(parts),
                LogicalOperator::Or => Compiled::Or(parts),
            })
        }
    }
}

fn kind_of(def: &TypeDef) -> Option<Kind> {
    match def {
        TypeDef::Primitive(_) => Some(Kind::Number),
        TypeDef::ByteArray => Some(Kind::Text),
        TypeDef::Enum { .. } => Some(Kind::Variant),
        _ => None,
    }
}

/// Resolves `a.b.0` against a model; numeric segments index tuples and arrays.
fn resolve<'a>(
    model: &'a schema::ModelDef,
    member: &str,
) -> Result<(Vec<Step>, &'a TypeDef), Status> {
    let mut segments = member.split('.');
    let first = segments.next().unwrap_or_default();
    let mut def = &model
        .member(first)
        .ok_or_else(|| invalid(format!("model {} has no member {first}", model.tag)))?
        .ty;
    let mut path = vec![Step::Member(first.to_owned())];
    for segment in segments {
        def = match def {
            TypeDef::Struct { members, .. } => {
                path.push(Step::Member(segment.to_owned()));
                &members
                    .iter()
                    .find(|m| m.name == segment)
                    .ok_or_else(|| invalid(format!("no member {segment} in {member}")))?
                    .ty
            }
            TypeDef::Tuple(items) => {
                let i: usize = segment
                    .parse()
                    .map_err(|_| invalid(format!("{member}: tuple index expected")))?;
                path.push(Step::Index(i));
                items
                    .get(i)
                    .ok_or_else(|| invalid(format!("{member}: index out of range")))?
            }
            TypeDef::Array(item) | TypeDef::FixedArray(item, _) => {
                let i: usize = segment
                    .parse()
                    .map_err(|_| invalid(format!("{member}: index expected")))?;
                path.push(Step::Index(i));
                item
            }
            _ => return Err(invalid(format!("{member}: cannot descend into {segment}"))),
        };
    }
    Ok((path, def))
}

fn scalar_of(kind: Kind, value: &types::MemberValue) -> Result<Scalar, Status> {
    match (kind, value.value_type.as_ref()) {
        (Kind::Number, Some(ValueType::Primitive(p))) => p
            .primitive_type
            .as_ref()
            .and_then(Num::of_prim)
            .map(Scalar::Number)
            .ok_or_else(|| invalid("malformed primitive value")),
        (Kind::Number, Some(ValueType::String(s))) => Num::parse(s)
            .map(Scalar::Number)
            .ok_or_else(|| invalid(format!("{s:?} is not a number"))),
        (Kind::Text, Some(ValueType::String(s))) => Ok(Scalar::Text(s.clone())),
        (Kind::Variant, Some(ValueType::String(s))) => Ok(Scalar::Variant(s.clone())),
        (Kind::Text, _) => Err(invalid("a ByteArray member compares with a string value")),
        (Kind::Variant, _) => Err(invalid(
            "an enum member compares with a variant name string",
        )),
        (_, Some(ValueType::List(_))) => Err(invalid(
            "a list value needs IN, NOT_IN, CONTAINS_ALL or CONTAINS_ANY",
        )),
        (_, None) => Err(invalid("missing member value")),
    }
}

fn list_of(kind: Kind, value: Option<&types::MemberValue>) -> Result<Vec<Scalar>, Status> {
    match value.and_then(|v| v.value_type.as_ref()) {
        Some(ValueType::List(list)) => list.values.iter().map(|v| scalar_of(kind, v)).collect(),
        _ => Err(invalid("this operator takes a MemberValueList")),
    }
}

fn single(kind: Kind, value: Option<&types::MemberValue>) -> Result<Scalar, Status> {
    scalar_of(kind, value.ok_or_else(|| invalid("missing member value"))?)
}

fn compile_member(m: &types::MemberClause) -> Result<MemberTest, Status> {
    let model =
        schema::model(&m.model).ok_or_else(|| invalid(format!("unknown model {:?}", m.model)))?;
    let (path, def) = resolve(model, &m.member)?;
    let op = match ComparisonOperator::try_from(m.operator) {
        Ok(ComparisonOperator::Eq) => Op::Eq,
        Ok(ComparisonOperator::Neq) => Op::Neq,
        Ok(ComparisonOperator::Gt) => Op::Gt,
        Ok(ComparisonOperator::Gte) => Op::Gte,
        Ok(ComparisonOperator::Lt) => Op::Lt,
        Ok(ComparisonOperator::Lte) => Op::Lte,
        Ok(ComparisonOperator::In) => Op::In,
        Ok(ComparisonOperator::NotIn) => Op::NotIn,
        Ok(ComparisonOperator::Contains) => Op::Contains,
        Ok(ComparisonOperator::ContainsAll) => Op::ContainsAll,
        Ok(ComparisonOperator::ContainsAny) => Op::ContainsAny,
        Ok(ComparisonOperator::ArrayLengthEq) => Op::LenEq,
        Ok(ComparisonOperator::ArrayLengthGt) => Op::LenGt,
        Ok(ComparisonOperator::ArrayLengthLt) => Op::LenLt,
        Err(_) => {
            return Err(invalid(format!(
                "unsupported comparison operator {}",
                m.operator
            )))
        }
    };
    let value = m.value.as_ref();
    let array_item = match def {
        TypeDef::Array(item) | TypeDef::FixedArray(item, _) => Some(item.as_ref()),
        _ => None,
    };
    let mut test = MemberTest {
        model: m.model.clone(),
        path,
        array_of: None,
        kind: Kind::Number,
        op,
        values: Vec::new(),
        length: 0,
    };
    match (array_item, op) {
        (Some(item), Op::Contains | Op::ContainsAll | Op::ContainsAny) => {
            let kind = kind_of(item).ok_or_else(|| {
                invalid(format!("{}: array elements are not comparable", m.member))
            })?;
            test.array_of = Some(kind);
            test.kind = kind;
            test.values = if op == Op::Contains {
                vec![single(kind, value)?]
            } else {
                list_of(kind, value)?
            };
        }
        (Some(_), Op::LenEq | Op::LenGt | Op::LenLt) => {
            test.array_of = Some(Kind::Number);
            let Scalar::Number(n) = single(Kind::Number, value)? else {
                return Err(invalid("array length must be a number"));
            };
            if n.negative || n.magnitude[..24].iter().any(|b| *b != 0) {
                return Err(invalid("array length out of range"));
            }
            let mut low = [0u8; 8];
            low.copy_from_slice(&n.magnitude[24..]);
            test.length = u64::from_be_bytes(low);
        }
        (Some(_), _) => {
            return Err(invalid(format!(
                "operator {op:?} is not supported on the array member {}",
                m.member
            )))
        }
        (
            None,
            Op::Contains | Op::ContainsAll | Op::ContainsAny | Op::LenEq | Op::LenGt | Op::LenLt,
        ) => {
            return Err(invalid(format!(
                "operator {op:?} needs an array member, {} is not one",
                m.member
            )))
        }
        (None, _) => {
            let kind = kind_of(def)
                .ok_or_else(|| invalid(format!("{} is not a comparable member", m.member)))?;
            if kind == Kind::Variant && !matches!(op, Op::Eq | Op::Neq | Op::In | Op::NotIn) {
                return Err(invalid(format!(
                    "operator {op:?} is not supported on the enum member {}",
                    m.member
                )));
            }
            test.kind = kind;
            test.values = if matches!(op, Op::In | Op::NotIn) {
                list_of(kind, value)?
            } else {
                vec![single(kind, value)?]
            };
        }
    }
    Ok(test)
}

fn scalar_from_wire(kind: Kind, ty: &types::Ty) -> Option<Scalar> {
    match (kind, ty.ty_type.as_ref()?) {
        (Kind::Number, TyType::Primitive(p)) => {
            Num::of_prim(p.primitive_type.as_ref()?).map(Scalar::Number)
        }
        (Kind::Text, TyType::Bytearray(s)) => Some(Scalar::Text(s.clone())),
        (Kind::Variant, TyType::Enum(e)) => usize::try_from(e.option)
            .ok()
            .and_then(|i| e.options.get(i))
            .map(|o| Scalar::Variant(o.name.clone())),
        _ => None,
    }
}

fn elements(ty: &types::Ty) -> Option<&[types::Ty]> {
    match ty.ty_type.as_ref()? {
        TyType::Array(a) | TyType::Tuple(a) => Some(&a.children),
        TyType::FixedSizeArray(a) => Some(&a.children),
        _ => None,
    }
}

impl MemberTest {
    fn eval(&self, view: &View<'_>) -> bool {
        let Some(model) = view.model(&self.model) else {
            return false;
        };
        let Some((Step::Member(first), rest)) = self.path.split_first() else {
            return false;
        };
        let Some(ty) = wire::get(model, first).and_then(|t| wire::at_path(t, rest)) else {
            return false;
        };
        if self.array_of.is_some() {
            let Some(items) = elements(ty) else {
                return false;
            };
            return match self.op {
                Op::LenEq => items.len() as u64 == self.length,
                Op::LenGt => items.len() as u64 > self.length,
                Op::LenLt => (items.len() as u64) < self.length,
                _ => {
                    let present: Vec<Scalar> = items
                        .iter()
                        .filter_map(|t| scalar_from_wire(self.kind, t))
                        .collect();
                    match self.op {
                        Op::Contains | Op::ContainsAll => {
                            self.values.iter().all(|v| present.contains(v))
                        }
                        _ => self.values.iter().any(|v| present.contains(v)),
                    }
                }
            };
        }
        let Some(actual) = scalar_from_wire(self.kind, ty) else {
            return false;
        };
        let Some(first_value) = self.values.first() else {
            return matches!(self.op, Op::NotIn);
        };
        match self.op {
            Op::Eq => actual == *first_value,
            Op::Neq => actual != *first_value,
            Op::Gt => actual > *first_value,
            Op::Gte => actual >= *first_value,
            Op::Lt => actual < *first_value,
            Op::Lte => actual <= *first_value,
            Op::In => self.values.contains(&actual),
            Op::NotIn => !self.values.contains(&actual),
            _ => false,
        }
    }
}

impl Compiled {
    /// Whether the entity seen through `view` matches.
    pub fn matches(&self, view: &View<'_>) -> bool {
        match self {
            Compiled::All => true,
            Compiled::HashedKeys(set) => set.contains(view.id),
            Compiled::Keys {
                keys,
                variable,
                models,
            } => {
                let length_ok = if *variable {
                    view.keys.len() >= keys.len()
                } else {
                    view.keys.len() == keys.len()
                };
                if !length_ok {
                    return false;
                }
                let keys_ok = keys
                    .iter()
                    .zip(view.keys)
                    .all(|(pattern, key)| pattern.as_ref().is_none_or(|p| p == key));
                if !keys_ok {
                    return false;
                }
                if models.is_empty() {
                    return true;
                }
                match view.changed {
                    Some(changed) => models.iter().any(|m| m == changed),
                    None => view.has_any(models),
                }
            }
            Compiled::Member(test) => test.0.eval(view),
            Compiled::And(parts) => parts.iter().all(|p| p.matches(view)),
            Compiled::Or(parts) => parts.iter().any(|p| p.matches(view)),
        }
    }

    /// A short name of the clause kind, for the request log.
    pub fn kind_name(&self) -> &'static str {
        match self {
            Compiled::All => "none",
            Compiled::HashedKeys(_) => "hashed_keys",
            Compiled::Keys { .. } => "keys",
            Compiled::Member(_) => "member",
            Compiled::And(_) => "composite_and",
            Compiled::Or(_) => "composite_or",
        }
    }
}

const CURSOR_PREFIX: &str = "mt1.";

/// The opaque cursor pointing after the entity written at `seq`.
pub fn encode_cursor(seq: u64) -> String {
    format!("{CURSOR_PREFIX}{seq:x}")
}

/// Decodes a cursor; `""` is the first page, anything malformed is `INVALID_ARGUMENT`.
pub fn decode_cursor(cursor: &str) -> Result<Option<u64>, Status> {
    if cursor.is_empty() {
        return Ok(None);
    }
    cursor
        .strip_prefix(CURSOR_PREFIX)
        .filter(|hex| !hex.is_empty() && hex.len() <= 16)
        .and_then(|hex| u64::from_str_radix(hex, 16).ok())
        .map(Some)
        .ok_or_else(|| invalid(format!("invalid cursor {cursor:?}")))
}

/// Whether `addresses` (from a request) admit the world at `world`: empty admits every world.
pub fn world_admitted(addresses: &[Vec<u8>], world: &Bytes32) -> bool {
    addresses.is_empty() || addresses.iter().any(|a| pad32(a).as_ref() == Some(world))
}

/// One page of a retrieve.
#[derive(Debug, Default)]
pub struct Page {
    /// The entities of the page, newest write first.
    pub entities: Vec<types::Entity>,
    /// Cursor of the next page, `""` at the end.
    pub next_cursor: String,
}

/// A validated query.
#[derive(Debug)]
pub struct Plan {
    /// The compiled clause.
    pub clause: Compiled,
    /// Position to continue after (`None`: from the newest).
    pub after: Option<u64>,
    /// Page size.
    pub limit: usize,
    /// Models to return (empty: all).
    pub models: Vec<String>,
    /// Whether the world filter admits this world.
    pub world_ok: bool,
    /// Leave `hashed_keys` empty in the result.
    pub no_hashed_keys: bool,
}

impl Plan {
    /// Validates a wire query (a missing query is the default one).
    pub fn new(query: Option<&types::Query>, world: &Bytes32) -> Result<Plan, Status> {
        let default = types::Query::default();
        let query = query.unwrap_or(&default);
        let pagination = query.pagination.clone().unwrap_or_default();
        let limit = if pagination.limit == 0 {
            DEFAULT_LIMIT
        } else {
            pagination.limit
        };
        Ok(Plan {
            clause: compile(query.clause.as_ref())?,
            after: decode_cursor(&pagination.cursor)?,
            limit: limit as usize,
            models: query.models.clone(),
            world_ok: world_admitted(&query.world_addresses, world),
            no_hashed_keys: query.no_hashed_keys,
        })
    }

    /// Runs the plan over records given newest first (already positioned after the cursor).
    pub fn run<'a>(&self, records: impl Iterator<Item = &'a Record>, world: &Bytes32) -> Page {
        let mut page = Page::default();
        if !self.world_ok {
            return page;
        }
        let mut last_seq = None;
        for record in records {
            if record.models.is_empty() {
                continue;
            }
            let view = View::of(record);
            if !self.models.is_empty() && !view.has_any(&self.models) {
                continue;
            }
            if !self.clause.matches(&view) {
                continue;
            }
            if page.entities.len() == self.limit {
                // One more match exists: the page is full and there is a next one.
                if let Some(seq) = last_seq {
                    page.next_cursor = encode_cursor(seq);
                }
                break;
            }
            let models = if self.models.is_empty() {
                record.models.clone()
            } else {
                record
                    .models
                    .iter()
                    .filter(|m| self.models.contains(&m.name))
                    .cloned()
                    .collect()
            };
            page.entities.push(types::Entity {
                hashed_keys: if self.no_hashed_keys {
                    Vec::new()
                } else {
                    record.id.to_vec()
                },
                models,
                created_at: record.created_at,
                updated_at: record.updated_at,
                executed_at: record.executed_at,
                world_address: world.to_vec(),
            });
            last_seq = Some(record.seq);
        }
        page
    }
}
