//! Tokens, token balances and token contracts as Torii indexes them (ERC20, ERC721, ERC1155).

use crate::bytes32::{Felt, U256};

/// The kind of contract Torii indexed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ContractType {
    /// A Dojo world.
    World,
    /// A fungible token.
    Erc20,
    /// A non-fungible token.
    Erc721,
    /// A multi-token contract.
    Erc1155,
    /// The universal deployer.
    Udc,
    /// Anything else (including kinds newer than this client).
    Other,
}

/// A token: a whole ERC20, or one ERC721/ERC1155 token id.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Token {
    /// The token contract.
    pub contract_address: Felt,
    /// The token id (none for ERC20).
    pub token_id: Option<U256>,
    /// Token name.
    pub name: String,
    /// Token symbol.
    pub symbol: String,
    /// Decimals (ERC20).
    pub decimals: u32,
    /// Metadata JSON as Torii stores it.
    pub metadata: String,
    /// Total supply, when Torii knows it.
    pub total_supply: Option<U256>,
}

/// How much of a token an account holds.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TokenBalance {
    /// The amount.
    pub balance: U256,
    /// The holder.
    pub account_address: Felt,
    /// The token contract.
    pub contract_address: Felt,
    /// The token id (none for ERC20).
    pub token_id: Option<U256>,
}

/// A token contract.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TokenContract {
    /// The contract address.
    pub contract_address: Felt,
    /// What kind of contract it is.
    pub contract_type: ContractType,
    /// Contract name.
    pub name: String,
    /// Contract symbol.
    pub symbol: String,
    /// Decimals (ERC20).
    pub decimals: u32,
    /// Contract metadata JSON.
    pub metadata: String,
    /// Total supply, when Torii knows it.
    pub total_supply: Option<U256>,
    /// Trait names and values of the collection, as Torii reports them.
    pub traits: String,
    /// Token metadata JSON.
    pub token_metadata: String,
}
