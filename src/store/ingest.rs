//! Ingestion: offering candidates to the store ([`SledStore::ingest`],
//! [`SledStore::ingest_detecting`], [`SledStore::ingest_batch`]): the dedup looks, new stories
//! prepared (record, detections, planned events and alerts) and committed in runs, under
//! the writer lock, with the log of recent writes ([`CommitLog`]) that lets the first
//! looks run outside it.
//!
//! - [`commit_log`] — the dedup keys of the latest writes, numbered.
//! - [`write`](mod@write) — the writes themselves: records ahead of their index transaction, the
//!   transaction of a run of new stories, a copy's or an edit's update.

mod commit_log;
mod write;

#[cfg(test)]
mod tests;

pub(super) use commit_log::CommitLog;

use std::sync::atomic::Ordering;

use chrono::Utc;

use super::codec::encode_story;
use super::{event_plan, events, story_changes, SledStore, StoreError};
use crate::dedup::{self, Fingerprint};
use crate::detect::Detection;
use crate::model::{
    AlertId, AlertReason, Candidate, Event, EventChange, IngestOutcome, MatchKind, Story, StoryId,
};

/// What happens to a new story besides storing it. The hooks are `Sync`: a PostgreSQL
/// store runs them on a thread of its own.
pub struct IngestHooks<'a> {
    /// Finds the events in a new story.
    pub detect: &'a (dyn Fn(&Story) -> Vec<Detection> + Sync),
    /// The alerts one change to an event raises, given the event as it will be stored:
    /// why, and the sinks to tell; `None` for none. Asked for every change a new story
    /// makes (new, updated, corroborated); which deserve an alert is alert policy, not
    /// the store's (`alerts::routing`).
    pub route: &'a RouteHook<'a>,
}

/// The route hook of [`IngestHooks`]: the alerts a change to an event raises (why, and
/// the ids of the sinks to tell), if any.
pub type RouteHook<'a> =
    dyn Fn(&EventChange, &Event) -> Option<(AlertReason, Vec<String>)> + Sync + 'a;

impl IngestHooks<'_> {
    /// No detection, no alerts.
    pub const NONE: IngestHooks<'static> = IngestHooks {
        detect: &|_| Vec::new(),
        route: &|_, _| None,
    };
}

/// What ingesting one candidate did.
#[derive(Debug, Clone, PartialEq)]
pub struct Ingested {
    pub outcome: IngestOutcome,
    /// Events created or changed by the detections in a new story.
    pub events: Vec<EventChange>,
    /// Alerts written to the outbox with them.
    pub alerts: Vec<AlertId>,
}

/// A story ready to be written: its record and its detections.
pub(in crate::store) struct NewStory {
    pub(in crate::store) story: Story,
    pub(in crate::store) record: Vec<u8>,
    pub(in crate::store) detections: Vec<Detection>,
}

/// A new story waiting in a run (see [`SledStore::ingest_batch`]), with the event changes
/// and alerts planned for its detections.
struct RunEntry<'c> {
    candidate: &'c Candidate,
    fp: Fingerprint,
    story: Story,
    planned: Option<(events::EventPlan, Vec<crate::model::Alert>)>,
}

impl SledStore {
    /// Offers one candidate: stores it as a new story, or records it on the story it
    /// duplicates. Safe to call from several threads; calls are serialised.
    pub fn ingest(&self, candidate: &Candidate) -> Result<IngestOutcome, StoreError> {
        Ok(self
            .ingest_detecting(candidate, &IngestHooks::NONE)?
            .outcome)
    }

    /// Like [`SledStore::ingest`], and when the candidate is a new story, runs the detector
    /// on it, records the detections as new or updated events, and writes an alert for
    /// each sink that must hear of them — all in the story's transaction.
    pub fn ingest_detecting(
        &self,
        candidate: &Candidate,
        hooks: &IngestHooks,
    ) -> Result<Ingested, StoreError> {
        let mut one = self.ingest_batch(std::slice::from_ref(candidate), hooks)?;
        Ok(one.pop().expect("one result per candidate"))
    }

    /// The alerts to write for the event changes of one story (`store::event_plan`),
    /// each under a new id.
    fn plan_alerts(
        &self,
        plan: &events::EventPlan,
        route: &RouteHook,
    ) -> Result<Vec<crate::model::Alert>, StoreError> {
        event_plan::plan_alerts(plan, route, Utc::now(), || self.generate_id())
    }

    /// A new story from `c`, encoded, with what the detector finds in it.
    pub(in crate::store) fn prepare_new(
        &self,
        c: &Candidate,
        hooks: &IngestHooks,
    ) -> Result<NewStory, StoreError> {
        let id = self.pending.new_id(&self.db, self.id_base)?;
        let story = story_changes::new_story(id, c);
        let record = encode_story(&story)?;
        let detections = (hooks.detect)(&story);
        Ok(NewStory {
            story,
            record,
            detections,
        })
    }

    /// Offers the entries of one poll, in order, and returns what became of each: the
    /// same decisions as [`SledStore::ingest_detecting`] entry by entry, except that
    /// consecutive new stories are indexed together, in one transaction (a transaction
    /// per story was the largest serialised cost of a poll). Such a run is written
    /// before any entry that could be a copy of one of its stories, and holds at most
    /// one story with detections (a second one's merge looks must see the first one's
    /// events), so every decision sees every story before it.
    pub fn ingest_batch(
        &self,
        candidates: &[Candidate],
        hooks: &IngestHooks,
    ) -> Result<Vec<Ingested>, StoreError> {
        let mut written = Vec::new();
        let result = self.ingest_batch_recording(candidates, hooks, &mut written);
        if result.is_err() {
            // The records this batch wrote and did not index will not be: an error
            // stops the batch.
            self.remove_records(self.pending.still_pending(&written));
        }
        result
    }

    /// [`SledStore::ingest_batch`], noting in `written` the id of every record it writes.
    fn ingest_batch_recording(
        &self,
        candidates: &[Candidate],
        hooks: &IngestHooks,
        written: &mut Vec<StoryId>,
    ) -> Result<Vec<Ingested>, StoreError> {
        self.recent_bands()?;
        // A first look at each entry without the writer lock: for those that look new,
        // the story record and its detections are made and the record written here,
        // beside other polls, and the lock is held only for the decisive looks and the
        // index writes. A look is made again under the lock only if a story or copy
        // written since could change its answer (the commit log tells, in memory).
        let writes_before = self.dedup_writes.load(Ordering::Acquire);
        let mut looked = Vec::with_capacity(candidates.len());
        for c in candidates {
            let fp = Fingerprint::of(c);
            let first_look = dedup::find_match(self, c, &fp)?;
            let prepared = match first_look {
                None => Some(self.prepare_and_write_record(c, &fp, hooks, written)?),
                Some(_) => None,
            };
            looked.push((fp, first_look, prepared));
        }
        let mut log = self.writer.lock().unwrap_or_else(|p| p.into_inner());
        let log = &mut *log;
        let mut out = Vec::with_capacity(candidates.len());
        let mut run: Vec<RunEntry> = Vec::new();
        for (c, (fp, first_look, prepared)) in candidates.iter().zip(looked) {
            if run
                .iter()
                .any(|other| dedup::could_match(c, &fp, other.candidate, &other.fp))
            {
                self.write_run(&mut run, log)?;
            }
            let found = if self.dedup_writes.load(Ordering::Acquire) == writes_before
                || !log.may_change(writes_before, c, &fp)
            {
                first_look
            } else {
                dedup::find_match(self, c, &fp)?
            };
            if let (Some(_), Some(unused)) = (found, &prepared) {
                // A copy after all: its record was written for nothing.
                self.remove_records([unused.story.id]);
            }
            out.push(match found {
                None => {
                    let new = match prepared {
                        Some(p) => p,
                        None => self.prepare_and_write_record(c, &fp, hooks, written)?,
                    };
                    let id = new.story.id;
                    let planned = if new.detections.is_empty() {
                        None
                    } else {
                        // Its merge looks must see the events of any story before it.
                        if run.iter().any(|other| other.planned.is_some()) {
                            self.write_run(&mut run, log)?;
                        }
                        let plan = self.plan_events(&new.story, &new.detections)?;
                        let alerts = self.plan_alerts(&plan, hooks.route)?;
                        Some((plan, alerts))
                    };
                    let ingested = Ingested {
                        outcome: IngestOutcome::New(id),
                        events: planned
                            .as_ref()
                            .map(|(plan, _)| plan.changes.clone())
                            .unwrap_or_default(),
                        alerts: planned
                            .as_ref()
                            .map(|(_, alerts)| alerts.iter().map(|a| a.id).collect())
                            .unwrap_or_default(),
                    };
                    run.push(RunEntry {
                        candidate: c,
                        fp,
                        story: new.story,
                        planned,
                    });
                    ingested
                }
                Some((id, MatchKind::Guid)) => Ingested {
                    outcome: self.update_same_copy(id, c)?,
                    events: Vec::new(),
                    alerts: Vec::new(),
                },
                Some((id, kind)) => Ingested {
                    outcome: self.add_source(id, c, &fp, kind, log)?,
                    events: Vec::new(),
                    alerts: Vec::new(),
                },
            });
        }
        self.write_run(&mut run, log)?;
        Ok(out)
    }

    /// A new story from `c` with its detections, its record and signature written (its
    /// id noted in `written` first).
    fn prepare_and_write_record(
        &self,
        c: &Candidate,
        fp: &Fingerprint,
        hooks: &IngestHooks,
        written: &mut Vec<StoryId>,
    ) -> Result<NewStory, StoreError> {
        let new = self.prepare_new(c, hooks)?;
        written.push(new.story.id);
        self.write_records([(&new.story, new.record.as_slice(), fp)])?;
        Ok(new)
    }
}
