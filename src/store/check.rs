//! The consistency check ([`SledStore::check`]): every index entry leads to its record, every
//! record is reachable through its indexes, every story an event cites is there, each
//! alert is in exactly one of the pending and dead lists, and the counters equal the
//! trees. `tidings store check` runs it; it reads everything, so it is an offline tool,
//! not part of every open.

use std::collections::{BTreeMap, HashSet};

use super::codec::decode_u64;
use super::{keys, SledStore, StoreError};
use crate::model::{Alert, Event, Story, StoryId};

/// At most this many problems are described (all are counted).
const DESCRIBED: usize = 50;

/// What [`SledStore::check`] (or the PostgreSQL backend's check,
/// `store/postgres/maintenance.rs`) found.
#[derive(Debug, Default, Clone, PartialEq, Eq, serde::Serialize)]
pub struct CheckReport {
    pub stories: u64,
    pub index_entries: u64,
    pub events: u64,
    pub alerts: u64,
    /// Problems found, in all.
    pub problems: u64,
    /// The first of them, described.
    pub described: Vec<String>,
}

impl CheckReport {
    pub fn is_ok(&self) -> bool {
        self.problems == 0
    }

    pub(super) fn problem(&mut self, what: String) {
        self.problems += 1;
        if self.described.len() < DESCRIBED {
            self.described.push(what);
        }
    }
}

impl SledStore {
    /// Checks records, indexes and counts against each other (see the module docs).
    pub fn check(&self) -> Result<CheckReport, StoreError> {
        let mut r = CheckReport::default();
        let mut stories: BTreeMap<StoryId, Story> = BTreeMap::new();
        for entry in self.stories.iter() {
            let (key, value) = entry?;
            let id = keys::decode_id(&key).unwrap_or_default();
            r.stories += 1;
            match super::codec::decode_story(&value) {
                Ok(story) => {
                    if story.id != id {
                        r.problem(format!(
                            "stories: record at key {id} holds story {}",
                            story.id
                        ));
                    }
                    if !self
                        .idx_time
                        .contains_key(keys::by_time(story.published, id))?
                    {
                        r.problem(format!("stories: story {id} is in no listing (idx_time)"));
                    }
                    stories.insert(id, story);
                }
                Err(e) => r.problem(format!("stories: story {id} does not decode: {e}")),
            }
        }
        for entry in self.idx_time.iter() {
            let (key, _) = entry?;
            r.index_entries += 1;
            let id = keys::decode_id(&key).unwrap_or_default();
            match stories.get(&id) {
                Some(s) if keys::by_time(s.published, id).as_slice() == key.as_ref() => {}
                Some(_) => r.problem(format!("idx_time: entry for story {id} has the wrong time")),
                None => r.problem(format!("idx_time: entry for story {id}, which is missing")),
            }
        }
        let mut per_feed: BTreeMap<Vec<u8>, u64> = BTreeMap::new();
        for entry in self.idx_feed.iter() {
            let (key, _) = entry?;
            r.index_entries += 1;
            let id = keys::decode_id(&key).unwrap_or_default();
            let feed = key
                .iter()
                .position(|b| *b == 0)
                .map(|at| key[..at].to_vec())
                .unwrap_or_default();
            *per_feed.entry(feed.clone()).or_default() += 1;
            let listed = stories.get(&id).is_some_and(|s| {
                s.feed.as_bytes() == feed.as_slice()
                    || s.sources
                        .iter()
                        .any(|c| c.feed.as_bytes() == feed.as_slice())
            });
            if !listed {
                r.problem(format!(
                    "idx_feed: entry of feed {:?} for story {id}, which is missing or not from it",
                    String::from_utf8_lossy(&feed)
                ));
            }
        }
        let mut counted: BTreeMap<Vec<u8>, u64> = BTreeMap::new();
        for entry in self.feed_counts.iter() {
            let (key, value) = entry?;
            counted.insert(key.to_vec(), decode_u64(&value));
        }
        for (feed, n) in &per_feed {
            if counted.get(feed).copied().unwrap_or(0) != *n {
                r.problem(format!(
                    "feed_counts: feed {:?} counts {} stories, its listing has {n}",
                    String::from_utf8_lossy(feed),
                    counted.get(feed).copied().unwrap_or(0)
                ));
            }
        }
        for (feed, n) in &counted {
            if *n > 0 && !per_feed.contains_key(feed) {
                r.problem(format!(
                    "feed_counts: feed {:?} counts {n} stories and lists none",
                    String::from_utf8_lossy(feed)
                ));
            }
        }
        for (name, tree) in [
            ("idx_guid", &self.idx_guid),
            ("idx_url", &self.idx_url),
            ("idx_hash", &self.idx_hash),
        ] {
            for entry in tree.iter() {
                let (_, value) = entry?;
                r.index_entries += 1;
                let id = keys::decode_id(&value).unwrap_or_default();
                if !stories.contains_key(&id) {
                    r.problem(format!(
                        "{name}: a key leads to story {id}, which is missing"
                    ));
                }
            }
        }
        for entry in self.signatures.iter() {
            let (key, _) = entry?;
            r.index_entries += 1;
            let id = keys::decode_id(&key).unwrap_or_default();
            if !stories.contains_key(&id) {
                r.problem(format!(
                    "signatures: signature of story {id}, which is missing"
                ));
            }
        }
        self.check_events(&stories, &mut r)?;
        self.check_alerts(&mut r)?;
        let outbox = self.outbox_counts()?;
        for (what, counted, len) in [
            ("stories", self.story_count(), self.idx_time.len()),
            ("events", self.event_count(), self.events.len()),
            ("pending alerts", outbox.pending, self.idx_alert_due.len()),
            ("dead alerts", outbox.dead, self.idx_alert_dead.len()),
        ] {
            if counted != len {
                r.problem(format!(
                    "counts: {what} counted {counted}, the tree holds {len}"
                ));
            }
        }
        Ok(r)
    }

    fn check_events(
        &self,
        stories: &BTreeMap<StoryId, Story>,
        r: &mut CheckReport,
    ) -> Result<(), StoreError> {
        let mut ids = HashSet::new();
        for entry in self.events.iter() {
            let (key, value) = entry?;
            let id = keys::decode_id(&key).unwrap_or_default();
            r.events += 1;
            let event: Event = match serde_json::from_slice(&value) {
                Ok(e) => e,
                Err(e) => {
                    r.problem(format!("events: event {id} does not decode: {e}"));
                    continue;
                }
            };
            ids.insert(id);
            let mut expected = vec![
                (
                    "idx_event_time",
                    &self.idx_event_time,
                    keys::event_by_day(event.anchor, id),
                ),
                (
                    "idx_event_type",
                    &self.idx_event_type,
                    keys::event_by(&event.event_type, event.anchor, id),
                ),
                (
                    "idx_event_key",
                    &self.idx_event_key,
                    keys::event_key(&event.event_type, &event.key, Some(event.anchor), Some(id)),
                ),
            ];
            for c in &event.countries {
                expected.push((
                    "idx_event_country",
                    &self.idx_event_country,
                    keys::event_by(c, event.anchor, id),
                ));
            }
            for (name, tree, key) in expected {
                if !tree.contains_key(key)? {
                    r.problem(format!("{name}: event {id} has no entry"));
                }
            }
            for source in &event.sources {
                if !stories.contains_key(&source.story) {
                    r.problem(format!(
                        "events: event {id} cites story {}, which is missing",
                        source.story
                    ));
                }
                if !self
                    .idx_event_story
                    .contains_key(keys::story_event(source.story, id))?
                {
                    r.problem(format!(
                        "idx_event_story: event {id} citing story {} has no entry",
                        source.story
                    ));
                }
            }
        }
        for (name, tree) in [
            ("idx_event_time", &self.idx_event_time),
            ("idx_event_type", &self.idx_event_type),
            ("idx_event_country", &self.idx_event_country),
            ("idx_event_key", &self.idx_event_key),
            ("idx_event_story", &self.idx_event_story),
        ] {
            for entry in tree.iter() {
                let (key, _) = entry?;
                r.index_entries += 1;
                let id = keys::decode_id(&key).unwrap_or_default();
                if !ids.contains(&id) {
                    r.problem(format!("{name}: entry for event {id}, which is missing"));
                }
            }
        }
        Ok(())
    }

    fn check_alerts(&self, r: &mut CheckReport) -> Result<(), StoreError> {
        let mut alerts: BTreeMap<u64, Alert> = BTreeMap::new();
        for entry in self.alerts.iter() {
            let (key, value) = entry?;
            let id = keys::decode_id(&key).unwrap_or_default();
            r.alerts += 1;
            match serde_json::from_slice::<Alert>(&value) {
                Ok(a) => {
                    alerts.insert(id, a);
                }
                Err(e) => r.problem(format!("alerts: alert {id} does not decode: {e}")),
            }
        }
        let mut listed: HashSet<u64> = HashSet::new();
        for (name, tree, dead) in [
            ("idx_alert_due", &self.idx_alert_due, false),
            ("idx_alert_dead", &self.idx_alert_dead, true),
        ] {
            for entry in tree.iter() {
                let (key, _) = entry?;
                r.index_entries += 1;
                let id = keys::decode_id(&key).unwrap_or_default();
                match alerts.get(&id) {
                    None => r.problem(format!("{name}: entry for alert {id}, which is missing")),
                    Some(a) if a.dead.is_some() != dead => {
                        r.problem(format!("{name}: alert {id} is listed in the wrong state"))
                    }
                    Some(_) => {
                        if !listed.insert(id) {
                            r.problem(format!("{name}: alert {id} is listed twice"));
                        }
                    }
                }
            }
        }
        for id in alerts.keys() {
            if !listed.contains(id) {
                r.problem(format!("alerts: alert {id} is neither pending nor dead"));
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use crate::model::{IngestOutcome, Modality, Story};
    use crate::store::test_support::{long_cand, meeting, meeting_story};
    use crate::store::{keys, IngestHooks, SledStore};

    #[test]
    fn the_check_finds_what_is_broken_and_names_it() {
        let dir = tempfile::tempdir().unwrap();
        let store = SledStore::open(dir.path()).unwrap();
        let IngestOutcome::New(plain) = store.ingest(&long_cand("1", "Trade talks")).unwrap()
        else {
            panic!("a new story")
        };
        let detect = |_: &Story| vec![meeting(Modality::Occurred)];
        let hooks = IngestHooks {
            detect: &detect,
            route: &|_, _| None,
        };
        let m = meeting_story("m1", "Leaders meet", "2026-01-02T00:00:00Z");
        let ingested = store.ingest_detecting(&m, &hooks).unwrap();
        let IngestOutcome::New(cited) = ingested.outcome else {
            panic!("a new story")
        };
        let event = ingested.events[0].id();
        assert!(store.check().unwrap().is_ok());

        // A listing entry gone, a cited story gone, a count off.
        let story = store.story(plain).unwrap().unwrap();
        store
            .idx_time
            .remove(keys::by_time(story.published, plain))
            .unwrap();
        store.stories.remove(keys::id(cited)).unwrap();
        store.feed_counts.insert("a", &7u64.to_be_bytes()).unwrap();
        let report = store.check().unwrap();
        assert!(!report.is_ok());
        let all = report.described.join("\n");
        for expected in [
            format!("stories: story {plain} is in no listing (idx_time)"),
            format!("idx_time: entry for story {cited}, which is missing"),
            format!("events: event {event} cites story {cited}, which is missing"),
            "feed_counts: feed \"a\" counts 7 stories, its listing has 1".to_string(),
            "counts: stories counted 2, the tree holds 1".to_string(),
        ] {
            assert!(all.contains(&expected), "{expected:?} not in:\n{all}");
        }
        assert_eq!(report.problems as usize, report.described.len());
    }
}
