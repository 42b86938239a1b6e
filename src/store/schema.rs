//! Opening and closing the store: the schema version and the in-place upgrade of older
//! versions, opening the trees, the sweep of unindexed records at open (see
//! [`unindexed`]), the counts read once at open, and what a flush or a drop saves.

use std::path::Path;
use std::sync::atomic::AtomicU64;
use std::sync::{Mutex, OnceLock};

use super::counts::Counts;
use super::ingest::CommitLog;
use super::unindexed::{self, PendingRecords};
use super::{SledStore, StoreError, SweepReport};

/// Version of the on-disk layout described above.
pub const SCHEMA_VERSION: u32 = 6;

/// sled's page cache. Its default (1 GiB) lets the daemon's memory grow with the store;
/// the daemon's reads are a few point queries per new story (the near-duplicate index is
/// in memory), which need far less. In 10,000-feed load runs (100,000 new stories), peak
/// RSS was 274–281 MB at 32 MiB and 235–242 MB at 16 MiB, with no measurable change in
/// wall or CPU time; writing 100,000 stories with sled alone took 16.5 s at 32 MiB,
/// 16.9 s at 16 MiB and 20 s at 8 MiB.
const CACHE_BYTES: u64 = 16 * 1024 * 1024;

/// Versions this build opens and upgrades in place. Version 3 added the outbox trees,
/// which a version 2 store simply has empty. Versions 2 and 3 kept the near-duplicate
/// index in `idx_band` and version 4 in `lsh_buckets`; version 5 holds it in memory, so
/// the upgrade drops those trees. Version 6 added `idx_event_story` (which events cite a
/// story, so that pruning keeps it), built by the upgrade from the events, and stores
/// story records in a compact form (see `codec`), into which the upgrade rewrites them.
const UPGRADABLE_FROM: &[&[u8]] = &[b"2", b"3", b"4", b"5"];

/// `meta` key of the base added to every generated id (see [`SledStore::generate_id`]).
pub(super) const ID_BASE_KEY: &str = "id_base";

/// Trees of earlier versions that the upgrade drops.
const RETIRED_TREES: &[&str] = &["idx_band", "lsh_buckets"];

impl SledStore {
    /// Opens (creating if needed) the store in directory `path`.
    pub fn open(path: &Path) -> Result<SledStore, StoreError> {
        let db = sled::Config::new()
            .path(path)
            .cache_capacity(CACHE_BYTES)
            .open()
            .map_err(|source| {
                if source.to_string().contains("could not acquire lock") {
                    StoreError::InUse {
                        path: path.to_owned(),
                    }
                } else {
                    StoreError::Open {
                        path: path.to_owned(),
                        source,
                    }
                }
            })?;
        let meta = db.open_tree("meta")?;
        match meta.get("schema_version")? {
            None => {
                meta.insert("schema_version", SCHEMA_VERSION.to_string().as_bytes())?;
            }
            Some(v) if v.as_ref() == SCHEMA_VERSION.to_string().as_bytes() => {}
            Some(v) if UPGRADABLE_FROM.contains(&v.as_ref()) => {
                drop_retired_trees(&db)?;
                build_event_story_index(&db)?;
                reencode_stories(&db)?;
                meta.insert("schema_version", SCHEMA_VERSION.to_string().as_bytes())?;
                meta.flush()?;
            }
            Some(v) => {
                return Err(StoreError::SchemaMismatch {
                    path: path.to_owned(),
                    found: String::from_utf8_lossy(&v).into_owned(),
                    expected: SCHEMA_VERSION,
                })
            }
        }
        let stories = db.open_tree("stories")?;
        let signatures = db.open_tree("signatures")?;
        let idx_time = db.open_tree("idx_time")?;
        let opening_sweep = unindexed::sweep(
            &stories,
            &signatures,
            &idx_time,
            unindexed::saved_mark(&meta)?,
        )?;
        if opening_sweep.removed + opening_sweep.removed_signatures > 0 {
            tracing::warn!(
                records = opening_sweep.removed,
                signatures = opening_sweep.removed_signatures,
                "removed story records that a previous run wrote but never indexed \
                 (a write interrupted by a crash or an I/O error)"
            );
        }
        unindexed::save_mark(&meta, opening_sweep.next_mark)?;
        let alerts = db.open_tree("alerts")?;
        let idx_alert_due = db.open_tree("idx_alert_due")?;
        let idx_alert_dead = db.open_tree("idx_alert_dead")?;
        let events = db.open_tree("events")?;
        // The one scan of the counted trees; every committed write moves the counts.
        let counts = Counts::read(&idx_time, &events, &idx_alert_due, &idx_alert_dead);
        let id_base = meta
            .get(ID_BASE_KEY)?
            .map(|v| super::codec::decode_u64(&v))
            .unwrap_or(0);
        Ok(SledStore {
            id_base,
            idx_event_story: db.open_tree("idx_event_story")?,
            path: path.to_owned(),
            pending: PendingRecords::new(opening_sweep.next_mark),
            opening_sweep,
            counts,
            meta,
            alerts,
            idx_alert_due,
            idx_alert_dead,
            sink_circuits: db.open_tree("sink_circuits")?,
            stories,
            idx_time,
            idx_feed: db.open_tree("idx_feed")?,
            idx_guid: db.open_tree("idx_guid")?,
            idx_url: db.open_tree("idx_url")?,
            idx_hash: db.open_tree("idx_hash")?,
            signatures,
            feed_counts: db.open_tree("feed_counts")?,
            feeds: db.open_tree("feeds")?,
            events,
            idx_event_time: db.open_tree("idx_event_time")?,
            idx_event_type: db.open_tree("idx_event_type")?,
            idx_event_country: db.open_tree("idx_event_country")?,
            idx_event_key: db.open_tree("idx_event_key")?,
            db,
            writer: Mutex::new(CommitLog::default()),
            recent: OnceLock::new(),
            recent_init: Mutex::new(()),
            dedup_writes: AtomicU64::new(0),
        })
    }

    /// A new id for a story, event or alert: sled's crash-safe generator plus the base an
    /// import set above the ids it brought in.
    pub(super) fn generate_id(&self) -> Result<u64, StoreError> {
        Ok(self.db.generate_id()? + self.id_base)
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Writes everything buffered to disk.
    pub fn flush(&self) -> Result<(), StoreError> {
        self.save_settled_mark()?;
        self.db.flush()?;
        Ok(())
    }

    /// What the check of records left unindexed by an earlier run found at open.
    pub fn opening_sweep(&self) -> &SweepReport {
        &self.opening_sweep
    }
}

impl Drop for SledStore {
    /// Saves the settled mark (sled flushes as its last handle goes), so that the next
    /// open checks no record after a clean stop.
    fn drop(&mut self) {
        if let Err(e) = self.save_settled_mark() {
            tracing::warn!(error = %e, "could not save the settled-records mark");
        }
    }
}

/// Upgrade to version 6: indexes, for each event, the stories it cites.
fn build_event_story_index(db: &sled::Db) -> Result<(), StoreError> {
    let events = db.open_tree("events")?;
    let index = db.open_tree("idx_event_story")?;
    let mut n = 0u64;
    for entry in events.iter() {
        let (key, value) = entry?;
        let event: crate::model::Event =
            serde_json::from_slice(&value).map_err(|source| StoreError::Decode {
                tree: "events",
                key: super::keys::decode_id(&key).unwrap_or_default().to_string(),
                source,
            })?;
        for source in &event.sources {
            index.insert(super::keys::story_event(source.story, event.id), &[])?;
            n += 1;
        }
    }
    tracing::info!(
        citations = n,
        "store upgraded: events now index the stories they cite"
    );
    Ok(())
}

/// Upgrade to version 6: rewrites every story record in the compact form. Records that
/// are already (an upgrade interrupted and run again) are left; those that do not decode
/// are left for the sweep to report.
fn reencode_stories(db: &sled::Db) -> Result<(), StoreError> {
    let stories = db.open_tree("stories")?;
    let (mut rewritten, mut saved) = (0u64, 0i64);
    for entry in stories.iter() {
        let (key, value) = entry?;
        let Ok(story) = super::codec::decode_story(&value) else {
            continue;
        };
        let compact = super::codec::encode_story(&story)?;
        if compact.as_slice() != value.as_ref() {
            saved += value.len() as i64 - compact.len() as i64;
            stories.insert(key, compact)?;
            rewritten += 1;
        }
    }
    tracing::info!(
        stories = rewritten,
        bytes_saved = saved,
        "store upgraded: story records rewritten in the compact form"
    );
    Ok(())
}

/// Upgrade to version 5: drops the trees that held the near-duplicate index.
fn drop_retired_trees(db: &sled::Db) -> Result<(), StoreError> {
    let names = db.tree_names();
    for retired in RETIRED_TREES {
        if names.iter().any(|n| n.as_ref() == retired.as_bytes()) {
            db.drop_tree(retired)?;
        }
    }
    tracing::info!("store upgraded: the near-duplicate index now lives in memory");
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::dedup::{self, DedupIndex, Fingerprint};
    use crate::model::{IngestOutcome, MatchKind};
    use crate::store::codec::encode_signature;
    use crate::store::keys;
    use crate::store::test_support::{cand, long_cand, reopen};
    use crate::store::IngestHooks;

    #[test]
    fn records_an_interrupted_write_left_are_removed_at_the_next_open_and_the_rest_kept() {
        let dir = tempfile::tempdir().unwrap();
        let (kept, orphan, undecodable, lone_signature) = {
            let store = SledStore::open(dir.path()).unwrap();
            assert_eq!(store.opening_sweep().examined, 0, "a new store");
            let kept =
                [long_cand("1", "Trade talks"), long_cand("2", "Budget vote")].map(|c| match store
                    .ingest(&c)
                    .unwrap()
                {
                    IngestOutcome::New(id) => id,
                    other => panic!("{other:?}"),
                });
            // A record and signature written and never indexed, as a crash between the
            // two writes leaves them.
            let c = long_cand("3", "Port strike");
            let new = store.prepare_new(&c, &IngestHooks::NONE).unwrap();
            let fp = Fingerprint::of(&c);
            assert!(fp.signature.is_some());
            store
                .write_records([(&new.story, new.record.as_slice(), &fp)])
                .unwrap();
            // Above it, a record that does not decode and a signature without a record.
            let undecodable = new.story.id + 1000;
            store
                .stories
                .insert(keys::id(undecodable), b"not json".as_slice())
                .unwrap();
            let lone_signature = new.story.id + 2000;
            store
                .signatures
                .insert(
                    keys::id(lone_signature),
                    encode_signature(new.story.published, &fp.signature.unwrap()),
                )
                .unwrap();
            store.flush().unwrap();
            (kept, new.story.id, undecodable, lone_signature)
        };
        let store = reopen(dir.path()).unwrap();
        assert_eq!(
            *store.opening_sweep(),
            SweepReport {
                examined: 2,
                removed: 1,
                removed_signatures: 1,
                undecodable: 1,
                next_mark: lone_signature + 1,
            },
            "only the records from the one still pending up are checked"
        );
        assert!(store.stories.get(keys::id(orphan)).unwrap().is_none());
        assert!(store.signatures.get(keys::id(orphan)).unwrap().is_none());
        assert!(store
            .signatures
            .get(keys::id(lone_signature))
            .unwrap()
            .is_none());
        assert!(
            store.stories.get(keys::id(undecodable)).unwrap().is_some(),
            "what cannot be read is not thrown away"
        );
        for id in kept {
            assert!(store.story(id).unwrap().is_some());
            assert!(store.signature(id).unwrap().is_some());
        }
        assert_eq!(store.story_count(), 2);
        drop(store);
        // After a clean stop, nothing is checked.
        let store = reopen(dir.path()).unwrap();
        assert_eq!(store.opening_sweep().examined, 0);
        drop(store);
        // A store written before the mark existed has every record checked once.
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(5);
        let db = loop {
            match sled::open(dir.path()) {
                Ok(db) => break db,
                Err(_) if std::time::Instant::now() < deadline => {
                    std::thread::sleep(std::time::Duration::from_millis(20))
                }
                Err(e) => panic!("{e}"),
            }
        };
        db.open_tree("meta")
            .unwrap()
            .remove(unindexed::SETTLED_BELOW_KEY)
            .unwrap();
        db.flush().unwrap();
        drop(db);
        let store = reopen(dir.path()).unwrap();
        let sweep = store.opening_sweep();
        assert_eq!((sweep.examined, sweep.removed), (3, 0), "{sweep:?}");
        assert_eq!(store.story_count(), 2);
    }

    #[test]
    fn a_second_open_of_the_same_store_is_refused_clearly() {
        let dir = tempfile::tempdir().unwrap();
        let _first = SledStore::open(dir.path()).unwrap();
        // sled takes an exclusive flock on its file; flock conflicts between two open
        // file descriptions even within one process.
        let e = SledStore::open(dir.path())
            .err()
            .expect("second open must fail");
        assert!(matches!(e, StoreError::InUse { .. }), "{e}");
    }

    #[test]
    fn a_store_that_cannot_be_opened_says_where_and_keeps_the_cause() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("not-a-directory");
        std::fs::write(&file, "").unwrap();
        let e = SledStore::open(&file.join("store"))
            .err()
            .expect("cannot open");
        assert!(matches!(e, StoreError::Open { .. }), "{e}");
        let cause = std::error::Error::source(&e).expect("a source");
        assert!(cause.is::<sled::Error>(), "{cause:?}");
        assert!(e.to_string().ends_with(&cause.to_string()), "{e}");
    }

    #[test]
    fn an_older_store_loses_its_band_trees_and_finds_near_duplicates_after_a_restart() {
        let dir = tempfile::tempdir().unwrap();
        let text = "Officials from both countries met in the capital on Wednesday to discuss \
                    trade, energy and security, and agreed to meet again before the end of \
                    the year, according to a statement released after the talks ended.";
        let mut original = cand(
            "a",
            "1",
            "https://x/1",
            "Talks in the capital",
            "2023-02-22T10:00:00Z",
        );
        original.text = text.into();
        let id = {
            let store = SledStore::open(dir.path()).unwrap();
            let IngestOutcome::New(id) = store.ingest(&original).unwrap() else {
                panic!("new story expected");
            };
            // What versions 2 to 4 kept on disk for the near-duplicate index.
            store.meta.insert("schema_version", "4").unwrap();
            for old in RETIRED_TREES {
                store.db.open_tree(old).unwrap().insert(b"k", b"v").unwrap();
            }
            store.flush().unwrap();
            id
        };
        let store = reopen(dir.path()).unwrap();
        assert!(!store
            .db
            .tree_names()
            .iter()
            .any(|n| RETIRED_TREES.iter().any(|r| n.as_ref() == r.as_bytes())));
        assert_eq!(
            store.meta.get("schema_version").unwrap().as_deref(),
            Some(SCHEMA_VERSION.to_string().as_bytes())
        );
        let mut copy = cand(
            "b",
            "9",
            "https://y/9",
            "Talks in the capital",
            "2023-02-22T11:00:00Z",
        );
        copy.text = text.replace("Wednesday", "Thursday");
        let found = dedup::find_match(&store, &copy, &Fingerprint::of(&copy)).unwrap();
        assert!(
            matches!(found, Some((found_id, MatchKind::NearDuplicate { .. })) if found_id == id),
            "{found:?}"
        );
    }

    #[test]
    fn a_version_5_store_gets_the_index_of_cited_stories_and_keeps_them_when_pruning() {
        use crate::config::RetentionSettings;
        use crate::model::{Modality, Story};
        use crate::store::retention::Cutoffs;
        use crate::store::test_support::{meeting, meeting_story};
        let dir = tempfile::tempdir().unwrap();
        let (story, uncited) = {
            let store = SledStore::open(dir.path()).unwrap();
            let detect = |_: &Story| vec![meeting(Modality::Occurred)];
            let hooks = IngestHooks {
                detect: &detect,
                route: &|_, _| None,
            };
            let m = meeting_story("m1", "Leaders meet", "2026-01-02T00:00:00Z");
            let IngestOutcome::New(story) = store.ingest_detecting(&m, &hooks).unwrap().outcome
            else {
                panic!("a new story")
            };
            let plain = meeting_story("p1", "Weather", "2026-01-03T00:00:00Z");
            let IngestOutcome::New(uncited) = store.ingest(&plain).unwrap() else {
                panic!("a new story")
            };
            // What a version 5 store holds: no index of cited stories, and story records
            // as the model's JSON.
            store.idx_event_story.clear().unwrap();
            for id in [story, uncited] {
                let s = store.story(id).unwrap().unwrap();
                store
                    .stories
                    .insert(keys::id(id), serde_json::to_vec(&s).unwrap())
                    .unwrap();
            }
            store.meta.insert("schema_version", "5").unwrap();
            store.flush().unwrap();
            (story, uncited)
        };
        let store = reopen(dir.path()).unwrap();
        assert_eq!(
            store.meta.get("schema_version").unwrap().as_deref(),
            Some(SCHEMA_VERSION.to_string().as_bytes())
        );
        assert!(store.is_cited(story).unwrap());
        assert!(!store.is_cited(uncited).unwrap());
        for id in [story, uncited] {
            let raw = store.stories.get(keys::id(id)).unwrap().unwrap();
            assert!(
                serde_json::from_slice::<crate::model::Story>(&raw).is_err(),
                "rewritten in the compact form"
            );
            assert_eq!(store.story(id).unwrap().unwrap().id, id);
        }
        assert!(
            store.check().unwrap().is_ok(),
            "{:?}",
            store.check().unwrap()
        );
        let settings = RetentionSettings {
            story_identity: Some(std::time::Duration::from_secs(86_400)),
            story_text: Some(std::time::Duration::from_secs(86_400)),
            stories: Some(std::time::Duration::from_secs(86_400)),
            ..RetentionSettings::default()
        };
        let cut = Cutoffs::at(&settings, "2026-12-31T00:00:00Z".parse().unwrap());
        let report = store.prune(&cut, 10, false).unwrap();
        assert_eq!((report.stories, report.cited_kept), (1, 1), "{report:?}");
        assert!(store.story(story).unwrap().is_some());
        assert!(store.story(uncited).unwrap().is_none());
    }

    #[test]
    fn a_store_from_another_schema_version_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        {
            let db = sled::open(dir.path()).unwrap();
            db.open_tree("meta")
                .unwrap()
                .insert("schema_version", "99")
                .unwrap();
            db.flush().unwrap();
        }
        let e = reopen(dir.path()).err().unwrap();
        assert!(matches!(e, StoreError::SchemaMismatch { .. }), "{e}");
    }
}
