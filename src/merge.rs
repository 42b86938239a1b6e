//! The event merger: many stories about one meeting are one event with many sources, and
//! a planned event that later happens is the same event, updated.
//!
//! Merge key: the event type plus its key (the sorted country list, or the organisation).
//! Merge window: a detection joins a stored event of the same type and key when their
//! date spans, each widened by [`WINDOW_DAYS`], overlap. A detection's span is its
//! resolved date, or else its story's publication day; for a planned event with no date,
//! the span reaches [`PLANNED_HORIZON_DAYS`] ahead, since "will visit" may be weeks
//! away. Among several candidates the one with the nearest anchor wins.
//!
//! A planned event that happens earlier than planned (after the plan was first reported,
//! before its date is out) is that plan, fulfilled.
//!
//! Updates: planned → occurred or cancelled, and occurred → cancelled are adopted (with
//! the new date), counted as a revision and reported as [`EventChange::Updated`]; a
//! source that adds nothing new only corroborates.

use chrono::{DateTime, Duration, NaiveDate, Utc};

use crate::detect::Detection;
use crate::model::DateSpan;
use crate::model::Modality;
use crate::model::{Event, EventChange, EventId, EventSource, Story};

/// Slack, in days, on each side of an event's date span when matching.
pub const WINDOW_DAYS: i64 = 3;
/// How far ahead an undated planned event may be matched.
pub const PLANNED_HORIZON_DAYS: i64 = 30;

/// The date span a detection or event covers for matching.
pub fn match_span(
    date: Option<DateSpan>,
    modality: Modality,
    fallback: NaiveDate,
) -> (NaiveDate, NaiveDate) {
    match date {
        Some(d) => (
            d.start - Duration::days(WINDOW_DAYS),
            d.end + Duration::days(WINDOW_DAYS),
        ),
        None if modality == Modality::Planned => (
            fallback - Duration::days(WINDOW_DAYS),
            fallback + Duration::days(PLANNED_HORIZON_DAYS),
        ),
        None => (
            fallback - Duration::days(WINDOW_DAYS),
            fallback + Duration::days(WINDOW_DAYS),
        ),
    }
}

/// The anchor day of a detection in a story.
pub fn anchor(d: &Detection, story: &Story) -> NaiveDate {
    d.date
        .map(|s| s.start)
        .unwrap_or_else(|| story.published.date_naive())
}

/// Whether a stored event and a new detection are the same event.
pub fn same_event(event: &Event, d: &Detection, story: &Story) -> bool {
    if event.event_type != d.event_type || event.key != d.key() {
        return false;
    }
    let first_published = event
        .sources
        .first()
        .map(|s| s.published.date_naive())
        .unwrap_or(event.anchor);
    let a = match_span(event.date, event.modality, first_published);
    let b = match_span(d.date, d.modality, story.published.date_naive());
    if a.0 <= b.1 && b.0 <= a.1 {
        return true;
    }
    // A plan that happened earlier than planned: dated next week, reported done on
    // Wednesday. It happened after the plan was first reported and before its date was
    // out, so it is the plan, fulfilled.
    if event.modality == Modality::Planned && d.modality == Modality::Occurred {
        let happened = anchor(d, story);
        return happened >= first_published - Duration::days(WINDOW_DAYS) && happened <= a.1;
    }
    false
}

/// The source record of a detection.
pub fn source_of(d: &Detection, story: &Story, now: DateTime<Utc>) -> EventSource {
    EventSource {
        story: story.id,
        feed: story.feed.clone(),
        url: story.url.clone(),
        title: story.title.clone(),
        published: story.published,
        detected_at: now,
        modality: d.modality,
        date: d.date,
        confidence: d.confidence,
        evidence: d.evidence.clone(),
    }
}

/// A new event from its first detection.
pub fn new_event(id: EventId, d: &Detection, story: &Story, now: DateTime<Utc>) -> Event {
    Event {
        id,
        event_type: d.event_type.clone(),
        key: d.key(),
        countries: d.countries.clone(),
        organization: d.organization.clone(),
        actors: d.actors.clone(),
        location: d.location.clone(),
        date: d.date,
        modality: d.modality,
        confidence: d.confidence,
        anchor: anchor(d, story),
        first_seen: now,
        updated: now,
        revisions: 0,
        sources: vec![source_of(d, story, now)],
    }
}

/// Folds a detection into a stored event of the same type and key.
pub fn update(event: &mut Event, d: &Detection, story: &Story, now: DateTime<Utc>) -> EventChange {
    let from = event.modality;
    if event
        .sources
        .iter()
        .any(|s| s.story == story.id && s.modality == d.modality)
    {
        return EventChange::Corroborated(event.id);
    }
    event.sources.push(source_of(d, story, now));
    for a in &d.actors {
        let known = event.actors.iter().any(|e| {
            e.country == a.country && (e.name == a.name || a.name.is_none()) && e.role == a.role
        });
        if !known {
            event.actors.push(a.clone());
        }
    }
    if event.location.is_none() {
        event.location = d.location.clone();
    }
    event.confidence = event.confidence.max(d.confidence);
    event.updated = now;
    let advances = matches!(
        (from, d.modality),
        (Modality::Planned, Modality::Occurred)
            | (Modality::Planned, Modality::Cancelled)
            | (Modality::Occurred, Modality::Cancelled)
    );
    let dated = event.date.is_none() && d.date.is_some();
    if advances {
        event.modality = d.modality;
        if d.date.is_some() {
            event.date = d.date;
        }
        if d.location.is_some() {
            event.location = d.location.clone();
        }
    } else if dated {
        event.date = d.date;
    }
    if advances || dated {
        event.anchor = event.date.map(|s| s.start).unwrap_or(event.anchor);
        event.revisions += 1;
        EventChange::Updated { id: event.id, from }
    } else {
        EventChange::Corroborated(event.id)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{Evidence, Field};

    fn story(id: u64, published: &str) -> Story {
        Story {
            id,
            url: None,
            title: format!("story {id}"),
            text: String::new(),
            published: published.parse().unwrap(),
            published_from_feed: true,
            first_seen: published.parse().unwrap(),
            feed: "f".into(),
            language: None,
            sources: Vec::new(),
            revisions: Vec::new(),
        }
    }

    fn detection(modality: Modality, date: Option<&str>) -> Detection {
        Detection {
            event_type: "bilateral_meeting".into(),
            actors: Vec::new(),
            countries: vec!["CHN".into(), "RUS".into()],
            organization: None,
            location: None,
            date: date.map(|d| d.parse().unwrap()),
            modality,
            confidence: 0.8,
            evidence: Evidence {
                resolved_against: None,
                field: Field::Text,
                sentence: "s".into(),
                start: 0,
                end: 1,
                rule: "r".into(),
                matched: Vec::new(),
            },
        }
    }

    #[test]
    fn a_planned_meeting_that_happens_is_the_same_event_updated() {
        let now = Utc::now();
        let s1 = story(1, "2023-02-20T08:00:00Z");
        let mut e = new_event(
            9,
            &detection(Modality::Planned, Some("2023-02-22")),
            &s1,
            now,
        );
        let s2 = story(2, "2023-02-22T18:00:00Z");
        let happened = detection(Modality::Occurred, Some("2023-02-22"));
        assert!(same_event(&e, &happened, &s2));
        assert_eq!(
            update(&mut e, &happened, &s2, now),
            EventChange::Updated {
                id: 9,
                from: Modality::Planned
            }
        );
        assert_eq!(e.modality, Modality::Occurred);
        assert_eq!(e.revisions, 1);
        assert_eq!(e.sources.len(), 2);
        // A third report of the same meeting only corroborates.
        let s3 = story(3, "2023-02-23T08:00:00Z");
        assert_eq!(
            update(&mut e, &detection(Modality::Occurred, None), &s3, now),
            EventChange::Corroborated(9)
        );
        assert_eq!(e.revisions, 1);
    }

    #[test]
    fn meetings_weeks_apart_or_of_other_pairs_are_different_events() {
        let now = Utc::now();
        let e = new_event(
            1,
            &detection(Modality::Occurred, Some("2023-02-22")),
            &story(1, "2023-02-22T12:00:00Z"),
            now,
        );
        assert!(!same_event(
            &e,
            &detection(Modality::Occurred, Some("2023-03-21")),
            &story(2, "2023-03-21T12:00:00Z")
        ));
        let mut other = detection(Modality::Occurred, Some("2023-02-22"));
        other.countries = vec!["CHN".into(), "USA".into()];
        assert!(!same_event(&e, &other, &story(3, "2023-02-22T12:00:00Z")));
    }

    #[test]
    fn a_plan_that_happens_earlier_than_planned_is_the_plan_fulfilled() {
        let now = Utc::now();
        // Reported on the 1st as planned for the 20th, reported on the 9th as done.
        let mut plan = new_event(
            1,
            &detection(Modality::Planned, Some("2023-03-20")),
            &story(1, "2023-03-01T12:00:00Z"),
            now,
        );
        let early = detection(Modality::Occurred, Some("2023-03-09"));
        let s2 = story(2, "2023-03-09T18:00:00Z");
        assert!(same_event(&plan, &early, &s2));
        assert!(matches!(
            update(&mut plan, &early, &s2, now),
            EventChange::Updated { .. }
        ));
        assert_eq!(plan.modality, Modality::Occurred);
        assert_eq!(plan.date, Some("2023-03-09".parse().unwrap()));
        // A meeting of the same pair before the plan was ever reported is another one.
        let plan = new_event(
            2,
            &detection(Modality::Planned, Some("2023-03-20")),
            &story(3, "2023-03-01T12:00:00Z"),
            now,
        );
        assert!(!same_event(
            &plan,
            &detection(Modality::Occurred, Some("2023-02-10")),
            &story(4, "2023-02-10T12:00:00Z")
        ));
    }

    #[test]
    fn an_undated_plan_reaches_weeks_ahead() {
        let now = Utc::now();
        let plan = new_event(
            1,
            &detection(Modality::Planned, None),
            &story(1, "2023-02-22T12:00:00Z"),
            now,
        );
        assert!(same_event(
            &plan,
            &detection(Modality::Occurred, Some("2023-03-15")),
            &story(2, "2023-03-15T12:00:00Z")
        ));
        assert!(!same_event(
            &plan,
            &detection(Modality::Occurred, Some("2023-05-15")),
            &story(3, "2023-05-15T12:00:00Z")
        ));
    }
}
