//! Listings a person can read, through the real binary: local times with their offset
//! (TZ honoured) or UTC with `--utc`, a story's events and an event's stories linked both
//! ways, and an empty listing that says why.

mod common;

use axum::http::header;
use axum::response::IntoResponse;
use axum::routing::get;
use axum::Router;

use common::Workspace;

const ITEM: &str = "<item><guid>m-1</guid><link>https://news.example/m1</link>\
    <title>Norway and Chile talk trade</title><description>Norwegian Foreign Minister Espen \
    Barth Eide met Chilean Foreign Minister Alberto van Klaveren in Oslo on Tuesday to \
    discuss fishing quotas.</description><pubDate>Wed, 21 Feb 2024 09:00:00 GMT</pubDate></item>";

fn served(runtime: &tokio::runtime::Runtime) -> String {
    let listener = runtime
        .block_on(tokio::net::TcpListener::bind("127.0.0.1:0"))
        .unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let app = Router::new().route(
        "/feed.xml",
        get(|| async {
            (
                [(header::CONTENT_TYPE, "application/rss+xml")],
                format!(
                    "<?xml version=\"1.0\"?><rss version=\"2.0\"><channel><title>t</title>\
                     <link>http://127.0.0.1/</link><description>d</description>{ITEM}</channel></rss>"
                ),
            )
                .into_response()
        }),
    );
    runtime.spawn(async move { axum::serve(listener, app).await.unwrap() });
    format!("[[feeds]]\nid = \"desk\"\nurl = \"{base}/feed.xml\"\n")
}

#[test]
fn an_empty_listing_says_why() {
    let ws = Workspace::new("[[feeds]]\nid = \"desk\"\nurl = \"https://news.example/rss\"\n");
    let out = ws.run(&["events"]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success());
    assert!(
        err.contains("no events yet: no feed has been polled yet (1 feed configured"),
        "{err}"
    );
    let out = ws.run(&["stories", "--json"]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        !err.contains("no stories"),
        "JSON output explains nothing: {err}"
    );
}

#[test]
fn times_are_local_with_their_offset_and_stories_and_events_link() {
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let ws = Workspace::new(&served(&runtime));
    ws.ok(&["run", "--once"]);
    let events: serde_json::Value = serde_json::from_str(&ws.ok(&["events", "--json"])).unwrap();
    let event = &events[0];
    let (event_id, story_id) = (
        event["id"].as_u64().unwrap().to_string(),
        event["sources"][0]["story"].as_u64().unwrap().to_string(),
    );

    let shown = |tz: &str, extra: &[&str]| {
        let mut args = vec!["events", "show", &event_id];
        args.extend_from_slice(extra);
        let out = ws.command(&args).env("TZ", tz).output().unwrap();
        assert!(out.status.success());
        String::from_utf8(out.stdout).unwrap()
    };
    assert!(
        shown("Asia/Tokyo", &[]).contains("+09:00"),
        "{}",
        shown("Asia/Tokyo", &[])
    );
    assert!(shown("America/New_York", &[]).contains("-05:00"));
    let utc = shown("Asia/Tokyo", &["--utc"]);
    assert!(utc.contains(" UTC") && !utc.contains("+09:00"), "{utc}");
    assert!(
        utc.contains(&format!("(`tidings stories show {story_id}`)")),
        "{utc}"
    );

    let story = ws.ok(&["stories", "show", &story_id]);
    assert!(story.contains("events (1):"), "{story}");
    assert!(
        story.contains(&format!(
            "event {event_id}: bilateral_meeting CHL–NOR occurred"
        )),
        "{story}"
    );
    // Filtered to nothing: the listing says so, and that polls did happen.
    let out = ws.run(&["events", "--type", "un_vote"]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("no events match these filters; 1 of 1 feed polled, last poll"),
        "{err}"
    );
}

/// Tables fit the terminal (cut with "…"); a pipe, or `--wide`, gets whole lines. The
/// terminal is a pseudo-terminal from util-linux's `script`, 100 columns wide.
#[test]
fn tables_fit_the_terminal_and_wide_or_a_pipe_gets_everything() {
    let ws = Workspace::new(
        "[[feeds]]\nid = \"down\"\nurl = \"http://127.0.0.1:9/a/very/long/path/to/a/feed/that/does/not/answer.xml\"\n",
    );
    ws.run(&["run", "--once"]);
    let piped = ws.ok(&["feeds"]);
    let long = piped.lines().map(|l| l.chars().count()).max().unwrap();
    assert!(long > 100, "the row is not long enough to test: {piped}");

    if !common::have_script() {
        return;
    }
    let on_terminal = |extra: &str| {
        let command = format!(
            "stty rows 40 cols 100; {} --config {} --data-dir {} feeds {extra}",
            common::BIN,
            ws.config().display(),
            ws.data_dir().display()
        );
        let out = std::process::Command::new("script")
            .args(["-qec", &command, "/dev/null"])
            .env_remove("TIDINGS_CONFIG")
            .output()
            .unwrap();
        String::from_utf8_lossy(&out.stdout).replace('\r', "")
    };
    let fitted = on_terminal("");
    let rows: Vec<&str> = fitted.lines().filter(|l| !l.is_empty()).collect();
    assert!(rows.iter().all(|l| l.chars().count() <= 100), "{fitted}");
    assert!(rows.iter().any(|l| l.ends_with('…')), "{fitted}");
    let wide = on_terminal("--wide");
    assert!(wide.lines().any(|l| l.chars().count() > 100), "{wide}");
}
