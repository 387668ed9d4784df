//! The sync worker's configuration (`WorkerConfig` of `API.md`): parsed, checked against the
//! manifest, and turned into what the synchronizers, the transport and the database need.

use std::collections::BTreeMap;

use dojo_reactive_core::sync::{
    Retention, SyncOptions, SyncSetup, SyncTarget, TargetKind, TargetScope,
};
use dojo_reactive_core::{
    clause_from_json, Felt, Filter, FilterSpec, Manifest, ManifestFingerprint, ModelSyncSpec,
    ResourceKind, SchemaRegistry, SyncConfig,
};
use dojo_reactive_storage::{default_db_name, DataOrigin};
use serde::Deserialize;

use crate::delta::DEFAULT_DELTA_CHUNK;
use crate::errors::ErrorInfo;
use crate::event_targets::{self, EventLogRules, EventLogTarget};
use crate::token_targets;
use dojo_reactive_torii::event_follow::FollowOptions;

/// `WorkerConfig` as written (its TypeScript definition is `WorkerConfig` in `js/src/types.ts`;
/// the tests check both against `js/test/fixtures/worker-config.json`).
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
#[cfg_attr(test, serde(deny_unknown_fields))]
pub struct WorkerConfig {
    /// Torii's URL.
    pub torii_url: String,
    /// The world address (0x hex); the manifest's when absent.
    #[serde(default)]
    pub world_address: Option<String>,
    /// The Dojo manifest JSON text.
    pub manifest: String,
    /// Model tags (or `{ tag, versionMember }`) to sync; every model when absent.
    #[serde(default)]
    pub models: Option<Vec<ModelSyncSpec>>,
    /// Also sync event messages.
    #[serde(default)]
    pub event_messages: bool,
    /// Sync targets (`models` then only names the models and their version members); every
    /// entity of `models` when absent.
    #[serde(default)]
    pub targets: Option<Vec<TargetConfig>>,
    /// What happens to entities no target covers any more (default `drop`).
    #[serde(default)]
    pub target_retention: Option<TargetRetention>,
    /// The database name; derived from the URL and world when absent.
    #[serde(default)]
    pub db_name: Option<String>,
    /// Synchronizer tunables.
    #[serde(default)]
    pub sync_options: SyncOptionsConfig,
    /// What a Torii version other than the one the data was synced from means (default
    /// `reconcile`).
    #[serde(default)]
    pub on_torii_version_change: Option<OnToriiVersionChange>,
    /// Most model states per DELTA.
    #[serde(default)]
    pub delta_chunk: Option<u64>,
    /// The `eventLog` targets taken out of `targets` by [`WorkerConfig::from_json`], and where
    /// the others were.
    #[serde(skip)]
    pub written: event_targets::Split,
}

impl WorkerConfig {
    /// Parses a configuration as written: its `eventLog` targets are set apart (see
    /// [`crate::event_targets`]), the other targets parsed as the synchronizers' targets.
    pub fn from_json(mut json: serde_json::Value) -> Result<WorkerConfig, ErrorInfo> {
        let written = json
            .get_mut("targets")
            .map(event_targets::split)
            .unwrap_or_default();
        let mut config: WorkerConfig = serde_json::from_value(json)
            .map_err(|e| ErrorInfo::validation(format!("worker config: {e}")))?;
        config.written = written;
        Ok(config)
    }
}

/// `WorkerConfig.targets[i]`: one sync target (see `API.md`, "Sync targets").
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
#[cfg_attr(test, serde(deny_unknown_fields))]
pub struct TargetConfig {
    /// Unique among the targets.
    pub id: String,
    /// `entities`, `eventMessages`, `tokens`, `tokenBalances` or `tokenContracts`.
    pub kind: TargetKind,
    /// Model tags it syncs; every model of its kind when absent.
    #[serde(default)]
    pub models: Option<Vec<String>>,
    /// A Torii clause as JSON (see `dojo_reactive_core::clause_from_json`).
    #[serde(default)]
    pub clause: Option<serde_json::Value>,
    /// The query language instead of `clause`: a filter (`{ keys?, where? }`) on the target's
    /// one model, turned into a clause by `Filter::to_clause`.
    #[serde(default)]
    pub filter: Option<FilterSpec>,
    /// Token balance targets: the holders (0x hex); every holder when absent.
    #[serde(default)]
    pub accounts: Option<Vec<String>>,
    /// Token targets: the token contracts (0x hex); every contract when absent.
    #[serde(default)]
    pub contracts: Option<Vec<String>>,
    /// Token and balance targets: the token ids (u256 as 0x hex); every id when absent.
    #[serde(default)]
    pub token_ids: Option<Vec<String>>,
}

/// `WorkerConfig.targetRetention`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum TargetRetention {
    /// Entities no target covers any more leave the store.
    #[default]
    Drop,
    /// They stay as last synced.
    Keep,
}

/// What sync targets may name: the manifest's model shapes and the synced models.
#[derive(Debug, Clone)]
pub struct TargetRules {
    schemas: SchemaRegistry,
    models: Vec<(String, ResourceKind)>,
}

impl TargetRules {
    /// Checks sync targets and turns them into each kind's scopes, in the order given.
    /// ValidationErrors name the target (`targets[i]`, `i` its index in `written_at`: where it
    /// was in the array the page wrote, event logs included) and what is wrong.
    pub fn scopes(
        &self,
        targets: &[TargetConfig],
        written_at: &[usize],
    ) -> Result<BTreeMap<TargetKind, Vec<TargetScope>>, ErrorInfo> {
        let mut scopes: BTreeMap<TargetKind, Vec<TargetScope>> = BTreeMap::new();
        for (i, target) in targets.iter().enumerate() {
            let at = format!("targets[{}]", written_at.get(i).copied().unwrap_or(i));
            let invalid = |message: String| {
                ErrorInfo::validation(format!("{at}: {message}")).with("argument", &at)
            };
            if target.id.is_empty() {
                return Err(invalid("`id` must be a non-empty string".into()));
            }
            if targets[..i].iter().any(|t| t.id == target.id) {
                return Err(invalid(format!("the id {:?} is used twice", target.id)));
            }
            if token_targets::is_token_kind(target.kind) {
                let scope = token_targets::token_scope(target, &at)?;
                scopes.entry(target.kind).or_default().push(scope);
                continue;
            }
            token_targets::check_entity_target(target, &at)?;
            let resource = match target.kind {
                TargetKind::EventMessages => ResourceKind::Event,
                _ => ResourceKind::Model,
            };
            let models = target.models.clone().unwrap_or_default();
            for tag in &models {
                match self.models.iter().find(|(t, _)| t == tag) {
                    Some((_, kind)) if *kind == resource => {}
                    Some(_) => {
                        return Err(invalid(format!(
                            "{tag} is not a model of kind {}",
                            target.kind.name()
                        )))
                    }
                    None => return Err(invalid(format!("{tag} is not a synced model"))),
                }
            }
            let clause = match (&target.clause, &target.filter) {
                (Some(_), Some(_)) => {
                    return Err(invalid("give either `clause` or `filter`, not both".into()))
                }
                (Some(json), None) => Some(
                    clause_from_json(json, &self.schemas, &format!("{at}.clause"))
                        .map_err(|e| ErrorInfo::validation(e.to_string()).with("argument", &at))?,
                ),
                (None, Some(spec)) => Some(self.filter_clause(&models, spec).map_err(invalid)?),
                (None, None) => None,
            };
            scopes.entry(target.kind).or_default().push(TargetScope {
                id: target.id.clone(),
                models,
                clause,
            });
        }
        Ok(scopes)
    }
}

impl TargetRules {
    /// The clause of a target's `filter`: the query language on its one model (`models` must
    /// name exactly one), translated by [`Filter::to_clause`].
    fn filter_clause(
        &self,
        models: &[String],
        spec: &FilterSpec,
    ) -> Result<dojo_reactive_core::Clause, String> {
        let [model] = models else {
            return Err(format!(
                "a `filter` applies to one model: `models` must name exactly one, got {}",
                models.len()
            ));
        };
        Filter::compile(model, spec, &self.schemas)
            .map(|filter| filter.to_clause())
            .map_err(|e| format!("`filter`: {e}"))
    }
}

/// What a Torii version other than the one the stored data was synced from means.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum OnToriiVersionChange {
    /// Keep the stored data (still shown), re-read the whole snapshot, and report
    /// `ToriiVersionChangedError` as a warning on `errors`.
    #[default]
    Reconcile,
    /// Stop syncing with a fatal `ToriiVersionChangedError` (the host decides: reset or keep).
    Fail,
}

/// `WorkerConfig.syncOptions`: every field optional.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
#[cfg_attr(test, serde(deny_unknown_fields))]
#[allow(missing_docs)]
pub struct SyncOptionsConfig {
    pub page_size: Option<u64>,
    pub heartbeat_timeout_ms: Option<u64>,
    pub heartbeat_check_ms: Option<u64>,
    pub replay_budget: Option<u64>,
    pub request_timeout_ms: Option<u64>,
    pub tick_interval_ms: Option<u64>,
    pub backoff_initial_ms: Option<u64>,
    pub backoff_max_ms: Option<u64>,
    pub catch_up_window_ms: Option<u64>,
    pub catch_up_margin_s: Option<u64>,
    pub reconcile_after_catch_up_ms: Option<u64>,
    pub reconcile_interval_ms: Option<u64>,
}

/// The largest `u32` (the limit of `pageSize`, `replayBudget` and `deltaChunk`).
const U32_MAX: u64 = u32::MAX as u64;

/// Checks a count option: the same rule and message as the JS options' check.
fn count(argument: &str, value: Option<u64>, min: u64, max: u64) -> Result<Option<u64>, ErrorInfo> {
    match value {
        Some(n) if n < min => Err(ErrorInfo::validation(format!(
            "`{argument}` must be an integer ≥ {min}, got {n}"
        ))
        .with("argument", argument)),
        Some(n) if n > max => Err(ErrorInfo::validation(format!(
            "`{argument}` must be an integer ≤ {max}, got {n}"
        ))
        .with("argument", argument)),
        _ => Ok(value),
    }
}

/// A `u32` count option (see [`count`]).
fn count_u32(argument: &str, value: Option<u64>, min: u64) -> Result<Option<u32>, ErrorInfo> {
    Ok(count(argument, value, min, U32_MAX)?.and_then(|n| u32::try_from(n).ok()))
}

impl SyncOptionsConfig {
    /// Core options with these overrides; `seed` spreads the backoff jitter of clients. Fails
    /// for values out of range (`requestTimeoutMs` and `heartbeatTimeoutMs` of 0, `pageSize`
    /// and `replayBudget` above a `u32`).
    pub fn options(&self, seed: u64) -> Result<SyncOptions, ErrorInfo> {
        let mut options = SyncOptions::default();
        let set = |target: &mut u64, value: Option<u64>| {
            if let Some(value) = value {
                *target = value;
            }
        };
        if let Some(page_size) = count_u32("syncOptions.pageSize", self.page_size, 0)? {
            options.page_size = page_size;
        }
        if let Some(budget) = count_u32("syncOptions.replayBudget", self.replay_budget, 0)? {
            options.replay_budget = budget;
        }
        count(
            "syncOptions.heartbeatTimeoutMs",
            self.heartbeat_timeout_ms,
            1,
            u64::MAX,
        )?;
        count(
            "syncOptions.requestTimeoutMs",
            self.request_timeout_ms,
            1,
            u64::MAX,
        )?;
        set(&mut options.heartbeat_timeout_ms, self.heartbeat_timeout_ms);
        set(&mut options.heartbeat_check_ms, self.heartbeat_check_ms);
        set(&mut options.request_timeout_ms, self.request_timeout_ms);
        set(&mut options.tick_interval_ms, self.tick_interval_ms);
        set(&mut options.backoff.initial_ms, self.backoff_initial_ms);
        set(&mut options.backoff.max_ms, self.backoff_max_ms);
        set(&mut options.catch_up_window_ms, self.catch_up_window_ms);
        set(&mut options.catch_up_margin_s, self.catch_up_margin_s);
        set(
            &mut options.reconcile_after_catch_up_ms,
            self.reconcile_after_catch_up_ms,
        );
        set(
            &mut options.reconcile_interval_ms,
            self.reconcile_interval_ms,
        );
        options.backoff.seed ^= seed;
        Ok(options)
    }
}

/// Everything the worker derives from its configuration before any IO.
#[derive(Debug, Clone)]
pub struct Plan {
    /// Torii's URL.
    pub torii_url: String,
    /// The world and Torii the data comes from (recorded with it).
    pub origin: DataOrigin,
    /// The database name.
    pub db_name: String,
    /// The manifest's fingerprint (checked against the database).
    pub fingerprint: ManifestFingerprint,
    /// One setup per synchronizer: entities, then event messages when configured.
    pub setups: Vec<SyncSetup>,
    /// What a Torii version change means.
    pub on_torii_version_change: OnToriiVersionChange,
    /// Most model states per DELTA.
    pub delta_chunk: usize,
    /// Checks the targets set at run time.
    pub target_rules: TargetRules,
    /// The event-log targets, in the order given.
    pub event_logs: Vec<EventLogTarget>,
    /// Checks the event-log targets set at run time.
    pub event_log_rules: EventLogRules,
    /// How the event-log followers read and wait (from `syncOptions`).
    pub follow: FollowOptions,
}

/// Parses and checks a configuration (`seed` spreads backoff jitter).
pub fn plan(config: WorkerConfig, seed: u64) -> Result<Plan, ErrorInfo> {
    check_torii_url(&config.torii_url)?;
    let manifest = Manifest::from_json_str(&config.manifest)
        .map_err(|e| ErrorInfo::validation(e.to_string()))?;
    let world = world_address(config.world_address.as_deref(), manifest.world.address)?;
    let fingerprint = manifest.fingerprint();
    let (sync_config, chosen) = match config.models {
        Some(specs) => (
            SyncConfig::new(&manifest, specs)
                .map_err(|e| ErrorInfo::validation(format!("models: {e}")))?,
            true,
        ),
        None => (SyncConfig::all_models(&manifest), false),
    };
    let tags = |kind: ResourceKind| -> Vec<String> {
        if !chosen {
            return Vec::new();
        }
        sync_config
            .models()
            .iter()
            .filter(|m| m.kind == kind)
            .map(|m| m.tag.clone())
            .collect()
    };
    let mut options = config.sync_options.options(seed)?;
    options.retention = match config.target_retention.unwrap_or_default() {
        TargetRetention::Drop => Retention::Drop,
        TargetRetention::Keep => Retention::Keep,
    };
    let target_rules = TargetRules {
        // A shape the registry cannot build only makes member clauses on it fail to check.
        schemas: manifest.schemas().unwrap_or_default(),
        models: sync_config
            .models()
            .iter()
            .map(|m| (m.tag.clone(), m.kind))
            .collect(),
    };
    let on_torii_version_change = config.on_torii_version_change.unwrap_or_default();
    let delta_chunk = count("deltaChunk", config.delta_chunk, 0, U32_MAX)?;
    let setup = |target: SyncTarget| SyncSetup {
        target: SyncTarget {
            world_addresses: vec![world],
            ..target
        },
        fingerprint: fingerprint.clone(),
        config: sync_config.clone(),
        options: options.clone(),
    };
    let event_log_rules = EventLogRules {
        schemas: manifest.schemas().unwrap_or_default(),
        event_models: manifest.events.iter().map(|e| e.tag.clone()).collect(),
        world: Some(world),
    };
    let other_ids: Vec<String> = config
        .targets
        .iter()
        .flatten()
        .map(|t| t.id.clone())
        .collect();
    let event_logs = event_log_rules.targets(&config.written.event_logs, &other_ids)?;
    let follow = FollowOptions {
        page_size: options.page_size,
        heartbeat_ms: options.heartbeat_timeout_ms,
        margin_s: options.catch_up_margin_s,
        request_timeout_ms: options.request_timeout_ms,
        backoff: options.backoff,
    };
    let mut setups = Vec::new();
    match &config.targets {
        Some(targets) => {
            let mut scopes = target_rules.scopes(targets, &config.written.others_at)?;
            if config.event_messages && !scopes.contains_key(&TargetKind::EventMessages) {
                let whole =
                    TargetScope::whole(TargetKind::EventMessages.name(), tags(ResourceKind::Event));
                scopes.insert(TargetKind::EventMessages, vec![whole]);
            }
            // The kinds in the order the page declares their first target: a start restores
            // (and syncs) the kind of the page's first target first; the event messages the
            // page asks for without a target of theirs come last. (Taken in order rather than
            // sorted or removed from the map: either is KBs more of the worker's module.)
            let mut kinds: Vec<_> = scopes.into_iter().collect();
            for target in targets {
                if let Some(at) = kinds.iter().position(|(kind, _)| *kind == target.kind) {
                    let (kind, scopes) = kinds.remove(at);
                    setups.push(setup(SyncTarget::of(kind, scopes)));
                }
            }
            for (kind, scopes) in kinds {
                setups.push(setup(SyncTarget::of(kind, scopes)));
            }
        }
        None => {
            let entity_tags = tags(ResourceKind::Model);
            if !chosen || !entity_tags.is_empty() {
                setups.push(setup(SyncTarget::entities().with_models(entity_tags)));
            }
            if config.event_messages {
                setups.push(setup(
                    SyncTarget::event_messages().with_models(tags(ResourceKind::Event)),
                ));
            }
        }
    }
    if setups.is_empty() && event_logs.is_empty() {
        return Err(ErrorInfo::validation(
            "nothing to sync: models names no model, and eventMessages is off",
        ));
    }
    let db_name = config
        .db_name
        .filter(|name| !name.is_empty())
        .unwrap_or_else(|| default_db_name(&config.torii_url, &world));
    Ok(Plan {
        origin: DataOrigin::new(&config.torii_url, &world),
        torii_url: config.torii_url,
        db_name,
        fingerprint,
        setups,
        on_torii_version_change,
        delta_chunk: delta_chunk.map_or(DEFAULT_DELTA_CHUNK, |n| (n as usize).max(1)),
        target_rules,
        event_logs,
        event_log_rules,
        follow,
    })
}

/// `toriiUrl` must be an http(s) URL with a host: the same rule and message as the JS options'.
fn check_torii_url(url: &str) -> Result<(), ErrorInfo> {
    let rest = url
        .strip_prefix("http://")
        .or_else(|| url.strip_prefix("https://"));
    let host = rest.map(|rest| rest.split(['/', '?', '#']).next().unwrap_or_default());
    match host {
        Some(host) if !host.is_empty() && !host.contains(char::is_whitespace) => Ok(()),
        _ => Err(ErrorInfo::validation(format!(
            "`toriiUrl` must be an http(s) URL with a host, got {url:?}"
        ))
        .with("argument", "toriiUrl")),
    }
}

/// The world address: `worldAddress` when given (it must be the manifest's when the manifest
/// names one), else the manifest's. The same rules and messages as the JS options'.
fn world_address(given: Option<&str>, manifest: Option<Felt>) -> Result<Felt, ErrorInfo> {
    let invalid = |text: &str| {
        ErrorInfo::validation(format!(
            "`worldAddress` must be a 0x hex address, got {text:?}"
        ))
        .with("argument", "worldAddress")
    };
    match (given, manifest) {
        (None, Some(world)) => Ok(world),
        (None, None) => Err(ErrorInfo::validation(
            "`worldAddress` is required: the manifest names no world address",
        )
        .with("argument", "worldAddress")),
        (Some(text), manifest) => {
            let trimmed = text.trim();
            let hex = trimmed.strip_prefix("0x").ok_or_else(|| invalid(text))?;
            if hex.is_empty() || hex.len() > 64 || !hex.chars().all(|c| c.is_ascii_hexdigit()) {
                return Err(invalid(text));
            }
            let world = Felt::from_hex(trimmed).map_err(|_| invalid(text))?;
            match manifest {
                Some(named) if named != world => Err(ErrorInfo::validation(format!(
                    "`worldAddress` {} is not the manifest's world address {}; leave it out to \
                     use the manifest's",
                    world.to_hex(),
                    named.to_hex()
                ))
                .with("argument", "worldAddress")
                .with("worldAddress", world.to_hex())
                .with("manifestWorldAddress", named.to_hex())),
                _ => Ok(world),
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use dojo_reactive_core::sync::TargetKind;
    use serde_json::json;

    use super::*;

    fn config(extra: serde_json::Value) -> WorkerConfig {
        serde_json::from_value(config_json(extra)).unwrap()
    }

    /// A configuration as the page writes it, with `extra`'s fields.
    fn config_json(extra: serde_json::Value) -> serde_json::Value {
        let manifest = json!({
            "world": { "class_hash": "0x1", "address": "0x7" },
            "models": [{ "tag": "ns-A", "class_hash": "0x2", "members": [
                { "name": "id", "type": "felt252", "key": true },
                { "name": "at", "type": "u64", "key": false }
            ] }],
            "events": [{ "tag": "ns-E", "class_hash": "0x3", "members": [
                { "name": "id", "type": "felt252", "key": true }
            ] }]
        });
        let mut value = json!({
            "toriiUrl": "http://127.0.0.1:8080",
            "worldAddress": "0x7",
            "manifest": manifest.to_string(),
        });
        if let (Some(object), serde_json::Value::Object(extra)) = (value.as_object_mut(), extra) {
            object.extend(extra);
        }
        value
    }

    #[test]
    fn defaults_sync_every_entity_model_into_the_default_database() {
        let plan = plan(config(json!({})), 0).unwrap();
        assert_eq!(plan.setups.len(), 1);
        let setup = &plan.setups[0];
        assert_eq!(setup.target.kind, TargetKind::Entities);
        assert!(setup.target.models.is_empty());
        assert_eq!(setup.target.world_addresses, vec![Felt::from(7u128)]);
        assert_eq!(
            plan.db_name,
            default_db_name("http://127.0.0.1:8080", &Felt::from(7u128))
        );
        assert_eq!(plan.delta_chunk, DEFAULT_DELTA_CHUNK);
        assert_eq!(
            plan.on_torii_version_change,
            OnToriiVersionChange::Reconcile
        );
        assert_eq!(
            plan.origin,
            DataOrigin::new("http://127.0.0.1:8080", &Felt::from(7u128))
        );
    }

    #[test]
    fn the_world_address_defaults_to_the_manifests_and_must_match_it() {
        let mut without = config(json!({}));
        without.world_address = None;
        let plan = plan(without.clone(), 0).unwrap();
        assert_eq!(
            plan.setups[0].target.world_addresses,
            vec![Felt::from(7u128)]
        );
        let same = plan_of(json!({ "worldAddress": "0x0007" })).unwrap();
        assert_eq!(
            same.setups[0].target.world_addresses,
            vec![Felt::from(7u128)]
        );

        let error = plan_of(json!({ "worldAddress": "0x0123" })).unwrap_err();
        assert_eq!(error.name, "ValidationError");
        assert!(
            error
                .message
                .contains("is not the manifest's world address"),
            "{}",
            error.message
        );
        assert_eq!(
            error.fields["manifestWorldAddress"],
            Felt::from(7u128).to_hex()
        );

        let mut manifest: serde_json::Value = serde_json::from_str(&without.manifest).unwrap();
        manifest["world"] = json!({ "class_hash": "0x1" });
        without.manifest = manifest.to_string();
        let error = super::plan(without, 0).unwrap_err();
        assert!(
            error
                .message
                .contains("the manifest names no world address"),
            "{}",
            error.message
        );
    }

    #[test]
    fn a_bad_target_is_named_by_its_place_in_the_array_the_page_wrote() {
        let config = WorkerConfig::from_json(config_json(json!({ "targets": [
            { "id": "feed", "kind": "eventLog", "models": ["ns-E"] },
            { "id": "world", "kind": "entities" },
            { "id": "", "kind": "entities" },
        ] })))
        .unwrap();
        assert_eq!(config.written.others_at, vec![1, 2]);
        let error = super::plan(config, 0).unwrap_err();
        assert!(
            error.message.starts_with("targets[2]: `id` must be"),
            "{}",
            error.message
        );
        assert_eq!(error.fields["argument"], "targets[2]");
    }

    #[test]
    fn the_torii_version_policy_defaults_to_reconcile() {
        let policy = |extra| plan_of(extra).map(|p| p.on_torii_version_change);
        assert_eq!(
            policy(json!({ "onToriiVersionChange": "fail" })).unwrap(),
            OnToriiVersionChange::Fail
        );
        assert_eq!(policy(json!({})).unwrap(), OnToriiVersionChange::Reconcile);
    }

    fn plan_of(extra: serde_json::Value) -> Result<Plan, ErrorInfo> {
        plan(config(extra), 0)
    }

    #[test]
    fn chosen_models_events_and_options_are_applied() {
        let plan = plan(
            config(json!({
                "models": [{ "tag": "ns-A", "versionMember": "at" }, "ns-E"],
                "eventMessages": true,
                "dbName": "mine",
                "deltaChunk": 0,
                "syncOptions": { "pageSize": 50, "replayBudget": 9, "backoffMaxMs": 7 },
            })),
            0,
        )
        .unwrap();
        let kinds: Vec<TargetKind> = plan.setups.iter().map(|s| s.target.kind).collect();
        assert_eq!(kinds, vec![TargetKind::Entities, TargetKind::EventMessages]);
        assert_eq!(plan.setups[0].target.models, vec!["ns-A".to_owned()]);
        assert_eq!(plan.setups[1].target.models, vec!["ns-E".to_owned()]);
        assert_eq!(plan.setups[0].config.version_member("ns-A"), Some("at"));
        let options = &plan.setups[0].options;
        assert_eq!((options.page_size, options.replay_budget), (50, 9));
        assert_eq!(options.backoff.max_ms, 7);
        assert_eq!((plan.db_name.as_str(), plan.delta_chunk), ("mine", 1));
    }

    /// What INIT carries with every option set (`js/test/boundary.test.mjs` checks that the
    /// package's `WorkerConfig` and `checkOptions` produce exactly these fields).
    const FIXTURE: &str = include_str!("../../../js/test/fixtures/worker-config.json");

    #[test]
    fn the_js_config_fixture_sets_every_field_and_no_other() {
        // Unknown fields are refused in tests: a field js/ sends that this side does not read fails here.
        let config: WorkerConfig = serde_json::from_str(FIXTURE).unwrap();
        // Exhaustive: a field added here must be added to the fixture (and so to js/).
        let WorkerConfig {
            torii_url,
            world_address,
            manifest,
            models,
            event_messages,
            targets,
            target_retention,
            db_name,
            sync_options,
            on_torii_version_change,
            delta_chunk,
            written,
        } = config;
        assert_eq!(written, Default::default(), "set apart by from_json only");
        assert!(target_retention.is_some());
        let target = targets.unwrap().pop().unwrap();
        assert!(!target.id.is_empty() && target.models.is_some() && target.clause.is_some());
        assert!(!torii_url.is_empty() && world_address.is_some() && !manifest.is_empty());
        assert_eq!(models.map(|m| m.len()), Some(2));
        assert!(event_messages && on_torii_version_change.is_some());
        assert!(db_name.is_some() && delta_chunk.is_some());
        let SyncOptionsConfig {
            page_size,
            heartbeat_timeout_ms,
            heartbeat_check_ms,
            replay_budget,
            request_timeout_ms,
            tick_interval_ms,
            backoff_initial_ms,
            backoff_max_ms,
            catch_up_window_ms,
            catch_up_margin_s,
            reconcile_after_catch_up_ms,
            reconcile_interval_ms,
        } = sync_options;
        assert!(page_size.is_some() && replay_budget.is_some());
        for value in [
            heartbeat_timeout_ms,
            heartbeat_check_ms,
            request_timeout_ms,
            tick_interval_ms,
            backoff_initial_ms,
            backoff_max_ms,
            catch_up_window_ms,
            catch_up_margin_s,
            reconcile_after_catch_up_ms,
            reconcile_interval_ms,
        ] {
            assert!(value.is_some());
        }
    }

    #[test]
    fn kinds_start_in_the_order_the_page_declares_their_first_target() {
        let kinds = |targets: serde_json::Value| -> Vec<TargetKind> {
            let plan = plan_of(json!({
                "targets": targets, "models": ["ns-A", "ns-E"], "eventMessages": true,
            }))
            .unwrap();
            plan.setups.iter().map(|s| s.target.kind).collect()
        };
        let event = json!({ "id": "e", "kind": "eventMessages", "models": ["ns-E"] });
        let entity = json!({ "id": "a", "kind": "entities", "models": ["ns-A"] });
        let tokens = json!({ "id": "t", "kind": "tokens" });
        assert_eq!(
            kinds(json!([event, entity])),
            vec![TargetKind::EventMessages, TargetKind::Entities]
        );
        assert_eq!(
            kinds(json!([tokens, entity])),
            vec![
                TargetKind::Tokens,
                TargetKind::Entities,
                TargetKind::EventMessages
            ]
        );
    }

    #[test]
    fn a_target_may_speak_the_query_language() {
        let scope_clause = |target: serde_json::Value| {
            plan_of(json!({ "targets": [target] }))
                .map(|plan| plan.setups[0].target.scopes[0].clause.clone())
        };
        let filtered = scope_clause(json!({
            "id": "late", "kind": "entities", "models": ["ns-A"],
            "filter": { "where": [{ "member": "at", "op": "gte", "value": 10 }] },
        }))
        .unwrap();
        let written = scope_clause(json!({
            "id": "late", "kind": "entities", "models": ["ns-A"],
            "clause": { "Member": { "model": "ns-A", "member": "at", "operator": "Gte", "value": 10 } },
        }))
        .unwrap();
        assert_eq!(
            filtered, written,
            "the filter is the same clause as the JSON one"
        );
        let keyed = scope_clause(json!({
            "id": "mine", "kind": "entities", "models": ["ns-A"],
            "filter": { "keys": { "id": "0x5" } },
        }))
        .unwrap();
        let Some(dojo_reactive_core::Clause::Keys(keys)) = keyed else {
            panic!("named keys become a keys clause: {keyed:?}");
        };
        assert_eq!(keys.keys, vec![Some(Felt::from(5u128))]);

        for (target, says) in [
            (
                json!({ "id": "t", "kind": "entities", "models": ["ns-A"],
                        "clause": { "HashedKeys": [] }, "filter": {} }),
                "targets[0]: give either `clause` or `filter`, not both",
            ),
            (
                json!({ "id": "t", "kind": "entities", "filter": {} }),
                "targets[0]: a `filter` applies to one model: `models` must name exactly one, got 0",
            ),
            (
                json!({ "id": "t", "kind": "entities", "models": ["ns-A"],
                        "filter": { "where": [{ "member": "nope", "op": "eq", "value": 1 }] } }),
                "targets[0]: `filter`: ",
            ),
            (
                json!({ "id": "t", "kind": "entities", "models": ["ns-A"],
                        "filter": { "where": [{ "member": "at", "op": "gte", "value": "x" }] } }),
                "targets[0]: `filter`: ",
            ),
        ] {
            let error = plan_of(json!({ "targets": [target] })).unwrap_err();
            assert_eq!(error.name, "ValidationError", "{target}");
            assert!(error.message.contains(says), "{target}: {}", error.message);
        }
    }

    #[test]
    fn bad_configurations_are_validation_errors() {
        for (extra, says) in [
            (
                json!({ "worldAddress": "seven" }),
                "`worldAddress` must be a 0x hex address",
            ),
            (
                json!({ "toriiUrl": "127.0.0.1:8080" }),
                "`toriiUrl` must be an http(s) URL with a host",
            ),
            (
                json!({ "toriiUrl": "http://" }),
                "`toriiUrl` must be an http(s) URL with a host",
            ),
            (
                json!({ "toriiUrl": "https:///x" }),
                "`toriiUrl` must be an http(s) URL with a host",
            ),
            (json!({ "manifest": "{}" }), ""),
            (json!({ "models": ["ns-Nope"] }), "models"),
            (json!({ "models": [] }), "nothing to sync"),
            (
                json!({ "syncOptions": { "requestTimeoutMs": 0 } }),
                "`syncOptions.requestTimeoutMs` must be an integer ≥ 1, got 0",
            ),
            (
                json!({ "syncOptions": { "heartbeatTimeoutMs": 0 } }),
                "`syncOptions.heartbeatTimeoutMs` must be an integer ≥ 1, got 0",
            ),
            (
                json!({ "syncOptions": { "pageSize": 4_294_967_296u64 } }),
                "`syncOptions.pageSize` must be an integer ≤ 4294967295, got 4294967296",
            ),
            (
                json!({ "syncOptions": { "replayBudget": 4_294_967_296u64 } }),
                "`syncOptions.replayBudget` must be an integer ≤ 4294967295",
            ),
            (
                json!({ "deltaChunk": 4_294_967_296u64 }),
                "`deltaChunk` must be an integer ≤ 4294967295",
            ),
        ] {
            let error = plan(config(extra.clone()), 0).unwrap_err();
            assert_eq!(error.name, "ValidationError", "{extra}");
            assert!(error.message.contains(says), "{extra}: {}", error.message);
        }
        let edge = plan_of(
            json!({ "syncOptions": { "pageSize": 4_294_967_295u64, "requestTimeoutMs": 1 } }),
        )
        .unwrap();
        assert_eq!(edge.setups[0].options.page_size, u32::MAX);
    }
}
