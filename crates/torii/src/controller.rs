//! Cartridge controllers (usernames of accounts) and offchain messages: the request builders and
//! wire conversions of `RetrieveControllers` and `PublishMessage`.

use dojo_reactive_core::Felt;

use crate::convert::{felt_field, WireError};
use crate::proto::{types, world};

/// A Cartridge controller: an account address and its username.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Controller {
    /// The account address.
    pub address: Felt,
    /// The Cartridge username.
    pub username: String,
    /// When the account was deployed (Unix seconds).
    pub deployed_at: u64,
}

/// Converts a wire controller.
pub fn controller_from_wire(wire: types::Controller) -> Result<Controller, WireError> {
    Ok(Controller {
        address: felt_field(&wire.address, "address")?,
        username: wire.username,
        deployed_at: wire.deployed_at_timestamp,
    })
}

/// The query of controllers with any of these addresses or usernames (every controller when
/// both are empty), one page of at most `limit` (0: Torii's default) from `cursor`.
pub fn controller_query(
    addresses: &[Felt],
    usernames: &[String],
    cursor: Option<String>,
    limit: u32,
) -> types::ControllerQuery {
    types::ControllerQuery {
        contract_addresses: addresses.iter().map(|a| a.0.to_vec()).collect(),
        usernames: usernames.to_vec(),
        pagination: Some(types::Pagination {
            cursor: cursor.unwrap_or_default(),
            limit,
            ..types::Pagination::default()
        }),
    }
}

/// The `PublishMessage` request of SNIP-12 typed data (`typed_data_json`) signed by `signature`,
/// for the world at `world_address`.
pub fn publish_request(
    world_address: &Felt,
    typed_data_json: String,
    signature: &[Felt],
) -> world::PublishMessageRequest {
    world::PublishMessageRequest {
        signature: signature.iter().map(|f| f.0.to_vec()).collect(),
        message: typed_data_json,
        world_address: world_address.0.to_vec(),
    }
}

/// The entity id of Torii's `PublishMessage` answer (`0x<world>:0x<entity>`, the world-scoped id
/// the message was stored under), or `None` when the answer has another shape.
pub fn published_entity_id(answer: &str) -> Option<Felt> {
    let entity = answer.rsplit(':').next()?;
    Felt::from_hex(entity).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn controllers_convert_and_reject_bad_addresses() {
        let wire = types::Controller {
            address: vec![0xab; 32],
            username: "alice".to_owned(),
            deployed_at_timestamp: 7,
        };
        let controller = controller_from_wire(wire.clone()).unwrap();
        assert_eq!(controller.address.0, [0xab; 32]);
        assert_eq!(controller.username, "alice");
        assert_eq!(controller.deployed_at, 7);
        let bad = types::Controller {
            address: vec![1; 33],
            ..wire
        };
        assert!(controller_from_wire(bad).is_err());
    }

    #[test]
    fn the_published_id_names_the_entity_after_the_world() {
        let id = format!("0x{}:0x{}", "1".repeat(64), "0".repeat(63) + "2");
        let entity = published_entity_id(&id).unwrap();
        assert_eq!(entity.0[31], 2);
        assert!(published_entity_id("not an id").is_none());
    }
}
