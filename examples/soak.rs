//! Soak run of the real daemon with retention in force: weeks of a store's life
//! compressed into minutes.
//!
//! A local HTTP server on 127.0.0.1 serves N synthetic RSS feeds that publish
//! continuously (each feed a new item every `--publish-secs`, the newest `--window`
//! items listed, a share of them reporting meetings between officials that rotate
//! minute by minute, so events stop being updated and age out). `tidings run` polls them
//! on a real clock with retention set short (`story_text = "2m"`, identity 2m, stories
//! 3m, events 5m, pruning every 20 s). Every `--sample-secs` the run samples the
//! daemon's RSS and peak RSS (`/proc`), the store's size on disk, the stories it holds
//! (from `/api/v1/feeds`) and the stories stored so far (`/metrics`); every
//! `--check-every` samples it also lists the data directory's files.
//!
//! At the end: SIGTERM, `tidings store check` and `tidings store stats`; then the daemon
//! is started again and killed with SIGKILL while it prunes, and `tidings store check`
//! runs on the next open. Output: a table on stdout, `soak.csv` in `--out` (plot it with
//! `benches/soak_plot.py`). Bounded: stops by itself after `--minutes`.
//!
//! ```sh
//! cargo build --release --bin tidings --example soak
//! target/release/examples/soak --minutes 35 --feeds 300 --out /tmp/tidings-soak
//! ```

use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::extract::{Path as UrlPath, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Router;
use chrono::{DateTime, Utc};
use tidings::store::dir_size;

struct Args {
    minutes: f64,
    feeds: usize,
    publish_secs: u64,
    window: u64,
    poll: String,
    sample_secs: u64,
    check_every: usize,
    event_share: f64,
    bin: Option<PathBuf>,
    out: PathBuf,
}

fn usage() -> ! {
    eprintln!(
        "usage: soak [--minutes M (35)] [--feeds N (300)] [--publish-secs S (20)] \
         [--window N (5)] [--poll DURATION (30s)] [--sample-secs S (30)] \
         [--check-every N (4)] [--event-share F (0.1)] [--bin PATH] [--out DIR]"
    );
    std::process::exit(2)
}

fn parse_args() -> Args {
    let mut a = Args {
        minutes: 35.0,
        feeds: 300,
        publish_secs: 20,
        window: 5,
        poll: "30s".into(),
        sample_secs: 30,
        check_every: 4,
        event_share: 0.1,
        bin: None,
        out: PathBuf::from("/tmp/tidings-soak"),
    };
    let mut it = std::env::args().skip(1);
    while let Some(flag) = it.next() {
        let mut v = || it.next().unwrap_or_else(|| usage());
        match flag.as_str() {
            "--minutes" => a.minutes = v().parse().unwrap_or_else(|_| usage()),
            "--feeds" => a.feeds = v().parse().unwrap_or_else(|_| usage()),
            "--publish-secs" => a.publish_secs = v().parse().unwrap_or_else(|_| usage()),
            "--window" => a.window = v().parse().unwrap_or_else(|_| usage()),
            "--poll" => a.poll = v(),
            "--sample-secs" => a.sample_secs = v().parse().unwrap_or_else(|_| usage()),
            "--check-every" => a.check_every = v().parse().unwrap_or_else(|_| usage()),
            "--event-share" => a.event_share = v().parse().unwrap_or_else(|_| usage()),
            "--bin" => a.bin = Some(PathBuf::from(v())),
            "--out" => a.out = PathBuf::from(v()),
            _ => usage(),
        }
    }
    if a.publish_secs == 0 || a.window == 0 || a.sample_secs == 0 || a.check_every == 0 {
        usage();
    }
    a
}

// ---------------------------------------------------------------------------------------
// Feeds that publish continuously.

const ACTORS: &[&str] = &[
    "President Joe Biden",
    "Chinese Foreign Minister Wang Yi",
    "German Chancellor Olaf Scholz",
    "French President Emmanuel Macron",
    "Indian Prime Minister Narendra Modi",
    "Japanese Prime Minister Fumio Kishida",
    "Kenyan President William Ruto",
    "Canadian Prime Minister Justin Trudeau",
    "Indonesian President Joko Widodo",
    "Ukrainian President Volodymyr Zelensky",
    "Russian Foreign Minister Sergei Lavrov",
];
const SYLLABLES: &[&str] = &[
    "ba", "ker", "lo", "min", "tra", "del", "sen", "por", "vi", "cal", "mun", "der", "ri", "son",
    "gal", "te", "nor", "pla", "quis", "ven", "ho", "tur", "ma", "lek", "dra", "fin", "zo", "ar",
];
const COMMON: &[&str] = &[
    "the", "of", "and", "to", "a", "in", "that", "is", "for", "on", "with", "as", "was", "by",
];

struct World {
    start: DateTime<Utc>,
    feeds: usize,
    publish_secs: u64,
    window: u64,
    event_share: f64,
}

impl World {
    /// Milliseconds by which feed `i`'s publishing is offset (feeds spread evenly).
    fn phase_ms(&self, i: usize) -> i64 {
        (self.publish_secs as i64 * 1000 * i as i64) / self.feeds.max(1) as i64
    }

    /// Number of the newest item feed `i` has published at `now`.
    fn newest(&self, i: usize, now: DateTime<Utc>) -> i64 {
        ((now - self.start).num_milliseconds() + self.phase_ms(i))
            / (self.publish_secs as i64 * 1000)
    }

    fn published(&self, i: usize, j: i64) -> DateTime<Utc> {
        self.start
            + chrono::Duration::milliseconds(j * self.publish_secs as i64 * 1000 - self.phase_ms(i))
    }

    fn item(&self, i: usize, j: i64) -> String {
        let mut rng = fastrand::Rng::with_seed((i as u64) << 32 ^ j as u64 ^ 0x736f_616b);
        let published = self.published(i, j);
        let word = |rng: &mut fastrand::Rng| -> String {
            if rng.u8(..10) < 4 {
                return COMMON[rng.usize(..COMMON.len())].to_string();
            }
            (0..rng.usize(2..4))
                .map(|_| SYLLABLES[rng.usize(..SYLLABLES.len())])
                .collect()
        };
        let (title, mut text) = if rng.f64() < self.event_share {
            // The pair of the minute: events stop being updated once their minute passes.
            let minute = (published - self.start).num_minutes().max(0) as usize;
            let a = ACTORS[minute % ACTORS.len()];
            let b = ACTORS[(minute / ACTORS.len() + minute + 1) % ACTORS.len()];
            let b = if a == b {
                ACTORS[(minute + 2) % ACTORS.len()]
            } else {
                b
            };
            (
                format!("{a} and {b} hold talks"),
                format!("{a} met {b} in Geneva on Tuesday to discuss trade, officials said. "),
            )
        } else {
            let w: Vec<String> = (0..6).map(|_| word(&mut rng)).collect();
            (w.join(" "), String::new())
        };
        while text.len() < 380 {
            let s: Vec<String> = (0..rng.usize(8..16)).map(|_| word(&mut rng)).collect();
            text.push_str(&s.join(" "));
            text.push_str(". ");
        }
        format!(
            "<item><title>{title}</title><link>https://soak{}.example/{i}/{j}</link>\
             <guid isPermaLink=\"false\">soak-{i}-{j}</guid><pubDate>{}</pubDate>\
             <description>{text}</description></item>\n",
            i % 50,
            published.to_rfc2822()
        )
    }

    fn body(&self, i: usize, newest: i64) -> String {
        let mut out = format!(
            "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<rss version=\"2.0\"><channel>\
             <title>Soak feed {i}</title><link>https://soak.example/{i}</link>\
             <description>Soak feed {i}</description><language>en</language>\n"
        );
        let oldest = (newest - self.window as i64 + 1).max(0);
        for j in (oldest..=newest).rev() {
            out.push_str(&self.item(i, j));
        }
        out.push_str("</channel></rss>\n");
        out
    }
}

async fn serve_feed(
    State(world): State<Arc<World>>,
    UrlPath(name): UrlPath<String>,
    headers: HeaderMap,
) -> Response {
    let Some(i) = name
        .strip_suffix(".xml")
        .and_then(|n| n.parse::<usize>().ok())
        .filter(|&i| i < world.feeds)
    else {
        return StatusCode::NOT_FOUND.into_response();
    };
    let newest = world.newest(i, Utc::now());
    let etag = format!("\"{i}-{newest}\"");
    if headers
        .get(header::IF_NONE_MATCH)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.trim() == etag)
    {
        return (StatusCode::NOT_MODIFIED, [(header::ETAG, etag)]).into_response();
    }
    (
        StatusCode::OK,
        [
            (header::CONTENT_TYPE, "application/rss+xml".to_string()),
            (header::ETAG, etag),
        ],
        world.body(i, newest),
    )
        .into_response()
}

// ---------------------------------------------------------------------------------------
// Measuring.

/// VmRSS and VmHWM of process `pid`, in kB.
fn rss_kb(pid: u32) -> Option<(u64, u64)> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    let field = |name: &str| -> Option<u64> {
        status
            .lines()
            .find(|l| l.starts_with(name))?
            .split_whitespace()
            .nth(1)?
            .parse()
            .ok()
    };
    Some((field("VmRSS:")?, field("VmHWM:")?))
}

/// A GET on loopback: the body, if the answer is 200.
fn get_body(base: &str, path: &str) -> Option<String> {
    let hostport = base.strip_prefix("http://")?.trim_end_matches('/');
    let mut s = std::net::TcpStream::connect(hostport).ok()?;
    s.set_read_timeout(Some(Duration::from_secs(30))).ok()?;
    write!(
        s,
        "GET {path} HTTP/1.1\r\nHost: {hostport}\r\nConnection: close\r\n\r\n"
    )
    .ok()?;
    let mut raw = Vec::new();
    s.read_to_end(&mut raw).ok()?;
    let text = String::from_utf8_lossy(&raw).into_owned();
    let (head, body) = text.split_once("\r\n\r\n")?;
    if !head.starts_with("HTTP/1.1 200") {
        return None;
    }
    if head
        .to_ascii_lowercase()
        .contains("transfer-encoding: chunked")
    {
        // De-chunk.
        let mut out = String::new();
        let mut rest = body;
        while let Some((size, after)) = rest.split_once("\r\n") {
            let n = usize::from_str_radix(size.trim(), 16).ok()?;
            if n == 0 {
                break;
            }
            out.push_str(after.get(..n)?);
            rest = after.get(n + 2..)?;
        }
        return Some(out);
    }
    Some(body.to_string())
}

fn metric(text: &str, name: &str) -> Option<u64> {
    text.lines()
        .find(|l| l.starts_with(name) && l[name.len()..].starts_with(' '))?
        .split_whitespace()
        .nth(1)?
        .parse::<f64>()
        .ok()
        .map(|v| v as u64)
}

struct Sample {
    at_s: f64,
    rss_mb: f64,
    peak_mb: f64,
    store_mb: f64,
    held: u64,
    stored: u64,
    per_s: f64,
}

fn config_text(port: u16, a: &Args) -> String {
    let mut s = format!(
        "# Written by examples/soak.rs\n[daemon]\nmax_concurrent_fetches = 16\n\
         default_interval = \"{}\"\nadaptive = false\njitter = 0.1\nper_host_concurrency = 16\n\
         per_host_spacing = \"0s\"\n\n[api]\nlisten = \"127.0.0.1:0\"\n\n\
         [retention]\nstory_text = \"2m\"\nstory_identity = \"2m\"\nstories = \"3m\"\n\
         events = \"5m\"\ndead_alerts = \"5m\"\nprune_every = \"20s\"\nbatch = 256\n\n",
        a.poll
    );
    for i in 0..a.feeds {
        s.push_str(&format!(
            "[[feeds]]\nid = \"soak-{i:04}\"\nurl = \"http://127.0.0.1:{port}/f/{i}.xml\"\n"
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
        .env("NO_PROXY", "127.0.0.1")
        .env("no_proxy", "127.0.0.1");
    cmd
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let a = parse_args();
    let bin = a.bin.clone().unwrap_or_else(|| {
        let exe = std::env::current_exe().expect("current exe");
        exe.parent()
            .and_then(|p| p.parent())
            .map(|p| p.join("tidings"))
            .expect("target dir")
    });
    if !bin.exists() {
        eprintln!("no binary at {}: build it or pass --bin", bin.display());
        std::process::exit(2);
    }
    let _ = std::fs::remove_dir_all(&a.out);
    std::fs::create_dir_all(&a.out)?;
    let data = a.out.join("data");
    let config = a.out.join("tidings.toml");
    let log_path = a.out.join("daemon.log");

    let world = Arc::new(World {
        start: Utc::now(),
        feeds: a.feeds,
        publish_secs: a.publish_secs,
        window: a.window,
        event_share: a.event_share,
    });
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()?;
    let listener = runtime.block_on(tokio::net::TcpListener::bind("127.0.0.1:0"))?;
    let port = listener.local_addr()?.port();
    let app = Router::new()
        .route("/f/{name}", get(serve_feed))
        .with_state(Arc::clone(&world));
    runtime.spawn(async move { axum::serve(listener, app).await });
    std::fs::write(&config, config_text(port, &a))?;
    println!(
        "binary {}; {} feeds, a new item every {} s each ({:.1} items/s), {} listed; poll every {}; out {}",
        bin.display(),
        a.feeds,
        a.publish_secs,
        a.feeds as f64 / a.publish_secs as f64,
        a.window,
        a.poll,
        a.out.display()
    );

    let log = std::fs::File::create(&log_path)?;
    let mut child = tidings(&bin, &config, &data, &["run"])
        .env("RUST_LOG", "info")
        .stdout(Stdio::null())
        .stderr(log)
        .spawn()?;
    let pid = child.id();
    let daemon_file = data.join("daemon.json");
    let deadline = Instant::now() + Duration::from_secs(60);
    let base = loop {
        if let Some(b) = std::fs::read_to_string(&daemon_file)
            .ok()
            .and_then(|t| serde_json::from_str::<serde_json::Value>(&t).ok())
            .and_then(|v| v["api"].as_str().map(str::to_string))
        {
            break b;
        }
        if Instant::now() > deadline {
            return Err("the daemon did not start within 60 s".into());
        }
        std::thread::sleep(Duration::from_millis(200));
    };

    let started = Instant::now();
    let total = Duration::from_secs_f64(a.minutes * 60.0);
    let mut samples: Vec<Sample> = Vec::new();
    let mut csv = std::fs::File::create(a.out.join("soak.csv"))?;
    writeln!(
        csv,
        "seconds,rss_mb,peak_rss_mb,store_mb,stories_held,stories_stored,stories_per_s"
    )?;
    println!(
        "\n| minute | RSS MB | peak RSS MB | store MB | stories held | stories stored | stories/s |\n\
         |---:|---:|---:|---:|---:|---:|---:|"
    );
    let mut n = 0usize;
    while started.elapsed() < total {
        std::thread::sleep(Duration::from_secs(a.sample_secs));
        n += 1;
        if let Ok(Some(status)) = child.try_wait() {
            return Err(format!(
                "the daemon exited early: {status} (see {})",
                log_path.display()
            )
            .into());
        }
        let (rss, peak) = rss_kb(pid).unwrap_or((0, 0));
        let held: u64 = get_body(&base, "/api/v1/feeds")
            .and_then(|b| serde_json::from_str::<serde_json::Value>(&b).ok())
            .and_then(|v| {
                v.as_array()
                    .map(|a| a.iter().filter_map(|f| f["stories"].as_u64()).sum())
            })
            .unwrap_or(0);
        let stored = get_body(&base, "/metrics")
            .and_then(|m| metric(&m, "tidings_stories_total"))
            .unwrap_or(0);
        let at_s = started.elapsed().as_secs_f64();
        let per_s = match samples.last() {
            Some(p) => (stored.saturating_sub(p.stored)) as f64 / (at_s - p.at_s),
            None => stored as f64 / at_s,
        };
        let s = Sample {
            at_s,
            rss_mb: rss as f64 / 1024.0,
            peak_mb: peak as f64 / 1024.0,
            store_mb: dir_size(&data.join("store")) as f64 / 1e6,
            held,
            stored,
            per_s,
        };
        writeln!(
            csv,
            "{:.0},{:.1},{:.1},{:.2},{},{},{:.2}",
            s.at_s, s.rss_mb, s.peak_mb, s.store_mb, s.held, s.stored, s.per_s
        )?;
        csv.flush()?;
        println!(
            "| {:.1} | {:.1} | {:.1} | {:.1} | {} | {} | {:.1} |",
            s.at_s / 60.0,
            s.rss_mb,
            s.peak_mb,
            s.store_mb,
            s.held,
            s.stored,
            s.per_s
        );
        if n % a.check_every == 0 {
            let mut files: Vec<(String, u64)> = std::fs::read_dir(data.join("store"))?
                .flatten()
                .map(|e| {
                    let size = if e.path().is_dir() {
                        dir_size(&e.path())
                    } else {
                        e.metadata().map(|m| m.len()).unwrap_or(0)
                    };
                    (e.file_name().to_string_lossy().into_owned(), size)
                })
                .collect();
            files.sort();
            let listing: Vec<String> = files
                .iter()
                .map(|(name, size)| format!("{name} {:.1} MB", *size as f64 / 1e6))
                .collect();
            eprintln!(
                "  data dir at {:.1} min: {}",
                s.at_s / 60.0,
                listing.join(", ")
            );
        }
        let _ = std::io::stdout().flush();
        samples.push(s);
    }

    // A clean stop, then the checks offline.
    // SAFETY: kill sends a signal to our own child.
    unsafe { libc::kill(pid as i32, libc::SIGTERM) };
    let status = child.wait()?;
    println!("\ndaemon stopped: {status}");
    let pruned = std::fs::read_to_string(&log_path)?
        .lines()
        .filter(|l| l.contains(" pruned") && l.contains("stories="))
        .count();
    println!("prune cycles that removed something: {pruned}");
    for args in [["store", "check"], ["store", "stats"]] {
        let out = tidings(&bin, &config, &data, &args).output()?;
        println!(
            "$ tidings {} → {}\n{}{}",
            args.join(" "),
            out.status,
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
    }

    // Kill -9 while pruning: restart, wait for a prune cycle to start, SIGKILL.
    let log2 = a.out.join("daemon-kill.log");
    let mut child = tidings(&bin, &config, &data, &["run"])
        .env("RUST_LOG", "info")
        .stdout(Stdio::null())
        .stderr(std::fs::File::create(&log2)?)
        .spawn()?;
    let deadline = Instant::now() + Duration::from_secs(120);
    let mut cycles_seen = 0;
    loop {
        let text = std::fs::read_to_string(&log2).unwrap_or_default();
        // The second cycle (the first runs at start, before much is due).
        let started_cycles = text.matches("pruning by [retention]").count();
        if started_cycles >= 2 {
            cycles_seen = started_cycles;
            break;
        }
        if Instant::now() > deadline {
            break;
        }
        std::thread::sleep(Duration::from_millis(5));
    }
    // SAFETY: as above.
    unsafe { libc::kill(child.id() as i32, libc::SIGKILL) };
    let status = child.wait()?;
    println!("killed while pruning (cycle {cycles_seen} started): {status}");
    let out = tidings(&bin, &config, &data, &["store", "check"]).output()?;
    println!(
        "$ tidings store check (after kill -9) → {}\n{}{}",
        out.status,
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    println!("samples in {}", a.out.join("soak.csv").display());
    Ok(())
}
