//! One behaviour suite for both backends, through the `Store` the rest of the crate
//! uses: a sled store in a temporary directory, and a PostgreSQL database
//! (`TIDINGS_TEST_DATABASE_URL`, which `.ci/run` sets). Each scenario runs against both
//! and must give the same answers; where a scenario returns what it read
//! ([`alike_on_both_backends`]), the two backends' answers are also compared.
//!
//! Covered: stories (new, unchanged, revised, copies; listings by feed and time),
//! events and their alerts as the route hook asks, the outbox (delivery, retry, dead
//! letters, replay), feed states and breakers, the web view's reads (day ranges,
//! confidence floor, types, countries, tallies), and the maintenance calls (stats,
//! check, export into a fresh store of the same backend and import there).

mod common;

use std::fmt::Debug;

use chrono::{DateTime, NaiveDate, Utc};
use common::pg::{database_or_skip, TestDatabase};
use tidings::config::RetentionSettings;
use tidings::detect::{Detection, Detector};
use tidings::model::{
    AlertReason, Candidate, CircuitState, Event, EventChange, Evidence, FeedState, Field,
    IngestOutcome, MatchKind, Modality, SinkCircuit, Story,
};
use tidings::poll::detect_story;
use tidings::store::retention::Cutoffs;
use tidings::store::{
    AlertState, EventQuery, ImportReport, IngestHooks, Ingested, OutboxCounts, Store, StoreError,
    StoryQuery,
};

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

/// Runs `scenario` on both backends, as [`on_both_backends`] does, and compares what
/// it returns on each.
fn alike_on_both_backends<T: PartialEq + Debug>(name: &str, scenario: impl Fn(&Store) -> T) {
    let dir = tempfile::tempdir().unwrap();
    let sled = Store::open(dir.path()).unwrap();
    let on_sled = scenario(&sled);
    let Some(db) = database_or_skip(name) else {
        return;
    };
    let pg = Store::connect_postgres(&db.url, 2).unwrap();
    assert_eq!(scenario(&pg), on_sled, "PostgreSQL answers as sled does");
}

/// Where an export goes: a sled directory (imported before it is opened) or a
/// PostgreSQL database (imported into the open database).
enum Target {
    Sled(std::path::PathBuf),
    Postgres(String),
}

impl Target {
    /// Imports `dump`; sled's directory is opened for the import and closed after.
    fn import(&self, dump: &[u8], force: bool) -> Result<ImportReport, StoreError> {
        match self {
            Target::Sled(path) => retry_in_use(|| Store::import(path, dump, force)),
            Target::Postgres(url) => Store::connect_postgres(url, 2)?.import_into(dump, force),
        }
    }

    fn open(&self) -> Store {
        match self {
            Target::Sled(path) => retry_in_use(|| Store::open(path)).unwrap(),
            Target::Postgres(url) => Store::connect_postgres(url, 2).unwrap(),
        }
    }
}

/// sled lets go of a closed store's lock from a background thread, shortly after.
fn retry_in_use<T>(mut f: impl FnMut() -> Result<T, StoreError>) -> Result<T, StoreError> {
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(5);
    loop {
        match f() {
            Err(StoreError::InUse { .. }) if std::time::Instant::now() < deadline => {
                std::thread::sleep(std::time::Duration::from_millis(20))
            }
            other => return other,
        }
    }
}

/// Runs `scenario` with a fresh store and a fresh [`Target`] of one backend, for sled
/// and for PostgreSQL.
fn with_a_target_on_both_backends(name: &str, scenario: impl Fn(&Store, &Target)) {
    let (a, b) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    scenario(
        &Store::open(a.path()).unwrap(),
        &Target::Sled(b.path().join("store")),
    );
    let (Some(one), Some(two)) = (database_or_skip(name), database_or_skip(name)) else {
        return;
    };
    scenario(
        &Store::connect_postgres(&one.url, 2).unwrap(),
        &Target::Postgres(two.url.clone()),
    );
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
fn postgres_has_no_directory_and_offers_its_claims() {
    let Some(db) = database_or_skip("backends_postgres_only") else {
        return;
    };
    let pg = Store::connect_postgres(&db.url, 1).unwrap();
    assert!(pg.path().is_none());
    assert!(pg.postgres().is_some());
    assert!(pg.opening_sweep().removed == 0);
    // Every call of the facade answers on PostgreSQL: the maintenance calls too.
    assert!(pg.check().unwrap().is_ok());
    assert!(!matches!(
        pg.stats(Utc::now()),
        Err(StoreError::Unsupported { .. })
    ));
}

// --- moved from the sled unit tests (store/stories.rs, store/outbox.rs,
// store/web_reads.rs): behaviour, not sled's layout

/// A story as the store's unit tests make them.
fn cand(feed: &str, guid: &str, url: &str, title: &str, published: &str) -> Candidate {
    Candidate {
        feed: feed.into(),
        guid: guid.into(),
        guid_derived: false,
        url: Some(url.into()),
        raw_url: Some(url.into()),
        title: title.into(),
        text: format!("{title} body"),
        published: Some(published.parse().unwrap()),
        language: None,
        seen_at: "2023-02-22T12:00:00Z".parse().unwrap(),
    }
}

#[test]
fn listings_are_newest_first_and_filter_by_feed_and_time_on_both_backends() {
    on_both_backends("backends_listings", |store| {
        for (feed, guid, title, at) in [
            ("a", "1", "One", "2023-02-20T10:00:00Z"),
            ("b", "2", "Two", "2023-02-21T10:00:00Z"),
            ("a", "3", "Three", "2023-02-22T10:00:00Z"),
        ] {
            store
                .ingest(&cand(feed, guid, &format!("https://x/{guid}"), title, at))
                .unwrap();
        }
        let titles = |q: StoryQuery| {
            store
                .stories(&q)
                .unwrap()
                .into_iter()
                .map(|s| s.title)
                .collect::<Vec<_>>()
        };
        assert_eq!(titles(StoryQuery::default()), ["Three", "Two", "One"]);
        let feed_a = || StoryQuery {
            feed: Some("a".into()),
            ..Default::default()
        };
        assert_eq!(titles(feed_a()), ["Three", "One"]);
        assert_eq!(
            titles(StoryQuery {
                since: Some("2023-02-21T00:00:00Z".parse().unwrap()),
                ..Default::default()
            }),
            ["Three", "Two"]
        );
        assert_eq!(
            titles(StoryQuery {
                limit: Some(1),
                ..Default::default()
            }),
            ["Three"]
        );
        // "a" must not match feed "ab".
        store
            .ingest(&cand(
                "ab",
                "4",
                "https://x/4",
                "Four",
                "2023-02-23T10:00:00Z",
            ))
            .unwrap();
        assert_eq!(titles(feed_a()), ["Three", "One"]);
    });
}

/// A story about a meeting, from the wire.
fn meeting_story(guid: &str, title: &str, published: &str) -> Candidate {
    Candidate {
        feed: "wire".into(),
        guid: guid.into(),
        guid_derived: false,
        url: Some(format!("https://news.example/{guid}")),
        raw_url: None,
        title: title.into(),
        text: format!("{title}: a story about a meeting, number {guid}."),
        published: Some(published.parse().unwrap()),
        language: None,
        seen_at: published.parse().unwrap(),
    }
}

/// A detection of `kind` between `countries`, with no date of its own.
fn detection(kind: &str, countries: &[&str], confidence: f32, modality: Modality) -> Detection {
    Detection {
        event_type: kind.into(),
        actors: Vec::new(),
        countries: countries.iter().map(|c| c.to_string()).collect(),
        organization: None,
        location: None,
        date: None,
        modality,
        confidence,
        evidence: Evidence {
            resolved_against: None,
            field: Field::Title,
            sentence: "s".into(),
            start: 0,
            end: 1,
            rule: "r".into(),
            matched: Vec::new(),
        },
    }
}

/// A meeting between China and Russia on 7 March 2023.
fn meeting(modality: Modality) -> Detection {
    Detection {
        date: Some("2023-03-07".parse().unwrap()),
        ..detection("bilateral_meeting", &["CHN", "RUS"], 0.9, modality)
    }
}

/// Alerts for the desk and the phone on every new event and every update.
fn every_change(change: &EventChange, _: &Event) -> Option<(AlertReason, Vec<String>)> {
    let reason = match *change {
        EventChange::New(_) => AlertReason::New,
        EventChange::Updated { from, .. } => AlertReason::Updated { from },
        EventChange::Corroborated(_) => return None,
    };
    Some((reason, vec!["desk".to_string(), "phone".to_string()]))
}

/// Ingests `c` with `detection` found in it, alerting as [`every_change`] says.
fn ingest_with(store: &Store, c: &Candidate, detection: Detection) -> Ingested {
    let detect = move |_: &Story| vec![detection.clone()];
    store
        .ingest_detecting(
            c,
            &IngestHooks {
                detect: &detect,
                route: &every_change,
            },
        )
        .unwrap()
}

#[test]
fn alerts_are_written_with_their_event_as_the_route_hook_asks_on_both_backends() {
    on_both_backends("backends_alerts_written", |store| {
        let planned = ingest_with(
            store,
            &meeting_story("1", "Lavrov to visit Beijing", "2023-03-05T09:00:00Z"),
            meeting(Modality::Planned),
        );
        assert_eq!(planned.alerts.len(), 2, "one alert per sink");
        let pending = store.list_alerts(AlertState::Pending, 10).unwrap();
        assert_eq!(pending.len(), 2);
        assert!(pending.iter().all(|a| a.reason == AlertReason::New));
        assert_eq!(pending[0].event.modality, Modality::Planned);

        // Another report of the plan: corroboration, no alert.
        let again = ingest_with(
            store,
            &meeting_story("2", "Lavrov heads to Beijing", "2023-03-06T09:00:00Z"),
            meeting(Modality::Planned),
        );
        assert!(matches!(again.events[..], [EventChange::Corroborated(_)]));
        assert!(again.alerts.is_empty());

        // The plan happened: an update alert per sink, carrying the new modality.
        let happened = ingest_with(
            store,
            &meeting_story("3", "Lavrov meets Wang", "2023-03-07T15:00:00Z"),
            meeting(Modality::Occurred),
        );
        assert_eq!(happened.alerts.len(), 2);
        let update = store.alert(happened.alerts[0]).unwrap().unwrap();
        assert_eq!(
            update.reason,
            AlertReason::Updated {
                from: Modality::Planned
            }
        );
        assert_eq!(update.event.modality, Modality::Occurred);
        assert_eq!(store.outbox_counts().unwrap().pending, 4);
    });
}

#[test]
fn delivery_retry_dead_letters_and_replay_keep_the_alert_id_on_both_backends() {
    on_both_backends("backends_outbox", |store| {
        let ids = ingest_with(
            store,
            &meeting_story("1", "Lavrov meets Wang", "2023-03-07T15:00:00Z"),
            meeting(Modality::Occurred),
        )
        .alerts;
        let now = Utc::now();
        let due = store.due_alerts(now, 10).unwrap();
        assert_eq!(due.len(), 2);

        // A failed attempt moves the alert's due time; it is not due before then.
        let mut retry = due[0].clone();
        retry.attempts = 1;
        retry.next_attempt = now + chrono::Duration::seconds(60);
        retry.last_error = Some("HTTP 500".into());
        store.alert_retry(&retry, due[0].next_attempt).unwrap();
        assert_eq!(store.due_alerts(now, 10).unwrap().len(), 1);
        // PostgreSQL keeps times to the microsecond.
        let micros = |t: Option<chrono::DateTime<Utc>>| t.map(|t| t.timestamp_micros());
        assert_eq!(
            micros(store.next_claimable_alert(&[]).unwrap()),
            micros(Some(due[1].next_attempt))
        );

        // Claiming passes over a paused sink's alerts and those `keep` refuses.
        let lease = std::time::Duration::from_secs(60);
        let (paused, other) = (due[1].sink.clone(), retry.sink.clone());
        assert!(store
            .claim_due_alerts(now, 10, lease, std::slice::from_ref(&paused), |_| true)
            .unwrap()
            .is_empty());
        assert!(store
            .claim_due_alerts(now, 10, lease, &[], |a| a.sink == other)
            .unwrap()
            .is_empty());
        let claimed = store
            .claim_due_alerts(now, 10, lease, &[], |_| true)
            .unwrap();
        assert_eq!(
            claimed.iter().map(|a| a.id).collect::<Vec<_>>(),
            [due[1].id]
        );
        // The next a claim could take, a paused sink's left out.
        assert_eq!(
            micros(
                store
                    .next_claimable_alert(std::slice::from_ref(&paused))
                    .unwrap()
            ),
            micros(Some(retry.next_attempt))
        );
        assert_eq!(store.next_claimable_alert(&[paused, other]).unwrap(), None);

        // The other is delivered and leaves the outbox.
        store.alert_delivered(&due[1]).unwrap();
        assert!(store.alert(due[1].id).unwrap().is_none());

        // The retried one gives up: dead, not due, listed as dead.
        store.alert_dead(&retry, "gone".into(), now).unwrap();
        assert!(store
            .due_alerts(now + chrono::Duration::hours(1), 10)
            .unwrap()
            .is_empty());
        let dead = store.list_alerts(AlertState::Dead, 10).unwrap();
        assert_eq!(dead.len(), 1);
        assert_eq!(dead[0].dead.as_ref().unwrap().reason, "gone");
        assert_eq!(
            store.outbox_counts().unwrap(),
            OutboxCounts {
                pending: 0,
                dead: 1,
                delivered: 1
            }
        );

        // Replay: pending again, under the same id, with a fresh clock.
        assert!(!store.replay_alert(due[1].id, now).unwrap(), "not dead");
        assert!(store.replay_alert(retry.id, now).unwrap());
        let back = store.due_alerts(now, 10).unwrap();
        assert_eq!(back.len(), 1);
        assert_eq!(back[0].id, retry.id);
        assert!(ids.contains(&back[0].id));
        assert_eq!(back[0].attempts, 0);
        assert!(back[0].dead.is_none());
        assert_eq!(store.outbox_counts().unwrap().dead, 0);
    });
}

/// What the web view reads, with events named by their countries (ids differ between
/// backends).
#[derive(Debug, PartialEq)]
struct WebReads {
    listings: Vec<Vec<String>>,
    types: Vec<String>,
    countries: Vec<String>,
    newest: Option<NaiveDate>,
    tallies: Vec<tidings::store::web_reads::EventTallies>,
}

#[test]
fn the_web_views_reads_are_alike_on_both_backends() {
    let day = |s: &str| s.parse::<NaiveDate>().unwrap();
    alike_on_both_backends("backends_web_reads", |store| {
        assert_eq!(store.newest_event_day().unwrap(), None);
        assert!(store.event_types().unwrap().is_empty());
        for (guid, at, kind, countries, confidence) in [
            (
                "a",
                "2026-01-01T10:00:00Z",
                "meet",
                &["DEU", "FRA"][..],
                0.9,
            ),
            (
                "b",
                "2026-01-05T10:00:00Z",
                "meet",
                &["FRA", "USA"][..],
                0.5,
            ),
            ("c", "2026-01-09T10:00:00Z", "vote", &["CHN"][..], 0.8),
            (
                "d",
                "2026-02-01T10:00:00Z",
                "meet",
                &["DEU", "FRA"][..],
                0.7,
            ),
            // Sorted in bytes, an upper-case type comes first.
            ("e", "2026-01-20T10:00:00Z", "UN_vote", &["ARG"][..], 0.6),
        ] {
            let c = cand(guid, guid, &format!("https://x/{guid}"), guid, at);
            let c = Candidate {
                seen_at: c.published.unwrap(),
                text: format!("text of {guid}"),
                ..c
            };
            ingest_with(
                store,
                &c,
                detection(kind, countries, confidence, Modality::Occurred),
            );
        }
        let names = |q: EventQuery, until, min| {
            store
                .events_between(&q, until, min)
                .unwrap()
                .iter()
                .map(|e| format!("{} {}", e.event_type, e.countries.join("-")))
                .collect::<Vec<_>>()
        };
        let listings = vec![
            names(EventQuery::default(), None, None),
            names(EventQuery::default(), Some(day("2026-01-09")), Some(0.6)),
            names(
                EventQuery {
                    country: Some("FRA".into()),
                    since: Some(day("2026-01-02")),
                    ..Default::default()
                },
                Some(day("2026-01-31")),
                None,
            ),
            names(
                EventQuery {
                    event_type: Some("meet".into()),
                    limit: Some(2),
                    ..Default::default()
                },
                None,
                None,
            ),
            // The limit counts only what passes the floor.
            names(
                EventQuery {
                    limit: Some(2),
                    ..Default::default()
                },
                None,
                Some(0.75),
            ),
            names(
                EventQuery {
                    modality: Some(Modality::Planned),
                    ..Default::default()
                },
                None,
                None,
            ),
        ];
        assert_eq!(
            listings[0],
            [
                "meet DEU-FRA",
                "UN_vote ARG",
                "vote CHN",
                "meet FRA-USA",
                "meet DEU-FRA"
            ]
        );
        assert_eq!(
            listings[1],
            ["vote CHN", "meet DEU-FRA"],
            "until is inclusive; the floor drops 0.5"
        );
        assert_eq!(listings[2], ["meet FRA-USA"]);
        assert_eq!(listings[3], ["meet DEU-FRA", "meet FRA-USA"]);
        assert_eq!(listings[4], ["vote CHN", "meet DEU-FRA"]);
        assert!(listings[5].is_empty());

        let types = store.event_types().unwrap();
        assert_eq!(types, ["UN_vote", "meet", "vote"]);
        let countries = store.event_countries().unwrap();
        assert_eq!(countries, ["ARG", "CHN", "DEU", "FRA", "USA"]);
        let newest = store.newest_event_day().unwrap();
        assert_eq!(newest, Some(day("2026-02-01")));

        let january = store
            .event_tallies(
                Some(day("2026-01-01")),
                Some(day("2026-01-31")),
                Some("meet"),
            )
            .unwrap();
        assert_eq!(january.by_day_and_type.len(), 4);
        assert_eq!(
            january.by_day_and_type[&(day("2026-01-09"), "vote".into())],
            1
        );
        assert_eq!(january.by_country["FRA"], 2);
        assert_eq!(january.by_country.get("DEU"), Some(&1), "February is out");
        assert_eq!(january.by_key[&("meet".into(), "DEU-FRA".into())], 1);
        let everything = store.event_tallies(None, None, Some("meet")).unwrap();
        assert_eq!(everything.by_key[&("meet".into(), "DEU-FRA".into())], 2);
        assert_eq!(everything.by_country["FRA"], 3);
        assert_eq!(everything.by_day_and_type.values().sum::<u64>(), 5);
        let no_keys = store.event_tallies(None, None, None).unwrap();
        assert!(no_keys.by_key.is_empty());
        let from_only = store
            .event_tallies(Some(day("2026-01-10")), None, Some("vote"))
            .unwrap();
        assert!(from_only.by_key.is_empty(), "the vote was on the 9th");
        WebReads {
            listings,
            types,
            countries,
            newest,
            tallies: vec![january, everything, no_keys, from_only],
        }
    });
}

// --- maintenance: stats, check, export and import

/// A store with two stories, one copy, an event cited by one of them, two alerts (one
/// dead), a feed state and a breaker.
fn filled(store: &Store) {
    let at: DateTime<Utc> = "2023-03-07T15:00:00Z".parse().unwrap();
    ingest_with(
        store,
        &meeting_story("1", "Lavrov meets Wang", "2023-03-07T15:00:00Z"),
        meeting(Modality::Occurred),
    );
    store
        .ingest(&cand(
            "b",
            "2",
            "https://x/2",
            "Two",
            "2023-03-06T10:00:00Z",
        ))
        .unwrap();
    store
        .ingest(&cand(
            "c",
            "9",
            "https://x/2",
            "Two again",
            "2023-03-06T11:00:00Z",
        ))
        .unwrap();
    let due = store.due_alerts(Utc::now(), 10).unwrap();
    store
        .alert_dead(&due[0], "gone".into(), Utc::now())
        .unwrap();
    store
        .put_feed_state(&FeedState {
            id: "wire".into(),
            consecutive_failures: 2,
            ..Default::default()
        })
        .unwrap();
    store
        .save_sink_circuit(&SinkCircuit {
            sink: "desk".into(),
            state: CircuitState::Open,
            failures: 3,
            since: at,
            next_probe: Some(at),
            changes: 1,
            last_error: Some("HTTP 503".into()),
        })
        .unwrap();
}

#[test]
fn stats_count_the_same_records_on_both_backends() {
    alike_on_both_backends("backends_stats", |store| {
        filled(store);
        let stats = store.stats(Utc::now()).unwrap();
        assert!(!stats.path.is_empty());
        assert!(stats.disk_bytes > 0);
        assert!(stats.disk_bytes_per_story > 0);
        match store.backend_name() {
            "sled" => assert!(!stats.trees.is_empty() && stats.tables.is_empty()),
            _ => {
                assert!(stats.trees.is_empty());
                let stories = stats.tables.iter().find(|t| t.name == "stories").unwrap();
                assert_eq!(stories.rows, 2);
                assert!(stories.bytes > 0);
            }
        }
        let bands: Vec<(String, u64, u64)> = stats
            .stories_by_age
            .iter()
            .map(|b| (b.band.clone(), b.stories, b.with_text))
            .collect();
        (
            stats.stories,
            stats.events,
            stats.alerts_pending,
            stats.alerts_dead,
            stats.alerts_delivered,
            bands,
        )
    });
}

#[test]
fn a_store_in_use_checks_consistent_on_both_backends() {
    on_both_backends("backends_check", |store| {
        assert!(store.check().unwrap().is_ok(), "an empty store");
        filled(store);
        let report = store.check().unwrap();
        assert!(report.is_ok(), "{:?}", report.described);
        assert_eq!((report.stories, report.events, report.alerts), (2, 1, 2));
        assert!(report.index_entries > 0);
    });
}

#[test]
fn an_export_imported_into_an_empty_store_gives_the_same_records_on_both_backends() {
    with_a_target_on_both_backends("backends_export", |from, into| {
        filled(from);
        let mut dump = Vec::new();
        let exported = from.export(&mut dump).unwrap();
        assert_eq!(
            (
                exported.feeds,
                exported.stories,
                exported.events,
                exported.alerts
            ),
            (1, 2, 1, 2)
        );
        let imported = into.import(&dump, false).unwrap();
        assert_eq!(imported, exported);
        let all = StoryQuery::default();
        {
            let to = into.open();
            assert_eq!(to.stories(&all).unwrap(), from.stories(&all).unwrap());
            let events = EventQuery::default();
            assert_eq!(to.events(&events).unwrap(), from.events(&events).unwrap());
            for state in [AlertState::Pending, AlertState::Dead] {
                assert_eq!(
                    to.list_alerts(state, 10).unwrap(),
                    from.list_alerts(state, 10).unwrap()
                );
            }
            assert_eq!(to.feed_states().unwrap(), from.feed_states().unwrap());
            assert_eq!(to.sink_circuits().unwrap(), from.sink_circuits().unwrap());
            assert_eq!(to.outbox_counts().unwrap(), from.outbox_counts().unwrap());
            assert_eq!(to.story_count().unwrap(), 2);
            assert_eq!(to.feed_story_count("c").unwrap(), 1);
            let report = to.check().unwrap();
            assert!(report.is_ok(), "{:?}", report.described);
            // Dedup knows the imported stories; a new one gets an id above theirs.
            let again = meeting_story("1", "Lavrov meets Wang", "2023-03-07T15:00:00Z");
            assert!(matches!(
                to.ingest(&again).unwrap(),
                IngestOutcome::Unchanged(_)
            ));
            let IngestOutcome::New(id) = to
                .ingest(&cand(
                    "d",
                    "5",
                    "https://x/5",
                    "Five",
                    "2023-03-08T10:00:00Z",
                ))
                .unwrap()
            else {
                panic!("a new story")
            };
            assert!(from.stories(&all).unwrap().iter().all(|s| s.id < id));
            to.flush().unwrap();
        }

        // Into a store that holds records: refused without force.
        let err = into.import(&dump, false).unwrap_err();
        assert!(err.to_string().contains("already holds"), "{err}");
        // A bad line is named.
        let header = String::from_utf8(dump.clone()).unwrap();
        let header = header.lines().next().unwrap();
        let fresh = FeedState {
            id: "new".into(),
            ..Default::default()
        };
        let bad = format!(
            "{header}\n{}\n{{\"story\": 7}}\n",
            serde_json::json!({ "feed": fresh })
        );
        let err = into.import(bad.as_bytes(), true).unwrap_err();
        assert!(matches!(err, StoreError::Import { line: 3, .. }), "{err}");
        assert!(err.to_string().starts_with("import, line 3: "), "{err}");
        let err = into.import(b"{\"format\":\"other\"}\n", true).unwrap_err();
        assert!(matches!(err, StoreError::Import { line: 1, .. }), "{err}");
    });
}

// --- retention (moved from store/prune.rs's unit tests: the policy's effect, not
// sled's cursors)

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

/// A story from feed "a" first seen at `at`, with a text long enough for a signature;
/// each title has a text of its own, far from the others.
fn long_story(guid: &str, title: &str, at: &str) -> Candidate {
    let text = match title {
        "Trade talks" => {
            "Officials from both ministries gathered in the capital on \
            Wednesday to discuss trade, energy and transport, and agreed to meet again \
            before the end of the year, according to a statement released afterwards."
        }
        "Budget vote" => {
            "Lawmakers narrowly approved the spending plan late on Monday \
            after a marathon session in which opposition parties forced amendments on \
            pensions, rural schools and the defence procurement programme."
        }
        _ => {
            "Dock workers walked out at the country's largest container port at dawn, \
            leaving dozens of ships waiting offshore as union leaders demanded higher \
            wages and an end to the use of temporary contracts."
        }
    };
    Candidate {
        text: text.into(),
        seen_at: t(at),
        ..cand("a", guid, &format!("https://x/{guid}"), title, at)
    }
}

fn new_story(store: &Store, c: &Candidate) -> u64 {
    match store.ingest(c).unwrap() {
        IngestOutcome::New(id) => id,
        other => panic!("{other:?}"),
    }
}

#[test]
fn stories_lose_identity_then_text_then_go_and_cited_ones_stay_alike_on_both_backends() {
    alike_on_both_backends("backends_prune_stories", |store| {
        // Stories come in the order they are first seen, as polls bring them.
        let old = new_story(
            store,
            &long_story("1", "Trade talks", "2026-01-01T00:00:00Z"),
        );
        // An old story an event cites.
        let mut m = meeting_story("m1", "Leaders meet", "2026-01-02T00:00:00Z");
        m.text = long_story("3", "Port strike", "2026-01-02T00:00:00Z").text;
        let ingested = ingest_with(store, &m, meeting(Modality::Occurred));
        let IngestOutcome::New(cited) = ingested.outcome else {
            panic!("{ingested:?}")
        };
        let event = ingested.events[0].id();
        let middle = new_story(
            store,
            &long_story("2", "Budget vote", "2026-11-20T00:00:00Z"),
        );
        new_story(
            store,
            &long_story("4", "Port strike", "2026-12-30T00:00:00Z"),
        );
        assert!(store.check().unwrap().is_ok());

        let cut = Cutoffs::at(&retention("30d", "90d", "180d"), t("2026-12-31T00:00:00Z"));
        let dry = store.prune(&cut, 1, true).unwrap();
        let dry = (
            dry.identities,
            dry.texts,
            dry.stories,
            dry.cited_kept,
            dry.batches,
        );
        assert_eq!(dry, (3, 2, 1, 1, 0));
        assert_eq!(store.story_count().unwrap(), 4, "a dry run writes nothing");

        let report = store.prune(&cut, 1, false).unwrap();
        assert!(report.identity_keys >= 3 * 3, "{report:?}");
        let report = (
            report.identities,
            report.texts,
            report.stories,
            report.cited_kept,
        );
        assert_eq!(report, (3, 2, 1, 1));
        let check = store.check().unwrap();
        assert!(check.is_ok(), "{check:?}");
        assert_eq!(store.story_count().unwrap(), 3);
        assert!(store.story(old).unwrap().is_none());
        let kept = store.story(cited).unwrap().expect("an event cites it");
        assert_eq!(kept.title, "Leaders meet");
        assert_eq!(kept.url.as_deref(), Some("https://news.example/m1"));
        assert!(kept.text.is_empty() && kept.revisions.is_empty());
        let e = store.event(event).unwrap().expect("the event stays");
        assert_eq!(e.sources[0].evidence.sentence, "s", "with its evidence");
        let mid = store.story(middle).unwrap().unwrap();
        assert!(!mid.text.is_empty(), "not yet 90 days old");
        // A story that lost its identity is still one of its feed's stories.
        let feed_counts = (
            store.feed_story_count("a").unwrap(),
            store.feed_story_count("wire").unwrap(),
        );
        assert_eq!(feed_counts, (2, 1));
        let listed_a = store
            .stories(&StoryQuery {
                feed: Some("a".into()),
                ..Default::default()
            })
            .unwrap()
            .len();
        assert_eq!(listed_a, 2);
        // An item seen again after its identity went is a new story.
        let mut again = long_story("2", "Budget vote", "2026-11-20T00:00:00Z");
        again.seen_at = t("2026-12-31T00:00:00Z");
        assert!(matches!(
            store.ingest(&again).unwrap(),
            IngestOutcome::New(_)
        ));
        // A second prune finds nothing more.
        let twice = store.prune(&cut, 1, false).unwrap();
        assert!(twice.is_empty(), "{twice:?}");
        assert!(store.check().unwrap().is_ok());
        assert_eq!(store.story_count().unwrap(), 4);
        let titles: Vec<String> = store
            .stories(&StoryQuery::default())
            .unwrap()
            .into_iter()
            .map(|s| s.title)
            .collect();
        assert_eq!(
            titles,
            ["Port strike", "Budget vote", "Budget vote", "Leaders meet"],
            "newest published first"
        );
        (dry, report, feed_counts, listed_a, titles)
    });
}

#[test]
fn events_go_after_their_period_and_free_the_stories_they_cited_on_both_backends() {
    on_both_backends("backends_prune_events", |store| {
        let m = meeting_story("m1", "Leaders meet", "2026-01-02T00:00:00Z");
        let IngestOutcome::New(story) = ingest_with(store, &m, meeting(Modality::Occurred)).outcome
        else {
            panic!()
        };
        let mut settings = retention("30d", "90d", "180d");
        let now = t("2026-12-31T00:00:00Z");
        // Events forever: the cited story stays.
        store
            .prune(&Cutoffs::at(&settings, now), 10, false)
            .unwrap();
        assert!(store.story(story).unwrap().is_some());
        assert_eq!(store.event_count().unwrap(), 1);
        // The event was updated when it was detected (now, in real time): a cutoff
        // after that reaches it, and then its story.
        settings.events = Some(std::time::Duration::from_secs(1));
        let later = Utc::now() + chrono::Duration::days(1);
        let report = store
            .prune(&Cutoffs::at(&settings, later), 10, false)
            .unwrap();
        assert_eq!(report.events, 1, "{report:?}");
        // sled removes the freed story in the same run; PostgreSQL's stories stage runs
        // before its events stage, so the story goes at the next run.
        let report = store
            .prune(&Cutoffs::at(&settings, later), 10, false)
            .unwrap();
        assert!(report.stories <= 1, "{report:?}");
        assert_eq!(store.event_count().unwrap(), 0);
        assert_eq!(store.story_count().unwrap(), 0);
        let check = store.check().unwrap();
        assert!(check.is_ok(), "{:?}", check.described);
    });
}

/// Breakers as the delivery worker saves them (store/circuits.rs keeps only the reopen).
#[test]
fn circuits_are_saved_per_sink_and_replaced_on_both_backends() {
    on_both_backends("backends_circuits", |store| {
        assert!(store.sink_circuits().unwrap().is_empty());
        let now = t("2026-12-07T12:00:00Z");
        let mut open = SinkCircuit {
            sink: "hook".into(),
            state: CircuitState::Open,
            failures: 1,
            since: now,
            next_probe: Some(now + chrono::Duration::seconds(1)),
            changes: 1,
            last_error: Some("HTTP 503".into()),
        };
        store.save_sink_circuit(&open).unwrap();
        let other = SinkCircuit {
            sink: "desk".into(),
            state: CircuitState::Closed,
            failures: 0,
            since: now,
            next_probe: None,
            changes: 2,
            last_error: None,
        };
        store.save_sink_circuit(&other).unwrap();
        open.state = CircuitState::HalfOpen;
        open.changes = 2;
        store.save_sink_circuit(&open).unwrap();
        assert_eq!(store.sink_circuits().unwrap(), vec![other, open]);
    });
}
