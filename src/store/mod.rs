//! The store: every story, its sources and every feed's polling state, kept in sled.
//!
//! This module is the only place that knows about sled. Its public API speaks in the
//! model's types ([`Story`], [`FeedState`], …) and [`StoreError`], so another backend
//! can replace it without touching the rest.
//!
//! Layout (one sled tree each):
//!
//! | tree          | key                          | value                         |
//! |---------------|------------------------------|-------------------------------|
//! | `meta`        | `schema_version`             | version, decimal text         |
//! | `meta`        | `records_settled_below`      | story id (see [`unindexed`])  |
//! | `stories`     | id                           | [`Story`] as JSON             |
//! | `idx_time`    | published ‖ id               | empty — newest-first listing  |
//! | `idx_feed`    | feed ‖ 0 ‖ published ‖ id    | empty — listing by feed       |
//! | `idx_guid`    | feed ‖ 0 ‖ guid              | id                            |
//! | `idx_url`     | canonical URL                | id                            |
//! | `idx_hash`    | SHA-256 of title and text    | id                            |
//! | `signatures`  | id                           | published ‖ MinHash signature |
//! | `feed_counts` | feed                         | stories with a copy from feed |
//! | `feeds`       | feed                         | [`FeedState`] as JSON         |
//! | `events`      | id                           | [`Event`] as JSON             |
//! | `idx_event_time` | anchor day ‖ id           | empty — newest-first listing  |
//! | `idx_event_type` | type ‖ 0 ‖ day ‖ id       | empty — listing by type       |
//! | `idx_event_country` | code ‖ 0 ‖ day ‖ id    | empty — listing by country    |
//! | `idx_event_key` | type ‖ 0 ‖ key ‖ 0 ‖ day ‖ id | empty — merge lookups      |
//! | `alerts`, `idx_alert_due`, `idx_alert_dead` | see [`outbox`]              |
//!
//! The near-duplicate index ([`RecentBands`]) lives in memory: it is built from the
//! signatures of the newest stories the first time a lookup needs it, and a new story
//! joins it once its transaction has committed.
//!
//! Invariants: a new story's record and signature are written first, keyed by its id,
//! where nothing finds them; then all its index entries, the events detected in it (new
//! or updated, with their index entries) and the alerts announcing them are written in
//! one transaction, which makes the story reachable. A crash leaves either all of them
//! or an unreachable record — a story is never found without its events, nor an event
//! without its alerts. The next open removes such records ([`unindexed`]: only those
//! above a saved mark are checked). (sled runs a transaction under a lock that stops
//! every other read and write, so the largest values stay out of it.) A poll's
//! consecutive new stories share one transaction, at most one of them with detections
//! ([`Store::ingest_batch`]). Ingestion is serialised by a writer lock, so the dedup and
//! merge lookups and the write that follows them see the same state.

mod events;
mod keys;
mod outbox;
mod unindexed;

pub use events::EventQuery;
pub use outbox::{AlertState, OutboxCounts};
pub use unindexed::SweepReport;

use std::collections::VecDeque;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Mutex, OnceLock, RwLock};

use chrono::{DateTime, Utc};
use sled::transaction::{ConflictableTransactionError, TransactionError, TransactionalTree};
use sled::Transactional;

use crate::dedup::{
    self, BandMember, DedupIndex, Fingerprint, MatchKeys, RecentBands, Signature, SIGNATURE_LEN,
};
use crate::detect::Detection;
use crate::model::{
    AlertId, AlertReason, Candidate, Event, EventChange, FeedState, IngestOutcome, MatchKind,
    Revision, Source, Story, StoryId,
};
use unindexed::PendingRecords;

/// Version of the on-disk layout described above.
pub const SCHEMA_VERSION: u32 = 5;

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
/// the upgrade drops those trees.
const UPGRADABLE_FROM: &[&[u8]] = &[b"2", b"3", b"4"];

/// Trees of earlier versions that the upgrade drops.
const RETIRED_TREES: &[&str] = &["idx_band", "lsh_buckets"];

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error(
        "the store at {path} is in use by another process (is `tidings run` running? \
         stop it to use this command while the read API is not available)"
    )]
    InUse { path: PathBuf },
    #[error("cannot open the store at {path}: {message}")]
    Open { path: PathBuf, message: String },
    #[error("the store at {path} has schema version {found}, this tidings understands version {expected}")]
    SchemaMismatch {
        path: PathBuf,
        found: String,
        expected: u32,
    },
    #[error("store I/O error: {0}")]
    Backend(String),
    #[error("corrupt record in {tree} at key {key}: {message}")]
    Corrupt {
        tree: &'static str,
        key: String,
        message: String,
    },
}

impl From<sled::Error> for StoreError {
    fn from(e: sled::Error) -> Self {
        StoreError::Backend(e.to_string())
    }
}

impl From<TransactionError<StoreError>> for StoreError {
    fn from(e: TransactionError<StoreError>) -> Self {
        match e {
            TransactionError::Abort(e) => e,
            TransactionError::Storage(e) => e.into(),
        }
    }
}

/// Filters for [`Store::stories`].
#[derive(Debug, Clone, Default)]
pub struct StoryQuery {
    /// Only stories with a copy from this feed.
    pub feed: Option<String>,
    /// Only stories published at or after this time.
    pub since: Option<DateTime<Utc>>,
    /// At most this many, newest first.
    pub limit: Option<usize>,
}

pub struct Store {
    path: PathBuf,
    db: sled::Db,
    meta: sled::Tree,
    stories: sled::Tree,
    idx_time: sled::Tree,
    idx_feed: sled::Tree,
    idx_guid: sled::Tree,
    idx_url: sled::Tree,
    idx_hash: sled::Tree,
    signatures: sled::Tree,
    feed_counts: sled::Tree,
    feeds: sled::Tree,
    events: sled::Tree,
    idx_event_time: sled::Tree,
    idx_event_type: sled::Tree,
    idx_event_country: sled::Tree,
    idx_event_key: sled::Tree,
    alerts: sled::Tree,
    idx_alert_due: sled::Tree,
    idx_alert_dead: sled::Tree,
    /// Serialises ingestion; holds the dedup keys of the latest writes.
    writer: Mutex<CommitLog>,
    /// The near-duplicate index, built on first use (commands that only read the store
    /// never need it).
    recent: OnceLock<RwLock<RecentBands>>,
    /// Held while the near-duplicate index is built.
    recent_init: Mutex<()>,
    /// Counts the writes that can change a dedup decision (new stories, new copies),
    /// bumped under the writer lock once each is committed.
    dedup_writes: AtomicU64,
    /// Hands out story ids and knows which records still wait for their index
    /// transaction.
    pending: PendingRecords,
    /// What the sweep of records left unindexed found when the store was opened.
    opening_sweep: SweepReport,
}

/// What happens to a new story besides storing it.
pub struct IngestHooks<'a> {
    /// Finds the events in a new story.
    pub detect: &'a dyn Fn(&Story) -> Vec<Detection>,
    /// The sinks that must hear of a new or significantly updated event.
    pub route: &'a dyn Fn(&Event, &AlertReason) -> Vec<String>,
}

impl IngestHooks<'_> {
    /// No detection, no alerts.
    pub const NONE: IngestHooks<'static> = IngestHooks {
        detect: &|_| Vec::new(),
        route: &|_, _| Vec::new(),
    };
}

/// What ingesting one candidate did.
#[derive(Debug, Clone, PartialEq)]
pub struct Ingested {
    pub outcome: IngestOutcome,
    /// Events created or changed by the detections in a new story.
    pub events: Vec<EventChange>,
    /// Alerts written to the outbox with them.
    pub alerts: Vec<AlertId>,
}

/// The dedup keys of the stories and copies committed lately, each with the number of
/// the write that committed it (the store's write count after it), so that a look made
/// without the writer lock is checked against the writes since in memory rather than
/// made again in the store.
#[derive(Default)]
struct CommitLog {
    entries: VecDeque<(u64, MatchKeys)>,
    /// Every write numbered above this has all its keys in `entries`.
    complete_after: u64,
}

/// How many written stories and copies the [`CommitLog`] keeps (a few hundred bytes each).
const COMMIT_LOG_LEN: usize = 4096;

/// Every this many writes, the mark below which all story records are settled is saved
/// (besides at every flush and when the store is dropped): after a crash, the sweep at
/// the next open checks the records of about this many runs.
const SETTLED_MARK_EVERY: u64 = 1024;

impl CommitLog {
    fn record(&mut self, write: u64, keys: MatchKeys) {
        if self.entries.len() == COMMIT_LOG_LEN {
            if let Some((oldest, _)) = self.entries.pop_front() {
                self.complete_after = self.complete_after.max(oldest);
            }
        }
        self.entries.push_back((write, keys));
    }

    /// Whether a write after write number `since` could change what a look at `c` made
    /// then found: one of them could match `c` ([`MatchKeys::could_match`]), or the log
    /// no longer reaches back that far. (A write that only pushes a story out of the
    /// near-duplicate index — a crowded band, the horizon — redoes no look: a match
    /// found before it is a near-duplicate within the window all the same.)
    fn may_change(&self, since: u64, c: &Candidate, fp: &Fingerprint) -> bool {
        self.complete_after > since
            || self
                .entries
                .iter()
                .rev()
                .take_while(|(write, _)| *write > since)
                .any(|(_, keys)| keys.could_match(c, fp))
    }
}

/// A story ready to be written: its record and its detections.
struct NewStory {
    story: Story,
    record: Vec<u8>,
    detections: Vec<Detection>,
}

/// A new story waiting in a run (see [`Store::ingest_batch`]), with the event changes
/// and alerts planned for its detections.
struct RunEntry<'c> {
    candidate: &'c Candidate,
    fp: Fingerprint,
    story: Story,
    planned: Option<(events::EventPlan, Vec<crate::model::Alert>)>,
}

/// Positions of the trees in the write transaction. A transaction takes only the trees
/// it needs, a prefix of [`Store::write_trees`]: a run of new stories the first
/// [`STORY_INDEX_TREES`], a copy also the stories, a story with events all of them.
const T_TIME: usize = 0;
const T_FEED: usize = 1;
const T_GUID: usize = 2;
const T_URL: usize = 3;
const T_HASH: usize = 4;
const T_COUNTS: usize = 5;
const T_STORIES: usize = 6;
const T_EVENTS: usize = 7;
const T_EV_TIME: usize = 8;
const T_EV_TYPE: usize = 9;
const T_EV_COUNTRY: usize = 10;
const T_EV_KEY: usize = 11;
const T_ALERTS: usize = 12;
const T_ALERT_DUE: usize = 13;
/// The trees a new story's transaction writes when it has no events.
const STORY_INDEX_TREES: usize = T_COUNTS + 1;

type TxResult<T> = Result<T, ConflictableTransactionError<StoreError>>;

impl Store {
    /// Opens (creating if needed) the store in directory `path`.
    pub fn open(path: &Path) -> Result<Store, StoreError> {
        let db = sled::Config::new()
            .path(path)
            .cache_capacity(CACHE_BYTES)
            .open()
            .map_err(|e| {
                let message = e.to_string();
                if message.contains("could not acquire lock") {
                    StoreError::InUse {
                        path: path.to_owned(),
                    }
                } else {
                    StoreError::Open {
                        path: path.to_owned(),
                        message,
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
        Ok(Store {
            path: path.to_owned(),
            pending: PendingRecords::new(opening_sweep.next_mark),
            opening_sweep,
            meta,
            alerts: db.open_tree("alerts")?,
            idx_alert_due: db.open_tree("idx_alert_due")?,
            idx_alert_dead: db.open_tree("idx_alert_dead")?,
            stories,
            idx_time,
            idx_feed: db.open_tree("idx_feed")?,
            idx_guid: db.open_tree("idx_guid")?,
            idx_url: db.open_tree("idx_url")?,
            idx_hash: db.open_tree("idx_hash")?,
            signatures,
            feed_counts: db.open_tree("feed_counts")?,
            feeds: db.open_tree("feeds")?,
            events: db.open_tree("events")?,
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

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Offers one candidate: stores it as a new story, or records it on the story it
    /// duplicates. Safe to call from several threads; calls are serialised.
    pub fn ingest(&self, candidate: &Candidate) -> Result<IngestOutcome, StoreError> {
        Ok(self
            .ingest_detecting(candidate, &IngestHooks::NONE)?
            .outcome)
    }

    /// Like [`Store::ingest`], and when the candidate is a new story, runs the detector
    /// on it, records the detections as new or updated events, and writes an alert for
    /// each sink that must hear of them — all in the story's transaction.
    pub fn ingest_detecting(
        &self,
        candidate: &Candidate,
        hooks: &IngestHooks,
    ) -> Result<Ingested, StoreError> {
        let mut one = self.ingest_batch(std::slice::from_ref(candidate), hooks)?;
        Ok(one.pop().expect("one result per candidate"))
    }

    fn write_trees(&self) -> [&sled::Tree; 14] {
        [
            &self.idx_time,
            &self.idx_feed,
            &self.idx_guid,
            &self.idx_url,
            &self.idx_hash,
            &self.feed_counts,
            &self.stories,
            &self.events,
            &self.idx_event_time,
            &self.idx_event_type,
            &self.idx_event_country,
            &self.idx_event_key,
            &self.alerts,
            &self.idx_alert_due,
        ]
    }

    /// The alerts to write for the event changes of one story: new events, and updates
    /// that change the modality to occurred or cancelled.
    fn plan_alerts(
        &self,
        plan: &events::EventPlan,
        route: &dyn Fn(&Event, &AlertReason) -> Vec<String>,
    ) -> Result<Vec<crate::model::Alert>, StoreError> {
        let now = Utc::now();
        let mut out = Vec::new();
        for change in &plan.changes {
            let (id, reason) = match *change {
                EventChange::New(id) => (id, AlertReason::New),
                EventChange::Updated { id, from } => (id, AlertReason::Updated { from }),
                EventChange::Corroborated(_) => continue,
            };
            let Some((event, _)) = plan.writes.iter().find(|(e, _)| e.id == id) else {
                continue;
            };
            if let AlertReason::Updated { from } = reason {
                let significant = event.modality != from
                    && matches!(
                        event.modality,
                        crate::model::Modality::Occurred | crate::model::Modality::Cancelled
                    );
                if !significant {
                    continue;
                }
            }
            for sink in route(event, &reason) {
                let alert_id = self.db.generate_id()?;
                out.push(outbox::new_alert(alert_id, &sink, reason, event, now));
            }
        }
        Ok(out)
    }

    /// A new story from `c`, encoded, with what the detector finds in it.
    fn prepare_new(&self, c: &Candidate, hooks: &IngestHooks) -> Result<NewStory, StoreError> {
        let id = self.pending.new_id(&self.db)?;
        let story = Story {
            id,
            url: c.url.clone(),
            title: c.title.clone(),
            text: c.text.clone(),
            published: c.published.unwrap_or(c.seen_at),
            published_from_feed: c.published.is_some(),
            first_seen: c.seen_at,
            feed: c.feed.clone(),
            language: c.language.clone(),
            sources: vec![source_of(c, MatchKind::Original)],
            revisions: Vec::new(),
        };
        let record = encode_story(&story)?;
        let detections = (hooks.detect)(&story);
        Ok(NewStory {
            story,
            record,
            detections,
        })
    }

    /// Adds a committed story to the near-duplicate index (built by the ingest before its
    /// first look).
    fn add_to_recent(&self, story: &Story, fp: &Fingerprint) {
        if let (Some(sig), Some(recent)) = (&fp.signature, self.recent.get()) {
            recent.write().unwrap_or_else(|p| p.into_inner()).insert(
                story.id,
                story.published,
                story.first_seen,
                sig,
            );
        }
    }

    /// Writes new stories' records and signatures, keyed by id, outside any transaction.
    /// Nothing finds a story by its id alone: it becomes reachable only through the
    /// index entries its transaction writes next, so a crash in between leaves an
    /// unreachable record, never a half-stored story. Kept out of the transaction
    /// because sled runs a transaction under a lock that stops every other read and
    /// write in the store, and these are the largest values a story writes.
    fn write_records<'a>(
        &self,
        stories: impl IntoIterator<Item = (&'a Story, &'a [u8], &'a Fingerprint)>,
    ) -> Result<(), StoreError> {
        for (story, record, fp) in stories {
            let idb = keys::id(story.id);
            self.stories.insert(idb, record)?;
            if let Some(sig) = &fp.signature {
                self.signatures
                    .insert(idb, encode_signature(story.published, sig))?;
            }
        }
        Ok(())
    }

    /// Removes the records of stories that will not be indexed: the transaction failed,
    /// or the entry was a copy after all. Best effort: a record left over is unreachable
    /// all the same, and the sweep at the next open removes it (it stays pending, so the
    /// saved mark stays below it).
    fn remove_records(&self, ids: impl IntoIterator<Item = StoryId>) {
        for id in ids {
            let idb = keys::id(id);
            if self.stories.remove(idb).is_ok() && self.signatures.remove(idb).is_ok() {
                self.pending.settle([id]);
            }
        }
    }

    /// Saves the mark below which every story record is indexed or removed, so that the
    /// sweep at the next open checks only the records above it.
    fn save_settled_mark(&self) -> Result<(), StoreError> {
        unindexed::save_mark(&self.meta, self.pending.settled_below())
    }

    /// Offers the entries of one poll, in order, and returns what became of each: the
    /// same decisions as [`Store::ingest_detecting`] entry by entry, except that
    /// consecutive new stories are indexed together, in one transaction (a transaction
    /// per story was the largest serialised cost of a poll). Such a run is written
    /// before any entry that could be a copy of one of its stories, and holds at most
    /// one story with detections (a second one's merge looks must see the first one's
    /// events), so every decision sees every story before it.
    pub fn ingest_batch(
        &self,
        candidates: &[Candidate],
        hooks: &IngestHooks,
    ) -> Result<Vec<Ingested>, StoreError> {
        let mut written = Vec::new();
        let result = self.ingest_batch_recording(candidates, hooks, &mut written);
        if result.is_err() {
            // The records this batch wrote and did not index will not be: an error
            // stops the batch.
            self.remove_records(self.pending.still_pending(&written));
        }
        result
    }

    /// [`Store::ingest_batch`], noting in `written` the id of every record it writes.
    fn ingest_batch_recording(
        &self,
        candidates: &[Candidate],
        hooks: &IngestHooks,
        written: &mut Vec<StoryId>,
    ) -> Result<Vec<Ingested>, StoreError> {
        self.recent_bands()?;
        // A first look at each entry without the writer lock: for those that look new,
        // the story record and its detections are made and the record written here,
        // beside other polls, and the lock is held only for the decisive looks and the
        // index writes. A look is made again under the lock only if a story or copy
        // written since could change its answer (the commit log tells, in memory).
        let writes_before = self.dedup_writes.load(Ordering::Acquire);
        let mut looked = Vec::with_capacity(candidates.len());
        for c in candidates {
            let fp = Fingerprint::of(c);
            let first_look = dedup::find_match(self, c, &fp)?;
            let prepared = match first_look {
                None => Some(self.prepare_and_write_record(c, &fp, hooks, written)?),
                Some(_) => None,
            };
            looked.push((fp, first_look, prepared));
        }
        let mut log = self.writer.lock().unwrap_or_else(|p| p.into_inner());
        let log = &mut *log;
        let mut out = Vec::with_capacity(candidates.len());
        let mut run: Vec<RunEntry> = Vec::new();
        for (c, (fp, first_look, prepared)) in candidates.iter().zip(looked) {
            if run
                .iter()
                .any(|other| dedup::could_match(c, &fp, other.candidate, &other.fp))
            {
                self.write_run(&mut run, log)?;
            }
            let found = if self.dedup_writes.load(Ordering::Acquire) == writes_before
                || !log.may_change(writes_before, c, &fp)
            {
                first_look
            } else {
                dedup::find_match(self, c, &fp)?
            };
            if let (Some(_), Some(unused)) = (found, &prepared) {
                // A copy after all: its record was written for nothing.
                self.remove_records([unused.story.id]);
            }
            out.push(match found {
                None => {
                    let new = match prepared {
                        Some(p) => p,
                        None => self.prepare_and_write_record(c, &fp, hooks, written)?,
                    };
                    let id = new.story.id;
                    let planned = if new.detections.is_empty() {
                        None
                    } else {
                        // Its merge looks must see the events of any story before it.
                        if run.iter().any(|other| other.planned.is_some()) {
                            self.write_run(&mut run, log)?;
                        }
                        let plan = self.plan_events(&new.story, &new.detections)?;
                        let alerts = self.plan_alerts(&plan, hooks.route)?;
                        Some((plan, alerts))
                    };
                    let ingested = Ingested {
                        outcome: IngestOutcome::New(id),
                        events: planned
                            .as_ref()
                            .map(|(plan, _)| plan.changes.clone())
                            .unwrap_or_default(),
                        alerts: planned
                            .as_ref()
                            .map(|(_, alerts)| alerts.iter().map(|a| a.id).collect())
                            .unwrap_or_default(),
                    };
                    run.push(RunEntry {
                        candidate: c,
                        fp,
                        story: new.story,
                        planned,
                    });
                    ingested
                }
                Some((id, MatchKind::Guid)) => Ingested {
                    outcome: self.update_same_copy(id, c)?,
                    events: Vec::new(),
                    alerts: Vec::new(),
                },
                Some((id, kind)) => Ingested {
                    outcome: self.add_source(id, c, &fp, kind, log)?,
                    events: Vec::new(),
                    alerts: Vec::new(),
                },
            });
        }
        self.write_run(&mut run, log)?;
        Ok(out)
    }

    /// A new story from `c` with its detections, its record and signature written (its
    /// id noted in `written` first).
    fn prepare_and_write_record(
        &self,
        c: &Candidate,
        fp: &Fingerprint,
        hooks: &IngestHooks,
        written: &mut Vec<StoryId>,
    ) -> Result<NewStory, StoreError> {
        let new = self.prepare_new(c, hooks)?;
        written.push(new.story.id);
        self.write_records([(&new.story, new.record.as_slice(), fp)])?;
        Ok(new)
    }

    /// Indexes a run of new stories, whose records are written, in one transaction, with
    /// the events and alerts planned for the one story among them that may have
    /// detections; then empties the run.
    fn write_run(&self, run: &mut Vec<RunEntry>, log: &mut CommitLog) -> Result<(), StoreError> {
        if run.is_empty() {
            return Ok(());
        }
        let trees = self.write_trees();
        // The event and alert trees only when some story has events.
        let trees = if run.iter().any(|entry| entry.planned.is_some()) {
            &trees[..]
        } else {
            &trees[..STORY_INDEX_TREES]
        };
        // A run usually comes from one feed: its count is read and written once.
        let mut per_feed: Vec<(&str, u64)> = Vec::new();
        for entry in run.iter() {
            let feed = entry.candidate.feed.as_str();
            match per_feed.iter_mut().find(|(f, _)| *f == feed) {
                Some((_, n)) => *n += 1,
                None => per_feed.push((feed, 1)),
            }
        }
        let written = trees.transaction(|t| -> TxResult<()> {
            for entry in run.iter() {
                if let Some((plan, alerts)) = &entry.planned {
                    events::write_plan(t, plan)?;
                    for alert in alerts {
                        outbox::put_pending(&t[T_ALERTS], &t[T_ALERT_DUE], alert)?;
                    }
                }
                write_story(t, entry.candidate, &entry.fp, &entry.story)?;
            }
            for (feed, added) in &per_feed {
                count_feed_stories(t, feed, *added)?;
            }
            Ok(())
        });
        // Counted even if the write failed: a look made meanwhile is simply repeated.
        let write = self.dedup_writes.fetch_add(1, Ordering::Release) + 1;
        match &written {
            Ok(()) => {
                for entry in run.iter() {
                    self.add_to_recent(&entry.story, &entry.fp);
                    log.record(write, MatchKeys::of(entry.candidate, &entry.fp));
                }
                self.pending.settle(run.iter().map(|entry| entry.story.id));
                if write % SETTLED_MARK_EVERY == 0 {
                    // The stories are stored; a mark not saved only widens the next
                    // open's check.
                    if let Err(e) = self.save_settled_mark() {
                        tracing::warn!(error = %e, "could not save the settled-records mark");
                    }
                }
            }
            Err(_) => self.remove_records(run.iter().map(|entry| entry.story.id)),
        }
        written?;
        run.clear();
        Ok(())
    }

    /// The same feed sent the same GUID again: note an edit if the title or text changed.
    fn update_same_copy(&self, id: StoryId, c: &Candidate) -> Result<IngestOutcome, StoreError> {
        let mut story = self.load_story(id)?;
        let Some(pos) = story
            .sources
            .iter()
            .position(|s| s.feed == c.feed && s.guid == c.guid)
        else {
            return Ok(IngestOutcome::Unchanged(id));
        };
        let is_original = pos == 0;
        let changed = if is_original {
            story.title != c.title || story.text != c.text
        } else {
            story.sources[pos].title != c.title
        };
        if !changed {
            return Ok(IngestOutcome::Unchanged(id));
        }
        if is_original {
            story.revisions.push(Revision {
                seen_at: c.seen_at,
                title: std::mem::replace(&mut story.title, c.title.clone()),
                text: std::mem::replace(&mut story.text, c.text.clone()),
            });
        }
        story.sources[pos].title = c.title.clone();
        let record = encode_story(&story)?;
        self.stories.insert(keys::id(id), record)?;
        Ok(IngestOutcome::Revised(id))
    }

    /// Records `c` as another copy of story `id`.
    fn add_source(
        &self,
        id: StoryId,
        c: &Candidate,
        fp: &Fingerprint,
        kind: MatchKind,
        log: &mut CommitLog,
    ) -> Result<IngestOutcome, StoreError> {
        let mut story = self.load_story(id)?;
        story.sources.push(source_of(c, kind));
        let record = encode_story(&story)?;
        let trees = self.write_trees();
        let written = trees[..=T_STORIES].transaction(|t| -> TxResult<()> {
            let idb = keys::id(id);
            t[T_STORIES].insert(&idb, record.as_slice())?;
            t[T_GUID].insert(keys::guid(&c.feed, &c.guid), &idb)?;
            if let Some(url) = &c.url {
                if t[T_URL].get(url.as_bytes())?.is_none() {
                    t[T_URL].insert(url.as_bytes(), &idb)?;
                }
            }
            add_feed_entry(t, &c.feed, story.published, id)?;
            Ok(())
        });
        let write = self.dedup_writes.fetch_add(1, Ordering::Release) + 1;
        if written.is_ok() {
            // Its GUID and URL now lead to the story; the keys say more, which only
            // makes a later check more careful.
            log.record(write, MatchKeys::of(c, fp));
        }
        written?;
        Ok(IngestOutcome::Duplicate(id, kind))
    }

    fn load_story(&self, id: StoryId) -> Result<Story, StoreError> {
        self.story(id)?.ok_or_else(|| StoreError::Corrupt {
            tree: "stories",
            key: id.to_string(),
            message: "an index points to a story that is missing".into(),
        })
    }

    pub fn story(&self, id: StoryId) -> Result<Option<Story>, StoreError> {
        read_json(&self.stories, "stories", keys::id(id), || id.to_string())
    }

    /// Stories newest first (by publication time), filtered by `query`. Reads only the
    /// index range it needs: all stories, or one feed's.
    pub fn stories(&self, query: &StoryQuery) -> Result<Vec<Story>, StoreError> {
        let limit = query.limit.unwrap_or(usize::MAX);
        let since = query.since.map(keys::time);
        let (iter, prefix_len) = match &query.feed {
            Some(feed) => {
                let prefix = keys::feed_prefix(feed);
                (self.idx_feed.scan_prefix(&prefix), prefix.len())
            }
            None => (self.idx_time.iter(), 0),
        };
        newest_first(
            iter,
            prefix_len,
            since.as_ref().map(|s| s.as_slice()),
            limit,
            |id| self.story(id),
        )
    }

    /// Number of stored stories.
    pub fn story_count(&self) -> usize {
        // Counted on the time index: a record is a story once it is indexed.
        self.idx_time.len()
    }

    /// Number of stories with at least one copy from `feed`.
    pub fn feed_story_count(&self, feed: &str) -> Result<u64, StoreError> {
        Ok(self
            .feed_counts
            .get(feed.as_bytes())?
            .map(|v| decode_u64(&v))
            .unwrap_or(0))
    }

    pub fn feed_state(&self, feed: &str) -> Result<Option<FeedState>, StoreError> {
        read_json(&self.feeds, "feeds", feed.as_bytes(), || feed.to_string())
    }

    pub fn put_feed_state(&self, state: &FeedState) -> Result<(), StoreError> {
        let bytes = serde_json::to_vec(state).map_err(|e| StoreError::Backend(e.to_string()))?;
        self.feeds.insert(state.id.as_bytes(), bytes)?;
        Ok(())
    }

    /// Every feed the store has state for, in id order.
    pub fn feed_states(&self) -> Result<Vec<FeedState>, StoreError> {
        let mut out = Vec::new();
        for entry in self.feeds.iter() {
            let (key, _) = entry?;
            if let Some(s) = self.feed_state(&String::from_utf8_lossy(&key))? {
                out.push(s);
            }
        }
        Ok(out)
    }

    /// The near-duplicate index, built from the newest stories' signatures on first use.
    /// The build holds the writer lock, so no story is committed meanwhile and missed.
    fn recent_bands(&self) -> Result<&RwLock<RecentBands>, StoreError> {
        if let Some(recent) = self.recent.get() {
            return Ok(recent);
        }
        let _init = self.recent_init.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(recent) = self.recent.get() {
            return Ok(recent);
        }
        let _writer = self.writer.lock().unwrap_or_else(|p| p.into_inner());
        let started = std::time::Instant::now();
        let built = self.load_recent_bands()?;
        tracing::debug!(
            stories = built.len(),
            elapsed_ms = started.elapsed().as_millis() as u64,
            "near-duplicate index built"
        );
        Ok(self.recent.get_or_init(|| RwLock::new(built)))
    }

    /// Reads the signatures of the newest stories, newest first, until they pass the
    /// index's horizon or fill it, and indexes them oldest first. Stories dated in the
    /// future count as published now.
    fn load_recent_bands(&self) -> Result<RecentBands, StoreError> {
        let now = Utc::now();
        let mut newest: Vec<(StoryId, DateTime<Utc>, Signature)> = Vec::new();
        let mut horizon = None;
        for entry in self.idx_time.iter().rev() {
            let (key, _) = entry?;
            let Some(id) = keys::decode_id(&key) else {
                continue;
            };
            let Some((sig, published)) = self.signature(id)? else {
                continue;
            };
            let seen = published.min(now);
            let horizon =
                *horizon.get_or_insert(seen - chrono::Duration::hours(dedup::HORIZON_HOURS));
            if published < horizon || newest.len() >= dedup::RECENT_CAPACITY {
                break;
            }
            newest.push((id, published, sig));
        }
        let mut recent = RecentBands::new();
        for (id, published, sig) in newest.iter().rev() {
            recent.insert(*id, *published, (*published).min(now), sig);
        }
        Ok(recent)
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

impl Drop for Store {
    /// Saves the settled mark (sled flushes as its last handle goes), so that the next
    /// open checks no record after a clean stop.
    fn drop(&mut self) {
        if let Err(e) = self.save_settled_mark() {
            tracing::warn!(error = %e, "could not save the settled-records mark");
        }
    }
}

impl DedupIndex for Store {
    type Error = StoreError;

    fn story_by_guid(&self, feed: &str, guid: &str) -> Result<Option<StoryId>, StoreError> {
        Ok(self
            .idx_guid
            .get(keys::guid(feed, guid))?
            .and_then(|v| keys::decode_id(&v)))
    }

    fn story_by_url(&self, url: &str) -> Result<Option<StoryId>, StoreError> {
        Ok(self
            .idx_url
            .get(url.as_bytes())?
            .and_then(|v| keys::decode_id(&v)))
    }

    fn story_by_content_hash(&self, hash: &[u8; 32]) -> Result<Option<StoryId>, StoreError> {
        Ok(self.idx_hash.get(hash)?.and_then(|v| keys::decode_id(&v)))
    }

    fn stories_in_band(&self, _band: u8, key: u64) -> Result<Vec<BandMember>, StoreError> {
        Ok(self
            .recent_bands()?
            .read()
            .unwrap_or_else(|p| p.into_inner())
            .members(key))
    }

    fn signature(&self, id: StoryId) -> Result<Option<(Signature, DateTime<Utc>)>, StoreError> {
        Ok(self
            .signatures
            .get(keys::id(id))?
            .and_then(|v| decode_signature(&v)))
    }
}

/// Reads one JSON record; a record that does not decode is reported as corrupt with its
/// tree and key (`describe` renders the key for people).
fn read_json<T: serde::de::DeserializeOwned>(
    tree: &sled::Tree,
    name: &'static str,
    key: impl AsRef<[u8]>,
    describe: impl FnOnce() -> String,
) -> Result<Option<T>, StoreError> {
    match tree.get(key)? {
        None => Ok(None),
        Some(bytes) => serde_json::from_slice(&bytes)
            .map(Some)
            .map_err(|e| StoreError::Corrupt {
                tree: name,
                key: describe(),
                message: e.to_string(),
            }),
    }
}

/// Walks a time index (`prefix ‖ time ‖ id` keys) newest first: stops at the first key
/// older than `since` (compared on the time bytes after the prefix) or once `limit`
/// records were taken; `load` reads a record by id and may skip it with `None`.
fn newest_first<T>(
    iter: sled::Iter,
    prefix_len: usize,
    since: Option<&[u8]>,
    limit: usize,
    mut load: impl FnMut(u64) -> Result<Option<T>, StoreError>,
) -> Result<Vec<T>, StoreError> {
    let mut out = Vec::new();
    for entry in iter.rev() {
        if out.len() >= limit {
            break;
        }
        let (key, _) = entry?;
        if let Some(since) = since {
            if key
                .get(prefix_len..prefix_len + since.len())
                .is_some_and(|t| t < since)
            {
                break;
            }
        }
        let Some(id) = keys::decode_id(&key) else {
            continue;
        };
        if let Some(record) = load(id)? {
            out.push(record);
        }
    }
    Ok(out)
}

fn source_of(c: &Candidate, matched_by: MatchKind) -> Source {
    Source {
        feed: c.feed.clone(),
        guid: c.guid.clone(),
        url: c.url.clone(),
        title: c.title.clone(),
        seen_at: c.seen_at,
        matched_by,
    }
}

/// A new story's index entries: what makes its record, written before by
/// [`Store::write_records`], reachable.
fn write_story(
    t: &[TransactionalTree],
    c: &Candidate,
    fp: &Fingerprint,
    story: &Story,
) -> TxResult<()> {
    let id = story.id;
    let idb = keys::id(id);
    t[T_TIME].insert(keys::by_time(story.published, id), &[])?;
    // A new id: never in the feed's listing yet. The caller counts it.
    t[T_FEED].insert(keys::by_feed(&c.feed, story.published, id), &[])?;
    t[T_GUID].insert(keys::guid(&c.feed, &c.guid), &idb)?;
    if let Some(url) = &c.url {
        // The look that found this story new saw no story at this URL, and no two
        // stories written together share one; should one be there all the same, the
        // first story keeps it.
        if let Some(first) = t[T_URL].insert(url.as_bytes(), &idb)? {
            t[T_URL].insert(url.as_bytes(), first)?;
        }
    }
    t[T_HASH].insert(&fp.content_hash, &idb)?;
    Ok(())
}

/// Adds the story to a feed's listing and counts it, unless it is there already.
fn add_feed_entry(
    t: &[TransactionalTree],
    feed: &str,
    published: DateTime<Utc>,
    id: StoryId,
) -> TxResult<()> {
    let key = keys::by_feed(feed, published, id);
    if t[T_FEED].insert(key, &[])?.is_none() {
        count_feed_stories(t, feed, 1)?;
    }
    Ok(())
}

/// Adds `added` to the number of stories listed under `feed`.
fn count_feed_stories(t: &[TransactionalTree], feed: &str, added: u64) -> TxResult<()> {
    let n = t[T_COUNTS]
        .get(feed.as_bytes())?
        .map(|v| decode_u64(&v))
        .unwrap_or(0);
    t[T_COUNTS].insert(feed.as_bytes(), &(n + added).to_be_bytes())?;
    Ok(())
}

fn encode_story(story: &Story) -> Result<Vec<u8>, StoreError> {
    serde_json::to_vec(story)
        .map_err(|e| StoreError::Backend(format!("cannot encode story {}: {e}", story.id)))
}

fn decode_u64(bytes: &[u8]) -> u64 {
    bytes.try_into().map(u64::from_be_bytes).unwrap_or(0)
}

fn encode_signature(published: DateTime<Utc>, sig: &Signature) -> Vec<u8> {
    let mut out = Vec::with_capacity(8 + SIGNATURE_LEN * 4);
    out.extend_from_slice(&published.timestamp_millis().to_be_bytes());
    out.extend(sig.iter().flat_map(|v| v.to_be_bytes()));
    out
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

fn decode_signature(bytes: &[u8]) -> Option<(Signature, DateTime<Utc>)> {
    if bytes.len() != 8 + SIGNATURE_LEN * 4 {
        return None;
    }
    let published =
        DateTime::from_timestamp_millis(i64::from_be_bytes(bytes[..8].try_into().ok()?))?;
    let mut sig = [0u32; SIGNATURE_LEN];
    for (slot, chunk) in sig.iter_mut().zip(bytes[8..].chunks_exact(4)) {
        *slot = u32::from_be_bytes(chunk.try_into().ok()?);
    }
    Some((sig, published))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Reopens a store in the same process. sled releases its file lock from a background
    /// thread shortly after the last handle is dropped, so a reopen may briefly see the
    /// store as in use.
    fn reopen(path: &Path) -> Result<Store, StoreError> {
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(5);
        loop {
            match Store::open(path) {
                Err(StoreError::InUse { .. }) if std::time::Instant::now() < deadline => {
                    std::thread::sleep(std::time::Duration::from_millis(20))
                }
                other => return other,
            }
        }
    }

    fn cand(feed: &str, guid: &str, url: &str, title: &str, published: &str) -> Candidate {
        Candidate {
            feed: feed.into(),
            guid: guid.into(),
            guid_derived: false,
            url: Some(url.into()),
            raw_url: Some(url.into()),
            title: title.into(),
            text: format!("{title} body"),
            published: Some(published.parse().unwrap()),
            language: None,
            seen_at: "2023-02-22T12:00:00Z".parse().unwrap(),
        }
    }

    /// Each outcome as text, with stories named by the position of the entry that made
    /// them, so two stores' ids need not agree.
    fn outcome_shapes(results: &[Ingested]) -> Vec<String> {
        let mut made: Vec<(StoryId, usize)> = Vec::new();
        let name = |made: &[(StoryId, usize)], id: StoryId| {
            made.iter()
                .find(|(m, _)| *m == id)
                .map_or("?".to_string(), |(_, at)| at.to_string())
        };
        results
            .iter()
            .enumerate()
            .map(|(at, r)| match r.outcome {
                IngestOutcome::New(id) => {
                    made.push((id, at));
                    format!("new, {} event changes", r.events.len())
                }
                IngestOutcome::Duplicate(id, kind) => {
                    format!("copy of {} by {}", name(&made, id), kind.label())
                }
                IngestOutcome::Revised(id) => format!("revision of {}", name(&made, id)),
                IngestOutcome::Unchanged(id) => format!("unchanged {}", name(&made, id)),
            })
            .collect()
    }

    #[test]
    fn a_poll_ingested_as_a_batch_gets_the_same_outcomes_as_entry_by_entry() {
        let detector = crate::detect::Detector::embedded().unwrap();
        let detect = |s: &Story| {
            detector.detect(&crate::detect::Article {
                title: &s.title,
                text: &s.text,
                published: s.published.date_naive(),
            })
        };
        let route = |_: &Event, _: &AlertReason| vec!["desk".to_string()];
        let hooks = IngestHooks {
            detect: &detect,
            route: &route,
        };
        let at = "2023-02-22T10:00:00Z";
        let talks = "Officials from both ministries gathered in the capital on Wednesday to \
                     discuss trade, energy and transport, and agreed to gather again before \
                     the end of the year, according to a statement released after the talks.";
        let mut first = cand("a", "1", "https://x/1", "Trade talks in the capital", at);
        first.text = talks.into();
        let mut retitled = first.clone();
        retitled.title = "Trade talks end in the capital".into();
        let same_url = cand("b", "9", "https://x/1", "Another outlet's title", at);
        let mut meeting = cand("a", "2", "https://x/2", "Putin meets Xi", at);
        meeting.text = "Russian President Vladimir Putin met Chinese President Xi Jinping \
                        in Moscow on Wednesday."
            .into();
        let mut same_content = meeting.clone();
        (same_content.feed, same_content.guid, same_content.url) = ("c".into(), "z".into(), None);
        let mut reworded = first.clone();
        (reworded.feed, reworded.guid, reworded.url) = ("d".into(), "n".into(), None);
        reworded.text = talks.replace("Wednesday", "Thursday");
        // The same meeting told again: its merge must see the first report's event.
        let mut meeting_again = cand("e", "m", "https://y/m", "Xi and Putin hold talks", at);
        meeting_again.text = "Chinese President Xi Jinping held talks with Russian \
                              President Vladimir Putin in Moscow on Wednesday."
            .into();
        // Three new stories in a row: written together, in one transaction.
        let unrelated = cand("a", "3", "https://x/3", "Unrelated story", at);
        let second = cand("a", "4", "https://x/4", "Second unrelated story", at);
        let third = cand("a", "5", "https://x/5", "Third unrelated story", at);
        let poll = [
            first,
            retitled,
            same_url,
            meeting,
            meeting_again,
            same_content,
            reworded,
            unrelated,
            second,
            third,
        ];

        let one_by_one_dir = tempfile::tempdir().unwrap();
        let one_by_one = Store::open(one_by_one_dir.path()).unwrap();
        let expected: Vec<Ingested> = poll
            .iter()
            .map(|c| one_by_one.ingest_detecting(c, &hooks).unwrap())
            .collect();
        let batch_dir = tempfile::tempdir().unwrap();
        let batch = Store::open(batch_dir.path()).unwrap();
        let got = batch.ingest_batch(&poll, &hooks).unwrap();

        let shapes = outcome_shapes(&got);
        assert_eq!(shapes, outcome_shapes(&expected));
        assert_eq!(shapes[0], "new, 0 event changes");
        assert_eq!(shapes[1], "revision of 0");
        assert_eq!(shapes[2], "copy of 0 by same url");
        assert_eq!(shapes[3], "new, 1 event changes");
        // The second report of the meeting comes while the first waits in the run: the
        // run is written first, so its merge finds the first report's event.
        assert_eq!(shapes[4], "new, 1 event changes");
        assert!(
            matches!(got[4].events[..], [EventChange::Corroborated(_)]),
            "{:?}",
            got[4].events
        );
        assert_eq!(shapes[5], "copy of 3 by same content");
        assert!(
            shapes[6].starts_with("copy of 0 by near-duplicate"),
            "{}",
            shapes[6]
        );
        assert_eq!(shapes[7..], ["new, 0 event changes"; 3]);
        assert_eq!(batch.story_count(), 6);
        assert_eq!(batch.event_count(), 1);
        assert_eq!(got[3].alerts.len(), 1);
        for (b, e) in got.iter().zip(&expected) {
            let (
                IngestOutcome::New(b) | IngestOutcome::Duplicate(b, _),
                IngestOutcome::New(e) | IngestOutcome::Duplicate(e, _),
            ) = (b.outcome, e.outcome)
            else {
                continue;
            };
            let (b, e) = (
                batch.story(b).unwrap().unwrap(),
                one_by_one.story(e).unwrap().unwrap(),
            );
            assert_eq!(
                (b.title, b.sources.len(), b.revisions.len()),
                (e.title, e.sources.len(), e.revisions.len())
            );
        }
        // Each feed's story count and listing, counted once per run, as entry by entry.
        for feed in ["a", "b", "c", "d", "e"] {
            let listed = |store: &Store| {
                let query = StoryQuery {
                    feed: Some(feed.to_string()),
                    ..StoryQuery::default()
                };
                store.stories(&query).unwrap().len()
            };
            assert_eq!(
                (batch.feed_story_count(feed).unwrap(), listed(&batch)),
                (
                    one_by_one.feed_story_count(feed).unwrap(),
                    listed(&one_by_one)
                ),
                "feed {feed}"
            );
        }
        assert_eq!(batch.feed_story_count("a").unwrap(), 5);
        // Written and indexed: the batch store's stories are found after a restart too.
        drop(batch);
        let batch = reopen(batch_dir.path()).unwrap();
        assert_eq!(batch.story_count(), 6);
        let again = batch.ingest_batch(&poll, &hooks).unwrap();
        assert!(again
            .iter()
            .all(|r| !matches!(r.outcome, IngestOutcome::New(_))));
    }

    #[test]
    fn new_duplicate_revised_and_unchanged_are_told_apart() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(dir.path()).unwrap();
        let a = cand("a", "1", "https://x/1", "First", "2023-02-22T10:00:00Z");
        let IngestOutcome::New(id) = store.ingest(&a).unwrap() else {
            panic!()
        };
        assert_eq!(store.ingest(&a).unwrap(), IngestOutcome::Unchanged(id));
        let mut retitled = a.clone();
        retitled.title = "First, updated".into();
        assert_eq!(store.ingest(&retitled).unwrap(), IngestOutcome::Revised(id));
        let copy = cand(
            "b",
            "other-guid",
            "https://x/1",
            "Copy",
            "2023-02-22T10:05:00Z",
        );
        assert_eq!(
            store.ingest(&copy).unwrap(),
            IngestOutcome::Duplicate(id, MatchKind::Url)
        );

        let s = store.story(id).unwrap().unwrap();
        assert_eq!(s.title, "First, updated");
        assert_eq!(s.revisions.len(), 1);
        assert_eq!(s.revisions[0].title, "First");
        assert_eq!(s.sources.len(), 2);
        assert_eq!(store.story_count(), 1);
        assert_eq!(store.feed_story_count("a").unwrap(), 1);
        assert_eq!(store.feed_story_count("b").unwrap(), 1);
    }

    #[test]
    fn listings_are_newest_first_and_filter_by_feed_and_time() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(dir.path()).unwrap();
        store
            .ingest(&cand(
                "a",
                "1",
                "https://x/1",
                "One",
                "2023-02-20T10:00:00Z",
            ))
            .unwrap();
        store
            .ingest(&cand(
                "b",
                "2",
                "https://x/2",
                "Two",
                "2023-02-21T10:00:00Z",
            ))
            .unwrap();
        store
            .ingest(&cand(
                "a",
                "3",
                "https://x/3",
                "Three",
                "2023-02-22T10:00:00Z",
            ))
            .unwrap();
        let titles = |q: StoryQuery| {
            store
                .stories(&q)
                .unwrap()
                .into_iter()
                .map(|s| s.title)
                .collect::<Vec<_>>()
        };
        assert_eq!(titles(StoryQuery::default()), ["Three", "Two", "One"]);
        assert_eq!(
            titles(StoryQuery {
                feed: Some("a".into()),
                ..Default::default()
            }),
            ["Three", "One"]
        );
        assert_eq!(
            titles(StoryQuery {
                since: Some("2023-02-21T00:00:00Z".parse().unwrap()),
                ..Default::default()
            }),
            ["Three", "Two"]
        );
        assert_eq!(
            titles(StoryQuery {
                limit: Some(1),
                ..Default::default()
            }),
            ["Three"]
        );
        // "a" must not match feed "ab": the prefix ends with a separator.
        store
            .ingest(&cand(
                "ab",
                "4",
                "https://x/4",
                "Four",
                "2023-02-23T10:00:00Z",
            ))
            .unwrap();
        assert_eq!(
            titles(StoryQuery {
                feed: Some("a".into()),
                ..Default::default()
            }),
            ["Three", "One"]
        );
    }

    #[test]
    fn reopened_store_keeps_stories_and_does_not_reingest() {
        let dir = tempfile::tempdir().unwrap();
        let a = cand("a", "1", "https://x/1", "One", "2023-02-20T10:00:00Z");
        let id = {
            let store = Store::open(dir.path()).unwrap();
            let IngestOutcome::New(id) = store.ingest(&a).unwrap() else {
                panic!()
            };
            store
                .put_feed_state(&FeedState {
                    id: "a".into(),
                    etag: Some("\"v1\"".into()),
                    ..Default::default()
                })
                .unwrap();
            store.flush().unwrap();
            id
        };
        let store = reopen(dir.path()).unwrap();
        assert_eq!(store.ingest(&a).unwrap(), IngestOutcome::Unchanged(id));
        assert_eq!(
            store.feed_state("a").unwrap().unwrap().etag.as_deref(),
            Some("\"v1\"")
        );
    }

    #[test]
    fn the_commit_log_tells_which_looks_a_later_write_could_change() {
        let at = "2023-02-22T10:00:00Z";
        let written = cand("a", "1", "https://x/1", "Written story", at);
        let same_url = cand("b", "7", "https://x/1", "Another title", at);
        let unrelated = cand("c", "9", "https://x/9", "Unrelated", at);
        let fp = |c: &Candidate| Fingerprint::of(c);
        let mut log = CommitLog::default();
        assert!(!log.may_change(0, &same_url, &fp(&same_url)));
        log.record(1, MatchKeys::of(&written, &fp(&written)));
        assert!(
            log.may_change(0, &same_url, &fp(&same_url)),
            "written after the look"
        );
        assert!(
            !log.may_change(1, &same_url, &fp(&same_url)),
            "seen by the look"
        );
        assert!(!log.may_change(0, &unrelated, &fp(&unrelated)));
        // Once the log has dropped writes a look did not see, every look is made again.
        for write in 2..(COMMIT_LOG_LEN as u64 + 2) {
            log.record(write, MatchKeys::of(&unrelated, &fp(&unrelated)));
        }
        assert!(log.may_change(0, &same_url, &fp(&same_url)));
        assert!(log.may_change(0, &written, &fp(&written)));
        assert!(!log.may_change(1, &written, &fp(&written)));
    }

    #[test]
    fn a_record_whose_transaction_never_ran_is_unreachable_and_the_entry_comes_back_new() {
        // What a crash between a story's record and its index transaction leaves.
        let dir = tempfile::tempdir().unwrap();
        let a = long_cand("1", "Trade talks");
        let orphan = {
            let store = Store::open(dir.path()).unwrap();
            let new = store.prepare_new(&a, &IngestHooks::NONE).unwrap();
            let fp = Fingerprint::of(&a);
            store
                .write_records([(&new.story, new.record.as_slice(), &fp)])
                .unwrap();
            store.flush().unwrap();
            new.story.id
        };
        let store = reopen(dir.path()).unwrap();
        assert_eq!(store.story_count(), 0);
        assert!(store.stories(&StoryQuery::default()).unwrap().is_empty());
        assert_eq!(store.feed_story_count("a").unwrap(), 0);
        // Not found by GUID, URL, content or as a near-duplicate: stored anew, once.
        let IngestOutcome::New(id) = store.ingest(&a).unwrap() else {
            panic!("the entry should come back as a new story")
        };
        assert_ne!(id, orphan);
        let mut copy = a.clone();
        (copy.feed, copy.guid, copy.url) = ("b".into(), "2".into(), None);
        copy.text = a.text.replace("Wednesday", "Thursday");
        assert!(matches!(
            store.ingest(&copy).unwrap(),
            IngestOutcome::Duplicate(found, MatchKind::NearDuplicate { .. }) if found == id
        ));
        assert_eq!(store.story_count(), 1);
        assert_eq!(store.feed_story_count("a").unwrap(), 1);
    }

    /// A candidate whose text is long enough for a MinHash signature; each title has a
    /// text of its own, far from the others.
    fn long_cand(guid: &str, title: &str) -> Candidate {
        let mut c = cand(
            "a",
            guid,
            &format!("https://x/{guid}"),
            title,
            "2023-02-20T10:00:00Z",
        );
        c.text = match title {
            "Trade talks" => {
                "Officials from both ministries gathered in the capital on \
                Wednesday to discuss trade, energy and transport, and agreed to meet again \
                before the end of the year, according to a statement released afterwards."
            }
            "Budget vote" => {
                "Lawmakers narrowly approved the spending plan late on Monday \
                after a marathon session in which opposition parties forced amendments on \
                pensions, rural schools and the defence procurement programme."
            }
            _ => {
                "Dock workers walked out at the country's largest container port at dawn, \
                leaving dozens of ships waiting offshore as union leaders demanded higher \
                wages and an end to the use of temporary contracts."
            }
        }
        .into();
        c
    }

    #[test]
    fn records_an_interrupted_write_left_are_removed_at_the_next_open_and_the_rest_kept() {
        let dir = tempfile::tempdir().unwrap();
        let (kept, orphan, undecodable, lone_signature) = {
            let store = Store::open(dir.path()).unwrap();
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
    fn a_batch_stopped_by_an_error_removes_the_records_it_wrote_and_did_not_index() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(dir.path()).unwrap();
        let IngestOutcome::New(damaged) = store.ingest(&long_cand("1", "Trade talks")).unwrap()
        else {
            panic!("new")
        };
        store
            .stories
            .insert(keys::id(damaged), b"not json".as_slice())
            .unwrap();
        let records_before = store.stories.len();
        // The first entry is new (its record is written with the first look); the second
        // is the damaged story's GUID again, whose record cannot be read.
        let mut edited = long_cand("1", "Trade talks resume");
        edited.text.push_str(" Updated.");
        let e = store
            .ingest_batch(&[long_cand("2", "Budget vote"), edited], &IngestHooks::NONE)
            .unwrap_err();
        assert!(matches!(e, StoreError::Corrupt { .. }), "{e}");
        assert_eq!(store.stories.len(), records_before, "no record left behind");
        assert_eq!(store.story_count(), 1);
        assert_eq!(
            store.pending.settled_below(),
            store.pending.new_id(&store.db).unwrap(),
            "nothing pending"
        );
    }

    #[test]
    fn a_second_open_of_the_same_store_is_refused_clearly() {
        let dir = tempfile::tempdir().unwrap();
        let _first = Store::open(dir.path()).unwrap();
        // sled takes an exclusive flock on its file; flock conflicts between two open
        // file descriptions even within one process.
        let e = Store::open(dir.path())
            .err()
            .expect("second open must fail");
        assert!(matches!(e, StoreError::InUse { .. }), "{e}");
    }

    #[test]
    fn copies_ingested_at_the_same_moment_become_one_story() {
        // Both threads may make their first look before either writes: the look under
        // the lock must then see the other's story.
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(dir.path()).unwrap();
        let barrier = std::sync::Barrier::new(2);
        std::thread::scope(|scope| {
            for feed in ["a", "b"] {
                let (store, barrier) = (&store, &barrier);
                scope.spawn(move || {
                    for i in 0..50 {
                        let c = cand(
                            feed,
                            &format!("{feed}-{i}"),
                            &format!("https://x/{i}"),
                            &format!("Story {i}"),
                            "2023-02-22T10:00:00Z",
                        );
                        barrier.wait();
                        store.ingest(&c).unwrap();
                    }
                });
            }
        });
        assert_eq!(store.story_count(), 50);
        for i in 0..50 {
            let id = store
                .story_by_url(&format!("https://x/{i}"))
                .unwrap()
                .unwrap();
            assert_eq!(store.story(id).unwrap().unwrap().sources.len(), 2);
        }
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
            let store = Store::open(dir.path()).unwrap();
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
