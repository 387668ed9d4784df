//! Core clauses (from the filter DSL) into Torii's wire `Clause`, for server-side filters of
//! retrieves and subscriptions.

use dojo_reactive_core::{
    Clause, ComparisonOperator, LogicalOperator, MemberValue, PatternMatching, Primitive,
};

use crate::proto::types;
use types::primitive::PrimitiveType as P;

/// The wire form of a core clause.
pub fn clause_to_wire(clause: &Clause) -> types::Clause {
    use types::clause::ClauseType;
    let clause_type = match clause {
        Clause::HashedKeys(ids) => ClauseType::HashedKeys(types::HashedKeysClause {
            hashed_keys: ids.iter().map(|id| id.0.to_vec()).collect(),
        }),
        Clause::Keys(keys) => ClauseType::Keys(types::KeysClause {
            keys: keys
                .keys
                .iter()
                .map(|key| key.map_or_else(Vec::new, |felt| felt.0.to_vec()))
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
        clause_type: Some(clause_type),
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

fn member_value_to_wire(value: &MemberValue) -> types::MemberValue {
    use types::member_value::ValueType;
    let value_type = match value {
        MemberValue::Primitive(p) => ValueType::Primitive(primitive_to_wire(p)),
        MemberValue::String(s) => ValueType::String(s.clone()),
        MemberValue::List(values) => ValueType::List(types::MemberValueList {
            values: values.iter().map(member_value_to_wire).collect(),
        }),
    };
    types::MemberValue {
        value_type: Some(value_type),
    }
}

/// The wire form of a primitive: big integers and felts as big-endian bytes (i128 as 16-byte
/// two's complement, EthAddress as its 20 bytes).
pub fn primitive_to_wire(primitive: &Primitive) -> types::Primitive {
    let wire = match *primitive {
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::convert::primitive_from_wire;
    use dojo_reactive_core::{Felt, U256};

    #[test]
    fn primitives_round_trip_through_the_wire_exactly() {
        let mut eth = [0u8; 32];
        eth[12..].copy_from_slice(&[0xab; 20]);
        for p in [
            Primitive::I8(-128),
            Primitive::I16(i16::MIN),
            Primitive::I32(-1),
            Primitive::I64(i64::MIN),
            Primitive::I128(i128::MIN),
            Primitive::U8(255),
            Primitive::U16(65535),
            Primitive::U32(u32::MAX),
            Primitive::U64(u64::MAX),
            Primitive::U128(u128::MAX),
            Primitive::U256(U256([0xff; 32])),
            Primitive::Bool(true),
            Primitive::Felt252(Felt::from(7u128)),
            Primitive::ClassHash(Felt([1; 32])),
            Primitive::ContractAddress(Felt([2; 32])),
            Primitive::EthAddress(Felt(eth)),
        ] {
            assert_eq!(primitive_from_wire(&primitive_to_wire(&p), "v").unwrap(), p);
        }
    }
}
