//! The daemon's global fetch cap, its per-host limits and its graceful shutdown, against
//! a real HTTP server on 127.0.0.1 whose responses are slow or never come.

mod common;

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::extract::{Path, State};
use axum::routing::get;
use axum::Router;
use serde_json::Value;

use common::{terminate, wait_for, Workspace};

#[derive(Default)]
struct Load {
    in_flight: AtomicUsize,
    max_in_flight: AtomicUsize,
    served: AtomicUsize,
    hanging: AtomicUsize,
    starts: std::sync::Mutex<Vec<Instant>>,
}

fn feed_xml(name: &str) -> String {
    format!(
        "<?xml version=\"1.0\"?><rss version=\"2.0\"><channel><title>{name}</title>\
         <item><guid>{name}-1</guid><link>https://slow.example/{name}</link><title>Story from {name}</title></item>\
         </channel></rss>"
    )
}

async fn slow(Path(name): Path<String>, State(load): State<Arc<Load>>) -> String {
    load.starts.lock().unwrap().push(Instant::now());
    let now = load.in_flight.fetch_add(1, Ordering::SeqCst) + 1;
    load.max_in_flight.fetch_max(now, Ordering::SeqCst);
    tokio::time::sleep(Duration::from_millis(300)).await;
    load.in_flight.fetch_sub(1, Ordering::SeqCst);
    load.served.fetch_add(1, Ordering::SeqCst);
    feed_xml(&name)
}

async fn hang(State(load): State<Arc<Load>>) -> String {
    load.hanging.fetch_add(1, Ordering::SeqCst);
    tokio::time::sleep(Duration::from_secs(120)).await;
    feed_xml("late")
}

fn start_server(runtime: &tokio::runtime::Runtime, load: Arc<Load>) -> String {
    let listener = runtime
        .block_on(tokio::net::TcpListener::bind("127.0.0.1:0"))
        .unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let app = Router::new()
        .route("/slow/{name}", get(slow))
        .route("/hang", get(hang))
        .with_state(load);
    runtime.spawn(async move { axum::serve(listener, app).await.unwrap() });
    base
}

#[test]
fn no_more_fetches_run_at_once_than_the_cap() {
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let load = Arc::new(Load::default());
    let base = start_server(&runtime, load.clone());
    let mut config = String::from(
        "[daemon]\nmax_concurrent_fetches = 2\nper_host_concurrency = 8\nper_host_spacing = \"0s\"\n\
         default_interval = \"1s\"\njitter = 0.0\n",
    );
    for i in 0..6 {
        config.push_str(&format!(
            "\n[[feeds]]\nid = \"f{i}\"\nurl = \"{base}/slow/f{i}\"\n"
        ));
    }
    let ws = Workspace::new(&config);
    let mut daemon = ws.spawn_daemon(&[]);
    wait_for(Duration::from_secs(30), "18 slow responses", || {
        load.served.load(Ordering::SeqCst) >= 18
    });
    assert!(
        terminate(&mut daemon, Duration::from_secs(15)),
        "{}",
        ws.log()
    );
    let max = load.max_in_flight.load(Ordering::SeqCst);
    assert_eq!(
        max, 2,
        "the cap is 2 and six feeds were due together; saw {max} at once"
    );
    let stories: Value = serde_json::from_str(&ws.ok(&["stories", "--json"])).unwrap();
    assert_eq!(stories.as_array().unwrap().len(), 6);
}

#[test]
fn one_host_gets_its_concurrency_and_spacing_whatever_the_global_cap() {
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let load = Arc::new(Load::default());
    let base = start_server(&runtime, load.clone());
    let mut config = String::from(
        "[daemon]\nmax_concurrent_fetches = 8\nper_host_concurrency = 1\nper_host_spacing = \"400ms\"\n\
         default_interval = \"1s\"\nmax_interval = \"2s\"\njitter = 0.0\n",
    );
    for i in 0..4 {
        config.push_str(&format!(
            "\n[[feeds]]\nid = \"f{i}\"\nurl = \"{base}/slow/f{i}\"\n"
        ));
    }
    let ws = Workspace::new(&config);
    let mut daemon = ws.spawn_daemon(&[]);
    wait_for(Duration::from_secs(30), "8 slow responses", || {
        load.served.load(Ordering::SeqCst) >= 8
    });
    assert!(
        terminate(&mut daemon, Duration::from_secs(15)),
        "{}",
        ws.log()
    );
    assert_eq!(
        load.max_in_flight.load(Ordering::SeqCst),
        1,
        "one request at a time to this host"
    );
    // The daemon starts requests 400 ms apart; the server sees them arrive with a few
    // milliseconds of scheduling jitter on a loaded machine. Without the spacing they
    // would arrive 300 ms apart (the response time, one request at a time).
    let starts = load.starts.lock().unwrap().clone();
    for pair in starts.windows(2) {
        let gap = pair[1].duration_since(pair[0]);
        assert!(
            gap >= Duration::from_millis(370),
            "requests to one host started {gap:?} apart (spacing 400 ms)"
        );
    }
}

#[test]
fn shutdown_abandons_a_hanging_poll_after_the_grace_period_and_keeps_the_rest() {
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let load = Arc::new(Load::default());
    let base = start_server(&runtime, load.clone());
    let config = format!(
        "[daemon]\ndefault_interval = \"1s\"\njitter = 0.0\nshutdown_grace = \"1s\"\n\n\
         [http]\ntotal_timeout = \"100s\"\nread_timeout = \"100s\"\n\n\
         [[feeds]]\nid = \"stuck\"\nurl = \"{base}/hang\"\n\n\
         [[feeds]]\nid = \"fine\"\nurl = \"{base}/slow/fine\"\n"
    );
    let ws = Workspace::new(&config);
    let mut daemon = ws.spawn_daemon(&[]);
    wait_for(
        Duration::from_secs(20),
        "the hanging request and one good poll",
        || load.hanging.load(Ordering::SeqCst) >= 1 && load.served.load(Ordering::SeqCst) >= 1,
    );
    let stopping = Instant::now();
    assert!(
        terminate(&mut daemon, Duration::from_secs(10)),
        "{}",
        ws.log()
    );
    let took = stopping.elapsed();
    let log = ws.log();
    assert!(log.contains("abandoning polls in flight"), "{log}");
    assert!(log.contains("store flushed"), "{log}");
    eprintln!("shutdown took {took:?} with a 1 s grace period");

    let feeds: Value = serde_json::from_str(&ws.ok(&["feeds", "--json"])).unwrap();
    let feed = |id: &str| common::feed_row(&feeds, id);
    assert_eq!(
        feed("stuck")["polls"],
        0,
        "an abandoned poll leaves its feed untouched"
    );
    assert_eq!(feed("fine")["health"], "ok");
    assert_eq!(feed("fine")["stories"], 1);
}
