//! Syncs a running Torii (or mock-torii) into memory through the real transport and prints
//! every SYNC_TICK and state transition as one JSON line on stdout.
//!
//! `sync [--url URL] [--seconds N] [--page-size N]` (URL defaults to http://127.0.0.1:8080).
//! Entities and event messages are synced by two synchronizers sharing one in-memory store.
//! With `--seconds N` both shut down after N seconds and a summary line is printed; otherwise
//! it runs until interrupted (or until a synchronizer halts).

#[cfg(not(target_arch = "wasm32"))]
#[tokio::main(flavor = "current_thread")]
async fn main() {
    if let Err(message) = native::run().await {
        eprintln!("sync: {message}");
        std::process::exit(1);
    }
}

#[cfg(target_arch = "wasm32")]
fn main() {}

#[cfg(not(target_arch = "wasm32"))]
mod native {
    use std::rc::Rc;
    use std::time::Duration;

    use dojo_reactive_core::sync::testing::MemoryStorage;
    use dojo_reactive_core::sync::{
        SyncErrorEvent, SyncObserver, SyncOptions, SyncSetup, SyncTarget, SyncTick, Synchronizer,
        TargetKind, Transition,
    };
    use dojo_reactive_core::{ManifestFingerprint, SyncConfig};
    use dojo_reactive_torii::sync_transport::TokioClock;
    use dojo_reactive_torii::ToriiClient;
    use serde_json::json;

    /// Prints what a synchronizer reports as JSON lines.
    struct Printer;

    impl SyncObserver for Printer {
        fn transition(&mut self, transition: &Transition) {
            println!(
                "{}",
                json!({ "type": "TRANSITION", "transition": transition })
            );
        }

        fn tick(&mut self, tick: &SyncTick) {
            println!("{}", json!({ "type": "SYNC_TICK", "tick": tick }));
        }

        fn error(&mut self, error: &SyncErrorEvent) {
            println!("{}", json!({ "type": "SYNC_ERROR", "error": error }));
        }
    }

    fn setup(target: SyncTarget, page_size: u32) -> SyncSetup {
        SyncSetup {
            target,
            // The example keeps nothing across runs: any fingerprint will do.
            fingerprint: ManifestFingerprint {
                hash: "manifest-hash:v1:example".to_owned(),
                world_class_hash: format!("0x{}", "0".repeat(64)),
                entries: Vec::new(),
            },
            config: SyncConfig::default(),
            options: SyncOptions {
                page_size,
                ..SyncOptions::default()
            },
        }
    }

    pub async fn run() -> Result<(), String> {
        let args: Vec<String> = std::env::args().skip(1).collect();
        let flag = |name: &str| {
            args.iter()
                .position(|a| a == name)
                .and_then(|i| args.get(i + 1))
                .cloned()
        };
        let url = flag("--url").unwrap_or_else(|| "http://127.0.0.1:8080".to_owned());
        let seconds: Option<u64> = match flag("--seconds") {
            Some(n) => Some(n.parse().map_err(|_| "--seconds takes a number")?),
            None => None,
        };
        let page_size: u32 = match flag("--page-size") {
            Some(n) => n.parse().map_err(|_| "--page-size takes a number")?,
            None => 1_000,
        };
        let client = ToriiClient::new(&url).map_err(|e| e.to_string())?;
        let storage = Rc::new(MemoryStorage::new());
        let mut entities = Synchronizer::new(
            client.clone(),
            Rc::clone(&storage),
            TokioClock,
            setup(SyncTarget::entities(), page_size),
        );
        let mut events = Synchronizer::new(
            client,
            Rc::clone(&storage),
            TokioClock,
            setup(SyncTarget::event_messages(), page_size),
        );
        entities.set_observer(Box::new(Printer));
        events.set_observer(Box::new(Printer));
        let handles = [entities.handle(), events.handle()];
        let stop = async move {
            match seconds {
                Some(seconds) => tokio::time::sleep(Duration::from_secs(seconds)).await,
                // Until the process is interrupted.
                None => std::future::pending::<()>().await,
            }
            for handle in &handles {
                handle.shutdown();
            }
        };
        let (a, b, ()) = tokio::join!(entities.run(), events.run(), stop);
        a.map_err(|e| e.to_string())?;
        b.map_err(|e| e.to_string())?;
        println!(
            "{}",
            json!({
                "type": "SUMMARY",
                "entityModels": storage.model_count(TargetKind::Entities),
                "eventMessageModels": storage.model_count(TargetKind::EventMessages),
            })
        );
        Ok(())
    }
}
