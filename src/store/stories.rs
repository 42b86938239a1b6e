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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::test_support::cand;

    #[test]
    fn listings_are_newest_first_and_filter_by_feed_and_time() {
        let dir = tempfile::tempdir().unwrap();
        let store = SledStore::open(dir.path()).unwrap();
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
}
