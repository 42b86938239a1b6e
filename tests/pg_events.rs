//! Events and the outbox in PostgreSQL (`TIDINGS_TEST_DATABASE_URL`, which `.ci/run`
//! sets): two daemons that detect one meeting at the same moment make one event with
//! two sources and one alert; alerts are claimed by one daemon at a time, pass to
//! another when a lease runs out, and are retried, killed and replayed under one id.

mod common;

use std::collections::BTreeSet;
use std::sync::{Arc, Barrier};
use std::time::Duration;

use chrono::{NaiveDate, Utc};
use common::pg::database_or_skip;
use common::wait_for;
use tidings::detect::Detector;
use tidings::model::{AlertReason, Candidate, Event, EventChange, Story};
use tidings::poll::detect_story;
use tidings::store::postgres::PgStore;
use tidings::store::{AlertState, EventQuery, IngestHooks, Ingested};

const PAIRS: [(&str, &str, &str, &str, &str); 6] = [
    ("France", "French", "Germany", "German", "Paris"),
    ("Japan", "Japanese", "India", "Indian", "Tokyo"),
    ("Brazil", "Brazilian", "Argentina", "Argentine", "Brasilia"),
    ("Spain", "Spanish", "Portugal", "Portuguese", "Madrid"),
    ("Kenya", "Kenyan", "Ethiopia", "Ethiopian", "Nairobi"),
    ("Canada", "Canadian", "Mexico", "Mexican", "Ottawa"),
];

/// Two outlets' reports of one meeting: different words, feeds and links.
fn two_reports(n: usize) -> [Candidate; 2] {
    let (x, x_adj, y, y_adj, capital) = PAIRS[n];
    let published = NaiveDate::from_ymd_opt(2026, 12, 1)
        .unwrap()
        .and_hms_opt(12, 0, 0)
        .unwrap()
        .and_utc();
    let make = |feed: &str, title: String, text: String| Candidate {
        feed: feed.to_string(),
        guid: format!("{feed}-{n}"),
        guid_derived: false,
        url: Some(format!("https://{feed}.example/{n}")),
        raw_url: None,
        title,
        text,
        published: Some(published),
        language: Some("en".into()),
        seen_at: Utc::now(),
    };
    [
        make(
            "wire",
            format!("{x} and {y} ministers meet"),
            format!("The foreign ministers of {x} and {y} met in {capital} on Tuesday to discuss trade and security."),
        ),
        make(
            "daily",
            format!("Talks in {capital}"),
            format!("The {x_adj} foreign minister held talks with his {y_adj} counterpart in {capital} on Tuesday, officials said after the meeting."),
        ),
    ]
}

fn route_new(change: &EventChange, _: &Event) -> Option<(AlertReason, Vec<String>)> {
    matches!(change, EventChange::New(_)).then(|| (AlertReason::New, vec!["desk".to_string()]))
}

#[test]
fn a_meeting_detected_by_two_daemons_at_once_is_one_event_with_two_sources() {
    let Some(db) = database_or_skip("pg_one_event") else {
        return;
    };
    let detector = Arc::new(Detector::embedded().unwrap());
    let daemons = [
        Arc::new(PgStore::connect(&db.url, 2).unwrap()),
        Arc::new(PgStore::connect(&db.url, 2).unwrap()),
    ];
    for n in 0..PAIRS.len() {
        let barrier = Arc::new(Barrier::new(2));
        let threads: Vec<_> = two_reports(n)
            .into_iter()
            .zip(daemons.iter().cloned())
            .map(|(report, store)| {
                let (barrier, detector) = (barrier.clone(), detector.clone());
                std::thread::spawn(move || -> Ingested {
                    let detect = |story: &Story| detect_story(&detector, story);
                    let hooks = IngestHooks {
                        detect: &detect,
                        route: &route_new,
                    };
                    barrier.wait();
                    store.ingest_detecting(&report, &hooks).unwrap()
                })
            })
            .collect();
        let done: Vec<Ingested> = threads.into_iter().map(|t| t.join().unwrap()).collect();
        let changes: Vec<&EventChange> = done.iter().flat_map(|d| &d.events).collect();
        let new: Vec<u64> = changes
            .iter()
            .filter_map(|c| match c {
                EventChange::New(id) => Some(*id),
                _ => None,
            })
            .collect();
        assert_eq!(new.len(), 1, "pair {n}: one new event: {changes:?}");
        assert_eq!(
            changes.len(),
            2,
            "pair {n}: the other report joins it: {changes:?}"
        );
        assert!(changes.iter().all(|c| c.id() == new[0]));
        let alerts: Vec<u64> = done.iter().flat_map(|d| d.alerts.clone()).collect();
        assert_eq!(alerts.len(), 1, "pair {n}: one alert, for the new event");
        let event = daemons[1].event(new[0]).unwrap().unwrap();
        assert_eq!(event.sources.len(), 2, "pair {n}: {event:?}");
        assert!(!event.sources[0].evidence.sentence.is_empty());
    }
    assert_eq!(daemons[0].event_count().unwrap(), PAIRS.len());
    let french = daemons[0]
        .events(&EventQuery {
            country: Some("FRA".into()),
            ..Default::default()
        })
        .unwrap();
    assert_eq!(french.len(), 1);
    assert_eq!(
        french[0].countries,
        ["DEU", "FRA"].map(String::from).to_vec()
    );
    let pending = daemons[0].list_alerts(AlertState::Pending, 100).unwrap();
    assert_eq!(pending.len(), PAIRS.len());
}

/// A store holding one pending alert per pair of reports.
fn store_with_alerts(url: &str) -> PgStore {
    let store = PgStore::connect(url, 4).unwrap();
    let detector = Detector::embedded().unwrap();
    let detect = |story: &Story| detect_story(&detector, story);
    let hooks = IngestHooks {
        detect: &detect,
        route: &route_new,
    };
    for n in 0..PAIRS.len() {
        let done = store.ingest_batch(&two_reports(n), &hooks).unwrap();
        assert_eq!(done.iter().map(|d| d.alerts.len()).sum::<usize>(), 1);
    }
    store
}

#[test]
fn alerts_are_claimed_by_one_daemon_at_a_time_and_pass_on_when_the_lease_runs_out() {
    let Some(db) = database_or_skip("pg_outbox_claims") else {
        return;
    };
    let store = store_with_alerts(&db.url);
    let long = Duration::from_secs(60);
    let first = store
        .claim_due_alerts("d1", Utc::now(), long, 4, &[])
        .unwrap();
    let second = store
        .claim_due_alerts("d2", Utc::now(), long, 100, &[])
        .unwrap();
    assert_eq!(first.len(), 4);
    assert_eq!(second.len(), PAIRS.len() - 4);
    let ids = |alerts: &[tidings::model::Alert]| -> BTreeSet<u64> {
        alerts.iter().map(|a| a.id).collect()
    };
    assert!(ids(&first).is_disjoint(&ids(&second)));
    assert!(store
        .claim_due_alerts("d3", Utc::now(), long, 100, &[])
        .unwrap()
        .is_empty());
    // None of a paused sink's alerts.
    assert!(store
        .claim_due_alerts("d1", Utc::now(), long, 100, &["desk".to_string()])
        .unwrap()
        .is_empty());
    // d1 dies holding its alerts under a short lease; d3 sends them again, same ids.
    let dying = store
        .claim_due_alerts("d1", Utc::now(), Duration::from_secs(1), 100, &[])
        .unwrap();
    assert_eq!(ids(&dying), ids(&first), "a claimant renews its own claims");
    let mut taken = Vec::new();
    wait_for(
        Duration::from_secs(20),
        "the dead daemon's alerts to pass on",
        || {
            taken.extend(
                store
                    .claim_due_alerts("d3", Utc::now(), long, 100, &[])
                    .unwrap(),
            );
            taken.len() >= first.len()
        },
    );
    assert_eq!(ids(&taken), ids(&first));
    for alert in &taken {
        store.alert_delivered(alert).unwrap();
    }
    assert_eq!(
        store.list_alerts(AlertState::Pending, 100).unwrap().len(),
        PAIRS.len() - first.len()
    );
    let counts = store.outbox_counts().unwrap();
    assert_eq!(
        (counts.pending, counts.dead, counts.delivered),
        (PAIRS.len() - first.len(), 0, first.len() as u64)
    );
}

#[test]
fn a_failed_alert_is_retried_then_dead_then_replayed_under_its_id() {
    let Some(db) = database_or_skip("pg_outbox_dead") else {
        return;
    };
    let store = store_with_alerts(&db.url);
    let lease = Duration::from_secs(60);
    let alert = store
        .claim_due_alerts("d1", Utc::now(), lease, 1, &[])
        .unwrap()
        .remove(0);
    let mut retry = alert.clone();
    retry.attempts = 1;
    retry.last_error = Some("503".into());
    retry.next_attempt = Utc::now() + chrono::Duration::hours(1);
    store.alert_retry(&retry).unwrap();
    // Not due for an hour: no daemon takes it now.
    let now_due = store
        .claim_due_alerts("d2", Utc::now(), lease, 100, &[])
        .unwrap();
    assert!(now_due.iter().all(|a| a.id != alert.id));
    let later = store
        .claim_due_alerts("d2", retry.next_attempt, lease, 100, &[])
        .unwrap();
    let again = later.iter().find(|a| a.id == alert.id).expect("due later");
    assert_eq!(again.attempts, 1);
    let dead = store
        .alert_dead(again, "gave up".into(), Utc::now())
        .unwrap();
    assert_eq!(dead.id, alert.id);
    let dead_list = store.list_alerts(AlertState::Dead, 10).unwrap();
    assert_eq!(dead_list.len(), 1);
    assert_eq!(dead_list[0].dead.as_ref().unwrap().reason, "gave up");
    assert_eq!(store.replay_dead_alerts(Utc::now()).unwrap(), 1);
    assert!(
        !store.replay_alert(alert.id, Utc::now()).unwrap(),
        "no longer dead"
    );
    let replayed = store
        .list_alerts(AlertState::Pending, 100)
        .unwrap()
        .into_iter()
        .find(|a| a.id == alert.id)
        .expect("pending again, same id");
    assert_eq!(replayed.attempts, 0);
    assert!(replayed.dead.is_none());
}
