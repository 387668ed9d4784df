//! Conversion of wire tokens, balances and token contracts into core values.

use dojo_reactive_core::{ContractType, Token, TokenBalance, TokenContract, U256};

use crate::convert::{felt_field as felt, u256_field as u256, WireError};
use crate::proto::types;

fn optional_u256(bytes: Option<&Vec<u8>>, field: &str) -> Result<Option<U256>, WireError> {
    bytes.map(|b| u256(b, field)).transpose()
}

fn text(bytes: Vec<u8>, field: &str) -> Result<String, WireError> {
    String::from_utf8(bytes).map_err(|_| WireError::NotUtf8 {
        path: field.to_owned(),
    })
}

/// Converts a wire token.
pub fn token_from_wire(wire: types::Token) -> Result<Token, WireError> {
    Ok(Token {
        contract_address: felt(&wire.contract_address, "contract_address")?,
        token_id: optional_u256(wire.token_id.as_ref(), "token_id")?,
        total_supply: optional_u256(wire.total_supply.as_ref(), "total_supply")?,
        metadata: text(wire.metadata, "metadata")?,
        name: wire.name,
        symbol: wire.symbol,
        decimals: wire.decimals,
    })
}

/// Converts a wire token balance.
pub fn token_balance_from_wire(wire: types::TokenBalance) -> Result<TokenBalance, WireError> {
    Ok(TokenBalance {
        balance: u256(&wire.balance, "balance")?,
        account_address: felt(&wire.account_address, "account_address")?,
        contract_address: felt(&wire.contract_address, "contract_address")?,
        token_id: optional_u256(wire.token_id.as_ref(), "token_id")?,
    })
}

/// Converts a wire token contract; unknown contract kinds read as [`ContractType::Other`].
pub fn token_contract_from_wire(wire: types::TokenContract) -> Result<TokenContract, WireError> {
    let contract_type = match types::ContractType::try_from(wire.contract_type) {
        Ok(types::ContractType::World) => ContractType::World,
        Ok(types::ContractType::Erc20) => ContractType::Erc20,
        Ok(types::ContractType::Erc721) => ContractType::Erc721,
        Ok(types::ContractType::Erc1155) => ContractType::Erc1155,
        Ok(types::ContractType::Udc) => ContractType::Udc,
        Ok(types::ContractType::Other) | Err(_) => ContractType::Other,
    };
    Ok(TokenContract {
        contract_address: felt(&wire.contract_address, "contract_address")?,
        contract_type,
        total_supply: optional_u256(wire.total_supply.as_ref(), "total_supply")?,
        metadata: text(wire.metadata, "metadata")?,
        token_metadata: text(wire.token_metadata, "token_metadata")?,
        name: wire.name,
        symbol: wire.symbol,
        decimals: wire.decimals,
        traits: wire.traits,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_keep_exact_ids_and_supplies() {
        let wire = types::Token {
            token_id: Some(vec![0xff; 32]),
            contract_address: vec![1; 32],
            name: "Sword".into(),
            symbol: "SWD".into(),
            decimals: 0,
            metadata: br#"{"a":1}"#.to_vec(),
            total_supply: None,
        };
        let token = token_from_wire(wire).unwrap();
        assert_eq!(token.token_id, Some(U256([0xff; 32])));
        assert_eq!(token.total_supply, None);
        assert_eq!(token.metadata, r#"{"a":1}"#);
    }

    #[test]
    fn bad_token_bytes_are_typed_errors() {
        let balance = types::TokenBalance {
            balance: vec![1; 33],
            account_address: vec![1],
            contract_address: vec![2],
            token_id: None,
        };
        assert!(
            matches!(token_balance_from_wire(balance), Err(WireError::BadLength { ref path, .. }) if path == "balance")
        );
        let contract = types::TokenContract {
            contract_type: 99,
            metadata: vec![0xff, 0xfe],
            ..Default::default()
        };
        assert!(
            matches!(token_contract_from_wire(contract), Err(WireError::NotUtf8 { ref path }) if path == "metadata")
        );
        let unknown_kind = types::TokenContract {
            contract_type: 99,
            ..Default::default()
        };
        assert_eq!(
            token_contract_from_wire(unknown_kind)
                .unwrap()
                .contract_type,
            ContractType::Other
        );
    }
}
