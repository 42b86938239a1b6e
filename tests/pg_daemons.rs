//! Three daemons on one PostgreSQL database (`TIDINGS_TEST_DATABASE_URL`, which
//! `.ci/run` sets), polling 24 feeds on six local hosts whose feeds carry the same wire
//! stories: every feed is polled by one daemon per cycle, the copies make one story
//! with many sources and the meeting one event, each event is announced under one
//! alert id, and the feeds of a daemon killed with SIGKILL are polled by the others
//! within the lease.

mod common;

use std::collections::{BTreeMap, BTreeSet};
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::extract::{Path, State};
use axum::http::header;
use axum::response::IntoResponse;
use axum::routing::get;
use axum::Router;
use common::pg::database_or_skip;
use common::webhook::{Receiver, SECRET};
use common::{signal, terminate, wait_for, Workspace};
use serde_json::Value;

const HOSTS: usize = 6;
const FEEDS_PER_HOST: usize = 4;
const DAEMONS: usize = 3;
/// Each feed's poll interval, and the claims' lease.
const INTERVAL: Duration = Duration::from_secs(2);
const LEASE: Duration = Duration::from_secs(3);

/// Two reports of one meeting, carried by many feeds under their own links.
const MEETING_A: &str = "The foreign ministers of Spain and Portugal met in Madrid on Tuesday to discuss trade and security.";
const MEETING_B: &str = "Spanish Foreign Minister Jose Manuel Albares held talks with his Portuguese counterpart Paulo Rangel in Madrid on Tuesday, their offices said.";
/// A wire story every feed carries.
const WIRE: &str = "Harvest figures released on Tuesday showed wheat output rising in the northern plains while rain delayed planting in coastal valleys.";

const WORDS: [&str; 64] = [
    "river",
    "council",
    "budget",
    "orchard",
    "festival",
    "railway",
    "harbour",
    "museum",
    "library",
    "bridge",
    "tunnel",
    "market",
    "theatre",
    "stadium",
    "airport",
    "garden",
    "factory",
    "school",
    "clinic",
    "forest",
    "mountain",
    "valley",
    "island",
    "desert",
    "glacier",
    "canal",
    "village",
    "castle",
    "tower",
    "cathedral",
    "university",
    "hospital",
    "orchestra",
    "gallery",
    "vineyard",
    "lighthouse",
    "monastery",
    "reservoir",
    "plaza",
    "quarry",
    "meadow",
    "pier",
    "ferry",
    "tram",
    "bakery",
    "brewery",
    "mill",
    "forge",
    "kiln",
    "loom",
    "archive",
    "observatory",
    "aquarium",
    "zoo",
    "arena",
    "chapel",
    "fountain",
    "warehouse",
    "dockyard",
    "foundry",
    "greenhouse",
    "pavilion",
    "terrace",
    "courtyard",
];

/// A story text of its own for `n`: words no other story shares in this order.
fn local_text(n: usize) -> String {
    let mut state = (n as u64 + 1).wrapping_mul(0x9E37_79B9_7F4A_7C15);
    let words: Vec<&str> = (0..24)
        .map(|_| {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            WORDS[(state % WORDS.len() as u64) as usize]
        })
        .collect();
    format!("Local report {n}: {}.", words.join(" "))
}

fn item(title: &str, link: &str, text: &str) -> String {
    format!(
        "<item><title>{title}</title><link>{link}</link><guid>{link}</guid>\
         <pubDate>Tue, 01 Dec 2026 12:00:00 GMT</pubDate><description>{text}</description></item>"
    )
}

/// Feed `k` of host `h`: two stories of its own, the wire story, and one of the two
/// meeting reports (A on even feeds, B on odd), each under this feed's own link.
fn feed_document(h: usize, k: usize) -> String {
    let n = h * FEEDS_PER_HOST + k;
    let site = format!("https://site{h}.example/{k}");
    let mut items = String::new();
    for own in 0..2 {
        items.push_str(&item(
            &format!("Local {n}-{own}"),
            &format!("{site}/local-{own}"),
            &local_text(n * 2 + own),
        ));
    }
    items.push_str(&item("Harvest figures", &format!("{site}/wire"), WIRE));
    let (title, text) = if n % 2 == 0 {
        ("Ministers meet in Madrid", MEETING_A)
    } else {
        ("Albares and Rangel hold talks", MEETING_B)
    };
    items.push_str(&item(title, &format!("{site}/meeting"), text));
    format!(
        "<?xml version=\"1.0\"?><rss version=\"2.0\"><channel><title>Site {h} feed {k}</title>\
         <link>{site}</link><description>d</description>{items}</channel></rss>"
    )
}

/// Requests the feed servers answered, by feed id, with when.
type Requests = Arc<Mutex<BTreeMap<String, Vec<Instant>>>>;

#[derive(Clone)]
struct HostState {
    host: usize,
    requests: Requests,
}

async fn serve_feed(State(s): State<HostState>, Path(file): Path<String>) -> impl IntoResponse {
    let k: usize = file
        .trim_start_matches('f')
        .trim_end_matches(".xml")
        .parse()
        .unwrap_or(usize::MAX);
    if k >= FEEDS_PER_HOST {
        return (axum::http::StatusCode::NOT_FOUND, String::new()).into_response();
    }
    s.requests
        .lock()
        .unwrap()
        .entry(feed_id(s.host, k))
        .or_default()
        .push(Instant::now());
    (
        [(header::CONTENT_TYPE, "application/rss+xml")],
        feed_document(s.host, k),
    )
        .into_response()
}

fn feed_id(h: usize, k: usize) -> String {
    format!("h{h}-f{k}")
}

/// Six feed servers, one per loopback address 127.0.0.1 … 127.0.0.6 (each its own host
/// for the politeness limits and the claims).
fn start_hosts(runtime: &tokio::runtime::Runtime, requests: &Requests) -> Vec<SocketAddr> {
    (0..HOSTS)
        .map(|h| {
            let listener = runtime
                .block_on(tokio::net::TcpListener::bind(format!(
                    "127.0.0.{}:0",
                    h + 1
                )))
                .expect("bind a loopback address");
            let addr = listener.local_addr().unwrap();
            let app = Router::new()
                .route("/{file}", get(serve_feed))
                .with_state(HostState {
                    host: h,
                    requests: Arc::clone(requests),
                });
            runtime.spawn(async move { axum::serve(listener, app).await.unwrap() });
            addr
        })
        .collect()
}

fn config(hosts: &[SocketAddr], sink: &str) -> String {
    let mut text = format!(
        "[store]\nbackend = \"postgres\"\nurl_file = \"db.url\"\nlease = \"{}s\"\n\n\
         [daemon]\nadaptive = false\njitter = 0.0\ndefault_interval = \"{}s\"\n\
         per_host_spacing = \"0s\"\nshutdown_grace = \"3s\"\n\n\
         [alerts]\ntimeout = \"5s\"\njitter = 0.0\n\n\
         [[sinks]]\nid = \"desk\"\nkind = \"webhook\"\nurl = \"{sink}\"\nsecret_file = \"webhook.secret\"\n\n",
        LEASE.as_secs(),
        INTERVAL.as_secs()
    );
    for (h, addr) in hosts.iter().enumerate() {
        for k in 0..FEEDS_PER_HOST {
            text.push_str(&format!(
                "[[feeds]]\nid = \"{}\"\nurl = \"http://{addr}/f{k}.xml\"\n\n",
                feed_id(h, k)
            ));
        }
    }
    text
}

/// The feeds a daemon's log says it polled, with how many times.
fn polled_in_log(log: &str) -> BTreeMap<String, usize> {
    let mut out = BTreeMap::new();
    for line in log.lines().filter(|l| l.contains(" poll feed=")) {
        if let Some(rest) = line.split(" poll feed=").nth(1) {
            let id = rest.split_whitespace().next().unwrap_or("").to_string();
            *out.entry(id).or_insert(0) += 1;
        }
    }
    out
}

fn json(text: &str) -> Value {
    serde_json::from_str(text).unwrap_or_else(|e| panic!("bad JSON ({e}): {text}"))
}

#[test]
fn three_daemons_share_the_feeds_store_each_thing_once_and_take_over_from_a_killed_one() {
    let Some(db) = database_or_skip("pg_three_daemons") else {
        return;
    };
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let requests: Requests = Arc::default();
    let hosts = start_hosts(&runtime, &requests);
    let receiver = Receiver::start(&runtime, Receiver::reserve());
    let text = config(&hosts, &receiver.url("desk"));
    let workspaces: Vec<Workspace> = (0..DAEMONS)
        .map(|_| {
            let ws = Workspace::new(&text);
            std::fs::write(ws.dir.path().join("db.url"), &db.url).unwrap();
            std::fs::write(ws.dir.path().join("webhook.secret"), SECRET).unwrap();
            ws
        })
        .collect();
    let mut daemons: Vec<_> = workspaces.iter().map(|ws| ws.spawn_daemon(&[])).collect();
    for ws in &workspaces {
        ws.wait_ready(Duration::from_secs(30));
    }
    let all: Vec<String> = (0..HOSTS)
        .flat_map(|h| (0..FEEDS_PER_HOST).map(move |k| feed_id(h, k)))
        .collect();

    // Phase 1: a few cycles with all three running.
    let polls_of = |feed: &str| requests.lock().unwrap().get(feed).map_or(0, Vec::len);
    wait_for(Duration::from_secs(60), "every feed polled 4 times", || {
        all.iter().all(|f| polls_of(f) >= 4)
    });

    // Which daemon holds which feed, as `tidings feeds` shows it.
    let feeds = json(&workspaces[1].ok(&["feeds", "--json"]));
    let holder: BTreeMap<String, String> = feeds
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            (
                r["id"].as_str().unwrap().to_string(),
                r["daemon"].as_str().unwrap_or("").to_string(),
            )
        })
        .collect();
    let names: BTreeSet<&String> = holder.values().collect();
    assert_eq!(
        names.len(),
        DAEMONS,
        "each daemon holds some of the six hosts: {holder:?}"
    );
    assert!(holder.values().all(|d| !d.is_empty()), "{holder:?}");
    let table = workspaces[1].ok(&["feeds"]);
    assert!(table.contains("DAEMON"), "{table}");

    // The first daemon dies without a word.
    let victim_pid = daemons[0].id();
    let victim_feeds: Vec<String> = holder
        .iter()
        .filter(|(_, d)| d.split('/').nth(1) == Some(victim_pid.to_string().as_str()))
        .map(|(f, _)| f.clone())
        .collect();
    assert!(
        !victim_feeds.is_empty(),
        "daemon {victim_pid} holds feeds: {holder:?}"
    );
    signal(&daemons[0], "KILL");
    let _ = daemons[0].wait();
    let killed_at = Instant::now();
    let before: BTreeMap<String, usize> = victim_feeds
        .iter()
        .map(|f| (f.clone(), polls_of(f)))
        .collect();
    // Its feeds go on being polled by the others once its lease runs out: within the
    // lease, a claiming round and a poll interval.
    wait_for(
        LEASE + INTERVAL + Duration::from_secs(10),
        "the killed daemon's feeds to be polled by another",
        || victim_feeds.iter().all(|f| polls_of(f) > before[f]),
    );
    let taken_over_within = killed_at.elapsed();
    // And a couple more cycles for everyone.
    let mid: BTreeMap<String, usize> = all.iter().map(|f| (f.clone(), polls_of(f))).collect();
    wait_for(Duration::from_secs(30), "two more cycles", || {
        all.iter().all(|f| polls_of(f) >= mid[f] + 2)
    });
    for (i, child) in daemons.iter_mut().enumerate().skip(1) {
        assert!(
            terminate(child, Duration::from_secs(20)),
            "daemon {i} stops cleanly:\n{}",
            workspaces[i].log()
        );
    }

    // One daemon per cycle: no feed fetched twice within one interval, and each fetch
    // is in exactly one daemon's log.
    let requests = requests.lock().unwrap().clone();
    let logs: Vec<BTreeMap<String, usize>> = workspaces
        .iter()
        .map(|ws| polled_in_log(&ws.log()))
        .collect();
    for feed in &all {
        let times = &requests[feed];
        for pair in times.windows(2) {
            let gap = pair[1] - pair[0];
            assert!(
                gap >= INTERVAL / 2,
                "{feed} fetched twice {gap:?} apart (interval {INTERVAL:?}): {times:?}"
            );
        }
        let logged: usize = logs.iter().map(|l| l.get(feed).copied().unwrap_or(0)).sum();
        // The killed daemon may have fetched once without living to log it.
        assert!(
            logged == times.len() || logged + 1 == times.len(),
            "{feed}: {} fetches, {logged} polls logged across the daemons",
            times.len()
        );
    }
    let after_kill: usize = victim_feeds
        .iter()
        .map(|f| logs[1].get(f).copied().unwrap_or(0) + logs[2].get(f).copied().unwrap_or(0))
        .sum();
    assert!(after_kill >= victim_feeds.len(), "{logs:?}");

    // One story per real story, whatever number of feeds and daemons saw it.
    let stories = json(&workspaces[2].ok(&["stories", "--json", "--limit", "1000"]));
    let stories = stories.as_array().unwrap();
    let titles: Vec<&str> = stories
        .iter()
        .map(|s| s["title"].as_str().unwrap())
        .collect();
    let distinct: BTreeSet<&str> = titles.iter().copied().collect();
    assert_eq!(
        titles.len(),
        distinct.len(),
        "a story stored twice: {titles:?}"
    );
    // 2 local stories per feed, the wire story, and the two meeting reports.
    assert_eq!(stories.len(), all.len() * 2 + 3, "{titles:?}");
    let wire = stories
        .iter()
        .find(|s| s["title"] == "Harvest figures")
        .unwrap();
    assert_eq!(
        wire["sources"].as_array().unwrap().len(),
        all.len(),
        "the wire story has one source per feed: {wire}"
    );

    // One event for the meeting, from both reports.
    let events = json(&workspaces[2].ok(&["events", "--json"]));
    let events = events.as_array().unwrap();
    assert_eq!(events.len(), 1, "{events:?}");
    assert_eq!(events[0]["countries"], serde_json::json!(["ESP", "PRT"]));
    let cited: BTreeSet<u64> = events[0]["sources"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["story"].as_u64().unwrap())
        .collect();
    assert_eq!(
        cited.len(),
        2,
        "both reports are the event's sources: {}",
        events[0]
    );

    // Each event announced under one id (a repeat under the same id is allowed).
    let mut ids_by_event: BTreeMap<u64, BTreeSet<String>> = BTreeMap::new();
    for r in receiver.requests() {
        if (200..300).contains(&r.status) {
            let event = r.body["data"]["event"]["id"].as_u64().expect("event id");
            ids_by_event.entry(event).or_default().insert(r.id);
        }
    }
    assert_eq!(ids_by_event.len(), 1, "{ids_by_event:?}");
    assert!(
        ids_by_event.values().all(|ids| ids.len() == 1),
        "{ids_by_event:?}"
    );

    eprintln!(
        "3 daemons: {} fetches of {} feeds; daemon {victim_pid} killed holding {} feeds, \
         taken over within {taken_over_within:?}; polls per daemon {:?}",
        requests.values().map(Vec::len).sum::<usize>(),
        all.len(),
        victim_feeds.len(),
        logs.iter()
            .map(|l| l.values().sum::<usize>())
            .collect::<Vec<_>>()
    );
}
