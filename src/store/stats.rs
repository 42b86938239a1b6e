//! What the store holds and what it costs ([`SledStore::stats`]): its size on disk, the keys
//! and bytes of each tree, stories by age band (and how many still have their text),
//! events and alerts. Reads every tree once.
//!
//! The PostgreSQL backend fills the same [`StoreStats`] (`store/postgres/maintenance.rs`):
//! `path` is the database's URL without its password, `tables` replaces `trees` (rows
//! and `pg_total_relation_size` per table: data, indexes and TOAST), and `disk_bytes`
//! is the sum of those sizes; the counts and age bands mean the same.

use chrono::{DateTime, Utc};

use super::{SledStore, StoreError};

/// One tree's size: keys and the bytes of its keys and values (as written, before
/// sled's own overhead).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct TreeStats {
    pub name: String,
    pub keys: u64,
    pub key_bytes: u64,
    pub value_bytes: u64,
}

/// One PostgreSQL table's size: its rows, and its bytes on disk with its indexes and
/// TOAST (`pg_total_relation_size`).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct TableStats {
    pub name: String,
    pub rows: u64,
    pub bytes: u64,
}

/// Stories first seen within an age band.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct AgeBand {
    /// "< 1d", "1d–7d", …
    pub band: String,
    pub stories: u64,
    /// Of them, those that still have their text.
    pub with_text: u64,
}

#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct StoreStats {
    /// The sled store's directory, or the PostgreSQL database's URL (no password).
    pub path: String,
    /// Bytes of the store's directory on disk (sled), or of its tables (PostgreSQL).
    pub disk_bytes: u64,
    /// sled's trees (none on PostgreSQL).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub trees: Vec<TreeStats>,
    /// PostgreSQL's tables (none on sled).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub tables: Vec<TableStats>,
    pub stories: u64,
    pub stories_by_age: Vec<AgeBand>,
    pub events: u64,
    pub alerts_pending: u64,
    pub alerts_dead: u64,
    pub alerts_delivered: u64,
    /// Bytes on disk per story held (0 without stories).
    pub disk_bytes_per_story: u64,
}

/// The age bands, by upper bound in days.
const BANDS: &[(&str, i64)] = &[
    ("< 1d", 1),
    ("1d–7d", 7),
    ("7d–30d", 30),
    ("30d–90d", 90),
    ("90d–365d", 365),
    ("≥ 365d", i64::MAX),
];

/// The age bands, empty.
pub(super) fn empty_bands() -> Vec<AgeBand> {
    BANDS
        .iter()
        .map(|(band, _)| AgeBand {
            band: band.to_string(),
            stories: 0,
            with_text: 0,
        })
        .collect()
}

/// The index in [`BANDS`] of a story first seen `days` whole days ago.
pub(super) fn band_of(days: i64) -> usize {
    BANDS
        .iter()
        .position(|(_, below)| days < *below)
        .unwrap_or(BANDS.len() - 1)
}

/// Bytes of the files under `path` (0 for what cannot be read): a store's size on
/// disk, for `store stats`, compaction, the soak and the load runs.
pub fn dir_size(path: &std::path::Path) -> u64 {
    let Ok(entries) = std::fs::read_dir(path) else {
        return 0;
    };
    entries
        .flatten()
        .map(|e| match e.metadata() {
            Ok(m) if m.is_dir() => dir_size(&e.path()),
            Ok(m) => m.len(),
            Err(_) => 0,
        })
        .sum()
}

impl SledStore {
    /// Sizes and counts (see the module docs), ages measured at `now`.
    pub fn stats(&self, now: DateTime<Utc>) -> Result<StoreStats, StoreError> {
        let mut trees = Vec::new();
        let mut names = self.db.tree_names();
        names.sort();
        for name in names {
            let tree = self.db.open_tree(&name)?;
            let mut t = TreeStats {
                name: String::from_utf8_lossy(&name).into_owned(),
                keys: 0,
                key_bytes: 0,
                value_bytes: 0,
            };
            for entry in tree.iter() {
                let (k, v) = entry?;
                t.keys += 1;
                t.key_bytes += k.len() as u64;
                t.value_bytes += v.len() as u64;
            }
            if t.name != "__sled__default" || t.keys > 0 {
                trees.push(t);
            }
        }
        let mut bands = empty_bands();
        for entry in self.stories.iter() {
            let (_, value) = entry?;
            let Ok(aged) = serde_json::from_slice::<super::codec::StoryTimes>(&value) else {
                continue;
            };
            let at = band_of((now - aged.first_seen).num_days());
            bands[at].stories += 1;
            bands[at].with_text += u64::from(!aged.text.is_empty());
        }
        let outbox = self.outbox_counts()?;
        let disk_bytes = dir_size(&self.path);
        let stories = self.story_count() as u64;
        Ok(StoreStats {
            path: self.path.display().to_string(),
            disk_bytes,
            trees,
            tables: Vec::new(),
            stories,
            stories_by_age: bands,
            events: self.event_count() as u64,
            alerts_pending: outbox.pending as u64,
            alerts_dead: outbox.dead as u64,
            alerts_delivered: outbox.delivered,
            disk_bytes_per_story: disk_bytes.checked_div(stories).unwrap_or(0),
        })
    }
}
