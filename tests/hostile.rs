//! The hostile-server suite: one daemon (the real binary) polls a server on 127.0.0.1
//! that misbehaves in every way we know — hangs, drips a byte a second, sends 50 MB, a
//! gzip bomb, a redirect loop, 429 with Retry-After, 500s, malformed XML, a wrong
//! charset, an empty 200, an HTML page, 100,000 items, 410 Gone, a permanent redirect —
//! while healthy feeds on another host name (localhost) keep their schedule. The daemon
//! must stay up with bounded memory, and each bad feed must show a clear error.

mod common;

use std::collections::HashMap;
use std::io::Write;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::body::Body;
use axum::extract::{Path, State};
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Router;
use serde_json::Value;

use common::{terminate, wait_for, Workspace};

#[derive(Default)]
struct Log {
    /// Path → times it was requested.
    hits: HashMap<String, Vec<Instant>>,
}

type Shared = Arc<Mutex<Log>>;

fn rss(items: &str) -> String {
    format!("<?xml version=\"1.0\"?><rss version=\"2.0\"><channel><title>t</title>{items}</channel></rss>")
}

fn item(guid: &str, title: &str) -> String {
    format!("<item><guid>{guid}</guid><title>{title}</title><description>{title}, reported in full.</description></item>")
}

fn gzip_bomb() -> Vec<u8> {
    let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    let zeros = vec![b' '; 1 << 20];
    for _ in 0..20 {
        e.write_all(&zeros).unwrap();
    }
    e.finish().unwrap()
}

async fn serve(
    State((log, bomb)): State<(Shared, Arc<Vec<u8>>)>,
    Path(name): Path<String>,
) -> Response {
    let n = {
        let mut log = log.lock().unwrap();
        let hits = log.hits.entry(name.clone()).or_default();
        hits.push(Instant::now());
        hits.len()
    };
    match name.as_str() {
        "healthy" | "healthy2" | "moved-here" => {
            let items: String = (0..n).map(|i| item(&format!("{name}-{i}"), &format!("{name} story {i}"))).collect();
            rss(&items).into_response()
        }
        "hang" => {
            tokio::time::sleep(Duration::from_secs(3600)).await;
            StatusCode::OK.into_response()
        }
        "drip" => {
            let drip = futures_util::stream::unfold(0u32, |i| async move {
                tokio::time::sleep(Duration::from_secs(1)).await;
                (i < 3600).then(|| (Ok::<_, std::io::Error>(vec![b' ']), i + 1))
            });
            Body::from_stream(drip).into_response()
        }
        "huge" => {
            let chunks = futures_util::stream::iter(
                (0..50).map(|_| Ok::<_, std::io::Error>(vec![b' '; 1 << 20])),
            );
            Body::from_stream(chunks).into_response()
        }
        "bomb" => ([(header::CONTENT_ENCODING, "gzip")], bomb.as_ref().clone()).into_response(),
        "loop" => (StatusCode::FOUND, [(header::LOCATION, "/loop")]).into_response(),
        "limited" => (StatusCode::TOO_MANY_REQUESTS, [(header::RETRY_AFTER, "4")]).into_response(),
        "flaky" => StatusCode::INTERNAL_SERVER_ERROR.into_response(),
        "malformed" => "<rss><channel><item><title>broken".into_response(),
        "charset" => (
            [(header::CONTENT_TYPE, "application/rss+xml; charset=utf-8")],
            b"<?xml version=\"1.0\"?><rss version=\"2.0\"><channel><title>Z\xfcrich desk</title><item><guid>z</guid><title>Talks in Z\xfcrich</title></item></channel></rss>".to_vec(),
        )
            .into_response(),
        "empty" => StatusCode::OK.into_response(),
        "html" => "<!DOCTYPE html><html><head><title>Not a feed</title></head><body>Hi</body></html>".into_response(),
        "many" => {
            let items: String = (0..100_000).map(|i| format!("<item><guid>{i}</guid><title>n {i}</title></item>")).collect();
            rss(&items).into_response()
        }
        "gone" => StatusCode::GONE.into_response(),
        "moved" => (StatusCode::MOVED_PERMANENTLY, [(header::LOCATION, "/moved-here")]).into_response(),
        _ => StatusCode::NOT_FOUND.into_response(),
    }
}

const BAD: &[&str] = &[
    "hang",
    "drip",
    "huge",
    "bomb",
    "loop",
    "limited",
    "flaky",
    "malformed",
    "charset",
    "empty",
    "html",
    "many",
    "gone",
    "moved",
];

fn json(text: &str) -> Value {
    serde_json::from_str(text).unwrap_or_else(|e| panic!("bad JSON ({e}): {text}"))
}

/// Peak resident memory of a process, in KiB (Linux).
fn peak_rss_kib(pid: u32) -> Option<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    status
        .lines()
        .find(|l| l.starts_with("VmHWM:"))?
        .split_whitespace()
        .nth(1)?
        .parse()
        .ok()
}

#[test]
fn the_daemon_survives_hostile_servers_and_healthy_feeds_keep_their_schedule() {
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let log: Shared = Arc::default();
    let bomb = Arc::new(gzip_bomb());
    let listener = runtime
        .block_on(tokio::net::TcpListener::bind("127.0.0.1:0"))
        .unwrap();
    let port = listener.local_addr().unwrap().port();
    let app = Router::new()
        .route("/{name}", get(serve))
        .with_state((log.clone(), bomb));
    runtime.spawn(async move { axum::serve(listener, app).await.unwrap() });

    let mut config = String::from(
        "[daemon]\ndefault_interval = \"1s\"\nmax_interval = \"2s\"\njitter = 0.0\nmax_backoff = \"2s\"\n\
         failing_after = 2\nmax_concurrent_fetches = 32\nper_host_concurrency = 32\nper_host_spacing = \"0s\"\n\
         shutdown_grace = \"2s\"\n\n[http]\nconnect_timeout = \"2s\"\nread_timeout = \"2s\"\ntotal_timeout = \"3s\"\n\
         max_body_bytes = 10485760\nmax_redirects = 4\n\n",
    );
    // Healthy feeds live on another host name, so the bad host's Retry-After does not
    // hold them back.
    for name in ["healthy", "healthy2"] {
        config.push_str(&format!(
            "[[feeds]]\nid = \"{name}\"\nurl = \"http://localhost:{port}/{name}\"\n\n"
        ));
    }
    for name in BAD {
        config.push_str(&format!(
            "[[feeds]]\nid = \"{name}\"\nurl = \"http://127.0.0.1:{port}/{name}\"\n\n"
        ));
    }
    let ws = Workspace::new(&config);
    let mut daemon = ws.spawn_daemon(&[]);
    let base = ws.wait_ready(Duration::from_secs(30));
    let started = Instant::now();

    let hits = |name: &str| log.lock().unwrap().hits.get(name).map_or(0, Vec::len);
    wait_for(
        Duration::from_secs(60),
        "every bad feed to be tried",
        || BAD.iter().all(|n| hits(n) > 0),
    );
    // Let the daemon live with them for a while.
    std::thread::sleep(Duration::from_secs(10).saturating_sub(started.elapsed()));
    wait_for(
        Duration::from_secs(30),
        "the hostile feeds to report",
        || {
            let feeds = json(&ws.ok(&["feeds", "--json"]));
            ["flaky", "drip", "hang"].iter().all(|n| {
                let f = common::feed_row(&feeds, n);
                f["last_error"].is_string()
            }) && common::feed_row(&feeds, "flaky")["health"] == "failing"
                // 1,000 new stories take a few seconds on a loaded machine.
                && common::feed_row(&feeds, "many")["polls"].as_u64() > Some(0)
        },
    );

    assert_eq!(
        common::http_get(&format!("{base}/readyz")).unwrap().0,
        200,
        "the daemon stays up"
    );
    let feeds = json(&ws.ok(&["feeds", "--json"]));
    let row = |n: &str| common::feed_row(&feeds, n);
    let error = |n: &str| row(n)["last_error"].as_str().unwrap_or("").to_string();
    for (name, expected) in [
        ("hang", "timed out"),
        ("drip", "timed out"),
        ("huge", "larger than the limit"),
        ("bomb", "larger than the limit"),
        ("loop", "redirect loop"),
        // Retry-After: 4 is held to max_backoff (2 s): a pause never outlives it.
        ("limited", "HTTP 429 (retry after 2s)"),
        ("flaky", "HTTP 500"),
        ("malformed", "parse error"),
        ("empty", "the body is empty"),
        ("html", "looks like an HTML page"),
        ("gone", "HTTP 410"),
    ] {
        assert!(
            error(name).contains(expected),
            "{name}: expected {expected:?}, got {:?}",
            row(name)
        );
    }
    assert_eq!(
        row("flaky")["health"],
        "failing",
        "after failing_after failures"
    );
    assert_eq!(row("gone")["health"], "disabled");
    assert!(row("gone")["disabled"].as_str().unwrap().contains("410"));
    assert_eq!(hits("gone"), 1, "a gone feed is not polled again");

    // A mislabelled charset is read, not refused.
    assert_eq!(row("charset")["health"], "ok", "{}", row("charset"));
    assert_eq!(row("charset")["title"], "Zürich desk");
    // The huge feed is taken up to max_entries, and the daemon goes on.
    assert_eq!(row("many")["health"], "ok", "{}", row("many"));
    assert_eq!(row("many")["stories"], 1000);
    // A permanent redirect moves the stored URL.
    assert_eq!(row("moved")["health"], "ok");
    assert!(
        row("moved")["url"]
            .as_str()
            .unwrap()
            .ends_with("/moved-here"),
        "{}",
        row("moved")
    );
    // Healthy feeds kept their schedule all along (1 s, then at most 2 s apart).
    for name in ["healthy", "healthy2"] {
        assert!(hits(name) >= 4, "{name} polled {} times", hits(name));
        assert_eq!(row(name)["health"], "ok");
    }
    // Retry-After holds back the whole host: no request to 127.0.0.1 started in the
    // two seconds (its 4 s, capped at max_backoff) after the 429 (requests already in
    // flight aside).
    {
        let log = log.lock().unwrap();
        let first_429 = log.hits["limited"][0];
        let next_on_host = log
            .hits
            .iter()
            .filter(|(n, _)| !n.starts_with("healthy"))
            .flat_map(|(_, times)| times.iter())
            .filter(|t| **t > first_429 + Duration::from_millis(200))
            .min()
            .copied();
        if let Some(next) = next_on_host {
            assert!(
                next.duration_since(first_429) >= Duration::from_millis(1900),
                "a request to the paused host started {:?} after its 429",
                next.duration_since(first_429)
            );
        }
    }

    let peak = peak_rss_kib(daemon.id()).unwrap_or(0);
    eprintln!("hostile suite: daemon peak RSS {} MiB", peak / 1024);
    assert!(peak < 512 * 1024, "peak RSS {peak} KiB");
    assert!(terminate(&mut daemon, Duration::from_secs(20)));
}
