//! Where a store's bytes go, on the real captures: ingests `../shared/feeds/news-snapshots`
//! in capture order (with the detector, as polls would) into a fresh store in DIR, then
//! prints the XML read, the store's size on disk, and keys and bytes per tree, per story.
//! The store is kept in DIR for `tidings store stats` / `compact`.
//!
//! Run: `cargo run --release --example store_bytes -- DIR [SNAPSHOTS_DIR]`

use std::path::PathBuf;

use chrono::{DateTime, Utc};
use tidings::config::Config;
use tidings::detect::Detector;
use tidings::parser::parse_feed;
use tidings::store::Store;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = std::env::args().skip(1);
    let out = PathBuf::from(
        args.next()
            .ok_or("usage: store_bytes DIR [SNAPSHOTS_DIR]")?,
    );
    let dir = args.next().map(PathBuf::from).unwrap_or_else(|| {
        PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../shared/feeds/news-snapshots")
    });
    let manifest = std::fs::read_to_string(dir.join("MANIFEST.csv"))
        .map_err(|e| format!("cannot read {}/MANIFEST.csv: {e}", dir.display()))?;
    let mut captures: Vec<(DateTime<Utc>, String, String)> = Vec::new();
    for line in manifest.lines().skip(1) {
        let cols: Vec<&str> = line.split(',').collect();
        if cols.len() < 6 {
            continue;
        }
        let at = DateTime::parse_from_rfc3339(cols[4])?.with_timezone(&Utc);
        captures.push((at, cols[0].to_string(), cols[5].to_string()));
    }
    captures.sort();
    if out.exists() {
        return Err(format!("{} exists: give a new directory", out.display()).into());
    }
    let config = Config::embedded_default()?;
    let detector = Detector::from_settings(&config.detection)?;
    let store = Store::open(&out)?;
    let mut xml = 0usize;
    for (at, file, outlet) in &captures {
        let body = std::fs::read(dir.join(file))?;
        xml += body.len();
        let parsed = parse_feed(outlet, &body, None, *at)?;
        tidings::poll::ingest_all(&store, &detector, &[], &parsed.candidates)?;
    }
    store.flush()?;
    let stats = store.stats(Utc::now())?;
    let n = stats.stories.max(1);
    println!(
        "{} captures, {:.1} MB of XML; {} stories, {} events",
        captures.len(),
        xml as f64 / 1e6,
        stats.stories,
        stats.events
    );
    println!(
        "on disk: {} bytes, {} per story ({:.1}x the XML)",
        stats.disk_bytes,
        stats.disk_bytes / n,
        stats.disk_bytes as f64 / xml as f64
    );
    println!("| tree | keys | key+value bytes | per story |");
    println!("|---|---:|---:|---:|");
    let mut total = 0;
    for t in &stats.trees {
        let b = t.key_bytes + t.value_bytes;
        total += b;
        println!(
            "| {} | {} | {} | {:.0} |",
            t.name,
            t.keys,
            b,
            b as f64 / n as f64
        );
    }
    println!(
        "| all trees | | {total} | {:.0} |\n| sled's files beyond that | | {} | {:.0} |",
        total as f64 / n as f64,
        stats.disk_bytes.saturating_sub(total),
        stats.disk_bytes.saturating_sub(total) as f64 / n as f64
    );
    Ok(())
}
