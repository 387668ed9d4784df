//! Retrieve: paging, cursors, clauses of every kind, `models` restriction, worlds.

use std::collections::HashSet;

use dojo_reactive_torii::types::{
    self, primitive::PrimitiveType as P, ComparisonOperator as Op, LogicalOperator,
};
use dojo_reactive_torii::world;
use serde_json::Value;

use crate::common::*;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pages_25000_entities_each_once_newest_first() {
    let mock = start(25_000).await;
    let mut client = client(&mock).await;
    let entities = page_all(&mut client, retrieve(None, 1000, "")).await;
    assert_eq!(entities.len(), 25_000);
    let ids: Vec<String> = entities.iter().map(|e| hex(&e.hashed_keys)).collect();
    let unique: HashSet<&String> = ids.iter().collect();
    assert_eq!(unique.len(), 25_000, "each entity exactly once");
    // Nothing was updated, so sequence DESC is the reverse of the creation order.
    let mut created = mock
        .control()
        .entity_ids(dojo_reactive_mock_torii::Kind::Entities);
    created.reverse();
    assert_eq!(ids, created, "sequence DESC order");
    assert!(entities
        .windows(2)
        .all(|w| w[0].executed_at >= w[1].executed_at));
    let ties = entities
        .windows(2)
        .filter(|w| w[0].executed_at == w[1].executed_at)
        .count();
    assert!(ties > 1000, "many writes share a second");
    for entity in entities.iter().take(50) {
        assert_eq!(
            entity.world_address,
            mock.control().world_address().to_vec()
        );
        assert!(entity.created_at > 0 && entity.updated_at >= entity.created_at);
    }

    // limit 0 means 10000 (Position only, to keep the page small).
    let mut request = retrieve(None, 0, "");
    if let Some(q) = request.query.as_mut() {
        q.models = vec!["arena-Position".into()];
    }
    let page = client
        .retrieve_entities(request)
        .await
        .expect("page")
        .into_inner();
    assert_eq!(page.entities.len(), 10_000);
    assert!(!page.next_cursor.is_empty());

    // An updated entity moves to the front.
    let last = created.last().expect("an entity").clone();
    let applied = mock
        .control()
        .apply_updates(&dojo_reactive_mock_torii::UpdatesRequest {
            count: 1,
            model: None,
            entity_ids: vec![last.clone()],
        })
        .expect("update");
    assert_eq!(applied, 1);
    let page = client
        .retrieve_entities(retrieve(None, 1, ""))
        .await
        .expect("page")
        .into_inner();
    assert_eq!(hex(&page.entities[0].hashed_keys), last);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cursors_end_empty_and_bad_cursors_are_invalid() {
    let mock = start(30).await;
    let mut client = client(&mock).await;
    let first = client
        .retrieve_entities(retrieve(None, 20, ""))
        .await
        .expect("page")
        .into_inner();
    assert_eq!(first.entities.len(), 20);
    assert!(!first.next_cursor.is_empty());
    let second = client
        .retrieve_entities(retrieve(None, 20, &first.next_cursor))
        .await
        .expect("page")
        .into_inner();
    assert_eq!(second.entities.len(), 10);
    assert_eq!(second.next_cursor, "", "the last page has no cursor");
    // Exactly full last page: still "" at the end.
    let exact = client
        .retrieve_entities(retrieve(None, 30, ""))
        .await
        .expect("page")
        .into_inner();
    assert_eq!(exact.entities.len(), 30);
    assert_eq!(exact.next_cursor, "");
    for bad in ["garbage", "mt1.", "mt1.zz", "mt1.11111111111111111"] {
        let status = client
            .retrieve_entities(retrieve(None, 5, bad))
            .await
            .expect_err("bad cursor");
        assert_eq!(status.code(), tonic::Code::InvalidArgument, "{bad}");
    }
    // A world filter naming another world gives nothing.
    let mut request = retrieve(None, 5, "");
    if let Some(q) = request.query.as_mut() {
        q.world_addresses = vec![vec![1; 32]];
    }
    let page = client
        .retrieve_entities(request)
        .await
        .expect("page")
        .into_inner();
    assert!(page.entities.is_empty());
    // no_hashed_keys.
    let mut request = retrieve(None, 5, "");
    if let Some(q) = request.query.as_mut() {
        q.no_hashed_keys = true;
    }
    let page = client
        .retrieve_entities(request)
        .await
        .expect("page")
        .into_inner();
    assert!(page.entities.iter().all(|e| e.hashed_keys.is_empty()));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hashed_keys_clause_selects_ids() {
    let mock = start(60).await;
    let mut client = client(&mock).await;
    let all = expected(&mock, |_| true);
    let chosen: Vec<String> = vec![all[3].clone(), all[17].clone(), all[40].clone()];
    let clause = hashed(&chosen.iter().map(|h| unhex(h)).collect::<Vec<_>>());
    let mut want = chosen.clone();
    want.sort();
    assert_eq!(matching(&mut client, clause).await, want);
    // Short (unpadded) bytes name the same felt.
    let short: Vec<u8> = unhex(&chosen[0])
        .into_iter()
        .skip_while(|b| *b == 0)
        .collect();
    assert_eq!(
        matching(&mut client, hashed(&[short])).await,
        vec![chosen[0].clone()]
    );
    // Empty: everything.
    assert_eq!(matching(&mut client, hashed(&[])).await.len(), 60);
}

fn player_of(entity: &Value) -> Option<String> {
    entity["models"]
        .as_object()?
        .values()
        .next()?
        .get("player")?
        .as_str()
        .map(str::to_owned)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn keys_clauses_fixed_variable_wildcards_and_models() {
    let mock = start(80).await;
    let mut client = client(&mock).await;
    let world = world_entities(&mock);
    // A player who owns an inventory.
    let owner = world
        .iter()
        .find_map(|e| {
            e["models"]
                .get("arena-Inventory")
                .map(|inv| inv["player"].as_str().expect("player").to_owned())
        })
        .expect("an inventory");
    let is_inventory = |e: &Value| e["models"].get("arena-Inventory").is_some();

    // FixedLen [owner]: the player entity only.
    let got = matching(&mut client, keys(vec![unhex(&owner)], false, &[])).await;
    let want = expected(&mock, |e| {
        !is_inventory(e) && player_of(e).as_deref() == Some(&owner)
    });
    assert_eq!(want.len(), 1);
    assert_eq!(got, want);

    // VariableLen [owner]: the player and its inventories.
    let got = matching(&mut client, keys(vec![unhex(&owner)], true, &[])).await;
    let want = expected(&mock, |e| player_of(e).as_deref() == Some(&owner));
    assert!(want.len() >= 2);
    assert_eq!(got, want);

    // FixedLen [*, *]: every inventory; FixedLen [*]: every player.
    let got = matching(&mut client, keys(vec![vec![], vec![]], false, &[])).await;
    assert_eq!(got, expected(&mock, |e| is_inventory(e)));
    let got = matching(&mut client, keys(vec![vec![]], false, &[])).await;
    assert_eq!(got, expected(&mock, |e| !is_inventory(e)));

    // VariableLen []: everything.
    assert_eq!(
        matching(&mut client, keys(vec![], true, &[])).await.len(),
        80
    );

    // FixedLen [*, 0]: inventories in slot 0.
    let got = matching(
        &mut client,
        keys(vec![vec![], vec![0]], false, &["arena-Inventory"]),
    )
    .await;
    let want = expected(&mock, |e| {
        e["models"]
            .get("arena-Inventory")
            .is_some_and(|inv| inv["slot"] == 0)
    });
    assert!(!want.is_empty());
    assert_eq!(got, want);

    // Model restriction: the owner's keys, counted for Position only, is the player entity.
    let got = matching(
        &mut client,
        keys(vec![unhex(&owner)], true, &["arena-Position"]),
    )
    .await;
    let want = expected(&mock, |e| {
        !is_inventory(e) && player_of(e).as_deref() == Some(&owner)
    });
    assert_eq!(got, want);
    let got = matching(
        &mut client,
        keys(vec![unhex(&owner)], true, &["arena-Inventory"]),
    )
    .await;
    let want = expected(&mock, |e| {
        is_inventory(e) && player_of(e).as_deref() == Some(&owner)
    });
    assert_eq!(got, want);
}

fn player_field<'a>(e: &'a Value, name: &str) -> Option<&'a Value> {
    e["models"].get("arena-Player").and_then(|p| p.get(name))
}

fn num(e: &Value, name: &str) -> Option<i128> {
    match player_field(e, name)? {
        Value::Number(n) => n.as_i64().map(i128::from),
        Value::String(s) => s.parse().ok(),
        _ => None,
    }
}

/// Compares decimal strings of non-negative integers numerically.
fn dec_cmp(a: &str, b: &str) -> std::cmp::Ordering {
    a.len().cmp(&b.len()).then_with(|| a.cmp(b))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn member_clauses_every_operator_by_numeric_value() {
    let mock = start(200).await;
    let mut client = client(&mock).await;
    let hp = |e: &Value| num(e, "hp");
    type Case = (Op, types::MemberValue, Box<dyn Fn(i128) -> bool>);
    let cases: Vec<Case> = vec![
        (Op::Eq, prim(P::U32(500)), Box::new(|v| v == 500)),
        (Op::Neq, prim(P::U32(500)), Box::new(|v| v != 500)),
        (Op::Gt, prim(P::U32(500)), Box::new(|v| v > 500)),
        (Op::Gte, prim(P::U32(500)), Box::new(|v| v >= 500)),
        (Op::Lt, prim(P::U32(500)), Box::new(|v| v < 500)),
        (Op::Lte, prim(P::U32(500)), Box::new(|v| v <= 500)),
        // Other primitive types and strings carry the same numeric value.
        (Op::Gt, prim(P::U64(700)), Box::new(|v| v > 700)),
        (Op::Lt, string("0x64"), Box::new(|v| v < 100)),
    ];
    for (op, value, pred) in cases {
        let got = matching(&mut client, member("arena-Player", "hp", op, value)).await;
        let want = expected(&mock, |e| hp(e).is_some_and(&pred));
        assert!(!want.is_empty() || op == Op::Eq, "{op:?} selects something");
        assert_eq!(got, want, "hp {op:?}");
    }
    // IN / NOT_IN with a list; exact values taken from the world.
    let world = world_entities(&mock);
    let some: Vec<i128> = world.iter().filter_map(hp).take(3).collect();
    let values = list(some.iter().map(|v| prim(P::U32(*v as u32))).collect());
    let got = matching(
        &mut client,
        member("arena-Player", "hp", Op::In, values.clone()),
    )
    .await;
    assert_eq!(
        got,
        expected(&mock, |e| hp(e).is_some_and(|v| some.contains(&v)))
    );
    let got = matching(&mut client, member("arena-Player", "hp", Op::NotIn, values)).await;
    assert_eq!(
        got,
        expected(&mock, |e| hp(e).is_some_and(|v| !some.contains(&v)))
    );

    // u128 (16 big-endian bytes) above 2^127.
    let half = 1u128 << 127;
    let got = matching(
        &mut client,
        member(
            "arena-Player",
            "mana",
            Op::Gt,
            prim(P::U128(half.to_be_bytes().to_vec())),
        ),
    )
    .await;
    let want = expected(&mock, |e| {
        player_field(e, "mana")
            .and_then(Value::as_str)
            .and_then(|s| s.parse::<u128>().ok())
            .is_some_and(|v| v > half)
    });
    assert!(!want.is_empty());
    assert_eq!(got, want);

    // u256 (32 bytes) compared numerically, and by a decimal string.
    let mut pivot = [0u8; 32];
    pivot[16] = 1; // 2^120
    let pivot_dec = "1329227995784915872903807060280344576";
    let got = matching(
        &mut client,
        member(
            "arena-Player",
            "score",
            Op::Gte,
            prim(P::U256(pivot.to_vec())),
        ),
    )
    .await;
    let want = expected(&mock, |e| {
        player_field(e, "score")
            .and_then(Value::as_str)
            .is_some_and(|s| dec_cmp(s, pivot_dec).is_ge())
    });
    assert!(!want.is_empty());
    assert_eq!(got, want);
    assert_eq!(
        matching(
            &mut client,
            member("arena-Player", "score", Op::Gte, string(pivot_dec))
        )
        .await,
        want
    );

    // Negative i128 (two's complement bytes).
    let minus = (-1_000i128).to_be_bytes().to_vec();
    let got = matching(
        &mut client,
        member("arena-Player", "debt", Op::Lt, prim(P::I128(minus))),
    )
    .await;
    let want = expected(&mock, |e| num(e, "debt").is_some_and(|v| v < -1000));
    assert!(!want.is_empty());
    assert_eq!(got, want);
    let got = matching(
        &mut client,
        member("arena-Player", "debt", Op::Gte, string("-1000")),
    )
    .await;
    assert_eq!(
        got,
        expected(&mock, |e| num(e, "debt").is_some_and(|v| v >= -1000))
    );

    // i8, i64, u64 above 2^53, bool.
    let got = matching(
        &mut client,
        member("arena-Player", "mood", Op::Lt, prim(P::I8(-10))),
    )
    .await;
    assert_eq!(
        got,
        expected(&mock, |e| num(e, "mood").is_some_and(|v| v < -10))
    );
    let got = matching(
        &mut client,
        member("arena-Player", "balance", Op::Gt, prim(P::I64(0))),
    )
    .await;
    assert_eq!(
        got,
        expected(&mock, |e| num(e, "balance").is_some_and(|v| v > 0))
    );
    let big = 1u64 << 60;
    let got = matching(
        &mut client,
        member("arena-Player", "gold", Op::Gt, prim(P::U64(big))),
    )
    .await;
    let want = expected(&mock, |e| {
        num(e, "gold").is_some_and(|v| v > i128::from(big))
    });
    assert!(!want.is_empty());
    assert_eq!(got, want);
    let got = matching(
        &mut client,
        member("arena-Player", "alive", Op::Eq, prim(P::Bool(false))),
    )
    .await;
    assert_eq!(
        got,
        expected(&mock, |e| player_field(e, "alive")
            == Some(&Value::Bool(false)))
    );

    // ByteArray by string, enum by variant name, felt, nested member, EthAddress.
    let name = player_field(&world[5], "name")
        .and_then(Value::as_str)
        .expect("a name")
        .to_owned();
    let got = matching(
        &mut client,
        member("arena-Player", "name", Op::Eq, string(&name)),
    )
    .await;
    assert_eq!(
        got,
        expected(&mock, |e| player_field(e, "name").and_then(Value::as_str)
            == Some(name.as_str()))
    );
    let got = matching(
        &mut client,
        member("arena-Player", "class", Op::Eq, string("Rogue")),
    )
    .await;
    let want = expected(&mock, |e| {
        player_field(e, "class").is_some_and(|c| c["variant"] == "Rogue")
    });
    assert!(!want.is_empty());
    assert_eq!(got, want);
    let got = matching(
        &mut client,
        member(
            "arena-Player",
            "class",
            Op::In,
            list(vec![string("Mage"), string("Rogue")]),
        ),
    )
    .await;
    assert_eq!(
        got,
        expected(&mock, |e| player_field(e, "class")
            .is_some_and(|c| c["variant"] != "Warrior"))
    );
    let got = matching(
        &mut client,
        member("arena-Player", "class", Op::Neq, string("Mage")),
    )
    .await;
    assert_eq!(
        got,
        expected(&mock, |e| player_field(e, "class")
            .is_some_and(|c| c["variant"] != "Mage"))
    );
    let guild = player_field(&world[0], "guild")
        .and_then(Value::as_str)
        .expect("guild")
        .to_owned();
    let got = matching(
        &mut client,
        member(
            "arena-Player",
            "guild",
            Op::Eq,
            prim(P::Felt252(unhex(&guild))),
        ),
    )
    .await;
    assert_eq!(
        got,
        expected(&mock, |e| player_field(e, "guild").and_then(Value::as_str)
            == Some(guild.as_str()))
    );
    let got = matching(
        &mut client,
        member("arena-Position", "vec.x", Op::Lt, prim(P::U32(300))),
    )
    .await;
    let want = expected(&mock, |e| {
        e["models"]
            .get("arena-Position")
            .and_then(|p| p["vec"]["x"].as_u64())
            .is_some_and(|x| x < 300)
    });
    assert!(!want.is_empty());
    assert_eq!(got, want);
    let wallet = player_field(&world[0], "wallet")
        .and_then(Value::as_str)
        .expect("wallet")
        .to_owned();
    let got = matching(
        &mut client,
        member(
            "arena-Player",
            "wallet",
            Op::Eq,
            prim(P::EthAddress(unhex(&wallet))),
        ),
    )
    .await;
    assert_eq!(
        got,
        vec![world[0]["entityId"].as_str().expect("id").to_owned()]
    );

    // Arrays: CONTAINS and ARRAY_LENGTH; tuple element by index.
    let inventory = world.iter().find(|e| {
        e["models"]
            .get("arena-Inventory")
            .is_some_and(|i| i["items"].as_array().is_some_and(|a| !a.is_empty()))
    });
    let item = inventory.expect("an inventory with items")["models"]["arena-Inventory"]["items"][0]
        .as_u64()
        .expect("u32");
    let got = matching(
        &mut client,
        member(
            "arena-Inventory",
            "items",
            Op::Contains,
            prim(P::U32(item as u32)),
        ),
    )
    .await;
    let want = expected(&mock, |e| {
        e["models"].get("arena-Inventory").is_some_and(|i| {
            i["items"]
                .as_array()
                .is_some_and(|a| a.contains(&Value::from(item)))
        })
    });
    assert_eq!(got, want);
    let got = matching(
        &mut client,
        member(
            "arena-Inventory",
            "items",
            Op::ArrayLengthGt,
            prim(P::U32(2)),
        ),
    )
    .await;
    let want = expected(&mock, |e| {
        e["models"]
            .get("arena-Inventory")
            .is_some_and(|i| i["items"].as_array().is_some_and(|a| a.len() > 2))
    });
    assert_eq!(got, want);
    let got = matching(
        &mut client,
        member("arena-Inventory", "flags.1", Op::Lt, prim(P::I8(0))),
    )
    .await;
    let want = expected(&mock, |e| {
        e["models"]
            .get("arena-Inventory")
            .is_some_and(|i| i["flags"][1].as_i64().is_some_and(|v| v < 0))
    });
    assert_eq!(got, want);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_member_clauses_are_invalid_arguments() {
    let mock = start(10).await;
    let mut client = client(&mock).await;
    let bad = vec![
        member("arena-Player", "hp", Op::Contains, prim(P::U32(1))),
        member("arena-Player", "class", Op::Gt, string("Mage")),
        member("arena-Player", "hp", Op::Eq, list(vec![prim(P::U32(1))])),
        member("arena-Player", "hp", Op::In, prim(P::U32(1))),
        member("arena-Player", "name", Op::Eq, prim(P::U32(1))),
        member("arena-Player", "hp", Op::Eq, string("not a number")),
        member("arena-Nope", "hp", Op::Eq, prim(P::U32(1))),
        member("arena-Player", "nope", Op::Eq, prim(P::U32(1))),
        member("arena-Position", "vec", Op::Eq, prim(P::U32(1))),
        member("arena-Inventory", "items", Op::Gt, prim(P::U32(1))),
        clause(types::clause::ClauseType::Member(types::MemberClause {
            model: "arena-Player".into(),
            member: "hp".into(),
            operator: 99,
            value: Some(prim(P::U32(1))),
        })),
        composite(
            LogicalOperator::And,
            vec![member("arena-Player", "nope", Op::Eq, prim(P::U32(1)))],
        ),
        hashed(&[vec![1; 33]]),
    ];
    for clause in bad {
        let status = client
            .retrieve_entities(retrieve(Some(clause.clone()), 10, ""))
            .await
            .expect_err("invalid clause");
        assert_eq!(status.code(), tonic::Code::InvalidArgument, "{clause:?}");
        let status = client
            .subscribe_entities(world::SubscribeEntitiesRequest {
                clause: Some(clause.clone()),
                world_addresses: vec![],
            })
            .await
            .expect_err("invalid clause");
        assert_eq!(status.code(), tonic::Code::InvalidArgument, "{clause:?}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn composite_clauses_nest_and_or() {
    let mock = start(200).await;
    let mut client = client(&mock).await;
    let clause = composite(
        LogicalOperator::And,
        vec![
            member("arena-Player", "hp", Op::Gt, prim(P::U32(300))),
            composite(
                LogicalOperator::Or,
                vec![
                    member("arena-Player", "class", Op::Eq, string("Rogue")),
                    member("arena-Position", "vec.x", Op::Lt, prim(P::U32(400))),
                ],
            ),
        ],
    );
    let got = matching(&mut client, clause).await;
    let want = expected(&mock, |e| {
        let hp_ok = num(e, "hp").is_some_and(|v| v > 300);
        let rogue = player_field(e, "class").is_some_and(|c| c["variant"] == "Rogue");
        let west = e["models"]
            .get("arena-Position")
            .and_then(|p| p["vec"]["x"].as_u64())
            .is_some_and(|x| x < 400);
        hp_ok && (rogue || west)
    });
    assert!(!want.is_empty());
    assert_eq!(got, want);
    // OR of keys and hashed keys.
    let all = expected(&mock, |_| true);
    let clause = composite(
        LogicalOperator::Or,
        vec![
            hashed(&[unhex(&all[0])]),
            keys(vec![vec![], vec![]], false, &[]),
        ],
    );
    let got = matching(&mut client, clause).await;
    let want = expected(&mock, |e| {
        e["entityId"] == all[0].as_str() || e["models"].get("arena-Inventory").is_some()
    });
    assert_eq!(got, want);
    // Empty composite: everything.
    assert_eq!(
        matching(&mut client, composite(LogicalOperator::Or, vec![]))
            .await
            .len(),
        200
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn models_restriction_keeps_and_returns_only_those_models() {
    let mock = start(40).await;
    let mut client = client(&mock).await;
    let mut request = retrieve(None, 100, "");
    if let Some(q) = request.query.as_mut() {
        q.models = vec!["arena-Position".into()];
    }
    let page = client
        .retrieve_entities(request)
        .await
        .expect("page")
        .into_inner();
    let want = expected(&mock, |e| e["models"].get("arena-Position").is_some());
    let mut got: Vec<String> = page.entities.iter().map(|e| hex(&e.hashed_keys)).collect();
    got.sort();
    assert_eq!(got, want);
    for entity in &page.entities {
        assert_eq!(entity.models.len(), 1);
        assert_eq!(entity.models[0].name, "arena-Position");
    }
    // Without restriction player entities carry both models, inventories one.
    let page = client
        .retrieve_entities(retrieve(None, 100, ""))
        .await
        .expect("page")
        .into_inner();
    for entity in &page.entities {
        let names: Vec<&str> = entity.models.iter().map(|m| m.name.as_str()).collect();
        assert!(
            names == ["arena-Player", "arena-Position"] || names == ["arena-Inventory"],
            "{names:?}"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn event_messages_and_worlds() {
    let mock = start(20).await;
    let mut client = client(&mock).await;
    let page = client
        .retrieve_event_messages(retrieve(None, 100, ""))
        .await
        .expect("events")
        .into_inner();
    assert_eq!(page.entities.len(), 20);
    for entity in &page.entities {
        assert_eq!(entity.models.len(), 1);
        assert_eq!(entity.models[0].name, "arena-Moved");
    }
    let worlds = client
        .worlds(world::WorldsRequest {
            world_addresses: vec![],
        })
        .await
        .expect("worlds")
        .into_inner()
        .worlds;
    assert_eq!(worlds.len(), 1);
    let names: Vec<String> = worlds[0]
        .models
        .iter()
        .map(|m| format!("{}-{}", m.namespace, m.name))
        .collect();
    assert_eq!(
        names,
        [
            "arena-Player",
            "arena-Position",
            "arena-Inventory",
            "arena-Moved"
        ]
    );
    for model in &worlds[0].models {
        let schema: Value = serde_json::from_slice(&model.schema).expect("schema JSON");
        assert_eq!(schema["type"], "struct");
        assert_eq!(model.selector.len(), 32);
        assert_eq!(model.world_address, mock.control().world_address().to_vec());
    }
    let player: Value = serde_json::from_slice(&worlds[0].models[0].schema).expect("schema");
    let class = &player["content"]["children"][2];
    assert_eq!(class["name"], "class");
    assert_eq!(class["member_type"]["type"], "enum");
    assert_eq!(
        class["member_type"]["content"]["options"][2]["name"],
        "Rogue"
    );
    let other = client
        .worlds(world::WorldsRequest {
            world_addresses: vec![vec![9; 32]],
        })
        .await
        .expect("worlds")
        .into_inner()
        .worlds;
    assert!(other.is_empty());
}

/// A game deploy scripted at run time (`POST /_mock/manifest`): the upgraded model's class hash
/// changes in the manifest and in `Worlds` alike, the others' stay; an unknown model is a 404.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_upgraded_model_changes_its_class_hash_in_the_manifest_and_in_worlds() {
    let mock = start(5).await;
    let mut client = client(&mock).await;
    let class_hashes = |manifest: &Value| -> Vec<String> {
        manifest["models"]
            .as_array()
            .expect("models")
            .iter()
            .map(|m| m["class_hash"].as_str().expect("class hash").to_owned())
            .collect()
    };
    let before = class_hashes(&mock.control().manifest());
    let after = class_hashes(
        &mock
            .control()
            .upgrade_model("arena-Position")
            .expect("a known model"),
    );
    assert_eq!(after[0], before[0]);
    assert_ne!(after[1], before[1]);
    assert_eq!(after[2], before[2]);
    let worlds = client
        .worlds(world::WorldsRequest {
            world_addresses: vec![],
        })
        .await
        .expect("worlds")
        .into_inner()
        .worlds;
    let listed: Vec<String> = worlds[0]
        .models
        .iter()
        .take(3)
        .map(|m| {
            let bytes: [u8; 32] = m.class_hash.as_slice().try_into().expect("32 bytes");
            dojo_reactive_mock_torii::felt::hex64(&bytes)
        })
        .collect();
    assert_eq!(listed, after);
    assert!(mock.control().upgrade_model("arena-Nope").is_err());
}
