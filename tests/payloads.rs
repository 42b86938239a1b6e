//! What each sink kind receives for three typical alerts, pinned as snapshots: a new
//! bilateral meeting that occurred, the same meeting announced as an update (planned →
//! occurred), and a planned UN General Assembly vote.
//!
//! Review changes with `cargo insta review` (or `INSTA_UPDATE=always cargo test --test
//! payloads` and read the diff of `tests/snapshots/`).

use chrono::{DateTime, NaiveDate, TimeZone, Utc};
use tidings::alerts::payload::{render, summary};
use tidings::model::DateSpan;
use tidings::model::SinkKind;
use tidings::model::{Alert, AlertReason, Event, EventSource};
use tidings::model::{EventActor, Evidence, Field, Modality};

const SINKS: [SinkKind; 4] = [
    SinkKind::Webhook,
    SinkKind::Slack,
    SinkKind::Discord,
    SinkKind::Ntfy,
];

fn time(day: u32, hour: u32, minute: u32) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2023, 2, day, hour, minute, 0)
        .single()
        .expect("valid time")
}

fn date(day: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(2023, 2, day).expect("valid date")
}

fn evidence(sentence: &str, rule: &str, matched: &[&str]) -> Evidence {
    Evidence {
        resolved_against: None,
        field: Field::Text,
        sentence: sentence.into(),
        start: 0,
        end: sentence.chars().count(),
        rule: rule.into(),
        matched: matched.iter().map(|m| m.to_string()).collect(),
    }
}

fn official(name: &str, country: &str, role: &str, text: &str) -> EventActor {
    EventActor {
        name: Some(name.into()),
        country: Some(country.into()),
        role: Some(role.into()),
        text: text.into(),
    }
}

/// The story that reported the meeting in Moscow.
fn meeting_source() -> EventSource {
    EventSource {
        story: 1207,
        feed: "apnews-world".into(),
        url: Some("https://apnews.com/article/russia-china-wang-yi-putin-moscow".into()),
        title: "Putin hosts China's top diplomat Wang Yi in Moscow".into(),
        published: time(22, 15, 40),
        detected_at: time(22, 15, 47),
        modality: Modality::Occurred,
        date: Some(DateSpan::day(date(22))),
        confidence: 0.92,
        evidence: evidence(
            "Russian President Vladimir Putin received China's most senior diplomat, \
             Wang Yi, at the Kremlin on Wednesday.",
            "bilateral: named + role",
            &["received", "Vladimir Putin", "Wang Yi", "on Wednesday"],
        ),
    }
}

fn meeting_event() -> Event {
    Event {
        id: 17,
        event_type: "bilateral_meeting".into(),
        key: "CHN-RUS".into(),
        countries: vec!["CHN".into(), "RUS".into()],
        organization: None,
        actors: vec![
            official(
                "Wang Yi",
                "CHN",
                "top_diplomat",
                "China's most senior diplomat",
            ),
            official(
                "Vladimir Putin",
                "RUS",
                "head_of_state",
                "Russian President Vladimir Putin",
            ),
        ],
        location: Some("Moscow".into()),
        date: Some(DateSpan::day(date(22))),
        modality: Modality::Occurred,
        confidence: 0.92,
        anchor: date(22),
        first_seen: time(22, 15, 47),
        updated: time(22, 15, 47),
        revisions: 0,
        sources: vec![meeting_source()],
    }
}

fn alert(id: u64, sink: &str, reason: AlertReason, event: Event, created: DateTime<Utc>) -> Alert {
    Alert {
        id,
        sink: sink.into(),
        reason,
        event,
        created,
        since: created,
        attempts: 0,
        next_attempt: created,
        last_attempt: None,
        last_status: None,
        last_error: None,
        dead: None,
    }
}

/// A new meeting between China and Russia that has happened.
fn new_meeting() -> Alert {
    alert(
        42,
        "ops",
        AlertReason::New,
        meeting_event(),
        time(22, 15, 48),
    )
}

/// The same meeting, first reported as planned, now reported as held.
fn meeting_update() -> Alert {
    let mut event = meeting_event();
    let planned = EventSource {
        story: 1150,
        feed: "reuters-world".into(),
        url: Some("https://www.reuters.com/world/china-wang-yi-visit-moscow".into()),
        title: "China's Wang Yi to visit Moscow this week".into(),
        published: time(20, 9, 5),
        detected_at: time(20, 9, 12),
        modality: Modality::Planned,
        date: Some(DateSpan {
            start: date(21),
            end: date(26),
        }),
        confidence: 0.81,
        evidence: evidence(
            "China's top diplomat Wang Yi will travel to Moscow later this week for talks \
             with Russian officials.",
            "bilateral: named + role",
            &["will travel to", "Wang Yi", "later this week"],
        ),
    };
    event.sources.insert(0, planned);
    event.first_seen = time(20, 9, 12);
    event.revisions = 1;
    alert(
        43,
        "ops",
        AlertReason::Updated {
            from: Modality::Planned,
        },
        event,
        time(22, 15, 48),
    )
}

/// A vote the UN General Assembly is expected to hold.
fn planned_un_vote() -> Alert {
    let event = Event {
        id: 18,
        event_type: "un_vote".into(),
        key: "UNGA".into(),
        countries: Vec::new(),
        organization: Some("UNGA".into()),
        actors: Vec::new(),
        location: Some("New York".into()),
        date: Some(DateSpan {
            start: date(23),
            end: date(24),
        }),
        modality: Modality::Planned,
        confidence: 0.77,
        anchor: date(23),
        first_seen: time(21, 18, 2),
        updated: time(21, 18, 2),
        revisions: 0,
        sources: vec![EventSource {
            story: 1188,
            feed: "apnews-world".into(),
            url: Some("https://apnews.com/article/un-general-assembly-ukraine-resolution".into()),
            title: "UN General Assembly to vote on Ukraine resolution".into(),
            published: time(21, 17, 55),
            detected_at: time(21, 18, 2),
            modality: Modality::Planned,
            date: Some(DateSpan {
                start: date(23),
                end: date(24),
            }),
            confidence: 0.77,
            evidence: evidence(
                "The General Assembly is expected to vote later this week on a resolution \
                 calling for peace in Ukraine.",
                "un_vote: organ + vote",
                &["General Assembly", "expected to vote", "later this week"],
            ),
        }],
    };
    alert(44, "ops", AlertReason::New, event, time(21, 18, 3))
}

fn snapshot_all(name: &str, alert: &Alert) {
    for kind in SINKS {
        let body = render(kind, alert, Some("world-events"));
        insta::assert_json_snapshot!(format!("{name}__{}", kind.as_str()), body);
    }
}

#[test]
fn new_meeting_payloads() {
    snapshot_all("new_meeting", &new_meeting());
}

#[test]
fn meeting_update_payloads() {
    snapshot_all("meeting_update", &meeting_update());
}

#[test]
fn planned_un_vote_payloads() {
    snapshot_all("planned_un_vote", &planned_un_vote());
}

#[test]
fn summaries() {
    assert_eq!(
        summary(&new_meeting()),
        "Bilateral meeting, occurred: CHN–RUS — Wang Yi (CHN, top diplomat) and \
         Vladimir Putin (RUS, head of state), Moscow, 2023-02-22"
    );
    assert_eq!(
        summary(&meeting_update()),
        "Bilateral meeting, now occurred (was planned): CHN–RUS — Wang Yi (CHN, top \
         diplomat) and Vladimir Putin (RUS, head of state), Moscow, 2023-02-22"
    );
    assert_eq!(
        summary(&planned_un_vote()),
        "UN vote, planned: UNGA — New York, 2023-02-23 to 2023-02-24"
    );
}

#[test]
fn every_payload_is_a_json_object() {
    for alert in [new_meeting(), meeting_update(), planned_un_vote()] {
        for kind in SINKS {
            assert!(render(kind, &alert, None).is_object(), "{kind:?}");
        }
    }
}
