//! The demo: syncs a Torii world (by default the mock started by `.ci/demo`) into memory through
//! our client, in the safe order (subscribe, wait for the handshake, page the snapshot, apply the
//! updates that arrived meanwhile, then stream), printing progress and a summary.
//!
//! `demo --url URL [--page 1000] [--stream-secs 5] [--mock-rate 200]`; `--mock-rate` asks a
//! mock-torii to emit that many updates per second while the demo streams (0 to skip).

#[cfg(not(target_arch = "wasm32"))]
#[tokio::main]
async fn main() {
    if let Err(message) = native::run().await {
        eprintln!("demo: {message}");
        std::process::exit(1);
    }
}

#[cfg(target_arch = "wasm32")]
fn main() {}

#[cfg(not(target_arch = "wasm32"))]
mod native {
    use std::collections::HashMap;
    use std::time::{Duration, Instant};

    use dojo_reactive_core::{Entity, EntityId, Struct};
    use dojo_reactive_torii::{types, EntityKind, ToriiClient, ToriiError};
    use http_body_util::Full;
    use tokio::sync::mpsc;

    /// The synced world: entity id → model tag → state.
    type Store = HashMap<EntityId, HashMap<String, Struct>>;

    struct Args {
        url: String,
        page: u32,
        stream_secs: u64,
        mock_rate: u64,
    }

    fn parse_args() -> Result<Args, String> {
        let args: Vec<String> = std::env::args().skip(1).collect();
        let flag = |name: &str| {
            args.iter()
                .position(|a| a == name)
                .and_then(|i| args.get(i + 1))
                .cloned()
        };
        let number = |name: &str, default: u64| -> Result<u64, String> {
            flag(name).map_or(Ok(default), |v| {
                v.parse().map_err(|_| format!("{name} takes a number"))
            })
        };
        Ok(Args {
            url: flag("--url").unwrap_or_else(|| "http://127.0.0.1:8080".to_owned()),
            page: u32::try_from(number("--page", 1000)?).map_err(|_| "--page is too large")?,
            stream_secs: number("--stream-secs", 5)?,
            mock_rate: number("--mock-rate", 200)?,
        })
    }

    fn apply(store: &mut Store, entity: Entity) -> usize {
        let models = store.entry(entity.id).or_default();
        let mut changed = 0;
        for model in entity.models {
            changed += 1;
            if model.is_deletion() {
                models.remove(model.name.as_str());
            } else {
                models.insert(model.name.to_string(), model);
            }
        }
        changed
    }

    pub async fn run() -> Result<(), String> {
        let args = parse_args()?;
        let fail = |e: ToriiError| e.to_string();
        let client = ToriiClient::new(&args.url).map_err(fail)?;
        let started = Instant::now();
        let version = client.version().await.map_err(fail)?;
        let worlds = client.worlds(&[]).await.map_err(fail)?;
        let model_count: usize = worlds.iter().map(|w| w.models.len()).sum();
        println!(
            "connected to Torii {version} at {} ({} world(s), {model_count} models)",
            args.url,
            worlds.len()
        );

        let mut subscription = client
            .subscribe(EntityKind::Entities, None, &[])
            .await
            .map_err(fail)?;
        println!("subscribed (subscription id {})", subscription.id());
        let (updates_tx, mut updates_rx) = mpsc::unbounded_channel();
        tokio::spawn(async move {
            while let Some(update) = subscription.next().await {
                if updates_tx.send(update).is_err() {
                    break;
                }
            }
        });

        let mut store = Store::new();
        let mut cursor = String::new();
        let mut rejected = 0usize;
        let snapshot_started = Instant::now();
        loop {
            let query = types::Query {
                pagination: Some(types::Pagination {
                    cursor: std::mem::take(&mut cursor),
                    limit: args.page,
                    ..Default::default()
                }),
                ..Default::default()
            };
            let page = client
                .retrieve(EntityKind::Entities, query)
                .await
                .map_err(fail)?;
            rejected += page.rejected.len();
            for entity in page.items {
                apply(&mut store, entity);
            }
            let secs = snapshot_started.elapsed().as_secs_f64();
            println!(
                "snapshot: {:>7} entities ({:>8.0} entities/s)",
                store.len(),
                store.len() as f64 / secs.max(1e-9)
            );
            match page.next_cursor {
                Some(next) => cursor = next,
                None => break,
            }
        }
        let snapshot_secs = snapshot_started.elapsed().as_secs_f64();

        let mut buffered = 0usize;
        while let Ok(update) = updates_rx.try_recv() {
            buffered += apply(&mut store, update.map_err(fail)?);
        }
        println!("applied {buffered} update(s) that arrived during the snapshot");

        if args.mock_rate > 0 {
            set_mock_rate(&args.url, args.mock_rate).await;
        }
        let mut streamed = 0usize;
        let deadline = tokio::time::Instant::now() + Duration::from_secs(args.stream_secs);
        while let Ok(next) = tokio::time::timeout_at(deadline, updates_rx.recv()).await {
            match next {
                Some(update) => streamed += apply(&mut store, update.map_err(fail)?),
                None => {
                    println!("the server ended the stream");
                    break;
                }
            }
        }
        if args.mock_rate > 0 {
            set_mock_rate(&args.url, 0).await;
        }

        let states: usize = store.values().map(HashMap::len).sum();
        println!("--- summary ---");
        println!("entities:        {}", store.len());
        println!("model states:    {states}");
        println!(
            "snapshot:        {snapshot_secs:.2} s ({:.0} entities/s)",
            store.len() as f64 / snapshot_secs.max(1e-9)
        );
        println!(
            "streamed:        {streamed} update(s) in {} s",
            args.stream_secs
        );
        println!("rejected:        {rejected} invalid entit(ies)");
        println!("total time:      {:.2} s", started.elapsed().as_secs_f64());
        Ok(())
    }

    /// Asks a mock-torii to emit updates at `per_sec`; a real Torii has no such route, so a
    /// failure is only reported.
    async fn set_mock_rate(url: &str, per_sec: u64) {
        let client =
            hyper_util::client::legacy::Client::builder(hyper_util::rt::TokioExecutor::new())
                .build_http::<Full<bytes::Bytes>>();
        let request = http::Request::post(format!("{url}/_mock/rate"))
            .header("content-type", "application/json")
            .body(Full::new(bytes::Bytes::from(format!(
                "{{\"perSec\":{per_sec}}}"
            ))));
        let outcome = match request {
            Ok(request) => client
                .request(request)
                .await
                .map(|r| r.status().is_success())
                .unwrap_or(false),
            Err(_) => false,
        };
        if !outcome {
            println!("(could not set the mock's update rate: is this a mock-torii?)");
        } else if per_sec > 0 {
            println!("mock emits {per_sec} updates/s; streaming...");
        }
    }
}
