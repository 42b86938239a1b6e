//! The writes of ingestion: new stories' records and signatures ahead of their index
//! transaction (and their removal when the transaction does not run), the transaction
//! that indexes a run of new stories with their events and alerts, and the updates of a
//! story by a copy or an edit.

use std::sync::atomic::Ordering;

use chrono::{DateTime, Utc};
use sled::Transactional;

use super::{CommitLog, RunEntry};
use crate::dedup::{Fingerprint, MatchKeys};
use crate::model::{Candidate, IngestOutcome, MatchKind, Story, StoryId};
use crate::store::codec::{decode_u64, encode_signature, encode_story};
use crate::store::story_changes;
use crate::store::tx::{CopyTrees, IndexTrees, TxResult, WriteTrees};
use crate::store::{events, keys, outbox, unindexed, SledStore, StoreError};

/// Every this many writes, the mark below which all story records are settled is saved
/// (besides at every flush and when the store is dropped): after a crash, the sweep at
/// the next open checks the records of about this many runs.
const SETTLED_MARK_EVERY: u64 = 1024;

impl SledStore {
    /// Writes new stories' records and signatures, keyed by id, outside any transaction.
    /// Nothing finds a story by its id alone: it becomes reachable only through the
    /// index entries its transaction writes next, so a crash in between leaves an
    /// unreachable record, never a half-stored story. Kept out of the transaction
    /// because sled runs a transaction under a lock that stops every other read and
    /// write in the store, and these are the largest values a story writes.
    pub(in crate::store) fn write_records<'a>(
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
    pub(super) fn remove_records(&self, ids: impl IntoIterator<Item = StoryId>) {
        for id in ids {
            let idb = keys::id(id);
            if self.stories.remove(idb).is_ok() && self.signatures.remove(idb).is_ok() {
                self.pending.settle([id]);
            }
        }
    }

    /// Saves the mark below which every story record is indexed or removed, so that the
    /// sweep at the next open checks only the records above it.
    pub(in crate::store) fn save_settled_mark(&self) -> Result<(), StoreError> {
        unindexed::save_mark(&self.meta, self.pending.settled_below())
    }

    /// Indexes a run of new stories, whose records are written, in one transaction, with
    /// the events and alerts planned for the one story among them that may have
    /// detections; then empties the run.
    pub(super) fn write_run(
        &self,
        run: &mut Vec<RunEntry>,
        log: &mut CommitLog,
    ) -> Result<(), StoreError> {
        if run.is_empty() {
            return Ok(());
        }
        // A run usually comes from one feed: its count is read and written once.
        let mut per_feed: Vec<(&str, u64)> = Vec::new();
        for entry in run.iter() {
            let feed = entry.candidate.feed.as_str();
            match per_feed.iter_mut().find(|(f, _)| *f == feed) {
                Some((_, n)) => *n += 1,
                None => per_feed.push((feed, 1)),
            }
        }
        // The event and alert trees only when some story has events. Each transaction
        // tells what it added to the counted trees.
        let written = if run.iter().any(|entry| entry.planned.is_some()) {
            self.write_trees().transaction(|t| -> TxResult<Added> {
                let t = WriteTrees::of(t);
                let mut added = Added::default();
                for (plan, alerts) in run.iter().filter_map(|entry| entry.planned.as_ref()) {
                    added.events += events::write_plan(&t.events, plan)?;
                    for alert in alerts {
                        let due =
                            outbox::put_pending(t.outbox.alerts, t.outbox.idx_alert_due, alert)?;
                        added.pending += u64::from(due);
                    }
                }
                added.stories = index_run(&t.index, run, &per_feed)?;
                Ok(added)
            })
        } else {
            self.index_trees().transaction(|t| {
                Ok(Added {
                    stories: index_run(&IndexTrees::of(t), run, &per_feed)?,
                    ..Added::default()
                })
            })
        };
        // Counted even if the write failed: a look made meanwhile is simply repeated.
        let write = self.dedup_writes.fetch_add(1, Ordering::Release) + 1;
        match &written {
            Ok(added) => {
                self.counts.stories.add(added.stories as i64);
                self.counts.events.add(added.events as i64);
                self.counts.pending.add(added.pending as i64);
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
    pub(super) fn update_same_copy(
        &self,
        id: StoryId,
        c: &Candidate,
    ) -> Result<IngestOutcome, StoreError> {
        let mut story = self.load_story(id)?;
        if !story_changes::revise_same_copy(&mut story, c) {
            return Ok(IngestOutcome::Unchanged(id));
        }
        let record = encode_story(&story)?;
        self.stories.insert(keys::id(id), record)?;
        Ok(IngestOutcome::Revised(id))
    }

    /// Records `c` as another copy of story `id`.
    pub(super) fn add_source(
        &self,
        id: StoryId,
        c: &Candidate,
        fp: &Fingerprint,
        kind: MatchKind,
        log: &mut CommitLog,
    ) -> Result<IngestOutcome, StoreError> {
        let mut story = self.load_story(id)?;
        story.sources.push(story_changes::source_of(c, kind));
        let record = encode_story(&story)?;
        let written = self.copy_trees().transaction(|t| -> TxResult<()> {
            let t = CopyTrees::of(t);
            let idb = keys::id(id);
            t.stories.insert(&idb, record.as_slice())?;
            t.index
                .idx_guid
                .insert(keys::guid(&c.feed, &c.guid), &idb)?;
            if let Some(url) = &c.url {
                if t.index.idx_url.get(url.as_bytes())?.is_none() {
                    t.index.idx_url.insert(url.as_bytes(), &idb)?;
                }
            }
            add_feed_entry(&t.index, &c.feed, story.published, id)?;
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
}

/// What a run's transaction added to the counted trees (see `counts`).
#[derive(Default)]
struct Added {
    stories: u64,
    events: u64,
    pending: u64,
}

/// The index entries of a run of new stories, and their feeds' counts (`per_feed`: how
/// many stories of the run each feed has). Returns how many stories it added to the time
/// index.
fn index_run(t: &IndexTrees, run: &[RunEntry], per_feed: &[(&str, u64)]) -> TxResult<u64> {
    let mut added = 0;
    for entry in run {
        added += u64::from(write_story(t, entry.candidate, &entry.fp, &entry.story)?);
    }
    for (feed, added) in per_feed {
        count_feed_stories(t, feed, *added)?;
    }
    Ok(added)
}

/// A new story's index entries: what makes its record, written before by
/// [`SledStore::write_records`], reachable. Returns whether its time-index entry is new (it
/// is: the id is).
fn write_story(t: &IndexTrees, c: &Candidate, fp: &Fingerprint, story: &Story) -> TxResult<bool> {
    let id = story.id;
    let idb = keys::id(id);
    let before = t.idx_time.insert(keys::by_time(story.published, id), &[])?;
    // A new id: never in the feed's listing yet. The caller counts it.
    t.idx_feed
        .insert(keys::by_feed(&c.feed, story.published, id), &[])?;
    t.idx_guid.insert(keys::guid(&c.feed, &c.guid), &idb)?;
    if let Some(url) = &c.url {
        // The look that found this story new saw no story at this URL, and no two
        // stories written together share one; should one be there all the same, the
        // first story keeps it.
        if let Some(first) = t.idx_url.insert(url.as_bytes(), &idb)? {
            t.idx_url.insert(url.as_bytes(), first)?;
        }
    }
    t.idx_hash.insert(&fp.content_hash, &idb)?;
    Ok(before.is_none())
}

/// Adds the story to a feed's listing and counts it, unless it is there already.
fn add_feed_entry(
    t: &IndexTrees,
    feed: &str,
    published: DateTime<Utc>,
    id: StoryId,
) -> TxResult<()> {
    let key = keys::by_feed(feed, published, id);
    if t.idx_feed.insert(key, &[])?.is_none() {
        count_feed_stories(t, feed, 1)?;
    }
    Ok(())
}

/// Adds `added` to the number of stories listed under `feed`.
fn count_feed_stories(t: &IndexTrees, feed: &str, added: u64) -> TxResult<()> {
    let n = t
        .feed_counts
        .get(feed.as_bytes())?
        .map(|v| decode_u64(&v))
        .unwrap_or(0);
    t.feed_counts
        .insert(feed.as_bytes(), &(n + added).to_be_bytes())?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use crate::dedup::Fingerprint;
    use crate::model::{IngestOutcome, MatchKind};
    use crate::store::test_support::{long_cand, reopen};
    use crate::store::{IngestHooks, SledStore, StoryQuery};

    #[test]
    fn a_record_whose_transaction_never_ran_is_unreachable_and_the_entry_comes_back_new() {
        // What a crash between a story's record and its index transaction leaves.
        let dir = tempfile::tempdir().unwrap();
        let a = long_cand("1", "Trade talks");
        let orphan = {
            let store = SledStore::open(dir.path()).unwrap();
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
}
