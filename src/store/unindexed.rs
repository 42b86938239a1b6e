//! Story records written ahead of their index transaction, and the sweep that removes
//! those a crash or a failed write left without one.
//!
//! A new story's record and signature are written by id before the transaction that
//! indexes it (see the store's invariants). Until that transaction commits, or the
//! record is removed because the entry turned out to be a copy or the write failed, the
//! record is *pending*. [`PendingRecords`] hands out story ids and keeps the pending
//! ones; every record below its [`settled_below`](PendingRecords::settled_below) mark is
//! indexed or gone. The store saves that mark in `meta` from time to time and when it is
//! dropped, and [`sweep`] checks only the records at or above the saved mark when the
//! store is next opened: after a clean stop none, after a crash the last moments'.

use std::collections::BTreeSet;
use std::sync::Mutex;

use super::{keys, StoreError};
use crate::model::StoryId;

/// Key in `meta` of the saved mark: every story record below this id is indexed or
/// removed (8 bytes, big-endian).
pub(super) const SETTLED_BELOW_KEY: &str = "records_settled_below";

/// The story ids handed out whose records may still be waiting for their index
/// transaction.
pub(super) struct PendingRecords {
    inner: Mutex<Pending>,
}

struct Pending {
    ids: BTreeSet<StoryId>,
    /// One above the highest id handed out (or the mark the store opened with).
    next: StoryId,
}

impl PendingRecords {
    /// Starts with nothing pending and no id handed out below `next`.
    pub(super) fn new(next: StoryId) -> Self {
        PendingRecords {
            inner: Mutex::new(Pending {
                ids: BTreeSet::new(),
                next,
            }),
        }
    }

    /// A new story id from sled's crash-safe generator, pending until
    /// [`settle`](Self::settle)d. Generated under the lock, so the mark never passes an
    /// id handed out but not yet noted.
    pub(super) fn new_id(&self, db: &sled::Db, base: u64) -> Result<StoryId, StoreError> {
        let mut pending = self.lock();
        let id = db.generate_id()? + base;
        pending.ids.insert(id);
        pending.next = pending.next.max(id + 1);
        Ok(id)
    }

    /// The records of `ids` are indexed or removed.
    pub(super) fn settle(&self, ids: impl IntoIterator<Item = StoryId>) {
        let mut pending = self.lock();
        for id in ids {
            pending.ids.remove(&id);
        }
    }

    /// Those of `ids` that are still pending.
    pub(super) fn still_pending(&self, ids: &[StoryId]) -> Vec<StoryId> {
        let pending = self.lock();
        ids.iter()
            .copied()
            .filter(|id| pending.ids.contains(id))
            .collect()
    }

    /// No id below `next` will be handed out, nor is pending (records imported below it).
    pub(super) fn advance_to(&self, next: StoryId) {
        let mut pending = self.lock();
        pending.next = pending.next.max(next);
    }

    /// Every record with a lower id is indexed or removed.
    pub(super) fn settled_below(&self) -> StoryId {
        let pending = self.lock();
        pending.ids.first().copied().unwrap_or(pending.next)
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Pending> {
        self.inner.lock().unwrap_or_else(|p| p.into_inner())
    }
}

/// The mark saved in `meta`: 0 (check every record) when none was saved, as in a store
/// written before the mark existed.
pub(super) fn saved_mark(meta: &sled::Tree) -> Result<StoryId, StoreError> {
    Ok(meta
        .get(SETTLED_BELOW_KEY)?
        .and_then(|v| <[u8; 8]>::try_from(v.as_ref()).ok())
        .map(StoryId::from_be_bytes)
        .unwrap_or(0))
}

pub(super) fn save_mark(meta: &sled::Tree, mark: StoryId) -> Result<(), StoreError> {
    meta.insert(SETTLED_BELOW_KEY, &mark.to_be_bytes())?;
    Ok(())
}

/// What [`sweep`] found.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct SweepReport {
    /// Records at or above the saved mark that were checked.
    pub examined: u64,
    /// Records (with their signatures) that no index reached, removed.
    pub removed: u64,
    /// Signatures whose record was gone, removed.
    pub removed_signatures: u64,
    /// Records that did not decode: kept, since what they hold cannot be told.
    pub undecodable: u64,
    /// The mark to start the next run with: above every record now in the store.
    pub next_mark: StoryId,
}

/// Checks every story record and signature with an id at or above `from`: a record is
/// kept if the time index holds its entry (published ‖ id), which the index transaction
/// writes; otherwise it and its signature are removed. Runs when the store opens, before
/// any ingest.
pub(super) fn sweep(
    stories: &sled::Tree,
    signatures: &sled::Tree,
    idx_time: &sled::Tree,
    from: StoryId,
) -> Result<SweepReport, StoreError> {
    let mut report = SweepReport {
        next_mark: from,
        ..SweepReport::default()
    };
    let mut unreachable = Vec::new();
    for entry in stories.range(keys::id(from)..) {
        let (key, value) = entry?;
        let Some(id) = keys::decode_id(&key) else {
            continue;
        };
        report.examined += 1;
        report.next_mark = report.next_mark.max(id + 1);
        match serde_json::from_slice::<super::codec::StoryTimes>(&value) {
            Ok(record) => {
                if !idx_time.contains_key(keys::by_time(record.published, id))? {
                    unreachable.push(key);
                }
            }
            Err(e) => {
                report.undecodable += 1;
                tracing::warn!(
                    story = id,
                    error = %e,
                    "story record does not decode; kept as it is"
                );
            }
        }
    }
    for key in &unreachable {
        stories.remove(key)?;
        signatures.remove(key)?;
        report.removed += 1;
    }
    let mut orphaned_signatures = Vec::new();
    for entry in signatures.range(keys::id(from)..) {
        let (key, _) = entry?;
        if let Some(id) = keys::decode_id(&key) {
            report.next_mark = report.next_mark.max(id + 1);
        }
        if !stories.contains_key(&key)? {
            orphaned_signatures.push(key);
        }
    }
    for key in &orphaned_signatures {
        signatures.remove(key)?;
        report.removed_signatures += 1;
    }
    Ok(report)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_mark_stays_below_every_pending_id_and_moves_up_as_they_settle() {
        let dir = tempfile::tempdir().unwrap();
        let db = sled::open(dir.path()).unwrap();
        let pending = PendingRecords::new(0);
        let a = pending.new_id(&db, 0).unwrap();
        let b = pending.new_id(&db, 0).unwrap();
        let c = pending.new_id(&db, 0).unwrap();
        assert!(a < b && b < c);
        assert_eq!(pending.settled_below(), a);
        pending.settle([b]);
        assert_eq!(pending.settled_below(), a, "a is still pending");
        assert_eq!(pending.still_pending(&[a, b, c]), vec![a, c]);
        pending.settle([a]);
        assert_eq!(pending.settled_below(), c);
        pending.settle([c]);
        assert_eq!(
            pending.settled_below(),
            c + 1,
            "nothing pending: above every id"
        );
    }
}
