//! Helpers shared by the integration tests: running the real `tidings` binary against a
//! temporary data directory and a config written for the test.

#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

pub const BIN: &str = env!("CARGO_BIN_EXE_tidings");

/// A temporary workspace: a config file and a data directory.
pub struct Workspace {
    pub dir: tempfile::TempDir,
}

impl Workspace {
    pub fn new(config: &str) -> Workspace {
        let dir = tempfile::tempdir().expect("temp dir");
        std::fs::write(dir.path().join("tidings.toml"), config).expect("write config");
        Workspace { dir }
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
