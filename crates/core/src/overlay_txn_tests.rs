//! Transactions over several models and entities and relative writes: shown together, confirmed
//! by synced data or an ack, rolled back together; relative writes follow newer synced states
//! exactly (u256, i128) and are confirmed by the step they cause. The property test plays a
//! chain that lands transactions in order among other players' changes.

use std::collections::BTreeMap;

use proptest::prelude::*;

use super::super::*;
use crate::bytes32::U256;
use crate::schema::PrimitiveType;
use crate::value::{Primitive, Value};
use crate::Felt;

const POSITION: &str = "arena-Position";
const MOVES: &str = "arena-Moves";

fn prim(name: &str, value: Primitive) -> Member {
    Member {
        name: name.into(),
        key: false,
        value: Value::Primitive(value),
    }
}

fn model(name: &str, members: Vec<Member>) -> Struct {
    Struct {
        name: name.into(),
        members,
    }
}

fn delta(name: &str, ty: PrimitiveType, amount: &str) -> Delta {
    Delta::new(name.into(), ty, amount).unwrap()
}

fn member_of(state: &Struct, name: &str) -> Option<Primitive> {
    state.member(name)?.value.as_primitive().copied()
}

fn set(entity: u128, model: &str, payload: Vec<Member>) -> WriteSubmission {
    WriteSubmission {
        entity_id: Felt::from(entity),
        model: model.into(),
        payload,
        deltas: Vec::new(),
        guard: None,
    }
}

fn add(entity: u128, model: &str, deltas: Vec<Delta>) -> WriteSubmission {
    WriteSubmission {
        entity_id: Felt::from(entity),
        model: model.into(),
        payload: Vec::new(),
        deltas,
        guard: None,
    }
}

fn transaction(id: &str, writes: Vec<WriteSubmission>) -> TransactionSubmission {
    TransactionSubmission {
        transaction_id: id.into(),
        writes,
        timeout_ms: None,
    }
}

fn moves(left: u32) -> Struct {
    model(MOVES, vec![prim("left", Primitive::U32(left))])
}

fn position(x: u32) -> Struct {
    model(POSITION, vec![prim("x", Primitive::U32(x))])
}

/// Position 1 at x = 0, 10 moves left: the synced world of the two-model tests.
fn world() -> BTreeMap<(u128, &'static str), Struct> {
    BTreeMap::from([((1, POSITION), position(0)), ((1, MOVES), moves(10))])
}

fn a_move(id: &str, x: u32) -> TransactionSubmission {
    transaction(
        id,
        vec![
            set(1, POSITION, vec![prim("x", Primitive::U32(x))]),
            add(1, MOVES, vec![delta("left", PrimitiveType::U32, "-1")]),
        ],
    )
}

fn submit(
    overlay: &mut Overlay,
    synced: &BTreeMap<(u128, &'static str), Struct>,
    tx: TransactionSubmission,
) -> Result<Vec<OverlayEvent>, OverlayError> {
    overlay.submit_transaction(
        tx,
        |entity, model| {
            synced
                .iter()
                .find(|((e, m), _)| Felt::from(*e) == *entity && *m == model)
                .map(|(_, s)| s)
        },
        0,
    )
}

fn shown(
    overlay: &Overlay,
    synced: &BTreeMap<(u128, &'static str), Struct>,
    key: (u128, &'static str),
) -> Option<Struct> {
    overlay.merged(&Felt::from(key.0), key.1, synced.get(&key))
}

#[test]
fn a_two_model_move_shows_together_and_is_confirmed_when_both_models_land() {
    let mut overlay = Overlay::default();
    let mut synced = world();
    submit(&mut overlay, &synced, a_move("move", 3)).unwrap();
    assert_eq!(shown(&overlay, &synced, (1, POSITION)), Some(position(3)));
    assert_eq!(shown(&overlay, &synced, (1, MOVES)), Some(moves(9)));
    assert_eq!(overlay.entries_for(&Felt::from(1u128)).count(), 2);

    // Position lands first: that write is confirmed, the transaction is not.
    synced.insert((1, POSITION), position(3));
    let events =
        overlay.on_synced_change(&Felt::from(1u128), POSITION, synced.get(&(1, POSITION)), 1);
    assert!(events.is_empty(), "{events:?}");
    assert_eq!(overlay.len(), 1);
    assert_eq!(shown(&overlay, &synced, (1, MOVES)), Some(moves(9)));

    // Moves lands: one step of -1 confirms the relative write, and the whole transaction.
    synced.insert((1, MOVES), moves(9));
    let events = overlay.on_synced_change(&Felt::from(1u128), MOVES, synced.get(&(1, MOVES)), 2);
    assert!(
        matches!(events.as_slice(), [OverlayEvent::Confirmed { transaction_id, .. }] if transaction_id == "move"),
        "{events:?}"
    );
    assert!(overlay.is_empty());
    assert_eq!(
        shown(&overlay, &synced, (1, MOVES)),
        Some(moves(9)),
        "not counted twice"
    );
}

#[test]
fn a_transaction_times_out_and_rolls_back_as_one() {
    let mut overlay = Overlay::new(500, 1_000);
    let mut synced = world();
    submit(&mut overlay, &synced, a_move("move", 3)).unwrap();
    synced.insert((1, POSITION), position(3));
    overlay.on_synced_change(&Felt::from(1u128), POSITION, synced.get(&(1, POSITION)), 10);
    let events = overlay.poll(1_000, |e, m| {
        synced
            .iter()
            .find(|((k, n), _)| Felt::from(*k) == *e && *n == m)
            .map(|(_, s)| s)
    });
    match events.as_slice() {
        [OverlayEvent::TimedOut(error)] => {
            assert_eq!(error.transaction_id, "move");
            assert!(
                error.guard_description.contains("left by -1"),
                "{}",
                error.guard_description
            );
            assert!(
                !error.guard_description.contains("arena-Position"),
                "the confirmed write is not waited for"
            );
        }
        other => panic!("expected one timeout, got {other:?}"),
    }
    assert_eq!(shown(&overlay, &synced, (1, MOVES)), Some(moves(10)));
    assert_eq!(overlay.entries_for(&Felt::from(1u128)).count(), 0);
}

#[test]
fn a_relative_write_follows_other_changes_and_is_confirmed_by_its_own_step() {
    let mut overlay = Overlay::default();
    let mut synced = world();
    submit(
        &mut overlay,
        &synced,
        transaction(
            "pay",
            vec![add(1, MOVES, vec![delta("left", PrimitiveType::U32, "-4")])],
        ),
    )
    .unwrap();
    assert_eq!(shown(&overlay, &synced, (1, MOVES)), Some(moves(6)));
    // Someone else gives 5 moves: the write is applied over the new state, not rolled back.
    synced.insert((1, MOVES), moves(15));
    assert!(overlay
        .on_synced_change(&Felt::from(1u128), MOVES, synced.get(&(1, MOVES)), 1)
        .is_empty());
    assert_eq!(shown(&overlay, &synced, (1, MOVES)), Some(moves(11)));
    // The payment lands: a step of exactly -4.
    synced.insert((1, MOVES), moves(11));
    let events = overlay.on_synced_change(&Felt::from(1u128), MOVES, synced.get(&(1, MOVES)), 2);
    assert_eq!(events.len(), 1);
    assert_eq!(shown(&overlay, &synced, (1, MOVES)), Some(moves(11)));
}

#[test]
fn a_confirmed_member_is_no_longer_listed_as_unconfirmed() {
    let mut overlay = Overlay::default();
    let mut synced = world();
    let two = |left: u32, gold: u32| {
        model(
            MOVES,
            vec![
                prim("left", Primitive::U32(left)),
                prim("gold", Primitive::U32(gold)),
            ],
        )
    };
    synced.insert((1, MOVES), two(10, 100));
    let spend = add(
        1,
        MOVES,
        vec![
            delta("left", PrimitiveType::U32, "-1"),
            delta("gold", PrimitiveType::U32, "-10"),
        ],
    );
    submit(&mut overlay, &synced, transaction("spend", vec![spend])).unwrap();
    let open = |overlay: &Overlay| -> Vec<(String, String)> {
        overlay
            .entries_for(&Felt::from(1u128))
            .flat_map(|w| w.unconfirmed_deltas())
            .map(|d| (d.name().as_str().to_owned(), d.amount()))
            .collect()
    };
    assert_eq!(
        open(&overlay),
        [("left".into(), "-1".into()), ("gold".into(), "-10".into())]
    );
    // The moves land first: only the gold is still pending (and shown).
    synced.insert((1, MOVES), two(9, 100));
    assert!(overlay
        .on_synced_change(&Felt::from(1u128), MOVES, synced.get(&(1, MOVES)), 1)
        .is_empty());
    assert_eq!(open(&overlay), [("gold".into(), "-10".into())]);
    assert_eq!(shown(&overlay, &synced, (1, MOVES)), Some(two(9, 90)));
}

#[test]
fn relative_writes_stack_and_steps_confirm_the_oldest_first() {
    let mut overlay = Overlay::default();
    let mut synced = world();
    for id in ["a", "b", "c"] {
        let events = submit(
            &mut overlay,
            &synced,
            transaction(
                id,
                vec![add(1, MOVES, vec![delta("left", PrimitiveType::U32, "-1")])],
            ),
        )
        .unwrap();
        assert!(
            events.is_empty(),
            "relative writes never replace each other"
        );
    }
    assert_eq!(shown(&overlay, &synced, (1, MOVES)), Some(moves(7)));
    // a and b are indexed in one synced update: a step of -2 confirms the two oldest.
    synced.insert((1, MOVES), moves(8));
    let events = overlay.on_synced_change(&Felt::from(1u128), MOVES, synced.get(&(1, MOVES)), 1);
    let ids: Vec<&str> = events
        .iter()
        .map(|e| match e {
            OverlayEvent::Confirmed { transaction_id, .. } => transaction_id.as_str(),
            _ => "other",
        })
        .collect();
    assert_eq!(ids, ["a", "b"]);
    assert_eq!(shown(&overlay, &synced, (1, MOVES)), Some(moves(7)));
    // A step that mixes c with another change confirms nothing; c waits for its ack.
    synced.insert((1, MOVES), moves(10));
    assert!(overlay
        .on_synced_change(&Felt::from(1u128), MOVES, synced.get(&(1, MOVES)), 2)
        .is_empty());
    assert_eq!(shown(&overlay, &synced, (1, MOVES)), Some(moves(9)));
    assert_eq!(overlay.ack("c").unwrap().len(), 1);
    assert_eq!(shown(&overlay, &synced, (1, MOVES)), Some(moves(10)));
}

#[test]
fn relative_writes_are_exact_for_wide_integers_and_clamped_to_the_type() {
    let big = U256([0xff; 32]);
    let wallet = model(
        MOVES,
        vec![
            prim("score", Primitive::U256(big)),
            prim("debt", Primitive::I128(i128::MIN + 5)),
            prim("small", Primitive::U8(3)),
        ],
    );
    let write = add(
        1,
        MOVES,
        vec![
            delta("score", PrimitiveType::U256, "-1"),
            delta("debt", PrimitiveType::I128, "-10"),
            delta("small", PrimitiveType::U8, "-10"),
            delta(
                "fresh",
                PrimitiveType::U128,
                "340282366920938463463374607431768211455",
            ),
        ],
    );
    let mut overlay = Overlay::default();
    overlay
        .submit_transaction(transaction("t", vec![write]), |_, _| Some(&wallet), 0)
        .unwrap();
    let state = overlay
        .merged(&Felt::from(1u128), MOVES, Some(&wallet))
        .unwrap();
    let mut expected = [0xff; 32];
    expected[31] = 0xfe;
    assert_eq!(
        member_of(&state, "score"),
        Some(Primitive::U256(U256(expected)))
    );
    assert_eq!(
        member_of(&state, "debt"),
        Some(Primitive::I128(i128::MIN)),
        "clamped at i128::MIN"
    );
    assert_eq!(
        member_of(&state, "small"),
        Some(Primitive::U8(0)),
        "clamped at 0"
    );
    assert_eq!(
        member_of(&state, "fresh"),
        Some(Primitive::U128(u128::MAX)),
        "an absent member counts as 0"
    );
    // Over an absent model the amounts apply to 0.
    let alone = overlay.merged(&Felt::from(1u128), MOVES, None).unwrap();
    assert_eq!(member_of(&alone, "small"), Some(Primitive::U8(0)));
    assert_eq!(
        member_of(&alone, "score"),
        Some(Primitive::U256(U256([0; 32])))
    );
}

#[test]
fn deltas_refuse_members_that_are_not_integers_and_bad_amounts() {
    assert!(matches!(
        Delta::new("f".into(), PrimitiveType::Felt252, "1"),
        Err(DeltaError::NotInteger { .. })
    ));
    assert!(matches!(
        Delta::new("b".into(), PrimitiveType::Bool, "1"),
        Err(DeltaError::NotInteger { .. })
    ));
    assert!(matches!(
        Delta::new("n".into(), PrimitiveType::U32, "1.5"),
        Err(DeltaError::BadAmount { .. })
    ));
    assert_eq!(delta("n", PrimitiveType::I64, "0x10").amount(), "16");
    assert_eq!(delta("n", PrimitiveType::I64, "-16").amount(), "-16");
}

#[test]
fn transactions_refuse_empty_and_repeated_writes_and_duplicate_ids() {
    let mut overlay = Overlay::default();
    let synced = world();
    assert!(matches!(
        submit(&mut overlay, &synced, transaction("e", vec![])),
        Err(OverlayError::EmptyWrite { .. })
    ));
    assert!(matches!(
        submit(
            &mut overlay,
            &synced,
            transaction("e", vec![set(1, POSITION, vec![])])
        ),
        Err(OverlayError::EmptyWrite { .. })
    ));
    let twice = transaction(
        "r",
        vec![
            set(1, POSITION, vec![prim("x", Primitive::U32(1))]),
            add(1, POSITION, vec![delta("x", PrimitiveType::U32, "1")]),
        ],
    );
    assert!(matches!(
        submit(&mut overlay, &synced, twice),
        Err(OverlayError::RepeatedWrite { .. })
    ));
    assert!(overlay.is_empty(), "a refused transaction shows nothing");
    submit(&mut overlay, &synced, a_move("m", 1)).unwrap();
    assert!(matches!(
        submit(&mut overlay, &synced, a_move("m", 2)),
        Err(OverlayError::DuplicateTransaction { .. })
    ));
}

#[test]
fn a_transaction_that_sets_everything_another_shows_replaces_it() {
    let mut overlay = Overlay::default();
    let synced = world();
    submit(
        &mut overlay,
        &synced,
        transaction(
            "p1",
            vec![set(1, POSITION, vec![prim("x", Primitive::U32(1))])],
        ),
    )
    .unwrap();
    // m1 sets x (everything p1 shows): p1 is replaced.
    let events = submit(&mut overlay, &synced, a_move("m1", 2)).unwrap();
    assert_eq!(
        events,
        vec![OverlayEvent::Replaced {
            transaction_id: "p1".into(),
            by: "m1".into()
        }]
    );
    // m2 sets x too, but m1 still shows its -1 on Moves: both stay pending and stack.
    let events = submit(&mut overlay, &synced, a_move("m2", 3)).unwrap();
    assert!(events.is_empty(), "{events:?}");
    assert_eq!(shown(&overlay, &synced, (1, POSITION)), Some(position(3)));
    assert_eq!(shown(&overlay, &synced, (1, MOVES)), Some(moves(8)));
    overlay.rollback("m2").unwrap();
    assert_eq!(shown(&overlay, &synced, (1, POSITION)), Some(position(2)));
    assert_eq!(shown(&overlay, &synced, (1, MOVES)), Some(moves(9)));
}

/// The chain as the property test plays it.
#[derive(Debug, Clone)]
enum Step {
    /// Our transaction: per write (entity 1-2, model index, sets `gold`, moves `bal` by -1..-5).
    Submit(Vec<(u128, usize, bool, Option<u8>)>, u64),
    /// Another player's change of a model: `bal` moves by +100.. (never one of our amounts).
    Other(u128, usize, u32, u16),
    /// The oldest pending transaction lands: each of its models changes once.
    Land,
    /// The `n`-th pending transaction is acked or rolled back.
    Ack(usize),
    Rollback(usize),
    /// Time passes; the overlay is polled.
    Advance(u64),
}

const MODELS: [&str; 2] = [POSITION, MOVES];

fn step() -> impl Strategy<Value = Step> {
    let write = (
        1u128..=2,
        0usize..2,
        any::<bool>(),
        prop::option::of(1u8..=5),
    );
    prop_oneof![
        4 => (prop::collection::vec(write, 1..4), 1u64..50).prop_map(|(w, t)| Step::Submit(w, t)),
        3 => (1u128..=2, 0usize..2, 1_000_000u32..1_000_010, 100u16..200).prop_map(|(e, m, g, b)| Step::Other(e, m, g, b)),
        3 => Just(Step::Land),
        1 => (0usize..3).prop_map(Step::Ack),
        1 => (0usize..3).prop_map(Step::Rollback),
        2 => (1u64..30).prop_map(Step::Advance),
    ]
}

/// A write as the reference holds it: ((entity, model index), gold set, amount subtracted from bal).
type RefWrite = ((u128, usize), Option<u32>, Option<u8>);

/// A pending transaction as the reference holds it.
#[derive(Debug, Clone)]
struct RefTx {
    id: String,
    writes: Vec<RefWrite>,
    deadline: u64,
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(1000))]

    /// Whatever interleaving of our transactions, other players' changes, landings, acks,
    /// rollbacks and time: a read shows exactly the latest synced state with every pending
    /// transaction applied (absolute members: the latest pending value; relative: the synced
    /// value plus every pending amount), a landing transaction is confirmed exactly when it
    /// lands, one never landed times out at its deadline, all writes of a transaction leave
    /// together, and with nothing pending reads are the synced state.
    #[test]
    fn transactions_converge_to_overlay_over_latest_synced(steps in prop::collection::vec(step(), 1..50)) {
        let mut overlay = Overlay::new(5, 1_000);
        let mut synced: BTreeMap<(u128, usize), (u32, u128)> = BTreeMap::new();
        for e in 1..=2u128 { for m in 0..2usize { synced.insert((e, m), (0, 10_000)); } }
        let build = |(gold, bal): (u32, u128), m: usize| model(MODELS[m], vec![prim("gold", Primitive::U32(gold)), prim("bal", Primitive::U128(bal))]);
        let mut states: BTreeMap<(u128, usize), Struct> = synced.iter().map(|(k, v)| (*k, build(*v, k.1))).collect();
        let mut pending: Vec<RefTx> = Vec::new();
        let mut now = 0u64;
        let mut next_tx = 0u32;
        for step in steps {
            let mut events: Vec<OverlayEvent> = Vec::new();
            let mut expected: Vec<OverlayEvent> = Vec::new();
            match step {
                Step::Submit(writes, timeout) => {
                    next_tx += 1;
                    let id = format!("t{next_tx}");
                    let mut seen = Vec::new();
                    let mut ref_writes = Vec::new();
                    let mut subs = Vec::new();
                    for (e, m, sets, amount) in writes {
                        if seen.contains(&(e, m)) { continue; }
                        seen.push((e, m));
                        let gold = (sets || amount.is_none()).then_some(next_tx);
                        ref_writes.push(((e, m), gold, amount));
                        subs.push(WriteSubmission {
                            entity_id: Felt::from(e),
                            model: MODELS[m].into(),
                            payload: gold.map(|g| prim("gold", Primitive::U32(g))).into_iter().collect(),
                            deltas: amount.map(|a| delta("bal", PrimitiveType::U128, &format!("-{a}"))).into_iter().collect(),
                            guard: None,
                        });
                    }
                    let states_ref = &states;
                    events = overlay.submit_transaction(
                        TransactionSubmission { transaction_id: id.clone(), writes: subs, timeout_ms: Some(timeout) },
                        |entity, name| (1..=2u128).find(|e| Felt::from(*e) == *entity).and_then(|e| {
                            let m = MODELS.iter().position(|x| *x == name)?;
                            states_ref.get(&(e, m))
                        }),
                        now,
                    ).unwrap();
                    // Replaced: every write of an older transaction sets gold only, on a model this one sets gold on.
                    pending.retain(|old| {
                        let shadowed = old.writes.iter().all(|(k, _, amount)| amount.is_none()
                            && ref_writes.iter().any(|(nk, gold, _)| nk == k && gold.is_some()));
                        if shadowed {
                            expected.push(OverlayEvent::Replaced { transaction_id: old.id.clone(), by: id.clone() });
                        }
                        !shadowed
                    });
                    pending.push(RefTx { id, writes: ref_writes, deadline: now + timeout });
                }
                Step::Other(e, m, gold, more) => {
                    let entry = synced.entry((e, m)).or_default();
                    entry.0 = gold;
                    entry.1 += u128::from(more);
                    states.insert((e, m), build(*entry, m));
                    events = overlay.on_synced_change(&Felt::from(e), MODELS[m], states.get(&(e, m)), now);
                }
                Step::Land => {
                    if !pending.is_empty() {
                        let tx = pending.remove(0);
                        for ((e, m), gold, amount) in &tx.writes {
                            let entry = synced.entry((*e, *m)).or_default();
                            if let Some(g) = gold { entry.0 = *g; }
                            if let Some(a) = amount { entry.1 -= u128::from(*a); }
                            states.insert((*e, *m), build(*entry, *m));
                            events.extend(overlay.on_synced_change(&Felt::from(*e), MODELS[*m], states.get(&(*e, *m)), now));
                        }
                        let first = tx.writes[0].0;
                        expected.push(OverlayEvent::Confirmed { transaction_id: tx.id, entity_id: Felt::from(first.0), model: MODELS[first.1].into() });
                    }
                }
                Step::Ack(n) | Step::Rollback(n) => {
                    let is_ack = matches!(step, Step::Ack(_));
                    if n < pending.len() {
                        let tx = pending.remove(n);
                        if is_ack {
                            prop_assert_eq!(overlay.ack(&tx.id).map(|w| w.len()), Ok(tx.writes.len()));
                        } else {
                            prop_assert_eq!(overlay.rollback(&tx.id), Ok(OverlayEvent::RolledBack { transaction_id: tx.id }));
                        }
                    } else {
                        prop_assert!(overlay.ack("none").is_err());
                    }
                }
                Step::Advance(ms) => {
                    now += ms;
                    let states_ref = &states;
                    events = overlay.poll(now, |entity, name| (1..=2u128).find(|e| Felt::from(*e) == *entity).and_then(|e| {
                        let m = MODELS.iter().position(|x| *x == name)?;
                        states_ref.get(&(e, m))
                    }));
                    pending.retain(|tx| {
                        let late = now >= tx.deadline;
                        if late {
                            expected.push(OverlayEvent::TimedOut(OverlayTimeoutError { transaction_id: tx.id.clone(), entity_id: String::new(), guard_description: String::new() }));
                        }
                        !late
                    });
                }
            }
            // Timeouts are compared by id (their texts are checked in the unit tests).
            let normalise = |events: Vec<OverlayEvent>| -> Vec<OverlayEvent> {
                events.into_iter().map(|e| match e {
                    OverlayEvent::TimedOut(error) => OverlayEvent::TimedOut(OverlayTimeoutError { transaction_id: error.transaction_id, entity_id: String::new(), guard_description: String::new() }),
                    other => other,
                }).collect()
            };
            prop_assert_eq!(normalise(events), expected);
            prop_assert_eq!(overlay.len(), pending.len());
            for ((e, m), (gold, bal)) in &synced {
                let read = overlay.merged(&Felt::from(*e), MODELS[*m], states.get(&(*e, *m))).unwrap();
                let writes = pending.iter().flat_map(|tx| tx.writes.iter()).filter(|(k, _, _)| k == &(*e, *m));
                let want_gold = writes.clone().filter_map(|(_, g, _)| *g).next_back().unwrap_or(*gold);
                let want_bal = bal - writes.filter_map(|(_, _, a)| a.map(u128::from)).sum::<u128>();
                prop_assert_eq!(member_of(&read, "gold"), Some(Primitive::U32(want_gold)), "gold of {:?}", (e, m));
                prop_assert_eq!(member_of(&read, "bal"), Some(Primitive::U128(want_bal)), "bal of {:?}", (e, m));
            }
            let mut listed: Vec<String> = (1..=2u128).flat_map(|e| overlay.entries_for(&Felt::from(e)).map(|w| w.transaction_id.clone()).collect::<Vec<_>>()).collect();
            listed.sort();
            listed.dedup();
            let mut ids: Vec<String> = pending.iter().map(|t| t.id.clone()).collect();
            ids.sort();
            prop_assert_eq!(listed, ids, "every pending transaction shows, and only those");
        }
        for tx in pending {
            overlay.rollback(&tx.id).unwrap();
        }
        for (key, state) in &states {
            prop_assert_eq!(overlay.merged(&Felt::from(key.0), MODELS[key.1], Some(state)), Some(state.clone()));
        }
    }
}
