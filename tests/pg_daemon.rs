//! The real binary on a PostgreSQL store (`[store] backend = "postgres"`, the database
//! from `TIDINGS_TEST_DATABASE_URL`, which `.ci/run` sets): a poll stores its stories
//! and events in the database, the CLI reads them there with no daemon running and no
//! local store, `events --follow` hears what any daemon writes, and what only sled
//! offers says so.

mod common;

use std::time::Duration;

use axum::http::header;
use axum::routing::get;
use axum::Router;
use common::pg::database_or_skip;
use common::Workspace;
use serde_json::Value;

const FEED: &str = r#"<?xml version="1.0"?>
<rss version="2.0"><channel><title>Wire</title><link>https://wire.example/</link><description>d</description>
<item><title>Ministers meet in Madrid</title><link>https://wire.example/1</link><guid>w-1</guid>
<pubDate>Tue, 01 Dec 2026 12:00:00 GMT</pubDate>
<description>The foreign ministers of Spain and Portugal met in Madrid on Tuesday to discuss trade and security.</description></item>
<item><title>Markets steady</title><link>https://wire.example/2</link><guid>w-2</guid>
<pubDate>Tue, 01 Dec 2026 13:00:00 GMT</pubDate>
<description>Stocks closed little changed on Tuesday as traders waited for new figures.</description></item>
</channel></rss>"#;

/// Serves [`FEED`] on 127.0.0.1 from `runtime`; a workspace whose config polls it and
/// keeps its store in PostgreSQL, the URL in `db.url` (written by the caller).
fn workspace_on_postgres(runtime: &tokio::runtime::Runtime) -> Workspace {
    let listener = runtime
        .block_on(tokio::net::TcpListener::bind("127.0.0.1:0"))
        .unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let app = Router::new().route(
        "/feed.xml",
        get(|| async { ([(header::CONTENT_TYPE, "application/rss+xml")], FEED) }),
    );
    runtime.spawn(async move { axum::serve(listener, app).await.unwrap() });
    Workspace::new(&format!(
        "[store]\nbackend = \"postgres\"\nurl_file = \"db.url\"\n\n\
         [daemon]\njitter = 0.0\n\n[[feeds]]\nid = \"wire\"\nurl = \"{base}/feed.xml\"\n"
    ))
}

#[test]
fn a_poll_stores_in_postgres_and_the_cli_reads_it_there() {
    let Some(db) = database_or_skip("pg_daemon_poll") else {
        return;
    };
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let ws = workspace_on_postgres(&runtime);
    std::fs::write(ws.dir.path().join("db.url"), format!("{}\n", db.url)).unwrap();

    let out = ws.run(&["run", "--once"]);
    assert!(
        out.status.success(),
        "run --once: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        !ws.data_dir().join("store").exists(),
        "no sled store is made beside a PostgreSQL one"
    );
    let stories: Value = serde_json::from_str(&ws.ok(&["stories", "--json"])).unwrap();
    let titles: Vec<&str> = stories
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["title"].as_str().unwrap())
        .collect();
    assert_eq!(titles, ["Markets steady", "Ministers meet in Madrid"]);
    let events: Value = serde_json::from_str(&ws.ok(&["events", "--json"])).unwrap();
    let events = events.as_array().unwrap();
    assert_eq!(events.len(), 1, "{events:?}");
    assert_eq!(events[0]["type"], "bilateral_meeting");
    assert_eq!(events[0]["countries"], serde_json::json!(["ESP", "PRT"]));
    let feeds: Value = serde_json::from_str(&ws.ok(&["feeds", "--json"])).unwrap();
    assert_eq!(common::feed_row(&feeds, "wire")["stories"], 2);

    // A second poll of the same feed finds nothing new.
    assert!(ws.run(&["run", "--once"]).status.success());
    let again: Value = serde_json::from_str(&ws.ok(&["stories", "--json"])).unwrap();
    assert_eq!(again.as_array().unwrap().len(), 2);

    // The store's maintenance reads the database too; sled's compaction says it is not
    // PostgreSQL's way.
    assert!(ws.ok(&["store", "stats", "--json"]).contains("\"tables\""));
    let compact = ws.run(&["store", "compact"]);
    assert!(!compact.status.success());
    let message = String::from_utf8_lossy(&compact.stderr);
    assert!(message.contains("VACUUM"), "{message}");
}

#[test]
fn an_unreadable_database_url_is_named_before_anything_runs() {
    let ws = Workspace::new(
        "[store]\nbackend = \"postgres\"\nurl_file = \"missing.url\"\n\n[[feeds]]\nid = \"wire\"\nurl = \"http://127.0.0.1:9/feed.xml\"\n",
    );
    let out = ws.run(&["stories"]);
    assert!(!out.status.success());
    let message = String::from_utf8_lossy(&out.stderr);
    assert!(
        message.contains("store") && message.contains("missing.url"),
        "{message}"
    );
}

#[test]
fn the_compose_deployment_config_is_valid_and_names_its_database_url() {
    let config =
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("deploy/compose/tidings.toml");
    let out = common::run_with_stdin(&["check", "--config", config.to_str().unwrap()], "");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let said = String::from_utf8_lossy(&out.stdout);
    assert!(
        said.contains("store: PostgreSQL, its URL from /run/secrets/database_url"),
        "{said}"
    );
}

#[test]
fn events_follow_on_postgres_hears_what_any_daemon_writes() {
    let Some(db) = database_or_skip("pg_follow") else {
        return;
    };
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let ws = workspace_on_postgres(&runtime);
    std::fs::write(ws.dir.path().join("db.url"), &db.url).unwrap();
    // The migrations first, so the follower has a database to listen on.
    ws.ok(&["stories"]);

    // No daemon runs: the follower listens to the database.
    let out_path = ws.dir.path().join("follow.out");
    let err_path = ws.dir.path().join("follow.err");
    let mut follower = ws
        .command(&["events", "--follow", "--jsonl"])
        .stdout(std::fs::File::create(&out_path).unwrap())
        .stderr(std::fs::File::create(&err_path).unwrap())
        .spawn()
        .unwrap();
    common::wait_for(Duration::from_secs(20), "the follower to listen", || {
        std::fs::read_to_string(&err_path)
            .unwrap_or_default()
            .contains("following the events in the database")
    });
    // A daemon elsewhere (here: a one-shot run) writes the meeting.
    assert!(ws.run(&["run", "--once"]).status.success());
    let mut lines = Vec::new();
    common::wait_for(
        Duration::from_secs(20),
        "the new event on the follower",
        || {
            lines = std::fs::read_to_string(&out_path)
                .unwrap_or_default()
                .lines()
                .map(str::to_string)
                .collect();
            !lines.is_empty()
        },
    );
    common::signal(&follower, "TERM");
    let _ = follower.wait();
    let notice: Value = serde_json::from_str(&lines[0]).unwrap();
    assert_eq!(notice["change"], "new", "{notice}");
    assert_eq!(notice["event"]["type"], "bilateral_meeting");
    assert_eq!(
        notice["event"]["countries"],
        serde_json::json!(["ESP", "PRT"])
    );
}

#[test]
fn a_daemons_event_stream_carries_what_another_daemon_stored() {
    let Some(db) = database_or_skip("pg_stream_relay") else {
        return;
    };
    let runtime = tokio::runtime::Runtime::new().unwrap();
    // The second workspace polls the meeting; the first has a feed of its own that
    // never answers, so whatever its stream carries came from the other.
    let writer = workspace_on_postgres(&runtime);
    std::fs::write(writer.dir.path().join("db.url"), &db.url).unwrap();
    let streamer = Workspace::new(
        "[store]\nbackend = \"postgres\"\nurl_file = \"db.url\"\n\n\
         [[feeds]]\nid = \"quiet\"\nurl = \"http://127.0.0.1:9/feed.xml\"\ninterval = \"1h\"\n",
    );
    std::fs::write(streamer.dir.path().join("db.url"), &db.url).unwrap();
    let mut daemon = streamer.spawn_daemon(&[]);
    let base = streamer.wait_ready(Duration::from_secs(30));
    common::wait_for(Duration::from_secs(20), "the relay to listen", || {
        streamer.log().contains("relaying every daemon's changes")
    });

    let first_line = runtime.spawn(async move {
        use futures_util::StreamExt;
        let response = reqwest::Client::new()
            .get(format!("{base}/api/v1/events/stream"))
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 200);
        let mut body = response.bytes_stream();
        let mut buffer = Vec::new();
        while let Some(chunk) = body.next().await {
            buffer.extend_from_slice(&chunk.unwrap());
            if let Some(end) = buffer.iter().position(|&b| b == b'\n') {
                return String::from_utf8_lossy(&buffer[..end]).to_string();
            }
        }
        String::new()
    });
    // Let the stream's request reach the daemon before the event is written.
    std::thread::sleep(Duration::from_millis(500));
    assert!(writer.run(&["run", "--once"]).status.success());
    let line = runtime
        .block_on(async { tokio::time::timeout(Duration::from_secs(20), first_line).await })
        .expect("an event on the other daemon's stream within 20 s")
        .unwrap();
    assert!(common::terminate(&mut daemon, Duration::from_secs(20)));
    let notice: Value = serde_json::from_str(&line).unwrap();
    assert_eq!(notice["change"], "new", "{notice}");
    assert_eq!(
        notice["event"]["countries"],
        serde_json::json!(["ESP", "PRT"])
    );
}
