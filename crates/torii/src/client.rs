//! A client for Torii's `world.World` service: gRPC over HTTP/2 natively, gRPC-web in browsers.

use std::sync::{Arc, Mutex, PoisonError};

use dojo_reactive_core::{Entity, Felt, SchemaRegistry, Token, TokenBalance, TokenContract};

use crate::controller::{controller_from_wire, Controller};
use crate::convert::WireError;
use crate::error::ToriiError;
use crate::proto::{types, world};
use crate::subscription::{
    decode_entity, EntitySubscription, Subscription, TokenBalanceSubscription, TokenSubscription,
};
use crate::token::{token_balance_from_wire, token_contract_from_wire, token_from_wire};
use crate::transport::{self, GrpcTransport};

/// Torii's largest message (16 MiB): larger messages (and, in browsers, gRPC-web frames
/// announcing more) are refused as [`ToriiError::TooLarge`].
pub(crate) const MAX_MESSAGE_BYTES: usize = 16 * 1024 * 1024;

/// The `world.World` methods the client calls: each one's path, request and answer (for a
/// streaming method, the type of each streamed message), as `world.proto` declares them.
mod method {
    use crate::proto::world;
    use crate::transport::Method;

    pub(super) const WORLDS: Method<world::WorldsRequest, world::WorldsResponse> =
        Method::new("/world.World/Worlds");
    pub(super) const RETRIEVE_ENTITIES: Method<
        world::RetrieveEntitiesRequest,
        world::RetrieveEntitiesResponse,
    > = Method::new("/world.World/RetrieveEntities");
    pub(super) const RETRIEVE_EVENT_MESSAGES: Method<
        world::RetrieveEntitiesRequest,
        world::RetrieveEntitiesResponse,
    > = Method::new("/world.World/RetrieveEventMessages");
    pub(super) const SUBSCRIBE_ENTITIES: Method<
        world::SubscribeEntitiesRequest,
        world::SubscribeEntityResponse,
    > = Method::new("/world.World/SubscribeEntities");
    pub(super) const SUBSCRIBE_EVENT_MESSAGES: Method<
        world::SubscribeEntitiesRequest,
        world::SubscribeEntityResponse,
    > = Method::new("/world.World/SubscribeEventMessages");
    pub(super) const UPDATE_ENTITIES_SUBSCRIPTION: Method<
        world::UpdateEntitiesSubscriptionRequest,
        (),
    > = Method::new("/world.World/UpdateEntitiesSubscription");
    pub(super) const UPDATE_EVENT_MESSAGES_SUBSCRIPTION: Method<
        world::UpdateEntitiesSubscriptionRequest,
        (),
    > = Method::new("/world.World/UpdateEventMessagesSubscription");
    pub(super) const RETRIEVE_TOKENS: Method<
        world::RetrieveTokensRequest,
        world::RetrieveTokensResponse,
    > = Method::new("/world.World/RetrieveTokens");
    pub(super) const SUBSCRIBE_TOKENS: Method<
        world::SubscribeTokensRequest,
        world::SubscribeTokensResponse,
    > = Method::new("/world.World/SubscribeTokens");
    pub(super) const UPDATE_TOKENS_SUBSCRIPTION: Method<world::UpdateTokenSubscriptionRequest, ()> =
        Method::new("/world.World/UpdateTokensSubscription");
    pub(super) const RETRIEVE_TOKEN_BALANCES: Method<
        world::RetrieveTokenBalancesRequest,
        world::RetrieveTokenBalancesResponse,
    > = Method::new("/world.World/RetrieveTokenBalances");
    pub(super) const SUBSCRIBE_TOKEN_BALANCES: Method<
        world::SubscribeTokenBalancesRequest,
        world::SubscribeTokenBalancesResponse,
    > = Method::new("/world.World/SubscribeTokenBalances");
    pub(super) const UPDATE_TOKEN_BALANCES_SUBSCRIPTION: Method<
        world::UpdateTokenBalancesSubscriptionRequest,
        (),
    > = Method::new("/world.World/UpdateTokenBalancesSubscription");
    pub(super) const RETRIEVE_TOKEN_CONTRACTS: Method<
        world::RetrieveTokenContractsRequest,
        world::RetrieveTokenContractsResponse,
    > = Method::new("/world.World/RetrieveTokenContracts");
    pub(super) const RETRIEVE_CONTROLLERS: Method<
        world::RetrieveControllersRequest,
        world::RetrieveControllersResponse,
    > = Method::new("/world.World/RetrieveControllers");
    pub(super) const PUBLISH_MESSAGE: Method<
        world::PublishMessageRequest,
        world::PublishMessageResponse,
    > = Method::new("/world.World/PublishMessage");
    pub(super) const PUBLISH_MESSAGE_BATCH: Method<
        world::PublishMessageBatchRequest,
        world::PublishMessageBatchResponse,
    > = Method::new("/world.World/PublishMessageBatch");
}

/// A Torii client. Cheap to clone; clones share one connection and one schema registry.
#[derive(Clone)]
pub struct ToriiClient {
    url: String,
    grpc: GrpcTransport,
    schemas: Arc<Mutex<SchemaRegistry>>,
}

/// One page of a snapshot.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Page<T> {
    /// The items that decoded cleanly.
    pub items: Vec<T>,
    /// Items that were skipped because their content is invalid (each as its typed error).
    pub rejected: Vec<ToriiError>,
    /// The cursor of the next page, `None` after the last page.
    pub next_cursor: Option<String>,
}

/// A page of entities or event messages.
pub type EntityPage = Page<Entity>;

impl<T> Page<T> {
    /// Decodes wire items, keeping the good ones and reporting the bad ones.
    fn decode<W>(
        wire: Vec<W>,
        next_cursor: String,
        mut decode: impl FnMut(W) -> Result<T, ToriiError>,
    ) -> Self {
        let mut page = Page {
            items: Vec::with_capacity(wire.len()),
            rejected: Vec::new(),
            next_cursor: (!next_cursor.is_empty()).then_some(next_cursor),
        };
        for item in wire {
            match decode(item) {
                Ok(item) => page.items.push(item),
                Err(error) => page.rejected.push(error),
            }
        }
        page
    }
}

fn invalid(source: WireError) -> ToriiError {
    ToriiError::InvalidEntity {
        entity: None,
        source,
    }
}

/// Which entity store of Torii to read: world entities or event messages.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EntityKind {
    /// Entities (`RetrieveEntities`, `SubscribeEntities`).
    Entities,
    /// Event messages (`RetrieveEventMessages`, `SubscribeEventMessages`).
    EventMessages,
}

impl ToriiClient {
    /// A client for the Torii at `url` (e.g. `http://127.0.0.1:8080`). Nothing is sent until the
    /// first call; natively this must be called inside a Tokio runtime.
    pub fn new(url: &str) -> Result<Self, ToriiError> {
        let url = url.trim_end_matches('/').to_owned();
        let grpc = transport::connect(&url)?;
        Ok(Self {
            url,
            grpc,
            schemas: Arc::new(Mutex::new(SchemaRegistry::new())),
        })
    }

    /// The model shapes learned so far (from every entity this client decoded), e.g. to check
    /// filters against.
    pub fn schemas(&self) -> SchemaRegistry {
        self.schemas
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }

    /// The URL this client talks to (without a trailing slash).
    pub fn url(&self) -> &str {
        &self.url
    }

    /// Torii's version string from `GET /` (e.g. `"1.8.16 (abc1234)"`).
    pub async fn version(&self) -> Result<String, ToriiError> {
        let body = transport::http_get(&format!("{}/", self.url)).await?;
        parse_version(&body)
    }

    /// Metadata of the given worlds (all worlds when empty).
    pub async fn worlds(&self, world_addresses: &[Felt]) -> Result<Vec<types::World>, ToriiError> {
        let request = world::WorldsRequest {
            world_addresses: felts_to_bytes(world_addresses),
        };
        let response = self.grpc.unary(method::WORLDS, request).await?;
        Ok(response.worlds)
    }

    /// One page of entities or event messages matching `query`.
    pub async fn retrieve(
        &self,
        kind: EntityKind,
        query: types::Query,
    ) -> Result<EntityPage, ToriiError> {
        let request = world::RetrieveEntitiesRequest { query: Some(query) };
        let path = match kind {
            EntityKind::Entities => method::RETRIEVE_ENTITIES,
            EntityKind::EventMessages => method::RETRIEVE_EVENT_MESSAGES,
        };
        let response = self.grpc.unary(path, request).await?;
        let mut schemas = self.schemas.lock().unwrap_or_else(PoisonError::into_inner);
        Ok(Page::decode(
            response.entities,
            response.next_cursor,
            |wire| decode_entity(wire, &mut schemas),
        ))
    }

    /// Subscribes to changes of entities or event messages matching `clause` (everything when
    /// `None`) and waits for Torii's handshake.
    pub async fn subscribe(
        &self,
        kind: EntityKind,
        clause: Option<types::Clause>,
        world_addresses: &[Felt],
    ) -> Result<EntitySubscription, ToriiError> {
        let request = world::SubscribeEntitiesRequest {
            clause,
            world_addresses: felts_to_bytes(world_addresses),
        };
        let path = match kind {
            EntityKind::Entities => method::SUBSCRIBE_ENTITIES,
            EntityKind::EventMessages => method::SUBSCRIBE_EVENT_MESSAGES,
        };
        let stream = self.grpc.server_stream(path, request).await?;
        Subscription::open(stream, Arc::clone(&self.schemas)).await
    }

    /// Replaces the clause of a live subscription.
    pub async fn update_subscription(
        &self,
        kind: EntityKind,
        subscription_id: u64,
        clause: Option<types::Clause>,
        world_addresses: &[Felt],
    ) -> Result<(), ToriiError> {
        let request = world::UpdateEntitiesSubscriptionRequest {
            subscription_id,
            clause,
            world_addresses: felts_to_bytes(world_addresses),
        };
        let path = match kind {
            EntityKind::Entities => method::UPDATE_ENTITIES_SUBSCRIPTION,
            EntityKind::EventMessages => method::UPDATE_EVENT_MESSAGES_SUBSCRIPTION,
        };
        self.grpc.unary(path, request).await?;
        Ok(())
    }
}

impl ToriiClient {
    /// One page of tokens.
    pub async fn retrieve_tokens(
        &self,
        query: types::TokenQuery,
    ) -> Result<Page<Token>, ToriiError> {
        let request = world::RetrieveTokensRequest { query: Some(query) };
        let response = self.grpc.unary(method::RETRIEVE_TOKENS, request).await?;
        Ok(Page::decode(
            response.tokens,
            response.next_cursor,
            |wire| token_from_wire(wire).map_err(invalid),
        ))
    }

    /// One page of token balances.
    pub async fn retrieve_token_balances(
        &self,
        query: types::TokenBalanceQuery,
    ) -> Result<Page<TokenBalance>, ToriiError> {
        let request = world::RetrieveTokenBalancesRequest { query: Some(query) };
        let response = self
            .grpc
            .unary(method::RETRIEVE_TOKEN_BALANCES, request)
            .await?;
        Ok(Page::decode(
            response.balances,
            response.next_cursor,
            |wire| token_balance_from_wire(wire).map_err(invalid),
        ))
    }

    /// One page of token contracts.
    pub async fn retrieve_token_contracts(
        &self,
        query: types::TokenContractQuery,
    ) -> Result<Page<TokenContract>, ToriiError> {
        let request = world::RetrieveTokenContractsRequest { query: Some(query) };
        let response = self
            .grpc
            .unary(method::RETRIEVE_TOKEN_CONTRACTS, request)
            .await?;
        Ok(Page::decode(
            response.token_contracts,
            response.next_cursor,
            |wire| token_contract_from_wire(wire).map_err(invalid),
        ))
    }

    /// Subscribes to token changes (all tokens when both lists are empty).
    pub async fn subscribe_tokens(
        &self,
        contract_addresses: &[Felt],
        token_ids: &[Felt],
    ) -> Result<TokenSubscription, ToriiError> {
        let request = world::SubscribeTokensRequest {
            contract_addresses: felts_to_bytes(contract_addresses),
            token_ids: felts_to_bytes(token_ids),
        };
        let stream = self
            .grpc
            .server_stream(method::SUBSCRIBE_TOKENS, request)
            .await?;
        Subscription::open(stream, Arc::clone(&self.schemas)).await
    }

    /// Subscribes to balance changes (all balances when every list is empty).
    pub async fn subscribe_token_balances(
        &self,
        account_addresses: &[Felt],
        contract_addresses: &[Felt],
        token_ids: &[Felt],
    ) -> Result<TokenBalanceSubscription, ToriiError> {
        let request = world::SubscribeTokenBalancesRequest {
            account_addresses: felts_to_bytes(account_addresses),
            contract_addresses: felts_to_bytes(contract_addresses),
            token_ids: felts_to_bytes(token_ids),
        };
        let stream = self
            .grpc
            .server_stream(method::SUBSCRIBE_TOKEN_BALANCES, request)
            .await?;
        Subscription::open(stream, Arc::clone(&self.schemas)).await
    }
}

impl ToriiClient {
    /// One page of Cartridge controllers (see [`crate::controller::controller_query`]).
    pub async fn retrieve_controllers(
        &self,
        query: types::ControllerQuery,
    ) -> Result<Page<Controller>, ToriiError> {
        let request = world::RetrieveControllersRequest { query: Some(query) };
        let response = self
            .grpc
            .unary(method::RETRIEVE_CONTROLLERS, request)
            .await?;
        Ok(Page::decode(
            response.controllers,
            response.next_cursor,
            |wire| controller_from_wire(wire).map_err(invalid),
        ))
    }

    /// Publishes an offchain message; returns Torii's id of the entity it stored
    /// (`0x<world>:0x<entity>`). Torii's refusal (unknown model, bad member, bad signature) is
    /// [`ToriiError::Rpc`] with its reason.
    pub async fn publish_message(
        &self,
        request: world::PublishMessageRequest,
    ) -> Result<String, ToriiError> {
        let response = self.grpc.unary(method::PUBLISH_MESSAGE, request).await?;
        Ok(response.id)
    }

    /// Publishes several offchain messages in one call (`PublishMessageBatch`); returns Torii's
    /// id of each, in order. Torii stores them in order and stops at the first it refuses:
    /// the call is then [`ToriiError::Rpc`] with its reason, and the messages before it stay
    /// stored.
    pub async fn publish_message_batch(
        &self,
        messages: Vec<world::PublishMessageRequest>,
    ) -> Result<Vec<String>, ToriiError> {
        let request = world::PublishMessageBatchRequest { messages };
        let response = self
            .grpc
            .unary(method::PUBLISH_MESSAGE_BATCH, request)
            .await?;
        Ok(response.responses.into_iter().map(|r| r.id).collect())
    }

    /// Replaces the filter of a live token subscription (`UpdateTokensSubscription`).
    pub async fn update_tokens_subscription(
        &self,
        subscription_id: u64,
        contract_addresses: &[Felt],
        token_ids: &[Felt],
    ) -> Result<(), ToriiError> {
        let request = world::UpdateTokenSubscriptionRequest {
            subscription_id,
            contract_addresses: felts_to_bytes(contract_addresses),
            token_ids: felts_to_bytes(token_ids),
        };
        self.grpc
            .unary(method::UPDATE_TOKENS_SUBSCRIPTION, request)
            .await?;
        Ok(())
    }

    /// Replaces the filter of a live balance subscription (`UpdateTokenBalancesSubscription`).
    pub async fn update_token_balances_subscription(
        &self,
        subscription_id: u64,
        account_addresses: &[Felt],
        contract_addresses: &[Felt],
        token_ids: &[Felt],
    ) -> Result<(), ToriiError> {
        let request = world::UpdateTokenBalancesSubscriptionRequest {
            subscription_id,
            contract_addresses: felts_to_bytes(contract_addresses),
            account_addresses: felts_to_bytes(account_addresses),
            token_ids: felts_to_bytes(token_ids),
        };
        self.grpc
            .unary(method::UPDATE_TOKEN_BALANCES_SUBSCRIPTION, request)
            .await?;
        Ok(())
    }
}

fn felts_to_bytes(felts: &[Felt]) -> Vec<Vec<u8>> {
    felts.iter().map(|f| f.0.to_vec()).collect()
}

/// Reads the `version` of Torii's `GET /` answer.
fn parse_version(body: &[u8]) -> Result<String, ToriiError> {
    let fail = |message: String| ToriiError::VersionProbe { message };
    let json: serde_json::Value = serde_json::from_slice(body)
        .map_err(|e| fail(format!("`GET /` did not return JSON ({e})")))?;
    json.get("version")
        .and_then(serde_json::Value::as_str)
        .map(str::to_owned)
        .ok_or_else(|| fail("`GET /` returned JSON without a `version` string".to_owned()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn version_is_read_from_torii_root_json() {
        let body = br#"{"service":"torii","version":"1.8.16 (abc1234)","success":true}"#;
        assert_eq!(parse_version(body).unwrap(), "1.8.16 (abc1234)");
        assert!(matches!(
            parse_version(b"<html>"),
            Err(ToriiError::VersionProbe { .. })
        ));
        assert!(matches!(
            parse_version(b"{}"),
            Err(ToriiError::VersionProbe { .. })
        ));
    }
}
