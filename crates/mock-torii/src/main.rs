//! `mock-torii`: serves a deterministic Torii look-alike world on one port (gRPC, gRPC-web,
//! `GET /` and the `/_mock/*` control API). Prints `mock-torii listening on http://HOST:PORT`
//! on stdout once ready.

use std::io::Write;

use clap::Parser;
use dojo_reactive_mock_torii::{MockConfig, MockTorii};

/// A native Torii look-alike server for tests, benchmarks and demos.
#[derive(Debug, Parser)]
#[command(name = "mock-torii", disable_version_flag = true)]
struct Args {
    /// Address to bind.
    #[arg(long, default_value = "127.0.0.1")]
    host: String,
    /// Port to bind (0 picks a free port).
    #[arg(long, default_value_t = 8080)]
    port: u16,
    /// Number of generated entities.
    #[arg(long, default_value_t = 1000)]
    entities: usize,
    /// Number of generated `arena-Moved` event messages.
    #[arg(long, default_value_t = 100)]
    event_messages: usize,
    /// Seed of the generated world.
    #[arg(long, default_value_t = 7)]
    seed: u64,
    /// Version string reported by `GET /`.
    #[arg(long = "version", default_value = "1.8.16 (mock)")]
    torii_version: String,
    /// Messages buffered per subscriber before it is disconnected.
    #[arg(long, default_value_t = 16_384)]
    buffer: usize,
    /// Never gzip responses (gzip requests are still accepted): a debug build streams several
    /// times faster.
    #[arg(long)]
    no_gzip: bool,
    /// Add models, namespaces and members named `__proto__`, `constructor` and `prototype` to the
    /// manifest (no entity holds them until `/_mock/set` writes one).
    #[arg(long)]
    hostile_names: bool,
    /// Add the offchain message model `arena-Message` (keys `identity`, `channel`; member
    /// `text`) that `PublishMessage` accepts.
    #[arg(long)]
    messages: bool,
    /// Token balances in all: GLD holders are added until the world holds this many (the
    /// generated world has a few hundred; fewer adds none).
    #[arg(long, default_value_t = 0)]
    balances: usize,
    /// Write the manifest JSON to this file, then serve.
    #[arg(long, value_name = "PATH")]
    write_manifest: Option<std::path::PathBuf>,
    /// Print the manifest JSON and exit.
    #[arg(long)]
    print_manifest: bool,
}

fn manifest_text(seed: u64, hostile_names: bool, messages: bool) -> String {
    let world = dojo_reactive_mock_torii::world::WorldInfo::new(seed);
    let manifest = dojo_reactive_mock_torii::manifest::manifest(&world, hostile_names, messages);
    serde_json::to_string_pretty(&manifest).unwrap_or_default()
}

async fn terminated() {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{signal, SignalKind};
        match signal(SignalKind::terminate()) {
            Ok(mut term) => {
                tokio::select! {
                    _ = tokio::signal::ctrl_c() => {}
                    _ = term.recv() => {}
                }
            }
            Err(_) => {
                let _ = tokio::signal::ctrl_c().await;
            }
        }
    }
    #[cfg(not(unix))]
    {
        let _ = tokio::signal::ctrl_c().await;
    }
}

#[tokio::main]
async fn main() -> std::process::ExitCode {
    let args = Args::parse();
    if args.print_manifest {
        println!(
            "{}",
            manifest_text(args.seed, args.hostile_names, args.messages)
        );
        return std::process::ExitCode::SUCCESS;
    }
    if let Some(path) = &args.write_manifest {
        if let Err(error) = std::fs::write(
            path,
            manifest_text(args.seed, args.hostile_names, args.messages),
        ) {
            eprintln!("mock-torii: cannot write {}: {error}", path.display());
            return std::process::ExitCode::FAILURE;
        }
    }
    let config = MockConfig {
        host: args.host.clone(),
        port: args.port,
        entities: args.entities,
        event_messages: args.event_messages,
        seed: args.seed,
        version: args.torii_version,
        buffer: args.buffer,
        send_gzip: !args.no_gzip,
        hostile_names: args.hostile_names,
        messages: args.messages,
        balances: args.balances,
    };
    let started = std::time::Instant::now();
    let mock = match MockTorii::start(config).await {
        Ok(mock) => mock,
        Err(error) => {
            eprintln!(
                "mock-torii: cannot start on {}:{}: {error}",
                args.host, args.port
            );
            return std::process::ExitCode::FAILURE;
        }
    };
    eprintln!(
        "mock-torii: {} entities, {} event messages, seed {}, ready in {:.2} s",
        args.entities,
        args.event_messages,
        args.seed,
        started.elapsed().as_secs_f64()
    );
    let mut stdout = std::io::stdout().lock();
    let _ = writeln!(
        stdout,
        "mock-torii listening on http://{}:{}",
        args.host,
        mock.addr().port()
    );
    let _ = stdout.flush();
    drop(stdout);
    terminated().await;
    mock.shutdown().await;
    std::process::ExitCode::SUCCESS
}
