//! What claiming costs the database at scale: N feeds over H hosts registered in a fresh
//! PostgreSQL database, then D simulated daemons claiming rounds as the daemon does
//! (`Store::claim_due_feeds`), each claimed feed finished at once with its next poll a
//! cycle later (`Store::finish_feed_poll`). No fetching, no stories: only the claims.
//!
//! ```sh
//! cargo run --release --example claim_rounds -- \
//!     --postgres postgres://postgres@127.0.0.1:5432/postgres \
//!     --feeds 1000000 --hosts 20000 --daemons 4 --batch 256
//! ```
//!
//! It reports the registration time, then for one full cycle (every feed claimed and
//! finished once) the wall time, claims per second, the median and 95th-percentile
//! round time, and the database's table and index sizes.

use std::sync::Arc;
use std::time::{Duration, Instant};

use chrono::Utc;
use sqlx::postgres::PgPoolOptions;
use tidings::store::Store;

struct Args {
    postgres: String,
    feeds: usize,
    hosts: usize,
    daemons: usize,
    batch: usize,
}

fn usage() -> ! {
    eprintln!(
        "usage: claim_rounds --postgres URL [--feeds N (1000000)] [--hosts N (20000)] \
         [--daemons N (4)] [--batch N (256)]"
    );
    std::process::exit(2)
}

fn parse_args() -> Args {
    let mut args = Args {
        postgres: String::new(),
        feeds: 1_000_000,
        hosts: 20_000,
        daemons: 4,
        batch: 256,
    };
    let mut it = std::env::args().skip(1);
    while let Some(a) = it.next() {
        let mut value = || it.next().unwrap_or_else(|| usage());
        let mut number = || {
            value()
                .parse()
                .ok()
                .filter(|&n| n > 0)
                .unwrap_or_else(|| usage())
        };
        match a.as_str() {
            "--postgres" => args.postgres = value(),
            "--feeds" => args.feeds = number(),
            "--hosts" => args.hosts = number(),
            "--daemons" => args.daemons = number(),
            "--batch" => args.batch = number(),
            _ => usage(),
        }
    }
    if args.postgres.is_empty() {
        usage();
    }
    args
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    if sorted.is_empty() {
        return Duration::ZERO;
    }
    sorted[((sorted.len() - 1) as f64 * p).round() as usize]
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args = parse_args();
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    let admin = runtime.block_on(
        PgPoolOptions::new()
            .max_connections(1)
            .connect(&args.postgres),
    )?;
    // Our own name: safe to put in the statement.
    let name = "tidings_claim_rounds";
    let drop = format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)");
    runtime.block_on(sqlx::query(sqlx::AssertSqlSafe(drop.clone())).execute(&admin))?;
    runtime.block_on(
        sqlx::query(sqlx::AssertSqlSafe(format!("CREATE DATABASE {name}"))).execute(&admin),
    )?;
    let mut url = url::Url::parse(&args.postgres)?;
    url.set_path(&format!("/{name}"));

    // Each simulated daemon is a store of its own: its own pool and claimant name.
    let stores: Vec<Arc<Store>> = (0..args.daemons)
        .map(|_| Store::connect_postgres(url.as_str(), 4).map(Arc::new))
        .collect::<Result<_, _>>()?;
    let feeds: Vec<(String, String)> = (0..args.feeds)
        .map(|i| {
            (
                format!("feed-{i:07}"),
                format!("host-{:05}.example", i % args.hosts),
            )
        })
        .collect();
    let started = Instant::now();
    stores[0].register_feeds(&feeds)?;
    let registered = started.elapsed();
    println!(
        "registered {} feeds over {} hosts in {:.1} s",
        args.feeds,
        args.hosts,
        registered.as_secs_f64()
    );

    // One cycle: the daemons claim in parallel until every feed was claimed once.
    let lease = Duration::from_secs(30);
    let cycle = chrono::Duration::minutes(15);
    let started = Instant::now();
    let total = Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let mut handles = Vec::new();
    for store in &stores {
        let store = Arc::clone(store);
        let total = Arc::clone(&total);
        let feeds = args.feeds;
        let batch = args.batch;
        handles.push(std::thread::spawn(
            move || -> Result<(Vec<Duration>, usize, Duration), String> {
                let mut rounds = Vec::new();
                let mut claimed = 0;
                let mut finishing = Duration::ZERO;
                // Rounds until every feed was claimed once (by any daemon); a round
                // that finds nothing waits 100 ms, as a daemon waits for its next round.
                while total.load(std::sync::atomic::Ordering::SeqCst) < feeds {
                    let t = Instant::now();
                    let claims = store
                        .claim_due_feeds(lease, batch)
                        .map_err(|e| e.to_string())?;
                    rounds.push(t.elapsed());
                    if claims.is_empty() {
                        std::thread::sleep(Duration::from_millis(100));
                        continue;
                    }
                    claimed += claims.len();
                    total.fetch_add(claims.len(), std::sync::atomic::Ordering::SeqCst);
                    let t = Instant::now();
                    let next = Utc::now() + cycle;
                    for claim in claims {
                        store
                            .finish_feed_poll(&claim.feed, next)
                            .map_err(|e| e.to_string())?;
                    }
                    finishing += t.elapsed();
                }
                Ok((rounds, claimed, finishing))
            },
        ));
    }
    let mut rounds = Vec::new();
    let mut per_daemon = Vec::new();
    let mut finishing = Duration::ZERO;
    for h in handles {
        let (r, claimed, f) = h.join().map_err(|_| "a claiming thread panicked")??;
        rounds.extend(r);
        per_daemon.push(claimed);
        finishing += f;
    }
    let wall = started.elapsed();
    rounds.sort();
    let claimed: usize = per_daemon.iter().sum();
    println!(
        "one cycle, {} daemons, batch {}: {} feeds claimed and finished in {:.1} s \
         ({:.0} claims/s); rounds {}: median {:.1} ms, p95 {:.1} ms; finishing {:.2} ms per feed; \
         per daemon {:?}",
        args.daemons,
        args.batch,
        claimed,
        wall.as_secs_f64(),
        claimed as f64 / wall.as_secs_f64(),
        rounds.len(),
        percentile(&rounds, 0.5).as_secs_f64() * 1e3,
        percentile(&rounds, 0.95).as_secs_f64() * 1e3,
        finishing.as_secs_f64() * 1e3 / claimed.max(1) as f64,
        per_daemon
    );

    let pool = runtime.block_on(
        PgPoolOptions::new()
            .max_connections(1)
            .connect(url.as_str()),
    )?;
    let sizes: Vec<(String, i64, i64)> = runtime.block_on(
        sqlx::query_as(
            "SELECT relname::text, pg_table_size(oid), pg_indexes_size(oid) FROM pg_class \
             WHERE relname IN ('feeds', 'hosts', 'daemons') ORDER BY relname",
        )
        .fetch_all(&pool),
    )?;
    for (table, data, indexes) in sizes {
        println!(
            "{table}: table {:.1} MB, indexes {:.1} MB",
            data as f64 / 1e6,
            indexes as f64 / 1e6
        );
    }
    runtime.block_on(pool.close());
    drop_stores(stores);
    runtime.block_on(sqlx::query(sqlx::AssertSqlSafe(drop)).execute(&admin))?;
    Ok(())
}

/// Closes every simulated daemon's pool before the database is dropped.
fn drop_stores(stores: Vec<Arc<Store>>) {
    for store in stores {
        let _ = store.release_claims();
    }
}
