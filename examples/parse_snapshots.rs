//! Parse timing on real feed files, for `tools/feedparser_compare.py`: reads the files
//! into memory, then times, in each round, feed-rs alone and tidings' parse + normalise
//! (`parser::parse_feed`: feed-rs, then every entry turned into a `Candidate`) over all of
//! them. No network, no store. Prints one JSON object with the per-round seconds.
//!
//! Run: `cargo run --release --example parse_snapshots -- [--rounds N] [--warmup N] [FILE|DIR ...]`
//! (default: the `*.xml` files under `../shared/feeds/news-snapshots/`).

use std::path::{Path, PathBuf};
use std::time::Instant;

use chrono::Utc;
use tidings::parser::parse_feed;

fn xml_files(dir: &Path, out: &mut Vec<PathBuf>) -> std::io::Result<()> {
    for entry in std::fs::read_dir(dir)? {
        let path = entry?.path();
        if path.is_dir() {
            xml_files(&path, out)?;
        } else if path.extension().is_some_and(|e| e == "xml") {
            out.push(path);
        }
    }
    Ok(())
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut rounds = 5usize;
    let mut warmup = 1usize;
    let mut inputs: Vec<PathBuf> = Vec::new();
    let mut args = std::env::args().skip(1);
    while let Some(a) = args.next() {
        match a.as_str() {
            "--rounds" => rounds = args.next().ok_or("--rounds N")?.parse()?,
            "--warmup" => warmup = args.next().ok_or("--warmup N")?.parse()?,
            _ => inputs.push(PathBuf::from(a)),
        }
    }
    if inputs.is_empty() {
        inputs.push(Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/feeds/news-snapshots"));
    }
    let mut files = Vec::new();
    for input in &inputs {
        if input.is_dir() {
            xml_files(input, &mut files)?;
        } else {
            files.push(input.clone());
        }
    }
    files.sort();
    if files.is_empty() {
        return Err(format!("no feed files in {inputs:?} (is ../shared present?)").into());
    }
    let bodies: Vec<Vec<u8>> = files.iter().map(std::fs::read).collect::<Result<_, _>>()?;
    let bytes: usize = bodies.iter().map(Vec::len).sum();
    let seen_at = Utc::now();

    let feed_rs_round = || {
        let mut entries = 0;
        for body in &bodies {
            if let Ok(feed) = feed_rs::parser::parse(body.as_slice()) {
                entries += feed.entries.len();
            }
        }
        entries
    };
    let tidings_round = || {
        let mut entries = 0;
        for (file, body) in files.iter().zip(&bodies) {
            let id = file.file_stem().and_then(|s| s.to_str()).unwrap_or("feed");
            if let Ok(parsed) = parse_feed(id, body, None, seen_at) {
                entries += parsed.candidates.len();
            }
        }
        entries
    };
    for _ in 0..warmup {
        std::hint::black_box(feed_rs_round());
        std::hint::black_box(tidings_round());
    }
    let (mut feed_rs_s, mut tidings_s) = (Vec::new(), Vec::new());
    let (mut feed_rs_entries, mut tidings_entries) = (0, 0);
    for _ in 0..rounds {
        let t = Instant::now();
        feed_rs_entries = std::hint::black_box(feed_rs_round());
        feed_rs_s.push(t.elapsed().as_secs_f64());
        let t = Instant::now();
        tidings_entries = std::hint::black_box(tidings_round());
        tidings_s.push(t.elapsed().as_secs_f64());
    }
    let list = |v: &[f64]| {
        v.iter()
            .map(|s| format!("{s:.6}"))
            .collect::<Vec<_>>()
            .join(", ")
    };
    println!(
        "{{\"files\": {}, \"bytes\": {bytes}, \"entries\": {tidings_entries}, \
         \"feed_rs_entries\": {feed_rs_entries}, \"feed_rs_s\": [{}], \"tidings_s\": [{}]}}",
        files.len(),
        list(&feed_rs_s),
        list(&tidings_s)
    );
    Ok(())
}
