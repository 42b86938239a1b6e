//! How a new story's detections change the events, whatever the backend: for each
//! detection, an event this story already touched, else the nearest stored event of
//! the same type and key whose window it overlaps ([`crate::merge`]), else a new event;
//! and the alerts those changes raise. The backend supplies the stored events and the
//! ids; the decisions are here once.

use chrono::{DateTime, Duration, NaiveDate, Utc};

use crate::detect::Detection;
use crate::merge;
use crate::model::{Alert, AlertId, Event, EventChange, EventId, Story};

use super::outbox::new_alert;
use super::RouteHook;

/// How far back from a detection's span an event's anchor can lie and still match.
pub(crate) const LOOKBACK_DAYS: i64 = merge::PLANNED_HORIZON_DAYS + 2 * merge::WINDOW_DAYS + 31;

/// Events to write with a story: each with the anchor day it was filed under before
/// (`None` for a new event); and what changed.
pub(crate) struct EventPlan {
    pub writes: Vec<(Event, Option<NaiveDate>)>,
    pub changes: Vec<EventChange>,
}

/// The anchor days within which a stored event can be the one `d` reports: the range
/// a backend reads for its type and key, `[from, to)`.
pub(crate) fn anchor_range(d: &Detection, story: &Story) -> (NaiveDate, NaiveDate) {
    let (from, to) = merge::match_span(d.date, d.modality, story.published.date_naive());
    (from - Duration::days(LOOKBACK_DAYS), to + Duration::days(1))
}

/// Of the stored events of `d`'s type and key read for it, the one it belongs to: an
/// overlapping window, the nearest anchor.
pub(crate) fn nearest_stored(
    stored: impl IntoIterator<Item = Event>,
    d: &Detection,
    story: &Story,
) -> Option<Event> {
    let target = merge::anchor(d, story);
    let mut best: Option<Event> = None;
    for event in stored {
        if merge::same_event(&event, d, story)
            && best.as_ref().is_none_or(|b| {
                (event.anchor - target).num_days().abs() < (b.anchor - target).num_days().abs()
            })
        {
            best = Some(event);
        }
    }
    best
}

/// Decides, for each detection, whether it is a new event or joins a stored one.
/// `find_stored` gives the stored event a detection belongs to (see
/// [`nearest_stored`]); `new_id` a fresh event id.
pub(crate) fn plan_events<E>(
    story: &Story,
    detections: &[Detection],
    now: DateTime<Utc>,
    mut find_stored: impl FnMut(&Detection) -> Result<Option<Event>, E>,
    mut new_id: impl FnMut() -> Result<EventId, E>,
) -> Result<EventPlan, E> {
    let mut writes: Vec<(Event, Option<NaiveDate>)> = Vec::new();
    let mut changes: Vec<EventChange> = Vec::new();
    for d in detections {
        // An event already touched by this story comes first, then the store.
        if let Some((event, _)) = writes
            .iter_mut()
            .find(|(e, _)| merge::same_event(e, d, story))
        {
            let change = merge::update(event, d, story, now);
            if !changes.iter().any(|c| c.id() == change.id())
                || matches!(change, EventChange::Updated { .. })
            {
                changes.retain(|c| c.id() != change.id());
                changes.push(change);
            }
            continue;
        }
        if let Some(mut event) = find_stored(d)? {
            let before = event.anchor;
            let change = merge::update(&mut event, d, story, now);
            changes.push(change);
            writes.push((event, Some(before)));
            continue;
        }
        let id = new_id()?;
        let event = merge::new_event(id, d, story, now);
        changes.push(EventChange::New(id));
        writes.push((event, None));
    }
    Ok(EventPlan { writes, changes })
}

/// The alerts to write for the event changes of one story: for each change, one per
/// sink the route hook names, with the reason it gives, each under a new id.
pub(crate) fn plan_alerts<E>(
    plan: &EventPlan,
    route: &RouteHook,
    now: DateTime<Utc>,
    mut new_id: impl FnMut() -> Result<AlertId, E>,
) -> Result<Vec<Alert>, E> {
    let mut out = Vec::new();
    for change in &plan.changes {
        let id = change.id();
        let Some((event, _)) = plan.writes.iter().find(|(e, _)| e.id == id) else {
            continue;
        };
        let Some((reason, sinks)) = route(change, event) else {
            continue;
        };
        for sink in sinks {
            out.push(new_alert(new_id()?, &sink, reason, event, now));
        }
    }
    Ok(out)
}
