//! The trees of the store's write transactions.

use sled::transaction::ConflictableTransactionError;

use super::{Store, StoreError};

/// Positions of the trees in the write transaction. A transaction takes only the trees
/// it needs, a prefix of [`Store::write_trees`]: a run of new stories the first
/// [`STORY_INDEX_TREES`], a copy also the stories, a story with events all of them.
pub(super) const T_TIME: usize = 0;
pub(super) const T_FEED: usize = 1;
pub(super) const T_GUID: usize = 2;
pub(super) const T_URL: usize = 3;
pub(super) const T_HASH: usize = 4;
pub(super) const T_COUNTS: usize = 5;
pub(super) const T_STORIES: usize = 6;
pub(super) const T_EVENTS: usize = 7;
pub(super) const T_EV_TIME: usize = 8;
pub(super) const T_EV_TYPE: usize = 9;
pub(super) const T_EV_COUNTRY: usize = 10;
pub(super) const T_EV_KEY: usize = 11;
pub(super) const T_ALERTS: usize = 12;
pub(super) const T_ALERT_DUE: usize = 13;
/// The trees a new story's transaction writes when it has no events.
pub(super) const STORY_INDEX_TREES: usize = T_COUNTS + 1;

pub(super) type TxResult<T> = Result<T, ConflictableTransactionError<StoreError>>;

impl Store {
    pub(super) fn write_trees(&self) -> [&sled::Tree; 14] {
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
}
