//! A client for Torii's `world.World` service: gRPC over HTTP/2 natively, gRPC-web in browsers.

use std::sync::{Arc, Mutex, PoisonError};

use dojo_reactive_core::{Entity, Felt, SchemaRegistry};
use tonic::codec::CompressionEncoding;

use crate::convert::entity_from_wire;
use crate::error::ToriiError;
use crate::proto::{types, world};
use crate::transport::{self, GrpcTransport};

/// Torii's largest message (16 MiB).
const MAX_MESSAGE_BYTES: usize = 16 * 1024 * 1024;

type WorldClient = world::world_client::WorldClient<GrpcTransport>;

/// A Torii client. Cheap to clone; clones share one connection and one schema registry.
#[derive(Clone)]
pub struct ToriiClient {
    url: String,
    grpc: WorldClient,
    schemas: Arc<Mutex<SchemaRegistry>>,
}

/// One page of a snapshot.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EntityPage {
    /// The entities that decoded cleanly.
    pub entities: Vec<Entity>,
    /// Entities that were skipped because their content is invalid (each as its typed error).
    pub rejected: Vec<ToriiError>,
    /// The cursor of the next page, `None` after the last page.
    pub next_cursor: Option<String>,
}

/// Which entity store of Torii to read: world entities or event messages.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EntityKind {
    /// Entities (`RetrieveEntities`, `SubscribeEntities`).
    Entities,
    /// Event messages (`RetrieveEventMessages`, `SubscribeEventMessages`).
    EventMessages,
}

/// A live subscription whose handshake has arrived.
pub struct EntitySubscription {
    id: u64,
    stream: tonic::Streaming<world::SubscribeEntityResponse>,
    schemas: Arc<Mutex<SchemaRegistry>>,
}

impl ToriiClient {
    /// A client for the Torii at `url` (e.g. `http://127.0.0.1:8080`). Nothing is sent until the
    /// first call; natively this must be called inside a Tokio runtime.
    pub fn new(url: &str) -> Result<Self, ToriiError> {
        let url = url.trim_end_matches('/').to_owned();
        let transport = transport::connect(&url)?;
        let grpc = WorldClient::new(transport)
            .accept_compressed(CompressionEncoding::Gzip)
            .max_decoding_message_size(MAX_MESSAGE_BYTES)
            .max_encoding_message_size(MAX_MESSAGE_BYTES);
        Ok(Self {
            url,
            grpc,
            schemas: Arc::new(Mutex::new(SchemaRegistry::new())),
        })
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
        let response = self.grpc.clone().worlds(request).await?;
        Ok(response.into_inner().worlds)
    }

    /// One page of entities or event messages matching `query`.
    pub async fn retrieve(
        &self,
        kind: EntityKind,
        query: types::Query,
    ) -> Result<EntityPage, ToriiError> {
        let request = world::RetrieveEntitiesRequest { query: Some(query) };
        let mut grpc = self.grpc.clone();
        let response = match kind {
            EntityKind::Entities => grpc.retrieve_entities(request).await?,
            EntityKind::EventMessages => grpc.retrieve_event_messages(request).await?,
        }
        .into_inner();
        let mut page = EntityPage {
            entities: Vec::with_capacity(response.entities.len()),
            rejected: Vec::new(),
            next_cursor: (!response.next_cursor.is_empty()).then_some(response.next_cursor),
        };
        let mut schemas = self.schemas.lock().unwrap_or_else(PoisonError::into_inner);
        for wire in response.entities {
            match decode(wire, &mut schemas) {
                Ok(entity) => page.entities.push(entity),
                Err(error) => page.rejected.push(error),
            }
        }
        Ok(page)
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
        let mut grpc = self.grpc.clone();
        let mut stream = match kind {
            EntityKind::Entities => grpc.subscribe_entities(request).await?,
            EntityKind::EventMessages => grpc.subscribe_event_messages(request).await?,
        }
        .into_inner();
        let first = stream
            .message()
            .await?
            .ok_or_else(|| ToriiError::Handshake {
                message: "the stream ended before the handshake".to_owned(),
            })?;
        if first.entity.is_some() {
            return Err(ToriiError::Handshake {
                message: "the first message carried an entity instead of the handshake".to_owned(),
            });
        }
        Ok(EntitySubscription {
            id: first.subscription_id,
            stream,
            schemas: Arc::clone(&self.schemas),
        })
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
        let mut grpc = self.grpc.clone();
        match kind {
            EntityKind::Entities => grpc.update_entities_subscription(request).await?,
            EntityKind::EventMessages => grpc.update_event_messages_subscription(request).await?,
        };
        Ok(())
    }
}

impl EntitySubscription {
    /// The subscription id Torii assigned (needed to update its clause).
    pub fn id(&self) -> u64 {
        self.id
    }

    /// The next update: `Some(Ok(entity))` with the one model that changed, `Some(Err(_))` for a
    /// broken message (the stream may go on after an invalid entity), `None` when the server ended
    /// the stream (Torii does so when a subscriber falls behind): resubscribe and resync then.
    pub async fn next(&mut self) -> Option<Result<Entity, ToriiError>> {
        match self.stream.message().await {
            Ok(Some(message)) => match message.entity {
                Some(wire) => {
                    let mut schemas = self.schemas.lock().unwrap_or_else(PoisonError::into_inner);
                    Some(decode(wire, &mut schemas))
                }
                None => Some(Err(ToriiError::Handshake {
                    message: "a second handshake arrived on a live stream".to_owned(),
                })),
            },
            Ok(None) => None,
            Err(status) => Some(Err(status.into())),
        }
    }
}

fn decode(wire: types::Entity, schemas: &mut SchemaRegistry) -> Result<Entity, ToriiError> {
    let id = Felt::from_be_slice(&wire.hashed_keys)
        .ok()
        .map(|id| id.to_hex());
    entity_from_wire(wire, schemas)
        .map_err(|source| ToriiError::InvalidEntity { entity: id, source })
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
