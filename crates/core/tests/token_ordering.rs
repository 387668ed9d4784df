//! Property: balances carry no version, so the ledger orders them by position alone (see
//! `sync::token_rows`, "Ordering"). For random server histories and random client schedules
//! (stream messages and snapshot rows applied in any interleaving, pages read while balances
//! change, streams that stall and end with messages lost, then a new subscription and a
//! snapshot), a client that applies what the ledger accepts ends with Torii's latest balance of
//! every account, and a snapshot row never overwrites a newer amount its own stream delivered.

use std::collections::{HashMap, VecDeque};

use dojo_reactive_core::sync::token_rows::{balance_row, BALANCE_MODEL};
use dojo_reactive_core::{Felt, Ledger, Source, Struct, TokenBalance, U256};
use proptest::prelude::*;

const KEYS: u8 = 4;

#[derive(Debug, Clone)]
enum Step {
    /// Torii changes a balance (a transfer).
    Write { key: u8, amount: u64 },
    /// One snapshot page (every balance as Torii holds it now) is read.
    ReadPage,
    /// The next stream message arrives.
    Deliver,
    /// A row of an earlier read page is applied (rows and messages interleave freely).
    ApplyRow { pick: u16 },
    /// The stream stalls and ends: undelivered messages are lost; the client subscribes again
    /// and reads the snapshot.
    Gap,
}

fn step() -> impl Strategy<Value = Step> {
    prop_oneof![
        3 => (0..KEYS, any::<u64>()).prop_map(|(key, amount)| Step::Write { key, amount }),
        1 => Just(Step::ReadPage),
        3 => Just(Step::Deliver),
        3 => any::<u16>().prop_map(|pick| Step::ApplyRow { pick }),
        1 => Just(Step::Gap),
    ]
}

fn state(key: u8, amount: u64) -> (Felt, Struct) {
    let mut bytes = [0u8; 32];
    bytes[24..].copy_from_slice(&amount.to_be_bytes());
    let row = balance_row(TokenBalance {
        balance: U256(bytes),
        account_address: Felt([key; 32]),
        contract_address: Felt([9; 32]),
        token_id: None,
    });
    (row.id, row.models[0].clone())
}

struct Client {
    ledger: Ledger,
    held: HashMap<u8, u64>,
    epoch: u32,
    seq: u64,
    page: u64,
    stream: VecDeque<(u8, u64)>,
    rows: Vec<(u8, u64, Source)>,
}

impl Client {
    fn apply(&mut self, key: u8, amount: u64, source: Source) {
        let (id, state) = state(key, amount);
        if self
            .ledger
            .observe_state(&id, &state, source, 0, 0)
            .applies()
        {
            self.held.insert(key, amount);
        }
    }

    fn deliver(&mut self) {
        if let Some((key, amount)) = self.stream.pop_front() {
            self.seq += 1;
            let source = Source::Stream {
                epoch: self.epoch,
                seq: self.seq,
            };
            self.apply(key, amount, source);
        }
    }

    fn read_page(&mut self, server: &HashMap<u8, u64>) {
        self.page += 1;
        let source = Source::Snapshot {
            epoch: self.epoch,
            page: self.page,
        };
        self.rows
            .extend(server.iter().map(|(key, amount)| (*key, *amount, source)));
    }

    fn subscribe(&mut self, server: &HashMap<u8, u64>) {
        self.stream.clear();
        self.epoch = self.ledger.begin_epoch();
        self.seq = 0;
        self.page = 0;
        self.read_page(server);
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn balances_converge_to_torii_under_any_interleaving(
        steps in proptest::collection::vec(step(), 1..80),
        flush_rows_first in any::<bool>(),
    ) {
        let mut server: HashMap<u8, u64> = (0..KEYS).map(|k| (k, 1_000)).collect();
        let mut client = Client {
            ledger: Ledger::new(),
            held: HashMap::new(),
            epoch: 0,
            seq: 0,
            page: 0,
            stream: VecDeque::new(),
            rows: Vec::new(),
        };
        client.subscribe(&server);
        for step in steps {
            match step {
                Step::Write { key, amount } => {
                    server.insert(key, amount);
                    client.stream.push_back((key, amount));
                }
                Step::ReadPage => client.read_page(&server),
                Step::Deliver => client.deliver(),
                Step::ApplyRow { pick } => {
                    if !client.rows.is_empty() {
                        let (key, amount, source) =
                            client.rows.swap_remove(usize::from(pick) % client.rows.len());
                        client.apply(key, amount, source);
                    }
                }
                Step::Gap => client.subscribe(&server),
            }
        }
        // Everything in flight arrives, in either order.
        let rows = std::mem::take(&mut client.rows);
        let apply_rows = |client: &mut Client| {
            for (key, amount, source) in &rows {
                client.apply(*key, *amount, *source);
            }
        };
        if flush_rows_first {
            apply_rows(&mut client);
        }
        while !client.stream.is_empty() {
            client.deliver();
        }
        if !flush_rows_first {
            apply_rows(&mut client);
        }
        prop_assert_eq!(&client.held, &server);
    }
}

#[test]
fn a_snapshot_after_a_gap_replaces_and_a_snapshot_before_the_stream_loses() {
    let mut ledger = Ledger::new();
    let (id, old) = state(1, 5);
    let (_, new) = state(1, 7);
    let first = ledger.begin_epoch();
    let stream = |seq| Source::Stream { epoch: first, seq };
    // A page read before the stream's message loses to it, whatever the arrival order.
    assert!(ledger.observe_state(&id, &new, stream(1), 0, 0).applies());
    let early_page = Source::Snapshot {
        epoch: first,
        page: 1,
    };
    assert!(!ledger.observe_state(&id, &old, early_page, 0, 0).applies());
    // After a gap (a new subscription), the snapshot replaces what the lost stream delivered.
    let second = ledger.begin_epoch();
    let after_gap = Source::Snapshot {
        epoch: second,
        page: 1,
    };
    assert!(ledger.observe_state(&id, &old, after_gap, 0, 0).applies());
    let stale = Source::Stream {
        epoch: first,
        seq: 2,
    };
    assert!(
        !ledger.observe_state(&id, &new, stale, 0, 0).applies(),
        "a late message of the ended stream loses to the newer snapshot"
    );
}

#[test]
fn the_row_model_is_the_balance_model() {
    assert_eq!(state(1, 1).1.name.as_str(), BALANCE_MODEL);
}
