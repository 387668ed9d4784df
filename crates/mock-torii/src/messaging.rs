//! Cartridge controllers (`RetrieveControllers`) and offchain messages (`PublishMessage`).
//!
//! Controllers: one per generated player (address = the player's key, username
//! `player<n>` in creation order, deployed when the player was created), plus those the control
//! API adds or renames. Sorted by address; the cursor is the last address of the page.
//!
//! Messages are handled as Torii 1.8 does: the typed data's `primaryType` names a model of the
//! world (`namespace-Model`), every member of `message` must be a member of it, the model needs
//! an `identity` contract address (the signer), and the message is stored as that model's state
//! of the entity whose id is the Poseidon hash of its keys, in the entities table, so entity
//! subscribers receive it. The answer is the world-scoped id `0x<world>:0x<entity>`. Refusals
//! are `INTERNAL` with Torii's message (`Model not found: ...`, `Field not found: ...`,
//! `Invalid type: ...`, `Invalid signature`); JSON that is not typed data is
//! `INVALID_ARGUMENT` `Invalid message`. Unlike Torii, the mock cannot call the account to
//! check the signature: it accepts any non-empty one. Enum members take the mock's
//! `{"variant": name, "value": v}` form.

use std::collections::BTreeMap;

use dojo_reactive_torii::{types, world};
use serde_json::Value;
use tonic::Status;

use crate::felt::{hex64, Bytes32};
use crate::json::json_to_ty;
use crate::schema::{self, ModelDef, TypeDef, PLAYER};
use crate::store::{Kind, Store, Written};
use crate::wire;
use crate::world::Record;

/// Most controllers in one page when the query sets no limit.
const DEFAULT_LIMIT: usize = 100;

/// One controller: its username and deployment time (Unix seconds).
#[derive(Clone, Debug, PartialEq, Eq)]
struct Account {
    username: String,
    deployed_at: u64,
}

/// The controllers table, by address.
#[derive(Clone, Debug, Default)]
pub struct Controllers {
    by_address: BTreeMap<Bytes32, Account>,
}

impl Controllers {
    /// One controller per player of `entities` (records holding `arena-Player`), in creation
    /// order: `player0`, `player1`, ...
    pub fn generate<'a>(entities: impl Iterator<Item = &'a Record>) -> Controllers {
        let mut by_address = BTreeMap::new();
        for (n, record) in entities
            .filter(|r| r.model(PLAYER).is_some() && r.keys.len() == 1)
            .enumerate()
        {
            by_address.insert(
                record.keys[0],
                Account {
                    username: format!("player{n}"),
                    deployed_at: record.created_at,
                },
            );
        }
        Controllers { by_address }
    }

    /// Adds the controller `address`, or renames it; returns whether it existed.
    pub fn set(&mut self, address: Bytes32, username: String, now: u64) -> bool {
        match self.by_address.get_mut(&address) {
            Some(account) => {
                account.username = username;
                true
            }
            None => {
                self.by_address.insert(
                    address,
                    Account {
                        username,
                        deployed_at: now,
                    },
                );
                false
            }
        }
    }

    /// The number of controllers.
    pub fn len(&self) -> usize {
        self.by_address.len()
    }

    /// Whether there is none.
    pub fn is_empty(&self) -> bool {
        self.by_address.is_empty()
    }

    /// One page of the controllers matching `query` (by address or username; all when both
    /// lists are empty), by address, after the cursor.
    pub fn retrieve(
        &self,
        query: Option<&types::ControllerQuery>,
    ) -> Result<world::RetrieveControllersResponse, Status> {
        let default = types::ControllerQuery::default();
        let query = query.unwrap_or(&default);
        let addresses = query
            .contract_addresses
            .iter()
            .map(|bytes| {
                crate::felt::pad32(bytes)
                    .ok_or_else(|| Status::invalid_argument("invalid contract address"))
            })
            .collect::<Result<Vec<_>, _>>()?;
        let pagination = query.pagination.clone().unwrap_or_default();
        let after = if pagination.cursor.is_empty() {
            None
        } else {
            Some(
                crate::felt::parse_hex32(&pagination.cursor)
                    .ok_or_else(|| Status::invalid_argument("invalid cursor"))?,
            )
        };
        let limit = match pagination.limit {
            0 => DEFAULT_LIMIT,
            n => n as usize,
        };
        let everything = addresses.is_empty() && query.usernames.is_empty();
        let mut matching = self
            .by_address
            .iter()
            .filter(|(address, _)| after.is_none_or(|a| **address > a))
            .filter(|(address, account)| {
                everything
                    || addresses.contains(address)
                    || query.usernames.contains(&account.username)
            });
        let controllers: Vec<types::Controller> = matching
            .by_ref()
            .take(limit)
            .map(|(address, account)| types::Controller {
                address: address.to_vec(),
                username: account.username.clone(),
                deployed_at_timestamp: account.deployed_at,
            })
            .collect();
        let more = matching.next().is_some();
        let next_cursor = match (more, controllers.last()) {
            (true, Some(last)) => hex64(&last.address),
            _ => String::new(),
        };
        Ok(world::RetrieveControllersResponse {
            next_cursor,
            controllers,
        })
    }
}

/// What the next publishes do instead of being stored at once (`POST /_mock/publish-faults`).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct PublishFaults {
    /// Publishes still to refuse, and the reason Torii gives.
    pub reject: u32,
    /// The reason of refused publishes (default `Invalid signature`).
    pub reason: Option<String>,
    /// Publishes still to accept without ever indexing them (the overlay then times out).
    pub unindexed: u32,
}

fn internal(message: String) -> Status {
    Status::internal(message)
}

/// Validates a `PublishMessage` request against the world's models (`models`) as Torii does.
pub fn validate<'a>(
    request: &world::PublishMessageRequest,
    world_address: &Bytes32,
    mut models: impl Iterator<Item = &'a ModelDef>,
) -> Result<(Vec<Bytes32>, types::Struct), Status> {
    let typed: Value = serde_json::from_str(&request.message)
        .map_err(|_| Status::invalid_argument("Invalid message"))?;
    let (Some(Value::String(tag)), Some(Value::Object(message))) =
        (typed.get("primaryType"), typed.get("message"))
    else {
        return Err(Status::invalid_argument("Invalid message"));
    };
    let same_world = crate::felt::pad32(&request.world_address) == Some(*world_address);
    let model = models
        .find(|m| m.tag == tag && !m.is_event)
        .filter(|_| same_world)
        .ok_or_else(|| internal(format!("Model not found: {tag}")))?;
    let mut value = model.default_struct();
    for (name, json) in message {
        let member = model
            .member(name)
            .ok_or_else(|| internal(format!("Field not found: {name}")))?;
        let ty = json_to_ty(&member.ty, json, name)
            .map_err(|e| internal(format!("Invalid type: {e}")))?;
        if let Some(slot) = wire::get_mut(&mut value, name) {
            *slot = ty;
        }
    }
    match model.member("identity").map(|m| &m.ty) {
        Some(TypeDef::Primitive(schema::Prim::ContractAddress)) => {}
        Some(_) => {
            return Err(internal(
                "Invalid type: Identity should be a contract address".to_owned(),
            ))
        }
        None => return Err(internal("Field not found: identity".to_owned())),
    }
    let mut keys = Vec::new();
    for member in model.members.iter().filter(|m| m.key) {
        let felt = wire::get(&value, member.name)
            .and_then(wire::as_prim)
            .and_then(key_felt)
            .ok_or_else(|| {
                internal(format!(
                    "Invalid type: key {} is not a single felt",
                    member.name
                ))
            })?;
        keys.push(felt);
    }
    if request.signature.is_empty() {
        return Err(internal("Invalid signature".to_owned()));
    }
    Ok((keys, value))
}

/// The one felt a key primitive serializes to.
fn key_felt(prim: &types::primitive::PrimitiveType) -> Option<Bytes32> {
    use types::primitive::PrimitiveType as P;
    let small = |v: u64| {
        let mut felt = [0u8; 32];
        felt[24..].copy_from_slice(&v.to_be_bytes());
        Some(felt)
    };
    match prim {
        P::ContractAddress(b) | P::ClassHash(b) | P::Felt252(b) | P::EthAddress(b) => {
            crate::felt::pad32(b)
        }
        P::U8(v) | P::U16(v) | P::U32(v) => small(u64::from(*v)),
        P::U64(v) => small(*v),
        P::Bool(b) => small(u64::from(*b)),
        P::U128(b) => crate::felt::pad32(b),
        _ => None,
    }
}

impl Store {
    /// Takes one publish fault: `Err` with Torii's refusal, `Ok(false)` to accept without
    /// indexing, `Ok(true)` to index.
    pub fn take_publish_fault(&mut self) -> Result<bool, Status> {
        let faults = &mut self.publish_faults;
        if faults.reject > 0 {
            faults.reject -= 1;
            let reason = faults
                .reason
                .clone()
                .unwrap_or_else(|| "Invalid signature".to_owned());
            return Err(internal(reason));
        }
        if faults.unindexed > 0 {
            faults.unindexed -= 1;
            return Ok(false);
        }
        Ok(true)
    }

    /// Stores a validated message as its model's state of its entity (creating the entity).
    pub fn index_message(
        &mut self,
        keys: Vec<Bytes32>,
        tag: &str,
        value: types::Struct,
    ) -> Option<Written> {
        let id = self.ensure_record(Kind::Entities, keys);
        self.write(Kind::Entities, &id, tag, Some(value)).ok()
    }
}

/// Torii's answer to a stored message: `0x<world>:0x<entity>`.
pub fn world_scoped_id(world_address: &Bytes32, entity: &Bytes32) -> String {
    format!("{}:{}", hex64(world_address), hex64(entity))
}

impl crate::service::MockService {
    /// `PublishMessage`: validates, then stores and broadcasts the message (faults aside);
    /// returns Torii's world-scoped id of its entity.
    pub(crate) fn publish(&self, request: &world::PublishMessageRequest) -> Result<String, Status> {
        let config = &self.shared.config;
        let mut store = self.shared.store();
        let models = schema::world_models(config.hostile_names, config.messages);
        let (keys, value) = validate(request, &store.world.address, models)?;
        let index = store.take_publish_fault()?;
        let entity = crate::felt::entity_id(&keys);
        if index {
            let tag = value.name.clone();
            if let Some(written) = store.index_message(keys, &tag, value) {
                self.shared.publish(&store, &written);
            }
        }
        Ok(world_scoped_id(&store.world.address, &entity))
    }
}

impl crate::control::Control {
    /// Adds the controller `address` (`0x` hex) with `username`, or renames it
    /// (`POST /_mock/controller`); returns whether it existed.
    pub fn set_controller(
        &self,
        address: &str,
        username: &str,
    ) -> Result<bool, crate::ControlError> {
        let address = crate::felt::parse_hex32(address).ok_or_else(|| {
            crate::ControlError::BadRequest(format!("{address:?} is not a 0x address"))
        })?;
        if username.is_empty() {
            return Err(crate::ControlError::BadRequest(
                "username must not be empty".to_owned(),
            ));
        }
        let mut store = self.shared.store();
        let (_, now) = store.clock.next_live();
        Ok(store.controllers.set(address, username.to_owned(), now))
    }

    /// Sets the faults of the next publishes (`POST /_mock/publish-faults`): the next `reject`
    /// are refused with `reason` (default `Invalid signature`), the next `unindexed` after them
    /// are accepted but never indexed.
    pub fn publish_faults(&self, faults: PublishFaults) {
        self.shared.store().publish_faults = faults;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn request(message: Value, world: &Bytes32) -> world::PublishMessageRequest {
        world::PublishMessageRequest {
            signature: vec![vec![1], vec![2]],
            message: message.to_string(),
            world_address: world.to_vec(),
        }
    }

    fn typed(primary: &str, message: Value) -> Value {
        json!({ "types": {}, "primaryType": primary, "domain": {}, "message": message })
    }

    #[test]
    fn messages_are_validated_against_the_world_models() {
        let world = [7u8; 32];
        let models = || schema::world_models(false, true);
        let good = typed(
            schema::MESSAGE,
            json!({ "identity": "0x1", "channel": "0x2", "text": "hi" }),
        );
        let (keys, value) = validate(&request(good.clone(), &world), &world, models()).unwrap();
        assert_eq!(keys.len(), 2);
        assert_eq!(keys[0][31], 1);
        assert_eq!(value.name, schema::MESSAGE);

        let refuse = |message: Value| {
            validate(&request(message, &world), &world, models())
                .unwrap_err()
                .message()
                .to_owned()
        };
        assert_eq!(
            refuse(typed("arena-Nope", json!({}))),
            "Model not found: arena-Nope"
        );
        assert_eq!(
            refuse(typed(schema::MESSAGE, json!({ "mood": 1 }))),
            "Field not found: mood"
        );
        assert!(refuse(typed(schema::MESSAGE, json!({ "text": 5 }))).starts_with("Invalid type"));
        assert_eq!(
            refuse(typed(schema::PLAYER, json!({ "player": "0x1" }))),
            "Field not found: identity"
        );
        let mut unsigned = request(good, &world);
        unsigned.signature.clear();
        assert_eq!(
            validate(&unsigned, &world, models()).unwrap_err().message(),
            "Invalid signature"
        );
        let bad = validate(
            &world::PublishMessageRequest {
                message: "{".to_owned(),
                ..request(json!({}), &world)
            },
            &world,
            models(),
        )
        .unwrap_err();
        assert_eq!(bad.code(), tonic::Code::InvalidArgument);
    }

    #[test]
    fn controllers_page_by_address_and_match_usernames() {
        let mut controllers = Controllers::default();
        for n in 1..=5u8 {
            controllers.set([n; 32], format!("user{n}"), 0);
        }
        let page = |query: types::ControllerQuery| controllers.retrieve(Some(&query)).unwrap();
        let first = page(types::ControllerQuery {
            pagination: Some(types::Pagination {
                limit: 2,
                ..Default::default()
            }),
            ..Default::default()
        });
        assert_eq!(first.controllers.len(), 2);
        assert_eq!(first.next_cursor, hex64(&[2; 32]));
        let by_name = page(types::ControllerQuery {
            contract_addresses: vec![vec![1; 32]],
            usernames: vec!["user4".to_owned()],
            ..Default::default()
        });
        let names: Vec<_> = by_name
            .controllers
            .iter()
            .map(|c| c.username.as_str())
            .collect();
        assert_eq!(names, ["user1", "user4"]);
        assert!(by_name.next_cursor.is_empty());
        assert!(controllers.set([1; 32], "renamed".to_owned(), 0));
    }
}
