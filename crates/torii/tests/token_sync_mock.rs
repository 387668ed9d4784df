//! Token kinds synced over the real transport against mock-torii on 127.0.0.1: balances,
//! tokens and token contracts cold-synced; live transfers and mints streamed; a stall, ended
//! streams and a Torii restart survived; a warm start from the store; a wallet filter changed
//! at run time. Each time the store must equal what Torii serves.

#![cfg(not(target_arch = "wasm32"))]

use std::collections::BTreeMap;
use std::rc::Rc;
use std::time::{Duration, Instant};

use dojo_reactive_core::sync::testing::{test_fingerprint, MemoryStorage, Recorder};
use dojo_reactive_core::sync::token_rows::{
    balance_row, contract_row, token_model, token_row, TokenFilter,
};
use dojo_reactive_core::sync::{
    BackoffConfig, SyncOptions, SyncSetup, SyncState, SyncTarget, Synchronizer, TargetKind,
    TransitionReason,
};
use dojo_reactive_core::{Entity, EntityId, Felt, Struct, SyncConfig, U256};
use dojo_reactive_mock_torii::{MockConfig, MockTorii, RunningMock};
use dojo_reactive_torii::sync_transport::TokioClock;
use dojo_reactive_torii::{types, ToriiClient};

type Sync = Synchronizer<ToriiClient, Rc<MemoryStorage>, TokioClock>;

fn target(kind: TargetKind, filter: &TokenFilter) -> SyncTarget {
    SyncTarget::of(kind, vec![filter.scope(kind.name(), kind)])
}

fn synchronizer(mock: &RunningMock, storage: &Rc<MemoryStorage>, target: SyncTarget) -> Sync {
    let client = ToriiClient::new(&mock.url()).expect("client");
    Synchronizer::new(
        client,
        Rc::clone(storage),
        TokioClock,
        SyncSetup {
            target,
            fingerprint: test_fingerprint("mock"),
            config: SyncConfig::default(),
            options: SyncOptions {
                page_size: 100,
                heartbeat_timeout_ms: 1_500,
                heartbeat_check_ms: 250,
                backoff: BackoffConfig {
                    initial_ms: 100,
                    max_ms: 500,
                    ..BackoffConfig::default()
                },
                ..SyncOptions::default()
            },
        },
    )
}

/// Every row of a kind as Torii serves it now (all pages), by row id.
async fn torii_rows(
    mock: &RunningMock,
    kind: TargetKind,
    filter: &TokenFilter,
) -> BTreeMap<EntityId, Struct> {
    let client = ToriiClient::new(&mock.url()).expect("client");
    let mut rows: Vec<Entity> = Vec::new();
    let mut cursor = String::new();
    loop {
        let felts = |l: &[Felt]| l.iter().map(|f| f.0.to_vec()).collect::<Vec<_>>();
        let ids = |l: &[U256]| l.iter().map(|v| v.0.to_vec()).collect::<Vec<_>>();
        let pagination = Some(types::Pagination {
            cursor: cursor.clone(),
            limit: 500,
            ..Default::default()
        });
        let next = match kind {
            TargetKind::TokenBalances => {
                let page = client
                    .retrieve_token_balances(types::TokenBalanceQuery {
                        account_addresses: felts(&filter.accounts),
                        contract_addresses: felts(&filter.contracts),
                        token_ids: ids(&filter.token_ids),
                        pagination,
                    })
                    .await
                    .expect("balances");
                rows.extend(page.items.into_iter().map(balance_row));
                page.next_cursor
            }
            TargetKind::Tokens => {
                let page = client
                    .retrieve_tokens(types::TokenQuery {
                        contract_addresses: felts(&filter.contracts),
                        token_ids: ids(&filter.token_ids),
                        pagination,
                        ..Default::default()
                    })
                    .await
                    .expect("tokens");
                rows.extend(page.items.into_iter().map(token_row));
                page.next_cursor
            }
            _ => {
                let page = client
                    .retrieve_token_contracts(types::TokenContractQuery {
                        contract_addresses: felts(&filter.contracts),
                        pagination,
                        ..Default::default()
                    })
                    .await
                    .expect("contracts");
                rows.extend(page.items.into_iter().map(contract_row));
                page.next_cursor
            }
        };
        match next {
            Some(next) => cursor = next,
            None => break,
        }
    }
    rows.into_iter()
        .map(|mut e| (e.id, e.models.remove(0)))
        .collect()
}

/// Whether the store holds exactly `rows`.
fn holds_exactly(
    storage: &MemoryStorage,
    kind: TargetKind,
    rows: &BTreeMap<EntityId, Struct>,
) -> bool {
    let model = token_model(kind).expect("a token kind");
    storage.model_count(kind) == rows.len()
        && rows.iter().all(|(id, state)| {
            storage
                .record(kind, id, model)
                .is_some_and(|r| r.state == *state)
        })
}

/// Polls until the store equals Torii's rows (up to `limit`).
async fn converges(
    mock: &RunningMock,
    storage: &MemoryStorage,
    kind: TargetKind,
    filter: &TokenFilter,
    limit: Duration,
) -> bool {
    let start = Instant::now();
    loop {
        let rows = torii_rows(mock, kind, filter).await;
        if holds_exactly(storage, kind, &rows) {
            return true;
        }
        if start.elapsed() > limit {
            eprintln!(
                "store {} rows, Torii {} rows",
                storage.model_count(kind),
                rows.len()
            );
            return false;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

async fn eventually(limit: Duration, mut check: impl FnMut() -> bool) -> bool {
    let start = Instant::now();
    while start.elapsed() < limit {
        if check() {
            return true;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    check()
}

fn streaming(recorder: &Recorder) -> bool {
    recorder.states().last() == Some(&SyncState::Streaming)
}

async fn start_mock() -> RunningMock {
    MockTorii::start(MockConfig {
        entities: 600,
        event_messages: 0,
        send_gzip: false,
        ..MockConfig::default()
    })
    .await
    .expect("mock starts")
}

const WAIT: Duration = Duration::from_secs(30);

#[tokio::test(flavor = "current_thread")]
async fn balances_sync_stream_and_converge_after_stall_end_and_restart() {
    let mock = start_mock().await;
    let storage = Rc::new(MemoryStorage::new());
    let all = TokenFilter::default();
    let kind = TargetKind::TokenBalances;
    let mut sync = synchronizer(&mock, &storage, target(kind, &all));
    let recorder = Recorder::new();
    sync.set_observer(Box::new(recorder.clone()));
    let handle = sync.handle();
    let control = mock.control().clone();

    let script = async {
        // Cold sync.
        assert!(
            eventually(WAIT, || streaming(&recorder)).await,
            "{:?}",
            recorder.states()
        );
        assert!(
            converges(&mock, &storage, kind, &all, WAIT).await,
            "cold sync"
        );
        assert!(storage.model_count(kind) > 100);

        // Live transfers and mints.
        assert!(control.apply_token_updates(40) > 0);
        assert!(
            converges(&mock, &storage, kind, &all, WAIT).await,
            "live updates"
        );

        // A stall: the stream stays open and delivers nothing; the silent stream is
        // re-subscribed and re-read.
        control.stall(true);
        control.apply_token_updates(20);
        control.stall(false);
        assert!(
            converges(&mock, &storage, kind, &all, WAIT).await,
            "after a stall"
        );
        assert!(recorder
            .transitions()
            .iter()
            .any(|t| matches!(t.reason, TransitionReason::Heartbeat { .. })));

        // Ended streams, changes made meanwhile.
        control.end_streams();
        control.apply_token_updates(20);
        assert!(
            eventually(WAIT, || recorder
                .transitions()
                .iter()
                .any(|t| t.reason == TransitionReason::StreamEnded))
            .await
        );
        assert!(
            converges(&mock, &storage, kind, &all, WAIT).await,
            "after ended streams"
        );

        // A Torii restart.
        control.restart(None);
        control.apply_token_updates(20);
        assert!(
            converges(&mock, &storage, kind, &all, WAIT).await,
            "after a restart"
        );
        control.apply_token_updates(10);
        assert!(
            converges(&mock, &storage, kind, &all, WAIT).await,
            "live after faults"
        );
        handle.shutdown();
    };
    let (result, ()) = tokio::join!(sync.run(), script);
    result.expect("the run ends with shutdown");
    storage
        .check_matches(kind, &sync.ledger_entries(), sync.held_states(), |r| {
            sync.holds(r)
        })
        .expect("storage holds what the ledger says");

    // Warm start: a new synchronizer on the same store starts from what it holds.
    let mut warm = synchronizer(&mock, &storage, target(kind, &all));
    let recorder = Recorder::new();
    warm.set_observer(Box::new(recorder.clone()));
    let handle = warm.handle();
    let held = storage.model_count(kind);
    let script = async {
        assert!(eventually(WAIT, || streaming(&recorder)).await);
        assert_eq!(
            recorder.states().first(),
            Some(&SyncState::Replaying),
            "a complete store replays, it does not bootstrap"
        );
        control.apply_token_updates(10);
        assert!(
            converges(&mock, &storage, kind, &all, WAIT).await,
            "warm start"
        );
        handle.shutdown();
    };
    assert!(held > 0);
    let (result, ()) = tokio::join!(warm.run(), script);
    result.expect("warm run ends");
    mock.shutdown().await;
}

#[tokio::test(flavor = "current_thread")]
async fn a_wallet_filter_changes_at_run_time_and_tokens_and_contracts_sync() {
    let mock = start_mock().await;
    let all = TokenFilter::default();
    // Tokens and token contracts: cold sync; mints stream in as tokens.
    for kind in [TargetKind::Tokens, TargetKind::TokenContracts] {
        let storage = Rc::new(MemoryStorage::new());
        let mut sync = synchronizer(&mock, &storage, target(kind, &all));
        let recorder = Recorder::new();
        sync.set_observer(Box::new(recorder.clone()));
        let handle = sync.handle();
        let control = mock.control().clone();
        let script = async {
            assert!(eventually(WAIT, || streaming(&recorder)).await);
            assert!(
                converges(&mock, &storage, kind, &all, WAIT).await,
                "{kind:?}"
            );
            if kind == TargetKind::Tokens {
                control.apply_token_updates(30);
                assert!(converges(&mock, &storage, kind, &all, WAIT).await, "mints");
            }
            handle.shutdown();
        };
        let (result, ()) = tokio::join!(sync.run(), script);
        result.expect("run ends");
    }

    // The wallet of one player, then of another, then of both and only one contract.
    let everything = torii_rows(&mock, TargetKind::TokenBalances, &all).await;
    let balance = |id: &EntityId| everything[id].clone();
    let mut accounts: Vec<Felt> = everything
        .keys()
        .map(|id| account_of(&balance(id)))
        .collect();
    accounts.dedup();
    let (alice, bob) = (accounts[0], accounts[1]);
    let kind = TargetKind::TokenBalances;
    let wallet = |accounts: Vec<Felt>, contracts: Vec<Felt>| TokenFilter {
        accounts,
        contracts,
        token_ids: Vec::new(),
    };
    let storage = Rc::new(MemoryStorage::new());
    let first = wallet(vec![alice], Vec::new());
    let mut sync = synchronizer(&mock, &storage, target(kind, &first));
    let recorder = Recorder::new();
    sync.set_observer(Box::new(recorder.clone()));
    let handle = sync.handle();
    let control = mock.control().clone();
    let script = async {
        assert!(eventually(WAIT, || streaming(&recorder)).await);
        assert!(
            converges(&mock, &storage, kind, &first, WAIT).await,
            "alice"
        );
        let subscribes = |method: &str| control.log().iter().filter(|e| e.method == method).count();
        let opened = subscribes("SubscribeTokenBalances");
        let second = wallet(vec![bob], Vec::new());
        assert!(handle.retarget(vec![second.scope("wallet", kind)]));
        assert!(
            converges(&mock, &storage, kind, &second, WAIT).await,
            "bob alone"
        );
        let gold = contract_of(&everything.values().next().expect("a balance").clone());
        let both = wallet(vec![alice, bob], vec![gold]);
        assert!(handle.retarget(vec![both.scope("wallet", kind)]));
        assert!(
            converges(&mock, &storage, kind, &both, WAIT).await,
            "both, gold only"
        );
        // Live updates follow the narrowed subscription (an update, not a new stream).
        let subscriptions = mock.control().subscription_count();
        control.apply_token_updates(60);
        assert!(
            converges(&mock, &storage, kind, &both, WAIT).await,
            "live, narrowed"
        );
        assert_eq!(mock.control().subscription_count(), subscriptions);
        assert_eq!(
            subscribes("SubscribeTokenBalances"),
            opened,
            "a changed wallet updates the stream, it opens none"
        );
        assert!(subscribes("UpdateTokenBalancesSubscription") >= 2);
        handle.shutdown();
    };
    let (result, ()) = tokio::join!(sync.run(), script);
    result.expect("run ends");
    assert!(storage
        .stored_sync_state(kind)
        .is_some_and(|s| s.snapshot_complete));
    mock.shutdown().await;
}

/// The most rows one retrieve of `method` answered since the log was last cleared.
fn most_rows_read(mock: &RunningMock, method: &str) -> usize {
    let log = mock.control().log();
    log.iter()
        .filter(|e| e.method == method)
        .filter_map(|e| e.rows)
        .max()
        .unwrap_or(0)
}

#[tokio::test(flavor = "current_thread")]
async fn token_ids_narrow_what_is_read_and_streamed() {
    let mock = start_mock().await;
    // The NFTs a game cares about (HERO ids 2, 3 and 5; ERC20 rows have no id): their tokens and
    // who holds them; a change of ids is a retarget.
    let ids = |list: &[u128]| list.iter().map(|n| U256::from(*n)).collect::<Vec<_>>();
    for kind in [TargetKind::Tokens, TargetKind::TokenBalances] {
        let nfts = TokenFilter {
            token_ids: ids(&[2, 3, 5]),
            ..TokenFilter::default()
        };
        let storage = Rc::new(MemoryStorage::new());
        let mut sync = synchronizer(&mock, &storage, target(kind, &nfts));
        let recorder = Recorder::new();
        sync.set_observer(Box::new(recorder.clone()));
        let handle = sync.handle();
        let method = match kind {
            TargetKind::Tokens => "RetrieveTokens",
            _ => "RetrieveTokenBalances",
        };
        mock.control().clear_log();
        let script = async {
            assert!(eventually(WAIT, || streaming(&recorder)).await);
            assert!(
                converges(&mock, &storage, kind, &nfts, WAIT).await,
                "{kind:?}"
            );
            assert_eq!(storage.model_count(kind), 3, "one row per id");
            // A page holds up to 100 rows: Torii was asked for these ids only.
            assert_eq!(
                most_rows_read(&mock, method),
                3,
                "one call read only the ids"
            );
            let more = TokenFilter {
                token_ids: ids(&[1, 2]),
                ..TokenFilter::default()
            };
            assert!(handle.retarget(vec![more.scope(kind.name(), kind)]));
            assert!(
                converges(&mock, &storage, kind, &more, WAIT).await,
                "retargeted"
            );
            assert_eq!(storage.model_count(kind), 2, "ids 3 and 5 left");
            // Transfers and mints of other ids are not streamed in.
            mock.control().apply_token_updates(60);
            assert!(converges(&mock, &storage, kind, &more, WAIT).await, "live");
            assert_eq!(storage.model_count(kind), 2);
            handle.shutdown();
        };
        let (result, ()) = tokio::join!(sync.run(), script);
        result.expect("run ends");
    }
    mock.shutdown().await;
}

fn member_felt(state: &Struct, name: &str) -> Felt {
    match state.member(name).map(|m| &m.value) {
        Some(dojo_reactive_core::Value::Primitive(p)) => match p {
            dojo_reactive_core::Primitive::ContractAddress(f) => *f,
            other => panic!("{name} is {other:?}"),
        },
        other => panic!("{name} is {other:?}"),
    }
}

fn account_of(state: &Struct) -> Felt {
    member_felt(state, "account_address")
}

fn contract_of(state: &Struct) -> Felt {
    member_felt(state, "contract_address")
}
