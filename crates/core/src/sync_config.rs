//! Which models to sync, and which member (if any) is a game-defined monotonic version.
//!
//! A game may keep a member such as `last_updated_at` that only ever grows with every write to
//! a model. Naming it here makes the [`Ledger`](crate::Ledger) compare it before Torii's
//! timestamps (which have one-second resolution). The member must be a non-key, top-level
//! integer or `felt252` member of the model in the manifest.

use std::collections::HashSet;

use serde::Deserialize;

use crate::cairo_type::CairoType;
use crate::manifest::{Manifest, ResourceKind};
use crate::schema::PrimitiveType;

/// One model to sync, as the caller writes it: a bare tag, or `{ tag, versionMember? }`.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(untagged)]
pub enum ModelSyncSpec {
    /// Just the tag: sync the model, versions from Torii's timestamps only.
    Tag(String),
    /// The tag and an optional version member.
    Detailed {
        /// The model (or event) tag.
        tag: String,
        /// Name of the game-defined monotonic version member.
        #[serde(default, rename = "versionMember")]
        version_member: Option<String>,
    },
}

impl ModelSyncSpec {
    /// A spec with a version member.
    pub fn with_version(tag: impl Into<String>, member: impl Into<String>) -> Self {
        ModelSyncSpec::Detailed {
            tag: tag.into(),
            version_member: Some(member.into()),
        }
    }

    fn parts(&self) -> (&str, Option<&str>) {
        match self {
            ModelSyncSpec::Tag(tag) => (tag, None),
            ModelSyncSpec::Detailed {
                tag,
                version_member,
            } => (tag, version_member.as_deref()),
        }
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct SyncConfigJson {
    models: Vec<ModelSyncSpec>,
}

/// A validated per-model sync configuration entry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ModelSync {
    /// The tag.
    pub tag: String,
    /// Model or event.
    pub kind: ResourceKind,
    /// The version member and its type, when configured.
    pub version_member: Option<(String, PrimitiveType)>,
}

/// Why a sync configuration was rejected.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SyncConfigError {
    /// The configuration JSON is malformed.
    #[error("sync configuration: {0}")]
    Json(String),
    /// A tag that the manifest does not define.
    #[error("sync configuration: the manifest has no model or event {tag:?}")]
    UnknownModel {
        /// The tag.
        tag: String,
    },
    /// A model listed twice.
    #[error("sync configuration: {tag} is listed more than once")]
    DuplicateModel {
        /// The tag.
        tag: String,
    },
    /// A version member the model does not have.
    #[error("sync configuration: {model} has no member {member:?} to use as its version")]
    UnknownVersionMember {
        /// The tag.
        model: String,
        /// The member name.
        member: String,
    },
    /// A key member named as version (keys never change).
    #[error("sync configuration: {model}.{member} is a key and cannot be a version")]
    KeyVersionMember {
        /// The tag.
        model: String,
        /// The member name.
        member: String,
    },
    /// A version member that is not an integer or felt252.
    #[error("sync configuration: {model}.{member} has type {ty}, a version must be an integer or felt252")]
    NotAVersionType {
        /// The tag.
        model: String,
        /// The member name.
        member: String,
        /// Its type as the manifest writes it.
        ty: String,
    },
}

/// The validated set of models to sync.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct SyncConfig {
    models: Vec<ModelSync>,
}

fn version_type(ty: &str) -> Option<PrimitiveType> {
    let primitive = CairoType::parse(ty).ok()?.primitive()?;
    match primitive {
        PrimitiveType::Bool
        | PrimitiveType::ClassHash
        | PrimitiveType::ContractAddress
        | PrimitiveType::EthAddress => None,
        other => Some(other),
    }
}

impl SyncConfig {
    /// Validates `specs` against the manifest.
    pub fn new(
        manifest: &Manifest,
        specs: impl IntoIterator<Item = ModelSyncSpec>,
    ) -> Result<SyncConfig, SyncConfigError> {
        let mut models = Vec::new();
        let mut seen = HashSet::new();
        for spec in specs {
            let (tag, member) = spec.parts();
            let (kind, entry) =
                manifest
                    .resource(tag)
                    .ok_or_else(|| SyncConfigError::UnknownModel {
                        tag: tag.to_owned(),
                    })?;
            if !seen.insert(tag.to_owned()) {
                return Err(SyncConfigError::DuplicateModel {
                    tag: tag.to_owned(),
                });
            }
            let version_member = match member {
                None => None,
                Some(name) => {
                    let signature =
                        entry
                            .members
                            .iter()
                            .find(|m| m.name == name)
                            .ok_or_else(|| SyncConfigError::UnknownVersionMember {
                                model: tag.to_owned(),
                                member: name.to_owned(),
                            })?;
                    if signature.key {
                        return Err(SyncConfigError::KeyVersionMember {
                            model: tag.to_owned(),
                            member: name.to_owned(),
                        });
                    }
                    let ty = version_type(&signature.ty).ok_or_else(|| {
                        SyncConfigError::NotAVersionType {
                            model: tag.to_owned(),
                            member: name.to_owned(),
                            ty: signature.ty.clone(),
                        }
                    })?;
                    Some((name.to_owned(), ty))
                }
            };
            models.push(ModelSync {
                tag: tag.to_owned(),
                kind,
                version_member,
            });
        }
        Ok(SyncConfig { models })
    }

    /// Every model of the manifest (not events), with no version members.
    pub fn all_models(manifest: &Manifest) -> SyncConfig {
        SyncConfig {
            models: manifest
                .models
                .iter()
                .map(|m| ModelSync {
                    tag: m.tag.clone(),
                    kind: ResourceKind::Model,
                    version_member: None,
                })
                .collect(),
        }
    }

    /// Parses `{"models": ["ns-A", {"tag": "ns-B", "versionMember": "last_updated_at"}]}`
    /// and validates it against the manifest.
    pub fn from_json_str(manifest: &Manifest, text: &str) -> Result<SyncConfig, SyncConfigError> {
        let parsed: SyncConfigJson =
            serde_json::from_str(text).map_err(|e| SyncConfigError::Json(e.to_string()))?;
        SyncConfig::new(manifest, parsed.models)
    }

    /// The configured models, in the order given.
    pub fn models(&self) -> &[ModelSync] {
        &self.models
    }

    /// The entry for a tag.
    pub fn get(&self, tag: &str) -> Option<&ModelSync> {
        self.models.iter().find(|m| m.tag == tag)
    }

    /// The version member of a model, when configured.
    pub fn version_member(&self, tag: &str) -> Option<&str> {
        self.get(tag)?
            .version_member
            .as_ref()
            .map(|(n, _)| n.as_str())
    }

    /// Tags of the configured models (for `Query.models` and subscription clauses).
    pub fn tags(&self) -> impl Iterator<Item = &str> {
        self.models.iter().map(|m| m.tag.as_str())
    }
}
