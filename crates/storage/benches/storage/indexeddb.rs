//! The benchmark itself (wasm32 only): persisting and loading 100,000 entities with `Storage`
//! over IndexedDB, the same in memory, and the one-record-per-entity baselines.

use super::conformance::{cursor, fingerprint, player, upserts, TARGET};
use dojo_reactive_core::sync::StoredRecord;
use dojo_reactive_storage::{delete_db, Backend, IndexedDbBackend, MemoryBackend, Storage};
use js_sys::Promise;
use js_sys::Reflect;
use rexie::{ObjectStore, Rexie, TransactionMode};
use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;
use wasm_bindgen_futures::JsFuture;
use wasm_bindgen_test::{console_log, wasm_bindgen_bench, wasm_bindgen_test_configure, Criterion};
use web_sys::{IdbDatabase, IdbFactory, IdbRequest, IdbTransaction};

wasm_bindgen_test_configure!(run_in_dedicated_worker);

const ENTITIES: u64 = 100_000;

fn now() -> f64 {
    let performance =
        Reflect::get(&js_sys::global(), &JsValue::from_str("performance")).expect("performance");
    let now = Reflect::get(&performance, &JsValue::from_str("now")).expect("now");
    let now: js_sys::Function = now.into();
    now.call0(&performance)
        .expect("now()")
        .as_f64()
        .expect("number")
}

fn row(case: &str, entities: u64, ms: f64, extra: &str) -> f64 {
    let rate = entities as f64 / (ms / 1000.0);
    console_log!("| {case} | {entities} | {ms:.0} | {rate:.0} | {extra} |");
    rate
}

/// Reads every loaded state once (each is decoded on its first read) and prints the time.
fn decode_all(models: &[StoredRecord], case: &str, notes: &str) {
    let start = now();
    let decoded = models.iter().filter(|m| m.get().is_some()).count();
    assert_eq!(decoded as u64, ENTITIES);
    row(case, ENTITIES, now() - start, notes);
}

/// Persists `ENTITIES` players in batches of `batch` (one commit each, with ledger entries and
/// the cursor), then loads them back from a fresh connection. Returns (write rate, load ms).
async fn ours(batch: u64) -> (f64, f64) {
    let name = format!(
        "bench-ours-{batch}-{}",
        (js_sys::Math::random() * 1e9) as u64
    );
    let records: Vec<_> = (0..ENTITIES).map(|n| player(n, 100)).collect();
    let storage = Storage::new(IndexedDbBackend::new(&name));
    storage
        .init(&fingerprint("manifest-hash:v1:bench"), "1.0.0")
        .await
        .expect("init");
    let batches: Vec<_> = records
        .chunks(batch as usize)
        .enumerate()
        .map(|(page, chunk)| {
            upserts(
                chunk.to_vec(),
                page as u64 + 1,
                Some(cursor("cursor", page as u64)),
            )
        })
        .collect();
    drop(records);
    let start = now();
    for batch in &batches {
        storage.commit(batch).await.expect("commit");
    }
    let write_ms = now() - start;
    let stats = storage.stats(TARGET).expect("stats");
    storage.close();
    let bytes_per_entity = stats.bytes as f64 / ENTITIES as f64;
    let rate = row(
        &format!("ours: persist, batches of {batch}"),
        ENTITIES,
        write_ms,
        &format!(
            "{} deltas + {} pages, {:.0} B/entity stored (state + ledger entry)",
            stats.deltas, stats.pages, bytes_per_entity
        ),
    );

    let raw = IndexedDbBackend::new(&name);
    raw.open().await.expect("open");
    let start = now();
    let segments = raw.read_segments(TARGET).await.expect("getAll");
    let get_all_ms = now() - start;
    let bytes: usize = segments
        .iter()
        .map(|s| s.value.as_ref().map_or(0, Vec::len))
        .sum();
    row(
        &format!(
            "ours: getAll of the segments only (bytes copied into wasm), after batches of {batch}"
        ),
        ENTITIES,
        get_all_ms,
        &format!("{} records, {:.1} MB", segments.len(), bytes as f64 / 1e6),
    );
    drop(segments);
    raw.close();

    let start = now();
    let again = Storage::new(IndexedDbBackend::new(&name));
    again
        .init(&fingerprint("manifest-hash:v1:bench"), "1.0.0")
        .await
        .expect("init");
    let init_ms = now() - start;
    let loaded = again.load(TARGET).await.expect("load");
    let load_ms = now() - start;
    assert_eq!(loaded.data.models.len() as u64, ENTITIES);
    assert_eq!(loaded.data.ledger.len() as u64, ENTITIES);
    assert!(loaded.skipped.is_empty());
    row(
        &format!("ours: start-up load (open + getAll + heads), after batches of {batch}"),
        ENTITIES,
        load_ms,
        &format!(
            "ledger entries and record heads as core values, states decoded on first read (open + checks {init_ms:.0} ms)"
        ),
    );
    decode_all(
        &loaded.data.models,
        &format!("ours: then reading every state once (decoding it), after batches of {batch}"),
        "what a start-up that decoded everything would add",
    );
    again.close();
    delete_db(&name).await.expect("delete");
    (rate, load_ms)
}

/// The plain way: one IndexedDB record per entity (its JSON, encoded before the clock starts),
/// written through rexie in transactions of `batch` puts, then read back with one `getAll`.
async fn baseline(batch: u64) -> f64 {
    let name = format!("bench-baseline-{}", (js_sys::Math::random() * 1e9) as u64);
    let rows = baseline_rows();
    let json_bytes: usize = rows
        .iter()
        .map(|(v, _)| v.as_string().map_or(0, |s| s.len()))
        .sum();
    let db = Rexie::builder(&name)
        .version(1)
        .add_object_store(ObjectStore::new("entities"))
        .build()
        .await
        .expect("rexie");
    let start = now();
    for chunk in rows.chunks(batch as usize) {
        let tx = db
            .transaction(&["entities"], TransactionMode::ReadWrite)
            .expect("tx");
        let store = tx.store("entities").expect("store");
        store
            .put_all(chunk.iter().map(|(v, k)| (v.clone(), Some(k.clone()))))
            .await
            .expect("put_all");
        tx.done().await.expect("done");
    }
    let write_ms = now() - start;
    let rate = row(
        &format!("baseline: one record per entity (rexie put), transactions of {batch}"),
        ENTITIES,
        write_ms,
        &format!(
            "{:.0} B/entity of JSON",
            json_bytes as f64 / ENTITIES as f64
        ),
    );
    let start = now();
    let tx = db
        .transaction(&["entities"], TransactionMode::ReadOnly)
        .expect("tx");
    let values = tx
        .store("entities")
        .expect("store")
        .get_all(None, None)
        .await
        .expect("getAll");
    let load_ms = now() - start;
    assert_eq!(values.len() as u64, ENTITIES);
    row(
        "baseline: getAll of every record (not decoded)",
        ENTITIES,
        load_ms,
        "JSON strings, no parsing",
    );
    db.close();
    Rexie::delete(&name).await.expect("delete");
    rate
}

/// The same load from the memory backend: what the wasm side alone costs, and decoding every state.
async fn decode_only() {
    let backend = MemoryBackend::new();
    let storage = Storage::new(backend.connect());
    storage
        .init(&fingerprint("manifest-hash:v1:bench"), "1.0.0")
        .await
        .expect("init");
    let records: Vec<_> = (0..ENTITIES).map(|n| player(n, 100)).collect();
    for (page, chunk) in records.chunks(1000).enumerate() {
        let batch = upserts(chunk.to_vec(), page as u64 + 1, None);
        storage.commit(&batch).await.expect("commit");
    }
    drop(records);
    for _ in 0..2 {
        let again = Storage::new(backend.connect());
        again
            .init(&fingerprint("manifest-hash:v1:bench"), "1.0.0")
            .await
            .expect("init");
        let start = now();
        let loaded = again.load(TARGET).await.expect("load");
        let ms = now() - start;
        assert_eq!(loaded.data.models.len() as u64, ENTITIES);
        row(
            "in wasm only: the same load from the memory backend (no IndexedDB)",
            ENTITIES,
            ms,
            "checksum, index, ledger entries and record heads",
        );
        decode_all(
            &loaded.data.models,
            "in wasm only: then decoding every state",
            "states as core values",
        );
    }
}

#[wasm_bindgen]
extern "C" {
    /// An `IDBDatabase`, for `transaction(stores, mode, options)`.
    #[wasm_bindgen(extends = js_sys::Object)]
    type RawDb;

    #[wasm_bindgen(method, catch, js_name = transaction)]
    fn transaction_with_options(
        this: &RawDb,
        stores: &JsValue,
        mode: &str,
        options: &JsValue,
    ) -> Result<IdbTransaction, JsValue>;
}

/// Resolves when the request succeeds.
async fn request_done(request: &IdbRequest) {
    let promise = Promise::new(&mut |resolve, reject| {
        request.set_onsuccess(Some(&resolve));
        request.set_onerror(Some(&reject));
    });
    JsFuture::from(promise).await.expect("request");
}

/// The same baseline written without rexie, with `durability: "relaxed"` like ours: what one
/// record per entity costs at best.
async fn baseline_relaxed(batch: u64) -> f64 {
    let name = format!("bench-raw-{}", (js_sys::Math::random() * 1e9) as u64);
    let rows = baseline_rows();
    let factory: IdbFactory = Reflect::get(&js_sys::global(), &JsValue::from_str("indexedDB"))
        .expect("indexedDB")
        .unchecked_into();
    let open = factory.open_with_u32(&name, 1).expect("open");
    let upgrade = Closure::once_into_js({
        let open = open.clone();
        move |_: JsValue| {
            let db: IdbDatabase = open.result().expect("db").unchecked_into();
            db.create_object_store("entities").expect("store");
        }
    });
    open.set_onupgradeneeded(Some(upgrade.unchecked_ref()));
    request_done(&open).await;
    let db: IdbDatabase = open.result().expect("db").unchecked_into();
    let options = js_sys::Object::new();
    Reflect::set(&options, &"durability".into(), &"relaxed".into()).expect("options");
    let stores = js_sys::Array::of1(&"entities".into());
    let start = now();
    for chunk in rows.chunks(batch as usize) {
        let tx = db
            .unchecked_ref::<RawDb>()
            .transaction_with_options(&stores, "readwrite", &options)
            .expect("tx");
        let store = tx.object_store("entities").expect("store");
        let done = Promise::new(&mut |resolve, reject| {
            tx.set_oncomplete(Some(&resolve));
            tx.set_onabort(Some(&reject));
        });
        for (value, key) in chunk {
            store.put_with_key(value, key).expect("put");
        }
        JsFuture::from(done).await.expect("commit");
    }
    let write_ms = now() - start;
    let rate = row(
        &format!(
            "baseline: one record per entity (raw put, relaxed durability), transactions of {batch}"
        ),
        ENTITIES,
        write_ms,
        "same records as above",
    );
    db.close();
    delete_db(&name).await.expect("delete");
    rate
}

fn baseline_rows() -> Vec<(JsValue, JsValue)> {
    (0..ENTITIES)
        .map(|n| {
            let record = player(n, 100);
            let json = record.state.members_json().to_string();
            (
                JsValue::from_str(&json),
                JsValue::from_str(&record.entity.to_hex()),
            )
        })
        .collect()
}

/// The whole benchmark, printed as a markdown table. It times whole runs of 100,000 entities
/// itself (each run builds a fresh database), so criterion's sampling is not used.
#[wasm_bindgen_bench]
async fn storage_benchmark(_criterion: &mut Criterion) {
    console_log!("| case | entities | ms | entities/s | notes |");
    console_log!("|---|---|---|---|---|");
    // Three runs of the main case (the machine is shared: figures vary run to run).
    let mut runs = Vec::new();
    for _ in 0..3 {
        runs.push(ours(1000).await);
    }
    let median = |mut values: Vec<f64>| {
        values.sort_by(f64::total_cmp);
        values.get(values.len() / 2).copied().unwrap_or(0.0)
    };
    let rate_1000 = median(runs.iter().map(|r| r.0).collect());
    let load_ms = median(runs.iter().map(|r| r.1).collect());
    decode_only().await;
    let (rate_100, _) = ours(100).await;
    let base_1000 = baseline(1000).await;
    let relaxed_1000 = baseline_relaxed(1000).await;
    let best_baseline = base_1000.max(relaxed_1000);
    console_log!("");
    console_log!(
        "ratio to baseline (transactions of 1000): ours {:.1}x rexie, {:.1}x raw relaxed; goals: >= 150000 entities/s ({}), load < 300 ms ({}), >= 10x the faster baseline ({})",
        rate_1000 / base_1000,
        rate_1000 / relaxed_1000,
        if rate_1000 >= 150_000.0 { "met" } else { "NOT met" },
        if load_ms < 300.0 { "met" } else { "NOT met" },
        if rate_1000 / best_baseline >= 10.0 { "met" } else { "NOT met" },
    );
    console_log!(
        "median of 3 runs, batches of 1000: persist {rate_1000:.0} entities/s, start-up load {load_ms:.0} ms"
    );
    console_log!("batches of 100: ours {:.0} entities/s", rate_100);
}
