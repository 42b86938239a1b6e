//! The store: every story, its sources and every feed's polling state, kept in sled.
//!
//! This module is the only place that knows about sled. Its public API speaks in the
//! model's types ([`Story`](crate::model::Story), [`FeedState`](crate::model::FeedState),
//! …), its own query and report types and [`StoreError`], so another backend can replace
//! it without touching the rest.
//!
//! Layout (one sled tree each):
//!
//! | tree                | key                           | value                          |
//! |---------------------|-------------------------------|--------------------------------|
//! | `meta`              | `schema_version`              | version, decimal text          |
//! | `meta`              | `records_settled_below`       | story id (see `unindexed`)     |
//! | `meta`              | `alerts_delivered`            | alerts delivered, ever         |
//! | `meta`              | `id_base`                     | added to generated ids (import)|
//! | `meta`              | `prune_*_below`               | story id pruning has reached   |
//! | `stories`           | id                            | `Story` as JSON                |
//! | `idx_time`          | published ‖ id                | empty — newest-first listing   |
//! | `idx_feed`          | feed ‖ 0 ‖ published ‖ id     | empty — listing by feed        |
//! | `idx_guid`          | feed ‖ 0 ‖ guid               | id                             |
//! | `idx_url`           | canonical URL                 | id                             |
//! | `idx_hash`          | SHA-256 of title and text     | id                             |
//! | `signatures`        | id                            | published ‖ MinHash signature  |
//! | `feed_counts`       | feed                          | stories with a copy from feed  |
//! | `feeds`             | feed                          | `FeedState` as JSON            |
//! | `events`            | id                            | `Event` as JSON                |
//! | `idx_event_time`    | anchor day ‖ id               | empty — newest-first listing   |
//! | `idx_event_type`    | type ‖ 0 ‖ day ‖ id           | empty — listing by type        |
//! | `idx_event_country` | code ‖ 0 ‖ day ‖ id           | empty — listing by country     |
//! | `idx_event_key`     | type ‖ 0 ‖ key ‖ 0 ‖ day ‖ id | empty — merge lookups          |
//! | `idx_event_story`   | story ‖ event                 | empty — the events citing it   |
//! | `alerts`            | id                            | `Alert` as JSON, pending/dead  |
//! | `idx_alert_due`     | next attempt ‖ id             | empty — pending, soonest first |
//! | `idx_alert_dead`    | dead since ‖ id               | empty — the dead-letter list   |
//! | `sink_circuits`     | sink                          | `SinkCircuit` as JSON          |
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
//! without its alerts. The next open removes such records (`unindexed`: only those
//! above a saved mark are checked). (sled runs a transaction under a lock that stops
//! every other read and write, so the largest values stay out of it.) A poll's
//! consecutive new stories share one transaction, at most one of them with detections
//! ([`SledStore::ingest_batch`]). Ingestion is serialised by a writer lock, so the dedup and
//! merge lookups and the write that follows them see the same state.
//!
//! Which event changes raise alerts, and for which sinks, is not the store's to decide:
//! the ingest asks its route hook ([`IngestHooks`]) about each change and writes what it
//! answers. The counts of stories, events, pending and dead alerts are counters, read
//! from the trees once at open and moved by each committed transaction (`counts`), so
//! reading them scans nothing.
//!
//! Submodules, one job each:
//!
//! - `schema` — opening (schema version, upgrade of older versions, trees, the sweep)
//!   and what a flush or a drop saves;
//! - `ingest` — offering candidates, the writer lock and the log of recent writes, the
//!   records and index transactions of new stories;
//! - `stories` — story reads, listings and counts by feed;
//! - `feeds` — feed state;
//! - `near_dup` — the in-memory near-duplicate index and the dedup lookups;
//! - `events` — events, merged and listed;
//! - `outbox` — alerts waiting for delivery and the dead-letter list;
//! - `circuits` — the sinks' circuit breakers as the delivery worker saved them;
//! - `codec` — how records are encoded; `keys`, how keys are laid out;
//! - `unindexed` — records written ahead of their index transaction and the sweep;
//! - `tx` — the trees of the write transactions, by name;
//! - `counts` — the counted sizes;
//! - `retention` — the retention policy, pure: what is due for pruning at a given time;
//! - `prune` — pruning: the policy executed on the trees, batch by batch;
//! - `check` — the consistency check of records, indexes and counts;
//! - `stats` — sizes on disk and per tree, stories by age;
//! - `export` — the versioned JSONL dump and its import into an empty store;
//! - `compact` — rewriting a store into a fresh directory, swapped in whole;
//! - `error` — [`StoreError`].

mod backend;
mod check;
mod circuits;
mod codec;
mod compact;
mod counts;
mod error;
mod event_plan;
mod events;
mod export;
mod feeds;
mod ingest;
mod keys;
mod near_dup;
mod outbox;
pub mod postgres;
mod prune;
pub mod retention;
mod schema;
mod stats;
mod stories;
mod story_changes;
mod tx;
mod unindexed;
pub mod web_reads;

#[cfg(test)]
pub(crate) mod test_support;

pub use backend::Store;
pub use check::CheckReport;
pub use compact::{compact, CompactReport};
pub use error::StoreError;
pub use events::EventQuery;
pub use export::{ExportReport, ImportReport, EXPORT_FORMAT_VERSION};
pub use ingest::{IngestHooks, Ingested, RouteHook};
pub use outbox::{AlertState, OutboxCounts};
pub use postgres::claims::{FeedClaim, FeedHolder};
pub use prune::PruneReport;
pub use schema::SCHEMA_VERSION;
pub use stats::{dir_size, AgeBand, StoreStats, TableStats, TreeStats};
pub use stories::StoryQuery;
pub use unindexed::SweepReport;

use std::path::PathBuf;
use std::sync::atomic::AtomicU64;
use std::sync::{Mutex, OnceLock, RwLock};

use crate::dedup::RecentBands;
use counts::Counts;
use ingest::CommitLog;
use unindexed::PendingRecords;

pub struct SledStore {
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
    idx_event_story: sled::Tree,
    alerts: sled::Tree,
    idx_alert_due: sled::Tree,
    idx_alert_dead: sled::Tree,
    sink_circuits: sled::Tree,
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
    /// Stories, events, pending and dead alerts, counted without a scan.
    counts: Counts,
    /// Added to every id sled generates: above the ids an import brought in.
    id_base: u64,
}
