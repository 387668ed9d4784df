//! The shape of each model, used to reject data whose member types do not match.
//!
//! Torii sends every value with its type. The first state seen for a model (or a schema registered
//! up front) fixes that model's shape; a later state whose members differ in name, key flag or type
//! is a [`SchemaMismatch`], never a silent overwrite with data of another shape.

use std::collections::HashMap;
use std::fmt;

/// The type of a primitive value.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[allow(missing_docs)]
pub enum PrimitiveType {
    I8,
    I16,
    I32,
    I64,
    I128,
    U8,
    U16,
    U32,
    U64,
    U128,
    U256,
    Bool,
    Felt252,
    ClassHash,
    ContractAddress,
    EthAddress,
}

impl PrimitiveType {
    /// The Cairo name of the type (`u32`, `felt252`, `ContractAddress`, ...).
    pub fn name(self) -> &'static str {
        match self {
            PrimitiveType::I8 => "i8",
            PrimitiveType::I16 => "i16",
            PrimitiveType::I32 => "i32",
            PrimitiveType::I64 => "i64",
            PrimitiveType::I128 => "i128",
            PrimitiveType::U8 => "u8",
            PrimitiveType::U16 => "u16",
            PrimitiveType::U32 => "u32",
            PrimitiveType::U64 => "u64",
            PrimitiveType::U128 => "u128",
            PrimitiveType::U256 => "u256",
            PrimitiveType::Bool => "bool",
            PrimitiveType::Felt252 => "felt252",
            PrimitiveType::ClassHash => "ClassHash",
            PrimitiveType::ContractAddress => "ContractAddress",
            PrimitiveType::EthAddress => "EthAddress",
        }
    }
}

impl crate::Primitive {
    /// The type of this primitive.
    pub fn ty(&self) -> PrimitiveType {
        use crate::Primitive as P;
        match self {
            P::I8(_) => PrimitiveType::I8,
            P::I16(_) => PrimitiveType::I16,
            P::I32(_) => PrimitiveType::I32,
            P::I64(_) => PrimitiveType::I64,
            P::I128(_) => PrimitiveType::I128,
            P::U8(_) => PrimitiveType::U8,
            P::U16(_) => PrimitiveType::U16,
            P::U32(_) => PrimitiveType::U32,
            P::U64(_) => PrimitiveType::U64,
            P::U128(_) => PrimitiveType::U128,
            P::U256(_) => PrimitiveType::U256,
            P::Bool(_) => PrimitiveType::Bool,
            P::Felt252(_) => PrimitiveType::Felt252,
            P::ClassHash(_) => PrimitiveType::ClassHash,
            P::ContractAddress(_) => PrimitiveType::ContractAddress,
            P::EthAddress(_) => PrimitiveType::EthAddress,
        }
    }
}

/// The shape of a value: what a model's members must look like.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Ty {
    /// A primitive type.
    Primitive(PrimitiveType),
    /// A struct: name and `(member name, is key, type)` in declaration order.
    Struct {
        /// Struct name (the model tag for a model).
        name: String,
        /// Members in declaration order.
        members: Vec<(String, bool, Ty)>,
    },
    /// An enum: name and `(variant name, payload type)` for every option.
    Enum {
        /// Enum name.
        name: String,
        /// Every option in order.
        options: Vec<(String, Ty)>,
    },
    /// A tuple of these types.
    Tuple(Vec<Ty>),
    /// A dynamic array; the element type is unknown while only empty arrays were seen.
    Array(Option<Box<Ty>>),
    /// A fixed-size array of `size` elements.
    FixedSizeArray {
        /// Element type, unknown when the size is zero.
        element: Option<Box<Ty>>,
        /// Number of elements.
        size: u32,
    },
    /// A `ByteArray` string.
    ByteArray,
}

impl fmt::Display for Ty {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Ty::Primitive(p) => f.write_str(p.name()),
            Ty::Struct { name, .. } => write!(f, "struct {name}"),
            Ty::Enum { name, .. } => write!(f, "enum {name}"),
            Ty::Tuple(items) => {
                f.write_str("(")?;
                for (i, item) in items.iter().enumerate() {
                    if i > 0 {
                        f.write_str(", ")?;
                    }
                    write!(f, "{item}")?;
                }
                f.write_str(")")
            }
            Ty::Array(Some(element)) => write!(f, "Array<{element}>"),
            Ty::Array(None) => f.write_str("Array<?>"),
            Ty::FixedSizeArray {
                element: Some(element),
                size,
            } => write!(f, "[{element}; {size}]"),
            Ty::FixedSizeArray {
                element: None,
                size,
            } => write!(f, "[?; {size}]"),
            Ty::ByteArray => f.write_str("ByteArray"),
        }
    }
}

/// A model state whose shape differs from the model's known shape.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("model {model}: member `{path}` should be {expected} but the server sent {found}")]
pub struct SchemaMismatch {
    /// Model tag.
    pub model: String,
    /// Dotted path of the first differing member (`"<model>"` for the whole model).
    pub path: String,
    /// What the known shape says.
    pub expected: String,
    /// What arrived.
    pub found: String,
}

impl Ty {
    /// The shape of Cairo's unit value `()` (the payload of unit enum variants).
    pub fn unit() -> Ty {
        Ty::Tuple(Vec::new())
    }

    /// The first difference between this shape and `found`, as `(path, expected, found)`, or
    /// `None` when `found` has this shape. An unknown array element type accepts any elements.
    pub fn difference(&self, found: &Ty) -> Option<(String, String, String)> {
        self.diff_at(found, String::new())
    }

    fn diff_at(&self, found: &Ty, path: String) -> Option<(String, String, String)> {
        let join = |path: &str, name: &str| {
            if path.is_empty() {
                name.to_owned()
            } else {
                format!("{path}.{name}")
            }
        };
        let mismatch = |path: String| Some((path, self.to_string(), found.to_string()));
        match (self, found) {
            (Ty::Primitive(a), Ty::Primitive(b)) if a == b => None,
            (Ty::ByteArray, Ty::ByteArray) => None,
            (
                Ty::Struct { name, members },
                Ty::Struct {
                    name: found_name,
                    members: found_members,
                },
            ) if name == found_name => {
                for (i, (member, key, ty)) in members.iter().enumerate() {
                    let at = join(&path, member);
                    match found_members.get(i) {
                        Some((n, k, t)) if n == member && k == key => {
                            if let Some(diff) = ty.diff_at(t, at) {
                                return Some(diff);
                            }
                        }
                        Some((n, k, t)) => {
                            let shown = format!("{}{n}: {t}", if *k { "key " } else { "" });
                            let wanted =
                                format!("{}{member}: {ty}", if *key { "key " } else { "" });
                            return Some((at, wanted, shown));
                        }
                        None => return Some((at, ty.to_string(), "nothing".to_owned())),
                    }
                }
                found_members.get(members.len()).map(|(extra, _, t)| {
                    (
                        join(&path, extra),
                        "no such member".to_owned(),
                        t.to_string(),
                    )
                })
            }
            (
                Ty::Enum { name, options },
                Ty::Enum {
                    name: found_name,
                    options: found_options,
                },
            ) if name == found_name && options.len() == found_options.len() => options
                .iter()
                .zip(found_options)
                .find_map(|((variant, ty), (found_variant, found_ty))| {
                    if variant != found_variant {
                        return Some((
                            join(&path, variant),
                            variant.clone(),
                            found_variant.clone(),
                        ));
                    }
                    ty.diff_at(found_ty, join(&path, variant))
                }),
            (Ty::Tuple(items), Ty::Tuple(found_items)) if items.len() == found_items.len() => items
                .iter()
                .zip(found_items)
                .enumerate()
                .find_map(|(i, (a, b))| a.diff_at(b, join(&path, &i.to_string()))),
            (Ty::Array(element), Ty::Array(found_element)) => match (element, found_element) {
                (Some(a), Some(b)) => a.diff_at(b, join(&path, "[]")),
                _ => None,
            },
            (
                Ty::FixedSizeArray { element, size },
                Ty::FixedSizeArray {
                    element: found_element,
                    size: found_size,
                },
            ) if size == found_size => match (element, found_element) {
                (Some(a), Some(b)) => a.diff_at(b, join(&path, "[]")),
                _ => None,
            },
            _ => mismatch(if path.is_empty() {
                "<model>".to_owned()
            } else {
                path
            }),
        }
    }
}

/// Known model shapes by model tag.
#[derive(Debug, Clone, Default)]
pub struct SchemaRegistry {
    models: HashMap<String, Ty>,
}

impl SchemaRegistry {
    /// An empty registry: every model's shape is learned from its first state.
    pub fn new() -> Self {
        Self::default()
    }

    /// Registers (or replaces) the shape of a model.
    pub fn register(&mut self, model: impl Into<String>, ty: Ty) {
        self.models.insert(model.into(), ty);
    }

    /// The known shape of a model.
    pub fn get(&self, model: &str) -> Option<&Ty> {
        self.models.get(model)
    }

    /// Checks a model state's shape against the known one, learning it when it is the first.
    pub fn check_or_learn(&mut self, model: &str, found: Ty) -> Result<(), SchemaMismatch> {
        match self.models.get(model) {
            None => {
                self.models.insert(model.to_owned(), found);
                Ok(())
            }
            Some(known) => match known.difference(&found) {
                None => Ok(()),
                Some((path, expected, found)) => Err(SchemaMismatch {
                    model: model.to_owned(),
                    path,
                    expected,
                    found,
                }),
            },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn model(members: Vec<(&str, bool, Ty)>) -> Ty {
        Ty::Struct {
            name: "arena-Player".into(),
            members: members
                .into_iter()
                .map(|(n, k, t)| (n.to_owned(), k, t))
                .collect(),
        }
    }

    #[test]
    fn first_state_is_learned_and_later_ones_must_match() {
        let mut registry = SchemaRegistry::new();
        let shape = model(vec![
            (
                "player",
                true,
                Ty::Primitive(PrimitiveType::ContractAddress),
            ),
            ("gold", false, Ty::Primitive(PrimitiveType::U64)),
        ]);
        registry
            .check_or_learn("arena-Player", shape.clone())
            .unwrap();
        registry.check_or_learn("arena-Player", shape).unwrap();
        let wrong = model(vec![
            (
                "player",
                true,
                Ty::Primitive(PrimitiveType::ContractAddress),
            ),
            ("gold", false, Ty::Primitive(PrimitiveType::U32)),
        ]);
        let err = registry.check_or_learn("arena-Player", wrong).unwrap_err();
        assert_eq!(err.path, "gold");
        assert_eq!(err.expected, "u64");
        assert_eq!(err.found, "u32");
        assert!(err.to_string().contains("member `gold` should be u64"));
    }

    #[test]
    fn missing_extra_and_rekeyed_members_are_differences() {
        let base = model(vec![
            ("a", true, Ty::ByteArray),
            ("b", false, Ty::ByteArray),
        ]);
        let missing = model(vec![("a", true, Ty::ByteArray)]);
        let extra = model(vec![
            ("a", true, Ty::ByteArray),
            ("b", false, Ty::ByteArray),
            ("c", false, Ty::ByteArray),
        ]);
        let rekeyed = model(vec![
            ("a", false, Ty::ByteArray),
            ("b", false, Ty::ByteArray),
        ]);
        assert_eq!(base.difference(&missing).unwrap().0, "b");
        assert_eq!(base.difference(&extra).unwrap().0, "c");
        assert_eq!(base.difference(&rekeyed).unwrap().0, "a");
    }

    #[test]
    fn unknown_array_elements_accept_anything_known_ones_do_not() {
        let unknown = Ty::Array(None);
        let of_u32 = Ty::Array(Some(Box::new(Ty::Primitive(PrimitiveType::U32))));
        let of_u8 = Ty::Array(Some(Box::new(Ty::Primitive(PrimitiveType::U8))));
        assert!(unknown.difference(&of_u32).is_none());
        assert!(of_u32.difference(&unknown).is_none());
        assert_eq!(of_u32.difference(&of_u8).unwrap().0, "[]");
    }
}
