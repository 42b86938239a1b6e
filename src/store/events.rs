//! Events in the store: merging detections into events (with [`crate::merge`]),
//! writing them with their indexes, and listing them.

use chrono::{NaiveDate, Utc};
use sled::transaction::ConflictableTransactionError;

use super::codec::{read_json, write_json};
use super::event_plan;
use super::stories::newest_first;
use super::tx::{EventTrees, TxResult};
use super::{keys, SledStore, StoreError};
use crate::detect::Detection;
use crate::model::Modality;
use crate::model::{Event, EventId, Story};

/// Filters for [`SledStore::events`].
#[derive(Debug, Clone, Default)]
pub struct EventQuery {
    pub event_type: Option<String>,
    /// ISO alpha-3 code of a participating state.
    pub country: Option<String>,
    /// Only events filed on or after this day.
    pub since: Option<NaiveDate>,
    pub modality: Option<Modality>,
    pub limit: Option<usize>,
}

impl EventQuery {
    /// Whether `event` passes the filters (the limit aside).
    pub fn matches(&self, event: &Event) -> bool {
        self.event_type
            .as_ref()
            .is_none_or(|t| *t == event.event_type)
            && self
                .country
                .as_ref()
                .is_none_or(|c| event.countries.contains(c))
            && self.since.is_none_or(|d| event.anchor >= d)
            && self.modality.is_none_or(|m| m == event.modality)
    }
}

pub(super) use super::event_plan::EventPlan;

impl SledStore {
    /// Decides, for each detection, whether it is a new event or joins a stored one
    /// (`store::event_plan`, over this store's events).
    pub(super) fn plan_events(
        &self,
        story: &Story,
        detections: &[Detection],
    ) -> Result<EventPlan, StoreError> {
        event_plan::plan_events(
            story,
            detections,
            Utc::now(),
            |d| self.find_event_for(d, story),
            || self.generate_id(),
        )
    }

    /// The stored event a detection belongs to, if any: same type and key, overlapping
    /// window, nearest anchor.
    fn find_event_for(&self, d: &Detection, story: &Story) -> Result<Option<Event>, StoreError> {
        let (from, to) = event_plan::anchor_range(d, story);
        let lo = keys::event_key(&d.event_type, &d.key(), Some(from), None);
        let hi = keys::event_key(&d.event_type, &d.key(), Some(to), None);
        let mut stored = Vec::new();
        for entry in self.idx_event_key.range(lo..hi) {
            let (key, _) = entry?;
            let Some(id) = keys::decode_id(&key) else {
                continue;
            };
            stored.extend(self.event(id)?);
        }
        Ok(event_plan::nearest_stored(stored, d, story))
    }

    pub fn event(&self, id: EventId) -> Result<Option<Event>, StoreError> {
        read_json(&self.events, "events", keys::id(id), || id.to_string())
    }

    /// Events newest first (by anchor day), filtered. Reads the narrowest index: the
    /// country's, else the type's, else all.
    pub fn events(&self, q: &EventQuery) -> Result<Vec<Event>, StoreError> {
        let limit = q.limit.unwrap_or(usize::MAX);
        let since = q.since.map(keys::day);
        let (iter, prefix_len) = if let Some(c) = &q.country {
            let p = keys::prefix(c);
            (self.idx_event_country.scan_prefix(&p), p.len())
        } else if let Some(t) = &q.event_type {
            let p = keys::prefix(t);
            (self.idx_event_type.scan_prefix(&p), p.len())
        } else {
            (self.idx_event_time.iter(), 0)
        };
        let since = since.as_ref().map(|d| d.as_slice());
        newest_first(iter, prefix_len, since, limit, |id| {
            Ok(self.event(id)?.filter(|e| {
                q.event_type.as_ref().is_none_or(|t| *t == e.event_type)
                    && q.modality.is_none_or(|m| m == e.modality)
            }))
        })
    }

    /// Number of stored events (counted without a scan: see `counts`).
    pub fn event_count(&self) -> usize {
        self.counts.events.get()
    }
}

/// Writes planned events and moves their index entries when the anchor changed. Returns
/// how many of the events were not stored before.
pub(super) fn write_plan(t: &EventTrees, plan: &EventPlan) -> TxResult<u64> {
    let mut added = 0;
    for (event, before) in &plan.writes {
        if let Some(old) = before {
            if *old != event.anchor {
                remove_indexes(t, event, *old)?;
            }
        }
        let bytes = write_json(event, "events", || event.id.to_string())
            .map_err(ConflictableTransactionError::Abort)?;
        if t.events.insert(&keys::id(event.id), bytes)?.is_none() {
            added += 1;
        }
        t.idx_event_time
            .insert(keys::event_by_day(event.anchor, event.id), &[])?;
        t.idx_event_type.insert(
            keys::event_by(&event.event_type, event.anchor, event.id),
            &[],
        )?;
        for c in &event.countries {
            t.idx_event_country
                .insert(keys::event_by(c, event.anchor, event.id), &[])?;
        }
        t.idx_event_key.insert(
            keys::event_key(
                &event.event_type,
                &event.key,
                Some(event.anchor),
                Some(event.id),
            ),
            &[],
        )?;
        for source in &event.sources {
            t.idx_event_story
                .insert(&keys::story_event(source.story, event.id), &[])?;
        }
    }
    Ok(added)
}

/// Removes an event with all its index entries (pruning). Returns whether it was there.
pub(super) fn remove_event(t: &EventTrees, event: &Event) -> TxResult<bool> {
    remove_indexes(t, event, event.anchor)?;
    for source in &event.sources {
        t.idx_event_story
            .remove(&keys::story_event(source.story, event.id))?;
    }
    Ok(t.events.remove(&keys::id(event.id))?.is_some())
}

impl SledStore {
    /// Whether an event cites story `id`.
    pub(super) fn is_cited(&self, id: crate::model::StoryId) -> Result<bool, StoreError> {
        Ok(self
            .idx_event_story
            .scan_prefix(keys::id(id))
            .next()
            .transpose()?
            .is_some())
    }
}

fn remove_indexes(t: &EventTrees, event: &Event, anchor: NaiveDate) -> TxResult<()> {
    t.idx_event_time
        .remove(keys::event_by_day(anchor, event.id))?;
    t.idx_event_type
        .remove(keys::event_by(&event.event_type, anchor, event.id))?;
    for c in &event.countries {
        t.idx_event_country
            .remove(keys::event_by(c, anchor, event.id))?;
    }
    t.idx_event_key.remove(keys::event_key(
        &event.event_type,
        &event.key,
        Some(anchor),
        Some(event.id),
    ))?;
    Ok(())
}
