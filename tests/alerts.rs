//! Alerts end to end, with the real binary, a local feed server and a real webhook
//! receiver that checks signatures with the official `standardwebhooks` crate:
//! delivery through a receiver that is down, then fails, then rate-limits; a daemon
//! killed with SIGKILL during a delivery; 410 and the maximum age sending alerts to the
//! dead-letter list, and replay bringing them back under their own ids.

mod common;

use std::collections::{BTreeMap, BTreeSet};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use axum::extract::{Path, State};
use axum::routing::get;
use axum::Router;
use serde_json::Value;

use common::webhook::{Receiver, Reply, SECRET};
use common::{terminate, wait_for, Workspace};

/// Wire stories, each a different event. All are dated so that merging keeps them apart.
const STORIES: &[(&str, &str, &str)] = &[
    (
        "Lavrov meets Wang in Beijing",
        "Russian Foreign Minister Sergey Lavrov met China's top diplomat Wang Yi in Beijing on Tuesday, and the two pledged to deepen cooperation between their countries.",
        "Tue, 07 Mar 2023 15:00:00 GMT",
    ),
    (
        "Council extends South Sudan mission",
        "The UN Security Council adopted a resolution on Thursday extending the mandate of its peacekeeping mission in South Sudan by a year.",
        "Thu, 09 Mar 2023 18:00:00 GMT",
    ),
    (
        "Blinken and Jaishankar meet in New Delhi",
        "U.S. Secretary of State Antony Blinken met Indian Foreign Minister Subrahmanyam Jaishankar in New Delhi on Thursday to discuss trade and security.",
        "Thu, 02 Mar 2023 12:00:00 GMT",
    ),
    (
        "Kishida hosts Yoon in Tokyo",
        "Japanese Prime Minister Fumio Kishida met South Korean President Yoon Suk Yeol in Tokyo on Thursday, the first such visit in twelve years.",
        "Thu, 16 Mar 2023 11:00:00 GMT",
    ),
];

fn rss(count: usize) -> String {
    let items: String = STORIES
        .iter()
        .take(count)
        .enumerate()
        .map(|(i, (title, text, date))| {
            format!(
                "<item><guid>s{i}</guid><link>https://news.example/s{i}</link><title>{title}</title>\
                 <description>{text}</description><pubDate>{date}</pubDate></item>"
            )
        })
        .collect();
    format!("<?xml version=\"1.0\"?><rss version=\"2.0\"><channel><title>wire</title>{items}</channel></rss>")
}

/// A feed server whose feed carries the first `shown` stories.
struct FeedServer {
    base: String,
}

async fn feed(Path(_): Path<String>, State(shown): State<Arc<AtomicUsize>>) -> String {
    rss(shown.load(Ordering::SeqCst))
}

impl FeedServer {
    fn start(runtime: &tokio::runtime::Runtime, shown: usize) -> FeedServer {
        let shown = Arc::new(AtomicUsize::new(shown));
        let listener = runtime
            .block_on(tokio::net::TcpListener::bind("127.0.0.1:0"))
            .unwrap();
        let base = format!("http://{}", listener.local_addr().unwrap());
        let app = Router::new()
            .route("/{name}", get(feed))
            .with_state(shown.clone());
        runtime.spawn(async move { axum::serve(listener, app).await.unwrap() });
        FeedServer { base }
    }
}

fn config(feed: &FeedServer, sinks: &str, alerts: &str) -> String {
    format!(
        "[daemon]\ndefault_interval = \"1s\"\nmax_interval = \"2s\"\njitter = 0.0\nshutdown_grace = \"3s\"\n\n\
         [alerts]\ntimeout = \"5s\"\njitter = 0.0\n{alerts}\n\n{sinks}\n\
         [[feeds]]\nid = \"wire\"\nurl = \"{}/wire.xml\"\n",
        feed.base
    )
}

fn webhook_sink(id: &str, url: &str) -> String {
    format!(
        "[[sinks]]\nid = \"{id}\"\nkind = \"webhook\"\nurl = \"{url}\"\nsecret_file = \"webhook.secret\"\n\n"
    )
}

fn workspace(config: &str) -> Workspace {
    let ws = Workspace::new(config);
    std::fs::write(ws.dir.path().join("webhook.secret"), SECRET).unwrap();
    ws
}

fn json(text: &str) -> Value {
    serde_json::from_str(text).unwrap_or_else(|e| panic!("bad JSON ({e}): {text}"))
}

/// Event id → the distinct message ids it was announced under (accepted requests only).
fn ids_by_event(requests: &[common::webhook::Request]) -> BTreeMap<u64, BTreeSet<String>> {
    let mut out: BTreeMap<u64, BTreeSet<String>> = BTreeMap::new();
    for r in requests.iter().filter(|r| (200..300).contains(&r.status)) {
        let event = r.body["data"]["event"]["id"].as_u64().expect("event id");
        out.entry(event).or_default().insert(r.id.clone());
    }
    out
}

#[test]
fn every_alert_arrives_through_downtime_errors_and_rate_limits() {
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let feeds = FeedServer::start(&runtime, STORIES.len());
    let addr = Receiver::reserve();
    let url = format!("http://{addr}/hook");
    let ws = workspace(&config(
        &feeds,
        &webhook_sink("hook", &url),
        "retry_delays = [\"300ms\", \"600ms\"]\nmax_age = \"1h\"",
    ));
    let mut daemon = ws.spawn_daemon(&[]);
    let base = ws.wait_ready(Duration::from_secs(30));

    // The receiver is down: the first attempts fail and the alerts wait in the outbox.
    wait_for(Duration::from_secs(30), "a failed delivery", || {
        common::http_get(&format!("{base}/metrics")).is_some_and(|(_, m)| {
            m.contains("tidings_alert_deliveries_total{sink=\"hook\",result=\"failed\"}")
        })
    });
    let pending = json(&ws.ok(&["alerts", "--json"]));
    assert!(
        !pending["pending"].as_array().unwrap().is_empty(),
        "alerts wait while the receiver is down: {pending}"
    );
    assert!(
        pending["pending"][0]["last_error"]
            .as_str()
            .is_some_and(|e| !e.is_empty()),
        "a failing alert shows its last error: {pending}"
    );

    // Up again, but first three 500s, then two 429s asking for a second's pause.
    let receiver = Receiver::start(&runtime, addr);
    receiver.script(
        "hook",
        &[
            Reply::Status(500),
            Reply::Status(500),
            Reply::Status(500),
            Reply::TooMany(1),
            Reply::TooMany(1),
        ],
    );

    let events = json(&ws.ok(&["events", "--json"]));
    let expected = events.as_array().unwrap().len();
    assert_eq!(expected, STORIES.len(), "one event per story: {events}");
    wait_for(Duration::from_secs(60), "every alert to arrive", || {
        receiver.accepted_ids("hook").len() >= expected
    });

    let requests = receiver.requests();
    assert!(
        requests.iter().all(|r| r.verified),
        "every request carries a valid Standard Webhooks signature"
    );
    let by_event = ids_by_event(&requests);
    assert_eq!(by_event.len(), expected, "every event was announced");
    assert!(
        by_event.values().all(|ids| ids.len() == 1),
        "each event under one id: {by_event:?}"
    );
    // Retries keep the id: every id that failed was later accepted under the same id.
    let accepted = receiver.accepted_ids("hook");
    for r in requests.iter().filter(|r| r.status >= 400) {
        assert!(
            accepted.contains(&r.id),
            "{} failed and never came back",
            r.id
        );
    }
    // Retry-After was honoured: after each 429 the same alert came back no sooner than
    // the second it asked for.
    for (i, r) in requests.iter().enumerate().filter(|(_, r)| r.status == 429) {
        let next = requests[i + 1..]
            .iter()
            .find(|n| n.id == r.id)
            .expect("a 429'd alert is retried");
        assert!(
            next.at.duration_since(r.at) >= Duration::from_millis(950),
            "retried {:?} after a 429 asking for 1 s",
            next.at.duration_since(r.at)
        );
    }
    let body = &requests.last().unwrap().body;
    assert_eq!(body["type"], "event.new", "{body}");

    wait_for(Duration::from_secs(10), "the outbox to empty", || {
        let a = json(&ws.ok(&["alerts", "--json"]));
        a["pending"].as_array().unwrap().is_empty() && a["dead"].as_array().unwrap().is_empty()
    });
    let (_, metrics) = common::http_get(&format!("{base}/metrics")).unwrap();
    assert!(
        metrics.contains(&format!(
            "tidings_alert_deliveries_total{{sink=\"hook\",result=\"delivered\"}} {expected}"
        )),
        "{metrics}"
    );
    assert!(metrics.contains("tidings_outbox_pending 0"), "{metrics}");
    assert!(terminate(&mut daemon, Duration::from_secs(20)));
    eprintln!(
        "delivery test: {} requests, {} accepted ids, {} events",
        requests.len(),
        accepted.len(),
        expected
    );
}

#[test]
fn a_daemon_killed_during_delivery_resends_under_the_same_ids() {
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let feeds = FeedServer::start(&runtime, STORIES.len());
    let receiver = Receiver::start(&runtime, "127.0.0.1:0".parse().unwrap());
    // The first delivery is held long enough to kill the daemon while it waits.
    receiver.script("hook", &[Reply::Hold(Duration::from_secs(30), 200)]);
    let ws = workspace(&config(
        &feeds,
        &webhook_sink("hook", &receiver.url("hook")),
        "retry_delays = [\"300ms\"]\nmax_age = \"1h\"",
    ));
    let mut daemon = ws.spawn_daemon(&[]);
    wait_for(Duration::from_secs(30), "a delivery in flight", || {
        !receiver.requests().is_empty()
    });
    let in_flight = receiver.requests()[0].id.clone();
    common::signal(&daemon, "KILL");
    let _ = daemon.wait();

    let mut daemon = ws.spawn_daemon(&[]);
    ws.wait_ready(Duration::from_secs(30));
    let events = json(&ws.ok(&["events", "--json"]));
    let expected = events.as_array().unwrap().len();
    assert_eq!(expected, STORIES.len(), "{events}");
    wait_for(
        Duration::from_secs(60),
        "every alert after the restart",
        || {
            let by_event = ids_by_event(&receiver.requests());
            by_event.len() >= expected
        },
    );
    assert!(terminate(&mut daemon, Duration::from_secs(20)));

    let requests = receiver.requests();
    let by_event = ids_by_event(&requests);
    let distinct: BTreeSet<&String> = requests.iter().map(|r| &r.id).collect();
    let repeats = requests.len() - distinct.len();
    eprintln!(
        "crash test: {} events, {} requests received, {} distinct ids, {} repeated by id",
        expected,
        requests.len(),
        distinct.len(),
        repeats
    );
    assert!(requests.iter().all(|r| r.verified));
    assert_eq!(
        by_event.len(),
        expected,
        "every event announced: {by_event:?}"
    );
    assert!(
        by_event.values().all(|ids| ids.len() == 1),
        "no event under a second id: {by_event:?}"
    );
    assert_eq!(distinct.len(), expected, "no alert under a new id");
    assert!(
        requests.iter().filter(|r| r.id == in_flight).count() >= 2,
        "the delivery cut by the kill was sent again under its id {in_flight}"
    );
}

#[test]
fn gone_and_expired_alerts_are_dead_lettered_and_replayed_under_their_ids() {
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let feeds = FeedServer::start(&runtime, 1);
    let receiver = Receiver::start(&runtime, "127.0.0.1:0".parse().unwrap());
    receiver.set_default("gone", Reply::Status(410));
    receiver.set_default("broken", Reply::Status(500));
    let sinks = format!(
        "{}{}",
        webhook_sink("gone", &receiver.url("gone")),
        webhook_sink("broken", &receiver.url("broken"))
    );
    let ws = workspace(&config(
        &feeds,
        &sinks,
        "retry_delays = [\"200ms\"]\nmax_age = \"2s\"",
    ));
    let mut daemon = ws.spawn_daemon(&[]);
    ws.wait_ready(Duration::from_secs(30));
    wait_for(Duration::from_secs(30), "both alerts to be dead", || {
        json(&ws.ok(&["alerts", "--json"]))["dead"]
            .as_array()
            .unwrap()
            .len()
            == 2
    });
    let alerts = json(&ws.ok(&["alerts", "--json"]));
    let dead = alerts["dead"].as_array().unwrap();
    let reason = |sink: &str| {
        dead.iter().find(|a| a["sink"] == sink).unwrap()["dead"]["reason"]
            .as_str()
            .unwrap()
            .to_string()
    };
    assert!(
        reason("gone").contains("endpoint gone (HTTP 410)"),
        "{alerts}"
    );
    assert!(
        reason("broken").contains("not delivered within 2s"),
        "{alerts}"
    );
    let table = ws.ok(&["alerts"]);
    assert!(
        table.contains("dead (2)") && table.contains("alerts replay"),
        "{table}"
    );
    let gone_requests = receiver
        .requests()
        .iter()
        .filter(|r| r.path == "gone")
        .count();
    assert_eq!(gone_requests, 1, "a 410 is not retried");

    // The receivers are fixed; replay brings both back, under their own ids.
    receiver.set_default("gone", Reply::Status(200));
    receiver.set_default("broken", Reply::Status(200));
    let failed_ids: BTreeSet<String> = receiver.requests().into_iter().map(|r| r.id).collect();
    let out = ws.ok(&["alerts", "replay", "--all-dead"]);
    assert!(out.contains("2 dead alerts"), "{out}");
    wait_for(
        Duration::from_secs(30),
        "the replayed alerts to arrive",
        || receiver.accepted_ids("gone").len() == 1 && receiver.accepted_ids("broken").len() == 1,
    );
    let accepted: BTreeSet<String> = receiver
        .accepted_ids("gone")
        .into_iter()
        .chain(receiver.accepted_ids("broken"))
        .collect();
    assert_eq!(
        accepted, failed_ids,
        "replayed under the ids they failed with"
    );
    let after = json(&ws.ok(&["alerts", "--json"]));
    assert!(after["dead"].as_array().unwrap().is_empty(), "{after}");
    assert!(
        ws.run(&["alerts", "replay", "999999"]).status.code() == Some(1),
        "replaying an unknown alert is an error"
    );
    assert!(terminate(&mut daemon, Duration::from_secs(20)));
}

#[test]
fn alerts_test_sends_a_signed_sample_to_one_sink() {
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let feeds = FeedServer::start(&runtime, 0);
    let receiver = Receiver::start(&runtime, "127.0.0.1:0".parse().unwrap());
    receiver.set_default("down", Reply::Status(503));
    let sinks = format!(
        "{}{}",
        webhook_sink("hook", &receiver.url("hook")),
        webhook_sink("down", &receiver.url("down"))
    );
    let ws = workspace(&config(&feeds, &sinks, ""));
    let out = ws.ok(&["alerts", "test", "hook"]);
    assert!(out.contains("test alert delivered (HTTP 200)"), "{out}");
    let requests = receiver.requests();
    assert_eq!(requests.len(), 1);
    assert!(requests[0].verified, "the sample is signed like any alert");
    assert_eq!(requests[0].body["data"]["event"]["type"], "test");

    let failed = ws.run(&["alerts", "test", "down"]);
    assert!(!failed.status.success());
    let stderr = String::from_utf8_lossy(&failed.stderr);
    assert!(stderr.contains("HTTP 503"), "{stderr}");
    let unknown = ws.run(&["alerts", "test", "nowhere"]);
    let stderr = String::from_utf8_lossy(&unknown.stderr);
    assert!(
        stderr.contains("no sink \"nowhere\"") && stderr.contains("hook, down"),
        "{stderr}"
    );
}

/// The sink side of the one Retry-After policy, against a real local server: a 503 asking
/// for a year is held to `http.max_retry_after`, and a 500 with the same header asks for
/// nothing (the configured retry delays apply).
#[test]
fn a_sinks_retry_after_is_capped_and_honoured_only_on_429_and_503() {
    use axum::http::{header, StatusCode};
    use tidings::alerts::credentials::SinkCredentials;
    use tidings::alerts::deliver::{Attempt, Deliverer};

    let runtime = tokio::runtime::Runtime::new().unwrap();
    let base = runtime.block_on(async {
        let router = Router::new()
            .route(
                "/year",
                axum::routing::post(|| async {
                    (
                        StatusCode::SERVICE_UNAVAILABLE,
                        [(header::RETRY_AFTER, "31536000")],
                    )
                }),
            )
            .route(
                "/broken",
                axum::routing::post(|| async {
                    (
                        StatusCode::INTERNAL_SERVER_ERROR,
                        [(header::RETRY_AFTER, "31536000")],
                    )
                }),
            );
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let base = format!("http://{}", listener.local_addr().unwrap());
        tokio::spawn(async move { axum::serve(listener, router).await.unwrap() });
        base
    });
    let config = tidings::config::Config::parse(
        &format!(
            "[http]\nmax_retry_after = \"20m\"\n\n\
             [[sinks]]\nid = \"year\"\nkind = \"slack\"\nurl = \"{base}/year\"\n\n\
             [[sinks]]\nid = \"broken\"\nkind = \"slack\"\nurl = \"{base}/broken\"\n"
        ),
        "t.toml",
    )
    .unwrap();
    let deliverer = Deliverer::new(&config.alerts, &config.http).unwrap();
    let now = chrono::Utc::now();
    let alert = tidings::alerts::sample_alert(now);
    let none = SinkCredentials::default();
    let year = runtime.block_on(deliverer.send(config.sink("year").unwrap(), &none, &alert, now));
    assert_eq!(
        year,
        Attempt::Failed {
            status: Some(503),
            error: "HTTP 503".into(),
            retry_after: Some(Duration::from_secs(20 * 60)),
        }
    );
    let broken =
        runtime.block_on(deliverer.send(config.sink("broken").unwrap(), &none, &alert, now));
    assert_eq!(
        broken,
        Attempt::Failed {
            status: Some(500),
            error: "HTTP 500".into(),
            retry_after: None,
        }
    );
}
