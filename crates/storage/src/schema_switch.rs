//! Which manifest a database shares between tabs of two code versions (a game deploy): the rule
//! that lets the newer code switch the database to its manifest and keeps older code from ever
//! writing over it (see `docs/tabs.md`, "During a deploy").
//!
//! Torii arbitrates. It lists the models of the world with their class hashes (`Worlds`). A
//! manifest is *contradicted* when Torii lists a model it names with another class hash, or a
//! model that the other manifest names and it lacks. [`judge`] compares a tab's manifest with
//! the stored one:
//! - contradicted: [`Verdict::Outdated`], the tab never writes;
//! - the same manifest, or a database without one: [`Verdict::Current`];
//! - otherwise the tab may switch the database to its manifest ([`Verdict::Current`]) only when
//!   Torii contradicts the stored manifest, or when the two differ in nothing Torii could judge
//!   (the world class hash alone). When Torii says nothing either way (the models that differ
//!   are not listed yet: the new code runs before the world was migrated), the database stays
//!   on the stored manifest ([`Verdict::Undecided`]) until Torii's listing decides.
//!
//! Models Torii does not list are no evidence; without Torii's answer nothing is switched.

use std::collections::{BTreeMap, HashSet};

use dojo_reactive_core::{Felt, FingerprintChange, ManifestFingerprint};

/// The models Torii lists for the world: tag → class hash.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ToriiModels(BTreeMap<String, Felt>);

impl ToriiModels {
    /// From Torii's `(namespace, name, class hash)` triples; a class hash that is not a felt is
    /// skipped (it can confirm nothing).
    pub fn new<'a>(models: impl IntoIterator<Item = (&'a str, &'a str, &'a [u8])>) -> Self {
        ToriiModels(
            models
                .into_iter()
                .filter_map(|(namespace, name, class_hash)| {
                    let felt = Felt::from_be_slice(class_hash).ok()?;
                    Some((format!("{namespace}-{name}"), felt))
                })
                .collect(),
        )
    }

    /// The class hash Torii lists for `tag`.
    fn get(&self, tag: &str) -> Option<&Felt> {
        self.0.get(tag)
    }
}

/// How a tab's manifest compares with the stored one, by Torii's listing.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Verdict {
    /// The tab's manifest is the one to write under (the database switches to it if it holds
    /// another).
    Current,
    /// Torii contradicts the tab's manifest: it runs other code than the one deployed and must
    /// never write.
    Outdated {
        /// The models that say so (listed with another class hash, or listed and missing from
        /// the tab's manifest).
        models: Vec<String>,
    },
    /// Torii contradicts neither manifest: the database stays on the stored one for now.
    Undecided,
}

/// The models of `manifest` Torii contradicts, given the `other` manifest (see the module
/// documentation).
fn contradicted(
    manifest: &ManifestFingerprint,
    other: Option<&ManifestFingerprint>,
    torii: &ToriiModels,
) -> Vec<String> {
    let mut against: Vec<String> = manifest
        .entries
        .iter()
        .filter(|entry| {
            torii
                .get(&entry.tag)
                .is_some_and(|listed| Felt::from_hex(&entry.class_hash).ok() != Some(*listed))
        })
        .map(|entry| entry.tag.clone())
        .collect();
    if let Some(other) = other {
        let named: HashSet<&str> = manifest.entries.iter().map(|e| e.tag.as_str()).collect();
        against.extend(
            other
                .entries
                .iter()
                .filter(|entry| !named.contains(entry.tag.as_str()))
                .filter(|entry| torii.get(&entry.tag).is_some())
                .map(|entry| entry.tag.clone()),
        );
    }
    against.sort();
    against.dedup();
    against
}

/// Judges the tab's manifest `own` against the stored one (`None`: the database holds none)
/// by what Torii lists (see the module documentation).
pub fn judge(
    own: &ManifestFingerprint,
    stored: Option<&ManifestFingerprint>,
    torii: &ToriiModels,
) -> Verdict {
    let models = contradicted(own, stored, torii);
    if !models.is_empty() {
        return Verdict::Outdated { models };
    }
    let Some(stored) = stored.filter(|stored| stored.hash != own.hash) else {
        return Verdict::Current;
    };
    let world_only = stored
        .diff(own)
        .iter()
        .all(|change| *change == FingerprintChange::World);
    if world_only || !contradicted(stored, Some(own), torii).is_empty() {
        Verdict::Current
    } else {
        Verdict::Undecided
    }
}

/// The models whose stored data a tab of manifest `own` must not show while the database is on
/// `stored`: those changed between the two, and those only `stored` names.
pub fn hidden_models(own: &ManifestFingerprint, stored: &ManifestFingerprint) -> Vec<String> {
    stored
        .diff(own)
        .into_iter()
        .filter_map(|change| match change {
            FingerprintChange::Changed { tag } | FingerprintChange::Removed { tag } => Some(tag),
            FingerprintChange::Added { .. } | FingerprintChange::World => None,
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use dojo_reactive_core::FingerprintEntry;

    use super::*;

    fn hash(n: u8) -> String {
        Felt::from(u128::from(n)).to_hex()
    }

    /// A fingerprint of models `(tag, class hash number)`.
    fn manifest(name: &str, models: &[(&str, u8)]) -> ManifestFingerprint {
        ManifestFingerprint {
            hash: format!("manifest-hash:v1:{name}"),
            world_class_hash: hash(99),
            entries: models
                .iter()
                .map(|(tag, class)| FingerprintEntry {
                    tag: (*tag).to_owned(),
                    kind: dojo_reactive_core::ResourceKind::Model,
                    class_hash: hash(*class),
                    signature: format!("{tag}:{class}"),
                    member_count: 1,
                })
                .collect(),
        }
    }

    fn torii(models: &[(&str, u8)]) -> ToriiModels {
        let bytes: Vec<(String, String, [u8; 32])> = models
            .iter()
            .map(|(tag, class)| {
                let (namespace, name) = tag.split_once('-').unwrap_or(("", tag));
                let felt = Felt::from(u128::from(*class));
                (namespace.to_owned(), name.to_owned(), *felt.as_bytes())
            })
            .collect();
        ToriiModels::new(
            bytes
                .iter()
                .map(|(ns, name, class)| (ns.as_str(), name.as_str(), &class[..])),
        )
    }

    fn outdated(models: &[&str]) -> Verdict {
        Verdict::Outdated {
            models: models.iter().map(|m| (*m).to_owned()).collect(),
        }
    }

    #[test]
    fn an_upgraded_model_lets_the_new_code_switch_and_stops_the_old_code() {
        let old = manifest("old", &[("a-Player", 1), ("a-Position", 2)]);
        let new = manifest("new", &[("a-Player", 1), ("a-Position", 3)]);
        let deployed = torii(&[("a-Player", 1), ("a-Position", 3)]);
        assert_eq!(judge(&new, Some(&old), &deployed), Verdict::Current);
        assert_eq!(
            judge(&old, Some(&new), &deployed),
            outdated(&["a-Position"])
        );
        // Torii contradicts the old code even while the database is still on it.
        assert_eq!(
            judge(&old, Some(&old), &deployed),
            outdated(&["a-Position"])
        );
        assert_eq!(judge(&new, Some(&new), &deployed), Verdict::Current);
    }

    #[test]
    fn an_added_model_orders_the_manifests_by_what_torii_lists() {
        let old = manifest("old", &[("a-Player", 1)]);
        let new = manifest("new", &[("a-Player", 1), ("a-Quest", 4)]);
        let deployed = torii(&[("a-Player", 1), ("a-Quest", 4)]);
        assert_eq!(judge(&new, Some(&old), &deployed), Verdict::Current);
        assert_eq!(judge(&old, Some(&new), &deployed), outdated(&["a-Quest"]));
        // Before the migration reached Torii, Torii contradicts neither: the database stays on
        // whatever it holds, so two tabs never switch it back and forth.
        let before = torii(&[("a-Player", 1)]);
        assert_eq!(judge(&new, Some(&old), &before), Verdict::Undecided);
        assert_eq!(judge(&old, Some(&new), &before), Verdict::Undecided);
        assert_eq!(judge(&new, Some(&new), &before), Verdict::Current);
        // A world upgrade alone (nothing Torii lists differs) switches.
        let mut upgraded = old.clone();
        upgraded.hash = "manifest-hash:v1:world".into();
        upgraded.world_class_hash = hash(98);
        assert_eq!(judge(&upgraded, Some(&old), &before), Verdict::Current);
    }

    #[test]
    fn an_empty_database_takes_any_manifest_torii_does_not_contradict() {
        let own = manifest("own", &[("a-Player", 1), ("b-Other", 5)]);
        assert_eq!(
            judge(&own, None, &torii(&[("a-Player", 1)])),
            Verdict::Current
        );
        assert_eq!(
            judge(&own, None, &torii(&[("a-Player", 2)])),
            outdated(&["a-Player"])
        );
        // Models Torii does not list (e.g. namespaces it does not index) are no evidence.
        assert_eq!(judge(&own, None, &ToriiModels::default()), Verdict::Current);
    }

    #[test]
    fn class_hashes_compare_as_felts_and_bad_ones_are_ignored() {
        let own = manifest("own", &[("a-Player", 1)]);
        let spelled = ToriiModels::new([("a", "Player", &[0u8, 0, 1][..])]);
        assert_eq!(judge(&own, None, &spelled), Verdict::Current);
        let garbage = ToriiModels::new([("a", "Player", &[1u8; 40][..])]);
        assert_eq!(garbage, ToriiModels::default());
    }

    #[test]
    fn a_tab_hides_the_stored_models_its_manifest_describes_otherwise() {
        let stored = manifest("new", &[("a-Player", 1), ("a-Position", 3), ("a-Quest", 4)]);
        let own = manifest("old", &[("a-Player", 1), ("a-Position", 2), ("a-Old", 6)]);
        assert_eq!(
            hidden_models(&own, &stored),
            vec!["a-Position".to_owned(), "a-Quest".to_owned()]
        );
        assert!(hidden_models(&stored, &stored).is_empty());
    }
}
