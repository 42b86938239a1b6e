//! Story reads: one story by id, listings newest first filtered by [`StoryQuery`], and
//! the story counts.

use chrono::{DateTime, Utc};

use super::codec::{decode_u64, read_story};
use super::{keys, SledStore, StoreError};
use crate::model::{Story, StoryId};

/// Filters for [`SledStore::stories`].
#[derive(Debug, Clone, Default)]
pub struct StoryQuery {
    /// Only stories with a copy from this feed.
    pub feed: Option<String>,
    /// Only stories published at or after this time.
    pub since: Option<DateTime<Utc>>,
    /// At most this many, newest first.
    pub limit: Option<usize>,
}

impl SledStore {
    pub(super) fn load_story(&self, id: StoryId) -> Result<Story, StoreError> {
        self.story(id)?.ok_or_else(|| StoreError::Missing {
            tree: "stories",
            key: id.to_string(),
        })
    }

    pub fn story(&self, id: StoryId) -> Result<Option<Story>, StoreError> {
        read_story(&self.stories, id)
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
        // Counted on the time index (a record is a story once it is indexed), without a
        // scan (see `counts`).
        self.counts.stories.get()
    }

    /// Number of stories with at least one copy from `feed`.
    pub fn feed_story_count(&self, feed: &str) -> Result<u64, StoreError> {
        Ok(self
            .feed_counts
            .get(feed.as_bytes())?
            .map(|v| decode_u64(&v))
            .unwrap_or(0))
    }
}

/// Walks a time index (`prefix ‖ time ‖ id` keys) newest first: stops at the first key
/// older than `since` (compared on the time bytes after the prefix) or once `limit`
/// records were taken; `load` reads a record by id and may skip it with `None`.
pub(super) fn newest_first<T>(
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
