//! Per-sink circuit breakers against a real webhook receiver on 127.0.0.1: a sink that
//! answers 503 (or is not listening) is paused as a whole — few attempts, bounded by the
//! backoff schedule and not by its backlog, no attempts spent by the waiting alerts —
//! while a healthy sink keeps receiving; once it answers again its backlog arrives
//! exactly once, in outbox order, and the state shows open, then closed, in the store, the
//! metrics and `tidings alerts` (from the store, and through a running daemon's API).

mod common;

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use serde_json::Value;
use tokio::sync::{watch, Notify};

use common::webhook::{Receiver, Reply, SECRET};
use common::{terminate, wait_for, Workspace};
use tidings::alerts::breaker::Policy;
use tidings::alerts::credentials::Credentials;
use tidings::alerts::worker::Worker;
use tidings::config::Config;
use tidings::detect::Detection;
use tidings::metrics::Metrics;
use tidings::model::{
    AlertReason, Candidate, CircuitState, EventChange, Evidence, Field, Modality,
};
use tidings::store::{AlertState, IngestHooks, Store};

/// Alerts queued for the sink that goes down.
const BACKLOG: usize = 40;
/// Alerts for the healthy sink.
const HEALTHY: usize = 5;
/// The worker's deliveries in flight (`alerts::worker`).
const PARALLEL: usize = 4;

/// A story of its own, about an event of its own (an organisation named after `i`).
fn story(i: usize) -> (Candidate, Detection) {
    let now = chrono::Utc::now();
    let candidate = Candidate {
        feed: "wire".into(),
        guid: format!("g{i}"),
        guid_derived: false,
        url: Some(format!("https://news.example/{i}")),
        raw_url: None,
        title: format!("Item {i}"),
        text: format!("Item {i}."),
        published: Some(now),
        language: None,
        seen_at: now,
    };
    let detection = Detection {
        event_type: "un_vote".into(),
        actors: Vec::new(),
        countries: Vec::new(),
        organization: Some(format!("ORG{i}")),
        location: None,
        date: None,
        modality: Modality::Occurred,
        confidence: 0.9,
        evidence: Evidence {
            resolved_against: None,
            field: Field::Text,
            sentence: format!("Item {i}."),
            start: 0,
            end: 1,
            rule: "test".into(),
            matched: Vec::new(),
        },
    };
    (candidate, detection)
}

/// Queues `count` alerts for `sink`, stories numbered from `first`.
fn queue(store: &Store, sink: &str, first: usize, count: usize) {
    for i in first..first + count {
        let (candidate, detection) = story(i);
        let detect = move |_: &tidings::model::Story| vec![detection.clone()];
        let route = |change: &EventChange, _: &tidings::model::Event| match change {
            EventChange::New(_) => Some((AlertReason::New, vec![sink.to_string()])),
            _ => None,
        };
        let done = store
            .ingest_detecting(
                &candidate,
                &IngestHooks {
                    detect: &detect,
                    route: &route,
                },
            )
            .unwrap();
        assert_eq!(done.alerts.len(), 1, "story {i} raises one alert");
    }
}

fn sink(id: &str, url: &str, secret: &std::path::Path) -> String {
    format!(
        "[[sinks]]\nid = \"{id}\"\nkind = \"webhook\"\nurl = \"{url}\"\nsecret_file = \"{}\"\n\n",
        secret.display()
    )
}

fn circuit(store: &Store, sink: &str) -> Option<tidings::model::SinkCircuit> {
    store
        .sink_circuits()
        .unwrap()
        .into_iter()
        .find(|c| c.sink == sink)
}

fn refused_requests(receiver: &Receiver) -> usize {
    receiver
        .requests()
        .iter()
        .filter(|r| r.path == "hook" && r.status == 503)
        .count()
}

/// How many probes the schedule allows within `window` after the circuit opened.
fn probes_within(policy: &Policy, window: Duration) -> usize {
    let mut at = Duration::ZERO;
    let mut n = 0;
    loop {
        at += policy.backoff(n as u32 + 1);
        if at > window {
            return n;
        }
        n += 1;
    }
}

#[test]
fn a_down_sink_is_paused_as_a_whole_and_drains_its_backlog_once_in_order() {
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let receiver = Receiver::start(&runtime, "127.0.0.1:0".parse().unwrap());
    receiver.set_default("hook", Reply::Status(503));
    let ws = Workspace::new("");
    let secret = ws.dir.path().join("webhook.secret");
    std::fs::write(&secret, SECRET).unwrap();
    let text = format!(
        "[alerts]\ntimeout = \"5s\"\njitter = 0.0\nretry_delays = [\"10ms\"]\nmax_age = \"1h\"\n\
         sink_backoff_min = \"100ms\"\nsink_backoff_max = \"800ms\"\n\n{}{}",
        sink("hook", &receiver.url("hook"), &secret),
        sink("desk", &receiver.url("desk"), &secret)
    );
    ws.write_config(&text);
    let config = Config::parse(&text, "t.toml").unwrap();
    let policy = Policy::from_settings(&config.alerts);

    std::fs::create_dir_all(ws.data_dir()).unwrap();
    let store = Arc::new(Store::open(&ws.data_dir().join("store")).unwrap());
    queue(&store, "hook", 0, BACKLOG);
    queue(&store, "desk", BACKLOG, HEALTHY);
    // Outbox order of the backlog, by message id.
    let order: Vec<String> = store
        .list_alerts(AlertState::Pending, usize::MAX)
        .unwrap()
        .into_iter()
        .filter(|a| a.sink == "hook")
        .map(|a| a.message_id())
        .collect();
    assert_eq!(order.len(), BACKLOG);

    let metrics = Arc::new(Metrics::new());
    let credentials = Credentials::resolve(&config.sinks).unwrap();
    let (_config_tx, config_rx) = watch::channel(Arc::new(config));
    let (_credentials_tx, credentials_rx) = watch::channel(Arc::new(credentials));
    let (stop_tx, stop_rx) = watch::channel(false);
    let worker = Worker::new(
        Arc::clone(&store),
        Arc::clone(&metrics),
        config_rx,
        credentials_rx,
        Arc::new(Notify::new()),
    )
    .unwrap();
    let started = Instant::now();
    let running = runtime.spawn(worker.run(stop_rx));

    // Down: the circuit opens, the healthy sink gets everything meanwhile.
    wait_for(
        Duration::from_secs(30),
        "the hook's circuit to open",
        || circuit(&store, "hook").is_some_and(|c| c.state != CircuitState::Closed),
    );
    assert!(
        metrics
            .encode()
            .contains("tidings_sink_state_changes_total{sink=\"hook\",state=\"open\"}"),
        "{}",
        metrics.encode()
    );
    wait_for(Duration::from_secs(30), "every desk alert", || {
        receiver.accepted_ids("desk").len() == HEALTHY
    });
    // Stay down a while, long enough for a few probes.
    wait_for(Duration::from_secs(30), "a few failed probes", || {
        circuit(&store, "hook").is_some_and(|c| c.failures >= 3)
    });
    let paused = circuit(&store, "hook").unwrap();
    assert!(paused.next_probe.is_some(), "{paused:?}");
    // Only real attempts count: the waiting alerts' attempts add up to the refused
    // requests (give or take the one probe that may be in flight).
    let attempts: u32 = store
        .list_alerts(AlertState::Pending, usize::MAX)
        .unwrap()
        .iter()
        .map(|a| a.attempts)
        .sum();
    let refused_then = refused_requests(&receiver);
    assert!(
        (attempts as usize).abs_diff(refused_then) <= 1,
        "{attempts} attempts recorded for {refused_then} refused requests"
    );
    // The failed attempts kept their alerts' places: the outbox order is unchanged.
    let waiting: Vec<String> = store
        .list_alerts(AlertState::Pending, usize::MAX)
        .unwrap()
        .into_iter()
        .filter(|a| a.sink == "hook")
        .map(|a| a.message_id())
        .collect();
    assert_eq!(waiting, order, "the backlog waits in its order");
    receiver.set_default("hook", Reply::Status(200));
    let window = started.elapsed();

    let refused = refused_requests(&receiver);
    // The first round's deliveries in flight, then one probe per pause of the schedule
    // (plus one that may have crossed the switch), not one per alert.
    let bound = PARALLEL + probes_within(&policy, window) + 1;
    assert!(
        refused <= bound && refused < BACKLOG,
        "{refused} refused attempts in {window:?}; the schedule allows {bound}"
    );

    // Up again: the backlog arrives, every alert once, in outbox order.
    wait_for(Duration::from_secs(60), "the backlog to drain", || {
        receiver.accepted_ids("hook").len() == BACKLOG
    });
    wait_for(Duration::from_secs(10), "the outbox to empty", || {
        store.outbox_counts().unwrap().pending == 0
    });
    let _ = stop_tx.send(true);
    runtime.block_on(running).unwrap().unwrap();

    let accepted: Vec<String> = receiver
        .requests()
        .into_iter()
        .filter(|r| r.path == "hook" && r.status == 200)
        .map(|r| r.id)
        .collect();
    let mut times: BTreeMap<&str, usize> = BTreeMap::new();
    for id in &accepted {
        *times.entry(id).or_default() += 1;
    }
    assert!(times.values().all(|&n| n == 1), "delivered once: {times:?}");
    assert_eq!(accepted.len(), BACKLOG);
    assert!(
        receiver.requests().iter().all(|r| r.verified),
        "every request is signed"
    );
    assert_eq!(accepted[0], order[0], "the probe is the oldest alert");
    // Sent oldest first with the worker's parallelism: an alert goes only once all but
    // PARALLEL − 1 of the alerts ahead of it were answered, so none arrives more than
    // PARALLEL − 1 places ahead of its place in the outbox. (Arrivals can lag behind
    // their place: a request that is slow to connect is overtaken by later ones.)
    for (place, id) in order.iter().enumerate() {
        let arrived = accepted.iter().position(|a| a == id).unwrap();
        assert!(
            arrived + PARALLEL > place,
            "alert {place} of the outbox arrived {arrived}th: {accepted:?} vs {order:?}"
        );
    }
    let closed = circuit(&store, "hook").unwrap();
    assert_eq!(closed.state, CircuitState::Closed, "{closed:?}");
    assert_eq!(closed.failures, 0);
    assert!(closed.changes >= 3, "opened, probed, closed: {closed:?}");
    let text = metrics.encode();
    assert!(
        text.contains("tidings_sink_state{sink=\"hook\"} 0"),
        "{text}"
    );
    assert!(
        text.contains("tidings_sink_state{sink=\"desk\"} 0"),
        "{text}"
    );
    assert!(
        text.contains("tidings_sink_state_changes_total{sink=\"hook\",state=\"closed\"} 1"),
        "{text}"
    );
    assert!(
        !text.contains("sink=\"desk\",state=\"open\""),
        "the healthy sink never opened: {text}"
    );

    // The CLI reads the saved breakers from the store.
    drop(store);
    // sled lets go of its lock from a background thread shortly after the last handle.
    wait_for(Duration::from_secs(10), "the store to be free", || {
        ws.run(&["alerts"]).status.success()
    });
    let table = ws.ok(&["alerts"]);
    let hook = table
        .lines()
        .find(|l| l.trim_start().starts_with("hook"))
        .unwrap();
    assert!(
        hook.contains("closed") && hook.contains("delivering"),
        "{table}"
    );
    let json: Value = serde_json::from_str(&ws.ok(&["alerts", "--json"])).unwrap();
    assert_eq!(json["sinks"][0]["sink"], "hook", "{json}");
    assert_eq!(json["sinks"][0]["state"], "closed", "{json}");
    assert_eq!(json["sinks"][1]["changes"], 0, "{json}");
}

/// The daemon's view: `tidings alerts` through the running daemon's API and `/metrics`
/// show the sink open with its next probe while nothing listens, then closed.
#[test]
fn a_running_daemon_shows_each_sinks_state_and_next_probe() {
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let feeds = runtime.block_on(async {
        let rss = "<?xml version=\"1.0\"?><rss version=\"2.0\"><channel><title>wire</title>\
            <item><guid>s0</guid><link>https://news.example/s0</link><title>Lavrov meets Wang in Beijing</title>\
            <description>Russian Foreign Minister Sergey Lavrov met China's top diplomat Wang Yi in Beijing on Tuesday, and the two pledged to deepen cooperation between their countries.</description>\
            <pubDate>Tue, 07 Mar 2023 15:00:00 GMT</pubDate></item></channel></rss>";
        let app = axum::Router::new().route("/wire.xml", axum::routing::get(move || async move { rss }));
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let base = format!("http://{}", listener.local_addr().unwrap());
        tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
        base
    });
    let addr = Receiver::reserve();
    let ws = Workspace::new("");
    let secret = ws.dir.path().join("webhook.secret");
    std::fs::write(&secret, SECRET).unwrap();
    ws.write_config(&format!(
        "[daemon]\ndefault_interval = \"1s\"\nmax_interval = \"2s\"\njitter = 0.0\nshutdown_grace = \"3s\"\n\n\
         [alerts]\ntimeout = \"5s\"\njitter = 0.0\nsink_backoff_min = \"300ms\"\nsink_backoff_max = \"1s\"\n\n\
         {}[[feeds]]\nid = \"wire\"\nurl = \"{feeds}/wire.xml\"\n",
        sink("hook", &format!("http://{addr}/hook"), &secret)
    ));
    let mut daemon = ws.spawn_daemon(&[]);
    let base = ws.wait_ready(Duration::from_secs(30));

    // Nothing listens: open, with a next probe, in the CLI (through the API) and metrics.
    wait_for(Duration::from_secs(30), "the sink to show as open", || {
        let json: Value = serde_json::from_str(&ws.ok(&["alerts", "--json"])).unwrap();
        json["sinks"][0]["state"] == "open" && json["sinks"][0]["next_probe"].is_string()
    });
    let table = ws.ok(&["alerts"]);
    let hook = table
        .lines()
        .find(|l| l.trim_start().starts_with("hook"))
        .unwrap();
    assert!(
        hook.contains("open") && hook.contains("next probe"),
        "{table}"
    );
    let (_, metrics) = common::http_get(&format!("{base}/metrics")).unwrap();
    assert!(
        metrics.contains("tidings_sink_state_changes_total{sink=\"hook\",state=\"open\"}"),
        "{metrics}"
    );

    // It listens: the probe is delivered and the circuit closes.
    let receiver = Receiver::start(&runtime, addr);
    wait_for(Duration::from_secs(30), "the alert to arrive", || {
        receiver.accepted_ids("hook").len() == 1
    });
    wait_for(
        Duration::from_secs(10),
        "the sink to show as closed",
        || {
            let json: Value = serde_json::from_str(&ws.ok(&["alerts", "--json"])).unwrap();
            json["sinks"][0]["state"] == "closed"
        },
    );
    let (_, metrics) = common::http_get(&format!("{base}/metrics")).unwrap();
    assert!(
        metrics.contains("tidings_sink_state{sink=\"hook\"} 0"),
        "{metrics}"
    );
    assert!(
        metrics.contains("tidings_sink_state_changes_total{sink=\"hook\",state=\"closed\"} 1"),
        "{metrics}"
    );
    assert!(terminate(&mut daemon, Duration::from_secs(20)));
    let log = ws.log();
    assert_eq!(
        log.matches("sink down: delivery paused").count(),
        1,
        "one WARN when it opened: {log}"
    );
    assert_eq!(
        log.matches("sink answers again: delivery resumed").count(),
        1,
        "one INFO when it closed: {log}"
    );
}
