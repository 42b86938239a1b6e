//! Pruning: the retention policy ([`retention`](super::retention)) executed on the
//! trees, in small batches.
//!
//! Stories are walked in id order, which is the order they were first seen in, from a
//! cursor per stage saved in `meta` (`prune_identity_below`, `prune_text_below`,
//! `prune_stories_below`): each stage stops at the first story not yet due, so a cycle
//! reads only what it prunes. Each batch holds the writer lock (ingestion waits for one
//! batch, not for the whole cycle) and is one atomic write:
//!
//! - signature: the near-duplicate signature of a story past the near-duplicate index's
//!   horizon (nothing reads it any more), in one atomic batch;
//! - identity: the story's GUID, URL and content keys (those still leading to it) and its
//!   signature, in one transaction;
//! - text: the records rewritten without text and revisions, in one atomic batch;
//! - stories: a story no event cites loses its record, its listing entries, any key left
//!   and its signature, and its feeds' counts move, in one transaction.
//!
//! A kill at any point leaves each batch either done or not done; the cursors only say
//! where to look next (a batch done again changes nothing), so nothing reachable is ever
//! broken. Events and dead alerts are removed the same way, by their own age.
//!
//! A batch that removed keys counts as a dedup write and makes every look made before it
//! be made again (a story it found may be gone).

use std::sync::atomic::Ordering;

use chrono::{DateTime, Utc};
use sled::transaction::TransactionalTree;
use sled::Transactional;

use super::codec::{decode_story, decode_u64, encode_story, StoryTimes};
use super::events;
use super::retention::Cutoffs;
use super::tx::{EventTrees, TxResult};
use super::{keys, SledStore, StoreError};
use crate::dedup::Fingerprint;
use crate::model::{Alert, Candidate, Event, Story, StoryId};

/// What a prune removed (or, for a dry run, would remove).
#[derive(Debug, Default, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct PruneReport {
    /// Stories whose near-duplicate signature went, past the near-duplicate horizon.
    pub signatures: u64,
    /// Stories whose dedup keys and signature went.
    pub identities: u64,
    /// Entries removed with them: GUID, URL and content keys, signatures. (A dry run
    /// counts the stories only.)
    pub identity_keys: u64,
    /// Stories whose text and revisions went.
    pub texts: u64,
    /// Bytes of story records freed by that (record sizes before minus after).
    pub text_bytes: u64,
    /// Stories removed whole.
    pub stories: u64,
    /// Stories old enough to go but kept, since an event cites them.
    pub cited_kept: u64,
    /// Events removed, with their evidence.
    pub events: u64,
    /// Dead alerts removed.
    pub dead_alerts: u64,
    /// Write batches (0 for a dry run).
    pub batches: u64,
}

impl PruneReport {
    /// Whether anything was (or would be) pruned.
    pub fn is_empty(&self) -> bool {
        self.signatures
            + self.identities
            + self.texts
            + self.stories
            + self.events
            + self.dead_alerts
            == 0
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Stage {
    Signature,
    Identity,
    Text,
    Stories,
}

impl Stage {
    pub(super) const ALL: [Stage; 4] = [
        Stage::Signature,
        Stage::Identity,
        Stage::Text,
        Stage::Stories,
    ];

    pub(super) fn cursor_key(self) -> &'static str {
        match self {
            Stage::Signature => "prune_signature_below",
            Stage::Identity => "prune_identity_below",
            Stage::Text => "prune_text_below",
            Stage::Stories => "prune_stories_below",
        }
    }
}

/// Stories of one batch, and the cursor after them.
struct Walked {
    stories: Vec<(Story, usize)>,
    next_cursor: Option<StoryId>,
    more: bool,
}

impl SledStore {
    /// Prunes everything due at `cut`, `batch` records per write. With `dry_run`,
    /// writes nothing and reports what would go.
    pub fn prune(
        &self,
        cut: &Cutoffs,
        batch: usize,
        dry_run: bool,
    ) -> Result<PruneReport, StoreError> {
        self.prune_while(cut, batch, dry_run, &|| true)
    }

    /// [`SledStore::prune`], asking `go_on` before each batch: a stopping daemon ends the
    /// cycle between two batches (the next cycle picks up from the cursors).
    pub fn prune_while(
        &self,
        cut: &Cutoffs,
        batch: usize,
        dry_run: bool,
        go_on: &dyn Fn() -> bool,
    ) -> Result<PruneReport, StoreError> {
        let batch = batch.max(1);
        let mut report = PruneReport::default();
        let mut newest_identity: Option<DateTime<Utc>> = None;
        for stage in Stage::ALL {
            if dry_run {
                self.stage_dry(stage, cut, &mut report)?;
            } else {
                while go_on()
                    && self.stage_batch(stage, cut, batch, &mut report, &mut newest_identity)?
                {
                }
            }
        }
        if dry_run {
            report.events = self.due_events(cut, usize::MAX)?.len() as u64;
            report.dead_alerts = self.due_dead_alerts(cut, usize::MAX)?.len() as u64;
        } else {
            while go_on() && self.events_batch(cut, batch, &mut report)? {}
            while go_on() && self.dead_alerts_batch(cut, batch, &mut report)? {}
            if let Some(newest) = newest_identity {
                self.refresh_recent(newest)?;
            }
        }
        Ok(report)
    }

    fn cursor(&self, stage: Stage) -> Result<StoryId, StoreError> {
        Ok(self
            .meta
            .get(stage.cursor_key())?
            .map(|v| decode_u64(&v))
            .unwrap_or(0))
    }

    /// Up to `limit` stories from the stage's cursor that are due for it.
    fn walk(&self, stage: Stage, cut: &Cutoffs, limit: usize) -> Result<Walked, StoreError> {
        let mut walked = Walked {
            stories: Vec::new(),
            next_cursor: None,
            more: false,
        };
        for entry in self.stories.range(keys::id(self.cursor(stage)?)..) {
            if walked.stories.len() >= limit {
                walked.more = true;
                break;
            }
            let (key, value) = entry?;
            let Some(id) = keys::decode_id(&key) else {
                continue;
            };
            let Ok(StoryTimes { first_seen, .. }) = serde_json::from_slice::<StoryTimes>(&value)
            else {
                // What cannot be read is kept (the check reports it); the walk goes on.
                walked.next_cursor = Some(id + 1);
                continue;
            };
            let fate = cut.story(first_seen, false);
            let due = match stage {
                Stage::Signature => fate.drop_signature,
                Stage::Identity => fate.drop_identity,
                Stage::Text => fate.drop_text,
                Stage::Stories => fate.remove,
            };
            if !due {
                break;
            }
            walked.next_cursor = Some(id + 1);
            if let Ok(story) = decode_story(&value) {
                walked.stories.push((story, value.len()));
            }
        }
        Ok(walked)
    }

    /// Counts what a stage would remove, without writing.
    fn stage_dry(
        &self,
        stage: Stage,
        cut: &Cutoffs,
        report: &mut PruneReport,
    ) -> Result<(), StoreError> {
        let walked = self.walk(stage, cut, usize::MAX)?;
        for (story, size) in &walked.stories {
            match stage {
                Stage::Signature => {
                    if self.signatures.contains_key(keys::id(story.id))? {
                        report.signatures += 1;
                    }
                }
                Stage::Identity => report.identities += 1,
                Stage::Text => {
                    if let Some(stripped) = stripped(story)? {
                        report.texts += 1;
                        report.text_bytes += (*size - stripped.len()) as u64;
                    }
                }
                Stage::Stories => {
                    if self.is_cited(story.id)? {
                        report.cited_kept += 1;
                    } else {
                        report.stories += 1;
                    }
                }
            }
        }
        Ok(())
    }

    /// One batch of a stage, under the writer lock. Returns whether more may be due.
    fn stage_batch(
        &self,
        stage: Stage,
        cut: &Cutoffs,
        batch: usize,
        report: &mut PruneReport,
        newest_identity: &mut Option<DateTime<Utc>>,
    ) -> Result<bool, StoreError> {
        let mut log = self.writer.lock().unwrap_or_else(|p| p.into_inner());
        let walked = self.walk(stage, cut, batch)?;
        let Some(next_cursor) = walked.next_cursor else {
            return Ok(false);
        };
        let mut removed_keys = false;
        match stage {
            Stage::Signature => {
                // Past the horizon, no look reads them: not a dedup write.
                let mut writes = sled::Batch::default();
                for (story, _) in &walked.stories {
                    if self.signatures.contains_key(keys::id(story.id))? {
                        report.signatures += 1;
                        writes.remove(&keys::id(story.id));
                    }
                }
                self.signatures.apply_batch(writes)?;
            }
            Stage::Identity => {
                let hashes: Vec<[u8; 32]> = walked
                    .stories
                    .iter()
                    .map(|(s, _)| content_hash(s))
                    .collect();
                let n = (
                    &self.idx_guid,
                    &self.idx_url,
                    &self.idx_hash,
                    &self.signatures,
                )
                    .transaction(|(guid, url, hash, sigs)| {
                        let mut n = 0;
                        for ((story, _), h) in walked.stories.iter().zip(&hashes) {
                            n += remove_identity(guid, url, hash, story, h)?;
                            n += u64::from(sigs.remove(&keys::id(story.id))?.is_some());
                        }
                        Ok(n)
                    })?;
                report.identities += walked.stories.len() as u64;
                report.identity_keys += n;
                removed_keys = true;
                for (story, _) in &walked.stories {
                    *newest_identity =
                        Some(newest_identity.map_or(story.published, |t| t.max(story.published)));
                }
            }
            Stage::Text => {
                let mut writes = sled::Batch::default();
                for (story, size) in &walked.stories {
                    if let Some(record) = stripped(story)? {
                        report.texts += 1;
                        report.text_bytes += (*size - record.len()) as u64;
                        writes.insert(&keys::id(story.id), record);
                    }
                }
                self.stories.apply_batch(writes)?;
            }
            Stage::Stories => {
                let mut gone = Vec::new();
                for (story, _) in &walked.stories {
                    if self.is_cited(story.id)? {
                        report.cited_kept += 1;
                    } else {
                        gone.push((story, content_hash(story)));
                    }
                }
                let removed = self.remove_stories(&gone)?;
                self.counts.stories.add(-(removed as i64));
                report.stories += removed;
                removed_keys = removed > 0;
            }
        }
        if removed_keys {
            let write = self.dedup_writes.fetch_add(1, Ordering::Release) + 1;
            log.forget_through(write);
        }
        self.meta
            .insert(stage.cursor_key(), &next_cursor.to_be_bytes())?;
        report.batches += 1;
        Ok(walked.more)
    }

    /// Removes stories whole, in one transaction. Returns how many left the time index.
    fn remove_stories(&self, gone: &[(&Story, [u8; 32])]) -> Result<u64, StoreError> {
        if gone.is_empty() {
            return Ok(0);
        }
        let trees = (
            &self.stories,
            &self.idx_time,
            &self.idx_feed,
            &self.idx_guid,
            &self.idx_url,
            &self.idx_hash,
            &self.signatures,
            &self.feed_counts,
        );
        let removed = trees.transaction(
            |(stories, idx_time, idx_feed, guid, url, hash, sigs, feed_counts)| -> TxResult<u64> {
                let mut removed = 0;
                for (story, h) in gone {
                    let idb = keys::id(story.id);
                    remove_identity(guid, url, hash, story, h)?;
                    sigs.remove(&idb)?;
                    stories.remove(&idb)?;
                    removed += u64::from(
                        idx_time
                            .remove(keys::by_time(story.published, story.id))?
                            .is_some(),
                    );
                    let mut feeds: Vec<&str> =
                        story.sources.iter().map(|s| s.feed.as_str()).collect();
                    feeds.push(&story.feed);
                    feeds.sort_unstable();
                    feeds.dedup();
                    for feed in feeds {
                        let key = keys::by_feed(feed, story.published, story.id);
                        if idx_feed.remove(key)?.is_some() {
                            let n = feed_counts
                                .get(feed.as_bytes())?
                                .map(|v| decode_u64(&v))
                                .unwrap_or(0);
                            if n <= 1 {
                                feed_counts.remove(feed.as_bytes())?;
                            } else {
                                feed_counts.insert(feed.as_bytes(), &(n - 1).to_be_bytes())?;
                            }
                        }
                    }
                }
                Ok(removed)
            },
        )?;
        Ok(removed)
    }

    /// Events due for removal, oldest update first, at most `limit`.
    fn due_events(&self, cut: &Cutoffs, limit: usize) -> Result<Vec<Event>, StoreError> {
        let mut out = Vec::new();
        if cut.events.is_none() {
            return Ok(out);
        }
        for entry in self.events.iter() {
            let (key, value) = entry?;
            let event: Event =
                serde_json::from_slice(&value).map_err(|source| StoreError::Decode {
                    tree: "events",
                    key: keys::decode_id(&key).unwrap_or_default().to_string(),
                    source,
                })?;
            if cut.event(event.updated) {
                out.push(event);
                if out.len() >= limit {
                    break;
                }
            }
        }
        Ok(out)
    }

    fn events_batch(
        &self,
        cut: &Cutoffs,
        batch: usize,
        report: &mut PruneReport,
    ) -> Result<bool, StoreError> {
        let _writer = self.writer.lock().unwrap_or_else(|p| p.into_inner());
        let due = self.due_events(cut, batch)?;
        if due.is_empty() {
            return Ok(false);
        }
        let trees = (
            &self.events,
            &self.idx_event_time,
            &self.idx_event_type,
            &self.idx_event_country,
            &self.idx_event_key,
            &self.idx_event_story,
        );
        let removed = trees.transaction(|(ev, time, typ, country, key, story)| {
            let t = EventTrees {
                events: ev,
                idx_event_time: time,
                idx_event_type: typ,
                idx_event_country: country,
                idx_event_key: key,
                idx_event_story: story,
            };
            let mut removed = 0u64;
            for event in &due {
                removed += u64::from(events::remove_event(&t, event)?);
            }
            Ok(removed)
        })?;
        self.counts.events.add(-(removed as i64));
        report.events += removed;
        report.batches += 1;
        // The stories those events cited, now cited by none, go if they are old enough
        // (the stories stage passed them over while they were cited).
        let mut freed: Vec<StoryId> = due
            .iter()
            .flat_map(|e| e.sources.iter().map(|s| s.story))
            .collect();
        freed.sort_unstable();
        freed.dedup();
        let mut uncited = Vec::new();
        for id in freed {
            if self.is_cited(id)? {
                continue;
            }
            if let Some(story) = self.story(id)? {
                if cut.story(story.first_seen, false).remove {
                    uncited.push(story);
                }
            }
        }
        let gone: Vec<(&Story, [u8; 32])> = uncited.iter().map(|s| (s, content_hash(s))).collect();
        let removed = self.remove_stories(&gone)?;
        self.counts.stories.add(-(removed as i64));
        report.stories += removed;
        Ok(due.len() >= batch)
    }

    /// Dead alerts due for removal, oldest first, at most `limit`: (index key, alert id).
    fn due_dead_alerts(
        &self,
        cut: &Cutoffs,
        limit: usize,
    ) -> Result<Vec<(sled::IVec, u64)>, StoreError> {
        let Some(before) = cut.dead_alerts else {
            return Ok(Vec::new());
        };
        let mut out = Vec::new();
        for entry in self
            .idx_alert_dead
            .range(..=keys::by_time(before, u64::MAX))
        {
            let (key, _) = entry?;
            if let Some(id) = keys::decode_id(&key) {
                out.push((key, id));
            }
            if out.len() >= limit {
                break;
            }
        }
        Ok(out)
    }

    fn dead_alerts_batch(
        &self,
        cut: &Cutoffs,
        batch: usize,
        report: &mut PruneReport,
    ) -> Result<bool, StoreError> {
        let due = self.due_dead_alerts(cut, batch)?;
        if due.is_empty() {
            return Ok(false);
        }
        let removed = (&self.alerts, &self.idx_alert_dead).transaction(|(alerts, dead)| {
            let mut removed = 0u64;
            for (key, id) in &due {
                if dead.remove(key)?.is_none() {
                    continue;
                }
                removed += 1;
                // A replayed alert is pending again: only a dead one goes.
                let still_dead = alerts
                    .get(keys::id(*id))?
                    .and_then(|v| serde_json::from_slice::<Alert>(&v).ok())
                    .is_some_and(|a| a.dead.is_some());
                if still_dead {
                    alerts.remove(&keys::id(*id))?;
                }
            }
            Ok(removed)
        })?;
        self.counts.dead.add(-(removed as i64));
        report.dead_alerts += removed;
        report.batches += 1;
        Ok(due.len() >= batch)
    }

    /// Rebuilds the in-memory near-duplicate index if stories whose signatures went may
    /// still be in it (only when `story_identity` is shorter than its horizon).
    fn refresh_recent(&self, newest_pruned: DateTime<Utc>) -> Result<(), StoreError> {
        let Some(recent) = self.recent.get() else {
            return Ok(());
        };
        let horizon = recent.read().unwrap_or_else(|p| p.into_inner()).horizon();
        if horizon.is_some_and(|h| newest_pruned < h) {
            return Ok(());
        }
        let _writer = self.writer.lock().unwrap_or_else(|p| p.into_inner());
        let built = self.load_recent_bands()?;
        *recent.write().unwrap_or_else(|p| p.into_inner()) = built;
        Ok(())
    }
}

/// The record of `story` without its text and revisions, if it has any.
fn stripped(story: &Story) -> Result<Option<Vec<u8>>, StoreError> {
    if story.text.is_empty() && story.revisions.is_empty() {
        return Ok(None);
    }
    let mut s = story.clone();
    s.text.clear();
    s.revisions.clear();
    encode_story(&s).map(Some)
}

/// The content key a story was indexed under: that of the title and text it was first
/// stored with.
pub(super) fn content_hash(story: &Story) -> [u8; 32] {
    let (title, text) = match story.revisions.first() {
        Some(first) => (&first.title, &first.text),
        None => (&story.title, &story.text),
    };
    let c = Candidate {
        feed: story.feed.clone(),
        guid: String::new(),
        guid_derived: false,
        url: None,
        raw_url: None,
        title: title.clone(),
        text: text.clone(),
        published: None,
        language: None,
        seen_at: story.first_seen,
    };
    Fingerprint::of(&c).content_hash
}

/// Removes the GUID, URL and content keys that still lead to `story`. Returns how many.
fn remove_identity(
    guid: &TransactionalTree,
    url: &TransactionalTree,
    hash: &TransactionalTree,
    story: &Story,
    content: &[u8; 32],
) -> TxResult<u64> {
    let idb = keys::id(story.id);
    let ours = |tree: &TransactionalTree, key: &[u8]| -> TxResult<u64> {
        if tree.get(key)?.is_some_and(|v| v.as_ref() == idb) {
            tree.remove(key)?;
            return Ok(1);
        }
        Ok(0)
    };
    let mut n = 0;
    for s in &story.sources {
        n += ours(guid, &keys::guid(&s.feed, &s.guid))?;
        if let Some(u) = &s.url {
            n += ours(url, u.as_bytes())?;
        }
    }
    if let Some(u) = &story.url {
        n += ours(url, u.as_bytes())?;
    }
    n += ours(hash, content)?;
    Ok(n)
}

#[cfg(test)]
mod tests {
    use chrono::{DateTime, Utc};

    use super::*;
    use crate::config::RetentionSettings;
    use crate::dedup::DedupIndex;
    use crate::model::{IngestOutcome, Modality};
    use crate::store::test_support::{every_change, long_cand, meeting, meeting_story, reopen};
    use crate::store::{IngestHooks, StoryQuery};

    fn t(s: &str) -> DateTime<Utc> {
        s.parse().unwrap()
    }

    fn retention(identity: &str, text: &str, stories: &str) -> RetentionSettings {
        let d = |s: &str| Some(humantime::parse_duration(s).unwrap());
        RetentionSettings {
            story_identity: d(identity),
            story_text: d(text),
            stories: d(stories),
            events: None,
            dead_alerts: d("30d"),
            ..RetentionSettings::default()
        }
    }

    /// A story first seen at `seen`.
    fn seen(store: &SledStore, guid: &str, title: &str, at: &str) -> StoryId {
        let mut c = long_cand(guid, title);
        c.seen_at = t(at);
        c.published = Some(t(at));
        match store.ingest(&c).unwrap() {
            IngestOutcome::New(id) => id,
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn stories_lose_identity_then_text_then_go_and_cited_ones_stay_with_title_and_url() {
        let dir = tempfile::tempdir().unwrap();
        let store = SledStore::open(dir.path()).unwrap();
        // Stories come in the order they are first seen, as polls bring them.
        let old = seen(&store, "1", "Trade talks", "2026-01-01T00:00:00Z");
        // An old story an event cites.
        let detect = |_: &Story| vec![meeting(Modality::Occurred)];
        let hooks = IngestHooks {
            detect: &detect,
            route: &|c, _| every_change(c, &["desk"]),
        };
        let mut m = meeting_story("m1", "Leaders meet", "2026-01-02T00:00:00Z");
        m.text = long_cand("3", "Port strike").text;
        let ingested = store.ingest_detecting(&m, &hooks).unwrap();
        let IngestOutcome::New(cited) = ingested.outcome else {
            panic!("{ingested:?}")
        };
        let event = ingested.events[0].id();
        let middle = seen(&store, "2", "Budget vote", "2026-11-20T00:00:00Z");
        let young = seen(&store, "4", "Port strike", "2026-12-30T00:00:00Z");
        assert!(store.check().unwrap().is_ok());

        let cut = Cutoffs::at(&retention("30d", "90d", "180d"), t("2026-12-31T00:00:00Z"));
        let dry = store.prune(&cut, 1, true).unwrap();
        assert_eq!(
            (
                dry.identities,
                dry.texts,
                dry.stories,
                dry.cited_kept,
                dry.batches
            ),
            (3, 2, 1, 1, 0),
            "{dry:?}"
        );
        assert_eq!(store.story_count(), 4, "a dry run writes nothing");

        let report = store.prune(&cut, 1, false).unwrap();
        assert_eq!(
            (
                report.identities,
                report.texts,
                report.stories,
                report.cited_kept
            ),
            (3, 2, 1, 1),
            "{report:?}"
        );
        assert!(report.identity_keys >= 3 * 3, "{report:?}");
        let check = store.check().unwrap();
        assert!(check.is_ok(), "{check:?}");
        assert_eq!(store.story_count(), 3);
        assert!(store.story(old).unwrap().is_none());
        let kept = store.story(cited).unwrap().expect("an event cites it");
        assert_eq!(kept.title, "Leaders meet");
        assert_eq!(kept.url.as_deref(), Some("https://news.example/m1"));
        assert!(kept.text.is_empty() && kept.revisions.is_empty());
        let e = store.event(event).unwrap().expect("the event stays");
        assert_eq!(e.sources[0].evidence.sentence, "s", "with its evidence");
        let mid = store.story(middle).unwrap().unwrap();
        assert!(!mid.text.is_empty(), "not yet 90 days old");
        assert_eq!(
            store.story_by_guid("a", "2").unwrap(),
            None,
            "identity gone"
        );
        assert_eq!(store.signature(middle).unwrap(), None);
        assert_eq!(store.story_by_guid("a", "4").unwrap(), Some(young));
        assert_eq!(store.feed_story_count("a").unwrap(), 2);
        assert_eq!(store.feed_story_count("wire").unwrap(), 1);
        // An item seen again after its identity went is a new story.
        let mut again = long_cand("2", "Budget vote");
        again.seen_at = t("2026-12-31T00:00:00Z");
        assert!(matches!(
            store.ingest(&again).unwrap(),
            IngestOutcome::New(_)
        ));
        // A second prune finds nothing more; the cursors remember where it stopped.
        let twice = store.prune(&cut, 1, false).unwrap();
        assert!(twice.is_empty(), "{twice:?}");
        drop(store);
        let store = reopen(dir.path()).unwrap();
        assert!(store.check().unwrap().is_ok());
        assert_eq!(store.story_count(), 4);
        let titles: Vec<String> = store
            .stories(&StoryQuery::default())
            .unwrap()
            .into_iter()
            .map(|s| s.title)
            .collect();
        assert_eq!(
            titles,
            ["Port strike", "Budget vote", "Leaders meet", "Budget vote"],
            "newest published first (the item seen again keeps its 2023 date)"
        );
    }

    #[test]
    fn events_go_after_their_period_and_free_the_stories_they_cited() {
        let dir = tempfile::tempdir().unwrap();
        let store = SledStore::open(dir.path()).unwrap();
        let detect = |_: &Story| vec![meeting(Modality::Occurred)];
        let hooks = IngestHooks {
            detect: &detect,
            route: &|_, _| None,
        };
        let m = meeting_story("m1", "Leaders meet", "2026-01-02T00:00:00Z");
        let IngestOutcome::New(story) = store.ingest_detecting(&m, &hooks).unwrap().outcome else {
            panic!()
        };
        let mut settings = retention("30d", "90d", "180d");
        let now = t("2026-12-31T00:00:00Z");
        // Events forever: the cited story stays.
        store
            .prune(&Cutoffs::at(&settings, now), 10, false)
            .unwrap();
        assert!(store.story(story).unwrap().is_some());
        assert_eq!(store.event_count(), 1);
        // The event was updated when it was detected (now, in real time): a period of
        // zero age does not reach it; a cutoff after it does.
        settings.events = Some(std::time::Duration::from_secs(1));
        let later = Utc::now() + chrono::Duration::days(1);
        let report = store
            .prune(&Cutoffs::at(&settings, later), 10, false)
            .unwrap();
        assert_eq!((report.events, report.stories), (1, 1), "{report:?}");
        assert_eq!(store.event_count(), 0);
        assert_eq!(store.story_count(), 0);
        assert!(
            store.check().unwrap().is_ok(),
            "{:?}",
            store.check().unwrap()
        );
    }
}
