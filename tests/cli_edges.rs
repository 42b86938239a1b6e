//! The binary's edges, through the real binary: closed pipes on stdout and stderr, error
//! messages a person can act on, a second daemon on a data directory, and log colour.

mod common;

use std::io::{BufRead, BufReader};
use std::process::Stdio;
use std::time::Duration;

use axum::extract::Path;
use axum::http::header;
use axum::response::IntoResponse;
use axum::routing::get;
use axum::Router;

use common::{terminate, Workspace, BIN};

/// How many feeds the local server carries, each with a few stories.
const FEEDS: usize = 12;

async fn feed(Path(name): Path<String>) -> impl IntoResponse {
    let id = name.trim_end_matches(".xml");
    let items: String = (0..3)
        .map(|i| {
            format!(
                "<item><guid>{id}-{i}</guid><link>https://news.example/{id}/{i}</link>\
                 <title>Story {i} of {id}</title><description>Text {i} of feed {id}.</description>\
                 <pubDate>Tue, 21 Feb 2023 09:0{i}:00 GMT</pubDate></item>"
            )
        })
        .collect();
    (
        [(header::CONTENT_TYPE, "application/rss+xml")],
        format!(
            "<?xml version=\"1.0\"?><rss version=\"2.0\"><channel><title>{id}</title>\
             <link>http://127.0.0.1/</link><description>d</description>{items}</channel></rss>"
        ),
    )
}

/// A server on 127.0.0.1 with [`FEEDS`] feeds, and a config that polls them all.
fn served_feeds(runtime: &tokio::runtime::Runtime) -> String {
    let listener = runtime
        .block_on(tokio::net::TcpListener::bind("127.0.0.1:0"))
        .unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let app = Router::new().route("/{name}", get(feed));
    runtime.spawn(async move { axum::serve(listener, app).await.unwrap() });
    let mut config = String::from("[daemon]\nmax_concurrent_fetches = 2\njitter = 0.0\n");
    for i in 0..FEEDS {
        config.push_str(&format!(
            "\n[[feeds]]\nid = \"f{i}\"\nurl = \"{base}/f{i}.xml\"\n"
        ));
    }
    config
}

#[test]
fn a_daemon_whose_stderr_closed_polls_every_feed_and_exits_cleanly() {
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let ws = Workspace::new(&served_feeds(&runtime));
    // `tidings run --once … 2>&1 | head -1`: the reader takes one line and goes away.
    let mut child = ws
        .command(&["run", "--once"])
        .env("RUST_LOG", "debug")
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stderr = BufReader::new(child.stderr.take().unwrap());
    let mut first = String::new();
    stderr.read_line(&mut first).unwrap();
    drop(stderr);
    let status = child.wait().unwrap();
    assert!(
        status.success(),
        "run --once with a closed stderr: {status}"
    );
    let feeds: serde_json::Value = serde_json::from_str(&ws.ok(&["feeds", "--json"])).unwrap();
    for i in 0..FEEDS {
        let row = common::feed_row(&feeds, &format!("f{i}"));
        assert_eq!(row["stories"], 3, "feed f{i} was not polled: {row}");
    }
}

#[test]
fn a_cli_command_piped_into_head_exits_quietly_with_success() {
    // Far more output than a pipe buffers (64 KiB), read one line of.
    let line = r#"{"id":"a","date":"2023-02-21","title":"","text":"Putin met Erdogan in Sochi."}"#;
    let input: String = std::iter::repeat_n(format!("{line}\n"), 20_000).collect();
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("batch.jsonl");
    std::fs::write(&path, input).unwrap();
    let mut child = std::process::Command::new(BIN)
        .args(["detect", "--jsonl"])
        .arg(&path)
        .env_remove("TIDINGS_CONFIG")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stdout = BufReader::new(child.stdout.take().unwrap());
    let mut first = String::new();
    stdout.read_line(&mut first).unwrap();
    assert!(first.starts_with("{\"events\""), "{first}");
    drop(stdout);
    let out = child.wait_with_output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{}: {stderr}", out.status);
    assert!(!stderr.contains("panicked"), "{stderr}");
    assert!(!stderr.contains("error"), "{stderr}");
}

#[test]
fn errors_name_each_cause_once_and_a_file_is_no_data_directory() {
    let ws = Workspace::new("");
    let out = ws
        .command(&["check"])
        .arg("--config")
        .arg(ws.dir.path().join("missing.toml"))
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success());
    assert!(stderr.contains("cannot read config file"), "{stderr}");
    assert_eq!(stderr.matches("os error 2").count(), 1, "{stderr}");

    let file = ws.dir.path().join("not-a-dir");
    std::fs::write(&file, "x").unwrap();
    for command in [&["events"][..], &["stories"], &["feeds"], &["alerts"]] {
        let out = std::process::Command::new(BIN)
            .arg("--config")
            .arg(ws.config())
            .arg("--data-dir")
            .arg(&file)
            .args(command)
            .env_remove("TIDINGS_CONFIG")
            .output()
            .unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(!out.status.success(), "{command:?} succeeded on a file");
        assert!(
            stderr.contains("is not a directory"),
            "{command:?}: {stderr}"
        );
        assert!(out.stdout.is_empty(), "{command:?} printed a table");
    }
}

#[test]
fn a_second_daemon_names_the_running_one_and_logs_carry_no_colour() {
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let ws = Workspace::new(&served_feeds(&runtime));
    let mut first = ws.spawn_daemon(&[]);
    ws.wait_ready(Duration::from_secs(30));
    let info: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(ws.data_dir().join("daemon.json")).unwrap())
            .unwrap();
    let pid = info["pid"].as_u64().unwrap();

    let second = ws.run(&["run"]);
    let stderr = String::from_utf8_lossy(&second.stderr);
    assert!(!second.status.success());
    assert!(
        stderr.contains(&format!("pid {pid}")) && stderr.contains("already running"),
        "{stderr}"
    );
    assert!(terminate(&mut first, Duration::from_secs(20)));
    // The first daemon's log went to a file: no ANSI escapes.
    let log = ws.log();
    assert!(log.contains("INFO"), "{log}");
    assert!(
        !log.contains('\u{1b}'),
        "colour codes in a log file: {log:?}"
    );
}

#[test]
fn every_batch_line_gets_one_output_line_and_errors_name_the_field() {
    let mut input: Vec<u8> = Vec::new();
    input.extend_from_slice(
        br#"{"id":"a","date":"2023-02-22","text":"Putin met Erdogan in Sochi on Monday."}"#,
    );
    input.extend_from_slice(b"\n\xff\xfe not utf-8\n\n");
    input.extend_from_slice(
        br#"{"id":"b","date":null,"text":"US President Joe Biden met Chinese President Xi Jinping in Bali on Monday."}"#,
    );
    input.push(b'\n');
    input.extend_from_slice(br#"{"id":"c","date":"22/02/2023","text":"x"}"#);
    input.push(b'\n');
    input.extend_from_slice(
        br#"{"id":"d","text":"The US president met the Chinese president on Monday."}"#,
    );
    input.push(b'\n');
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("batch.jsonl");
    std::fs::write(&path, &input).unwrap();
    let out = std::process::Command::new(BIN)
        .args(["detect", "--jsonl"])
        .arg(&path)
        .env_remove("TIDINGS_CONFIG")
        .output()
        .unwrap();
    assert!(!out.status.success(), "bad lines make the batch fail");
    let lines: Vec<serde_json::Value> = String::from_utf8(out.stdout)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(lines.len(), 6, "one output line per input line: {lines:?}");
    assert_eq!(lines[0]["id"], "a");
    assert_eq!(
        lines[0]["events"][0]["countries"],
        serde_json::json!(["RUS", "TUR"])
    );
    let error = |i: usize| lines[i]["error"].as_str().unwrap_or_default().to_string();
    assert!(error(1).contains(":2: not UTF-8"), "{}", error(1));
    assert!(error(2).contains(":3: blank line"), "{}", error(2));
    // Undated: read against no date — named officials kept, no day resolved, no
    // "resolved against" in the evidence.
    let b = &lines[3]["events"][0];
    assert_eq!(lines[3]["id"], "b");
    assert_eq!(b["actors"][0]["name"], "Joe Biden");
    assert!(b["date"].is_null(), "{b}");
    assert!(b["evidence"].get("resolved_against").is_none(), "{b}");
    assert_eq!(lines[4]["id"], "c");
    assert!(
        error(4).contains("field `date`") && error(4).contains("22/02/2023"),
        "{}",
        error(4)
    );
    // A role alone names nobody in an undated story.
    let d = &lines[5]["events"][0];
    assert!(d["actors"][0]["name"].is_null(), "{d}");
    assert_eq!(d["countries"], serde_json::json!(["CHN", "USA"]));
}

/// Reads `stderr` lines until one contains `wanted` (bounded by the pipe: the child
/// prints it or ends); returns everything read.
fn read_until(stderr: &mut impl BufRead, wanted: &str) -> String {
    let mut seen = String::new();
    loop {
        let mut line = String::new();
        if stderr.read_line(&mut line).unwrap() == 0 {
            panic!("stderr ended before {wanted:?}: {seen}");
        }
        seen.push_str(&line);
        if line.contains(wanted) {
            return seen;
        }
    }
}

#[test]
fn an_event_stream_ends_at_shutdown_and_follow_says_so_or_waits_with_retry() {
    let runtime = tokio::runtime::Runtime::new().unwrap();
    // A long grace period: an open stream that held the shutdown up would take it all.
    let config = format!(
        "{}\n",
        served_feeds(&runtime).replace("[daemon]\n", "[daemon]\nshutdown_grace = \"60s\"\n")
    );
    let ws = Workspace::new(&config);
    let mut daemon = ws.spawn_daemon(&[]);
    ws.wait_ready(Duration::from_secs(30));

    let follow = |extra: &[&str]| {
        let mut args = vec!["events", "--follow"];
        args.extend_from_slice(extra);
        let mut child = ws
            .command(&args)
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let mut stderr = BufReader::new(child.stderr.take().unwrap());
        read_until(&mut stderr, "following the daemon at");
        (child, stderr)
    };
    let (mut plain, mut plain_err) = follow(&[]);
    let (mut retrying, mut retrying_err) = follow(&["--retry"]);

    // Well within the 60 s grace: the streams end when the daemon stops.
    assert!(terminate(&mut daemon, Duration::from_secs(20)));
    let log = ws.log();
    assert!(!log.contains("grace period"), "{log}");

    read_until(&mut plain_err, "stopped");
    let status = plain.wait().unwrap();
    assert!(
        status.success(),
        "events --follow after the daemon stopped: {status}"
    );

    read_until(&mut retrying_err, "waiting for the daemon");
    // A new daemon on the same data directory: --retry follows it.
    let mut again = ws.spawn_daemon(&[]);
    ws.wait_ready(Duration::from_secs(30));
    read_until(&mut retrying_err, "following the daemon at");
    let _ = retrying.kill();
    let _ = retrying.wait();
    assert!(terminate(&mut again, Duration::from_secs(20)));
}

/// A refused `feeds add` on the embedded default writes no user config that would
/// shadow the default from then on; a successful one writes the default with the change.
#[test]
fn a_refused_feed_edit_leaves_no_copy_of_the_default_behind() {
    let home = tempfile::tempdir().unwrap();
    let data = home.path().join("data");
    let run = |args: &[&str]| {
        std::process::Command::new(BIN)
            .arg("--data-dir")
            .arg(&data)
            .args(args)
            .env_remove("TIDINGS_CONFIG")
            .env("HOME", home.path())
            .env("XDG_CONFIG_HOME", home.path().join(".config"))
            .output()
            .unwrap()
    };
    let user_config = home.path().join(".config/tidings/tidings.toml");
    // "aljazeera" is a feed of the embedded default: the edit is refused.
    let out = run(&[
        "feeds",
        "add",
        "https://example.org/rss",
        "--id",
        "aljazeera",
    ]);
    assert!(!out.status.success());
    assert!(
        !user_config.exists(),
        "a refused edit wrote {}",
        user_config.display()
    );

    let out = run(&[
        "feeds",
        "add",
        "https://example.org/rss",
        "--id",
        "example",
        "--no-check",
    ]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stderr}");
    let written = std::fs::read_to_string(&user_config).unwrap();
    assert!(written.contains("id = \"example\"") && written.contains("id = \"aljazeera\""));
}

/// `eval` (and `train`, `feeds import`) show a progress bar on a terminal, and stay
/// silent when piped. The terminal is a pseudo-terminal from util-linux's `script`.
#[test]
fn progress_shows_on_a_terminal_and_not_in_a_pipe() {
    let fixtures = format!("{}/tests/fixtures/detect", env!("CARGO_MANIFEST_DIR"));
    let articles = format!("{fixtures}/articles.jsonl");
    let labels = format!("{fixtures}/labels.jsonl");
    let piped = std::process::Command::new(BIN)
        .args(["eval", "--articles", &articles, "--labels", &labels])
        .env_remove("TIDINGS_CONFIG")
        .output()
        .unwrap();
    assert!(piped.status.success());
    let stderr = String::from_utf8_lossy(&piped.stderr);
    assert!(
        !stderr.contains("scoring") && !stderr.contains('\r'),
        "{stderr:?}"
    );

    if !common::have_script() {
        return;
    }
    let command = format!("{BIN} eval --articles {articles} --labels {labels}");
    let tty = std::process::Command::new("script")
        .args(["-qec", &command, "/dev/null"])
        .env_remove("TIDINGS_CONFIG")
        .output()
        .unwrap();
    let shown = String::from_utf8_lossy(&tty.stdout);
    assert!(tty.status.success(), "{shown}");
    assert!(
        shown.contains("scoring ["),
        "no progress bar on a terminal: {shown:?}"
    );
}
