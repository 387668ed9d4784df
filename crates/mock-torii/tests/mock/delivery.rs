//! Delivery faults on the stream: duplicated and reordered messages, carrying the version fields
//! of the write each reports.

use dojo_reactive_mock_torii::UpdatesRequest;
use dojo_reactive_torii::types;
use dojo_reactive_torii::world;
use serde_json::json;
use tonic::Streaming;

use crate::common::*;

/// `count` scripted updates of `arena-Player` of the first player.
fn bump_first_player(mock: &dojo_reactive_mock_torii::RunningMock, count: usize) {
    let player = world_entities(mock)
        .iter()
        .find(|e| e["models"].get("arena-Player").is_some())
        .and_then(|e| e["entityId"].as_str())
        .expect("a player")
        .to_owned();
    mock.control()
        .apply_updates(&UpdatesRequest {
            count,
            model: Some("arena-Player".to_owned()),
            entity_ids: vec![player],
        })
        .expect("updates");
}

/// The next `count` streamed entities.
async fn entities(
    stream: &mut Streaming<world::SubscribeEntityResponse>,
    count: usize,
) -> Vec<types::Entity> {
    let mut out = Vec::with_capacity(count);
    for _ in 0..count {
        let message = next(stream).await.expect("a message");
        out.push(message.entity.expect("an entity"));
    }
    out
}

fn versions(list: &[types::Entity]) -> Vec<u64> {
    list.iter()
        .map(|e| u64_member(e, "last_updated_at"))
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn duplicates_are_sent_at_once_or_late_with_their_old_version() {
    let mock = start(20).await;
    let mut client = client(&mock).await;
    let (_, mut stream) = subscribe(&mut client, None).await;
    let (status, body) = http(&mock, "POST", "/_mock/duplicate", Some(json!({"count": 2}))).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(mock.control().status()["duplicatesPending"], 2);
    bump_first_player(&mock, 3);
    let sent = entities(&mut stream, 5).await;
    let v = versions(&sent);
    assert_eq!(v, vec![v[0], v[0], v[0] + 1, v[0] + 1, v[0] + 2]);
    assert_eq!(sent[0], sent[1], "a copy is the same message");
    assert_quiet(&mut stream).await;
    assert_eq!(mock.control().status()["duplicatesPending"], 0);

    // A late copy comes after two newer updates of the same entity, with its old versions.
    mock.control().duplicate(1, 2);
    bump_first_player(&mock, 4);
    let sent = entities(&mut stream, 5).await;
    let v = versions(&sent);
    assert_eq!(v, vec![v[0], v[0] + 1, v[0] + 2, v[0], v[0] + 3]);
    assert_eq!(sent[3], sent[0], "the late copy is the original message");
    assert!(sent[3].updated_at <= sent[2].updated_at);
    assert_quiet(&mut stream).await;

    // A late copy with nothing after it is sent after the hold (1 s without a new message).
    mock.control().duplicate(1, 50);
    bump_first_player(&mock, 1);
    let sent = entities(&mut stream, 2).await;
    assert_eq!(sent[0], sent[1]);
    assert_quiet(&mut stream).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reordered_windows_are_seeded_shuffles_of_unchanged_messages() {
    let run = |seed: u64| async move {
        let mock = start(20).await;
        let mut client = client(&mock).await;
        let (_, mut stream) = subscribe(&mut client, None).await;
        let (status, body) = http(
            &mock,
            "POST",
            "/_mock/reorder",
            Some(json!({"count": 8, "window": 4, "seed": seed})),
        )
        .await;
        assert_eq!(status, 200, "{body}");
        bump_first_player(&mock, 10);
        let sent = entities(&mut stream, 10).await;
        assert_quiet(&mut stream).await;
        assert_eq!(mock.control().status()["reorderPending"], 0);
        let v = versions(&sent);
        let base = *v.iter().min().expect("versions");
        let relative: Vec<u64> = v.iter().map(|x| x - base).collect();
        for window in [&relative[..4], &relative[4..8]] {
            let mut sorted = window.to_vec();
            sorted.sort_unstable();
            let first = sorted[0];
            assert_eq!(
                sorted,
                (first..first + 4).collect::<Vec<_>>(),
                "{relative:?}"
            );
        }
        assert_eq!(&relative[8..], &[8, 9], "order is kept after the budget");
        // Each message keeps the timestamps of its own write: sorted by version, they never
        // go back.
        let mut by_version: Vec<&types::Entity> = sent.iter().collect();
        by_version.sort_by_key(|e| u64_member(e, "last_updated_at"));
        assert!(by_version
            .windows(2)
            .all(|w| w[0].updated_at <= w[1].updated_at));
        relative
    };
    let a = run(5).await;
    assert_eq!(a, run(5).await, "the same seed gives the same order");
    assert!(
        a.windows(2).any(|w| w[1] < w[0]),
        "an older update arrives after a newer one: {a:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_unfilled_window_is_sent_after_a_hold_and_bad_windows_are_refused() {
    let mock = start(20).await;
    let mut client = client(&mock).await;
    let (_, mut stream) = subscribe(&mut client, None).await;
    mock.control().reorder(100, 50, 1);
    bump_first_player(&mock, 3);
    let mut v = versions(&entities(&mut stream, 3).await);
    v.sort_unstable();
    assert_eq!(v, vec![v[0], v[0] + 1, v[0] + 2]);
    let (status, _) = http(
        &mock,
        "POST",
        "/_mock/reorder",
        Some(json!({"count": 5, "window": 1})),
    )
    .await;
    assert_eq!(status, 400);
    http(&mock, "POST", "/_mock/reset", None).await;
    assert_eq!(mock.control().status()["reorderPending"], 0);
}
