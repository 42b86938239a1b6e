//! The store's near-duplicate index: the in-memory [`RecentBands`] of the newest
//! stories, built from their signatures on first use and joined by each new story once
//! its transaction has committed; and the store's [`DedupIndex`] lookups.

use std::sync::RwLock;

use chrono::{DateTime, Utc};

use super::codec::decode_signature;
use super::{keys, SledStore, StoreError};
use crate::dedup::{self, BandMember, DedupIndex, Fingerprint, RecentBands, Signature};
use crate::model::{Story, StoryId};

impl SledStore {
    /// Adds a committed story to the near-duplicate index (built by the ingest before its
    /// first look).
    pub(super) fn add_to_recent(&self, story: &Story, fp: &Fingerprint) {
        if let (Some(sig), Some(recent)) = (&fp.signature, self.recent.get()) {
            recent.write().unwrap_or_else(|p| p.into_inner()).insert(
                story.id,
                story.published,
                story.first_seen,
                sig,
            );
        }
    }

    /// The near-duplicate index, built from the newest stories' signatures on first use.
    /// The build holds the writer lock, so no story is committed meanwhile and missed.
    pub(super) fn recent_bands(&self) -> Result<&RwLock<RecentBands>, StoreError> {
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
    pub(super) fn load_recent_bands(&self) -> Result<RecentBands, StoreError> {
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
}

impl DedupIndex for SledStore {
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
