//! End-to-end load run of the real binary: a local HTTP server on 127.0.0.1 serves N
//! synthetic RSS feeds (`/f/{i}.xml`, ~10 news-like items each, unique per feed, with an
//! ETag and 304 on a matching `If-None-Match`), and `tidings run --once` polls them all
//! twice against a fresh data directory:
//!
//! 1. every feed is new (200, all items new stories: parse, normalise, dedup, detect,
//!    store);
//! 2. every feed answers 304 Not Modified.
//!
//! For each cycle it reports wall time, the child's CPU time (user + sys) and its peak
//! RSS (both from `wait4` on that child, so each cycle's figures are its own), and
//! compares them with the targets: changed cycle ≤ 20 s, 304 cycle ≤ 5 s, RSS ≤ 200 MB.
//!
//! Build the binary first, then run:
//!
//! ```sh
//! cargo build --release && cargo run --release --example load_run
//! cargo run --release --example load_run -- --feeds 2000 --items 10 --concurrency 64 \
//!     --event-share 0.15 --bin target/release/tidings --keep
//! ```
//!
//! `--event-share` (default 0.15) is the share of items whose lead reports a meeting
//! between officials, which the detector turns into events; the rest are other news.
//!
//! `--hosts N` spreads the feeds over N loopback addresses (127.0.0.1 … 127.0.0.N), each
//! a host of its own. `--postgres URL` then runs the same world on PostgreSQL with 1, 2
//! and 4 daemons (`--daemons`) on one database (see `postgres.rs`):
//!
//! ```sh
//! cargo run --release --example load_run -- --hosts 64 \
//!     --postgres postgres://postgres@127.0.0.1:5432/postgres --daemons 1,2,4
//! ```

mod postgres;

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::extract::{Path as UrlPath, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Router;
use chrono::Utc;
use tidings::store::dir_size;

const TARGET_CHANGED_S: f64 = 20.0;
const TARGET_NOT_MODIFIED_S: f64 = 5.0;
const TARGET_RSS_MB: f64 = 200.0;

struct Args {
    feeds: usize,
    items: usize,
    concurrency: usize,
    event_share: f64,
    bin: Option<PathBuf>,
    keep: bool,
    /// Loopback addresses the feeds are spread over (127.0.0.1, 127.0.0.2, …): each is a
    /// host for the politeness limits and, on PostgreSQL, for the claims.
    hosts: usize,
    /// A PostgreSQL server to run the daemons on, after the sled cycles.
    postgres: Option<String>,
    /// How many daemons to run on it, one run per count.
    daemons: Vec<usize>,
}

fn usage() -> ! {
    eprintln!(
        "usage: load_run [--feeds N (10000)] [--items N (10)] [--concurrency N (64)] \
         [--event-share F (0.15)] [--bin PATH (target/release/tidings)] [--keep] \
         [--hosts N (1)] [--postgres URL [--daemons 1,2,4]]"
    );
    std::process::exit(2)
}

fn parse_args() -> Args {
    let mut args = Args {
        feeds: 10_000,
        items: 10,
        concurrency: 64,
        event_share: 0.15,
        bin: None,
        keep: false,
        hosts: 1,
        postgres: None,
        daemons: vec![1, 2, 4],
    };
    let mut it = std::env::args().skip(1);
    while let Some(a) = it.next() {
        let mut value = || it.next().unwrap_or_else(|| usage());
        match a.as_str() {
            "--feeds" => args.feeds = value().parse().unwrap_or_else(|_| usage()),
            "--items" => args.items = value().parse().unwrap_or_else(|_| usage()),
            "--concurrency" => args.concurrency = value().parse().unwrap_or_else(|_| usage()),
            "--event-share" => args.event_share = value().parse().unwrap_or_else(|_| usage()),
            "--bin" => args.bin = Some(PathBuf::from(value())),
            "--keep" => args.keep = true,
            "--hosts" => {
                args.hosts = value()
                    .parse()
                    .ok()
                    .filter(|h| (1..=254).contains(h))
                    .unwrap_or_else(|| usage())
            }
            "--postgres" => args.postgres = Some(value()),
            "--daemons" => {
                args.daemons = value()
                    .split(',')
                    .map(|n| n.trim().parse().ok().filter(|&n| n > 0))
                    .collect::<Option<Vec<usize>>>()
                    .unwrap_or_else(|| usage())
            }
            _ => usage(),
        }
    }
    args
}

/// `target/release/tidings` next to this example (`target/release/examples/load_run`).
fn default_bin() -> Option<PathBuf> {
    let exe = std::env::current_exe().ok()?;
    let bin = exe.parent()?.parent()?.join("tidings");
    bin.exists().then_some(bin)
}

// ---------------------------------------------------------------------------------------
// Synthetic news feeds: sentence templates over real-world names plus seeded random
// clauses, so every item is its own story (no two share enough text to be
// near-duplicates) while the detector sees the kind of text it reads in production.

const ACTORS: &[&str] = &[
    "President Joe Biden",
    "Chinese Foreign Minister Wang Yi",
    "German Chancellor Olaf Scholz",
    "French President Emmanuel Macron",
    "Indian Prime Minister Narendra Modi",
    "Brazil's President Luiz Inacio Lula da Silva",
    "Japanese Prime Minister Fumio Kishida",
    "the European Commission",
    "the UN Security Council",
    "Turkey's foreign minister",
    "Kenyan President William Ruto",
    "the Australian government",
    "South Africa's president",
    "Canadian Prime Minister Justin Trudeau",
    "Nigeria's defence ministry",
    "the Mexican government",
    "Saudi Crown Prince Mohammed bin Salman",
    "Indonesian President Joko Widodo",
    "Polish officials",
    "the International Monetary Fund",
    "Ukrainian President Volodymyr Zelensky",
    "Russian Foreign Minister Sergei Lavrov",
    "the World Health Organization",
];
const VERBS: &[&str] = &[
    "met",
    "held talks with",
    "spoke by phone with",
    "criticised",
    "welcomed",
    "called on",
    "signed an agreement with",
    "hosted",
    "warned",
    "rejected a proposal from",
    "will meet",
    "cancelled a planned visit to",
];
const TOPICS: &[&str] = &[
    "trade tariffs",
    "grain exports",
    "climate finance",
    "the energy crisis",
    "migration",
    "debt relief",
    "a ceasefire proposal",
    "nuclear safety",
    "fishing rights",
    "semiconductor supply chains",
    "drought relief",
    "election security",
    "sanctions",
    "fuel prices",
    "a new rail link",
    "vaccine production",
];
const PLACES: &[&str] = &[
    "Geneva",
    "New Delhi",
    "Brasilia",
    "Nairobi",
    "Jakarta",
    "Brussels",
    "Tokyo",
    "Ankara",
    "Canberra",
    "Warsaw",
    "Riyadh",
    "Mexico City",
    "Ottawa",
    "Abuja",
    "Pretoria",
    "Seoul",
];
const SUBJECTS: &[&str] = &[
    "Farmers",
    "Shares in energy companies",
    "Local councils",
    "Rail workers",
    "The national football team",
    "Hospitals",
    "Small businesses",
    "Fishing communities",
    "University students",
    "Airlines",
    "Coffee growers",
    "The central bank",
];
const HAPPENINGS: &[&str] = &[
    "protested",
    "fell sharply",
    "went on strike",
    "warned of shortages",
    "rallied",
    "asked for help",
    "changed course",
    "reported record losses",
];
const WHEN: &[&str] = &[
    "on Monday",
    "on Tuesday",
    "on Wednesday",
    "on Thursday",
    "on Friday",
    "at the weekend",
    "earlier this week",
    "next week",
];
const SOURCES: &[&str] = &[
    "officials said",
    "a spokesperson said",
    "according to state media",
    "diplomats said",
    "the ministry said in a statement",
];
const COMMON: &[&str] = &[
    "the", "of", "and", "to", "a", "in", "that", "is", "for", "on", "with", "as", "was", "it",
    "by", "at", "from", "be", "has", "have", "said", "an", "are", "its", "not", "but", "were",
    "which", "this", "after", "their", "they", "had", "been", "more", "than",
];
const SYLLABLES: &[&str] = &[
    "ba", "ker", "lo", "min", "tra", "del", "sen", "por", "vi", "cal", "mun", "der", "ri", "son",
    "gal", "te", "nor", "pla", "quis", "ven", "ho", "tur", "ma", "lek", "dra", "fin", "zo", "ar",
    "bel", "cor", "us", "im",
];

fn pick<'a>(rng: &mut fastrand::Rng, list: &[&'a str]) -> &'a str {
    list[rng.usize(..list.len())]
}

/// A word: often a common one, otherwise one of ~30k made-up content words.
fn word(rng: &mut fastrand::Rng) -> String {
    if rng.u8(..10) < 4 {
        return pick(rng, COMMON).to_string();
    }
    (0..rng.usize(2..4)).map(|_| pick(rng, SYLLABLES)).collect()
}

fn escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}

/// Feed `i`'s RSS document: `items` items, published over the last hours; about
/// `event_share` of them report a meeting between officials.
fn feed_body(i: usize, items: usize, event_share: f64) -> String {
    let mut rng = fastrand::Rng::with_seed(0x6c6f_6164 ^ (i as u64).wrapping_mul(0x9e37_79b9));
    let now = Utc::now();
    let mut out = format!(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<rss version=\"2.0\"><channel>\
         <title>Synthetic World News {i}</title><link>https://news{}.example/</link>\
         <description>Load-run feed {i}</description><language>en-gb</language>\n",
        i % 100
    );
    for j in 0..items {
        let topic = pick(&mut rng, TOPICS);
        let place = pick(&mut rng, PLACES);
        // A share of the items report a meeting between officials (what the detector
        // looks for); the rest are other news about the same subjects.
        let (title, mut html) = if rng.f64() < event_share {
            let (a, b) = (pick(&mut rng, ACTORS), pick(&mut rng, ACTORS));
            (
                format!("{a} and {b} discuss {topic} in {place}"),
                format!(
                    "<p>{a} {} {b} in {place} {} to discuss {topic}, {}.</p><p>",
                    pick(&mut rng, VERBS),
                    pick(&mut rng, WHEN),
                    pick(&mut rng, SOURCES)
                ),
            )
        } else {
            let subject = pick(&mut rng, SUBJECTS);
            (
                format!("{subject} {} over {topic}", pick(&mut rng, HAPPENINGS)),
                format!(
                    "<p>{subject} in {place} {} over {topic} {}, {}.</p><p>",
                    pick(&mut rng, HAPPENINGS),
                    pick(&mut rng, WHEN),
                    pick(&mut rng, SOURCES)
                ),
            )
        };
        let start = html.len();
        while html.len() - start < 320 {
            let n = rng.usize(8..16);
            let mut s: Vec<String> = (0..n).map(|_| word(&mut rng)).collect();
            if let Some(first) = s.first_mut() {
                let mut c = first.chars();
                *first = c
                    .next()
                    .map(|f| f.to_uppercase().chain(c).collect())
                    .unwrap_or_default();
            }
            html.push_str(&s.join(" "));
            html.push_str(". ");
        }
        html.push_str(&format!(
            "About {} people attended, {}.</p>",
            rng.u32(10..50_000),
            pick(&mut rng, SOURCES)
        ));
        let published = now - chrono::Duration::minutes((j * 37 + i % 60) as i64);
        out.push_str(&format!(
            "<item><title>{}</title><link>https://news{}.example/world/{i}-{j}?at_medium=RSS&amp;at_campaign=load</link>\
             <guid isPermaLink=\"false\">load-{i}-{j}</guid><pubDate>{}</pubDate>\
             <description>{}</description></item>\n",
            escape(&title),
            i % 100,
            published.to_rfc2822(),
            escape(&html)
        ));
    }
    out.push_str("</channel></rss>\n");
    out
}

// ---------------------------------------------------------------------------------------
// The feed server.

#[derive(Default)]
struct Counters {
    requests: AtomicU64,
    ok: AtomicU64,
    not_modified: AtomicU64,
    other: AtomicU64,
    bytes: AtomicU64,
}

struct Feeds {
    bodies: Vec<axum::body::Bytes>,
    etags: Vec<String>,
    counters: Counters,
}

async fn serve_feed(
    State(feeds): State<Arc<Feeds>>,
    UrlPath(name): UrlPath<String>,
    headers: HeaderMap,
) -> Response {
    let c = &feeds.counters;
    c.requests.fetch_add(1, Ordering::Relaxed);
    let Some(i) = name
        .strip_suffix(".xml")
        .and_then(|n| n.parse::<usize>().ok())
        .filter(|&i| i < feeds.bodies.len())
    else {
        c.other.fetch_add(1, Ordering::Relaxed);
        return StatusCode::NOT_FOUND.into_response();
    };
    let etag = feeds.etags[i].as_str();
    let matches = headers
        .get(header::IF_NONE_MATCH)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.split(',').any(|t| t.trim() == etag || t.trim() == "*"));
    if matches {
        c.not_modified.fetch_add(1, Ordering::Relaxed);
        return (StatusCode::NOT_MODIFIED, [(header::ETAG, etag.to_string())]).into_response();
    }
    c.ok.fetch_add(1, Ordering::Relaxed);
    c.bytes
        .fetch_add(feeds.bodies[i].len() as u64, Ordering::Relaxed);
    (
        StatusCode::OK,
        [
            (header::CONTENT_TYPE, "application/rss+xml".to_string()),
            (header::ETAG, etag.to_string()),
        ],
        feeds.bodies[i].clone(),
    )
        .into_response()
}

// ---------------------------------------------------------------------------------------
// Running the binary and measuring it.

struct Cycle {
    name: &'static str,
    wall: Duration,
    user: Duration,
    sys: Duration,
    max_rss_kb: i64,
    exit: i32,
    requests: u64,
    ok: u64,
    not_modified: u64,
    other: u64,
    bytes: u64,
    stories: Option<u64>,
    polls: PollSums,
    warnings: usize,
    /// Size of the data directory after the cycle.
    store_bytes: u64,
}

/// Totals of the daemon's per-poll log lines.
#[derive(Default)]
struct PollSums {
    new: u64,
    duplicates: u64,
    events: u64,
}

/// The log without terminal colour codes.
fn strip_ansi(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut chars = s.chars();
    while let Some(c) = chars.next() {
        if c == '\u{1b}' {
            // ESC [ … final byte in @..~
            for c in chars.by_ref() {
                if ('@'..='~').contains(&c) && c != '[' {
                    break;
                }
            }
        } else {
            out.push(c);
        }
    }
    out
}

/// The numeric value of `name=` in a log line.
fn field(line: &str, name: &str) -> Option<u64> {
    let pat = format!(" {name}=");
    let at = line.find(&pat)? + pat.len();
    line[at..]
        .split(|ch: char| !ch.is_ascii_digit())
        .next()?
        .parse()
        .ok()
}

fn timeval(t: libc::timeval) -> Duration {
    Duration::from_secs(t.tv_sec as u64) + Duration::from_micros(t.tv_usec as u64)
}

/// Runs `cmd` to completion; wall time, and the child's own rusage from `wait4`.
fn run_measured(cmd: &mut Command) -> std::io::Result<(Duration, libc::rusage, i32)> {
    let started = Instant::now();
    let child = cmd.spawn()?;
    let pid = child.id() as libc::pid_t;
    // SAFETY: rusage is plain old data; wait4 fills it in for the child we spawned.
    let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
    let mut status: libc::c_int = 0;
    let r = loop {
        // SAFETY: `pid` is our own child, not yet reaped (we never call `child.wait`).
        let r = unsafe { libc::wait4(pid, &mut status, 0, &mut usage) };
        if r == -1 && std::io::Error::last_os_error().kind() == std::io::ErrorKind::Interrupted {
            continue;
        }
        break r;
    };
    let wall = started.elapsed();
    if r == -1 {
        return Err(std::io::Error::last_os_error());
    }
    let code = if libc::WIFEXITED(status) {
        libc::WEXITSTATUS(status)
    } else {
        128 + libc::WTERMSIG(status)
    };
    drop(child);
    Ok((wall, usage, code))
}

fn config_text(
    hosts: &[std::net::SocketAddr],
    feeds: usize,
    concurrency: usize,
    per_host: bool,
) -> String {
    let mut s = format!(
        "# Written by examples/load_run\n[daemon]\nmax_concurrent_fetches = {concurrency}\n\
         default_interval = \"10m\"\n"
    );
    if per_host {
        s.push_str(&format!(
            "per_host_concurrency = {concurrency}\nper_host_spacing = \"0s\"\n"
        ));
    }
    s.push_str("\n[api]\nlisten = \"127.0.0.1:0\"\n\n");
    s.push_str(&feed_list(hosts, feeds));
    s
}

/// The `[[feeds]]` of the world: feed `i` on host `i % hosts`.
fn feed_list(hosts: &[std::net::SocketAddr], feeds: usize) -> String {
    let mut s = String::new();
    for i in 0..feeds {
        let addr = hosts[i % hosts.len()];
        s.push_str(&format!(
            "[[feeds]]\nid = \"load-{i:05}\"\nurl = \"http://{addr}/f/{i}.xml\"\n"
        ));
    }
    s
}

fn tidings(bin: &Path, config: &Path, data: &Path, args: &[&str]) -> Command {
    let mut cmd = Command::new(bin);
    cmd.arg("--config")
        .arg(config)
        .arg("--data-dir")
        .arg(data)
        .args(args)
        .env_remove("TIDINGS_CONFIG")
        .env_remove("TIDINGS_DATA_DIR")
        // No proxy for loopback, whatever the environment says.
        .env("NO_PROXY", "127.0.0.0/8")
        .env("no_proxy", "127.0.0.0/8");
    cmd
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args = parse_args();
    let bin = match args.bin.clone().or_else(default_bin) {
        Some(b) => b,
        None => {
            eprintln!(
                "cannot find target/release/tidings next to this example: run \
                 `cargo build --release` first, or pass --bin PATH"
            );
            std::process::exit(2);
        }
    };
    println!("binary: {}", bin.display());

    let started = Instant::now();
    let mut bodies = Vec::with_capacity(args.feeds);
    let mut etags = Vec::with_capacity(args.feeds);
    let mut total_bytes = 0usize;
    for i in 0..args.feeds {
        let body = feed_body(i, args.items, args.event_share);
        total_bytes += body.len();
        etags.push(format!("\"load-{i}-{:016x}\"", fastrand::u64(..)));
        bodies.push(axum::body::Bytes::from(body));
    }
    println!(
        "{} feeds × {} items ({:.0}% report a meeting) generated: {:.1} MB of RSS ({:.1} KB per feed) in {:.1?}",
        args.feeds,
        args.items,
        args.event_share * 100.0,
        total_bytes as f64 / 1e6,
        total_bytes as f64 / args.feeds.max(1) as f64 / 1e3,
        started.elapsed()
    );
    let feeds = Arc::new(Feeds {
        bodies,
        etags,
        counters: Counters::default(),
    });

    // The server runs on its own runtime threads; this thread spawns and waits for the
    // binary.
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()?;
    let app = Router::new()
        .route("/f/{name}", get(serve_feed))
        .with_state(Arc::clone(&feeds));
    let mut hosts = Vec::with_capacity(args.hosts);
    for h in 0..args.hosts {
        let listener = runtime.block_on(tokio::net::TcpListener::bind(format!(
            "127.0.0.{}:0",
            h + 1
        )))?;
        hosts.push(listener.local_addr()?);
        let app = app.clone();
        runtime.spawn(async move {
            if let Err(e) = axum::serve(listener, app).await {
                eprintln!("feed server failed: {e}");
            }
        });
    }
    println!(
        "feed server: http://{}/f/{{0..{}}}.xml{}",
        hosts[0],
        args.feeds,
        if hosts.len() > 1 {
            format!(" and {} more hosts (127.0.0.2 …)", hosts.len() - 1)
        } else {
            String::new()
        }
    );

    let tmp = tempfile::Builder::new().prefix("tidings-load-").tempdir()?;
    let dir = tmp.path().to_owned();
    let config = dir.join("tidings.toml");
    let data = dir.join("data");

    // The per-host politeness keys may not have landed in this binary yet.
    std::fs::write(
        &config,
        config_text(&hosts, args.feeds, args.concurrency, true),
    )?;
    let check = tidings(&bin, &config, &data, &["check"]).output()?;
    if !check.status.success() {
        let err = String::from_utf8_lossy(&check.stderr);
        if err.contains("unknown field") && err.contains("per_host") {
            println!(
                "NOTE: this binary rejects `per_host_concurrency`/`per_host_spacing` \
                 (unknown field: the per-host politeness change has not landed in it); \
                 running without them"
            );
            std::fs::write(
                &config,
                config_text(&hosts, args.feeds, args.concurrency, false),
            )?;
            let again = tidings(&bin, &config, &data, &["check"]).output()?;
            if !again.status.success() {
                return Err(format!(
                    "tidings check failed: {}",
                    String::from_utf8_lossy(&again.stderr)
                )
                .into());
            }
        } else {
            return Err(format!("tidings check failed: {err}").into());
        }
    } else {
        println!(
            "config: per_host_concurrency = {}, per_host_spacing = \"0s\" accepted",
            args.concurrency
        );
    }
    println!(
        "config: {} ({} feeds, max_concurrent_fetches = {}), data: {}",
        config.display(),
        args.feeds,
        args.concurrency,
        data.display()
    );

    let mut cycles = Vec::new();
    for name in ["1: all changed", "2: all 304"] {
        let c = &feeds.counters;
        for a in [&c.requests, &c.ok, &c.not_modified, &c.other, &c.bytes] {
            a.store(0, Ordering::Relaxed);
        }
        let log_path = dir.join(format!("cycle{}.log", cycles.len() + 1));
        let log = std::fs::File::create(&log_path)?;
        println!("cycle {name}: running `tidings run --once` …");
        let mut cmd = tidings(&bin, &config, &data, &["run", "--once"]);
        cmd.stdout(Stdio::null()).stderr(log);
        let (wall, usage, exit) = run_measured(&mut cmd)?;
        let text = strip_ansi(&std::fs::read_to_string(&log_path).unwrap_or_default());
        let stories = text
            .lines()
            .rev()
            .find(|l| l.contains("daemon stopped"))
            .and_then(|l| field(l, "stories"));
        let mut polls = PollSums::default();
        for l in text.lines().filter(|l| l.contains(" poll")) {
            polls.new += field(l, "new").unwrap_or(0);
            polls.duplicates += field(l, "duplicates").unwrap_or(0);
            polls.events += field(l, "events_new").unwrap_or(0);
        }
        let warnings = text
            .lines()
            .filter(|l| l.contains("WARN") || l.contains("ERROR"))
            .count();
        if exit != 0 {
            eprintln!(
                "tidings exited with status {exit}; last lines of {}:",
                log_path.display()
            );
            for l in text
                .lines()
                .rev()
                .take(10)
                .collect::<Vec<_>>()
                .into_iter()
                .rev()
            {
                eprintln!("  {l}");
            }
        }
        cycles.push(Cycle {
            name,
            wall,
            user: timeval(usage.ru_utime),
            sys: timeval(usage.ru_stime),
            max_rss_kb: usage.ru_maxrss,
            exit,
            requests: c.requests.load(Ordering::Relaxed),
            ok: c.ok.load(Ordering::Relaxed),
            not_modified: c.not_modified.load(Ordering::Relaxed),
            other: c.other.load(Ordering::Relaxed),
            bytes: c.bytes.load(Ordering::Relaxed),
            stories,
            polls,
            warnings,
            store_bytes: dir_size(&data),
        });
    }

    println!();
    println!(
        "{:<16} {:>8} {:>8} {:>8} {:>9} {:>6} {:>9} {:>8} {:>7} {:>7} {:>6} {:>9} {:>8} {:>8} {:>6} {:>7} {:>5} {:>8}",
        "cycle",
        "wall s",
        "user s",
        "sys s",
        "cpu s",
        "cpu %",
        "max RSS",
        "requests",
        "200",
        "304",
        "other",
        "served MB",
        "new",
        "dups",
        "events",
        "stories",
        "warn",
        "store MB"
    );
    for c in &cycles {
        let cpu = c.user + c.sys;
        println!(
            "{:<16} {:>8.2} {:>8.2} {:>8.2} {:>9.2} {:>6.0} {:>6.1} MB {:>8} {:>7} {:>7} {:>6} {:>9.1} {:>8} {:>8} {:>6} {:>7} {:>5} {:>8.0}",
            c.name,
            c.wall.as_secs_f64(),
            c.user.as_secs_f64(),
            c.sys.as_secs_f64(),
            cpu.as_secs_f64(),
            100.0 * cpu.as_secs_f64() / c.wall.as_secs_f64(),
            c.max_rss_kb as f64 / 1024.0,
            c.requests,
            c.ok,
            c.not_modified,
            c.other,
            c.bytes as f64 / 1e6,
            c.polls.new,
            c.polls.duplicates,
            c.polls.events,
            c.stories.map(|s| s.to_string()).unwrap_or_else(|| "?".into()),
            c.warnings,
            c.store_bytes as f64 / 1e6
        );
    }
    println!();
    let verdict = |ok: bool| if ok { "ok" } else { "MISSED" };
    let mut failed = false;
    for (c, target) in cycles.iter().zip([TARGET_CHANGED_S, TARGET_NOT_MODIFIED_S]) {
        let wall = c.wall.as_secs_f64();
        let rss = c.max_rss_kb as f64 / 1024.0;
        let ok_wall = wall <= target && c.exit == 0;
        let ok_rss = rss <= TARGET_RSS_MB;
        failed |= c.exit != 0;
        println!(
            "target cycle {}: wall {wall:.2} s ≤ {target} s: {}; peak RSS {rss:.1} MB ≤ {TARGET_RSS_MB} MB: {}{}",
            c.name,
            verdict(ok_wall),
            verdict(ok_rss),
            if c.exit != 0 {
                format!(" (exit status {})", c.exit)
            } else {
                String::new()
            }
        );
    }
    if let Some(base) = &args.postgres {
        let reset = || {
            let c = &feeds.counters;
            for a in [&c.requests, &c.ok, &c.not_modified, &c.other, &c.bytes] {
                a.store(0, Ordering::Relaxed);
            }
        };
        let feeds_config = feed_list(&hosts, args.feeds);
        let world = postgres::World {
            feed_list: &feeds_config,
            feeds: args.feeds,
            concurrency: args.concurrency,
        };
        let pg = postgres::run(&runtime, (&bin, &dir), base, &args.daemons, &world, reset);
        let sled: Vec<_> = cycles
            .iter()
            .map(|c| (c.name, c.wall, c.user + c.sys, c.stories))
            .collect();
        match pg {
            Ok(pg) => postgres::print(&pg, &sled, args.feeds),
            Err(e) => {
                eprintln!("PostgreSQL runs failed: {e}");
                failed = true;
            }
        }
    }
    if args.keep {
        println!("kept: {}", tmp.keep().display());
    }
    println!(
        "(one machine: the feed server shares the CPU with tidings; figures vary between runs)"
    );
    runtime.shutdown_timeout(Duration::from_secs(1));
    if failed {
        std::process::exit(1);
    }
    Ok(())
}
