//! Stories in PostgreSQL (`TIDINGS_TEST_DATABASE_URL`, which `.ci/run` sets): the real
//! captures get the same dedup outcomes as with sled, and two daemons that offer two
//! copies of one wire story at the same moment store one story with two sources.

mod common;

use std::collections::HashMap;
use std::sync::{Arc, Barrier};

use chrono::Utc;
use common::pg::database_or_skip;
use common::shared_dir_or_skip;
use tidings::model::{Candidate, CircuitState, FeedState, IngestOutcome, MatchKind, SinkCircuit};
use tidings::store::postgres::PgStore;
use tidings::store::{Store, StoryQuery};

/// Every entry of the real captures, in capture order, each seen at its capture time.
fn captured_entries(shared: &std::path::Path) -> Vec<Candidate> {
    common::captured_batches(shared)
        .into_iter()
        .flatten()
        .collect()
}

/// An outcome with its story named by the order stories were made in, so two backends'
/// ids compare.
fn named(outcome: IngestOutcome, names: &mut HashMap<u64, usize>) -> (String, usize) {
    let (kind, id) = match outcome {
        IngestOutcome::New(id) => ("new".to_string(), id),
        IngestOutcome::Unchanged(id) => ("unchanged".to_string(), id),
        IngestOutcome::Revised(id) => ("revised".to_string(), id),
        IngestOutcome::Duplicate(id, kind) => (format!("copy by {}", kind.label()), id),
    };
    let next = names.len();
    (kind, *names.entry(id).or_insert(next))
}

#[test]
fn the_real_captures_get_the_same_outcomes_as_with_sled() {
    let Some(shared) = shared_dir_or_skip("pg_same_outcomes") else {
        return;
    };
    let Some(db) = database_or_skip("pg_same_outcomes") else {
        return;
    };
    let entries = captured_entries(&shared);
    assert!(entries.len() > 4000, "{} entries", entries.len());
    let dir = tempfile::tempdir().unwrap();
    let sled = Store::open(dir.path()).unwrap();
    let pg = PgStore::connect(&db.url, 4).unwrap();
    let (mut sled_names, mut pg_names) = (HashMap::new(), HashMap::new());
    let mut counts: HashMap<String, usize> = HashMap::new();
    for (n, c) in entries.iter().enumerate() {
        let expected = named(sled.ingest(c).unwrap(), &mut sled_names);
        let got = named(pg.ingest(c).unwrap(), &mut pg_names);
        assert_eq!(got, expected, "entry {n}: {} ({})", c.title, c.feed);
        *counts.entry(expected.0).or_default() += 1;
    }
    assert_eq!(pg.story_count().unwrap(), sled.story_count().unwrap());
    // The captures exercise new, unchanged and revised stories, and copies by content
    // and by near-duplicate (their outlets share no URL).
    for kind in [
        "new",
        "unchanged",
        "revised",
        "copy by same content",
        "copy by near-duplicate",
    ] {
        assert!(
            counts.iter().any(|(k, n)| k.starts_with(kind) && *n > 0),
            "{kind}: {counts:?}"
        );
    }
    // Stored stories read back whole, sources and revisions included.
    let pg_by_name: HashMap<usize, u64> = pg_names.iter().map(|(id, n)| (*n, *id)).collect();
    let mut revised = 0;
    for (sled_id, name) in &sled_names {
        let from_sled = sled.story(*sled_id).unwrap().unwrap();
        let from_pg = pg.story(pg_by_name[name]).unwrap().unwrap();
        assert_eq!(from_pg.title, from_sled.title);
        assert_eq!(from_pg.text, from_sled.text);
        assert_eq!(from_pg.sources, from_sled.sources);
        assert_eq!(from_pg.revisions, from_sled.revisions);
        revised += usize::from(!from_sled.revisions.is_empty());
    }
    assert!(revised > 0);
    // The listings agree: newest first, all or one feed's, since a time.
    let name_list = |ids: Vec<u64>, names: &HashMap<u64, usize>| -> Vec<usize> {
        ids.iter().map(|id| names[id]).collect()
    };
    let since = entries[entries.len() / 2].seen_at;
    for query in [
        StoryQuery {
            limit: Some(200),
            ..Default::default()
        },
        StoryQuery {
            feed: Some("nyt_us".into()),
            limit: Some(100),
            ..Default::default()
        },
        StoryQuery {
            since: Some(since),
            ..Default::default()
        },
    ] {
        let from_sled = sled.stories(&query).unwrap();
        let from_pg = pg.stories(&query).unwrap();
        assert!(!from_sled.is_empty(), "{query:?}");
        assert_eq!(
            name_list(from_pg.iter().map(|s| s.id).collect(), &pg_names),
            name_list(from_sled.iter().map(|s| s.id).collect(), &sled_names),
            "{query:?}"
        );
    }
    for feed in ["bbc_news_home", "cnn_international", "nyt_us"] {
        assert_eq!(
            pg.feed_story_count(feed).unwrap(),
            sled.feed_story_count(feed).unwrap(),
            "{feed}"
        );
    }
}

#[test]
fn feed_states_and_sink_breakers_are_saved_and_read_back() {
    let Some(db) = database_or_skip("pg_feed_state") else {
        return;
    };
    let pg = PgStore::connect(&db.url, 2).unwrap();
    assert_eq!(pg.feed_state("bbc").unwrap(), None);
    let mut state = FeedState {
        id: "bbc".into(),
        etag: Some("\"abc\"".into()),
        consecutive_failures: 2,
        ..Default::default()
    };
    pg.put_feed_state(&state).unwrap();
    state.consecutive_failures = 0;
    pg.put_feed_state(&state).unwrap();
    pg.put_feed_state(&FeedState {
        id: "afp".into(),
        ..Default::default()
    })
    .unwrap();
    assert_eq!(pg.feed_state("bbc").unwrap(), Some(state.clone()));
    let ids: Vec<String> = pg
        .feed_states()
        .unwrap()
        .into_iter()
        .map(|s| s.id)
        .collect();
    assert_eq!(ids, ["afp", "bbc"]);
    let circuit = SinkCircuit {
        sink: "desk".into(),
        state: CircuitState::Open,
        failures: 3,
        since: Utc::now(),
        next_probe: Some(Utc::now()),
        changes: 1,
        last_error: Some("503 from the sink".into()),
    };
    pg.save_sink_circuit(&circuit).unwrap();
    assert_eq!(pg.sink_circuits().unwrap(), vec![circuit]);
    assert_eq!(pg.outbox_counts().unwrap().pending, 0);
}

/// A wire story as two outlets carry it: `how` says what the copies share.
fn two_copies(n: usize, how: &str) -> [Candidate; 2] {
    let words: Vec<String> = (0..60).map(|w| format!("w{n}x{w}")).collect();
    let text = words.join(" ");
    let edited = match how {
        // Two words of sixty changed: a syndicated copy's small edits.
        "near" => text.replacen(&format!("w{n}x10 "), "edited ", 1).replacen(
            &format!("w{n}x40 "),
            "changed ",
            1,
        ),
        _ => text.clone(),
    };
    let make = |feed: &str, url: String, text: String| Candidate {
        feed: feed.to_string(),
        guid: format!("{feed}-{n}"),
        guid_derived: false,
        url: Some(url),
        raw_url: None,
        title: format!("Wire story {n}"),
        text,
        published: Some(Utc::now()),
        language: Some("en".into()),
        seen_at: Utc::now(),
    };
    let second_url = match how {
        "url" => format!("https://wire.example/{n}"),
        _ => format!("https://second.example/{n}"),
    };
    [
        make("first", format!("https://wire.example/{n}"), text),
        make("second", second_url, edited),
    ]
}

#[test]
fn copies_offered_by_two_daemons_at_the_same_moment_become_one_story() {
    let Some(db) = database_or_skip("pg_copies_at_once") else {
        return;
    };
    // Two daemons: two connections with pools of their own.
    let daemons = [
        Arc::new(PgStore::connect(&db.url, 2).unwrap()),
        Arc::new(PgStore::connect(&db.url, 2).unwrap()),
    ];
    let mut n = 0;
    for how in ["url", "content", "near"] {
        for _ in 0..10 {
            n += 1;
            let copies = two_copies(n, how);
            let barrier = Arc::new(Barrier::new(2));
            let threads: Vec<_> = copies
                .into_iter()
                .zip(daemons.iter().cloned())
                .map(|(copy, store)| {
                    let barrier = barrier.clone();
                    std::thread::spawn(move || {
                        barrier.wait();
                        store.ingest(&copy).unwrap()
                    })
                })
                .collect();
            let outcomes: Vec<IngestOutcome> =
                threads.into_iter().map(|t| t.join().unwrap()).collect();
            let new: Vec<u64> = outcomes
                .iter()
                .filter_map(|o| match o {
                    IngestOutcome::New(id) => Some(*id),
                    _ => None,
                })
                .collect();
            assert_eq!(new.len(), 1, "{how} #{n}: {outcomes:?}");
            let copy = outcomes
                .iter()
                .find_map(|o| match o {
                    IngestOutcome::Duplicate(id, kind) => Some((*id, *kind)),
                    _ => None,
                })
                .unwrap_or_else(|| panic!("{how} #{n}: {outcomes:?}"));
            assert_eq!(copy.0, new[0]);
            match (how, copy.1) {
                ("url", MatchKind::Url)
                | ("content", MatchKind::Content)
                | ("near", MatchKind::NearDuplicate { .. }) => {}
                other => panic!("#{n}: {other:?}"),
            }
            let story = daemons[0].story(new[0]).unwrap().unwrap();
            assert_eq!(story.sources.len(), 2, "{how} #{n}");
        }
    }
    assert_eq!(daemons[1].story_count().unwrap(), 30);
}
