//! Sync targets of kind `eventLog` (`targets: [{ id, kind: 'eventLog', models?, clause?,
//! retention?: { count?, maxAgeSeconds? } }]`): every event message of their models, kept as an
//! [`EventLog`](dojo_reactive_core::EventLog) by the worker's event-log followers rather than by
//! a synchronizer, so they are split from the other targets before those are parsed.

use dojo_reactive_core::sync::text_digest;
use dojo_reactive_core::{clause_from_json, EventRetention, Felt, SchemaRegistry};
use dojo_reactive_torii::event_log::HistoricalQuery;
use serde::Deserialize;
use serde_json::Value as Json;

use crate::errors::ErrorInfo;

/// The `kind` of event-log targets.
pub const EVENT_LOG_KIND: &str = "eventLog";

/// `targets[i]` of kind `eventLog`, as written.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct EventLogConfig {
    id: String,
    #[serde(default)]
    models: Option<Vec<String>>,
    #[serde(default)]
    clause: Option<Json>,
    #[serde(default)]
    retention: Option<RetentionConfig>,
}

/// `retention` of an event-log target.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct RetentionConfig {
    #[serde(default)]
    count: Option<u64>,
    #[serde(default)]
    max_age_seconds: Option<u64>,
}

/// A checked event-log target.
#[derive(Debug, Clone, PartialEq)]
pub struct EventLogTarget {
    /// Its id (unique among all targets).
    pub id: String,
    /// What it reads from Torii.
    pub query: HistoricalQuery,
    /// How much of the history it keeps.
    pub retention: EventRetention,
}

impl EventLogTarget {
    /// A digest of what it keeps (query and retention), stable within a build: a stored log
    /// walked for another definition is walked again.
    pub fn digest_hex(&self) -> String {
        let text = format!("{:?}|{:?}", self.query, self.retention);
        format!("{:016x}", text_digest(&text))
    }
}

/// A `targets` array as written, split by [`split`].
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Split {
    /// The event-log targets, each with its index in the array as written.
    pub event_logs: Vec<(usize, Json)>,
    /// The index in the array as written of each target left in it (the synchronizers'), so
    /// that an error names the target the page wrote (`targets[i]`).
    pub others_at: Vec<usize>,
}

/// Removes the event-log targets from a `targets` array as written (the rest are the
/// synchronizers' targets).
pub fn split(targets: &mut Json) -> Split {
    let mut split = Split::default();
    let Some(list) = targets.as_array_mut() else {
        return split;
    };
    let mut index = 0;
    list.retain(|target| {
        let is_log = target.get("kind").and_then(Json::as_str) == Some(EVENT_LOG_KIND);
        if is_log {
            split.event_logs.push((index, target.clone()));
        } else {
            split.others_at.push(index);
        }
        index += 1;
        !is_log
    });
    split
}

/// What event-log targets may name: the manifest's event models and their shapes.
#[derive(Debug, Clone, Default)]
pub struct EventLogRules {
    /// The shapes clauses are checked against.
    pub schemas: SchemaRegistry,
    /// The event models (tags) of the manifest.
    pub event_models: Vec<String>,
    /// The world synced.
    pub world: Option<Felt>,
}

impl EventLogRules {
    /// Checks event-log targets (`(index, json)` from [`split`]) against the manifest and the
    /// ids of the other targets. ValidationErrors name the target (`targets[i]`).
    pub fn targets(
        &self,
        configs: &[(usize, Json)],
        other_ids: &[String],
    ) -> Result<Vec<EventLogTarget>, ErrorInfo> {
        let mut out: Vec<EventLogTarget> = Vec::new();
        for (i, json) in configs {
            let at = format!("targets[{i}]");
            let invalid = |message: String| {
                ErrorInfo::validation(format!("{at}: {message}")).with("argument", &at)
            };
            // `kind` said what it is: the rest must be an event-log target's fields.
            let mut fields = json.clone();
            if let Some(object) = fields.as_object_mut() {
                object.remove("kind");
            }
            let config: EventLogConfig =
                serde_json::from_value(fields).map_err(|e| invalid(e.to_string()))?;
            if config.id.is_empty() {
                return Err(invalid("`id` must be a non-empty string".into()));
            }
            if other_ids.contains(&config.id) || out.iter().any(|t| t.id == config.id) {
                return Err(invalid(format!("the id {:?} is used twice", config.id)));
            }
            let models = match config.models {
                Some(models) => {
                    if let Some(tag) = models.iter().find(|t| !self.event_models.contains(t)) {
                        return Err(invalid(format!(
                            "{tag} is not an event model of the manifest (an eventLog target keeps event messages)"
                        )));
                    }
                    models
                }
                None => self.event_models.clone(),
            };
            if models.is_empty() {
                return Err(invalid("the manifest has no event model to keep".into()));
            }
            let clause = match &config.clause {
                Some(json) => Some(
                    clause_from_json(json, &self.schemas, &format!("{at}.clause"))
                        .map_err(|e| ErrorInfo::validation(e.to_string()).with("argument", &at))?,
                ),
                None => None,
            };
            let retention = config
                .retention
                .map_or(Ok(EventRetention::default()), |r| {
                    if r.count == Some(0) {
                        return Err(invalid("`retention.count` must be at least 1".into()));
                    }
                    Ok(EventRetention {
                        count: r.count.map(|n| usize::try_from(n).unwrap_or(usize::MAX)),
                        age_s: r.max_age_seconds,
                    })
                })?;
            out.push(EventLogTarget {
                id: config.id,
                query: HistoricalQuery {
                    models,
                    clause,
                    world_addresses: self.world.into_iter().collect(),
                },
                retention,
            });
        }
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn rules() -> EventLogRules {
        EventLogRules {
            schemas: SchemaRegistry::default(),
            event_models: vec!["arena-Moved".into(), "arena-Hit".into()],
            world: Some(Felt::from(9u128)),
        }
    }

    #[test]
    fn event_logs_are_split_from_the_other_targets_and_checked() {
        let mut targets = json!([
            { "id": "world", "kind": "entities" },
            { "id": "feed", "kind": "eventLog", "models": ["arena-Moved"], "retention": { "count": 100, "maxAgeSeconds": 3600 } },
            { "id": "all", "kind": "eventLog" },
        ]);
        let Split {
            event_logs: logs,
            others_at,
        } = split(&mut targets);
        assert_eq!(targets, json!([{ "id": "world", "kind": "entities" }]));
        assert_eq!(logs.iter().map(|(i, _)| *i).collect::<Vec<_>>(), vec![1, 2]);
        assert_eq!(others_at, vec![0]);
        let checked = rules().targets(&logs, &["world".into()]).unwrap();
        assert_eq!(checked[0].query.models, vec!["arena-Moved".to_owned()]);
        assert_eq!(
            checked[0].retention,
            EventRetention {
                count: Some(100),
                age_s: Some(3600)
            }
        );
        assert_eq!(checked[0].query.world_addresses, vec![Felt::from(9u128)]);
        assert_eq!(checked[1].query.models.len(), 2);
        assert_eq!(checked[1].retention, EventRetention::default());
    }

    #[test]
    fn bad_event_log_targets_are_validation_errors() {
        let check = |target: Json, others: &[&str]| {
            let mut targets = json!([{ "id": "x", "kind": "entities" }, target]);
            let logs = split(&mut targets).event_logs;
            let others: Vec<String> = others.iter().map(|s| (*s).to_owned()).collect();
            rules().targets(&logs, &others).unwrap_err().message
        };
        let message = check(
            json!({ "id": "f", "kind": "eventLog", "models": ["arena-Position"] }),
            &[],
        );
        assert!(
            message.contains("targets[1]") && message.contains("not an event model"),
            "{message}"
        );
        let message = check(json!({ "id": "x", "kind": "eventLog" }), &["x"]);
        assert!(message.contains("used twice"), "{message}");
        let message = check(
            json!({ "id": "f", "kind": "eventLog", "retention": { "count": 0 } }),
            &[],
        );
        assert!(message.contains("retention.count"), "{message}");
        let message = check(
            json!({ "id": "f", "kind": "eventLog", "accounts": [] }),
            &[],
        );
        assert!(message.contains("accounts"), "{message}");
    }
}
