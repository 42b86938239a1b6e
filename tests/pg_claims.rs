//! Feeds shared between daemons by claiming, against a real PostgreSQL server
//! (`TIDINGS_TEST_DATABASE_URL`, which `.ci/run` sets): hosts are held by one daemon at
//! a time, every due feed is claimed by exactly one daemon, a dead daemon's claims pass
//! to another when their lease runs out, and a daemon that joins gets its share.

mod common;

use std::collections::{BTreeMap, BTreeSet};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use chrono::Utc;
use common::pg::database_or_skip;
use common::wait_for;
use tidings::store::postgres::PgStore;

const LEASE: Duration = Duration::from_secs(30);

/// 12 feeds over 6 hosts: `h{n}.example` carries `f{n}a` and `f{n}b`.
fn world() -> Vec<(String, String)> {
    (0..6)
        .flat_map(|h| ["a", "b"].map(|x| (format!("f{h}{x}"), format!("h{h}.example"))))
        .collect()
}

fn connect(url: &str) -> PgStore {
    PgStore::connect(url, 4).unwrap_or_else(|e| panic!("{e}"))
}

fn held_hosts(store: &PgStore) -> BTreeMap<String, BTreeSet<String>> {
    let mut by_daemon: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for f in store.feed_holders().unwrap() {
        if let Some(holder) = f.holder {
            by_daemon.entry(holder).or_default().insert(f.host);
        }
    }
    by_daemon
}

#[test]
fn daemons_claiming_at_once_poll_every_due_feed_once_and_each_host_from_one_daemon() {
    let Some(db) = database_or_skip("claims_at_once") else {
        return;
    };
    let store = Arc::new(connect(&db.url));
    store.register_feeds(&world()).unwrap();
    let polled: Arc<Mutex<Vec<(String, String, String)>>> = Arc::default();
    let daemons: Vec<_> = ["d1", "d2", "d3"]
        .into_iter()
        .map(|daemon| {
            let (store, polled) = (store.clone(), polled.clone());
            std::thread::spawn(move || {
                for _ in 0..200 {
                    if polled.lock().unwrap().len() >= 12 {
                        break;
                    }
                    for claim in store.claim_due_feeds(daemon, LEASE, 100).unwrap() {
                        polled.lock().unwrap().push((
                            claim.feed.clone(),
                            claim.host.clone(),
                            daemon.to_string(),
                        ));
                        let next = Utc::now() + chrono::Duration::hours(1);
                        assert!(store.finish_feed_poll(daemon, &claim.feed, next).unwrap());
                    }
                    std::thread::sleep(Duration::from_millis(20));
                }
            })
        })
        .collect();
    for d in daemons {
        d.join().unwrap();
    }
    let polled = polled.lock().unwrap().clone();
    let feeds: Vec<&str> = polled.iter().map(|(f, _, _)| f.as_str()).collect();
    let unique: BTreeSet<&str> = feeds.iter().copied().collect();
    assert_eq!(feeds.len(), 12, "every feed polled once: {polled:?}");
    assert_eq!(unique.len(), 12, "no feed polled twice: {polled:?}");
    let mut host_daemons: BTreeMap<&str, BTreeSet<&str>> = BTreeMap::new();
    for (_, host, daemon) in &polled {
        host_daemons.entry(host).or_default().insert(daemon);
    }
    assert!(
        host_daemons.values().all(|d| d.len() == 1),
        "a host's feeds came from one daemon: {host_daemons:?}"
    );
    let holders = store.feed_holders().unwrap();
    assert!(holders.iter().all(|h| h.polls == 1 && h.polling.is_none()));
    assert!(holders.iter().all(|h| h.last_polled_by.as_deref()
        == Some(host_daemons[h.host.as_str()].iter().next().unwrap())));
}

#[test]
fn a_dead_daemons_hosts_and_feeds_pass_to_another_when_the_lease_runs_out() {
    let Some(db) = database_or_skip("claims_dead_daemon") else {
        return;
    };
    let store = connect(&db.url);
    store.register_feeds(&world()).unwrap();
    let lease = Duration::from_secs(1);
    let taken = store.claim_due_feeds("dying", lease, 100).unwrap();
    assert_eq!(taken.len(), 12);
    // While the lease runs, nobody else may touch the dying daemon's hosts.
    assert!(store
        .claim_due_feeds("heir", lease, 100)
        .unwrap()
        .is_empty());
    let mut inherited = Vec::new();
    wait_for(
        Duration::from_secs(20),
        "the heir to take the feeds",
        || {
            inherited.extend(store.claim_due_feeds("heir", lease, 100).unwrap());
            inherited.len() >= 12
        },
    );
    let inherited: BTreeSet<String> = inherited.into_iter().map(|c| c.feed).collect();
    let taken: BTreeSet<String> = taken.into_iter().map(|c| c.feed).collect();
    assert_eq!(inherited, taken);
    // The dead daemon's late answer does not undo the heir's claim.
    let next = Utc::now() + chrono::Duration::hours(1);
    assert!(!store.finish_feed_poll("dying", "f0a", next).unwrap());
    assert!(store.finish_feed_poll("heir", "f0a", next).unwrap());
}

#[test]
fn a_finished_feed_waits_for_its_next_due_time() {
    let Some(db) = database_or_skip("claims_next_due") else {
        return;
    };
    let store = connect(&db.url);
    store.register_feeds(&world()[..1]).unwrap();
    let first = store.claim_due_feeds("d1", LEASE, 10).unwrap();
    assert_eq!(first.len(), 1);
    // Claimed and in flight: not claimed again, by this daemon or another.
    assert!(store.claim_due_feeds("d1", LEASE, 10).unwrap().is_empty());
    assert!(store.claim_due_feeds("d2", LEASE, 10).unwrap().is_empty());
    assert!(
        !store.finish_feed_poll("d2", "f0a", Utc::now()).unwrap(),
        "only the claimant finishes"
    );
    // Finished with a due time already past: due again at once.
    let past = Utc::now() - chrono::Duration::seconds(1);
    assert!(store.finish_feed_poll("d1", "f0a", past).unwrap());
    assert_eq!(store.claim_due_feeds("d1", LEASE, 10).unwrap().len(), 1);
    // Finished with a due time an hour away: not claimed before then.
    let later = Utc::now() + chrono::Duration::hours(1);
    assert!(store.finish_feed_poll("d1", "f0a", later).unwrap());
    assert!(store.claim_due_feeds("d1", LEASE, 10).unwrap().is_empty());
    assert!(store.claim_due_feeds("d2", LEASE, 10).unwrap().is_empty());
}

#[test]
fn a_daemon_that_joins_gets_its_share_of_the_hosts() {
    let Some(db) = database_or_skip("claims_join") else {
        return;
    };
    let store = connect(&db.url);
    store.register_feeds(&world()).unwrap();
    let round = |daemon: &str| {
        for c in store.claim_due_feeds(daemon, LEASE, 100).unwrap() {
            let next = Utc::now() + chrono::Duration::hours(1);
            assert!(store.finish_feed_poll(daemon, &c.feed, next).unwrap());
        }
    };
    round("first");
    assert_eq!(
        held_hosts(&store)["first"].len(),
        6,
        "alone, it holds every host"
    );
    round("second"); // live now, but every host is held
    round("first"); // over its share of 3: gives back the hosts it is not polling
    round("second");
    let held = held_hosts(&store);
    assert_eq!(held["first"].len(), 3, "{held:?}");
    assert_eq!(held["second"].len(), 3, "{held:?}");
    assert!(held["first"].is_disjoint(&held["second"]));
}

#[test]
fn a_stopping_daemon_hands_over_at_once_and_removed_feeds_are_not_claimed() {
    let Some(db) = database_or_skip("claims_release") else {
        return;
    };
    let store = connect(&db.url);
    store.register_feeds(&world()).unwrap();
    assert_eq!(
        store.claim_due_feeds("leaving", LEASE, 100).unwrap().len(),
        12
    );
    store.release_daemon("leaving").unwrap();
    // A feed taken out of the config is no longer claimed.
    store.register_feeds(&world()[1..]).unwrap();
    let claims = store.claim_due_feeds("staying", LEASE, 100).unwrap();
    let feeds: BTreeSet<String> = claims.into_iter().map(|c| c.feed).collect();
    assert_eq!(feeds.len(), 11);
    assert!(!feeds.contains("f0a"));
    assert!(store
        .feed_holders()
        .unwrap()
        .iter()
        .all(|h| h.feed != "f0a"));
}

#[test]
fn connecting_again_applies_no_migration_twice() {
    let Some(db) = database_or_skip("claims_migrations") else {
        return;
    };
    let one = connect(&db.url);
    one.register_feeds(&world()).unwrap();
    drop(one);
    let two = connect(&db.url);
    assert_eq!(two.feed_holders().unwrap().len(), 12, "the data stayed");
}
