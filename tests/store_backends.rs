//! One behaviour suite for both backends, through the `Store` the rest of the crate
//! uses: a sled store in a temporary directory, and a PostgreSQL database
//! (`TIDINGS_TEST_DATABASE_URL`, which `.ci/run` sets). Each scenario runs against both
//! and must give the same answers.

mod common;

use chrono::{DateTime, Utc};
use common::pg::{database_or_skip, TestDatabase};
use tidings::detect::Detector;
use tidings::model::{
    AlertReason, Candidate, CircuitState, Event, EventChange, FeedState, IngestOutcome, MatchKind,
    SinkCircuit, Story,
};
use tidings::poll::detect_story;
use tidings::store::{AlertState, EventQuery, IngestHooks, Store, StoreError, StoryQuery};

/// Runs `scenario` on a fresh sled store and on a fresh PostgreSQL database.
fn on_both_backends(name: &str, scenario: impl Fn(&Store)) {
    let dir = tempfile::tempdir().unwrap();
    let sled = Store::open(dir.path()).unwrap();
    assert_eq!(sled.backend_name(), "sled");
    scenario(&sled);
    let Some(db): Option<TestDatabase> = database_or_skip(name) else {
        return;
    };
    let pg = Store::connect_postgres(&db.url, 2).unwrap();
    assert_eq!(pg.backend_name(), "postgres");
    scenario(&pg);
}

fn entry(
    feed: &str,
    guid: &str,
    url: &str,
    title: &str,
    text: &str,
    at: DateTime<Utc>,
) -> Candidate {
    Candidate {
        feed: feed.into(),
        guid: guid.into(),
        guid_derived: false,
        url: Some(url.into()),
        raw_url: None,
        title: title.into(),
        text: text.into(),
        published: Some(at),
        language: Some("en".into()),
        seen_at: at,
    }
}

#[test]
fn stories_are_new_unchanged_revised_or_copies_alike_on_both_backends() {
    on_both_backends("backends_stories", |store| {
        let at = Utc::now();
        let body = "Aid convoys reached the northern districts on Monday after weeks of talks between the agencies and local officials over access routes and security guarantees for the drivers.";
        let first = entry(
            "wire",
            "w1",
            "https://wire.example/1",
            "Aid reaches the north",
            body,
            at,
        );
        let IngestOutcome::New(id) = store.ingest(&first).unwrap() else {
            panic!("new")
        };
        assert_eq!(store.ingest(&first).unwrap(), IngestOutcome::Unchanged(id));
        let mut retitled = first.clone();
        retitled.title = "Aid convoys reach the north".into();
        assert_eq!(store.ingest(&retitled).unwrap(), IngestOutcome::Revised(id));
        let by_url = entry(
            "daily",
            "d1",
            "https://wire.example/1",
            "Convoys arrive",
            "Short.",
            at,
        );
        assert_eq!(
            store.ingest(&by_url).unwrap(),
            IngestOutcome::Duplicate(id, MatchKind::Url)
        );
        // The content hash is the first copy's title and text.
        let by_content = entry(
            "other",
            "o1",
            "https://other.example/9",
            "Aid reaches the north",
            body,
            at,
        );
        assert_eq!(
            store.ingest(&by_content).unwrap(),
            IngestOutcome::Duplicate(id, MatchKind::Content)
        );
        let story = store.story(id).unwrap().unwrap();
        assert_eq!(story.title, "Aid convoys reach the north");
        assert_eq!(story.revisions.len(), 1);
        assert_eq!(story.sources.len(), 3);
        assert_eq!(store.story_count().unwrap(), 1);
        assert_eq!(store.feed_story_count("daily").unwrap(), 1);
        let listed = store
            .stories(&StoryQuery {
                feed: Some("other".into()),
                ..Default::default()
            })
            .unwrap();
        assert_eq!(listed.len(), 1);
        assert_eq!(store.story(id + 1000).unwrap(), None);
    });
}

fn route_new(change: &EventChange, _: &Event) -> Option<(AlertReason, Vec<String>)> {
    matches!(change, EventChange::New(_)).then(|| (AlertReason::New, vec!["desk".to_string()]))
}

#[test]
fn events_alerts_feed_states_and_breakers_alike_on_both_backends() {
    let detector = Detector::embedded().unwrap();
    on_both_backends("backends_events", |store| {
        let detect = |s: &Story| detect_story(&detector, s);
        let hooks = IngestHooks {
            detect: &detect,
            route: &route_new,
        };
        let at = Utc::now();
        let one = entry("wire", "m1", "https://wire.example/m1", "Ministers meet", "The foreign ministers of Spain and Portugal met in Madrid on Tuesday to discuss trade and security.", at);
        let two = entry("daily", "m2", "https://daily.example/m2", "Talks in Madrid", "The Spanish foreign minister held talks with his Portuguese counterpart in Madrid on Tuesday, officials said after the meeting.", at);
        let done = store.ingest_batch(&[one, two], &hooks).unwrap();
        assert!(
            matches!(done[0].events[..], [EventChange::New(_)]),
            "{done:?}"
        );
        assert!(
            matches!(done[1].events[..], [EventChange::Corroborated(_)]),
            "{done:?}"
        );
        assert_eq!(store.event_count().unwrap(), 1);
        let events = store
            .events(&EventQuery {
                country: Some("PRT".into()),
                ..Default::default()
            })
            .unwrap();
        assert_eq!(events.len(), 1);
        assert_eq!(events[0].sources.len(), 2);
        // One alert, for the new event; due now.
        let due = store.due_alerts(Utc::now(), 10).unwrap();
        assert_eq!(due.len(), 1);
        let alert = &due[0];
        assert_eq!(store.alert(alert.id).unwrap().as_ref(), Some(alert));
        let dead = store
            .alert_dead(alert, "gave up".into(), Utc::now())
            .unwrap();
        assert_eq!(store.list_alerts(AlertState::Dead, 10).unwrap(), vec![dead]);
        assert!(store.due_alerts(Utc::now(), 10).unwrap().is_empty());
        assert!(store.replay_alert(alert.id, Utc::now()).unwrap());
        let again = store.due_alerts(Utc::now(), 10).unwrap();
        assert_eq!(again.len(), 1);
        assert_eq!(again[0].id, alert.id);
        store.alert_delivered(&again[0]).unwrap();
        let counts = store.outbox_counts().unwrap();
        assert_eq!((counts.pending, counts.dead, counts.delivered), (0, 0, 1));

        let state = FeedState {
            id: "wire".into(),
            consecutive_failures: 1,
            ..Default::default()
        };
        store.put_feed_state(&state).unwrap();
        assert_eq!(store.feed_state("wire").unwrap(), Some(state.clone()));
        assert_eq!(store.feed_states().unwrap(), vec![state]);
        let circuit = SinkCircuit {
            sink: "desk".into(),
            state: CircuitState::Closed,
            failures: 0,
            since: at,
            next_probe: None,
            changes: 2,
            last_error: None,
        };
        store.save_sink_circuit(&circuit).unwrap();
        assert_eq!(store.sink_circuits().unwrap(), vec![circuit]);
        store.flush().unwrap();
    });
}

#[test]
fn what_only_sled_offers_is_a_clear_error_on_postgres() {
    let Some(db) = database_or_skip("backends_unsupported") else {
        return;
    };
    let pg = Store::connect_postgres(&db.url, 1).unwrap();
    let err = pg.check().unwrap_err();
    assert!(matches!(err, StoreError::Unsupported { .. }));
    assert_eq!(
        err.to_string(),
        "store check is not available on the postgres backend"
    );
    assert!(pg.path().is_none());
    assert!(pg.postgres().is_some());
}
