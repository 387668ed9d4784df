//! The core synchronizer's [`ToriiTransport`] over [`ToriiClient`], and (natively) a Tokio
//! [`Clock`].

use dojo_reactive_core::sync::{
    PageRequest, RejectedRecord, SnapshotPage, SyncTarget, TargetKind, ToriiTransport,
    TransportError, UpdateStream,
};
use dojo_reactive_core::{
    Clause, ComparisonOperator, Entity, Felt, LogicalOperator, MemberValue, PatternMatching,
    Primitive,
};

use crate::client::{EntityKind, ToriiClient};
use crate::error::ToriiError;
use crate::proto::types;
use crate::subscription::EntitySubscription;

impl From<ToriiError> for TransportError {
    fn from(error: ToriiError) -> Self {
        TransportError {
            retryable: error.is_retryable(),
            bad_record: matches!(error, ToriiError::InvalidEntity { .. }),
            message: error.to_string(),
        }
    }
}

fn kind(target: TargetKind) -> EntityKind {
    match target {
        TargetKind::Entities => EntityKind::Entities,
        TargetKind::EventMessages => EntityKind::EventMessages,
    }
}

fn felts(felts: &[Felt]) -> Vec<Vec<u8>> {
    felts.iter().map(|f| f.0.to_vec()).collect()
}

/// A core primitive on the wire (big integers and felts big-endian).
pub fn primitive_to_wire(value: &Primitive) -> types::Primitive {
    use types::primitive::PrimitiveType as P;
    let wire = match *value {
        Primitive::I8(v) => P::I8(v.into()),
        Primitive::I16(v) => P::I16(v.into()),
        Primitive::I32(v) => P::I32(v),
        Primitive::I64(v) => P::I64(v),
        Primitive::I128(v) => P::I128(v.to_be_bytes().to_vec()),
        Primitive::U8(v) => P::U8(v.into()),
        Primitive::U16(v) => P::U16(v.into()),
        Primitive::U32(v) => P::U32(v),
        Primitive::U64(v) => P::U64(v),
        Primitive::U128(v) => P::U128(v.to_be_bytes().to_vec()),
        Primitive::U256(v) => P::U256(v.0.to_vec()),
        Primitive::Bool(v) => P::Bool(v),
        Primitive::Felt252(v) => P::Felt252(v.0.to_vec()),
        Primitive::ClassHash(v) => P::ClassHash(v.0.to_vec()),
        Primitive::ContractAddress(v) => P::ContractAddress(v.0.to_vec()),
        Primitive::EthAddress(v) => P::EthAddress(v.0[12..].to_vec()),
    };
    types::Primitive {
        primitive_type: Some(wire),
    }
}

fn member_value_to_wire(value: &MemberValue) -> types::MemberValue {
    use types::member_value::ValueType;
    let wire = match value {
        MemberValue::Primitive(p) => ValueType::Primitive(primitive_to_wire(p)),
        MemberValue::String(s) => ValueType::String(s.clone()),
        MemberValue::List(items) => ValueType::List(types::MemberValueList {
            values: items.iter().map(member_value_to_wire).collect(),
        }),
    };
    types::MemberValue {
        value_type: Some(wire),
    }
}

fn operator_to_wire(operator: ComparisonOperator) -> types::ComparisonOperator {
    use types::ComparisonOperator as W;
    match operator {
        ComparisonOperator::Eq => W::Eq,
        ComparisonOperator::Neq => W::Neq,
        ComparisonOperator::Gt => W::Gt,
        ComparisonOperator::Gte => W::Gte,
        ComparisonOperator::Lt => W::Lt,
        ComparisonOperator::Lte => W::Lte,
        ComparisonOperator::In => W::In,
        ComparisonOperator::NotIn => W::NotIn,
        ComparisonOperator::Contains => W::Contains,
        ComparisonOperator::ContainsAll => W::ContainsAll,
        ComparisonOperator::ContainsAny => W::ContainsAny,
        ComparisonOperator::ArrayLengthEq => W::ArrayLengthEq,
        ComparisonOperator::ArrayLengthGt => W::ArrayLengthGt,
        ComparisonOperator::ArrayLengthLt => W::ArrayLengthLt,
    }
}

/// A core clause on the wire.
pub fn clause_to_wire(clause: &Clause) -> types::Clause {
    use types::clause::ClauseType;
    let wire = match clause {
        Clause::HashedKeys(ids) => ClauseType::HashedKeys(types::HashedKeysClause {
            hashed_keys: felts(ids),
        }),
        Clause::Keys(keys) => ClauseType::Keys(types::KeysClause {
            keys: keys
                .keys
                .iter()
                .map(|k| k.map(|f| f.0.to_vec()).unwrap_or_default())
                .collect(),
            pattern_matching: match keys.pattern_matching {
                PatternMatching::FixedLen => types::PatternMatching::FixedLen,
                PatternMatching::VariableLen => types::PatternMatching::VariableLen,
            } as i32,
            models: keys.models.clone(),
        }),
        Clause::Member(member) => ClauseType::Member(types::MemberClause {
            model: member.model.clone(),
            member: member.member.clone(),
            operator: operator_to_wire(member.operator) as i32,
            value: Some(member_value_to_wire(&member.value)),
        }),
        Clause::Composite(composite) => ClauseType::Composite(types::CompositeClause {
            operator: match composite.operator {
                LogicalOperator::And => types::LogicalOperator::And,
                LogicalOperator::Or => types::LogicalOperator::Or,
            } as i32,
            clauses: composite.clauses.iter().map(clause_to_wire).collect(),
        }),
    };
    types::Clause {
        clause_type: Some(wire),
    }
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
    type Stream = EntitySubscription;

    async fn version(&self) -> Result<String, TransportError> {
        Ok(ToriiClient::version(self).await?)
    }

    async fn retrieve(
        &self,
        target: &SyncTarget,
        request: &PageRequest,
    ) -> Result<SnapshotPage, TransportError> {
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
        let page = ToriiClient::retrieve(self, kind(target.kind), query).await?;
        Ok(SnapshotPage {
            items: page.items,
            rejected: page.rejected.into_iter().map(rejected).collect(),
            next_cursor: page.next_cursor,
        })
    }

    async fn subscribe(&self, target: &SyncTarget) -> Result<EntitySubscription, TransportError> {
        Ok(ToriiClient::subscribe(
            self,
            kind(target.kind),
            subscription_clause(target),
            &target.world_addresses,
        )
        .await?)
    }

    async fn update_subscription(
        &self,
        target: &SyncTarget,
        subscription_id: u64,
    ) -> Result<(), TransportError> {
        Ok(ToriiClient::update_subscription(
            self,
            kind(target.kind),
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

    #[test]
    fn eth_addresses_travel_as_twenty_bytes() {
        let wire = primitive_to_wire(&Primitive::EthAddress(Felt([9; 32])));
        assert!(matches!(
            wire.primitive_type,
            Some(types::primitive::PrimitiveType::EthAddress(ref b)) if b.len() == 20
        ));
    }
}
