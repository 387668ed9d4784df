//! The core synchronizer's [`ToriiTransport`] over [`ToriiClient`], and (natively) a Tokio
//! [`Clock`](dojo_reactive_core::sync::Clock).

use dojo_reactive_core::sync::{
    PageRequest, RejectedRecord, SnapshotPage, SyncTarget, TargetKind, ToriiTransport,
    TransportError, UpdateStream,
};
use dojo_reactive_core::{Clause, Entity, Felt, LogicalOperator, PatternMatching};

use crate::clause::clause_to_wire;
use crate::client::{EntityKind, ToriiClient};
use crate::error::ToriiError;
use crate::proto::types;
use crate::subscription::EntitySubscription;
use crate::token_sync::{self, SyncStream};

impl From<ToriiError> for TransportError {
    fn from(error: ToriiError) -> Self {
        let entity = match &error {
            ToriiError::InvalidEntity {
                entity: Some(id), ..
            } => Felt::from_hex(id).ok(),
            _ => None,
        };
        TransportError {
            retryable: error.is_retryable(),
            bad_record: matches!(error, ToriiError::InvalidEntity { .. }),
            message: error.to_string(),
            entity,
        }
    }
}

/// The entity store of an entity kind; `None` for the token kinds ([`crate::token_sync`]).
fn kind(target: TargetKind) -> Option<EntityKind> {
    match target {
        TargetKind::Entities => Some(EntityKind::Entities),
        TargetKind::EventMessages => Some(EntityKind::EventMessages),
        TargetKind::Tokens | TargetKind::TokenBalances | TargetKind::TokenContracts => None,
    }
}

fn felts(felts: &[Felt]) -> Vec<Vec<u8>> {
    felts.iter().map(|f| f.0.to_vec()).collect()
}

/// The clause of a snapshot request: the target's, narrowed to the requested ids.
fn query_clause(target: &SyncTarget, request: &PageRequest) -> Option<types::Clause> {
    let ids =
        (!request.entity_ids.is_empty()).then(|| Clause::HashedKeys(request.entity_ids.clone()));
    let clause = match (ids, &target.clause) {
        (None, None) => return None,
        (Some(ids), None) => ids,
        (None, Some(clause)) => clause.clone(),
        (Some(ids), Some(clause)) => Clause::Composite(dojo_reactive_core::CompositeClause {
            operator: LogicalOperator::And,
            clauses: vec![ids, clause.clone()],
        }),
    };
    Some(clause_to_wire(&clause))
}

/// The clause of a subscription: the target's, or its models as a wildcard keys clause.
fn subscription_clause(target: &SyncTarget) -> Option<types::Clause> {
    match &target.clause {
        Some(clause) => Some(clause_to_wire(clause)),
        None if target.models.is_empty() => None,
        None => Some(clause_to_wire(&Clause::Keys(
            dojo_reactive_core::KeysClause {
                keys: Vec::new(),
                pattern_matching: PatternMatching::VariableLen,
                models: target.models.clone(),
            },
        ))),
    }
}

fn rejected(error: ToriiError) -> RejectedRecord {
    let entity = match &error {
        ToriiError::InvalidEntity {
            entity: Some(id), ..
        } => Felt::from_hex(id).ok(),
        _ => None,
    };
    RejectedRecord {
        entity,
        reason: error.to_string(),
    }
}

impl UpdateStream for EntitySubscription {
    fn id(&self) -> u64 {
        EntitySubscription::id(self)
    }

    async fn next(&mut self) -> Option<Result<Entity, TransportError>> {
        EntitySubscription::next(self)
            .await
            .map(|item| item.map_err(TransportError::from))
    }
}

impl ToriiTransport for ToriiClient {
    type Stream = SyncStream;

    async fn version(&self) -> Result<String, TransportError> {
        Ok(ToriiClient::version(self).await?)
    }

    async fn retrieve(
        &self,
        target: &SyncTarget,
        request: &PageRequest,
    ) -> Result<SnapshotPage, TransportError> {
        let Some(kind) = kind(target.kind) else {
            return token_sync::retrieve(self, target, request).await;
        };
        let query = types::Query {
            clause: query_clause(target, request),
            no_hashed_keys: false,
            models: target.models.clone(),
            pagination: Some(types::Pagination {
                cursor: request.cursor.clone().unwrap_or_default(),
                limit: request.limit,
                direction: types::PaginationDirection::Forward as i32,
                order_by: Vec::new(),
            }),
            historical: false,
            world_addresses: felts(&target.world_addresses),
        };
        let page = ToriiClient::retrieve(self, kind, query).await?;
        Ok(SnapshotPage {
            items: page.items,
            rejected: page.rejected.into_iter().map(rejected).collect(),
            next_cursor: page.next_cursor,
        })
    }

    async fn subscribe(&self, target: &SyncTarget) -> Result<SyncStream, TransportError> {
        let Some(kind) = kind(target.kind) else {
            return token_sync::subscribe(self, target).await;
        };
        Ok(SyncStream::Entities(
            ToriiClient::subscribe(
                self,
                kind,
                subscription_clause(target),
                &target.world_addresses,
            )
            .await?,
        ))
    }

    async fn update_subscription(
        &self,
        target: &SyncTarget,
        subscription_id: u64,
    ) -> Result<(), TransportError> {
        let Some(kind) = kind(target.kind) else {
            return token_sync::update_subscription(self, target, subscription_id).await;
        };
        Ok(ToriiClient::update_subscription(
            self,
            kind,
            subscription_id,
            subscription_clause(target),
            &target.world_addresses,
        )
        .await?)
    }
}

/// Wall-clock time and Tokio timers (native only; the browser worker brings its own clock).
#[cfg(not(target_arch = "wasm32"))]
#[derive(Debug, Clone, Copy, Default)]
pub struct TokioClock;

#[cfg(not(target_arch = "wasm32"))]
impl dojo_reactive_core::sync::Clock for TokioClock {
    fn now_ms(&self) -> u64 {
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_millis() as u64)
    }

    async fn sleep_until(&self, deadline_ms: u64) {
        let now = self.now_ms();
        if deadline_ms > now {
            tokio::time::sleep(std::time::Duration::from_millis(deadline_ms - now)).await;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn by_id_requests_narrow_the_targets_clause() {
        let target = SyncTarget::entities();
        let request = PageRequest {
            cursor: None,
            limit: 10,
            entity_ids: vec![Felt([1; 32])],
        };
        let clause = query_clause(&target, &request).unwrap();
        assert!(matches!(
            clause.clause_type,
            Some(types::clause::ClauseType::HashedKeys(ref c)) if c.hashed_keys == vec![vec![1u8; 32]]
        ));
        assert_eq!(query_clause(&target, &PageRequest::default()), None);
        let narrowed = SyncTarget {
            clause: Some(Clause::HashedKeys(Vec::new())),
            ..target
        };
        let clause = query_clause(&narrowed, &request).unwrap();
        assert!(matches!(
            clause.clause_type,
            Some(types::clause::ClauseType::Composite(ref c)) if c.clauses.len() == 2
        ));
    }

    #[test]
    fn model_targets_subscribe_with_a_wildcard_keys_clause() {
        let target = SyncTarget::entities().with_models(["arena-Player"]);
        let clause = subscription_clause(&target).unwrap();
        assert!(matches!(
            clause.clause_type,
            Some(types::clause::ClauseType::Keys(ref k))
                if k.keys.is_empty() && k.models == vec!["arena-Player".to_owned()]
                    && k.pattern_matching == types::PatternMatching::VariableLen as i32
        ));
    }
}
