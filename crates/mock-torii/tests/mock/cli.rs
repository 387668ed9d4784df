//! The binary's contract: the listening line, `--print-manifest`, `--write-manifest`; and the
//! library's shutdown.

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};

use dojo_reactive_mock_torii::{MockConfig, MockTorii};
use serde_json::Value;

use crate::common::*;

const BIN: &str = env!("CARGO_BIN_EXE_mock-torii");

#[test]
fn print_manifest_prints_json_and_exits() {
    let output = Command::new(BIN)
        .args(["--print-manifest", "--seed", "11"])
        .output()
        .expect("runs");
    assert!(output.status.success());
    let manifest: Value = serde_json::from_slice(&output.stdout).expect("JSON on stdout");
    assert_eq!(manifest["world"]["seed"], "arena-11");
    assert_eq!(manifest["models"].as_array().map(Vec::len), Some(3));
}

/// Kills the child process when the test ends, whatever happens.
struct Child(std::process::Child);

impl Drop for Child {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_binary_prints_one_listening_line_and_serves() {
    let manifest_path =
        std::env::temp_dir().join(format!("mock-torii-manifest-{}.json", std::process::id()));
    let mut child = Child(
        Command::new(BIN)
            .args([
                "--port",
                "0",
                "--entities",
                "50",
                "--version",
                "9.9.9 (cli)",
                "--write-manifest",
            ])
            .arg(&manifest_path)
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("spawns"),
    );
    let stdout = child.0.stdout.take().expect("stdout");
    let line = tokio::task::spawn_blocking(move || {
        let mut line = String::new();
        BufReader::new(stdout).read_line(&mut line).map(|_| line)
    });
    let line = tokio::time::timeout(PATIENCE, line)
        .await
        .expect("in time")
        .expect("joined")
        .expect("a line");
    let url = line
        .trim_end()
        .strip_prefix("mock-torii listening on ")
        .unwrap_or_else(|| panic!("unexpected line {line:?}"))
        .to_owned();
    assert!(
        url.starts_with("http://127.0.0.1:") && !url.ends_with(":0"),
        "{url}"
    );
    let manifest: Value =
        serde_json::from_slice(&std::fs::read(&manifest_path).expect("manifest written"))
            .expect("JSON");
    assert_eq!(manifest["world"]["seed"], "arena-7");
    let _ = std::fs::remove_file(&manifest_path);

    let client = hyper_util::client::legacy::Client::builder(hyper_util::rt::TokioExecutor::new())
        .build_http::<http_body_util::Full<bytes::Bytes>>();
    let response = client
        .get(format!("{url}/").parse().expect("uri"))
        .await
        .expect("GET /");
    let body = http_body_util::BodyExt::collect(response.into_body())
        .await
        .expect("body")
        .to_bytes();
    let root: Value = serde_json::from_slice(&body).expect("JSON");
    assert_eq!(root["version"], "9.9.9 (cli)");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn shutdown_stops_serving() {
    let mock = MockTorii::start(MockConfig {
        entities: 5,
        ..MockConfig::default()
    })
    .await
    .expect("starts");
    let addr = mock.addr();
    let mut client = client(&mock).await;
    let (_, mut stream) = subscribe(&mut client, None).await;
    tokio::time::timeout(PATIENCE, mock.shutdown())
        .await
        .expect("shuts down in time");
    assert!(next(&mut stream).await.is_none(), "streams end");
    assert!(
        tokio::net::TcpStream::connect(addr).await.is_err(),
        "the port is closed"
    );
}
