//! What the web view's tests share: a local feed server whose stories the detector
//! finds as events (some with hostile titles), and the real daemon over it with an API
//! token.

#![allow(dead_code)]

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use axum::extract::State;
use axum::routing::get;
use axum::Router;
use chrono::{Duration as Days, Utc};

use crate::common::{self, Workspace};

/// The token the daemon's endpoint requires.
pub const TOKEN: &str = "web-view-token";

/// A title that would run script if a page spliced it unescaped.
pub const HOSTILE_TITLE: &str =
    "<script>window.__xss=1</script><img src=x onerror=\"window.__xss=2\"> Greek and Turkish ministers meet";

/// The meeting the feed adds on its second round (the one the live test waits for).
pub const LIVE_TITLE: &str = "Polish and Ukrainian foreign ministers meet in Warsaw";

/// Meetings the detector finds (title, text), one story each.
const MEETINGS: &[(&str, &str)] = &[
    (HOSTILE_TITLE, "The foreign ministers of Greece and Turkey met in Athens on Monday to discuss maritime borders. &lt;script&gt;window.__xss=3&lt;/script&gt;"),
    ("Macron and Merz meet in Berlin", "French President Emmanuel Macron met German Chancellor Friedrich Merz in Berlin on Tuesday."),
    ("Modi meets Ishiba", "Indian Prime Minister Narendra Modi met Japanese Prime Minister Shigeru Ishiba in Tokyo on Wednesday."),
    ("Lula in Buenos Aires", "Brazilian President Luiz Inacio Lula da Silva met Argentine officials in Buenos Aires on Monday."),
    ("Cairo talks on Sudan", "The foreign ministers of Egypt and Saudi Arabia met in Cairo on Thursday to discuss the war in Sudan."),
    ("Kenya and Ethiopia hold talks", "The foreign ministers of Kenya and Ethiopia held talks in Nairobi on Friday."),
    ("Canada and Mexico meet in Ottawa", "The foreign ministers of Canada and Mexico met in Ottawa on Monday."),
    ("Australia and Indonesia defence talks", "The defence ministers of Australia and Indonesia met in Jakarta on Tuesday."),
    ("Lavrov meets Wang Yi", "Russian Foreign Minister Sergey Lavrov met China's top diplomat Wang Yi in Beijing on Tuesday."),
    ("Macron meets Merz again", "French President Emmanuel Macron met German Chancellor Friedrich Merz in Paris on Thursday."),
];

const VOTE: (&str, &str) = (
    "Council extends South Sudan mission",
    "The UN Security Council adopted a resolution on Thursday extending the mandate of its peacekeeping mission in South Sudan by a year.",
);

const LIVE_TEXT: &str = "The foreign ministers of Poland and Ukraine met in Warsaw on Wednesday.";

/// Another report of the Berlin meeting (`m1`), served from round 1 on: a new source of
/// a stored event.
const CORROBORATION: (&str, &str) = (
    "Merz hosts Macron",
    "German Chancellor Friedrich Merz met French President Emmanuel Macron in Berlin on Tuesday, officials said.",
);

fn escape(text: &str) -> String {
    // Titles are read as HTML inside XML: escaped twice, the story keeps them
    // literally. The texts' own entities (&lt;script&gt;) are escaped once more for the
    // XML, so the story text holds a literal "<script>" after HTML-to-text too.
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}

fn item(guid: &str, title: &str, text: &str, days_ago: i64, link: &str) -> String {
    let date = (Utc::now() - Days::days(days_ago)).to_rfc2822();
    format!(
        "<item><guid>{guid}</guid><link>{link}</link><title>{}</title>\
         <description>{}</description><pubDate>{date}</pubDate></item>",
        escape(&escape(title)),
        text.replace('&', "&amp;")
    )
}

/// The feed on `round`: the meetings spread over the last three weeks and a vote; from
/// round 1 on, one meeting more, published now, and another report of the Berlin one.
fn feed_body(round: usize) -> String {
    let mut items = Vec::new();
    for (i, (title, text)) in MEETINGS.iter().enumerate() {
        let link = if i == 0 {
            "javascript:window.__xss=4".to_string()
        } else {
            format!("https://news.example/m{i}")
        };
        items.push(item(&format!("m{i}"), title, text, 2 + 2 * i as i64, &link));
    }
    items.push(item("v1", VOTE.0, VOTE.1, 5, "https://news.example/v1"));
    if round > 0 {
        items.push(item(
            "live1",
            LIVE_TITLE,
            LIVE_TEXT,
            0,
            "https://news.example/live1",
        ));
        items.push(item(
            "m1b",
            CORROBORATION.0,
            CORROBORATION.1,
            4,
            "https://news.example/m1b",
        ));
    }
    format!(
        "<?xml version=\"1.0\"?><rss version=\"2.0\"><channel><title>Wire &amp; co</title>{}</channel></rss>",
        items.concat()
    )
}

async fn serve_feed(
    State(round): State<Arc<AtomicUsize>>,
) -> ([(&'static str, &'static str); 1], String) {
    (
        [("content-type", "application/rss+xml")],
        feed_body(round.load(Ordering::SeqCst)),
    )
}

/// The feed server and the daemon reading it.
pub struct Desk {
    pub runtime: tokio::runtime::Runtime,
    pub round: Arc<AtomicUsize>,
    pub ws: Workspace,
    pub daemon: Option<std::process::Child>,
    pub base: String,
}

impl Desk {
    /// Starts the feed server and the daemon (with [`TOKEN`]), and waits until the
    /// first poll's events are stored.
    pub fn start() -> Desk {
        let runtime = tokio::runtime::Runtime::new().expect("a runtime");
        let round = Arc::new(AtomicUsize::new(0));
        let listener = runtime
            .block_on(tokio::net::TcpListener::bind("127.0.0.1:0"))
            .expect("bind the feed server");
        let feeds = format!("http://{}", listener.local_addr().unwrap());
        let app = Router::new()
            .route("/wire.xml", get(serve_feed))
            .with_state(round.clone());
        runtime.spawn(async move { axum::serve(listener, app).await.unwrap() });
        let ws = Workspace::new(&format!(
            "[[feeds]]\nid = \"wire\"\nurl = \"{feeds}/wire.xml\"\ninterval = \"1h\"\n\n\
             [api]\nlisten = \"127.0.0.1:0\"\ntoken_file = \"api.token\"\n"
        ));
        std::fs::write(ws.dir.path().join("api.token"), format!("{TOKEN}\n")).unwrap();
        let daemon = ws.spawn_daemon(&[]);
        let base = ws.wait_ready(Duration::from_secs(60));
        let desk = Desk {
            runtime,
            round,
            ws,
            daemon: Some(daemon),
            base,
        };
        common::wait_for(Duration::from_secs(60), "the first poll's events", || {
            desk.api_events().len() > MEETINGS.len() - 2
        });
        desk
    }

    /// `GET path` with the token as a bearer header: status, content type and body.
    pub fn get(&self, path: &str, token: Option<&str>) -> (u16, String, String) {
        let url = format!("{}{path}", self.base);
        self.runtime.block_on(async {
            let mut request = reqwest::Client::builder()
                .redirect(reqwest::redirect::Policy::none())
                .build()
                .unwrap()
                .get(&url)
                .timeout(Duration::from_secs(20));
            if let Some(t) = token {
                request = request.bearer_auth(t);
            }
            let response = request
                .send()
                .await
                .unwrap_or_else(|e| panic!("GET {url}: {e}"));
            let status = response.status().as_u16();
            let kind = response
                .headers()
                .get("content-type")
                .and_then(|v| v.to_str().ok())
                .unwrap_or("")
                .to_string();
            (status, kind, response.text().await.unwrap())
        })
    }

    /// The stored events, through the JSON API.
    pub fn api_events(&self) -> Vec<serde_json::Value> {
        let (status, _, body) = self.get("/api/v1/events?limit=1000", Some(TOKEN));
        assert_eq!(status, 200, "{body}");
        serde_json::from_str(&body).unwrap()
    }

    /// Serves the feed's next round and asks the daemon to poll it now.
    pub fn publish_more_and_poll(&self) {
        self.round.store(1, Ordering::SeqCst);
        let url = format!("{}/api/v1/feeds/wire/poll", self.base);
        let status = self.runtime.block_on(async {
            reqwest::Client::new()
                .post(&url)
                .bearer_auth(TOKEN)
                .header("x-tidings-request", "1")
                .timeout(Duration::from_secs(20))
                .send()
                .await
                .unwrap()
                .status()
        });
        assert!(status.is_success(), "poll request: {status}");
    }

    pub fn stop(&mut self) {
        if let Some(mut child) = self.daemon.take() {
            assert!(
                common::terminate(&mut child, Duration::from_secs(20)),
                "the daemon stops\n{}",
                self.ws.log()
            );
        }
    }
}

impl Drop for Desk {
    fn drop(&mut self) {
        if let Some(mut child) = self.daemon.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}
