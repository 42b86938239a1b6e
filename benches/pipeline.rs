//! Normalise and dedup throughput on real feeds: the BBC/NYT/CNN captures in
//! `../shared/feeds/news-snapshots/` (96 RSS files, read in capture order as successive
//! polls would see them). Skipped, with a message, when that folder is absent.
//!
//! - `parse/feed-rs only`: feed-rs alone on the raw bytes (the baseline: the parser's
//!   share of the next line);
//! - `parse/parse+normalise`: `parser::parse_feed`, i.e. feed-rs plus every entry turned
//!   into a `Candidate` (canonical URL, HTML → text, dates, language) — bytes per second;
//! - `dedup/fingerprint`: `Fingerprint::of` (SHA-256 and MinHash) over every candidate;
//! - `dedup/find_match re-poll`: the dedup decision against a store holding every
//!   snapshot: each candidate is found by its feed and GUID, as on a re-poll;
//! - `dedup/find_match other feed`: the same candidates under another feed id, so the
//!   GUID check misses and the decision goes on to URL, content hash and LSH;
//! - `dedup/find_match reworded copy`: under another feed id, without a link and with
//!   "Update: " before the title, so GUID, URL and content hash all miss and only the LSH
//!   bands can find the story;
//! - `dedup/ingest all, fresh store`: `SledStore::ingest` of every candidate in capture order
//!   into an empty store — the decision and the writes, as `examples/snapshot_dedup` does.
//!
//! Run: `cargo bench --bench pipeline`

use std::hint::black_box;
use std::path::{Path, PathBuf};
use std::time::Duration;

use chrono::{DateTime, Utc};
use criterion::{criterion_group, criterion_main, BatchSize, Criterion, Throughput};

use tidings::dedup::{find_match, similarity, Fingerprint, NEAR_DUPLICATE_THRESHOLD};
use tidings::model::Candidate;
use tidings::parser::parse_feed;
use tidings::store::SledStore;

/// One captured feed document: outlet (used as the feed id), capture time, raw bytes.
struct Capture {
    outlet: String,
    at: DateTime<Utc>,
    body: Vec<u8>,
}

fn snapshots_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/feeds/news-snapshots")
}

/// The captures listed in `MANIFEST.csv`, in capture order; `None` when absent.
fn captures() -> Option<Vec<Capture>> {
    let dir = snapshots_dir();
    let manifest = std::fs::read_to_string(dir.join("MANIFEST.csv")).ok()?;
    let mut out = Vec::new();
    for line in manifest.lines().skip(1) {
        let cols: Vec<&str> = line.split(',').collect();
        if cols.len() < 6 {
            continue;
        }
        let at = DateTime::parse_from_rfc3339(cols[4])
            .expect("capture time")
            .with_timezone(&Utc);
        let body = std::fs::read(dir.join(cols[0])).expect("snapshot file");
        out.push(Capture {
            outlet: cols[5].to_string(),
            at,
            body,
        });
    }
    out.sort_by_key(|c| c.at);
    Some(out)
}

fn candidates(captures: &[Capture]) -> Vec<Candidate> {
    captures
        .iter()
        .flat_map(|c| {
            parse_feed(&c.outlet, &c.body, None, c.at)
                .expect("snapshot parses")
                .candidates
        })
        .collect()
}

/// How often two different real stories share an LSH band without being near-duplicates.
/// Each such "false band hit" costs a lookup one signature read, so the expected number
/// per lookup is this rate times the number of stored stories: `benches/store.rs`
/// measures it on its synthetic store, this gives the real-text figure to compare.
fn false_band_hits(candidates: &[Candidate]) {
    let mut seen = std::collections::HashSet::new();
    let stories: Vec<Fingerprint> = candidates
        .iter()
        .map(Fingerprint::of)
        .filter(|fp| fp.signature.is_some() && seen.insert(fp.content_hash))
        .collect();
    let keys: Vec<Vec<(u8, u64)>> = stories.iter().map(Fingerprint::band_keys).collect();
    let (mut pairs, mut false_hits, mut near) = (0u64, 0u64, 0u64);
    for i in 0..stories.len() {
        for j in i + 1..stories.len() {
            let (Some(a), Some(b)) = (&stories[i].signature, &stories[j].signature) else {
                continue;
            };
            if similarity(a, b) >= NEAR_DUPLICATE_THRESHOLD {
                near += 1;
                continue;
            }
            pairs += 1;
            if keys[i].iter().zip(&keys[j]).any(|(x, y)| x == y) {
                false_hits += 1;
            }
        }
    }
    let rate = false_hits as f64 / pairs.max(1) as f64;
    eprintln!(
        "LSH on real text: {} distinct texts with a signature; {false_hits} of {pairs} \
         non-duplicate pairs share a band ({rate:.2e} per pair, i.e. ~{:.2} signature reads \
         per lookup per 100k stored stories); {near} near-duplicate pairs left out",
        stories.len(),
        rate * 1e5
    );
}

fn bench(c: &mut Criterion) {
    let Some(captures) = captures() else {
        eprintln!(
            "pipeline bench skipped: {} is absent (the real feed snapshots are not part of \
             the repository; see ../shared/feeds/README.md)",
            snapshots_dir().display()
        );
        return;
    };
    let bytes: usize = captures.iter().map(|c| c.body.len()).sum();
    let candidates = candidates(&captures);
    let text_bytes: usize = candidates
        .iter()
        .map(|c| c.title.len() + c.text.len())
        .sum();
    eprintln!(
        "{} snapshots, {:.2} MB; {} entries, {:.2} MB of title + text after normalising",
        captures.len(),
        bytes as f64 / 1e6,
        candidates.len(),
        text_bytes as f64 / 1e6
    );

    false_band_hits(&candidates);

    let mut parse = c.benchmark_group("parse");
    parse
        .throughput(Throughput::Bytes(bytes as u64))
        .sample_size(20)
        .measurement_time(Duration::from_secs(8));
    parse.bench_function(format!("feed-rs only ({} files)", captures.len()), |b| {
        b.iter(|| {
            let mut n = 0;
            for cap in &captures {
                n += feed_rs::parser::parse(cap.body.as_slice())
                    .expect("feed")
                    .entries
                    .len();
            }
            black_box(n)
        })
    });
    parse.bench_function(format!("parse+normalise ({} files)", captures.len()), |b| {
        b.iter(|| {
            let mut n = 0;
            for cap in &captures {
                n += parse_feed(&cap.outlet, &cap.body, None, cap.at)
                    .expect("feed")
                    .candidates
                    .len();
            }
            black_box(n)
        })
    });
    parse.finish();

    let mut dedup = c.benchmark_group("dedup");
    dedup
        .throughput(Throughput::Elements(candidates.len() as u64))
        .sample_size(20)
        .measurement_time(Duration::from_secs(6));
    dedup.bench_function(format!("fingerprint ({} entries)", candidates.len()), |b| {
        b.iter(|| {
            for cand in &candidates {
                black_box(Fingerprint::of(cand));
            }
        })
    });

    // A store holding every snapshot, as after polling them all.
    let tmp = tempfile::tempdir().expect("temp dir");
    let store = SledStore::open(&tmp.path().join("store")).expect("store");
    for cand in &candidates {
        store.ingest(cand).expect("ingest");
    }
    eprintln!(
        "store for the lookups: {} stories from {} entries",
        store.story_count(),
        candidates.len()
    );
    let with_fp: Vec<(Candidate, Fingerprint)> = candidates
        .iter()
        .map(|c| (c.clone(), Fingerprint::of(c)))
        .collect();
    let elsewhere: Vec<(Candidate, Fingerprint)> = with_fp
        .iter()
        .map(|(c, fp)| {
            let mut c = c.clone();
            c.feed = format!("{}-mirror", c.feed);
            (c, fp.clone())
        })
        .collect();
    // Under another feed, without a link and retitled: the GUID, URL and content hash
    // all miss, and only the LSH bands can find the story (entries whose text is too
    // short for a MinHash signature are not found at all).
    let reworded: Vec<(Candidate, Fingerprint)> = with_fp
        .iter()
        .map(|(c, _)| {
            let mut c = c.clone();
            c.feed = format!("{}-mirror", c.feed);
            c.url = None;
            c.title = format!("Update: {}", c.title);
            let fp = Fingerprint::of(&c);
            (c, fp)
        })
        .collect();
    for (name, queries) in [
        ("find_match re-poll", &with_fp),
        ("find_match other feed", &elsewhere),
        ("find_match reworded copy", &reworded),
    ] {
        let found = queries
            .iter()
            .filter(|(c, fp)| find_match(&store, c, fp).expect("lookup").is_some())
            .count();
        eprintln!("{name}: {found} of {} candidates matched", queries.len());
        dedup.bench_function(format!("{name} ({} entries)", queries.len()), |b| {
            b.iter(|| {
                for (c, fp) in queries.iter() {
                    black_box(find_match(&store, c, fp).expect("lookup"));
                }
            })
        });
    }
    dedup
        .sample_size(10)
        .measurement_time(Duration::from_secs(12));
    dedup.bench_function(
        format!("ingest all, fresh store ({} entries)", candidates.len()),
        |b| {
            b.iter_batched(
                || {
                    let dir = tempfile::tempdir().expect("temp dir");
                    let store = SledStore::open(&dir.path().join("store")).expect("store");
                    (dir, store)
                },
                |(dir, store)| {
                    for cand in &candidates {
                        black_box(store.ingest(cand).expect("ingest"));
                    }
                    (dir, store)
                },
                BatchSize::PerIteration,
            )
        },
    );
    dedup.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
