//! Queries in the view model: a view with an ordered index declared answers every query (ranges,
//! regions, `orderBy` pages with cursors, `count`) exactly as a view without one, before and
//! after DELTAs move, add and delete entities, with optimistic writes pending, and after a
//! restore; and `orderBy` pages continue stably while writes arrive between them.

mod common;

use common::{deletion, delta, entity, manifest, record, u32_member, MODELS};
use dojo_reactive_core::{EntityId, OverlaySubmission, QuerySpec};
use dojo_reactive_view::{Consistency, IndexSpec, ViewModel, ViewOptions};
use serde_json::{json, Value as Json};

const POS: &str = MODELS[0];

fn views() -> (ViewModel, ViewModel) {
    let plain = ViewModel::new(&manifest(), ViewOptions::default());
    let mut indexed = ViewModel::new(&manifest(), ViewOptions::default());
    indexed
        .declare_index(IndexSpec {
            model: POS.into(),
            members: vec!["t".into(), "x".into()],
        })
        .expect("t and x are numbers of the model");
    (plain, indexed)
}

fn spec(json: Json) -> QuerySpec {
    serde_json::from_value(json).expect("a query spec")
}

/// Every page of a query, concatenated.
fn pages(view: &mut ViewModel, query: &Json, consistency: Consistency) -> Vec<EntityId> {
    let mut ids = Vec::new();
    let mut query = query.clone();
    loop {
        let m = view
            .matching(POS, &spec(query.clone()), consistency)
            .expect("the query compiles")
            .expect("the shape is known");
        ids.extend(m.ids);
        match m.next_cursor {
            Some(cursor) => query["cursor"] = json!(cursor),
            None => return ids,
        }
    }
}

fn queries() -> Vec<Json> {
    let range = |op: &str, member: &str, v: u32| json!({ "member": member, "op": op, "value": v });
    let region = json!({ "where": [range("gte", "t", 3), range("lte", "t", 8), range("gt", "x", 4), range("lt", "x", 15)] });
    vec![
        json!({ "filter": region }),
        json!({ "filter": region, "limit": 7 }),
        json!({ "filter": region, "orderBy": [{ "member": "x", "direction": "desc" }], "limit": 5 }),
        json!({ "filter": { "where": [range("eq", "t", 5)] }, "orderBy": [{ "member": "x" }, { "member": "id", "direction": "desc" }], "limit": 2 }),
        json!({ "filter": { "where": [range("lt", "t", 2), { "or": [range("eq", "x", 3), range("gt", "x", 20)] }] } }),
        json!({ "filter": { "where": [range("gt", "t", 15)] }, "limit": 3 }),
        json!({ "filter": { "where": [range("gt", "x", 20)] }, "limit": 4 }),
        json!({ "orderBy": [{ "member": "t" }], "limit": 50 }),
    ]
}

fn agree(plain: &mut ViewModel, indexed: &mut ViewModel, when: &str) {
    for query in queries() {
        for consistency in [Consistency::Overlay, Consistency::Synced] {
            let a = pages(plain, &query, consistency);
            let b = pages(indexed, &query, consistency);
            assert_eq!(a, b, "{when}: {query} ({consistency:?})");
            let mut count = query.clone();
            if let Some(o) = count.as_object_mut() {
                o.remove("limit");
                o.remove("orderBy");
            }
            let counted = indexed
                .count(POS, &spec(count.clone()), consistency)
                .unwrap();
            assert_eq!(counted, a.len(), "{when}: count of {count}");
            assert_eq!(
                plain.count(POS, &spec(count), consistency).unwrap(),
                counted
            );
        }
    }
}

fn both(plain: &mut ViewModel, indexed: &mut ViewModel, bytes: &[u8]) {
    plain.apply_delta(bytes).unwrap();
    indexed.apply_delta(bytes).unwrap();
}

#[test]
fn an_indexed_view_answers_every_query_like_a_scan() {
    let (mut plain, mut indexed) = views();
    let world: Vec<_> = (0..300u32)
        .map(|k| record(k, POS, k % 17, k % 23))
        .collect();
    let bytes = delta(&world, &[]);
    both(&mut plain, &mut indexed, &bytes);
    agree(&mut plain, &mut indexed, "after the first DELTA");
    let count = indexed
        .count(
            POS,
            &spec(json!({ "filter": { "where": [{ "member": "t", "op": "eq", "value": 5 }] } })),
            Consistency::Synced,
        )
        .unwrap();
    assert_eq!(count, (0..300u32).filter(|k| k % 17 == 5).count());

    // Moves into and out of the region, new entities, deletions.
    let moved: Vec<_> = (0..40u32)
        .map(|k| record(k * 7, POS, 20 + k % 3, (k * 5) % 23))
        .chain((300..320u32).map(|k| record(k, POS, 25, k % 23)))
        .collect();
    let gone: Vec<_> = (100..130u32).map(|k| deletion(k, POS)).collect();
    both(&mut plain, &mut indexed, &delta(&moved, &gone));
    agree(&mut plain, &mut indexed, "after moves and deletions");

    // Pending optimistic writes move entities in and out of the region.
    for (view, i) in [(&mut plain, 0), (&mut indexed, 1)] {
        for (n, key) in [3u32, 50, 77, 200].into_iter().enumerate() {
            let x = if n % 2 == 0 { 10 } else { 0 };
            view.submit(
                OverlaySubmission {
                    entity_id: entity(key),
                    model: POS.into(),
                    payload: vec![u32_member("x", false, x), u32_member("t", false, 5)],
                    transaction_id: format!("tx-{i}-{key}"),
                    guard: None,
                    timeout_ms: Some(60_000),
                },
                1,
            )
            .unwrap();
        }
    }
    agree(&mut plain, &mut indexed, "with pending writes");

    // A restore: the index is rebuilt from the restored states.
    let restored: Vec<_> = (400..450u32)
        .map(|k| record(k, POS, k % 17, k % 23))
        .collect();
    plain.restore(delta(&restored, &[])).unwrap();
    indexed.restore(delta(&restored, &[])).unwrap();
    agree(&mut plain, &mut indexed, "after a restore");
}

#[test]
fn ordered_pages_are_stable_while_writes_arrive() {
    let (_, mut view) = views();
    let world: Vec<_> = (0..60u32).map(|k| record(k, POS, 1, k % 10)).collect();
    view.apply_delta(&delta(&world, &[])).unwrap();
    let query = json!({ "filter": { "where": [{ "member": "t", "op": "eq", "value": 1 }] }, "orderBy": [{ "member": "x", "direction": "desc" }], "limit": 8 });
    let expected = pages(&mut view, &query, Consistency::Overlay);
    assert_eq!(expected.len(), 60);
    let mut seen = Vec::new();
    let mut next = query.clone();
    let mut round = 0u32;
    loop {
        let m = view
            .matching(POS, &spec(next.clone()), Consistency::Overlay)
            .unwrap()
            .unwrap();
        seen.extend(m.ids);
        let Some(cursor) = m.next_cursor else { break };
        next["cursor"] = json!(cursor);
        // Between pages: a new entity before the cursor, and a write that moves entity 59 out
        // of the results.
        round += 1;
        view.apply_delta(&delta(
            &[
                record(1000 + round, POS, 1, 9),
                record(59, POS, 1 + round, 9),
            ],
            &[],
        ))
        .unwrap();
    }
    let untouched: Vec<EntityId> = expected
        .into_iter()
        .filter(|id| *id != entity(59))
        .collect();
    let read: Vec<EntityId> = seen
        .iter()
        .copied()
        .filter(|id| untouched.contains(id))
        .collect();
    assert_eq!(read, untouched, "each unchanged entity once, in order");
}

#[test]
fn an_index_on_a_missing_or_unordered_member_or_an_unknown_model_is_refused() {
    let mut view = ViewModel::new(&manifest(), ViewOptions::default());
    let declare = |view: &mut ViewModel, model: &str, members: &[&str]| {
        view.declare_index(IndexSpec {
            model: model.into(),
            members: members.iter().map(|m| (*m).to_owned()).collect(),
        })
        .map_err(|e| e.to_string())
    };
    let missing = declare(&mut view, POS, &["t", "nope"]).expect_err("no such member");
    assert!(missing.contains("nope"), "{missing}");
    let unknown = declare(&mut view, "ns-Nope", &["x"]).expect_err("no such model");
    assert!(unknown.contains("ns-Nope"), "{unknown}");
    for members in [&[][..], &["id", "t", "x"][..]] {
        let count = declare(&mut view, POS, members).expect_err("one or two members");
        assert!(count.contains("one or two members"), "{count}");
    }
    declare(&mut view, POS, &["x"]).expect("x is a number");
}
