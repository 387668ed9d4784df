//! The synchronizer's transport for the token kinds ([`TargetKind::Tokens`],
//! [`TargetKind::TokenBalances`], [`TargetKind::TokenContracts`]): Torii's token calls, their
//! rows turned into one-model entities by [`token_rows`], so the synchronizer handles them as
//! it handles entities.
//!
//! - A page request and a subscription carry the union of the targets' filters (accounts,
//!   contracts, token ids: see
//!   [`TokenFilter::union_of`]); rows no target covers are dropped here.
//! - Torii pages token rows by key, not by last write, so no row moves to an already-read page
//!   while pages are read: a re-read by id has nothing to add and answers an empty page.
//! - A changed filter updates the live subscription (`UpdateTokensSubscription`,
//!   `UpdateTokenBalancesSubscription`); no new stream is opened.
//! - Torii has no subscription for token contracts: their stream is quiet (it never yields and
//!   never ends), so contracts are re-read by the scheduled full replays and `forceReplay`.

use dojo_reactive_core::sync::token_rows::{self, TokenFilter};
use dojo_reactive_core::sync::{
    PageRequest, RejectedRecord, SnapshotPage, SyncTarget, TargetKind, TransportError, UpdateStream,
};
use dojo_reactive_core::Entity;

use crate::client::{Page, ToriiClient};
use crate::error::ToriiError;
use crate::proto::types;
use crate::subscription::{EntitySubscription, TokenBalanceSubscription, TokenSubscription};

/// A live subscription of any target kind.
pub enum SyncStream {
    /// Entities or event messages.
    Entities(EntitySubscription),
    /// Tokens.
    Tokens(TokenSubscription),
    /// Token balances.
    Balances(TokenBalanceSubscription),
    /// Token contracts: Torii streams none, so this never yields.
    Quiet,
}

impl UpdateStream for SyncStream {
    fn id(&self) -> u64 {
        match self {
            SyncStream::Entities(s) => s.id(),
            SyncStream::Tokens(s) => s.id(),
            SyncStream::Balances(s) => s.id(),
            SyncStream::Quiet => 0,
        }
    }

    async fn next(&mut self) -> Option<Result<Entity, TransportError>> {
        let item = match self {
            SyncStream::Entities(s) => s.next().await,
            SyncStream::Tokens(s) => s.next().await.map(|r| r.map(token_rows::token_row)),
            SyncStream::Balances(s) => s.next().await.map(|r| r.map(token_rows::balance_row)),
            SyncStream::Quiet => std::future::pending().await,
        };
        item.map(|r| r.map_err(TransportError::from))
    }
}

/// The filter serving every scope of `target`; `None` when it has none (nothing to read).
fn filter(target: &SyncTarget) -> Option<TokenFilter> {
    TokenFilter::union_of(&target.scopes)
}

fn felts(list: &[dojo_reactive_core::Felt]) -> Vec<Vec<u8>> {
    list.iter().map(|f| f.0.to_vec()).collect()
}

/// The filter's token ids as the subscription calls take them: 32 big-endian bytes each, as
/// the wire carries a u256 (a token id may exceed the felt range; its bytes are kept as they
/// are).
fn token_ids(filter: &TokenFilter) -> Vec<dojo_reactive_core::Felt> {
    filter
        .token_ids
        .iter()
        .map(|id| dojo_reactive_core::Felt(id.0))
        .collect()
}

fn pagination(request: &PageRequest) -> types::Pagination {
    types::Pagination {
        cursor: request.cursor.clone().unwrap_or_default(),
        limit: request.limit,
        direction: types::PaginationDirection::Forward as i32,
        order_by: Vec::new(),
    }
}

/// Keeps the rows some scope of `target` covers, as a snapshot page.
fn page_of<T>(target: &SyncTarget, page: Page<T>, row: impl Fn(T) -> Entity) -> SnapshotPage {
    let items = page
        .items
        .into_iter()
        .map(row)
        .filter(|e| {
            e.models
                .iter()
                .all(|m| target.covers(&e.id, &m.name, &e.models))
        })
        .collect();
    SnapshotPage {
        items,
        rejected: page
            .rejected
            .into_iter()
            .map(|error| RejectedRecord {
                entity: None,
                reason: error.to_string(),
            })
            .collect(),
        next_cursor: page.next_cursor,
    }
}

/// One snapshot page of a token kind.
pub(crate) async fn retrieve(
    client: &ToriiClient,
    target: &SyncTarget,
    request: &PageRequest,
) -> Result<SnapshotPage, TransportError> {
    let Some(filter) = filter(target).filter(|_| request.entity_ids.is_empty()) else {
        return Ok(SnapshotPage::default());
    };
    let pagination = Some(pagination(request));
    Ok(match target.kind {
        TargetKind::Tokens => {
            let query = types::TokenQuery {
                contract_addresses: felts(&filter.contracts),
                token_ids: felts(&token_ids(&filter)),
                attribute_filters: Vec::new(),
                pagination,
            };
            let page = client.retrieve_tokens(query).await?;
            page_of(target, page, token_rows::token_row)
        }
        TargetKind::TokenBalances => {
            let query = types::TokenBalanceQuery {
                account_addresses: felts(&filter.accounts),
                contract_addresses: felts(&filter.contracts),
                token_ids: felts(&token_ids(&filter)),
                pagination,
            };
            let page = client.retrieve_token_balances(query).await?;
            page_of(target, page, token_rows::balance_row)
        }
        TargetKind::TokenContracts => {
            let query = types::TokenContractQuery {
                contract_addresses: felts(&filter.contracts),
                contract_types: Vec::new(),
                pagination,
            };
            let page = client.retrieve_token_contracts(query).await?;
            page_of(target, page, token_rows::contract_row)
        }
        TargetKind::Entities | TargetKind::EventMessages => return Err(not_a_token(target)),
    })
}

fn not_a_token(target: &SyncTarget) -> TransportError {
    TransportError::from(ToriiError::Handshake {
        message: format!(
            "the token transport was asked for the {} target, which is not a token kind",
            target.kind.name()
        ),
    })
}

/// Subscribes to a token kind and waits for the handshake.
pub(crate) async fn subscribe(
    client: &ToriiClient,
    target: &SyncTarget,
) -> Result<SyncStream, TransportError> {
    let filter = filter(target).unwrap_or_default();
    let ids = token_ids(&filter);
    Ok(match target.kind {
        TargetKind::Tokens => {
            SyncStream::Tokens(client.subscribe_tokens(&filter.contracts, &ids).await?)
        }
        TargetKind::TokenBalances => SyncStream::Balances(
            client
                .subscribe_token_balances(&filter.accounts, &filter.contracts, &ids)
                .await?,
        ),
        TargetKind::TokenContracts => SyncStream::Quiet,
        TargetKind::Entities | TargetKind::EventMessages => return Err(not_a_token(target)),
    })
}

/// Replaces the filter of a live token subscription with the target's.
pub(crate) async fn update_subscription(
    client: &ToriiClient,
    target: &SyncTarget,
    subscription_id: u64,
) -> Result<(), TransportError> {
    let filter = filter(target).unwrap_or_default();
    let ids = token_ids(&filter);
    match target.kind {
        TargetKind::Tokens => {
            client
                .update_tokens_subscription(subscription_id, &filter.contracts, &ids)
                .await?
        }
        TargetKind::TokenBalances => {
            client
                .update_token_balances_subscription(
                    subscription_id,
                    &filter.accounts,
                    &filter.contracts,
                    &ids,
                )
                .await?
        }
        TargetKind::TokenContracts => {}
        TargetKind::Entities | TargetKind::EventMessages => return Err(not_a_token(target)),
    }
    Ok(())
}
