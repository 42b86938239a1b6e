//! The trees of the store's write transactions, by name.
//!
//! sled runs a transaction over a tuple of trees and hands its closure a tuple of
//! transactional views in the same order. Each tuple is built, and its views named, in
//! one pair of functions here (a test checks that each name is its tree), so the rest
//! of the store writes to trees by name and no transaction can reach for a tree it did
//! not take. A transaction takes only the trees it needs: a run of new stories without
//! events its [`IndexTrees`], a copy its [`CopyTrees`], a run with events its
//! [`WriteTrees`].

use sled::transaction::{ConflictableTransactionError, TransactionalTree};
use sled::Tree;

use super::{SledStore, StoreError};

pub(super) type TxResult<T> = Result<T, ConflictableTransactionError<StoreError>>;

/// A new story's index entries and the per-feed counts.
pub(super) struct IndexTrees<'t> {
    pub(super) idx_time: &'t TransactionalTree,
    pub(super) idx_feed: &'t TransactionalTree,
    pub(super) idx_guid: &'t TransactionalTree,
    pub(super) idx_url: &'t TransactionalTree,
    pub(super) idx_hash: &'t TransactionalTree,
    pub(super) feed_counts: &'t TransactionalTree,
}

/// A copy of a story: its record and the index trees.
pub(super) struct CopyTrees<'t> {
    pub(super) index: IndexTrees<'t>,
    pub(super) stories: &'t TransactionalTree,
}

/// Events and their indexes.
pub(super) struct EventTrees<'t> {
    pub(super) events: &'t TransactionalTree,
    pub(super) idx_event_time: &'t TransactionalTree,
    pub(super) idx_event_type: &'t TransactionalTree,
    pub(super) idx_event_country: &'t TransactionalTree,
    pub(super) idx_event_key: &'t TransactionalTree,
    pub(super) idx_event_story: &'t TransactionalTree,
}

/// Pending alerts and their due index.
pub(super) struct OutboxTrees<'t> {
    pub(super) alerts: &'t TransactionalTree,
    pub(super) idx_alert_due: &'t TransactionalTree,
}

/// A run of new stories with their events and alerts. (The story records are written
/// before, outside the transaction.)
pub(super) struct WriteTrees<'t> {
    pub(super) index: IndexTrees<'t>,
    pub(super) events: EventTrees<'t>,
    pub(super) outbox: OutboxTrees<'t>,
}

type Six<T> = (T, T, T, T, T, T);
type Seven<T> = (T, T, T, T, T, T, T);
type Fourteen<T> = (T, T, T, T, T, T, T, T, T, T, T, T, T, T);

impl SledStore {
    /// The trees of [`IndexTrees`], in the order [`IndexTrees::of`] names them.
    pub(super) fn index_trees(&self) -> Six<&Tree> {
        (
            &self.idx_time,
            &self.idx_feed,
            &self.idx_guid,
            &self.idx_url,
            &self.idx_hash,
            &self.feed_counts,
        )
    }

    /// The trees of [`CopyTrees`], in the order [`CopyTrees::of`] names them.
    pub(super) fn copy_trees(&self) -> Seven<&Tree> {
        (
            &self.idx_time,
            &self.idx_feed,
            &self.idx_guid,
            &self.idx_url,
            &self.idx_hash,
            &self.feed_counts,
            &self.stories,
        )
    }

    /// The trees of [`WriteTrees`], in the order [`WriteTrees::of`] names them.
    pub(super) fn write_trees(&self) -> Fourteen<&Tree> {
        (
            &self.idx_time,
            &self.idx_feed,
            &self.idx_guid,
            &self.idx_url,
            &self.idx_hash,
            &self.feed_counts,
            &self.events,
            &self.idx_event_time,
            &self.idx_event_type,
            &self.idx_event_country,
            &self.idx_event_key,
            &self.alerts,
            &self.idx_alert_due,
            &self.idx_event_story,
        )
    }
}

impl<'t> IndexTrees<'t> {
    /// Names the views of a transaction over [`SledStore::index_trees`].
    pub(super) fn of(t: &'t Six<TransactionalTree>) -> Self {
        let (idx_time, idx_feed, idx_guid, idx_url, idx_hash, feed_counts) = t;
        IndexTrees {
            idx_time,
            idx_feed,
            idx_guid,
            idx_url,
            idx_hash,
            feed_counts,
        }
    }
}

impl<'t> CopyTrees<'t> {
    /// Names the views of a transaction over [`SledStore::copy_trees`].
    pub(super) fn of(t: &'t Seven<TransactionalTree>) -> Self {
        let (idx_time, idx_feed, idx_guid, idx_url, idx_hash, feed_counts, stories) = t;
        CopyTrees {
            index: IndexTrees {
                idx_time,
                idx_feed,
                idx_guid,
                idx_url,
                idx_hash,
                feed_counts,
            },
            stories,
        }
    }
}

impl<'t> WriteTrees<'t> {
    /// Names the views of a transaction over [`SledStore::write_trees`].
    pub(super) fn of(t: &'t Fourteen<TransactionalTree>) -> Self {
        let (
            idx_time,
            idx_feed,
            idx_guid,
            idx_url,
            idx_hash,
            feed_counts,
            events,
            idx_event_time,
            idx_event_type,
            idx_event_country,
            idx_event_key,
            alerts,
            idx_alert_due,
            idx_event_story,
        ) = t;
        WriteTrees {
            index: IndexTrees {
                idx_time,
                idx_feed,
                idx_guid,
                idx_url,
                idx_hash,
                feed_counts,
            },
            events: EventTrees {
                events,
                idx_event_time,
                idx_event_type,
                idx_event_country,
                idx_event_key,
                idx_event_story,
            },
            outbox: OutboxTrees {
                alerts,
                idx_alert_due,
            },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use sled::Transactional;

    /// Writes its own name, as key, through each named view.
    fn mark_index(t: &IndexTrees) -> TxResult<()> {
        t.idx_time.insert("idx_time", "")?;
        t.idx_feed.insert("idx_feed", "")?;
        t.idx_guid.insert("idx_guid", "")?;
        t.idx_url.insert("idx_url", "")?;
        t.idx_hash.insert("idx_hash", "")?;
        t.feed_counts.insert("feed_counts", "")?;
        Ok(())
    }

    /// The trees holding a key, each of which must be the key itself: the tree each
    /// named view wrote to is the sled tree of that name.
    fn marked(store: &SledStore) -> Vec<String> {
        let mut names: Vec<String> = Vec::new();
        for name in store.db.tree_names() {
            let tree = store.db.open_tree(&name).unwrap();
            let name = String::from_utf8_lossy(&name).into_owned();
            for entry in tree.iter() {
                let (key, _) = entry.unwrap();
                let key = String::from_utf8_lossy(&key).into_owned();
                if name != "meta" && name != "__sled__default" {
                    assert_eq!(key, name, "a key written through the wrong view");
                    names.push(name.clone());
                }
            }
        }
        names.sort();
        names
    }

    #[test]
    fn each_named_view_writes_to_the_tree_of_its_name() {
        let dir = tempfile::tempdir().unwrap();
        let store = SledStore::open(dir.path()).unwrap();
        let index = [
            "feed_counts",
            "idx_feed",
            "idx_guid",
            "idx_hash",
            "idx_time",
            "idx_url",
        ];
        store
            .index_trees()
            .transaction(|t| mark_index(&IndexTrees::of(t)))
            .unwrap();
        assert_eq!(marked(&store), index);

        let dir = tempfile::tempdir().unwrap();
        let store = SledStore::open(dir.path()).unwrap();
        store
            .copy_trees()
            .transaction(|t| {
                let t = CopyTrees::of(t);
                mark_index(&t.index)?;
                t.stories.insert("stories", "")?;
                Ok(())
            })
            .unwrap();
        let mut copy = index.to_vec();
        copy.push("stories");
        copy.sort();
        assert_eq!(marked(&store), copy);

        let dir = tempfile::tempdir().unwrap();
        let store = SledStore::open(dir.path()).unwrap();
        store
            .write_trees()
            .transaction(|t| {
                let t = WriteTrees::of(t);
                mark_index(&t.index)?;
                t.events.events.insert("events", "")?;
                t.events.idx_event_time.insert("idx_event_time", "")?;
                t.events.idx_event_type.insert("idx_event_type", "")?;
                t.events.idx_event_country.insert("idx_event_country", "")?;
                t.events.idx_event_key.insert("idx_event_key", "")?;
                t.events.idx_event_story.insert("idx_event_story", "")?;
                t.outbox.alerts.insert("alerts", "")?;
                t.outbox.idx_alert_due.insert("idx_alert_due", "")?;
                Ok(())
            })
            .unwrap();
        let mut all = index.to_vec();
        all.extend([
            "events",
            "idx_event_time",
            "idx_event_type",
            "idx_event_country",
            "idx_event_key",
            "idx_event_story",
            "alerts",
            "idx_alert_due",
        ]);
        all.sort();
        assert_eq!(marked(&store), all);
    }
}
