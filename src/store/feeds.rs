//! Feed state: each feed's polling state ([`FeedState`]), read, saved and listed.

use super::codec::{read_json, write_json};
use super::{SledStore, StoreError};
use crate::model::FeedState;

impl SledStore {
    pub fn feed_state(&self, feed: &str) -> Result<Option<FeedState>, StoreError> {
        read_json(&self.feeds, "feeds", feed.as_bytes(), || feed.to_string())
    }

    pub fn put_feed_state(&self, state: &FeedState) -> Result<(), StoreError> {
        let bytes = write_json(state, "feeds", || state.id.clone())?;
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
}
