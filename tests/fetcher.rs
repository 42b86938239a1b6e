//! The fetcher against real HTTP servers on 127.0.0.1: compression, the decompressed
//! body cap, conditional GET, timeouts, Retry-After and redirect loops.

use std::io::Write;
use std::time::Duration;

use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Router;

use tidings::config::HttpSettings;
use tidings::fetcher::{FetchError, Fetched, Fetcher, Validators};

const FEED: &str =
    "<?xml version=\"1.0\"?><rss version=\"2.0\"><channel><title>t</title></channel></rss>";
const LAST_MODIFIED: &str = "Wed, 22 Feb 2023 10:00:00 GMT";

fn gzip(data: &[u8]) -> Vec<u8> {
    let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
    e.write_all(data).unwrap();
    e.finish().unwrap()
}

fn brotli_compress(data: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    {
        let mut w = brotli::CompressorWriter::new(&mut out, 4096, 9, 22);
        w.write_all(data).unwrap();
    }
    out
}

async fn app() -> String {
    let bomb = gzip(&vec![0u8; 16 << 20]);
    let router = Router::new()
        .route(
            "/gzip",
            get(|| async { ([(header::CONTENT_ENCODING, "gzip")], gzip(FEED.as_bytes())) }),
        )
        .route(
            "/brotli",
            get(|| async {
                (
                    [(header::CONTENT_ENCODING, "br")],
                    brotli_compress(FEED.as_bytes()),
                )
            }),
        )
        // 16 MiB of zeros in about 16 KiB: a gzip bomb against a 1 MiB cap.
        .route(
            "/bomb",
            get(move || async move { ([(header::CONTENT_ENCODING, "gzip")], bomb) }),
        )
        .route("/big", get(|| async { vec![b' '; 2 << 20] }))
        .route(
            "/conditional",
            get(|headers: HeaderMap| async move {
                if headers
                    .get(header::IF_MODIFIED_SINCE)
                    .and_then(|v| v.to_str().ok())
                    == Some(LAST_MODIFIED)
                {
                    return StatusCode::NOT_MODIFIED.into_response();
                }
                ([(header::LAST_MODIFIED, LAST_MODIFIED)], FEED).into_response()
            }),
        )
        .route(
            "/agent",
            get(|headers: HeaderMap| async move {
                headers
                    .get(header::USER_AGENT)
                    .and_then(|v| v.to_str().ok())
                    .unwrap_or("")
                    .to_string()
            }),
        )
        .route(
            "/hang",
            get(|| async {
                tokio::time::sleep(Duration::from_secs(60)).await;
                "late"
            }),
        )
        .route(
            "/busy",
            get(|| async {
                (StatusCode::TOO_MANY_REQUESTS, [(header::RETRY_AFTER, "7")]).into_response()
            }),
        )
        .route(
            "/year",
            get(|| async {
                (
                    StatusCode::SERVICE_UNAVAILABLE,
                    [(header::RETRY_AFTER, "31536000")],
                )
                    .into_response()
            }),
        )
        .route(
            "/broken",
            get(|| async {
                (
                    StatusCode::INTERNAL_SERVER_ERROR,
                    [(header::RETRY_AFTER, "31536000")],
                )
                    .into_response()
            }),
        )
        .route(
            "/loop",
            get(|| async {
                Response::builder()
                    .status(302)
                    .header(header::LOCATION, "/loop")
                    .body(axum::body::Body::empty())
                    .unwrap()
            }),
        )
        .route(
            "/chain/{n}",
            get(
                |axum::extract::Path(n): axum::extract::Path<u32>| async move {
                    redirect(302, &format!("/chain/{}", n + 1))
                },
            ),
        )
        .route("/moved", get(|| async { redirect(301, "/moved-again") }))
        .route("/moved-again", get(|| async { redirect(308, "/feed") }))
        .route("/temporary", get(|| async { redirect(307, "/feed") }))
        .route(
            "/feed",
            get(|| async { ([(header::CACHE_CONTROL, "public, max-age=600")], FEED) }),
        );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, router).await.unwrap() });
    base
}

fn settings() -> HttpSettings {
    HttpSettings {
        user_agent: "tidings-test/1 (honest)".into(),
        connect_timeout: Duration::from_secs(2),
        read_timeout: Duration::from_secs(1),
        total_timeout: Duration::from_secs(2),
        max_body_bytes: 1 << 20,
        max_redirects: 3,
        max_retry_after: Duration::from_secs(3600),
    }
}

async fn body(fetcher: &Fetcher, url: &str) -> Vec<u8> {
    match fetcher.fetch(url, &Validators::default()).await.unwrap() {
        Fetched::Body { bytes, .. } => bytes,
        other => panic!("expected a body, got {other:?}"),
    }
}

#[tokio::test]
async fn gzip_and_brotli_bodies_are_decompressed() {
    let base = app().await;
    let f = Fetcher::new(&settings()).unwrap();
    assert_eq!(body(&f, &format!("{base}/gzip")).await, FEED.as_bytes());
    assert_eq!(body(&f, &format!("{base}/brotli")).await, FEED.as_bytes());
}

#[tokio::test]
async fn the_body_cap_counts_decompressed_bytes() {
    let base = app().await;
    let f = Fetcher::new(&settings()).unwrap();
    let bomb = f
        .fetch(&format!("{base}/bomb"), &Validators::default())
        .await;
    assert!(
        matches!(bomb, Err(FetchError::TooLarge { limit }) if limit == 1 << 20),
        "{bomb:?}"
    );
    let big = f
        .fetch(&format!("{base}/big"), &Validators::default())
        .await;
    assert!(matches!(big, Err(FetchError::TooLarge { .. })), "{big:?}");
}

#[tokio::test]
async fn last_modified_is_sent_back_and_answered_with_304() {
    let base = app().await;
    let f = Fetcher::new(&settings()).unwrap();
    let url = format!("{base}/conditional");
    let Fetched::Body { validators, .. } = f.fetch(&url, &Validators::default()).await.unwrap()
    else {
        panic!("first fetch must return the body");
    };
    assert_eq!(validators.last_modified.as_deref(), Some(LAST_MODIFIED));
    assert!(matches!(
        f.fetch(&url, &validators).await.unwrap(),
        Fetched::NotModified { .. }
    ));
}

#[tokio::test]
async fn the_configured_user_agent_is_sent() {
    let base = app().await;
    let f = Fetcher::new(&settings()).unwrap();
    assert_eq!(
        body(&f, &format!("{base}/agent")).await,
        b"tidings-test/1 (honest)"
    );
}

#[tokio::test]
async fn a_hanging_server_times_out() {
    let base = app().await;
    let f = Fetcher::new(&settings()).unwrap();
    let r = f
        .fetch(&format!("{base}/hang"), &Validators::default())
        .await;
    assert!(matches!(r, Err(FetchError::Timeout(_))), "{r:?}");
}

#[tokio::test]
async fn retry_after_and_redirect_loops_are_reported() {
    let base = app().await;
    let f = Fetcher::new(&settings()).unwrap();
    let r = f
        .fetch(&format!("{base}/busy"), &Validators::default())
        .await;
    assert!(
        matches!(r, Err(FetchError::Status { status: 429, retry_after: Some(d) }) if d == Duration::from_secs(7)),
        "{r:?}"
    );
    let r = f
        .fetch(&format!("{base}/loop"), &Validators::default())
        .await;
    assert!(matches!(r, Err(FetchError::RedirectLoop(_))), "{r:?}");
    let r = f
        .fetch(&format!("{base}/chain/0"), &Validators::default())
        .await;
    assert!(matches!(r, Err(FetchError::Redirects(3))), "{r:?}");
}

#[tokio::test]
async fn retry_after_is_capped_and_honoured_only_on_429_and_503() {
    let base = app().await;
    let f = Fetcher::new(&settings()).unwrap();
    // A 503 asking for a year is held to the cap (an hour in these settings).
    let r = f
        .fetch(&format!("{base}/year"), &Validators::default())
        .await;
    assert!(
        matches!(r, Err(FetchError::Status { status: 503, retry_after: Some(d) }) if d == Duration::from_secs(3600)),
        "{r:?}"
    );
    // A 500 with the same header asks for nothing: the usual backoff applies.
    let r = f
        .fetch(&format!("{base}/broken"), &Validators::default())
        .await;
    assert!(
        matches!(
            r,
            Err(FetchError::Status {
                status: 500,
                retry_after: None
            })
        ),
        "{r:?}"
    );
}

#[test]
fn the_retry_after_cap_defaults_to_six_hours_and_never_exceeds_max_backoff() {
    let c = tidings::config::Config::parse("", "t.toml").unwrap();
    assert_eq!(c.http.max_retry_after, Duration::from_secs(6 * 3600));
    let c = tidings::config::Config::parse(
        "[daemon]\nmax_backoff = \"30m\"\n[http]\nmax_retry_after = \"2h\"\n",
        "t.toml",
    )
    .unwrap();
    assert_eq!(c.http.max_retry_after, Duration::from_secs(1800));
}

fn redirect(status: u16, to: &str) -> Response {
    Response::builder()
        .status(status)
        .header(header::LOCATION, to)
        .body(axum::body::Body::empty())
        .unwrap()
}

#[tokio::test]
async fn permanent_moves_and_cache_hints_are_reported() {
    let base = app().await;
    let f = Fetcher::new(&settings()).unwrap();
    let Fetched::Body { hints, bytes, .. } = f
        .fetch(&format!("{base}/moved"), &Validators::default())
        .await
        .unwrap()
    else {
        panic!("a body")
    };
    assert_eq!(bytes, FEED.as_bytes());
    assert_eq!(
        hints.moved_to,
        Some(format!("{base}/feed")),
        "301 then 308: moved"
    );
    assert_eq!(hints.max_age, Some(Duration::from_secs(600)));
    let Fetched::Body { hints, .. } = f
        .fetch(&format!("{base}/temporary"), &Validators::default())
        .await
        .unwrap()
    else {
        panic!("a body")
    };
    assert_eq!(hints.moved_to, None, "a temporary redirect moves nothing");
}

#[tokio::test]
async fn a_refused_connection_is_a_connect_error() {
    // Bind then drop to get a port with nothing listening.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let f = Fetcher::new(&settings()).unwrap();
    let r = f
        .fetch(&format!("http://127.0.0.1:{port}/"), &Validators::default())
        .await;
    assert!(matches!(r, Err(FetchError::Connect(_))), "{r:?}");
}
