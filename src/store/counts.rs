//! The store's sizes as counters, so that reading one costs no scan: stories (entries of
//! `idx_time`), events (records in `events`), pending alerts (entries of `idx_alert_due`)
//! and dead alerts (entries of `idx_alert_dead`).
//!
//! Each is read from its tree once, when the store opens (before any write), and moved
//! by every transaction that adds or removes such entries, once it has committed, by
//! what the transaction found: an insert counts only if the key was new, a removal only
//! if the key was there. A reader may see a count a moment before a committed write
//! moves it, as it could have read the tree a moment earlier.

use std::sync::atomic::{AtomicI64, Ordering};

/// One count. Signed, so that a removal counted before the insert it follows (by
/// another thread, between that insert's commit and its count) never wraps; read as
/// at least 0.
pub(super) struct Counter(AtomicI64);

impl Counter {
    pub(super) fn new(n: usize) -> Self {
        Counter(AtomicI64::new(n as i64))
    }

    pub(super) fn get(&self) -> usize {
        self.0.load(Ordering::Relaxed).max(0) as usize
    }

    pub(super) fn add(&self, delta: i64) {
        if delta != 0 {
            self.0.fetch_add(delta, Ordering::Relaxed);
        }
    }
}

/// The counted sizes of the store.
pub(super) struct Counts {
    pub(super) stories: Counter,
    pub(super) events: Counter,
    pub(super) pending: Counter,
    pub(super) dead: Counter,
}

impl Counts {
    /// Counts the trees: once, at open.
    pub(super) fn read(
        idx_time: &sled::Tree,
        events: &sled::Tree,
        idx_alert_due: &sled::Tree,
        idx_alert_dead: &sled::Tree,
    ) -> Self {
        Counts {
            stories: Counter::new(idx_time.len()),
            events: Counter::new(events.len()),
            pending: Counter::new(idx_alert_due.len()),
            dead: Counter::new(idx_alert_dead.len()),
        }
    }
}

#[cfg(test)]
mod tests {
    use chrono::Utc;

    use crate::model::{Modality, Story};
    use crate::store::test_support::{
        cand, every_change, long_cand, meeting, meeting_story, reopen,
    };
    use crate::store::{keys, AlertState, IngestHooks, SledStore};

    /// The counters against the trees' real lengths.
    fn check(store: &SledStore, when: &str) {
        let outbox = store.outbox_counts().unwrap();
        assert_eq!(
            (
                store.story_count(),
                store.event_count(),
                outbox.pending,
                outbox.dead
            ),
            (
                store.idx_time.len(),
                store.events.len(),
                store.idx_alert_due.len(),
                store.idx_alert_dead.len()
            ),
            "{when}"
        );
    }

    #[test]
    fn the_counters_match_the_trees_after_ingests_deliveries_dead_letters_and_replays() {
        let dir = tempfile::tempdir().unwrap();
        let store = SledStore::open(dir.path()).unwrap();
        check(&store, "a new store");
        let ingest = |c, modality: Option<Modality>| {
            let detect = move |_: &Story| modality.map(meeting).into_iter().collect();
            let route = |change: &_, _: &_| every_change(change, &["desk", "phone"]);
            let hooks = IngestHooks {
                detect: &detect,
                route: &route,
            };
            store.ingest_batch(c, &hooks).unwrap()
        };
        let at = "2023-03-05T09:00:00Z";
        let plain = [
            cand("a", "1", "https://x/1", "One", at),
            cand("a", "2", "https://x/2", "Two", at),
            cand("b", "9", "https://x/1", "A copy of one", at),
        ];
        ingest(&plain, None);
        ingest(&plain, None);
        check(&store, "new stories, a copy, then the same again");
        let planned = [meeting_story("3", "Lavrov to visit Beijing", at)];
        ingest(&planned, Some(Modality::Planned));
        let again = [meeting_story(
            "4",
            "Lavrov heads to Beijing",
            "2023-03-06T09:00:00Z",
        )];
        ingest(&again, Some(Modality::Planned));
        let happened = [meeting_story(
            "5",
            "Lavrov meets Wang",
            "2023-03-07T15:00:00Z",
        )];
        ingest(&happened, Some(Modality::Occurred));
        check(
            &store,
            "a new event, corroborated, then updated, with alerts",
        );
        assert_eq!(
            (store.story_count(), store.event_count()),
            (5, 1),
            "the counts themselves"
        );
        assert_eq!(store.outbox_counts().unwrap().pending, 4);

        let now = Utc::now();
        let due = store.due_alerts(now, 10).unwrap();
        let mut retry = due[0].clone();
        retry.attempts = 1;
        retry.next_attempt = now + chrono::Duration::seconds(60);
        store.alert_retry(&retry, due[0].next_attempt).unwrap();
        check(&store, "a retry moved to a later time");
        store.alert_retry(&retry, retry.next_attempt).unwrap();
        check(&store, "a retry at the same time");
        store.alert_delivered(&due[1]).unwrap();
        store.alert_delivered(&due[1]).unwrap();
        check(&store, "one delivered, twice");
        let dead = store.alert_dead(&retry, "gone".into(), now).unwrap();
        store.alert_dead(&due[2], "gone".into(), now).unwrap();
        check(&store, "two dead");
        let outbox = store.outbox_counts().unwrap();
        assert_eq!((outbox.pending, outbox.dead), (1, 2));
        assert!(store.replay_alert(dead.id, now).unwrap());
        assert!(!store.replay_alert(dead.id, now).unwrap());
        check(&store, "one replayed, then not dead any more");
        assert_eq!(store.replay_dead_alerts(now).unwrap(), 1);
        check(&store, "every dead alert replayed");
        assert!(store.list_alerts(AlertState::Dead, 10).unwrap().is_empty());

        // A batch stopped by an error (a new story, then a story whose record does not
        // decode) changes nothing.
        let damaged = long_cand("6", "Trade talks");
        let crate::model::IngestOutcome::New(id) = store.ingest(&damaged).unwrap() else {
            panic!("new")
        };
        store
            .stories
            .insert(keys::id(id), b"not json".as_slice())
            .unwrap();
        let mut edited = damaged.clone();
        edited.text.push_str(" Updated.");
        let batch = [long_cand("7", "Budget vote"), edited];
        assert!(store.ingest_batch(&batch, &IngestHooks::NONE).is_err());
        check(&store, "a failed batch");

        let counts = (store.story_count(), store.event_count());
        let outbox = store.outbox_counts().unwrap();
        drop(store);
        let store = reopen(dir.path()).unwrap();
        check(&store, "reopened");
        assert_eq!((store.story_count(), store.event_count()), counts);
        assert_eq!(store.outbox_counts().unwrap(), outbox);
    }
}
