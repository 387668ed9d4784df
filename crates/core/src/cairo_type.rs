//! Cairo type names as written in a Dojo manifest (`core::integer::u8`, `(u8, felt252)`,
//! `core::array::Array::<ns::models::Vec2>`, `[u8; 3]`) parsed and resolved into [`Ty`] shapes.

use std::collections::HashMap;

use crate::schema::{PrimitiveType, Ty};

/// Deepest nesting accepted, so hostile input cannot exhaust the stack.
const MAX_DEPTH: usize = 32;

/// A parsed Cairo type name.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum CairoType {
    /// `a::b::C` with optional generic arguments `::<T, U>`.
    Path { path: String, args: Vec<CairoType> },
    /// `(A, B)`; `()` is unit.
    Tuple(Vec<CairoType>),
    /// `[T; N]`.
    FixedArray(Box<CairoType>, u32),
    /// `@T` (a snapshot, same shape as `T`).
    Snapshot(Box<CairoType>),
}

impl CairoType {
    /// Parses a type name; the error says what is wrong.
    pub(crate) fn parse(text: &str) -> Result<CairoType, String> {
        let mut parser = Parser {
            text: text.as_bytes(),
            pos: 0,
        };
        let ty = parser.ty(0)?;
        parser.skip_ws();
        if parser.pos != parser.text.len() {
            return Err(format!("unexpected text at offset {}", parser.pos));
        }
        Ok(ty)
    }

    /// The canonical spelling (no spaces except after commas and semicolons).
    pub(crate) fn canonical(&self) -> String {
        match self {
            CairoType::Path { path, args } if args.is_empty() => path.clone(),
            CairoType::Path { path, args } => format!("{path}::<{}>", canonical_list(args)),
            CairoType::Tuple(items) => format!("({})", canonical_list(items)),
            CairoType::FixedArray(element, size) => format!("[{}; {size}]", element.canonical()),
            CairoType::Snapshot(inner) => format!("@{}", inner.canonical()),
        }
    }

    /// The primitive this names, if it is one (full `core::` paths or short names).
    pub(crate) fn primitive(&self) -> Option<PrimitiveType> {
        match self {
            CairoType::Path { path, args } if args.is_empty() => primitive_named(path),
            _ => None,
        }
    }
}

/// The canonical spellings of `types`, joined by `, `.
fn canonical_list(types: &[CairoType]) -> String {
    let mut text = String::new();
    for (i, ty) in types.iter().enumerate() {
        if i > 0 {
            text.push_str(", ");
        }
        text.push_str(&ty.canonical());
    }
    text
}

fn primitive_named(path: &str) -> Option<PrimitiveType> {
    let short = match path.strip_prefix("core::") {
        Some(rest) => last_segment(rest),
        None if last_segment(path).len() == path.len() => path,
        None => return None,
    };
    Some(match short {
        "i8" => PrimitiveType::I8,
        "i16" => PrimitiveType::I16,
        "i32" => PrimitiveType::I32,
        "i64" => PrimitiveType::I64,
        "i128" => PrimitiveType::I128,
        "u8" => PrimitiveType::U8,
        "u16" => PrimitiveType::U16,
        "u32" => PrimitiveType::U32,
        "u64" => PrimitiveType::U64,
        "u128" => PrimitiveType::U128,
        "u256" => PrimitiveType::U256,
        "bool" => PrimitiveType::Bool,
        "felt252" | "bytes31" => PrimitiveType::Felt252,
        "ClassHash" => PrimitiveType::ClassHash,
        "ContractAddress" => PrimitiveType::ContractAddress,
        "EthAddress" => PrimitiveType::EthAddress,
        _ => return None,
    })
}

fn is_named(path: &str, short: &str) -> bool {
    path == short || (path.starts_with("core::") && last_segment(path) == short)
}

/// What follows the last `::` of `path` (all of it without one). Read byte by byte: a `&str`
/// pattern (`rsplit("::")`, `contains("::")`) links core's two-way substring searcher into the
/// page's module for these few names.
fn last_segment(path: &str) -> &str {
    match path.as_bytes().windows(2).rposition(|pair| pair == b"::") {
        Some(at) => &path[at + 2..],
        None => path,
    }
}

struct Parser<'a> {
    text: &'a [u8],
    pos: usize,
}

impl Parser<'_> {
    fn skip_ws(&mut self) {
        while self.text.get(self.pos).is_some_and(u8::is_ascii_whitespace) {
            self.pos += 1;
        }
    }

    fn peek(&mut self) -> Option<u8> {
        self.skip_ws();
        self.text.get(self.pos).copied()
    }

    fn eat(&mut self, token: &str) -> bool {
        self.skip_ws();
        let end = self.pos + token.len();
        if self.text.get(self.pos..end) == Some(token.as_bytes()) {
            self.pos = end;
            true
        } else {
            false
        }
    }

    fn expect(&mut self, token: &str) -> Result<(), String> {
        if self.eat(token) {
            Ok(())
        } else {
            Err(format!("expected `{token}` at offset {}", self.pos))
        }
    }

    fn ty(&mut self, depth: usize) -> Result<CairoType, String> {
        if depth > MAX_DEPTH {
            return Err(format!("nested deeper than {MAX_DEPTH} levels"));
        }
        match self.peek() {
            Some(b'(') => {
                self.pos += 1;
                let items = self.list(b')', depth)?;
                Ok(CairoType::Tuple(items))
            }
            Some(b'[') => {
                self.pos += 1;
                let element = self.ty(depth + 1)?;
                self.expect(";")?;
                self.skip_ws();
                let start = self.pos;
                while self.text.get(self.pos).is_some_and(u8::is_ascii_digit) {
                    self.pos += 1;
                }
                let digits = std::str::from_utf8(self.text.get(start..self.pos).unwrap_or(&[]))
                    .map_err(|_| "bad array size".to_owned())?;
                let size = digits
                    .parse::<u32>()
                    .map_err(|_| format!("bad fixed-size array length at offset {start}"))?;
                self.expect("]")?;
                Ok(CairoType::FixedArray(Box::new(element), size))
            }
            Some(b'@') => {
                self.pos += 1;
                Ok(CairoType::Snapshot(Box::new(self.ty(depth + 1)?)))
            }
            Some(_) => self.path(depth),
            None => Err("empty type name".to_owned()),
        }
    }

    fn list(&mut self, close: u8, depth: usize) -> Result<Vec<CairoType>, String> {
        let mut items = Vec::new();
        if self.peek() == Some(close) {
            self.pos += 1;
            return Ok(items);
        }
        loop {
            items.push(self.ty(depth + 1)?);
            match self.peek() {
                Some(b',') => {
                    self.pos += 1;
                    if self.peek() == Some(close) {
                        self.pos += 1;
                        return Ok(items);
                    }
                }
                Some(c) if c == close => {
                    self.pos += 1;
                    return Ok(items);
                }
                _ => return Err(format!("expected `,` or `{}`", close as char)),
            }
        }
    }

    fn ident(&mut self) -> Result<&str, String> {
        self.skip_ws();
        let start = self.pos;
        while self
            .text
            .get(self.pos)
            .is_some_and(|c| c.is_ascii_alphanumeric() || *c == b'_')
        {
            self.pos += 1;
        }
        let ident = self.text.get(start..self.pos).unwrap_or(&[]);
        if ident.is_empty() {
            return Err(format!("expected a name at offset {start}"));
        }
        std::str::from_utf8(ident).map_err(|_| "bad name".to_owned())
    }

    fn path(&mut self, depth: usize) -> Result<CairoType, String> {
        let mut path = self.ident()?.to_owned();
        let mut args = Vec::new();
        while self.eat("::") {
            if self.eat("<") {
                args = self.list(b'>', depth)?;
                break;
            }
            path.push_str("::");
            path.push_str(self.ident()?);
        }
        if args.is_empty() && self.eat("<") {
            // Short generic form `Array<u8>`.
            args = self.list(b'>', depth)?;
        }
        Ok(CairoType::Path { path, args })
    }
}

/// A user type from a manifest ABI: a struct's or an enum's `(name, type)` list.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum TypeDef {
    Struct(Vec<(String, String)>),
    Enum(Vec<(String, String)>),
}

/// Resolves parsed type names into shapes using the user types of the manifest's ABIs.
pub(crate) struct Resolver<'a> {
    pub(crate) defs: &'a HashMap<String, TypeDef>,
}

impl Resolver<'_> {
    /// The shape of a type name, or why it cannot be resolved.
    pub(crate) fn resolve_text(&self, text: &str) -> Result<Ty, String> {
        let parsed = CairoType::parse(text)?;
        self.resolve(&parsed, 0)
    }

    fn resolve(&self, ty: &CairoType, depth: usize) -> Result<Ty, String> {
        if depth > MAX_DEPTH {
            return Err(format!(
                "types nested deeper than {MAX_DEPTH} levels (recursive type?)"
            ));
        }
        if let Some(p) = ty.primitive() {
            return Ok(Ty::Primitive(p));
        }
        match ty {
            CairoType::Tuple(items) => {
                let mut types = Vec::with_capacity(items.len());
                for t in items {
                    types.push(self.resolve(t, depth + 1)?);
                }
                Ok(Ty::Tuple(types))
            }
            CairoType::FixedArray(element, size) => Ok(Ty::FixedSizeArray {
                element: Some(Box::new(self.resolve(element, depth + 1)?)),
                size: *size,
            }),
            CairoType::Snapshot(inner) => self.resolve(inner, depth + 1),
            CairoType::Path { path, args } => {
                if is_named(path, "ByteArray") && args.is_empty() {
                    return Ok(Ty::ByteArray);
                }
                if (is_named(path, "Array") || is_named(path, "Span")) && args.len() == 1 {
                    let element = args.first().ok_or("Array needs an element type")?;
                    return Ok(Ty::Array(Some(Box::new(self.resolve(element, depth + 1)?))));
                }
                if is_named(path, "Option") && args.len() == 1 {
                    let inner = args.first().ok_or("Option needs a type")?;
                    return Ok(Ty::Enum {
                        name: format!("Option<{}>", inner.canonical()),
                        options: vec![
                            ("Some".to_owned(), self.resolve(inner, depth + 1)?),
                            ("None".to_owned(), Ty::unit()),
                        ],
                    });
                }
                let canonical = ty.canonical();
                let short = last_segment(path).to_owned();
                match self.defs.get(&canonical) {
                    Some(TypeDef::Struct(members)) => {
                        let mut resolved = Vec::with_capacity(members.len());
                        for (name, t) in members {
                            resolved.push((name.clone(), false, self.resolve_in(t, depth)?));
                        }
                        Ok(Ty::Struct {
                            name: short,
                            members: resolved,
                        })
                    }
                    Some(TypeDef::Enum(variants)) => {
                        let mut options = Vec::with_capacity(variants.len());
                        for (name, t) in variants {
                            options.push((name.clone(), self.resolve_in(t, depth)?));
                        }
                        Ok(Ty::Enum {
                            name: short,
                            options,
                        })
                    }
                    None => Err(format!(
                        "type `{canonical}` is not a Cairo primitive and the manifest's ABIs do \
                         not define it"
                    )),
                }
            }
        }
    }

    fn resolve_in(&self, text: &str, depth: usize) -> Result<Ty, String> {
        let parsed = CairoType::parse(text)?;
        self.resolve(&parsed, depth + 1)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_paths_generics_tuples_and_arrays() {
        let ty =
            CairoType::parse("core::array::Array::<(core::integer::u8, [felt252; 3])>").unwrap();
        assert_eq!(
            ty.canonical(),
            "core::array::Array::<(core::integer::u8, [felt252; 3])>"
        );
        assert_eq!(
            CairoType::parse("Array<u8>").unwrap().canonical(),
            "Array::<u8>"
        );
        assert_eq!(CairoType::parse("()").unwrap(), CairoType::Tuple(vec![]));
        for bad in ["", "core::", "(u8", "[u8; x]", "u8 u8", "a::<b"] {
            assert!(CairoType::parse(bad).is_err(), "{bad:?}");
        }
        let deep = format!("{}u8{}", "(".repeat(100), ")".repeat(100));
        assert!(CairoType::parse(&deep).is_err());
    }

    #[test]
    fn resolves_primitives_containers_and_abi_types() {
        let mut defs = HashMap::new();
        defs.insert(
            "ns::models::Vec2".to_owned(),
            TypeDef::Struct(vec![
                ("x".into(), "core::integer::u32".into()),
                ("y".into(), "core::integer::i16".into()),
            ]),
        );
        defs.insert(
            "ns::models::Loop".to_owned(),
            TypeDef::Struct(vec![("next".into(), "ns::models::Loop".into())]),
        );
        let resolver = Resolver { defs: &defs };
        assert_eq!(
            resolver
                .resolve_text("core::starknet::contract_address::ContractAddress")
                .unwrap(),
            Ty::Primitive(PrimitiveType::ContractAddress)
        );
        assert_eq!(
            resolver
                .resolve_text("core::byte_array::ByteArray")
                .unwrap(),
            Ty::ByteArray
        );
        match resolver.resolve_text("ns::models::Vec2").unwrap() {
            Ty::Struct { name, members } => {
                assert_eq!(name, "Vec2");
                assert_eq!(members.len(), 2);
            }
            other => panic!("{other:?}"),
        }
        assert!(resolver.resolve_text("ns::models::Missing").is_err());
        assert!(resolver.resolve_text("ns::models::Loop").is_err());
        assert!(matches!(
            resolver
                .resolve_text("core::option::Option::<core::integer::u8>")
                .unwrap(),
            Ty::Enum { .. }
        ));
    }
}
