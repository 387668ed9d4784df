//! Live server streams (entities, event messages, tokens, balances) behind one type.
//!
//! Every Torii stream starts with a handshake message that carries only the subscription id; the
//! items follow. [`Subscription::open`] waits for the handshake, [`Subscription::next`] decodes
//! the items, and `None` means the server ended the stream (resubscribe and resync then).

use std::sync::{Arc, Mutex, PoisonError};

use dojo_reactive_core::{Entity, Felt, SchemaRegistry, Token, TokenBalance};

use crate::convert::entity_from_wire;
use crate::error::ToriiError;
use crate::proto::{types, world};
use crate::token::{token_balance_from_wire, token_from_wire};
use crate::transport::MessageStream;

/// A message of a Torii stream: a subscription id and, after the handshake, one item.
pub trait StreamMessage: Send + 'static {
    /// The decoded item.
    type Item;
    /// The wire payload.
    type Wire;
    /// The subscription id.
    fn subscription_id(&self) -> u64;
    /// The payload; `None` in the handshake.
    fn into_payload(self) -> Option<Self::Wire>;
    /// Decodes one payload.
    fn decode(wire: Self::Wire, schemas: &Mutex<SchemaRegistry>) -> Result<Self::Item, ToriiError>;
}

impl StreamMessage for world::SubscribeEntityResponse {
    type Item = Entity;
    type Wire = types::Entity;
    fn subscription_id(&self) -> u64 {
        self.subscription_id
    }
    fn into_payload(self) -> Option<types::Entity> {
        self.entity
    }
    fn decode(wire: types::Entity, schemas: &Mutex<SchemaRegistry>) -> Result<Entity, ToriiError> {
        let mut schemas = schemas.lock().unwrap_or_else(PoisonError::into_inner);
        decode_entity(wire, &mut schemas)
    }
}

impl StreamMessage for world::SubscribeTokensResponse {
    type Item = Token;
    type Wire = types::Token;
    fn subscription_id(&self) -> u64 {
        self.subscription_id
    }
    fn into_payload(self) -> Option<types::Token> {
        self.token
    }
    fn decode(wire: types::Token, _: &Mutex<SchemaRegistry>) -> Result<Token, ToriiError> {
        token_from_wire(wire).map_err(|source| ToriiError::InvalidEntity {
            entity: None,
            source,
        })
    }
}

impl StreamMessage for world::SubscribeTokenBalancesResponse {
    type Item = TokenBalance;
    type Wire = types::TokenBalance;
    fn subscription_id(&self) -> u64 {
        self.subscription_id
    }
    fn into_payload(self) -> Option<types::TokenBalance> {
        self.balance
    }
    fn decode(
        wire: types::TokenBalance,
        _: &Mutex<SchemaRegistry>,
    ) -> Result<TokenBalance, ToriiError> {
        token_balance_from_wire(wire).map_err(|source| ToriiError::InvalidEntity {
            entity: None,
            source,
        })
    }
}

/// Decodes an entity, naming it in the error when its id is readable.
pub(crate) fn decode_entity(
    wire: types::Entity,
    schemas: &mut SchemaRegistry,
) -> Result<Entity, ToriiError> {
    let id = Felt::from_be_slice(&wire.hashed_keys)
        .ok()
        .map(|id| id.to_hex());
    entity_from_wire(wire, schemas)
        .map_err(|source| ToriiError::InvalidEntity { entity: id, source })
}

/// A live subscription whose handshake has arrived.
pub struct Subscription<M: StreamMessage> {
    id: u64,
    stream: MessageStream<M>,
    schemas: Arc<Mutex<SchemaRegistry>>,
}

/// A subscription to entities or event messages.
pub type EntitySubscription = Subscription<world::SubscribeEntityResponse>;
/// A subscription to tokens.
pub type TokenSubscription = Subscription<world::SubscribeTokensResponse>;
/// A subscription to token balances.
pub type TokenBalanceSubscription = Subscription<world::SubscribeTokenBalancesResponse>;

impl<M: StreamMessage + prost::Message + Default> Subscription<M> {
    /// Waits for the handshake of a freshly opened stream.
    pub(crate) async fn open(
        mut stream: MessageStream<M>,
        schemas: Arc<Mutex<SchemaRegistry>>,
    ) -> Result<Self, ToriiError> {
        let first = stream
            .message()
            .await?
            .ok_or_else(|| ToriiError::Handshake {
                message: "the stream ended before the handshake".to_owned(),
            })?;
        let id = first.subscription_id();
        if first.into_payload().is_some() {
            return Err(ToriiError::Handshake {
                message: "the first message carried an item instead of the handshake".to_owned(),
            });
        }
        Ok(Self {
            id,
            stream,
            schemas,
        })
    }

    /// The subscription id Torii assigned (needed to update its filter).
    pub fn id(&self) -> u64 {
        self.id
    }

    /// The next item: `Some(Ok(_))` (for entities, with just the model that changed),
    /// `Some(Err(_))` for a broken message (the stream may go on after an invalid item), `None`
    /// when the server ended the stream (Torii does so when a subscriber falls behind).
    pub async fn next(&mut self) -> Option<Result<M::Item, ToriiError>> {
        match self.stream.message().await {
            Ok(Some(message)) => Some(match message.into_payload() {
                Some(wire) => <M as StreamMessage>::decode(wire, &self.schemas),
                None => Err(ToriiError::Handshake {
                    message: "a second handshake arrived on a live stream".to_owned(),
                }),
            }),
            Ok(None) => None,
            Err(error) => Some(Err(error)),
        }
    }
}
