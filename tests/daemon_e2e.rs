//! End to end: the real daemon binary polls a real HTTP server on 127.0.0.1 whose feeds
//! change between polls, and the CLI reads back what it stored.

mod common;

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::extract::{Path, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Router;
use serde_json::Value;

use common::{terminate, wait_for, Workspace};

/// Requests seen per feed, and how many were answered 304.
#[derive(Default)]
struct Hits {
    requests: HashMap<String, usize>,
    not_modified: HashMap<String, usize>,
}

type Shared = Arc<Mutex<Hits>>;

const LONG_A2: &str =
    "Foreign ministers of Norway and Chile met in Oslo on Tuesday to discuss fishing \
    quotas, Antarctic research and a trade agreement that both governments hope to sign before the \
    end of the year, officials said after the talks.";

fn item(guid: &str, link: &str, title: &str, text: &str, date: &str) -> String {
    format!(
        "<item><guid isPermaLink=\"false\">{guid}</guid><link>{link}</link><title>{title}</title>\
         <description><![CDATA[<p>{text}</p>]]></description><pubDate>{date}</pubDate></item>"
    )
}

fn rss(items: &[String]) -> String {
    format!(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?><rss version=\"2.0\"><channel><title>Test</title>\
         <link>http://127.0.0.1/</link><description>t</description>{}</channel></rss>",
        items.concat()
    )
}

async fn serve_feed(
    Path(name): Path<String>,
    headers: HeaderMap,
    State(hits): State<Shared>,
) -> Response {
    let n = {
        let mut h = hits.lock().unwrap();
        let c = h.requests.entry(name.clone()).or_default();
        *c += 1;
        *c
    };
    let xml =
        |body: String| ([(header::CONTENT_TYPE, "application/rss+xml")], body).into_response();
    match name.as_str() {
        // Changes between polls: a new item appears and an existing one is retitled.
        "alpha.xml" => {
            let a1_title = if n == 1 { "Leaders meet in Oslo" } else { "Leaders meet in Oslo, agree on quotas" };
            let mut items = vec![
                item("alpha-1", "https://news.example/a1?utm_source=rss&amp;utm_medium=feed", a1_title, "Short first story.", "Tue, 21 Feb 2023 09:00:00 GMT"),
                item("alpha-2", "https://news.example/a2", "Norway and Chile talk trade", LONG_A2, "Tue, 21 Feb 2023 10:00:00 GMT"),
            ];
            if n >= 2 {
                items.push(item("alpha-3", "https://news.example/a3", "A third story", "Appears on the second poll.", "Wed, 22 Feb 2023 08:00:00 GMT"));
            }
            xml(rss(&items))
        }
        // Never changes: answers 304 to its ETag.
        "beta.xml" => {
            const ETAG: &str = "\"beta-v1\"";
            if headers.get(header::IF_NONE_MATCH).and_then(|v| v.to_str().ok()) == Some(ETAG) {
                *hits.lock().unwrap().not_modified.entry(name).or_default() += 1;
                return (StatusCode::NOT_MODIFIED, [(header::ETAG, ETAG)]).into_response();
            }
            let body = rss(&[
                item("beta-1", "https://other.example/b1", "Beta one", "First beta story.", "Mon, 20 Feb 2023 09:00:00 GMT"),
                item("beta-2", "https://other.example/b2", "Beta two", "Second beta story.", "Mon, 20 Feb 2023 10:00:00 GMT"),
            ]);
            ([(header::CONTENT_TYPE, "application/rss+xml"), (header::ETAG, ETAG)], body).into_response()
        }
        // Syndicates alpha's stories (from its third poll on, so alpha has them first):
        // one under the same URL with tracking parameters, one lightly edited under
        // another URL.
        "gamma.xml" => {
            if n < 3 {
                return xml(rss(&[]));
            }
            let edited = LONG_A2.replace("on Tuesday", "on Tuesday (Feb. 21)").replace("officials said", "a spokesman said");
            xml(rss(&[
                item("gamma-x", "https://NEWS.example/a1?at_medium=RSS&amp;at_campaign=KARANGA#top", "Oslo talks", "Wire copy.", "Tue, 21 Feb 2023 09:30:00 GMT"),
                item("gamma-y", "https://wire.example/story/norway-chile", "Norway, Chile discuss trade deal", &edited, "Tue, 21 Feb 2023 11:00:00 GMT"),
            ]))
        }
        "broken.xml" => xml("<?xml version=\"1.0\"?><rss version=\"2.0\"><channel><title>Broken<item><title>x</chan".into()),
        _ => StatusCode::NOT_FOUND.into_response(),
    }
}

fn config(base: &str) -> String {
    let mut c = String::from("[daemon]\nmax_concurrent_fetches = 2\ndefault_interval = \"1s\"\nmax_interval = \"2s\"\nfailing_after = 2\njitter = 0.0\nmax_backoff = \"2s\"\nshutdown_grace = \"5s\"\n\n[http]\ntotal_timeout = \"5s\"\n");
    for id in ["alpha", "beta", "gamma", "broken"] {
        c.push_str(&format!(
            "\n[[feeds]]\nid = \"{id}\"\nurl = \"{base}/{id}.xml\"\n"
        ));
    }
    c
}

fn json(text: &str) -> Value {
    serde_json::from_str(text).unwrap_or_else(|e| panic!("bad JSON ({e}): {text}"))
}

#[test]
fn daemon_polls_dedups_and_the_cli_reads_back() {
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let hits: Shared = Arc::default();
    let listener = runtime
        .block_on(tokio::net::TcpListener::bind("127.0.0.1:0"))
        .unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let app = Router::new()
        .route("/{name}", get(serve_feed))
        .with_state(hits.clone());
    runtime.spawn(async move { axum::serve(listener, app).await.unwrap() });

    let ws = Workspace::new(&config(&base));
    let check = ws.ok(&["check"]);
    assert!(check.contains("ok — 4 feeds"), "{check}");

    let mut daemon = ws.spawn_daemon(&[]);
    let requests = |feed: &str| {
        hits.lock()
            .unwrap()
            .requests
            .get(feed)
            .copied()
            .unwrap_or(0)
    };
    wait_for(Duration::from_secs(40), "four polls of every feed", || {
        ["alpha.xml", "beta.xml", "gamma.xml"]
            .iter()
            .all(|f| requests(f) >= 4)
            && requests("broken.xml") >= 2
    });

    // While the daemon holds the store, the CLI reads through its API.
    let live = json(&ws.ok(&["stories", "--json", "--limit", "100"]));
    assert!(!live.as_array().unwrap().is_empty(), "{live}");
    // Without the daemon file it cannot find the API, and says why instead of crashing.
    let info = ws.data_dir().join("daemon.json");
    let saved = std::fs::read(&info).unwrap();
    std::fs::remove_file(&info).unwrap();
    let busy = ws.run(&["stories"]);
    assert!(!busy.status.success());
    let stderr = String::from_utf8_lossy(&busy.stderr);
    assert!(stderr.contains("held by another process"), "{stderr}");
    std::fs::write(&info, saved).unwrap();

    assert!(
        terminate(&mut daemon, Duration::from_secs(15)),
        "daemon exited uncleanly:\n{}",
        ws.log()
    );
    let log = ws.log();
    assert!(log.contains("daemon stopped; store flushed"), "{log}");

    // Every story stored once: alpha's three, beta's two; gamma's copies are sources.
    let stories = json(&ws.ok(&["stories", "--json", "--limit", "100"]));
    let stories = stories.as_array().unwrap();
    let titles: Vec<&str> = stories
        .iter()
        .map(|s| s["title"].as_str().unwrap())
        .collect();
    assert_eq!(stories.len(), 5, "{titles:?}");
    // Newest first.
    assert_eq!(titles[0], "A third story");

    let by_url = |url: &str| {
        stories
            .iter()
            .find(|s| s["url"] == url)
            .unwrap_or_else(|| panic!("no story {url}"))
    };
    let a1 = by_url("https://news.example/a1");
    assert_eq!(
        a1["title"], "Leaders meet in Oslo, agree on quotas",
        "the retitle updates the story"
    );
    assert_eq!(a1["revisions"][0]["title"], "Leaders meet in Oslo");
    let a1_sources = a1["sources"].as_array().unwrap();
    assert_eq!(a1_sources.len(), 2, "{a1_sources:?}");
    assert_eq!(a1_sources[1]["feed"], "gamma");
    assert_eq!(a1_sources[1]["matched_by"]["kind"], "url");

    let a2 = by_url("https://news.example/a2");
    let a2_sources = a2["sources"].as_array().unwrap();
    assert_eq!(a2_sources.len(), 2, "{a2_sources:?}");
    assert_eq!(a2_sources[1]["matched_by"]["kind"], "near_duplicate");
    assert_eq!(
        a2_sources[1]["url"],
        "https://wire.example/story/norway-chile"
    );

    // Listing by feed includes stories the feed only syndicated.
    let gamma = json(&ws.ok(&["stories", "--json", "--feed", "gamma"]));
    assert_eq!(gamma.as_array().unwrap().len(), 2);
    let since = json(&ws.ok(&["stories", "--json", "--since", "2023-02-21"]));
    assert_eq!(since.as_array().unwrap().len(), 3);

    // `stories show` prints every source.
    let show = ws.ok(&["stories", "show", &a1["id"].to_string()]);
    assert!(
        show.contains("sources (2)") && show.contains("gamma [same url]"),
        "{show}"
    );

    // Feed health: the 304 path was taken; the broken feed shows its error; the rest are fine.
    assert!(
        hits.lock()
            .unwrap()
            .not_modified
            .get("beta.xml")
            .copied()
            .unwrap_or(0)
            >= 2
    );
    let feeds = json(&ws.ok(&["feeds", "--json"]));
    let feed = |id: &str| common::feed_row(&feeds, id);
    assert!(feed("beta")["not_modified"].as_u64().unwrap() >= 2);
    assert_eq!(feed("beta")["stories"], 2);
    assert_eq!(feed("broken")["health"], "failing");
    assert!(
        feed("broken")["last_error"]
            .as_str()
            .unwrap()
            .contains("parse error"),
        "{}",
        feed("broken")
    );
    assert_eq!(feed("alpha")["health"], "ok");
    assert_eq!(feed("alpha")["last_status"], 200);
    assert_eq!(feed("alpha")["stories"], 3);
    let table = ws.ok(&["feeds"]);
    assert!(
        table
            .lines()
            .any(|l| l.starts_with("broken") && l.contains("failing") && l.contains("parse error")),
        "{table}"
    );

    // A restart neither loses nor re-ingests: one more cycle, still five stories.
    // This run logs JSON lines: one per poll, with the feed, status and counts.
    let once = ws.run(&["--log-format", "json", "run", "--once"]);
    assert!(once.status.success());
    let polls: Vec<Value> = String::from_utf8_lossy(&once.stderr)
        .lines()
        .map(|l| {
            serde_json::from_str::<Value>(l)
                .unwrap_or_else(|e| panic!("not a JSON log line ({e}): {l}"))
        })
        .filter(|v| v["message"].as_str().is_some_and(|m| m.starts_with("poll")))
        .collect();
    assert_eq!(polls.len(), 4, "{polls:?}");
    let alpha = polls
        .iter()
        .find(|p| p["feed"] == "alpha")
        .expect("alpha poll logged");
    assert_eq!(alpha["status"], 200);
    assert_eq!(alpha["new"], 0);
    assert!(
        alpha["bytes"].as_u64().unwrap() > 0 && alpha["duration_ms"].is_u64(),
        "{alpha}"
    );
    let again = json(&ws.ok(&["stories", "--json", "--limit", "100"]));
    assert_eq!(again.as_array().unwrap().len(), 5);
    let a1_again = again
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["url"] == "https://news.example/a1")
        .unwrap();
    assert_eq!(a1_again["sources"].as_array().unwrap().len(), 2);
}

#[test]
fn a_bad_config_is_refused_with_file_and_line() {
    let ws = Workspace::new("[daemon]\ndefault_interval = \"soon\"\n");
    let out = ws.run(&["check"]);
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    let path = ws.config().display().to_string();
    assert!(stderr.contains(&format!("{path}:2:")), "{stderr}");
    assert!(stderr.contains("invalid duration"), "{stderr}");
    // `run` refuses the same config before starting.
    let out = ws.run(&["run", "--once"]);
    assert!(!out.status.success());
    assert!(
        !ws.data_dir().exists(),
        "nothing is created for a refused config"
    );
}
