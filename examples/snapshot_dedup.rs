//! Dedup measured on real feed captures: ingests the snapshots in
//! `../shared/feeds/news-snapshots/` (BBC, NYT, CNN, captured repeatedly in 2020–21) in
//! capture order into a fresh store, as successive polls would, and reports per outlet
//! the stories stored against the distinct GUIDs seen, how each copy was matched, and
//! what happened to items whose title changed.
//!
//! Run: `cargo run --release --example snapshot_dedup [-- DIR] [--verbose]`

use std::collections::{BTreeMap, HashMap, HashSet};
use std::path::PathBuf;

use chrono::{DateTime, Utc};
use tidings::model::{IngestOutcome, MatchKind};
use tidings::parser::parse_feed;
use tidings::store::Store;

#[derive(Default)]
struct Outlet {
    captures: usize,
    entries: usize,
    guids: HashSet<String>,
    new: usize,
    unchanged: usize,
    revised: usize,
    by_url: usize,
    by_content: usize,
    near: usize,
    /// GUIDs whose title changed between captures.
    retitled: HashSet<String>,
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let verbose = args.iter().any(|a| a == "--verbose");
    let dir = args
        .iter()
        .find(|a| !a.starts_with("--"))
        .map(PathBuf::from)
        .unwrap_or_else(|| {
            PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../shared/feeds/news-snapshots")
        });
    let manifest = std::fs::read_to_string(dir.join("MANIFEST.csv")).map_err(|e| {
        format!(
            "cannot read {}/MANIFEST.csv: {e} (is ../shared present?)",
            dir.display()
        )
    })?;

    // file, captured_at, outlet — sorted by capture time.
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

    let tmp = tempfile::tempdir()?;
    let store = Store::open(tmp.path())?;
    let mut outlets: BTreeMap<String, Outlet> = BTreeMap::new();
    let mut last_title: HashMap<(String, String), String> = HashMap::new();
    let mut parse_errors = 0;
    let started = std::time::Instant::now();
    let mut bytes = 0usize;

    for (at, file, outlet) in &captures {
        let body = std::fs::read(dir.join(file))?;
        bytes += body.len();
        let o = outlets.entry(outlet.clone()).or_default();
        o.captures += 1;
        let parsed = match parse_feed(outlet, &body, None, *at) {
            Ok(p) => p,
            Err(e) => {
                parse_errors += 1;
                eprintln!("{file}: {e}");
                continue;
            }
        };
        for c in &parsed.candidates {
            o.entries += 1;
            o.guids.insert(c.guid.clone());
            let key = (outlet.clone(), c.guid.clone());
            if let Some(prev) = last_title.insert(key, c.title.clone()) {
                if prev != c.title {
                    o.retitled.insert(c.guid.clone());
                }
            }
            match store.ingest(c)? {
                IngestOutcome::New(_) => o.new += 1,
                IngestOutcome::Unchanged(_) => o.unchanged += 1,
                IngestOutcome::Revised(_) => o.revised += 1,
                IngestOutcome::Duplicate(id, kind) => {
                    match kind {
                        MatchKind::Url => o.by_url += 1,
                        MatchKind::Content => o.by_content += 1,
                        MatchKind::NearDuplicate { .. } => o.near += 1,
                        MatchKind::Guid | MatchKind::Original => {}
                    }
                    if verbose {
                        let s = store.story(id)?.expect("stored");
                        println!(
                            "{outlet}: {} [{}]\n    = {} ({})\n      {}",
                            c.title,
                            kind.label(),
                            s.title,
                            s.id,
                            c.guid
                        );
                    }
                }
            }
        }
    }
    let elapsed = started.elapsed();

    println!(
        "{:<18} {:>8} {:>8} {:>9} {:>8} {:>9} {:>8} {:>6} {:>7} {:>5} {:>9}",
        "outlet",
        "captures",
        "entries",
        "distinct",
        "stories",
        "unchanged",
        "revised",
        "url",
        "content",
        "near",
        "retitled"
    );
    println!(
        "{:<18} {:>8} {:>8} {:>9} {:>8}",
        "", "", "", "GUIDs", "stored"
    );
    let mut total = Outlet::default();
    for (name, o) in &outlets {
        println!(
            "{:<18} {:>8} {:>8} {:>9} {:>8} {:>9} {:>8} {:>6} {:>7} {:>5} {:>9}",
            name,
            o.captures,
            o.entries,
            o.guids.len(),
            o.new,
            o.unchanged,
            o.revised,
            o.by_url,
            o.by_content,
            o.near,
            o.retitled.len()
        );
        total.captures += o.captures;
        total.entries += o.entries;
        total.new += o.new;
        total.unchanged += o.unchanged;
        total.revised += o.revised;
        total.by_url += o.by_url;
        total.by_content += o.by_content;
        total.near += o.near;
        total
            .retitled
            .extend(o.retitled.iter().map(|g| format!("{name}/{g}")));
        total
            .guids
            .extend(o.guids.iter().map(|g| format!("{name}/{g}")));
    }
    println!(
        "{:<18} {:>8} {:>8} {:>9} {:>8} {:>9} {:>8} {:>6} {:>7} {:>5} {:>9}",
        "all",
        total.captures,
        total.entries,
        total.guids.len(),
        total.new,
        total.unchanged,
        total.revised,
        total.by_url,
        total.by_content,
        total.near,
        total.retitled.len()
    );
    println!(
        "store: {} stories; parse errors: {parse_errors}; {:.1} MB in {:.2?} ({:.1} MB/s, parse + normalise + dedup + store)",
        store.story_count()?,
        bytes as f64 / 1e6,
        elapsed,
        bytes as f64 / 1e6 / elapsed.as_secs_f64()
    );
    Ok(())
}
