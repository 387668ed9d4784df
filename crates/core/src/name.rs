//! Shared names: model tags, struct, member, enum and variant names, and the one rule for which
//! names are accepted.
//!
//! The same few names repeat in every state of a model, so a name is a reference-counted string:
//! cloning one (as decoding thousands of states of one model does) copies a pointer instead of
//! allocating.
//!
//! # Which names are accepted
//!
//! Model and member names are Cairo identifiers: an ASCII letter or `_`, then ASCII letters,
//! digits or `_` ([`is_identifier`]). A namespace is what Dojo's world accepts for one: ASCII
//! letters, digits and `_` (a leading digit allowed, so a game may be called `2048`)
//! ([`is_namespace`]). A model's tag is `namespace-Model` ([`split_tag`]). Names such as
//! `__proto__`, `constructor` or `prototype` are valid: the JavaScript side builds its objects so
//! that such names are plain keys (see `crates/wasm/API.md`, "Names"). Wire rows and manifests
//! holding any other name are refused with a [`BadName`].

use std::borrow::Borrow;
use std::fmt;
use std::ops::Deref;
use std::sync::Arc;

/// An immutable, cheaply cloned name. Reads as a `&str`; compares and hashes as its text.
#[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Default)]
pub struct Name(Arc<str>);

impl Name {
    /// The name's text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl Deref for Name {
    type Target = str;

    fn deref(&self) -> &str {
        &self.0
    }
}

impl AsRef<str> for Name {
    fn as_ref(&self) -> &str {
        &self.0
    }
}

impl Borrow<str> for Name {
    fn borrow(&self) -> &str {
        &self.0
    }
}

impl From<&str> for Name {
    fn from(text: &str) -> Self {
        Name(Arc::from(text))
    }
}

impl From<String> for Name {
    fn from(text: String) -> Self {
        Name(Arc::from(text))
    }
}

impl From<&String> for Name {
    fn from(text: &String) -> Self {
        Name(Arc::from(text.as_str()))
    }
}

impl From<Name> for String {
    fn from(name: Name) -> Self {
        name.0.as_ref().to_owned()
    }
}

impl PartialEq<str> for Name {
    fn eq(&self, other: &str) -> bool {
        &*self.0 == other
    }
}

impl PartialEq<&str> for Name {
    fn eq(&self, other: &&str) -> bool {
        &*self.0 == *other
    }
}

impl PartialEq<String> for Name {
    fn eq(&self, other: &String) -> bool {
        &*self.0 == other.as_str()
    }
}

impl PartialEq<Name> for str {
    fn eq(&self, other: &Name) -> bool {
        self == &*other.0
    }
}

impl PartialEq<Name> for &str {
    fn eq(&self, other: &Name) -> bool {
        *self == &*other.0
    }
}

impl PartialEq<Name> for String {
    fn eq(&self, other: &Name) -> bool {
        self.as_str() == &*other.0
    }
}

impl fmt::Debug for Name {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&*self.0, f)
    }
}

impl fmt::Display for Name {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl serde::Serialize for Name {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&self.0)
    }
}

impl<'de> serde::Deserialize<'de> for Name {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        String::deserialize(deserializer).map(Name::from)
    }
}

/// Whether `text` is a Cairo identifier: an ASCII letter or `_` first, then ASCII letters,
/// digits or `_`.
pub fn is_identifier(text: &str) -> bool {
    let mut bytes = text.bytes();
    bytes
        .next()
        .is_some_and(|first| first.is_ascii_alphabetic() || first == b'_')
        && bytes.all(|c| c.is_ascii_alphanumeric() || c == b'_')
}

/// Whether `text` is a Dojo namespace: one or more ASCII letters, digits or `_`.
pub fn is_namespace(text: &str) -> bool {
    !text.is_empty() && text.bytes().all(|c| c.is_ascii_alphanumeric() || c == b'_')
}

/// `(namespace, model name)` of a valid tag `namespace-Model`, or `None`.
pub fn split_tag(tag: &str) -> Option<(&str, &str)> {
    let (namespace, name) = tag.split_once('-')?;
    (is_namespace(namespace) && is_identifier(name)).then_some((namespace, name))
}

/// Whether `tag` has the form `namespace-Model` (see the module documentation).
pub fn is_valid_tag(tag: &str) -> bool {
    split_tag(tag).is_some()
}

/// What kind of name a [`BadName`] is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NameKind {
    /// A model's tag (`namespace-Model`).
    Tag,
    /// A member of a model or of a struct inside one.
    Member,
}

/// A name that breaks the naming rule (see the module documentation).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{}", describe(*.kind, .name))]
pub struct BadName {
    /// What the name was for.
    pub kind: NameKind,
    /// The name (at most 80 characters of it).
    pub name: String,
}

fn describe(kind: NameKind, name: &str) -> String {
    match kind {
        NameKind::Tag => format!(
            "model tag {} is not namespace-Model (a namespace of ASCII letters, digits \
             and `_`, a dash, and a model name that is a Cairo identifier)",
            crate::Quoted(name)
        ),
        NameKind::Member => format!(
            "member name {} is not a Cairo identifier (an ASCII letter or `_`, then \
             letters, digits or `_`)",
            crate::Quoted(name)
        ),
    }
}

impl BadName {
    fn new(kind: NameKind, name: &str) -> BadName {
        BadName {
            kind,
            name: name.chars().take(80).collect(),
        }
    }
}

/// Checks a model tag, returning its `(namespace, model name)`.
pub fn check_tag(tag: &str) -> Result<(&str, &str), BadName> {
    split_tag(tag).ok_or_else(|| BadName::new(NameKind::Tag, tag))
}

/// Checks a member name.
pub fn check_member_name(name: &str) -> Result<(), BadName> {
    if is_identifier(name) {
        Ok(())
    } else {
        Err(BadName::new(NameKind::Member, name))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn javascript_special_names_are_identifiers() {
        for name in [
            "__proto__",
            "constructor",
            "prototype",
            "hasOwnProperty",
            "_",
            "a1",
        ] {
            assert!(is_identifier(name), "{name}");
            assert!(check_member_name(name).is_ok());
        }
        assert_eq!(
            check_tag("__proto__-constructor"),
            Ok(("__proto__", "constructor"))
        );
        assert_eq!(
            check_tag("constructor-assign"),
            Ok(("constructor", "assign"))
        );
        assert_eq!(check_tag("2048-Board"), Ok(("2048", "Board")));
    }

    #[test]
    fn anything_else_is_refused() {
        for name in [
            "", "1st", "a b", "a-b", "a.b", "é", "a\u{0}", "x[0]", " a", "-",
        ] {
            assert!(!is_identifier(name), "{name:?}");
            let error = check_member_name(name).unwrap_err();
            assert!(
                error.to_string().contains("not a Cairo identifier"),
                "{error}"
            );
        }
        for tag in [
            "", "ns", "ns-", "-M", "ns-1M", "n s-M", "ns-M-x", "ns-M x", "ns.x-M",
        ] {
            assert!(!is_valid_tag(tag), "{tag:?}");
            let error = check_tag(tag).unwrap_err();
            assert_eq!(error.kind, NameKind::Tag);
            assert!(error.to_string().contains("namespace-Model"), "{error}");
        }
        let long = "x y".repeat(100);
        assert_eq!(check_member_name(&long).unwrap_err().name.len(), 80);
    }

    proptest! {
        #[test]
        fn identifiers_match_the_cairo_rule(text in "\\PC{0,12}") {
            let expected = text
                .chars()
                .enumerate()
                .all(|(i, c)| c == '_' || c.is_ascii_alphabetic() || (i > 0 && c.is_ascii_digit()))
                && !text.is_empty();
            prop_assert_eq!(is_identifier(&text), expected);
        }

        #[test]
        fn valid_tags_split_into_a_namespace_and_an_identifier(
            namespace in "[A-Za-z0-9_]{1,8}",
            name in "[A-Za-z_][A-Za-z0-9_]{0,8}",
        ) {
            let tag = format!("{namespace}-{name}");
            prop_assert_eq!(check_tag(&tag), Ok((namespace.as_str(), name.as_str())));
        }
    }

    #[test]
    fn reads_compares_and_hashes_as_its_text() {
        let name = Name::from("arena-Player");
        assert_eq!(name, "arena-Player");
        assert_eq!("arena-Player", name);
        assert_eq!(name.len(), 12);
        assert_eq!(name.to_string(), "arena-Player");
        assert_eq!(format!("{name:?}"), "\"arena-Player\"");
        let mut set = std::collections::HashSet::new();
        set.insert(name.clone());
        assert!(set.contains("arena-Player"));
        assert_eq!(serde_json::to_string(&name).unwrap(), "\"arena-Player\"");
        let back: Name = serde_json::from_str("\"arena-Player\"").unwrap();
        assert_eq!(back, name);
    }
}
