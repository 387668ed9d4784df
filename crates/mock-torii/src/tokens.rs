//! Tokens: two ERC20 contracts and one ERC721 contract, their tokens and the players' balances,
//! with Torii-style filtering, cursor pagination, and scripted transfers and mints.

use std::collections::HashMap;

use dojo_reactive_torii::types::{self, ContractType};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use serde_json::json;
use tonic::Status;

use crate::felt::{self, pad32, Bytes32};

/// A change to broadcast to token subscribers.
#[derive(Clone, Debug)]
pub enum TokenChange {
    /// A token was created or changed.
    Token(types::Token),
    /// A balance changed.
    Balance(types::TokenBalance),
}

/// Every token contract, token and balance of the world.
#[derive(Debug)]
pub struct Tokens {
    contracts: Vec<types::TokenContract>,
    tokens: Vec<types::Token>,
    balances: Vec<types::TokenBalance>,
    /// (contract, account, token id) → index in `balances`.
    index: HashMap<(Bytes32, Bytes32, Option<Bytes32>), usize>,
    rng: ChaCha8Rng,
    next_nft: u64,
}

fn u256_bytes(value: u128) -> Vec<u8> {
    let mut out = vec![0u8; 32];
    out[16..].copy_from_slice(&value.to_be_bytes());
    out
}

fn u256_value(bytes: &[u8]) -> u128 {
    let padded = pad32(bytes).unwrap_or_default();
    let mut low = [0u8; 16];
    low.copy_from_slice(&padded[16..]);
    u128::from_be_bytes(low)
}

const CLASSES: [&str; 3] = ["Warrior", "Mage", "Rogue"];

fn nft_metadata(id: u64) -> Vec<u8> {
    json!({
        "name": format!("Hero #{id}"),
        "attributes": [
            {"trait_type": "class", "value": CLASSES[(id % 3) as usize]},
            {"trait_type": "level", "value": (id % 10 + 1).to_string()},
        ],
    })
    .to_string()
    .into_bytes()
}

impl Tokens {
    /// Generates the token world: GLD (ERC20, 18 decimals) and GEM (ERC20, 6 decimals) held by
    /// the first players, and HERO (ERC721) tokens each owned by one of them.
    pub fn generate(seed: u64, players: &[Bytes32]) -> Tokens {
        let mut rng = ChaCha8Rng::seed_from_u64(seed ^ 0x7031_3e45);
        let gold = felt::derived("erc20:GLD", seed).to_bytes_be();
        let gems = felt::derived("erc20:GEM", seed).to_bytes_be();
        let heroes = felt::derived("erc721:HERO", seed).to_bytes_be();
        let holders: Vec<Bytes32> = players.iter().take(200).copied().collect();
        let heroes_count = holders.len().min(50) as u64;
        let mut tokens = Tokens {
            contracts: Vec::new(),
            tokens: Vec::new(),
            balances: Vec::new(),
            index: HashMap::new(),
            rng: ChaCha8Rng::seed_from_u64(seed ^ 0x7031_3e46),
            next_nft: heroes_count + 1,
        };
        let mut gold_supply = 0u128;
        let mut gem_supply = 0u128;
        for (i, holder) in holders.iter().enumerate() {
            let amount = rng.random_range(1..1_000_000u128) * 10u128.pow(18);
            gold_supply += amount;
            tokens.put_balance(gold, *holder, None, amount);
            if i % 2 == 0 {
                let amount = rng.random_range(1..100_000_000u128);
                gem_supply += amount;
                tokens.put_balance(gems, *holder, None, amount);
            }
        }
        for id in 1..=heroes_count {
            let owner = holders[rng.random_range(0..holders.len())];
            tokens.tokens.push(Self::nft(heroes, id));
            tokens.put_balance(heroes, owner, Some(id), 1);
        }
        tokens.tokens.insert(
            0,
            Self::fungible(gold, "Arena Gold", "GLD", 18, gold_supply),
        );
        tokens
            .tokens
            .insert(1, Self::fungible(gems, "Arena Gems", "GEM", 6, gem_supply));
        tokens.contracts = vec![
            Self::contract(gold, ContractType::Erc20, "Arena Gold", "GLD", 18, Some(gold_supply), ""),
            Self::contract(gems, ContractType::Erc20, "Arena Gems", "GEM", 6, Some(gem_supply), ""),
            Self::contract(
                heroes,
                ContractType::Erc721,
                "Arena Heroes",
                "HERO",
                0,
                Some(u128::from(heroes_count)),
                &json!({"class": CLASSES, "level": (1..=10).map(|l| l.to_string()).collect::<Vec<_>>()}).to_string(),
            ),
        ];
        tokens
    }

    /// Adds GLD holders (accounts derived from `seed`, amounts random) until the world holds
    /// `total` balances, raising GLD's total supply by what they hold: a large world of
    /// balances for benchmarks (`--balances`). Fewer than the generated balances adds none.
    pub fn fill_balances(&mut self, seed: u64, total: usize) {
        let Some(gold) = self.tokens.first().and_then(|t| pad32(&t.contract_address)) else {
            return;
        };
        let mut rng = ChaCha8Rng::seed_from_u64(seed ^ 0x7031_3e47);
        let mut added = 0u128;
        let mut n = 0u64;
        while self.balances.len() < total {
            let holder = felt::derived(&format!("holder:{n}"), seed).to_bytes_be();
            n += 1;
            if self.index.contains_key(&(gold, holder, None)) {
                continue;
            }
            let amount = rng.random_range(1..1_000_000u128) * 10u128.pow(18);
            added += amount;
            self.put_balance(gold, holder, None, amount);
        }
        let raise = |supply: &mut Option<Vec<u8>>| {
            let now = supply.as_deref().map_or(0, u256_value);
            *supply = Some(u256_bytes(now.saturating_add(added)));
        };
        if let Some(token) = self.tokens.first_mut() {
            raise(&mut token.total_supply);
        }
        if let Some(contract) = self.contracts.first_mut() {
            raise(&mut contract.total_supply);
        }
    }

    fn fungible(
        contract: Bytes32,
        name: &str,
        symbol: &str,
        decimals: u32,
        supply: u128,
    ) -> types::Token {
        types::Token {
            token_id: None,
            contract_address: contract.to_vec(),
            name: name.to_owned(),
            symbol: symbol.to_owned(),
            decimals,
            metadata: Vec::new(),
            total_supply: Some(u256_bytes(supply)),
        }
    }

    fn nft(contract: Bytes32, id: u64) -> types::Token {
        types::Token {
            token_id: Some(u256_bytes(u128::from(id))),
            contract_address: contract.to_vec(),
            name: "Arena Heroes".to_owned(),
            symbol: "HERO".to_owned(),
            decimals: 0,
            metadata: nft_metadata(id),
            total_supply: None,
        }
    }

    fn contract(
        address: Bytes32,
        kind: ContractType,
        name: &str,
        symbol: &str,
        decimals: u32,
        supply: Option<u128>,
        traits: &str,
    ) -> types::TokenContract {
        types::TokenContract {
            contract_address: address.to_vec(),
            contract_type: kind as i32,
            name: name.to_owned(),
            symbol: symbol.to_owned(),
            decimals,
            metadata: json!({"name": name, "symbol": symbol})
                .to_string()
                .into_bytes(),
            total_supply: supply.map(u256_bytes),
            traits: traits.to_owned(),
            token_metadata: Vec::new(),
        }
    }

    fn put_balance(
        &mut self,
        contract: Bytes32,
        account: Bytes32,
        token_id: Option<u64>,
        amount: u128,
    ) -> types::TokenBalance {
        let id_bytes = token_id.map(|id| {
            let mut b = [0u8; 32];
            b[24..].copy_from_slice(&id.to_be_bytes());
            b
        });
        let mut amount_bytes = [0u8; 32];
        amount_bytes.copy_from_slice(&u256_bytes(amount));
        self.set_balance(contract, account, id_bytes, amount_bytes)
    }

    /// Sets one balance (any u256 amount; a new row when the account held none of the token)
    /// and returns it as the change to broadcast.
    pub fn set_balance(
        &mut self,
        contract: Bytes32,
        account: Bytes32,
        token_id: Option<Bytes32>,
        amount: Bytes32,
    ) -> types::TokenBalance {
        let balance = types::TokenBalance {
            balance: amount.to_vec(),
            account_address: account.to_vec(),
            contract_address: contract.to_vec(),
            token_id: token_id.map(|b| b.to_vec()),
        };
        match self.index.get(&(contract, account, token_id)) {
            Some(&i) => self.balances[i] = balance.clone(),
            None => {
                self.index
                    .insert((contract, account, token_id), self.balances.len());
                self.balances.push(balance.clone());
            }
        }
        balance
    }

    /// Applies `count` scripted token events: ERC20 transfers between holders (two balance
    /// changes each) and, every tenth event, the mint of a new HERO token.
    pub fn scripted(&mut self, count: usize) -> Vec<TokenChange> {
        let mut changes = Vec::new();
        let fungible: Vec<usize> = (0..self.balances.len())
            .filter(|i| self.balances[*i].token_id.is_none())
            .collect();
        if fungible.len() < 2 {
            return changes;
        }
        for n in 0..count {
            if n % 10 == 9 {
                if let Some(heroes) = self
                    .contracts
                    .get(2)
                    .and_then(|c| pad32(&c.contract_address))
                {
                    let id = self.next_nft;
                    self.next_nft += 1;
                    let token = Self::nft(heroes, id);
                    self.tokens.push(token.clone());
                    let owner_index = fungible[self.rng.random_range(0..fungible.len())];
                    let owner =
                        pad32(&self.balances[owner_index].account_address).unwrap_or_default();
                    changes.push(TokenChange::Token(token));
                    changes.push(TokenChange::Balance(self.put_balance(
                        heroes,
                        owner,
                        Some(id),
                        1,
                    )));
                    continue;
                }
            }
            let from = fungible[self.rng.random_range(0..fungible.len())];
            let contract = self.balances[from].contract_address.clone();
            let same: Vec<usize> = fungible
                .iter()
                .copied()
                .filter(|i| *i != from && self.balances[*i].contract_address == contract)
                .collect();
            let Some(&to) = same.get(self.rng.random_range(0..same.len().max(1))) else {
                continue;
            };
            let available = u256_value(&self.balances[from].balance);
            let amount = if available == 0 {
                0
            } else {
                self.rng.random_range(0..=available / 10)
            };
            let contract = pad32(&contract).unwrap_or_default();
            let from_account = pad32(&self.balances[from].account_address).unwrap_or_default();
            let to_account = pad32(&self.balances[to].account_address).unwrap_or_default();
            let to_amount = u256_value(&self.balances[to].balance).saturating_add(amount);
            changes.push(TokenChange::Balance(self.put_balance(
                contract,
                from_account,
                None,
                available - amount,
            )));
            changes.push(TokenChange::Balance(
                self.put_balance(contract, to_account, None, to_amount),
            ));
        }
        changes
    }

    /// A page of tokens.
    pub fn tokens_page(
        &self,
        query: &types::TokenQuery,
    ) -> Result<(Vec<types::Token>, String), Status> {
        let contracts = addresses(&query.contract_addresses)?;
        let ids = addresses(&query.token_ids)?;
        let matches = |t: &types::Token| {
            admits(&contracts, &t.contract_address)
                && (ids.is_empty() || t.token_id.as_ref().is_some_and(|id| admits(&ids, id)))
                && query
                    .attribute_filters
                    .iter()
                    .all(|f| has_attribute(&t.metadata, f))
        };
        page(&self.tokens, matches, query.pagination.as_ref())
    }

    /// A page of balances.
    pub fn balances_page(
        &self,
        query: &types::TokenBalanceQuery,
    ) -> Result<(Vec<types::TokenBalance>, String), Status> {
        let accounts = addresses(&query.account_addresses)?;
        let contracts = addresses(&query.contract_addresses)?;
        let ids = addresses(&query.token_ids)?;
        let filter = BalanceFilter {
            accounts,
            contracts,
            ids,
        };
        page(
            &self.balances,
            |b| filter.admits(b),
            query.pagination.as_ref(),
        )
    }

    /// A page of token contracts.
    pub fn contracts_page(
        &self,
        query: &types::TokenContractQuery,
    ) -> Result<(Vec<types::TokenContract>, String), Status> {
        let contracts = addresses(&query.contract_addresses)?;
        let matches = |c: &types::TokenContract| {
            admits(&contracts, &c.contract_address)
                && (query.contract_types.is_empty()
                    || query.contract_types.contains(&c.contract_type))
        };
        page(&self.contracts, matches, query.pagination.as_ref())
    }
}

fn has_attribute(metadata: &[u8], filter: &types::TokenAttributeFilter) -> bool {
    let Ok(value) = serde_json::from_slice::<serde_json::Value>(metadata) else {
        return false;
    };
    value["attributes"].as_array().is_some_and(|attributes| {
        attributes.iter().any(|a| {
            a["trait_type"].as_str() == Some(filter.trait_name.as_str())
                && match &a["value"] {
                    serde_json::Value::String(s) => *s == filter.trait_value,
                    other => {
                        let text = other.to_string();
                        text == filter.trait_value
                    }
                }
        })
    })
}

/// Parses filter addresses (felts or u256 ids, at most 32 bytes each).
pub fn addresses(list: &[Vec<u8>]) -> Result<Vec<Bytes32>, Status> {
    list.iter()
        .map(|a| {
            pad32(a).ok_or_else(|| {
                Status::invalid_argument("an address or token id is longer than 32 bytes")
            })
        })
        .collect()
}

fn admits(set: &[Bytes32], bytes: &[u8]) -> bool {
    set.is_empty() || pad32(bytes).is_some_and(|b| set.contains(&b))
}

/// Which balances a subscription or query wants.
#[derive(Clone, Debug, Default)]
pub struct BalanceFilter {
    /// Accounts (empty: all).
    pub accounts: Vec<Bytes32>,
    /// Contracts (empty: all).
    pub contracts: Vec<Bytes32>,
    /// Token ids (empty: all).
    pub ids: Vec<Bytes32>,
}

impl BalanceFilter {
    /// Whether `balance` passes.
    pub fn admits(&self, balance: &types::TokenBalance) -> bool {
        admits(&self.accounts, &balance.account_address)
            && admits(&self.contracts, &balance.contract_address)
            && (self.ids.is_empty()
                || balance
                    .token_id
                    .as_ref()
                    .is_some_and(|id| admits(&self.ids, id)))
    }

    /// Whether `token` passes (tokens have no account).
    pub fn admits_token(&self, token: &types::Token) -> bool {
        admits(&self.contracts, &token.contract_address)
            && (self.ids.is_empty()
                || token
                    .token_id
                    .as_ref()
                    .is_some_and(|id| admits(&self.ids, id)))
    }
}

const TOKEN_CURSOR: &str = "tk1.";

fn page<T: Clone>(
    items: &[T],
    matches: impl Fn(&T) -> bool,
    pagination: Option<&types::Pagination>,
) -> Result<(Vec<T>, String), Status> {
    let pagination = pagination.cloned().unwrap_or_default();
    let start = if pagination.cursor.is_empty() {
        0
    } else {
        pagination
            .cursor
            .strip_prefix(TOKEN_CURSOR)
            .and_then(|hex| usize::from_str_radix(hex, 16).ok())
            .ok_or_else(|| {
                Status::invalid_argument(format!("invalid cursor {:?}", pagination.cursor))
            })?
    };
    let limit = if pagination.limit == 0 {
        crate::query::DEFAULT_LIMIT as usize
    } else {
        pagination.limit as usize
    };
    let mut out = Vec::new();
    let mut next = String::new();
    for (i, item) in items.iter().enumerate().skip(start) {
        if !matches(item) {
            continue;
        }
        if out.len() == limit {
            next = format!("{TOKEN_CURSOR}{i:x}");
            break;
        }
        out.push(item.clone());
    }
    Ok((out, next))
}
