//! Dojo manifests: parsing, the canonical manifest hash and the fingerprint kept with the data.
//!
//! A manifest (`manifest_<profile>.json`, written by `sozo`) lists the world and every model and
//! event with its tag (`namespace-Name`), class hash, selector and members (`name`, Cairo `type`,
//! `key`). Its ABIs (top-level `abis`, or `abi` arrays on the world, contracts, models and
//! events) define the user structs and enums that members refer to; they are only used to build
//! model shapes ([`Manifest::model_ty`]) and never enter the hash.
//!
//! # The canonical manifest hash
//!
//! [`compute_manifest_hash`] returns `"manifest-hash:v1:"` followed by the 64 lowercase hex
//! digits of the SHA-256 of [`canonical_manifest_bytes`], which are, with `str(s)` meaning the
//! UTF-8 length of `s` as a 4-byte big-endian integer followed by the bytes of `s`, and `u32(n)`
//! a 4-byte big-endian integer:
//!
//! ```text
//! "dojo-manifest/v1"                         16 ASCII bytes (domain separator)
//! 'W' world.class_hash                       1 byte + 32 bytes (big-endian felt)
//! 'M' u32(model count)  resource...          models sorted by tag (byte-wise)
//! 'E' u32(event count)  resource...          events sorted by tag (byte-wise)
//! resource = str(tag) class_hash(32 bytes) u32(member count) member...
//! member   = str(name) str(type) key(1 byte: 0 or 1)      members in declaration order
//! ```
//!
//! So the order of entries in the file does not change the hash (entries are sorted by tag),
//! felts are compared by value (`0x0abc` and `0xabc` hash alike), and any change to a member
//! (name, type text, key flag, order, addition, removal), a class hash or a tag changes it.
//! The world address, selectors (derived from tags), contracts and ABIs are not part of it.

use std::collections::{HashMap, HashSet};

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value as Json};
use sha2::{Digest, Sha256};

use crate::bytes32::Felt;
use crate::cairo_type::{Resolver, TypeDef};
use crate::name::{check_member_name, check_tag, is_identifier, BadName};
use crate::schema::{SchemaRegistry, Ty};

/// Prefix of every manifest hash produced by this version of the algorithm.
pub const MANIFEST_HASH_PREFIX: &str = "manifest-hash:v1:";

const DOMAIN: &[u8; 16] = b"dojo-manifest/v1";

/// A parsed Dojo manifest: what the hash and the sync configuration need.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Manifest {
    /// The world contract.
    pub world: WorldEntry,
    /// Models, in file order.
    pub models: Vec<ResourceEntry>,
    /// Events (event messages), in file order; empty when the manifest has none.
    pub events: Vec<ResourceEntry>,
    types: HashMap<String, TypeDef>,
}

/// The manifest's `world` entry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WorldEntry {
    /// Class hash of the world contract.
    pub class_hash: Felt,
    /// Deployed address, when the manifest has one.
    pub address: Option<Felt>,
    /// Seed, when present.
    pub seed: Option<String>,
    /// Human name, when present.
    pub name: Option<String>,
}

/// A model or event entry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ResourceEntry {
    /// The tag `namespace-Name`, which Torii uses as the model name.
    pub tag: String,
    /// Class hash of the model or event contract.
    pub class_hash: Felt,
    /// Selector (hash of the tag's parts), when present.
    pub selector: Option<Felt>,
    /// Members in declaration order.
    pub members: Vec<MemberSignature>,
}

/// One member's signature as the manifest writes it.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct MemberSignature {
    /// Member name.
    pub name: String,
    /// Cairo type name as written (e.g. `core::integer::u32`).
    #[serde(rename = "type")]
    pub ty: String,
    /// Whether the member is a key.
    pub key: bool,
}

/// Whether a tag names a model or an event.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum ResourceKind {
    /// A model (entities).
    Model,
    /// An event (event messages).
    Event,
}

/// What is wrong with a manifest; `at` is a JSON path such as `models[2].members[0].type`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ManifestError {
    /// The text is not JSON.
    #[error("manifest is not valid JSON: {0}")]
    Json(String),
    /// A required field is absent.
    #[error("manifest: `{at}` has no `{field}`")]
    Missing {
        /// Where.
        at: String,
        /// The missing field.
        field: &'static str,
    },
    /// A field of the wrong JSON type.
    #[error("manifest: `{at}` should be {expected}")]
    WrongType {
        /// Where.
        at: String,
        /// What it should be.
        expected: &'static str,
    },
    /// A hash, selector or address that is not a felt.
    #[error("manifest: `{at}` = {} is not a 0x-prefixed felt", crate::Quoted(.text))]
    BadFelt {
        /// Where.
        at: String,
        /// The rejected text (truncated).
        text: String,
    },
    /// A tag that is not `namespace-Model`, or a member name that is not a Cairo identifier
    /// (the rule is in [`crate::name`]).
    #[error("manifest: `{at}`: {source}")]
    BadName {
        /// Where.
        at: String,
        /// The rejected name and the rule it breaks.
        source: BadName,
    },
    /// Two models or events with the same tag.
    #[error("manifest: tag {} appears more than once", crate::Quoted(.tag))]
    DuplicateTag {
        /// The tag.
        tag: String,
    },
    /// Two members of one model with the same name.
    #[error("manifest: {tag} has two members named {}", crate::Quoted(.member))]
    DuplicateMember {
        /// The model or event tag.
        tag: String,
        /// The member name.
        member: String,
    },
    /// A member with an empty name or type.
    #[error("manifest: `{at}` is empty")]
    Empty {
        /// Where.
        at: String,
    },
    /// A tag the manifest does not define.
    #[error("manifest has no model or event {}", crate::Quoted(.tag))]
    UnknownModel {
        /// The tag asked for.
        tag: String,
    },
    /// A member type that cannot be turned into a shape.
    #[error("manifest: {tag}.{member} has type {} which cannot be resolved: {reason}", crate::Quoted(.ty))]
    UnresolvedType {
        /// The model or event tag.
        tag: String,
        /// The member.
        member: String,
        /// The type text.
        ty: String,
        /// Why.
        reason: String,
    },
}

fn truncated(text: &str) -> String {
    text.chars().take(80).collect()
}

fn object<'a>(value: &'a Json, at: &str) -> Result<&'a Map<String, Json>, ManifestError> {
    value.as_object().ok_or_else(|| ManifestError::WrongType {
        at: at.to_owned(),
        expected: "an object",
    })
}

fn string<'a>(
    map: &'a Map<String, Json>,
    at: &str,
    field: &'static str,
) -> Result<Option<&'a str>, ManifestError> {
    match map.get(field) {
        None | Some(Json::Null) => Ok(None),
        Some(Json::String(s)) => Ok(Some(s)),
        Some(_) => Err(ManifestError::WrongType {
            at: format!("{at}.{field}"),
            expected: "a string",
        }),
    }
}

fn required_string<'a>(
    map: &'a Map<String, Json>,
    at: &str,
    field: &'static str,
) -> Result<&'a str, ManifestError> {
    string(map, at, field)?.ok_or_else(|| ManifestError::Missing {
        at: at.to_owned(),
        field,
    })
}

fn felt(
    map: &Map<String, Json>,
    at: &str,
    field: &'static str,
) -> Result<Option<Felt>, ManifestError> {
    match string(map, at, field)? {
        None => Ok(None),
        Some(text) => Felt::from_hex(text)
            .map(Some)
            .map_err(|_| ManifestError::BadFelt {
                at: format!("{at}.{field}"),
                text: truncated(text),
            }),
    }
}

fn required_felt(
    map: &Map<String, Json>,
    at: &str,
    field: &'static str,
) -> Result<Felt, ManifestError> {
    felt(map, at, field)?.ok_or_else(|| ManifestError::Missing {
        at: at.to_owned(),
        field,
    })
}

fn array<'a>(
    map: &'a Map<String, Json>,
    at: &str,
    field: &'static str,
) -> Result<Option<&'a Vec<Json>>, ManifestError> {
    match map.get(field) {
        None | Some(Json::Null) => Ok(None),
        Some(Json::Array(items)) => Ok(Some(items)),
        Some(_) => Err(ManifestError::WrongType {
            at: format!("{at}.{field}"),
            expected: "an array",
        }),
    }
}

fn parse_resource(value: &Json, at: &str) -> Result<ResourceEntry, ManifestError> {
    let map = object(value, at)?;
    let tag = required_string(map, at, "tag")?;
    check_tag(tag).map_err(|source| ManifestError::BadName {
        at: format!("{at}.tag"),
        source,
    })?;
    let class_hash = required_felt(map, at, "class_hash")?;
    let selector = felt(map, at, "selector")?;
    let members_json = array(map, at, "members")?.ok_or_else(|| ManifestError::Missing {
        at: at.to_owned(),
        field: "members",
    })?;
    let mut members = Vec::with_capacity(members_json.len());
    let mut names = HashSet::with_capacity(members_json.len());
    for (i, member) in members_json.iter().enumerate() {
        let member_at = format!("{at}.members[{i}]");
        let member_map = object(member, &member_at)?;
        let name = required_string(member_map, &member_at, "name")?;
        let ty = required_string(member_map, &member_at, "type")?;
        check_member_name(name).map_err(|source| ManifestError::BadName {
            at: format!("{member_at}.name"),
            source,
        })?;
        if ty.trim().is_empty() {
            return Err(ManifestError::Empty {
                at: format!("{member_at}.type"),
            });
        }
        let key = match member_map.get("key") {
            None | Some(Json::Null) => false,
            Some(Json::Bool(key)) => *key,
            Some(_) => {
                return Err(ManifestError::WrongType {
                    at: format!("{member_at}.key"),
                    expected: "a boolean",
                })
            }
        };
        if !names.insert(name) {
            return Err(ManifestError::DuplicateMember {
                tag: tag.to_owned(),
                member: name.to_owned(),
            });
        }
        members.push(MemberSignature {
            name: name.to_owned(),
            ty: ty.to_owned(),
            key,
        });
    }
    Ok(ResourceEntry {
        tag: tag.to_owned(),
        class_hash,
        selector,
        members,
    })
}

/// Collects struct and enum definitions from an ABI array, skipping anything malformed (ABIs
/// are optional metadata; a bad entry only means a type stays unresolved).
fn collect_abi(abi: &Json, types: &mut HashMap<String, TypeDef>) {
    let Some(entries) = abi.as_array() else {
        return;
    };
    for entry in entries {
        let Some(map) = entry.as_object() else {
            continue;
        };
        let (Some(kind), Some(name)) = (
            map.get("type").and_then(Json::as_str),
            map.get("name").and_then(Json::as_str),
        ) else {
            continue;
        };
        let list_field = match kind {
            "struct" => "members",
            "enum" => "variants",
            _ => continue,
        };
        let Some(items) = map.get(list_field).and_then(Json::as_array) else {
            continue;
        };
        let text = |item: &Json, key: &str| item.get(key)?.as_str().map(str::to_owned);
        let mut fields = Some(Vec::with_capacity(items.len()));
        for item in items {
            match (text(item, "name"), text(item, "type"), fields.as_mut()) {
                (Some(name), Some(ty), Some(list)) => list.push((name, ty)),
                _ => fields = None,
            }
        }
        // A struct member that is not an identifier leaves the type unresolved (its values
        // are refused on the wire anyway).
        let Some(fields) = fields.filter(|fields| {
            kind != "struct" || fields.iter().all(|(name, _)| is_identifier(name))
        }) else {
            continue;
        };
        let key = match crate::cairo_type::CairoType::parse(name) {
            Ok(parsed) => parsed.canonical(),
            Err(_) => continue,
        };
        let def = if kind == "struct" {
            TypeDef::Struct(fields)
        } else {
            TypeDef::Enum(fields)
        };
        types.entry(key).or_insert(def);
    }
}

impl Manifest {
    /// Parses manifest JSON text.
    pub fn from_json_str(text: &str) -> Result<Manifest, ManifestError> {
        let value: Json =
            serde_json::from_str(text).map_err(|e| ManifestError::Json(e.to_string()))?;
        Manifest::from_json(&value)
    }

    /// Parses an already-decoded manifest JSON value.
    pub fn from_json(value: &Json) -> Result<Manifest, ManifestError> {
        let root = object(value, "$")?;
        let world_json = root.get("world").ok_or(ManifestError::Missing {
            at: "$".to_owned(),
            field: "world",
        })?;
        let world_map = object(world_json, "world")?;
        let world = WorldEntry {
            class_hash: required_felt(world_map, "world", "class_hash")?,
            address: felt(world_map, "world", "address")?,
            seed: string(world_map, "world", "seed")?.map(str::to_owned),
            name: string(world_map, "world", "name")?.map(str::to_owned),
        };
        let mut tags = HashSet::new();
        let mut sections = [Vec::new(), Vec::new()];
        for (section, field) in sections.iter_mut().zip(["models", "events"]) {
            for (i, entry) in array(root, "$", field)?
                .map(Vec::as_slice)
                .unwrap_or_default()
                .iter()
                .enumerate()
            {
                let resource = parse_resource(entry, &format!("{field}[{i}]"))?;
                if !tags.insert(resource.tag.clone()) {
                    return Err(ManifestError::DuplicateTag { tag: resource.tag });
                }
                section.push(resource);
            }
        }
        let [models, events] = sections;

        let mut types = HashMap::new();
        if let Some(abis) = root.get("abis") {
            collect_abi(abis, &mut types);
        }
        if let Some(abi) = world_map.get("abi") {
            collect_abi(abi, &mut types);
        }
        for field in ["contracts", "models", "events"] {
            if let Some(Json::Array(entries)) = root.get(field) {
                for entry in entries {
                    if let Some(abi) = entry.get("abi") {
                        collect_abi(abi, &mut types);
                    }
                }
            }
        }
        Ok(Manifest {
            world,
            models,
            events,
            types,
        })
    }

    /// A manifest built in code (no ABIs: only primitive, container and `Option` member types
    /// resolve into shapes).
    pub fn new(
        world: WorldEntry,
        models: Vec<ResourceEntry>,
        events: Vec<ResourceEntry>,
    ) -> Manifest {
        Manifest {
            world,
            models,
            events,
            types: HashMap::new(),
        }
    }

    /// The model or event with this tag, and which it is.
    pub fn resource(&self, tag: &str) -> Option<(ResourceKind, &ResourceEntry)> {
        if let Some(model) = self.models.iter().find(|m| m.tag == tag) {
            return Some((ResourceKind::Model, model));
        }
        self.events
            .iter()
            .find(|e| e.tag == tag)
            .map(|e| (ResourceKind::Event, e))
    }

    /// The shape of a model or event (a struct named by its tag), with user types resolved
    /// through the manifest's ABIs.
    pub fn model_ty(&self, tag: &str) -> Result<Ty, ManifestError> {
        let (_, entry) = self
            .resource(tag)
            .ok_or_else(|| ManifestError::UnknownModel {
                tag: tag.to_owned(),
            })?;
        let resolver = Resolver { defs: &self.types };
        let mut members = Vec::with_capacity(entry.members.len());
        for member in &entry.members {
            let ty = resolver.resolve_text(&member.ty).map_err(|reason| {
                ManifestError::UnresolvedType {
                    tag: tag.to_owned(),
                    member: member.name.clone(),
                    ty: truncated(&member.ty),
                    reason,
                }
            })?;
            members.push((member.name.clone(), member.key, ty));
        }
        Ok(Ty::Struct {
            name: tag.to_owned(),
            members,
        })
    }

    /// Shapes of every model and event, or the first member type that cannot be resolved.
    pub fn schemas(&self) -> Result<SchemaRegistry, ManifestError> {
        let mut registry = SchemaRegistry::new();
        for entry in self.models.iter().chain(&self.events) {
            registry.register(entry.tag.clone(), self.model_ty(&entry.tag)?);
        }
        Ok(registry)
    }

    /// This manifest's fingerprint (see [`build_manifest_fingerprint`]).
    pub fn fingerprint(&self) -> ManifestFingerprint {
        build_manifest_fingerprint(self)
    }
}

fn put_str(out: &mut Vec<u8>, text: &str) {
    out.extend_from_slice(&(text.len() as u32).to_be_bytes());
    out.extend_from_slice(text.as_bytes());
}

fn put_resource(out: &mut Vec<u8>, entry: &ResourceEntry) {
    put_str(out, &entry.tag);
    out.extend_from_slice(entry.class_hash.as_bytes());
    out.extend_from_slice(&(entry.members.len() as u32).to_be_bytes());
    for member in &entry.members {
        put_str(out, &member.name);
        put_str(out, &member.ty);
        out.push(u8::from(member.key));
    }
}

fn sorted(entries: &[ResourceEntry]) -> Vec<&ResourceEntry> {
    let mut sorted: Vec<&ResourceEntry> = entries.iter().collect();
    sorted.sort_by(|a, b| a.tag.cmp(&b.tag));
    sorted
}

/// The canonical byte serialization that the manifest hash is computed over (format in the
/// module documentation).
pub fn canonical_manifest_bytes(manifest: &Manifest) -> Vec<u8> {
    let mut out = Vec::with_capacity(1024);
    out.extend_from_slice(DOMAIN);
    out.push(b'W');
    out.extend_from_slice(manifest.world.class_hash.as_bytes());
    for (marker, entries) in [(b'M', &manifest.models), (b'E', &manifest.events)] {
        out.push(marker);
        out.extend_from_slice(&(entries.len() as u32).to_be_bytes());
        for entry in sorted(entries) {
            put_resource(&mut out, entry);
        }
    }
    out
}

/// `"manifest-hash:v1:"` + hex SHA-256 of [`canonical_manifest_bytes`].
pub fn compute_manifest_hash(manifest: &Manifest) -> String {
    let digest = Sha256::digest(canonical_manifest_bytes(manifest));
    format!("{MANIFEST_HASH_PREFIX}{}", hex::encode(digest))
}

/// Plain-data summary of a manifest, stored next to synced data and compared on start.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ManifestFingerprint {
    /// The manifest hash ([`compute_manifest_hash`]).
    pub hash: String,
    /// World class hash, `0x` + 64 hex digits.
    pub world_class_hash: String,
    /// One entry per model and event, sorted by tag.
    pub entries: Vec<FingerprintEntry>,
}

/// One model's or event's part of a [`ManifestFingerprint`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct FingerprintEntry {
    /// The tag.
    pub tag: String,
    /// Model or event.
    pub kind: ResourceKind,
    /// Class hash, `0x` + 64 hex digits.
    pub class_hash: String,
    /// Hex SHA-256 of this entry's canonical `resource` record (tag, class hash, members).
    pub signature: String,
    /// Number of members.
    pub member_count: usize,
}

/// How two fingerprints differ, entry by entry.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", tag = "change")]
pub enum FingerprintChange {
    /// The world class hash differs.
    World,
    /// A model or event only the newer fingerprint has.
    Added {
        /// Its tag.
        tag: String,
    },
    /// A model or event only the older fingerprint has.
    Removed {
        /// Its tag.
        tag: String,
    },
    /// A model or event whose class hash or members differ.
    Changed {
        /// Its tag.
        tag: String,
    },
}

/// Builds the fingerprint of a manifest.
pub fn build_manifest_fingerprint(manifest: &Manifest) -> ManifestFingerprint {
    let mut entries = Vec::with_capacity(manifest.models.len() + manifest.events.len());
    for (kind, list) in [
        (ResourceKind::Model, &manifest.models),
        (ResourceKind::Event, &manifest.events),
    ] {
        for entry in list {
            let mut record = Vec::new();
            put_resource(&mut record, entry);
            entries.push(FingerprintEntry {
                tag: entry.tag.clone(),
                kind,
                class_hash: entry.class_hash.to_hex(),
                signature: hex::encode(Sha256::digest(&record)),
                member_count: entry.members.len(),
            });
        }
    }
    entries.sort_by(|a, b| a.tag.cmp(&b.tag));
    ManifestFingerprint {
        hash: compute_manifest_hash(manifest),
        world_class_hash: manifest.world.class_hash.to_hex(),
        entries,
    }
}

impl ManifestFingerprint {
    /// What changed from `self` (the stored fingerprint) to `newer`; empty when the hashes match.
    pub fn diff(&self, newer: &ManifestFingerprint) -> Vec<FingerprintChange> {
        let mut changes = Vec::new();
        if self.world_class_hash != newer.world_class_hash {
            changes.push(FingerprintChange::World);
        }
        let old: HashMap<&str, &FingerprintEntry> =
            self.entries.iter().map(|e| (e.tag.as_str(), e)).collect();
        let new: HashMap<&str, &FingerprintEntry> =
            newer.entries.iter().map(|e| (e.tag.as_str(), e)).collect();
        for entry in &newer.entries {
            match old.get(entry.tag.as_str()) {
                None => changes.push(FingerprintChange::Added {
                    tag: entry.tag.clone(),
                }),
                Some(before) if before.signature != entry.signature => {
                    changes.push(FingerprintChange::Changed {
                        tag: entry.tag.clone(),
                    })
                }
                Some(_) => {}
            }
        }
        for entry in &self.entries {
            if !new.contains_key(entry.tag.as_str()) {
                changes.push(FingerprintChange::Removed {
                    tag: entry.tag.clone(),
                });
            }
        }
        changes
    }
}

#[cfg(test)]
#[path = "manifest_tests.rs"]
mod tests;
