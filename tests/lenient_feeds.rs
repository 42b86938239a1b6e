//! Lenient reading through the real binary: each fixture under
//! `tests/fixtures/feeds/lenient/` is served by a local HTTP server on 127.0.0.1, one
//! `tidings run --once` polls it, and `stories --json` / `feeds --json` show what was
//! stored and what the feed's state says.

mod common;

use std::path::PathBuf;

use axum::extract::Path;
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Router;
use serde_json::Value;

use common::Workspace;

fn fixtures() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/feeds/lenient")
}

/// Serves a fixture's bytes unchanged, with no charset in the content type.
async fn serve(Path(name): Path<String>) -> Response {
    match std::fs::read(fixtures().join(&name)) {
        Ok(bytes) => ([(header::CONTENT_TYPE, "application/xml")], bytes).into_response(),
        Err(_) => StatusCode::NOT_FOUND.into_response(),
    }
}

/// What one poll of one fixture left in a fresh store.
struct Polled {
    stories: Vec<Value>,
    feed: Value,
}

impl Polled {
    fn titles(&self) -> Vec<String> {
        let mut t: Vec<String> = self
            .stories
            .iter()
            .map(|s| s["title"].as_str().unwrap_or_default().to_string())
            .collect();
        t.sort();
        t
    }

    fn story(&self, title_part: &str) -> &Value {
        self.stories
            .iter()
            .find(|s| s["title"].as_str().is_some_and(|t| t.contains(title_part)))
            .unwrap_or_else(|| panic!("no story titled like {title_part:?}: {:?}", self.titles()))
    }
}

/// Serves `fixture` on 127.0.0.1, runs `tidings run --once` against it and reads back.
fn poll(fixture: &str) -> Polled {
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let listener = runtime
        .block_on(tokio::net::TcpListener::bind("127.0.0.1:0"))
        .unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let app = Router::new().route("/{name}", get(serve));
    runtime.spawn(async move { axum::serve(listener, app).await.unwrap() });
    let ws = Workspace::new(&format!(
        "[daemon]\njitter = 0.0\n\n[http]\ntotal_timeout = \"5s\"\n\n[[feeds]]\nid = \"f\"\nurl = \"{base}/{fixture}\"\n"
    ));
    let out = ws.run(&["run", "--once"]);
    assert!(
        out.status.success(),
        "run --once on {fixture}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let stories: Value =
        serde_json::from_str(&ws.ok(&["stories", "--json", "--limit", "1000"])).unwrap();
    let feeds: Value = serde_json::from_str(&ws.ok(&["feeds", "--json"])).unwrap();
    let text = ws.ok(&["feeds"]);
    let mut feed = feeds[0].clone();
    feed["table"] = Value::String(text);
    Polled {
        stories: stories.as_array().cloned().unwrap_or_default(),
        feed,
    }
}

/// Every fixture with the entries it holds.
const CASES: &[(&str, usize)] = &[
    ("bare_ampersand_entities.xml", 3),
    ("c1_numeric_references.xml", 2),
    ("unbalanced_html.xml", 3),
    ("truncated.xml", 3),
    ("rss_no_version.xml", 2),
    ("rss_093.xml", 2),
    ("rss_094.xml", 2),
    ("rss_201.xml", 2),
    ("rss_21.xml", 2),
    ("rss090_no_link.xml", 2),
    ("rss10_no_link.xml", 2),
    ("atom03.xml", 3),
    ("atom_content_types.xml", 3),
    ("utf16le_bom.xml", 2),
    ("utf16be_no_bom.xml", 2),
    ("utf16le_no_declaration.xml", 2),
    ("utf32le_bom.xml", 2),
    ("utf32be_no_bom.xml", 2),
    ("sniff_shift_jis.xml", 2),
    ("sniff_euc_kr.xml", 2),
    ("sniff_gbk.xml", 2),
    ("sniff_windows_1251.xml", 2),
    ("lenient_dates.xml", 3),
    ("one_bad_entry.xml", 3),
    ("items_outside_channel.xml", 2),
];

/// Prints, per fixture, the entries stored, the health and the error: the figures of
/// the table in `benches/README.md` (`cargo test --test lenient_feeds -- --ignored --nocapture`).
#[test]
#[ignore]
fn measure_every_fixture() {
    println!("| fixture | entries in it | stored | health | note |");
    println!("|---|---|---|---|---|");
    for (fixture, held) in CASES {
        let p = poll(fixture);
        let note = p.feed["last_error"]
            .as_str()
            .or(p.feed["warning"].as_str())
            .unwrap_or("");
        println!(
            "| `{fixture}` | {held} | {} | {} | {} |",
            p.stories.len(),
            p.feed["health"].as_str().unwrap_or(""),
            note.replace('|', "/")
        );
    }
}
