//! `RetrieveEventMessages` with `historical: true`: every event message written, newest first,
//! paged by cursor, while `historical: false` keeps serving the latest per entity.

use dojo_reactive_mock_torii::control::UpdatesRequest;
use dojo_reactive_torii::types;

use crate::common::*;

fn historical(limit: u32, cursor: &str) -> dojo_reactive_torii::world::RetrieveEntitiesRequest {
    let mut request = retrieve(None, limit, cursor);
    if let Some(query) = request.query.as_mut() {
        query.historical = true;
    }
    request
}

async fn all_pages(client: &mut Client, limit: u32) -> Vec<types::Entity> {
    let mut rows = Vec::new();
    let mut cursor = String::new();
    loop {
        let page = client
            .retrieve_event_messages(historical(limit, &cursor))
            .await
            .expect("historical page")
            .into_inner();
        rows.extend(page.entities);
        if page.next_cursor.is_empty() {
            return rows;
        }
        cursor = page.next_cursor;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn historical_retrieves_page_every_event_newest_first() {
    let mock = start(10).await;
    let mut client = client(&mock).await;
    assert_eq!(all_pages(&mut client, 7).await.len(), 20);
    // Twelve more writes of event messages, several to the same entities.
    let written = mock
        .control()
        .apply_updates(&UpdatesRequest {
            count: 12,
            model: Some("arena-Moved".to_owned()),
            entity_ids: Vec::new(),
        })
        .expect("updates");
    assert_eq!(written, 12);
    let rows = all_pages(&mut client, 7).await;
    assert_eq!(rows.len(), 32, "one row per event, however few entities");
    assert!(rows
        .windows(2)
        .all(|w| w[0].executed_at >= w[1].executed_at));
    for row in &rows {
        assert_eq!(row.models.len(), 1);
        assert_eq!(row.models[0].name, "arena-Moved");
        assert_eq!(row.hashed_keys.len(), 32);
    }
    // The latest-per-entity read is unchanged: still one row per event message entity.
    let latest = client
        .retrieve_event_messages(retrieve(None, 100, ""))
        .await
        .expect("latest")
        .into_inner();
    assert_eq!(latest.entities.len(), 20);
    // The newest historical row of an entity is its current state.
    let newest = &rows[0];
    let current = latest
        .entities
        .iter()
        .find(|e| e.hashed_keys == newest.hashed_keys)
        .expect("the entity");
    assert_eq!(current.models, newest.models);
    let status = mock.control().status();
    assert_eq!(status["historicalEvents"], 32);
}
