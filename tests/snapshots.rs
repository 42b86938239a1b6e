//! Dedup on the real feed captures in `../shared/feeds/news-snapshots/`, when present:
//! ingested in capture order, as successive polls would deliver them. The full report
//! (per outlet, per match kind) is `cargo run --release --example snapshot_dedup`.

mod common;

use std::collections::{BTreeMap, HashSet};

use tidings::model::IngestOutcome;
use tidings::parser::parse_feed;
use tidings::store::Store;

#[test]
fn real_captures_are_stored_once_per_story_and_reingest_adds_nothing() {
    let Some(shared) = common::shared_dir_or_skip(
        "real_captures_are_stored_once_per_story_and_reingest_adds_nothing",
    ) else {
        return;
    };
    let dir = shared.join("feeds/news-snapshots");
    let captures = common::captures(&shared);
    assert_eq!(captures.len(), 96);

    let tmp = tempfile::tempdir().unwrap();
    let store = Store::open(tmp.path()).unwrap();
    let mut guids: BTreeMap<String, HashSet<String>> = BTreeMap::new();
    let mut new: BTreeMap<String, usize> = BTreeMap::new();
    for pass in 0..2 {
        for common::Capture { at, file, outlet } in &captures {
            let body = std::fs::read(dir.join(file)).unwrap();
            let parsed =
                parse_feed(outlet, &body, None, *at).unwrap_or_else(|e| panic!("{file}: {e}"));
            assert!(!parsed.candidates.is_empty(), "{file}: no entries");
            for c in &parsed.candidates {
                guids
                    .entry(outlet.clone())
                    .or_default()
                    .insert(c.guid.clone());
                let outcome = store.ingest(c).unwrap();
                if pass == 1 {
                    assert!(
                        matches!(
                            outcome,
                            IngestOutcome::Unchanged(_) | IngestOutcome::Revised(_)
                        ),
                        "second pass stored something again: {file} {} -> {outcome:?}",
                        c.guid
                    );
                }
                if let IngestOutcome::New(_) = outcome {
                    *new.entry(outlet.clone()).or_default() += 1;
                }
            }
        }
    }
    for (outlet, ids) in &guids {
        let stored = new[outlet];
        eprintln!(
            "{outlet}: {stored} stories stored for {} distinct GUIDs",
            ids.len()
        );
        assert!(stored <= ids.len(), "{outlet}: more stories than GUIDs");
        // Dedup across GUIDs is rare and deliberate here: fewer than 2% merged.
        assert!(
            stored * 100 >= ids.len() * 98,
            "{outlet}: {stored} of {} — too many merges",
            ids.len()
        );
    }
    assert_eq!(store.story_count().unwrap(), new.values().sum::<usize>());
}
