//! The load run on PostgreSQL: the same world polled by 1, 2, 4 … daemons
//! (`tidings run`, `[store] backend = "postgres"`) sharing one fresh database.
//!
//! For each daemon count:
//!
//! 1. a fresh database `tidings_load_{n}` on the server `--postgres` names;
//! 2. the daemons start together, claim the hosts between them and poll every feed
//!    (every item new): the changed cycle ends when the database says every feed has
//!    had one finished poll (`feeds.polls`);
//! 3. every feed is made due again in the database: the 304 cycle ends when every feed
//!    has had its second poll;
//! 4. the daemons stop (SIGTERM) and the database is dropped.
//!
//! Per cycle it reports wall time, each daemon's CPU time (from `/proc/PID/stat`, read at
//! the cycle's start and end), the database server's CPU time (every `postgres` process,
//! and what the postmaster collected from backends that ended), stories stored and
//! stories per second, and how many feeds each daemon polled.

use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use sqlx::postgres::PgPoolOptions;
use sqlx::PgPool;

/// The longest a cycle may take before the run gives up.
const CYCLE_LIMIT: Duration = Duration::from_secs(900);

/// One cycle of one daemon count.
pub struct PgCycle {
    pub daemons: usize,
    pub name: &'static str,
    pub wall: Duration,
    pub cpu_per_daemon: Vec<Duration>,
    pub db_cpu: Duration,
    pub stories: i64,
    /// Feeds each daemon made the last poll of, most first.
    pub feeds_per_daemon: Vec<i64>,
}

/// CPU time of a process (user + system) from `/proc/PID/stat`, and with `children`
/// the time of its children it has waited for.
fn proc_cpu(pid: u32, children: bool) -> Option<Duration> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    // After the command name in parentheses: field 3 onwards.
    let rest = stat.rsplit_once(')')?.1;
    let fields: Vec<u64> = rest
        .split_whitespace()
        .map(|f| f.parse().unwrap_or(0))
        .collect();
    // utime, stime, cutime, cstime are fields 14–17 (1-based), 11–14 here (0-based
    // after the state field at index 0).
    let mut ticks = fields.get(11)? + fields.get(12)?;
    if children {
        ticks += fields.get(13)? + fields.get(14)?;
    }
    // SAFETY: sysconf has no preconditions.
    let hz = unsafe { libc::sysconf(libc::_SC_CLK_TCK) }.max(1) as u64;
    Some(Duration::from_secs_f64(ticks as f64 / hz as f64))
}

/// CPU time of the database server: every process named `postgres`, and for the
/// postmaster (the one whose parent is not `postgres`) its waited-for children too, so
/// that backends that ended still count.
fn db_cpu() -> Duration {
    let comm = |pid: &str| {
        std::fs::read_to_string(format!("/proc/{pid}/comm"))
            .map(|c| c.trim().to_string())
            .unwrap_or_default()
    };
    let mut total = Duration::ZERO;
    let Ok(dir) = std::fs::read_dir("/proc") else {
        return total;
    };
    for entry in dir.flatten() {
        let name = entry.file_name().to_string_lossy().to_string();
        let Ok(pid) = name.parse::<u32>() else {
            continue;
        };
        if comm(&name) != "postgres" {
            continue;
        }
        let parent = std::fs::read_to_string(format!("/proc/{pid}/stat"))
            .ok()
            .and_then(|s| {
                s.rsplit_once(')')
                    .and_then(|(_, rest)| rest.split_whitespace().nth(1).map(str::to_string))
            })
            .unwrap_or_default();
        let postmaster = comm(&parent) != "postgres";
        total += proc_cpu(pid, postmaster).unwrap_or_default();
    }
    total
}

fn database_url(base: &str, name: &str) -> Result<String, Box<dyn std::error::Error>> {
    let mut url = url::Url::parse(base)?;
    url.set_path(&format!("/{name}"));
    Ok(url.to_string())
}

/// Finished polls: how many feeds have at least `polls`.
async fn polled(pool: &PgPool, polls: i64) -> i64 {
    // Before the first daemon applied the migrations the table is not there: 0.
    sqlx::query_scalar("SELECT count(*) FROM feeds WHERE enabled AND polls >= $1")
        .bind(polls)
        .fetch_one(pool)
        .await
        .unwrap_or(0)
}

/// Waits until every one of `feeds` has `polls` finished polls; false if a daemon
/// exited or the cycle ran past [`CYCLE_LIMIT`].
fn wait_polled(
    runtime: &tokio::runtime::Runtime,
    pool: &PgPool,
    feeds: usize,
    polls: i64,
    children: &mut [Child],
) -> bool {
    let started = Instant::now();
    loop {
        if runtime.block_on(polled(pool, polls)) >= feeds as i64 {
            return true;
        }
        if children
            .iter_mut()
            .any(|c| !matches!(c.try_wait(), Ok(None)))
        {
            eprintln!("a daemon exited during the cycle");
            return false;
        }
        if started.elapsed() > CYCLE_LIMIT {
            eprintln!("the cycle ran past {CYCLE_LIMIT:?}");
            return false;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// The world the daemons poll.
#[derive(Clone, Copy)]
pub struct World<'a> {
    /// The `[[feeds]]` of the config.
    pub feed_list: &'a str,
    pub feeds: usize,
    /// Each daemon's `max_concurrent_fetches` (and per-host concurrency).
    pub concurrency: usize,
}

/// Runs `world` with each of `counts` daemons on a fresh database of the server at
/// `base`; `reset_counters` zeroes the feed server's counters at each cycle's start.
pub fn run(
    runtime: &tokio::runtime::Runtime,
    (bin, dir): (&Path, &Path),
    base: &str,
    counts: &[usize],
    world: &World<'_>,
    mut reset_counters: impl FnMut(),
) -> Result<Vec<PgCycle>, Box<dyn std::error::Error>> {
    let World {
        feed_list,
        feeds,
        concurrency,
    } = *world;
    let admin = runtime.block_on(PgPoolOptions::new().max_connections(1).connect(base))?;
    let mut out = Vec::new();
    for &n in counts {
        // Our own name (a prefix and a number): safe to put in the statement.
        let name = format!("tidings_load_{n}");
        runtime.block_on(async {
            sqlx::query(sqlx::AssertSqlSafe(format!(
                "DROP DATABASE IF EXISTS {name} WITH (FORCE)"
            )))
            .execute(&admin)
            .await?;
            sqlx::query(sqlx::AssertSqlSafe(format!("CREATE DATABASE {name}")))
                .execute(&admin)
                .await
        })?;
        let url = database_url(base, &name)?;
        let run_dir = dir.join(format!("pg-{n}"));
        std::fs::create_dir_all(&run_dir)?;
        std::fs::write(run_dir.join("db.url"), &url)?;
        let config = run_dir.join("tidings.toml");
        std::fs::write(
            &config,
            format!(
                "# Written by examples/load_run (PostgreSQL, {n} daemons)\n\
                 [store]\nbackend = \"postgres\"\nurl_file = \"db.url\"\nmax_connections = 16\n\n\
                 [daemon]\nmax_concurrent_fetches = {concurrency}\ndefault_interval = \"10m\"\n\
                 per_host_concurrency = {concurrency}\nper_host_spacing = \"0s\"\n\n\
                 [api]\nlisten = \"127.0.0.1:0\"\n\n{feed_list}"
            ),
        )?;
        let pool = runtime.block_on(PgPoolOptions::new().max_connections(1).connect(&url))?;

        println!("PostgreSQL, {n} daemon(s): starting …");
        reset_counters();
        let db_before = db_cpu();
        let started = Instant::now();
        let mut children = Vec::with_capacity(n);
        for d in 0..n {
            let data = run_dir.join(format!("data-{d}"));
            let log = std::fs::File::create(run_dir.join(format!("daemon-{d}.log")))?;
            let child = super::tidings(bin, &config, &data, &["run"])
                .stdout(Stdio::null())
                .stderr(log)
                .spawn()?;
            children.push(child);
        }
        let cpu = |children: &[Child]| -> Vec<Duration> {
            children
                .iter()
                .map(|c| proc_cpu(c.id(), false).unwrap_or_default())
                .collect()
        };
        let mut completed = true;
        let mut last_cpu = vec![Duration::ZERO; n];
        let mut last_db = db_before;
        let mut cycle_start = started;
        for (polls, cycle) in [(1_i64, "1: all changed"), (2, "2: all 304")] {
            if polls == 2 {
                reset_counters();
                cycle_start = Instant::now();
                runtime
                    .block_on(sqlx::query("UPDATE feeds SET next_due = now()").execute(&pool))?;
            }
            if !wait_polled(runtime, &pool, feeds, polls, &mut children) {
                completed = false;
                break;
            }
            let wall = cycle_start.elapsed();
            let now_cpu = cpu(&children);
            let now_db = db_cpu();
            let stories: i64 = runtime
                .block_on(sqlx::query_scalar("SELECT count(*) FROM stories").fetch_one(&pool))?;
            let mut per_daemon: Vec<i64> = runtime.block_on(
                sqlx::query_scalar(
                    "SELECT count(*) FROM feeds WHERE enabled GROUP BY last_polled_by",
                )
                .fetch_all(&pool),
            )?;
            per_daemon.sort_unstable_by(|a, b| b.cmp(a));
            out.push(PgCycle {
                daemons: n,
                name: cycle,
                wall,
                cpu_per_daemon: now_cpu
                    .iter()
                    .zip(&last_cpu)
                    .map(|(now, before)| now.saturating_sub(*before))
                    .collect(),
                db_cpu: now_db.saturating_sub(last_db),
                stories,
                feeds_per_daemon: per_daemon,
            });
            last_cpu = now_cpu;
            last_db = now_db;
        }
        if completed {
            // What the database holds for this world, per story.
            let sizes: Vec<(String, i64)> = runtime.block_on(
                sqlx::query_as(
                    "SELECT c.relname::text, pg_total_relation_size(c.oid) FROM pg_class c \
                     JOIN pg_namespace n ON n.oid = c.relnamespace \
                     WHERE c.relkind = 'r' AND n.nspname = 'public' \
                     ORDER BY pg_total_relation_size(c.oid) DESC LIMIT 6",
                )
                .fetch_all(&pool),
            )?;
            let stories = out.last().map_or(0, |c: &PgCycle| c.stories).max(1);
            let listed: Vec<String> = sizes
                .iter()
                .map(|(t, b)| {
                    format!(
                        "{t} {:.1} MB ({:.0} B/story)",
                        *b as f64 / 1e6,
                        *b as f64 / stories as f64
                    )
                })
                .collect();
            println!("  tables with their indexes: {}", listed.join(", "));
        }
        for child in &mut children {
            let _ = Command::new("kill")
                .arg("-TERM")
                .arg(child.id().to_string())
                .status();
        }
        for child in &mut children {
            let _ = child.wait();
        }
        runtime.block_on(pool.close());
        runtime.block_on(
            sqlx::query(sqlx::AssertSqlSafe(format!(
                "DROP DATABASE IF EXISTS {name} WITH (FORCE)"
            )))
            .execute(&admin),
        )?;
        if !completed {
            return Err(format!(
                "the run with {n} daemons did not complete; logs in {}",
                run_dir.display()
            )
            .into());
        }
    }
    Ok(out)
}

/// Prints the PostgreSQL cycles beside `sled` (the sled cycles' wall time and CPU).
pub fn print(cycles: &[PgCycle], sled: &[(&str, Duration, Duration, Option<u64>)], feeds: usize) {
    println!();
    println!(
        "{:<22} {:<16} {:>8} {:>9} {:>22} {:>8} {:>8} {:>10} {:>8} {:>22}",
        "store",
        "cycle",
        "wall s",
        "cpu s",
        "cpu s per daemon",
        "db cpu",
        "stories",
        "stories/s",
        "feeds/s",
        "feeds per daemon"
    );
    for (name, wall, cpu, stories) in sled {
        let new = stories.unwrap_or(0) as f64;
        println!(
            "{:<22} {:<16} {:>8.2} {:>9.2} {:>22} {:>8} {:>8} {:>10.0} {:>8.0} {:>22}",
            "sled, run --once",
            name,
            wall.as_secs_f64(),
            cpu.as_secs_f64(),
            "-",
            "-",
            stories.map(|s| s.to_string()).unwrap_or_else(|| "?".into()),
            if name.starts_with('1') {
                new / wall.as_secs_f64()
            } else {
                0.0
            },
            feeds as f64 / wall.as_secs_f64(),
            "-"
        );
    }
    for c in cycles {
        let per: Vec<String> = c
            .cpu_per_daemon
            .iter()
            .map(|d| format!("{:.1}", d.as_secs_f64()))
            .collect();
        let total: Duration = c.cpu_per_daemon.iter().sum();
        let stored_now = if c.name.starts_with('1') {
            c.stories as f64 / c.wall.as_secs_f64()
        } else {
            0.0
        };
        let per_daemon: Vec<String> = c.feeds_per_daemon.iter().map(i64::to_string).collect();
        let feeds_total = feeds;
        println!(
            "{:<22} {:<16} {:>8.2} {:>9.2} {:>22} {:>8.2} {:>8} {:>10.0} {:>8.0} {:>22}",
            format!("postgres, {} daemon(s)", c.daemons),
            c.name,
            c.wall.as_secs_f64(),
            total.as_secs_f64(),
            per.join(" "),
            c.db_cpu.as_secs_f64(),
            c.stories,
            stored_now,
            feeds_total as f64 / c.wall.as_secs_f64(),
            per_daemon.join(" ")
        );
    }
}
