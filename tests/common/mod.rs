//! Helpers shared by the integration tests: running the real `tidings` binary against a
//! temporary data directory and a config written for the test.

#![allow(dead_code)]

pub mod pg;
pub mod webhook;

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

pub const BIN: &str = env!("CARGO_BIN_EXE_tidings");

/// Runs the binary with `args` (and no `TIDINGS_CONFIG`), `input` on its standard input.
pub fn run_with_stdin(args: &[&str], input: &str) -> Output {
    use std::io::Write;
    let mut child = Command::new(BIN)
        .args(args)
        .env_remove("TIDINGS_CONFIG")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("the tidings binary starts");
    child
        .stdin
        .take()
        .expect("a piped stdin")
        .write_all(input.as_bytes())
        .expect("the binary reads its input");
    child.wait_with_output().expect("the binary ends")
}

/// A temporary workspace: a config file and a data directory.
pub struct Workspace {
    pub dir: tempfile::TempDir,
}

impl Workspace {
    /// A workspace with `config`. Unless the config has an `[api]` table, the daemon's
    /// endpoint goes on an ephemeral loopback port, so tests never collide on 8787.
    pub fn new(config: &str) -> Workspace {
        let dir = tempfile::tempdir().expect("temp dir");
        let ws = Workspace { dir };
        ws.write_config(config);
        ws
    }

    /// Replaces the config file (with the same `[api]` default as [`Workspace::new`]).
    pub fn write_config(&self, config: &str) {
        let mut text = config.to_string();
        if !text.contains("[api]") {
            text.push_str("\n[api]\nlisten = \"127.0.0.1:0\"\n");
        }
        std::fs::write(self.config(), text).expect("write config");
    }

    /// Base URL of the running daemon's endpoint, once it has written its daemon file.
    pub fn api(&self) -> Option<String> {
        let text = std::fs::read_to_string(self.data_dir().join("daemon.json")).ok()?;
        let v: serde_json::Value = serde_json::from_str(&text).ok()?;
        v["api"].as_str().map(str::to_string)
    }

    /// Waits (bounded) for the daemon's endpoint to answer `/readyz`; returns its base URL.
    pub fn wait_ready(&self, within: Duration) -> String {
        let mut base = String::new();
        wait_for(within, "the daemon's endpoint to be ready", || {
            match self.api() {
                Some(b) => {
                    let ok = http_get(&format!("{b}/readyz")).is_some_and(|(s, _)| s == 200);
                    base = b;
                    ok
                }
                None => false,
            }
        });
        base
    }

    pub fn config(&self) -> PathBuf {
        self.dir.path().join("tidings.toml")
    }

    pub fn data_dir(&self) -> PathBuf {
        self.dir.path().join("data")
    }

    pub fn command(&self, args: &[&str]) -> Command {
        let mut cmd = Command::new(BIN);
        cmd.arg("--config")
            .arg(self.config())
            .arg("--data-dir")
            .arg(self.data_dir());
        cmd.args(args);
        cmd.env_remove("TIDINGS_CONFIG")
            .env_remove("TIDINGS_DATA_DIR");
        cmd.env("RUST_LOG", "info");
        cmd
    }

    /// Runs a CLI command to completion.
    pub fn run(&self, args: &[&str]) -> Output {
        self.command(args).output().expect("run tidings")
    }

    /// Runs a CLI command that must succeed, returning its stdout.
    pub fn ok(&self, args: &[&str]) -> String {
        let out = self.run(args);
        assert!(
            out.status.success(),
            "tidings {args:?} failed: {}\n{}",
            out.status,
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8(out.stdout).expect("utf-8 output")
    }

    /// Starts the daemon in the background, logging to a file in the workspace.
    pub fn spawn_daemon(&self, extra: &[&str]) -> Child {
        let log = std::fs::File::create(self.log_path()).expect("log file");
        let mut args = vec!["run"];
        args.extend_from_slice(extra);
        self.command(&args)
            .stdout(Stdio::null())
            .stderr(log)
            .spawn()
            .expect("spawn daemon")
    }

    pub fn log_path(&self) -> PathBuf {
        self.dir.path().join("daemon.log")
    }

    pub fn log(&self) -> String {
        std::fs::read_to_string(self.log_path()).unwrap_or_default()
    }
}

/// A blocking GET on loopback: status and body, or `None` if the server is not there.
pub fn http_get(url: &str) -> Option<(u16, String)> {
    http_request("GET", url, None)
}

/// A blocking HTTP request for talking to the daemon's endpoint from a test's thread
/// (not from inside an async runtime): status and body, or `None` if nothing answered.
pub fn http_request(method: &str, url: &str, bearer: Option<&str>) -> Option<(u16, String)> {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .ok()?;
    runtime.block_on(async {
        let mut request = reqwest::Client::new()
            .request(method.parse().ok()?, url)
            .timeout(Duration::from_secs(10));
        if let Some(token) = bearer {
            request = request.bearer_auth(token);
        }
        let response = request.send().await.ok()?;
        let status = response.status().as_u16();
        Some((status, response.text().await.ok()?))
    })
}

/// Sends `signal` (e.g. "HUP", "KILL") to a process.
pub fn signal(child: &Child, signal: &str) {
    let status = Command::new("kill")
        .arg(format!("-{signal}"))
        .arg(child.id().to_string())
        .status()
        .expect("kill");
    assert!(status.success(), "kill -{signal} failed");
}

/// Sends SIGTERM and waits (bounded) for the process to exit; returns whether it exited
/// successfully.
pub fn terminate(child: &mut Child, within: Duration) -> bool {
    let status = Command::new("kill")
        .arg("-TERM")
        .arg(child.id().to_string())
        .status()
        .expect("kill");
    assert!(status.success(), "kill -TERM failed");
    let deadline = Instant::now() + within;
    loop {
        if let Some(status) = child.try_wait().expect("wait") {
            return status.success();
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            let _ = child.wait();
            panic!("daemon did not exit within {within:?} of SIGTERM");
        }
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// Polls `cond` every 50 ms until it holds or `within` passes.
pub fn wait_for(within: Duration, what: &str, mut cond: impl FnMut() -> bool) {
    let deadline = Instant::now() + within;
    while !cond() {
        assert!(
            Instant::now() < deadline,
            "timed out after {within:?} waiting for {what}"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// The row of feed `id` in `tidings feeds --json` output.
pub fn feed_row(feeds: &serde_json::Value, id: &str) -> serde_json::Value {
    feeds
        .as_array()
        .expect("an array of feeds")
        .iter()
        .find(|f| f["id"] == id)
        .unwrap_or_else(|| panic!("no feed {id} in {feeds}"))
        .clone()
}

/// The shared data folder next to the repository, if present.
pub fn shared_dir() -> Option<PathBuf> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared");
    dir.is_dir().then_some(dir)
}

/// The shared data folder for a test that needs it. When it is missing, the test fails
/// under `CI=true` (CI runs with `../shared` beside the clone); elsewhere it says on
/// stderr that it skipped — written past the test harness's output capture, so the
/// message shows in a passing run — and the caller returns.
pub fn shared_dir_or_skip(test: &str) -> Option<PathBuf> {
    if let Some(dir) = shared_dir() {
        return Some(dir);
    }
    let wanted = Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared");
    if std::env::var("CI").is_ok_and(|v| v == "true" || v == "1") {
        panic!(
            "{test}: {} is missing, and CI=true requires it (CI runs with ../shared present)",
            wanted.display()
        );
    }
    use std::io::Write;
    let _ = writeln!(
        std::io::stderr(),
        "SKIPPED {test}: {} is not present (set up ../shared to run it; under CI=true this fails)",
        wanted.display()
    );
    None
}

/// Whether util-linux `script` (a pseudo-terminal for the terminal half of a test) is
/// here. Missing under `CI=true` fails the test; elsewhere it says the half is skipped.
pub fn have_script() -> bool {
    let here = Command::new("script")
        .arg("--version")
        .output()
        .is_ok_and(|o| o.status.success());
    if !here {
        assert!(
            std::env::var("CI").is_err(),
            "util-linux `script` is needed for the terminal half of this test (.ci/run installs bsdutils)"
        );
        eprintln!("SKIPPED the terminal half: no `script` (util-linux) on this machine");
    }
    here
}

/// One real feed capture of `../shared/feeds/news-snapshots`: when it was taken, its
/// file and the outlet (feed id) it came from.
pub struct Capture {
    pub at: chrono::DateTime<chrono::Utc>,
    pub file: String,
    pub outlet: String,
}

/// The captures listed in the snapshots' `MANIFEST.csv`, in capture order.
pub fn captures(shared: &Path) -> Vec<Capture> {
    let dir = shared.join("feeds/news-snapshots");
    let manifest = std::fs::read_to_string(dir.join("MANIFEST.csv")).expect("MANIFEST.csv");
    let mut list: Vec<(chrono::DateTime<chrono::Utc>, String, String)> = manifest
        .lines()
        .skip(1)
        .filter_map(|l| {
            let c: Vec<&str> = l.split(',').collect();
            let at = chrono::DateTime::parse_from_rfc3339(c.get(4)?)
                .ok()?
                .with_timezone(&chrono::Utc);
            Some((at, c[0].to_string(), c.get(5)?.to_string()))
        })
        .collect();
    list.sort();
    list.into_iter()
        .map(|(at, file, outlet)| Capture { at, file, outlet })
        .collect()
}

/// Each capture's entries as the poll turns them into candidates, one batch per capture,
/// in capture order.
pub fn captured_batches(shared: &Path) -> Vec<Vec<tidings::model::Candidate>> {
    let dir = shared.join("feeds/news-snapshots");
    captures(shared)
        .iter()
        .map(|c| {
            let body = std::fs::read(dir.join(&c.file)).unwrap();
            tidings::parser::parse_feed(&c.outlet, &body, None, c.at)
                .unwrap_or_else(|e| panic!("{}: {e}", c.file))
                .candidates
        })
        .collect()
}
