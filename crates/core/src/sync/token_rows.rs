//! Tokens, token balances and token contracts as sync rows: each is held as a one-model entity
//! of a built-in model (`torii-Token`, `torii-TokenBalance`, `torii-TokenContract`), so the
//! ledger, the update queue, storage batches, replays and the view serve them exactly as they
//! serve entities. This module is the only place that knows the mapping.
//!
//! # Keys
//!
//! The row id is a digest of the row's key (the same key always gives the same id, two keys
//! never share one in practice: SHA-256 truncated to 251 bits): a token by
//! `(contract_address, token_id)`, a balance by `(account_address, contract_address,
//! token_id)`, a contract by its address.
//!
//! # Ordering (a balance carries no version)
//!
//! Torii sends balances, tokens and contracts without any timestamp or counter, so every row
//! has the version `(0, 0)` and the ledger orders them by position alone (its rule 3):
//!
//! - on one stream, arrival order wins: the later message is the newer balance;
//! - a stream update beats a snapshot row read while its stream (or an earlier one) was live:
//!   the stream was gap-free from before that page was read, so it holds the newer amount;
//! - a snapshot row beats a stream update of an *earlier* epoch: a page read after a stream gap
//!   (stall, ended stream, restart) replaces what the lost stream delivered;
//! - between snapshot rows, the later page wins.
//!
//! Limits: a message Torii delivers out of order on one stream cannot be told apart (there is
//! nothing to compare), so it wins until the next update or replay repairs it; a catch-up after
//! a gap reads every page of the target (rows have no time to stop at); a stream silent for
//! `heartbeat_timeout_ms` is re-subscribed and re-read, since no one row shows what a dead
//! stream missed (Torii pages token rows by key, not by last write); and a balance Torii stops
//! returning disappears only at the next full replay.

use sha2::{Digest, Sha256};

use super::target::{TargetKind, TargetScope};
use crate::bytes32::{Felt, U256};
use crate::clause::{
    Clause, ComparisonOperator, CompositeClause, LogicalOperator, MemberClause, MemberValue,
};
use crate::entity::{Entity, EntityId};
use crate::name::Name;
use crate::token::{ContractType, Token, TokenBalance, TokenContract};
use crate::value::{EnumValue, Member, Primitive, Struct, Value};

/// Model tag of token rows.
pub const TOKEN_MODEL: &str = "torii-Token";
/// Model tag of balance rows.
pub const BALANCE_MODEL: &str = "torii-TokenBalance";
/// Model tag of token contract rows.
pub const CONTRACT_MODEL: &str = "torii-TokenContract";

/// The built-in model a token target kind holds (`None` for entity kinds).
pub fn token_model(kind: TargetKind) -> Option<&'static str> {
    match kind {
        TargetKind::Tokens => Some(TOKEN_MODEL),
        TargetKind::TokenBalances => Some(BALANCE_MODEL),
        TargetKind::TokenContracts => Some(CONTRACT_MODEL),
        TargetKind::Entities | TargetKind::EventMessages => None,
    }
}

/// The row id of a key: SHA-256 of a domain tag and the key's bytes, cut to 251 bits so it
/// is a valid felt.
fn row_id(domain: &str, parts: &[&[u8]]) -> EntityId {
    let mut hasher = Sha256::new();
    hasher.update(domain.as_bytes());
    for part in parts {
        hasher.update([part.len() as u8]);
        hasher.update(part);
    }
    let mut bytes: [u8; 32] = hasher.finalize().into();
    bytes[0] &= 0x07;
    Felt(bytes)
}

fn token_id_bytes(token_id: Option<&U256>) -> &[u8] {
    token_id.map_or(&[], |id| &id.0[..])
}

/// The row id of a token.
pub fn token_row_id(contract: &Felt, token_id: Option<&U256>) -> EntityId {
    row_id(TOKEN_MODEL, &[&contract.0, token_id_bytes(token_id)])
}

/// The row id of a balance.
pub fn balance_row_id(account: &Felt, contract: &Felt, token_id: Option<&U256>) -> EntityId {
    row_id(
        BALANCE_MODEL,
        &[&account.0, &contract.0, token_id_bytes(token_id)],
    )
}

/// The row id of a token contract.
pub fn contract_row_id(contract: &Felt) -> EntityId {
    row_id(CONTRACT_MODEL, &[&contract.0])
}

fn member(name: &str, key: bool, value: Value) -> Member {
    Member {
        name: Name::from(name),
        key,
        value,
    }
}

fn address(felt: Felt) -> Value {
    Value::Primitive(Primitive::ContractAddress(felt))
}

fn u256(value: U256) -> Value {
    Value::Primitive(Primitive::U256(value))
}

/// `Option<u256>` as a Cairo `Option` enum (`None` for ERC20, `Some(id)` otherwise).
fn optional_u256(value: Option<U256>) -> Value {
    let (option, variant, payload) = match value {
        None => (1, "None", Value::Tuple(Vec::new())),
        Some(v) => (0, "Some", u256(v)),
    };
    Value::Enum(EnumValue {
        name: Name::from("Option<u256>"),
        option,
        variant: Name::from(variant),
        value: Box::new(payload),
    })
}

fn text(value: &str) -> Value {
    Value::ByteArray(value.to_owned())
}

fn row(id: EntityId, model: &str, members: Vec<Member>) -> Entity {
    Entity {
        id,
        models: vec![Struct {
            name: Name::from(model),
            members,
        }],
        created_at: 0,
        updated_at: 0,
        executed_at: 0,
        world_address: Felt::default(),
    }
}

/// A token as a row of [`TOKEN_MODEL`].
pub fn token_row(token: Token) -> Entity {
    let id = token_row_id(&token.contract_address, token.token_id.as_ref());
    row(
        id,
        TOKEN_MODEL,
        vec![
            member("contract_address", true, address(token.contract_address)),
            member("token_id", true, optional_u256(token.token_id)),
            member("name", false, text(&token.name)),
            member("symbol", false, text(&token.symbol)),
            member(
                "decimals",
                false,
                Value::Primitive(Primitive::U32(token.decimals)),
            ),
            member("metadata", false, text(&token.metadata)),
            member("total_supply", false, optional_u256(token.total_supply)),
        ],
    )
}

/// A balance as a row of [`BALANCE_MODEL`].
pub fn balance_row(balance: TokenBalance) -> Entity {
    let id = balance_row_id(
        &balance.account_address,
        &balance.contract_address,
        balance.token_id.as_ref(),
    );
    row(
        id,
        BALANCE_MODEL,
        vec![
            member("account_address", true, address(balance.account_address)),
            member("contract_address", true, address(balance.contract_address)),
            member("token_id", true, optional_u256(balance.token_id)),
            member("balance", false, u256(balance.balance)),
        ],
    )
}

/// The name of a contract type as rows carry it.
pub fn contract_type_name(kind: ContractType) -> &'static str {
    match kind {
        ContractType::World => "WORLD",
        ContractType::Erc20 => "ERC20",
        ContractType::Erc721 => "ERC721",
        ContractType::Erc1155 => "ERC1155",
        ContractType::Udc => "UDC",
        ContractType::Other => "OTHER",
    }
}

/// A token contract as a row of [`CONTRACT_MODEL`].
pub fn contract_row(contract: TokenContract) -> Entity {
    let id = contract_row_id(&contract.contract_address);
    row(
        id,
        CONTRACT_MODEL,
        vec![
            member("contract_address", true, address(contract.contract_address)),
            member(
                "contract_type",
                false,
                text(contract_type_name(contract.contract_type)),
            ),
            member("name", false, text(&contract.name)),
            member("symbol", false, text(&contract.symbol)),
            member(
                "decimals",
                false,
                Value::Primitive(Primitive::U32(contract.decimals)),
            ),
            member("metadata", false, text(&contract.metadata)),
            member("total_supply", false, optional_u256(contract.total_supply)),
            member("traits", false, text(&contract.traits)),
            member("token_metadata", false, text(&contract.token_metadata)),
        ],
    )
}

/// What a token target selects on Torii: balances of these accounts, of these contracts, of
/// these token ids (and tokens of these contracts and ids, contracts of these contracts); an
/// empty list does not narrow.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct TokenFilter {
    /// Holders (balances only).
    pub accounts: Vec<Felt>,
    /// Token contracts.
    pub contracts: Vec<Felt>,
    /// Token ids (tokens and balances only: NFTs; a row of an ERC20, which has none, is not
    /// selected when the list is not empty).
    pub token_ids: Vec<U256>,
}

const ACCOUNT_MEMBER: &str = "account_address";
const CONTRACT_MEMBER: &str = "contract_address";
/// The id inside a row's `token_id` (`Option<u256>`): the payload of its `Some` variant.
const TOKEN_ID_PATH: &str = "token_id.Some";

fn in_clause(model: &str, member: &str, values: impl IntoIterator<Item = Primitive>) -> Clause {
    Clause::Member(MemberClause {
        model: model.to_owned(),
        member: member.to_owned(),
        operator: ComparisonOperator::In,
        value: MemberValue::List(values.into_iter().map(MemberValue::Primitive).collect()),
    })
}

fn list_of<T>(operand: &MemberValue, item: impl Fn(&Primitive) -> Option<T>) -> Option<Vec<T>> {
    match operand {
        MemberValue::List(items) => items
            .iter()
            .map(|i| match i {
                MemberValue::Primitive(p) => item(p),
                _ => None,
            })
            .collect(),
        _ => None,
    }
}

fn address_of(p: &Primitive) -> Option<Felt> {
    match p {
        Primitive::ContractAddress(f) => Some(*f),
        _ => None,
    }
}

fn u256_of(p: &Primitive) -> Option<U256> {
    match p {
        Primitive::U256(v) => Some(*v),
        _ => None,
    }
}

fn union<T: Clone>(into: &mut Option<Vec<T>>, more: &[T]) {
    match (into.as_mut(), more.is_empty()) {
        (Some(list), false) => list.extend_from_slice(more),
        (Some(_), true) => *into = None,
        (None, _) => {}
    }
}

fn dedup<T: Ord>(list: Option<Vec<T>>) -> Vec<T> {
    let mut list = list.unwrap_or_default();
    list.sort();
    list.dedup();
    list
}

impl TokenFilter {
    /// The sync target (scope) of kind `kind` selecting this filter's rows: the clause is an
    /// `AND` of `IN` lists on the row's `account_address` / `contract_address` members and the
    /// id in its `token_id` (`token_id.Some`), so removing or narrowing it drops exactly the
    /// rows no other target covers.
    pub fn scope(&self, id: impl Into<String>, kind: TargetKind) -> TargetScope {
        let model = token_model(kind).unwrap_or(BALANCE_MODEL);
        let addresses = |felts: &[Felt]| -> Vec<Primitive> {
            felts
                .iter()
                .map(|f| Primitive::ContractAddress(*f))
                .collect()
        };
        let mut clauses = Vec::new();
        if !self.accounts.is_empty() && kind == TargetKind::TokenBalances {
            clauses.push(in_clause(model, ACCOUNT_MEMBER, addresses(&self.accounts)));
        }
        if !self.contracts.is_empty() {
            clauses.push(in_clause(
                model,
                CONTRACT_MEMBER,
                addresses(&self.contracts),
            ));
        }
        if !self.token_ids.is_empty() && kind != TargetKind::TokenContracts {
            let ids = self.token_ids.iter().map(|v| Primitive::U256(*v));
            clauses.push(in_clause(model, TOKEN_ID_PATH, ids));
        }
        let clause = match clauses.len() {
            0 => None,
            1 => clauses.pop(),
            _ => Some(Clause::Composite(CompositeClause {
                operator: LogicalOperator::And,
                clauses,
            })),
        };
        TargetScope {
            id: id.into(),
            models: vec![model.to_owned()],
            clause,
        }
    }

    /// What a scope built by [`TokenFilter::scope`] selects; a clause of any other shape
    /// narrows nothing (the rows are then filtered by the scope's clause after reading).
    pub fn of_scope(scope: &TargetScope) -> TokenFilter {
        let mut filter = TokenFilter::default();
        let members: Vec<&MemberClause> = match &scope.clause {
            Some(Clause::Member(m)) => vec![m],
            Some(Clause::Composite(c)) if c.operator == LogicalOperator::And => c
                .clauses
                .iter()
                .filter_map(|c| match c {
                    Clause::Member(m) => Some(m),
                    _ => None,
                })
                .collect(),
            _ => Vec::new(),
        };
        for m in members
            .into_iter()
            .filter(|m| m.operator == ComparisonOperator::In)
        {
            match m.member.as_str() {
                ACCOUNT_MEMBER => {
                    filter.accounts = list_of(&m.value, address_of).unwrap_or_default()
                }
                CONTRACT_MEMBER => {
                    filter.contracts = list_of(&m.value, address_of).unwrap_or_default()
                }
                TOKEN_ID_PATH => filter.token_ids = list_of(&m.value, u256_of).unwrap_or_default(),
                _ => {}
            }
        }
        filter
    }

    /// The one request serving every scope: per list, the union of the scopes' lists, or no
    /// narrowing when some scope does not narrow it (rows no scope covers are then dropped by
    /// the scopes' clauses). No scope at all selects nothing: `None`.
    pub fn union_of(scopes: &[TargetScope]) -> Option<TokenFilter> {
        if scopes.is_empty() {
            return None;
        }
        let mut accounts = Some(Vec::new());
        let mut contracts = Some(Vec::new());
        let mut token_ids = Some(Vec::new());
        for scope in scopes {
            let filter = TokenFilter::of_scope(scope);
            union(&mut accounts, &filter.accounts);
            union(&mut contracts, &filter.contracts);
            union(&mut token_ids, &filter.token_ids);
        }
        Some(TokenFilter {
            accounts: dedup(accounts),
            contracts: dedup(contracts),
            token_ids: dedup(token_ids),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sync::SyncTarget;

    fn felt(n: u8) -> Felt {
        Felt([n; 32])
    }

    fn balance(account: u8, contract: u8, token_id: Option<u8>, amount: u8) -> TokenBalance {
        TokenBalance {
            balance: U256([amount; 32]),
            account_address: felt(account),
            contract_address: felt(contract),
            token_id: token_id.map(|n| U256([n; 32])),
        }
    }

    #[test]
    fn rows_are_keyed_by_their_key_alone() {
        let a = balance_row(balance(1, 2, None, 5));
        let b = balance_row(balance(1, 2, None, 9));
        assert_eq!(a.id, b.id, "a new amount is the same row");
        assert_ne!(a.id, balance_row(balance(2, 1, None, 5)).id);
        assert_ne!(
            a.id,
            balance_row(balance(1, 2, Some(0), 5)).id,
            "ERC20 ≠ id 0"
        );
        assert!(a.id.0[0] <= 0x07, "a valid felt");
        let token = |id| Token {
            contract_address: felt(2),
            token_id: id,
            name: String::new(),
            symbol: String::new(),
            decimals: 0,
            metadata: String::new(),
            total_supply: None,
        };
        assert_ne!(
            token_row(token(None)).id,
            token_row(token(Some(U256::default()))).id
        );
        assert_eq!(
            (a.updated_at, a.executed_at),
            (0, 0),
            "no version: position orders"
        );
    }

    #[test]
    fn amounts_keep_every_bit() {
        let row = balance_row(balance(1, 2, Some(3), 0xff));
        let state = row.model(BALANCE_MODEL).unwrap();
        let amount = state.members.iter().find(|m| m.name == "balance").unwrap();
        assert_eq!(
            amount.value,
            Value::Primitive(Primitive::U256(U256([0xff; 32])))
        );
    }

    #[test]
    fn filters_select_the_rows_they_name() {
        let filter = TokenFilter {
            accounts: vec![felt(1)],
            contracts: vec![felt(2), felt(3)],
            token_ids: Vec::new(),
        };
        let scope = filter.scope("wallet", TargetKind::TokenBalances);
        assert_eq!(TokenFilter::of_scope(&scope), filter);
        let covered = |b: TokenBalance| {
            let row = balance_row(b);
            scope.covers(&row.id, BALANCE_MODEL, &row.models)
        };
        assert!(covered(balance(1, 3, None, 1)));
        assert!(!covered(balance(2, 3, None, 1)), "another account");
        assert!(!covered(balance(1, 4, None, 1)), "another contract");
        let everything = TokenFilter::default().scope("all", TargetKind::TokenBalances);
        assert!(everything.clause.is_none());
        assert!(everything.covers(
            &felt(9),
            BALANCE_MODEL,
            &balance_row(balance(7, 7, None, 1)).models
        ));
    }

    #[test]
    fn the_request_is_the_union_of_the_scopes() {
        let a = TokenFilter {
            accounts: vec![felt(1)],
            ..TokenFilter::default()
        }
        .scope("a", TargetKind::TokenBalances);
        let b = TokenFilter {
            accounts: vec![felt(2)],
            contracts: vec![felt(5)],
            token_ids: vec![U256([7; 32])],
        }
        .scope("b", TargetKind::TokenBalances);
        let target = SyncTarget::of(TargetKind::TokenBalances, vec![a.clone(), b]);
        let union = TokenFilter::union_of(&target.scopes).unwrap();
        assert_eq!(union.accounts, vec![felt(1), felt(2)]);
        assert!(union.contracts.is_empty(), "scope a takes every contract");
        assert!(union.token_ids.is_empty(), "and every token id");
        let row = balance_row(balance(2, 6, None, 1));
        assert!(
            !target.covers(&row.id, BALANCE_MODEL, &row.models),
            "over-read rows are not covered"
        );
        assert_eq!(TokenFilter::union_of(&[]), None);
        assert_eq!(TokenFilter::union_of(&[a]).unwrap().accounts, vec![felt(1)]);
    }

    #[test]
    fn token_ids_select_the_nfts_they_name() {
        let nfts = TokenFilter {
            contracts: vec![felt(2)],
            token_ids: vec![U256([3; 32]), U256([4; 32])],
            ..TokenFilter::default()
        };
        let scope = nfts.scope("nfts", TargetKind::TokenBalances);
        assert_eq!(TokenFilter::of_scope(&scope), nfts);
        let covered = |b: TokenBalance| {
            let row = balance_row(b);
            scope.covers(&row.id, BALANCE_MODEL, &row.models)
        };
        assert!(covered(balance(9, 2, Some(3), 1)));
        assert!(covered(balance(8, 2, Some(4), 1)));
        assert!(!covered(balance(9, 2, Some(5), 1)), "another id");
        assert!(!covered(balance(9, 2, None, 1)), "an ERC20 has no id");
        assert!(!covered(balance(9, 6, Some(3), 1)), "another contract");
        let tokens = TokenFilter {
            token_ids: vec![U256([3; 32])],
            ..TokenFilter::default()
        }
        .scope("t", TargetKind::Tokens);
        let token = |id: u8| {
            token_row(Token {
                contract_address: felt(2),
                token_id: Some(U256([id; 32])),
                name: String::new(),
                symbol: String::new(),
                decimals: 0,
                metadata: String::new(),
                total_supply: None,
            })
        };
        assert!(tokens.covers(&token(3).id, TOKEN_MODEL, &token(3).models));
        assert!(!tokens.covers(&token(4).id, TOKEN_MODEL, &token(4).models));
        let union = TokenFilter::union_of(&[scope, tokens]).unwrap();
        assert_eq!(union.token_ids, vec![U256([3; 32]), U256([4; 32])]);
    }
}
