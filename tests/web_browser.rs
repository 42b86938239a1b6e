//! The web view in a real browser: Debian's Chromium, driven by playwright-core
//! (`tests/browser/desk.mjs`), against the real daemon on a local feed server. The
//! script logs in with the token, filters, clicks through to an event and reads its
//! evidence, watches a new event arrive live, sees the badge when the stream goes down,
//! and takes screenshots (into `TIDINGS_SCREENSHOTS` when set, else a temporary
//! directory).
//!
//! It needs `node`, `/usr/bin/chromium` and `tests/browser/node_modules/playwright-core`
//! (`.ci/run` installs them). Without them the test says so and passes, except under
//! `CI=true`, where it fails.

mod common;
mod web_support;

use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::mpsc;
use std::time::Duration;

use web_support::{Desk, LIVE_TITLE, TOKEN};

const CHROMIUM: &str = "/usr/bin/chromium";

/// What the browser test needs that is missing, if anything.
fn missing_tools(browser_dir: &Path) -> Vec<String> {
    let mut missing = Vec::new();
    if !Command::new("node")
        .arg("--version")
        .output()
        .is_ok_and(|o| o.status.success())
    {
        missing.push("node".to_string());
    }
    if !Path::new(CHROMIUM).exists() {
        missing.push(CHROMIUM.to_string());
    }
    if !browser_dir.join("node_modules/playwright-core").exists() {
        missing.push("tests/browser/node_modules/playwright-core (npm ci in tests/browser)".into());
    }
    missing
}

#[test]
fn a_desk_analyst_filters_reads_evidence_and_watches_events_arrive_in_chromium() {
    let browser_dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/browser");
    let missing = missing_tools(&browser_dir);
    if !missing.is_empty() {
        let message = format!(
            "the browser test needs {} (.ci/run installs them)",
            missing.join(", ")
        );
        if std::env::var("CI").is_ok_and(|v| v == "true") {
            panic!("{message}");
        }
        eprintln!("\n*** SKIPPED the browser test: {message} ***\n");
        return;
    }
    let temp = tempfile::tempdir().unwrap();
    let shots = std::env::var_os("TIDINGS_SCREENSHOTS")
        .map(PathBuf::from)
        .unwrap_or_else(|| temp.path().to_path_buf());
    std::fs::create_dir_all(&shots).unwrap();

    let mut desk = Desk::start();
    let mut node = Command::new("node")
        .arg(browser_dir.join("desk.mjs"))
        .arg(&desk.base)
        .arg(&shots)
        .arg(TOKEN)
        .arg(LIVE_TITLE)
        .current_dir(&browser_dir)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("node starts");
    let mut stdin = node.stdin.take().unwrap();
    let stdout = node.stdout.take().unwrap();
    let stderr = node.stderr.take().unwrap();
    let (tx, rx) = mpsc::channel::<String>();
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines().map_while(Result::ok) {
            if tx.send(line).is_err() {
                break;
            }
        }
    });
    let errors = std::thread::spawn(move || {
        let mut text = String::new();
        for line in BufReader::new(stderr).lines().map_while(Result::ok) {
            text.push_str(&line);
            text.push('\n');
        }
        text
    });

    // Bounded: the script's own waits are 30 to 60 s each.
    let mut output = Vec::new();
    loop {
        let line = match rx.recv_timeout(Duration::from_secs(240)) {
            Ok(line) => line,
            Err(mpsc::RecvTimeoutError::Disconnected) => break,
            Err(mpsc::RecvTimeoutError::Timeout) => {
                let _ = node.kill();
                panic!("the browser script went silent\n{}", output.join("\n"));
            }
        };
        println!("browser: {line}");
        match line.as_str() {
            "WAIT publish" => desk.publish_more_and_poll(),
            "WAIT stop" => desk.stop(),
            _ => {}
        }
        if line.starts_with("WAIT ") {
            writeln!(stdin, "go").unwrap();
            stdin.flush().unwrap();
        }
        output.push(line);
    }
    let status = node.wait().unwrap();
    let errors = errors.join().unwrap();
    let output = output.join("\n");
    assert!(
        status.success(),
        "the browser script failed ({status})\n{output}\n{errors}\ndaemon log:\n{}",
        desk.ws.log()
    );
    for step in [
        "OK the events page asks for the token",
        "OK a hostile title shows as text",
        "OK the filters are in the URL",
        "OK the evidence sentence is highlighted",
        "OK the new event arrived live",
        "OK the open event page says its event changed",
        "OK the table did not move",
        "OK the map draws meetings between capitals",
        "OK the badge shows the stream down",
        "OK no script from the feed ran, no page error",
        "DONE",
    ] {
        assert!(output.contains(step), "missing {step:?}\n{output}");
    }
    for shot in ["events.png", "map.png", "event.png", "timeline.png"] {
        let size = std::fs::metadata(shots.join(shot))
            .map(|m| m.len())
            .unwrap_or(0);
        assert!(size > 10_000, "{shot} was taken ({size} bytes)");
    }
    println!("screenshots in {}", shots.display());
}
