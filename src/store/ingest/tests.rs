use crate::dedup::DedupIndex;
use crate::model::{Event, EventChange, FeedState, IngestOutcome, MatchKind, Story, StoryId};
use crate::store::test_support::{cand, every_change, long_cand, reopen};
use crate::store::{keys, IngestHooks, Ingested, SledStore, StoreError, StoryQuery};

/// Each outcome as text, with stories named by the position of the entry that made
/// them, so two stores' ids need not agree.
fn outcome_shapes(results: &[Ingested]) -> Vec<String> {
    let mut made: Vec<(StoryId, usize)> = Vec::new();
    let name = |made: &[(StoryId, usize)], id: StoryId| {
        made.iter()
            .find(|(m, _)| *m == id)
            .map_or("?".to_string(), |(_, at)| at.to_string())
    };
    results
        .iter()
        .enumerate()
        .map(|(at, r)| match r.outcome {
            IngestOutcome::New(id) => {
                made.push((id, at));
                format!("new, {} event changes", r.events.len())
            }
            IngestOutcome::Duplicate(id, kind) => {
                format!("copy of {} by {}", name(&made, id), kind.label())
            }
            IngestOutcome::Revised(id) => format!("revision of {}", name(&made, id)),
            IngestOutcome::Unchanged(id) => format!("unchanged {}", name(&made, id)),
        })
        .collect()
}

#[test]
fn a_poll_ingested_as_a_batch_gets_the_same_outcomes_as_entry_by_entry() {
    let detector = crate::detect::Detector::embedded().unwrap();
    let detect = |s: &Story| {
        detector.detect(&crate::detect::Article {
            title: &s.title,
            text: &s.text,
            published: s.published.date_naive(),
        })
    };
    let route = |change: &EventChange, _: &Event| every_change(change, &["desk"]);
    let hooks = IngestHooks {
        detect: &detect,
        route: &route,
    };
    let at = "2023-02-22T10:00:00Z";
    let talks = "Officials from both ministries gathered in the capital on Wednesday to \
                 discuss trade, energy and transport, and agreed to gather again before \
                 the end of the year, according to a statement released after the talks.";
    let mut first = cand("a", "1", "https://x/1", "Trade talks in the capital", at);
    first.text = talks.into();
    let mut retitled = first.clone();
    retitled.title = "Trade talks end in the capital".into();
    let same_url = cand("b", "9", "https://x/1", "Another outlet's title", at);
    let mut meeting = cand("a", "2", "https://x/2", "Putin meets Xi", at);
    meeting.text = "Russian President Vladimir Putin met Chinese President Xi Jinping \
                    in Moscow on Wednesday."
        .into();
    let mut same_content = meeting.clone();
    (same_content.feed, same_content.guid, same_content.url) = ("c".into(), "z".into(), None);
    let mut reworded = first.clone();
    (reworded.feed, reworded.guid, reworded.url) = ("d".into(), "n".into(), None);
    reworded.text = talks.replace("Wednesday", "Thursday");
    // The same meeting told again: its merge must see the first report's event.
    let mut meeting_again = cand("e", "m", "https://y/m", "Xi and Putin hold talks", at);
    meeting_again.text = "Chinese President Xi Jinping held talks with Russian \
                          President Vladimir Putin in Moscow on Wednesday."
        .into();
    // Three new stories in a row: written together, in one transaction.
    let unrelated = cand("a", "3", "https://x/3", "Unrelated story", at);
    let second = cand("a", "4", "https://x/4", "Second unrelated story", at);
    let third = cand("a", "5", "https://x/5", "Third unrelated story", at);
    let poll = [
        first,
        retitled,
        same_url,
        meeting,
        meeting_again,
        same_content,
        reworded,
        unrelated,
        second,
        third,
    ];

    let one_by_one_dir = tempfile::tempdir().unwrap();
    let one_by_one = SledStore::open(one_by_one_dir.path()).unwrap();
    let expected: Vec<Ingested> = poll
        .iter()
        .map(|c| one_by_one.ingest_detecting(c, &hooks).unwrap())
        .collect();
    let batch_dir = tempfile::tempdir().unwrap();
    let batch = SledStore::open(batch_dir.path()).unwrap();
    let got = batch.ingest_batch(&poll, &hooks).unwrap();

    let shapes = outcome_shapes(&got);
    assert_eq!(shapes, outcome_shapes(&expected));
    assert_eq!(shapes[0], "new, 0 event changes");
    assert_eq!(shapes[1], "revision of 0");
    assert_eq!(shapes[2], "copy of 0 by same url");
    assert_eq!(shapes[3], "new, 1 event changes");
    // The second report of the meeting comes while the first waits in the run: the
    // run is written first, so its merge finds the first report's event.
    assert_eq!(shapes[4], "new, 1 event changes");
    assert!(
        matches!(got[4].events[..], [EventChange::Corroborated(_)]),
        "{:?}",
        got[4].events
    );
    assert_eq!(shapes[5], "copy of 3 by same content");
    assert!(
        shapes[6].starts_with("copy of 0 by near-duplicate"),
        "{}",
        shapes[6]
    );
    assert_eq!(shapes[7..], ["new, 0 event changes"; 3]);
    assert_eq!(batch.story_count(), 6);
    assert_eq!(batch.event_count(), 1);
    assert_eq!(got[3].alerts.len(), 1);
    for (b, e) in got.iter().zip(&expected) {
        let (
            IngestOutcome::New(b) | IngestOutcome::Duplicate(b, _),
            IngestOutcome::New(e) | IngestOutcome::Duplicate(e, _),
        ) = (b.outcome, e.outcome)
        else {
            continue;
        };
        let (b, e) = (
            batch.story(b).unwrap().unwrap(),
            one_by_one.story(e).unwrap().unwrap(),
        );
        assert_eq!(
            (b.title, b.sources.len(), b.revisions.len()),
            (e.title, e.sources.len(), e.revisions.len())
        );
    }
    // Each feed's story count and listing, counted once per run, as entry by entry.
    for feed in ["a", "b", "c", "d", "e"] {
        let listed = |store: &SledStore| {
            let query = StoryQuery {
                feed: Some(feed.to_string()),
                ..StoryQuery::default()
            };
            store.stories(&query).unwrap().len()
        };
        assert_eq!(
            (batch.feed_story_count(feed).unwrap(), listed(&batch)),
            (
                one_by_one.feed_story_count(feed).unwrap(),
                listed(&one_by_one)
            ),
            "feed {feed}"
        );
    }
    assert_eq!(batch.feed_story_count("a").unwrap(), 5);
    // Written and indexed: the batch store's stories are found after a restart too.
    drop(batch);
    let batch = reopen(batch_dir.path()).unwrap();
    assert_eq!(batch.story_count(), 6);
    let again = batch.ingest_batch(&poll, &hooks).unwrap();
    assert!(again
        .iter()
        .all(|r| !matches!(r.outcome, IngestOutcome::New(_))));
}

#[test]
fn new_duplicate_revised_and_unchanged_are_told_apart() {
    let dir = tempfile::tempdir().unwrap();
    let store = SledStore::open(dir.path()).unwrap();
    let a = cand("a", "1", "https://x/1", "First", "2023-02-22T10:00:00Z");
    let IngestOutcome::New(id) = store.ingest(&a).unwrap() else {
        panic!()
    };
    assert_eq!(store.ingest(&a).unwrap(), IngestOutcome::Unchanged(id));
    let mut retitled = a.clone();
    retitled.title = "First, updated".into();
    assert_eq!(store.ingest(&retitled).unwrap(), IngestOutcome::Revised(id));
    let copy = cand(
        "b",
        "other-guid",
        "https://x/1",
        "Copy",
        "2023-02-22T10:05:00Z",
    );
    assert_eq!(
        store.ingest(&copy).unwrap(),
        IngestOutcome::Duplicate(id, MatchKind::Url)
    );

    let s = store.story(id).unwrap().unwrap();
    assert_eq!(s.title, "First, updated");
    assert_eq!(s.revisions.len(), 1);
    assert_eq!(s.revisions[0].title, "First");
    assert_eq!(s.sources.len(), 2);
    assert_eq!(store.story_count(), 1);
    assert_eq!(store.feed_story_count("a").unwrap(), 1);
    assert_eq!(store.feed_story_count("b").unwrap(), 1);
}

#[test]
fn reopened_store_keeps_stories_and_does_not_reingest() {
    let dir = tempfile::tempdir().unwrap();
    let a = cand("a", "1", "https://x/1", "One", "2023-02-20T10:00:00Z");
    let id = {
        let store = SledStore::open(dir.path()).unwrap();
        let IngestOutcome::New(id) = store.ingest(&a).unwrap() else {
            panic!()
        };
        store
            .put_feed_state(&FeedState {
                id: "a".into(),
                etag: Some("\"v1\"".into()),
                ..Default::default()
            })
            .unwrap();
        store.flush().unwrap();
        id
    };
    let store = reopen(dir.path()).unwrap();
    assert_eq!(store.ingest(&a).unwrap(), IngestOutcome::Unchanged(id));
    assert_eq!(
        store.feed_state("a").unwrap().unwrap().etag.as_deref(),
        Some("\"v1\"")
    );
}

#[test]
fn a_batch_stopped_by_an_error_removes_the_records_it_wrote_and_did_not_index() {
    let dir = tempfile::tempdir().unwrap();
    let store = SledStore::open(dir.path()).unwrap();
    let IngestOutcome::New(damaged) = store.ingest(&long_cand("1", "Trade talks")).unwrap() else {
        panic!("new")
    };
    store
        .stories
        .insert(keys::id(damaged), b"not json".as_slice())
        .unwrap();
    let records_before = store.stories.len();
    // The first entry is new (its record is written with the first look); the second
    // is the damaged story's GUID again, whose record cannot be read.
    let mut edited = long_cand("1", "Trade talks resume");
    edited.text.push_str(" Updated.");
    let e = store
        .ingest_batch(&[long_cand("2", "Budget vote"), edited], &IngestHooks::NONE)
        .unwrap_err();
    assert!(matches!(e, StoreError::Decode { .. }), "{e}");
    assert_eq!(store.stories.len(), records_before, "no record left behind");
    assert_eq!(store.story_count(), 1);
    assert_eq!(
        store.pending.settled_below(),
        store.pending.new_id(&store.db, store.id_base).unwrap(),
        "nothing pending"
    );
}

#[test]
fn copies_ingested_at_the_same_moment_become_one_story() {
    // Both threads may make their first look before either writes: the look under
    // the lock must then see the other's story.
    let dir = tempfile::tempdir().unwrap();
    let store = SledStore::open(dir.path()).unwrap();
    let barrier = std::sync::Barrier::new(2);
    std::thread::scope(|scope| {
        for feed in ["a", "b"] {
            let (store, barrier) = (&store, &barrier);
            scope.spawn(move || {
                for i in 0..50 {
                    let c = cand(
                        feed,
                        &format!("{feed}-{i}"),
                        &format!("https://x/{i}"),
                        &format!("Story {i}"),
                        "2023-02-22T10:00:00Z",
                    );
                    barrier.wait();
                    store.ingest(&c).unwrap();
                }
            });
        }
    });
    assert_eq!(store.story_count(), 50);
    for i in 0..50 {
        let id = store
            .story_by_url(&format!("https://x/{i}"))
            .unwrap()
            .unwrap();
        assert_eq!(store.story(id).unwrap().unwrap().sources.len(), 2);
    }
}
