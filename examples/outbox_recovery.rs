//! Outbox recovery run: how a sink outage costs attempts, and how fast the backlog drains
//! once the sink is back. Everything is local (127.0.0.1) and bounded in time.
//!
//! Each run queues `--alerts` alerts (default 1,000) for one webhook sink in a fresh store,
//! starts the delivery worker (`alerts::worker`, in this process, with the default
//! `[alerts]` settings: 1 s to 5 min sink pauses, jitter 0.2, 10 s timeout), and keeps
//! the sink down for `--down` seconds (default 30): nothing listens on its port
//! (`--mode refuse`, connection refused) or it answers 503 (`--mode 503`). Then the
//! receiver accepts everything, and the run waits for the outbox to empty.
//!
//! Reported per run: attempts made while down (the worker's failed deliveries), the wait
//! from recovery to the first delivered alert (the next probe), the drain from the first
//! to the last delivered alert, recovery to empty outbox, and whether every alert
//! arrived exactly once; then the medians over the runs.
//!
//! ```sh
//! cargo run --release --example outbox_recovery -- --runs 3
//! cargo run --release --example outbox_recovery -- --alerts 1000 --down 30 --mode 503 --runs 3
//! ```

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::http::{HeaderMap, StatusCode};
use axum::routing::post;
use axum::Router;
use tokio::sync::{watch, Notify};

use tidings::alerts::credentials::Credentials;
use tidings::alerts::worker::Worker;
use tidings::config::Config;
use tidings::detect::Detection;
use tidings::metrics::{DeliveryLabels, Metrics};
use tidings::model::{AlertReason, Candidate, EventChange, Evidence, Field, Modality};
use tidings::store::{IngestHooks, Store};

const SECRET: &str = "whsec_dGlkaW5ncy10ZXN0LXNpZ25pbmcta2V5LTMyYnl0ZXM=";
/// No run waits longer than this for the outbox to empty after recovery.
const DRAIN_LIMIT: Duration = Duration::from_secs(600);

#[derive(Clone, Copy, PartialEq)]
enum Mode {
    Refuse,
    Unavailable,
}

struct Args {
    alerts: usize,
    down: Duration,
    mode: Mode,
    runs: usize,
}

fn usage() -> ! {
    eprintln!(
        "usage: outbox_recovery [--alerts N (1000)] [--down SECONDS (30)] \
         [--mode refuse|503 (refuse)] [--runs N (1)]"
    );
    std::process::exit(2)
}

fn parse_args() -> Args {
    let mut args = Args {
        alerts: 1000,
        down: Duration::from_secs(30),
        mode: Mode::Refuse,
        runs: 1,
    };
    let mut it = std::env::args().skip(1);
    while let Some(flag) = it.next() {
        let value = it.next().unwrap_or_else(|| usage());
        match flag.as_str() {
            "--alerts" => args.alerts = value.parse().unwrap_or_else(|_| usage()),
            "--down" => {
                args.down = Duration::from_secs_f64(value.parse().unwrap_or_else(|_| usage()))
            }
            "--mode" => {
                args.mode = match value.as_str() {
                    "refuse" => Mode::Refuse,
                    "503" => Mode::Unavailable,
                    _ => usage(),
                }
            }
            "--runs" => args.runs = value.parse().unwrap_or_else(|_| usage()),
            _ => usage(),
        }
    }
    if args.runs == 0 || args.alerts == 0 {
        usage()
    }
    args
}

/// What the receiver saw.
#[derive(Default)]
struct Seen {
    /// Up: accept (else 503).
    up: bool,
    /// Requests answered 2xx, by message id.
    accepted: HashMap<String, usize>,
    refused: usize,
    first_accepted: Option<Instant>,
    last_accepted: Option<Instant>,
}

async fn receive(
    axum::extract::State(seen): axum::extract::State<Arc<Mutex<Seen>>>,
    headers: HeaderMap,
) -> StatusCode {
    let id = headers
        .get("webhook-id")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_string();
    let mut seen = seen.lock().unwrap();
    if !seen.up {
        seen.refused += 1;
        return StatusCode::SERVICE_UNAVAILABLE;
    }
    let now = Instant::now();
    seen.first_accepted.get_or_insert(now);
    seen.last_accepted = Some(now);
    *seen.accepted.entry(id).or_default() += 1;
    StatusCode::NO_CONTENT
}

fn serve(runtime: &tokio::runtime::Runtime, addr: SocketAddr, seen: Arc<Mutex<Seen>>) {
    let listener = runtime
        .block_on(tokio::net::TcpListener::bind(addr))
        .expect("bind the receiver");
    let app = Router::new().route("/hook", post(receive)).with_state(seen);
    runtime.spawn(async move { axum::serve(listener, app).await.expect("serve") });
}

/// Queues `count` alerts for `hook`, each about an event of its own.
fn queue(store: &Store, count: usize) {
    let now = chrono::Utc::now();
    for i in 0..count {
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
                rule: "load".into(),
                matched: Vec::new(),
            },
        };
        let detect = move |_: &tidings::model::Story| vec![detection.clone()];
        let route = |change: &EventChange, _: &tidings::model::Event| match change {
            EventChange::New(_) => Some((AlertReason::New, vec!["hook".to_string()])),
            _ => None,
        };
        store
            .ingest_detecting(
                &candidate,
                &IngestHooks {
                    detect: &detect,
                    route: &route,
                },
            )
            .expect("queue an alert");
    }
}

struct Figures {
    attempts_down: u64,
    first_delivery: Duration,
    drain: Duration,
    recovery_to_empty: Duration,
    exactly_once: bool,
}

fn failed(metrics: &Metrics) -> u64 {
    metrics
        .deliveries
        .get_or_create(&DeliveryLabels {
            sink: "hook".into(),
            result: "failed".into(),
        })
        .get()
}

fn run(args: &Args) -> Figures {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("runtime");
    let dir = tempfile::tempdir().expect("temp dir");
    let secret = dir.path().join("webhook.secret");
    std::fs::write(&secret, SECRET).expect("secret");
    let addr = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("a free port");
    let text = format!(
        "[[sinks]]\nid = \"hook\"\nkind = \"webhook\"\nurl = \"http://{addr}/hook\"\nsecret_file = \"{}\"\n",
        secret.display()
    );
    let config = Config::parse(&text, "outbox_recovery.toml").expect("config");
    let store = Arc::new(Store::open(&dir.path().join("store")).expect("store"));
    queue(&store, args.alerts);

    let seen = Arc::new(Mutex::new(Seen::default()));
    if args.mode == Mode::Unavailable {
        serve(&runtime, addr, Arc::clone(&seen));
    }
    let metrics = Arc::new(Metrics::new());
    let credentials = Credentials::resolve(&config.sinks).expect("secrets");
    let (_config_tx, config_rx) = watch::channel(Arc::new(config));
    let (_cred_tx, cred_rx) = watch::channel(Arc::new(credentials));
    let (stop_tx, stop_rx) = watch::channel(false);
    let worker = Worker::new(
        Arc::clone(&store),
        Arc::clone(&metrics),
        config_rx,
        cred_rx,
        Arc::new(Notify::new()),
    )
    .expect("worker");
    let running = runtime.spawn(worker.run(stop_rx));

    std::thread::sleep(args.down);
    let attempts_down = failed(&metrics);
    let recovered = Instant::now();
    match args.mode {
        Mode::Refuse => {
            seen.lock().unwrap().up = true;
            serve(&runtime, addr, Arc::clone(&seen));
        }
        Mode::Unavailable => seen.lock().unwrap().up = true,
    }
    while store.outbox_counts().expect("counts").pending > 0 {
        if recovered.elapsed() > DRAIN_LIMIT {
            eprintln!("the outbox did not empty within {DRAIN_LIMIT:?}");
            break;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    let recovery_to_empty = recovered.elapsed();
    let _ = stop_tx.send(true);
    let _ = runtime.block_on(running);

    let seen = seen.lock().unwrap();
    let first = seen.first_accepted.unwrap_or(recovered);
    let last = seen.last_accepted.unwrap_or(first);
    Figures {
        attempts_down,
        first_delivery: first.saturating_duration_since(recovered),
        drain: last.saturating_duration_since(first),
        recovery_to_empty,
        exactly_once: seen.accepted.len() == args.alerts && seen.accepted.values().all(|&n| n == 1),
    }
}

fn median(mut xs: Vec<f64>) -> f64 {
    xs.sort_by(f64::total_cmp);
    let n = xs.len();
    if n % 2 == 1 {
        xs[n / 2]
    } else {
        (xs[n / 2 - 1] + xs[n / 2]) / 2.0
    }
}

fn main() {
    let args = parse_args();
    let mode = match args.mode {
        Mode::Refuse => "connection refused",
        Mode::Unavailable => "HTTP 503",
    };
    println!(
        "{} alerts, sink down for {:?} ({mode}), {} run(s)",
        args.alerts, args.down, args.runs
    );
    println!(
        "{:>4} {:>14} {:>12} {:>18} {:>10} {:>20} {:>14}",
        "run",
        "attempts down",
        "per second",
        "first delivery s",
        "drain s",
        "recovery→empty s",
        "exactly once"
    );
    let mut all = Vec::new();
    for i in 1..=args.runs {
        let f = run(&args);
        println!(
            "{i:>4} {:>14} {:>12.2} {:>18.2} {:>10.2} {:>20.2} {:>14}",
            f.attempts_down,
            f.attempts_down as f64 / args.down.as_secs_f64(),
            f.first_delivery.as_secs_f64(),
            f.drain.as_secs_f64(),
            f.recovery_to_empty.as_secs_f64(),
            f.exactly_once
        );
        all.push(f);
    }
    let m = |f: &dyn Fn(&Figures) -> f64| median(all.iter().map(f).collect());
    println!(
        "{:>4} {:>14} {:>12.2} {:>18.2} {:>10.2} {:>20.2} {:>14}",
        "med",
        m(&|f| f.attempts_down as f64),
        m(&|f| f.attempts_down as f64) / args.down.as_secs_f64(),
        m(&|f| f.first_delivery.as_secs_f64()),
        m(&|f| f.drain.as_secs_f64()),
        m(&|f| f.recovery_to_empty.as_secs_f64()),
        all.iter().all(|f| f.exactly_once)
    );
}
