//! Retention in PostgreSQL (`TIDINGS_TEST_DATABASE_URL`, which `.ci/run` sets): the
//! same policy as sled's (`store::retention::Cutoffs`), executed in batches. Stories
//! lose their dedup keys, then their text, then go unless an event cites them; events
//! keep their evidence; a dry run counts what a prune then removes.

mod common;

use std::time::Duration;

use chrono::{DateTime, Utc};
use common::pg::database_or_skip;
use tidings::config::RetentionSettings;
use tidings::detect::Detector;
use tidings::model::{AlertReason, Candidate, Event, EventChange, IngestOutcome, Story};
use tidings::poll::detect_story;
use tidings::store::postgres::PgStore;
use tidings::store::retention::Cutoffs;
use tidings::store::{EventQuery, IngestHooks, StoryQuery};

fn story(n: usize, text: &str, seen_at: DateTime<Utc>) -> Candidate {
    Candidate {
        feed: "wire".into(),
        guid: format!("wire-{n}"),
        guid_derived: false,
        url: Some(format!("https://wire.example/{n}")),
        raw_url: None,
        title: format!("Story {n}"),
        text: text.to_string(),
        published: Some(seen_at),
        language: Some("en".into()),
        seen_at,
    }
}

fn route_new(change: &EventChange, _: &Event) -> Option<(AlertReason, Vec<String>)> {
    matches!(change, EventChange::New(_)).then(|| (AlertReason::New, vec!["desk".to_string()]))
}

#[test]
fn old_stories_lose_keys_then_text_then_go_unless_an_event_cites_them() {
    let Some(db) = database_or_skip("pg_retention") else {
        return;
    };
    let store = PgStore::connect(&db.url, 2).unwrap();
    let detector = Detector::embedded().unwrap();
    let detect = |s: &Story| detect_story(&detector, s);
    let hooks = IngestHooks {
        detect: &detect,
        route: &route_new,
    };
    let long_ago = Utc::now() - chrono::Duration::days(400);
    let mut entries: Vec<Candidate> = (0..25)
        .map(|n| {
            let words: Vec<String> = (0..40).map(|w| format!("plain{n}w{w}")).collect();
            story(n, &words.join(" "), long_ago)
        })
        .collect();
    entries.push(story(
        100,
        "The foreign ministers of France and Germany met in Paris on Tuesday to discuss trade and security.",
        long_ago,
    ));
    let done = store.ingest_batch(&entries, &hooks).unwrap();
    assert!(done
        .iter()
        .all(|d| matches!(d.outcome, IngestOutcome::New(_))));
    let cited_id = match done[25].outcome {
        IngestOutcome::New(id) => id,
        ref other => panic!("{other:?}"),
    };
    assert_eq!(store.event_count().unwrap(), 1, "the meeting is an event");

    // The newsroom defaults, with stories kept a year: all of these are due.
    let settings = RetentionSettings::default();
    let cut = Cutoffs::at(&settings, Utc::now());
    let dry = store.prune(&cut, 10, true).unwrap();
    assert_eq!(
        store.story_count().unwrap(),
        26,
        "a dry run changes nothing"
    );
    let done = store.prune(&cut, 10, false).unwrap();
    assert_eq!((dry.identities, dry.texts), (26, 26));
    assert_eq!((done.identities, done.texts), (26, 26));
    assert_eq!(done.stories, 25, "every story no event cites");
    assert_eq!(dry.stories, done.stories);
    assert_eq!((dry.cited_kept, done.cited_kept), (1, 1));
    assert!(
        done.identity_keys >= 26 * 3,
        "GUID, URL and hash keys: {done:?}"
    );
    assert!(done.text_bytes > 0);
    assert!(done.batches >= 3 + 3 + 3, "batches of 10: {done:?}");

    // The cited story keeps its title and URL; its text went.
    let cited = store.story(cited_id).unwrap().expect("an event cites it");
    assert_eq!(cited.title, "Story 100");
    assert_eq!(cited.url.as_deref(), Some("https://wire.example/100"));
    assert!(cited.text.is_empty() && cited.revisions.is_empty());
    assert_eq!(store.stories(&StoryQuery::default()).unwrap().len(), 1);
    // The event and its evidence stay (events are kept forever by default).
    let events = store.events(&EventQuery::default()).unwrap();
    assert_eq!(events.len(), 1);
    assert!(!events[0].sources[0].evidence.sentence.is_empty());
    // A second prune finds nothing more to do with the old ones.
    let second = store.prune(&cut, 10, false).unwrap();
    assert_eq!((second.identities, second.texts, second.stories), (0, 0, 0));
    // Its keys are gone: the same entry offered again is a new story.
    let again = store.ingest(&entries[25]).unwrap();
    assert!(
        matches!(again, IngestOutcome::New(id) if id != cited_id),
        "{again:?}"
    );
}

#[test]
fn events_and_dead_alerts_go_by_their_own_age() {
    let Some(db) = database_or_skip("pg_retention_events") else {
        return;
    };
    let store = PgStore::connect(&db.url, 2).unwrap();
    let detector = Detector::embedded().unwrap();
    let detect = |s: &Story| detect_story(&detector, s);
    let hooks = IngestHooks {
        detect: &detect,
        route: &route_new,
    };
    let meeting = story(
        1,
        "The foreign ministers of Japan and India met in Tokyo on Tuesday to discuss trade and security.",
        Utc::now(),
    );
    let done = store.ingest_detecting(&meeting, &hooks).unwrap();
    assert_eq!(done.alerts.len(), 1);
    let alert = store
        .claim_due_alerts("d1", Utc::now(), Duration::from_secs(60), 10, &[])
        .unwrap()
        .remove(0);
    store.alert_dead(&alert, "gone".into(), Utc::now()).unwrap();
    let settings = RetentionSettings {
        events: Some(Duration::from_secs(3600)),
        dead_alerts: Some(Duration::from_secs(3600)),
        ..RetentionSettings::default()
    };
    // Now: nothing is old enough.
    let now = store
        .prune(&Cutoffs::at(&settings, Utc::now()), 10, false)
        .unwrap();
    assert_eq!((now.events, now.dead_alerts), (0, 0));
    // Two hours on: the event and the dead alert are past their hour.
    let later = Cutoffs::at(&settings, Utc::now() + chrono::Duration::hours(2));
    let dry = store.prune(&later, 10, true).unwrap();
    let done = store.prune(&later, 10, false).unwrap();
    assert_eq!((dry.events, dry.dead_alerts), (1, 1));
    assert_eq!((done.events, done.dead_alerts), (1, 1));
    assert_eq!(store.event_count().unwrap(), 0);
    assert_eq!(store.outbox_counts().unwrap().dead, 0);
}
