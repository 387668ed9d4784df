//! Entity ids from keys: Dojo and Torii name an entity by the Poseidon hash of its serialized
//! keys (`hashed_keys`), so a query that fixes every key member can look its entity up by id
//! instead of scanning the model.

use dojo_reactive_core::{EntityId, Felt};
use starknet_types_core::felt::Felt as StarkFelt;
use starknet_types_core::hash::{Poseidon, StarkHash};

/// The id of the entity whose serialized keys are `keys`.
pub fn entity_id_of_keys(keys: &[Felt]) -> EntityId {
    let felts: Vec<StarkFelt> = keys
        .iter()
        .map(|key| StarkFelt::from_bytes_be(&key.0))
        .collect();
    Felt(Poseidon::hash_array(&felts).to_bytes_be())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_id_depends_on_every_key_and_their_order() {
        let a = Felt::from(1u128);
        let b = Felt::from(2u128);
        let ab = entity_id_of_keys(&[a, b]);
        assert_eq!(ab, entity_id_of_keys(&[a, b]));
        assert_ne!(ab, entity_id_of_keys(&[b, a]));
        assert_ne!(ab, entity_id_of_keys(&[a]));
        // A felt: the top bits of a 252-bit field element stay clear.
        assert!(ab.0[0] < 0x09);
    }
}
