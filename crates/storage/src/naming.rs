//! Database names: one database per (Torii URL, world), so two worlds never share data.

use dojo_reactive_core::Felt;
use sha2::{Digest, Sha256};

/// Prefix of every database name this crate derives.
pub const DB_NAME_PREFIX: &str = "dojo-reactive:";

/// The default database name for a world served by a Torii: `dojo-reactive:` followed by 32 hex
/// digits of the SHA-256 of the URL (trimmed, without trailing `/`, lower-cased) and the world
/// address (as 32 bytes), so spelling variants of the same URL or address share one database.
pub fn default_db_name(torii_url: &str, world_address: &Felt) -> String {
    let url = torii_url.trim().trim_end_matches('/').to_ascii_lowercase();
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
}
