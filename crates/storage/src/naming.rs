//! Database names: one database per (Torii URL, world), so two worlds never share data.

use dojo_reactive_core::Felt;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

/// Prefix of every database name this crate derives.
pub const DB_NAME_PREFIX: &str = "dojo-reactive:";

/// A Torii URL as databases are keyed on it: trimmed, without trailing `/`, lower-cased.
fn canonical_url(torii_url: &str) -> String {
    torii_url.trim().trim_end_matches('/').to_ascii_lowercase()
}

/// Where a database's data comes from: a world served by a Torii. Recorded with the data, so a
/// database (a custom name shared by two worlds) never mixes two origins.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct DataOrigin {
    /// The Torii URL (trimmed, without trailing `/`, lower-cased).
    pub torii_url: String,
    /// The world address, `0x` + 64 hex digits.
    pub world_address: String,
}

impl DataOrigin {
    /// The origin of `world_address` served by the Torii at `torii_url`.
    pub fn new(torii_url: &str, world_address: &Felt) -> Self {
        DataOrigin {
            torii_url: canonical_url(torii_url),
            world_address: world_address.to_hex(),
        }
    }
}

impl std::fmt::Display for DataOrigin {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "world {} at {}", self.world_address, self.torii_url)
    }
}

/// The default database name for a world served by a Torii: `dojo-reactive:` followed by 32 hex
/// digits of the SHA-256 of the URL (trimmed, without trailing `/`, lower-cased) and the world
/// address (as 32 bytes), so spelling variants of the same URL or address share one database.
pub fn default_db_name(torii_url: &str, world_address: &Felt) -> String {
    let url = canonical_url(torii_url);
    let mut hasher = Sha256::new();
    hasher.update((url.len() as u64).to_be_bytes());
    hasher.update(url.as_bytes());
    hasher.update(world_address.0);
    let digest = hasher.finalize();
    let short = digest.get(..16).unwrap_or_default();
    format!("{DB_NAME_PREFIX}{}", hex::encode(short))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_separate_worlds_and_urls_but_not_spellings() {
        let world = Felt::from(0x1234u128);
        let other = Felt::from(0x1235u128);
        let a = default_db_name("http://localhost:8080", &world);
        assert!(a.starts_with(DB_NAME_PREFIX));
        assert_eq!(a.len(), DB_NAME_PREFIX.len() + 32);
        assert_eq!(a, default_db_name(" HTTP://localhost:8080/ ", &world));
        assert_ne!(a, default_db_name("http://localhost:8080", &other));
        assert_ne!(a, default_db_name("http://localhost:8081", &world));
    }

    #[test]
    fn origins_compare_like_names() {
        let world = Felt::from(0x1234u128);
        let origin = DataOrigin::new("http://localhost:8080", &world);
        assert_eq!(origin, DataOrigin::new(" HTTP://localhost:8080/ ", &world));
        assert_ne!(
            origin,
            DataOrigin::new("http://localhost:8080", &Felt::from(1u128))
        );
        assert_ne!(origin, DataOrigin::new("http://localhost:8081", &world));
        assert!(origin.to_string().contains("localhost:8080"));
    }
}
