//! The sync worker's configuration (`WorkerConfig` of `API.md`): parsed, checked against the
//! manifest, and turned into what the synchronizers, the transport and the database need.

use dojo_reactive_core::sync::{SyncOptions, SyncSetup, SyncTarget};
use dojo_reactive_core::{
    Felt, Manifest, ManifestFingerprint, ModelSyncSpec, ResourceKind, SyncConfig,
};
use dojo_reactive_storage::default_db_name;
use serde::Deserialize;

use crate::delta::DEFAULT_DELTA_CHUNK;
use crate::errors::ErrorInfo;

/// `WorkerConfig` as written (its TypeScript definition is `WorkerConfig` in `js/src/types.ts`;
/// the tests check both against `js/test/fixtures/worker-config.json`).
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
#[cfg_attr(test, serde(deny_unknown_fields))]
pub struct WorkerConfig {
    /// Torii's URL.
    pub torii_url: String,
    /// The world address (0x hex).
    pub world_address: String,
    /// The Dojo manifest JSON text.
    pub manifest: String,
    /// Model tags (or `{ tag, versionMember }`) to sync; every model when absent.
    #[serde(default)]
    pub models: Option<Vec<ModelSyncSpec>>,
    /// Also sync event messages.
    #[serde(default)]
    pub event_messages: bool,
    /// The database name; derived from the URL and world when absent.
    #[serde(default)]
    pub db_name: Option<String>,
    /// Synchronizer tunables.
    #[serde(default)]
    pub sync_options: SyncOptionsConfig,
    /// Keep local data synced from another Torii version.
    #[serde(default)]
    pub accept_torii_version_change: bool,
    /// Most model states per DELTA.
    #[serde(default)]
    pub delta_chunk: Option<u32>,
}

/// `WorkerConfig.syncOptions`: every field optional.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
#[cfg_attr(test, serde(deny_unknown_fields))]
#[allow(missing_docs)]
pub struct SyncOptionsConfig {
    pub page_size: Option<u32>,
    pub heartbeat_timeout_ms: Option<u64>,
    pub heartbeat_check_ms: Option<u64>,
    pub replay_budget: Option<u32>,
    pub request_timeout_ms: Option<u64>,
    pub tick_interval_ms: Option<u64>,
    pub backoff_initial_ms: Option<u64>,
    pub backoff_max_ms: Option<u64>,
    pub catch_up_window_ms: Option<u64>,
    pub catch_up_margin_s: Option<u64>,
    pub reconcile_after_catch_up_ms: Option<u64>,
}

impl SyncOptionsConfig {
    /// Core options with these overrides; `seed` spreads the backoff jitter of clients.
    pub fn options(&self, seed: u64) -> SyncOptions {
        let mut options = SyncOptions::default();
        let set = |target: &mut u64, value: Option<u64>| {
            if let Some(value) = value {
                *target = value;
            }
        };
        if let Some(page_size) = self.page_size {
            options.page_size = page_size;
        }
        if let Some(budget) = self.replay_budget {
            options.replay_budget = budget;
        }
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
        options.backoff.seed ^= seed;
        options
    }
}

/// Everything the worker derives from its configuration before any IO.
#[derive(Debug, Clone)]
pub struct Plan {
    /// Torii's URL.
    pub torii_url: String,
    /// The database name.
    pub db_name: String,
    /// The manifest's fingerprint (checked against the database).
    pub fingerprint: ManifestFingerprint,
    /// One setup per synchronizer: entities, then event messages when configured.
    pub setups: Vec<SyncSetup>,
    /// Keep data synced from another Torii version.
    pub accept_torii_version_change: bool,
    /// Most model states per DELTA.
    pub delta_chunk: usize,
}

/// Parses and checks a configuration (`seed` spreads backoff jitter).
pub fn plan(config: WorkerConfig, seed: u64) -> Result<Plan, ErrorInfo> {
    let world = Felt::from_hex(config.world_address.trim()).map_err(|e| {
        ErrorInfo::validation(format!(
            "worldAddress {:?} is not a 0x-prefixed felt: {e}",
            config.world_address
        ))
    })?;
    if !(config.torii_url.starts_with("http://") || config.torii_url.starts_with("https://")) {
        return Err(ErrorInfo::validation(format!(
            "toriiUrl {:?} must start with http:// or https://",
            config.torii_url
        )));
    }
    let manifest = Manifest::from_json_str(&config.manifest)
        .map_err(|e| ErrorInfo::validation(e.to_string()))?;
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
    let options = config.sync_options.options(seed);
    let setup = |target: SyncTarget| SyncSetup {
        target: SyncTarget {
            world_addresses: vec![world],
            ..target
        },
        fingerprint: fingerprint.clone(),
        config: sync_config.clone(),
        options: options.clone(),
    };
    let mut setups = Vec::new();
    let entity_tags = tags(ResourceKind::Model);
    if !chosen || !entity_tags.is_empty() {
        setups.push(setup(SyncTarget::entities().with_models(entity_tags)));
    }
    if config.event_messages {
        setups.push(setup(
            SyncTarget::event_messages().with_models(tags(ResourceKind::Event)),
        ));
    }
    if setups.is_empty() {
        return Err(ErrorInfo::validation(
            "nothing to sync: models names no model, and eventMessages is off",
        ));
    }
    let db_name = config
        .db_name
        .filter(|name| !name.is_empty())
        .unwrap_or_else(|| default_db_name(&config.torii_url, &world));
    Ok(Plan {
        torii_url: config.torii_url,
        db_name,
        fingerprint,
        setups,
        accept_torii_version_change: config.accept_torii_version_change,
        delta_chunk: config
            .delta_chunk
            .map_or(DEFAULT_DELTA_CHUNK, |n| (n as usize).max(1)),
    })
}

#[cfg(test)]
mod tests {
    use dojo_reactive_core::sync::TargetKind;
    use serde_json::json;

    use super::*;

    fn config(extra: serde_json::Value) -> WorkerConfig {
        let manifest = json!({
            "world": { "class_hash": "0x1" },
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
        serde_json::from_value(value).unwrap()
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
        assert!(!plan.accept_torii_version_change);
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
            db_name,
            sync_options,
            accept_torii_version_change,
            delta_chunk,
        } = config;
        assert!(!torii_url.is_empty() && !world_address.is_empty() && !manifest.is_empty());
        assert_eq!(models.map(|m| m.len()), Some(2));
        assert!(event_messages && accept_torii_version_change);
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
        ] {
            assert!(value.is_some());
        }
    }

    #[test]
    fn bad_configurations_are_validation_errors() {
        for extra in [
            json!({ "worldAddress": "seven" }),
            json!({ "toriiUrl": "127.0.0.1:8080" }),
            json!({ "manifest": "{}" }),
            json!({ "models": ["ns-Nope"] }),
            json!({ "models": [] }),
        ] {
            let error = plan(config(extra.clone()), 0).unwrap_err();
            assert_eq!(error.name, "ValidationError", "{extra}");
        }
    }
}
