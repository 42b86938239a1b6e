//! Export and import: the store as versioned, streaming JSONL — for backups, for moving
//! a store to another machine, and as the way from one backend to another.
//!
//! The first line is a header: `{"format":"tidings-store","version":1,"schema":6,…}`.
//! Every other line is one typed record, externally tagged: `{"feed":FeedState}`,
//! `{"story":{"record":Story,"guids":…,"urls":…,"content_hash":…,"signature":…}}` (a
//! story with the dedup keys that still lead to it, so that pruned identities stay
//! pruned), `{"event":Event}`, `{"alert":Alert}`, `{"circuit":SinkCircuit}` and
//! `{"meta":{…}}` (lifetime counters and where pruning has reached). Records keep their
//! ids; listing and event indexes are rebuilt from the records on import.
//!
//! Import goes into an empty store (unless forced), one record at a time, and sets the
//! id base above every imported id, so new stories, events and alerts never reuse one.
//!
//! The PostgreSQL backend writes and reads the same format with these line types
//! (`store/postgres/maintenance.rs`): `store export` on one backend and `store import`
//! on the other move a store between them.

use std::collections::{BTreeMap, HashMap};
use std::io::{BufRead, Write};
use std::path::Path;

use base64::Engine;
use sled::Transactional;

use super::codec::{decode_u64, encode_story, write_json};
use super::events::{self, EventPlan};
use super::outbox::DELIVERED_KEY;
use super::prune::{content_hash, Stage};
use super::schema::ID_BASE_KEY;
use super::tx::EventTrees;
use super::{keys, SledStore, StoreError, SCHEMA_VERSION};
use crate::model::{Alert, Event, FeedState, SinkCircuit, Story};

/// Version of the export format. Readers refuse a newer one.
pub const EXPORT_FORMAT_VERSION: u32 = 1;
pub(super) const FORMAT_NAME: &str = "tidings-store";

#[derive(serde::Serialize, serde::Deserialize)]
pub(super) struct Header {
    pub(super) format: String,
    pub(super) version: u32,
    pub(super) schema: u32,
    pub(super) exported_at: chrono::DateTime<chrono::Utc>,
}

/// A story with the dedup keys that lead to it.
#[derive(serde::Serialize, serde::Deserialize)]
pub(super) struct StoryLine {
    pub(super) record: Story,
    /// (feed, GUID) pairs.
    #[serde(default)]
    pub(super) guids: Vec<(String, String)>,
    #[serde(default)]
    pub(super) urls: Vec<String>,
    /// Base64 of the SHA-256 content key, if it still leads to the story.
    #[serde(default)]
    pub(super) content_hash: Option<String>,
    /// Base64 of the near-duplicate signature as stored.
    #[serde(default)]
    pub(super) signature: Option<String>,
}

#[derive(serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub(super) enum Line {
    Feed(Box<FeedState>),
    Story(Box<StoryLine>),
    Event(Box<Event>),
    Alert(Box<Alert>),
    Circuit(SinkCircuit),
    Meta(BTreeMap<String, u64>),
}

/// What an export wrote.
#[derive(Debug, Default, Clone, PartialEq, Eq, serde::Serialize)]
pub struct ExportReport {
    pub feeds: u64,
    pub stories: u64,
    pub events: u64,
    pub alerts: u64,
}

/// What an import read.
pub type ImportReport = ExportReport;

pub(super) fn b64() -> base64::engine::GeneralPurpose {
    base64::engine::general_purpose::STANDARD
}

impl SledStore {
    /// Writes the whole store to `out`, one line per record (see the module docs).
    pub fn export(&self, mut out: impl Write) -> Result<ExportReport, StoreError> {
        let io = |source| StoreError::Io {
            what: "writing the export".into(),
            source,
        };
        let mut report = ExportReport::default();
        let line = |value: &dyn erased::Line, out: &mut dyn Write| -> Result<(), StoreError> {
            value.write(out).map_err(io)?;
            out.write_all(b"\n").map_err(io)
        };
        let header = Header {
            format: FORMAT_NAME.into(),
            version: EXPORT_FORMAT_VERSION,
            schema: SCHEMA_VERSION,
            exported_at: chrono::Utc::now(),
        };
        line(&header, &mut out)?;
        for state in self.feed_states()? {
            line(&Line::Feed(Box::new(state)), &mut out)?;
            report.feeds += 1;
        }
        for entry in self.stories.iter() {
            let (key, value) = entry?;
            let story: Story =
                super::codec::decode_story(&value).map_err(|source| StoreError::Decode {
                    tree: "stories",
                    key: keys::decode_id(&key).unwrap_or_default().to_string(),
                    source,
                })?;
            // Records not (yet) indexed are not stories.
            if !self
                .idx_time
                .contains_key(keys::by_time(story.published, story.id))?
            {
                continue;
            }
            let story_line = self.story_line(story)?;
            line(&Line::Story(Box::new(story_line)), &mut out)?;
            report.stories += 1;
        }
        for entry in self.events.iter() {
            let (key, _) = entry?;
            if let Some(Some(event)) = keys::decode_id(&key).map(|id| self.event(id)).transpose()? {
                line(&Line::Event(Box::new(event)), &mut out)?;
                report.events += 1;
            }
        }
        for entry in self.alerts.iter() {
            let (key, _) = entry?;
            if let Some(Some(alert)) = keys::decode_id(&key).map(|id| self.alert(id)).transpose()? {
                line(&Line::Alert(Box::new(alert)), &mut out)?;
                report.alerts += 1;
            }
        }
        for circuit in self.sink_circuits()? {
            line(&Line::Circuit(circuit), &mut out)?;
        }
        let mut meta = BTreeMap::new();
        for key in [DELIVERED_KEY]
            .into_iter()
            .chain(Stage::ALL.iter().map(|s| s.cursor_key()))
        {
            if let Some(v) = self.meta.get(key)? {
                meta.insert(key.to_string(), decode_u64(&v));
            }
        }
        line(&Line::Meta(meta), &mut out)?;
        out.flush().map_err(io)?;
        Ok(report)
    }

    /// A story with the dedup keys that still lead to it.
    fn story_line(&self, story: Story) -> Result<StoryLine, StoreError> {
        let idb = keys::id(story.id);
        let ours = |v: Option<sled::IVec>| v.is_some_and(|v| v.as_ref() == idb);
        let mut guids = Vec::new();
        let mut urls: Vec<String> = Vec::new();
        for s in &story.sources {
            if ours(self.idx_guid.get(keys::guid(&s.feed, &s.guid))?)
                && !guids.contains(&(s.feed.clone(), s.guid.clone()))
            {
                guids.push((s.feed.clone(), s.guid.clone()));
            }
        }
        for u in story
            .sources
            .iter()
            .filter_map(|s| s.url.as_ref())
            .chain(story.url.as_ref())
        {
            if !urls.contains(u) && ours(self.idx_url.get(u.as_bytes())?) {
                urls.push(u.clone());
            }
        }
        let hash = content_hash(&story);
        let content_hash = ours(self.idx_hash.get(hash)?).then(|| b64().encode(hash));
        let signature = self.signatures.get(idb)?.map(|v| b64().encode(v));
        Ok(StoryLine {
            record: story,
            guids,
            urls,
            content_hash,
            signature,
        })
    }

    /// Reads an export into the store at `path` (created if needed), which must hold
    /// no feed, story, event or alert unless `force`.
    pub fn import(
        path: &Path,
        input: impl BufRead,
        force: bool,
    ) -> Result<ImportReport, StoreError> {
        let store = SledStore::open(path)?;
        let empty = store.feeds.is_empty()
            && store.stories.is_empty()
            && store.events.is_empty()
            && store.alerts.is_empty();
        if !empty && !force {
            return Err(StoreError::NotEmpty {
                path: path.to_owned(),
            });
        }
        let report = store.import_lines(input)?;
        store.flush()?;
        Ok(report)
    }

    fn import_lines(&self, input: impl BufRead) -> Result<ImportReport, StoreError> {
        let mut report = ImportReport::default();
        let mut max_id = 0u64;
        let mut max_story = None::<u64>;
        let mut feed_counts: HashMap<String, u64> = HashMap::new();
        let mut header_seen = false;
        for (n, text) in input.lines().enumerate() {
            let line_no = n as u64 + 1;
            let bad = |message: String| StoreError::Import {
                line: line_no,
                message,
            };
            let text = text.map_err(|source| StoreError::Io {
                what: format!("reading the export at line {line_no}"),
                source,
            })?;
            if text.trim().is_empty() {
                continue;
            }
            if !header_seen {
                check_header(&text).map_err(bad)?;
                header_seen = true;
                continue;
            }
            let line: Line = serde_json::from_str(&text).map_err(|e| bad(e.to_string()))?;
            match line {
                Line::Feed(state) => {
                    self.put_feed_state(&state)?;
                    report.feeds += 1;
                }
                Line::Story(s) => {
                    let id = s.record.id;
                    max_id = max_id.max(id);
                    max_story = Some(max_story.map_or(id, |m: u64| m.max(id)));
                    self.import_story(&s, &mut feed_counts)
                        .map_err(|e| bad(format!("story {id}: {e}")))?;
                    report.stories += 1;
                }
                Line::Event(event) => {
                    max_id = max_id.max(event.id);
                    let plan = EventPlan {
                        writes: vec![(*event, None)],
                        changes: Vec::new(),
                    };
                    let trees = (
                        &self.events,
                        &self.idx_event_time,
                        &self.idx_event_type,
                        &self.idx_event_country,
                        &self.idx_event_key,
                        &self.idx_event_story,
                    );
                    trees.transaction(|(ev, time, typ, country, key, story)| {
                        events::write_plan(
                            &EventTrees {
                                events: ev,
                                idx_event_time: time,
                                idx_event_type: typ,
                                idx_event_country: country,
                                idx_event_key: key,
                                idx_event_story: story,
                            },
                            &plan,
                        )
                    })?;
                    report.events += 1;
                }
                Line::Alert(alert) => {
                    max_id = max_id.max(alert.id);
                    let value = write_json(&*alert, "alerts", || alert.id.to_string())?;
                    self.alerts.insert(keys::id(alert.id), value)?;
                    match &alert.dead {
                        Some(dead) => self
                            .idx_alert_dead
                            .insert(keys::by_time(dead.at, alert.id), &[])?,
                        None => self
                            .idx_alert_due
                            .insert(keys::by_time(alert.next_attempt, alert.id), &[])?,
                    };
                    report.alerts += 1;
                }
                Line::Circuit(c) => self.save_sink_circuit(&c)?,
                Line::Meta(meta) => {
                    for (key, value) in meta {
                        let known = key == DELIVERED_KEY
                            || Stage::ALL.iter().any(|s| s.cursor_key() == key);
                        if known {
                            self.meta.insert(key.as_bytes(), &value.to_be_bytes())?;
                        }
                    }
                }
            }
        }
        if !header_seen {
            return Err(StoreError::Import {
                line: 0,
                message: "empty input: not a tidings store export".into(),
            });
        }
        for (feed, n) in feed_counts {
            let before = self
                .feed_counts
                .get(feed.as_bytes())?
                .map(|v| decode_u64(&v))
                .unwrap_or(0);
            self.feed_counts
                .insert(feed.as_bytes(), &(before + n).to_be_bytes())?;
        }
        // New ids go above the imported ones; the sweep's mark above the imported records.
        let base = self.id_base.max(max_id + 1);
        self.meta.insert(ID_BASE_KEY, &base.to_be_bytes())?;
        if let Some(m) = max_story {
            self.pending.advance_to(m + 1);
        }
        Ok(report)
    }

    /// Writes one story: its record, listing entries, the keys it came with, its
    /// signature.
    fn import_story(
        &self,
        s: &StoryLine,
        feed_counts: &mut HashMap<String, u64>,
    ) -> Result<(), String> {
        let story = &s.record;
        let idb = keys::id(story.id);
        let e = |e: sled::Error| e.to_string();
        let record = encode_story(story).map_err(|e| e.to_string())?;
        self.stories.insert(idb, record).map_err(e)?;
        if let Some(sig) = &s.signature {
            let bytes = b64()
                .decode(sig)
                .map_err(|err| format!("signature: {err}"))?;
            self.signatures.insert(idb, bytes).map_err(e)?;
        }
        for (feed, guid) in &s.guids {
            self.idx_guid
                .insert(keys::guid(feed, guid), &idb)
                .map_err(e)?;
        }
        for url in &s.urls {
            self.idx_url.insert(url.as_bytes(), &idb).map_err(e)?;
        }
        if let Some(h) = &s.content_hash {
            let bytes = b64()
                .decode(h)
                .map_err(|err| format!("content_hash: {err}"))?;
            self.idx_hash.insert(bytes, &idb).map_err(e)?;
        }
        let mut feeds: Vec<&str> = story.sources.iter().map(|c| c.feed.as_str()).collect();
        feeds.push(&story.feed);
        feeds.sort_unstable();
        feeds.dedup();
        for feed in feeds {
            let fresh = self
                .idx_feed
                .insert(keys::by_feed(feed, story.published, story.id), &[])
                .map_err(e)?
                .is_none();
            if fresh {
                *feed_counts.entry(feed.to_string()).or_default() += 1;
            }
        }
        // Last: the time-index entry makes the record a story.
        self.idx_time
            .insert(keys::by_time(story.published, story.id), &[])
            .map_err(e)?;
        Ok(())
    }
}

/// Whether `text`, the first line of an input, is the header of an export this tidings
/// reads; if not, what is wrong with it.
pub(super) fn check_header(text: &str) -> Result<(), String> {
    let header: Header = serde_json::from_str(text)
        .map_err(|e| format!("not a tidings store export (no header line): {e}"))?;
    if header.format != FORMAT_NAME {
        return Err(format!(
            "format {:?}, expected {FORMAT_NAME:?}",
            header.format
        ));
    }
    if header.version > EXPORT_FORMAT_VERSION {
        return Err(format!(
            "export format version {} is newer than this tidings reads ({EXPORT_FORMAT_VERSION})",
            header.version
        ));
    }
    Ok(())
}

/// Lines of different types written through one closure.
mod erased {
    pub trait Line {
        fn write(&self, out: &mut dyn std::io::Write) -> std::io::Result<()>;
    }

    impl<T: serde::Serialize> Line for T {
        fn write(&self, out: &mut dyn std::io::Write) -> std::io::Result<()> {
            serde_json::to_writer(out, self).map_err(std::io::Error::other)
        }
    }
}
