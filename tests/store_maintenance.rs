//! `tidings store` through the real binary: export and import of a store built from the
//! real captures give the same listings; retention prunes text, identity and uncited
//! stories and keeps what events cite; compaction gives the disk back; a kill during
//! pruning leaves a store the consistency check finds whole, with every event.

mod common;

use std::time::Duration;

use chrono::{DateTime, Utc};
use common::Workspace;
use tidings::config::Config;
use tidings::detect::Detector;
use tidings::model::Candidate;
use tidings::store::dir_size;
use tidings::store::Store;

const SINK: &str = r#"
[[sinks]]
id = "phone"
kind = "ntfy"
url = "http://127.0.0.1:9/"
topic = "tidings-test"
"#;

/// Ingests `batches` (each as one poll would) into the workspace's store, with the
/// detector and the config's sinks, as the daemon does.
fn ingest(ws: &Workspace, batches: &[Vec<Candidate>]) {
    let config = Config::load(&ws.config()).expect("config");
    let detector = Detector::from_settings(&config.detection).expect("detector");
    std::fs::create_dir_all(ws.data_dir()).unwrap();
    let store = Store::open(&ws.data_dir().join("store")).expect("store");
    for batch in batches {
        tidings::poll::ingest_all(&store, &detector, &config.sinks, batch).expect("ingest");
    }
    store.flush().unwrap();
}

/// Words of their own for item `n`, so that no two items are near-duplicates.
fn filler(n: usize) -> String {
    const SYLLABLES: &[&str] = &[
        "ba", "ker", "lo", "min", "tra", "del", "sen", "por", "vi", "cal", "mun", "der", "ri",
        "son", "gal", "te", "nor", "pla", "quis", "ven", "ho", "tur", "ma", "lek",
    ];
    let mut rng = fastrand::Rng::with_seed(n as u64 ^ 0x7469_6469);
    let words: Vec<String> = (0..40)
        .map(|_| {
            (0..rng.usize(2..4))
                .map(|_| SYLLABLES[rng.usize(..SYLLABLES.len())])
                .collect()
        })
        .collect();
    words.join(" ")
}

/// A news item first seen at `seen`; `meeting` makes it report one the detector finds.
fn item(feed: &str, n: usize, seen: DateTime<Utc>, meeting: bool) -> Candidate {
    let (title, text) = if meeting {
        (
            format!("Wang Yi and Lavrov hold talks ({n})"),
            format!(
                "Chinese Foreign Minister Wang Yi met Russian Foreign Minister Sergei Lavrov \
                 in Moscow on Tuesday to discuss trade, officials said. {}.",
                filler(n)
            ),
        )
    } else {
        (
            format!("Farmers protest in region {n}"),
            format!("{}.", filler(n)),
        )
    };
    Candidate {
        feed: feed.into(),
        guid: format!("{feed}-{n}"),
        guid_derived: false,
        url: Some(format!("https://news.example/{feed}/{n}")),
        raw_url: None,
        title,
        text,
        published: Some(seen),
        language: Some("en".into()),
        seen_at: seen,
    }
}

fn days_ago(d: i64) -> DateTime<Utc> {
    Utc::now() - chrono::Duration::days(d)
}

fn json(out: &str) -> serde_json::Value {
    serde_json::from_str(out).unwrap_or_else(|e| panic!("{e}: {out}"))
}

/// The three listings a person reads, whole, as JSON.
fn listings(ws: &Workspace) -> [String; 3] {
    [
        ws.ok(&["stories", "--json", "--limit", "100000"]),
        ws.ok(&["events", "--json", "--limit", "100000"]),
        ws.ok(&["alerts", "--json"]),
    ]
}

#[test]
fn a_store_from_the_real_captures_exported_and_imported_lists_the_same() {
    let Some(shared) = common::shared_dir_or_skip(
        "a_store_from_the_real_captures_exported_and_imported_lists_the_same",
    ) else {
        return;
    };
    let ws = Workspace::new(SINK);
    ingest(&ws, &common::captured_batches(&shared));
    // One alert dead-lettered, so that both lists have entries (the captures hold two
    // events the detector finds, each with an alert).
    {
        let store = Store::open(&ws.data_dir().join("store")).unwrap();
        for alert in store.due_alerts(Utc::now(), 1).unwrap() {
            store
                .alert_dead(&alert, "gone (test)".into(), Utc::now())
                .unwrap();
        }
    }
    let before = listings(&ws);
    let stories = json(&before[0]);
    assert!(
        stories.as_array().unwrap().len() > 1000,
        "the captures hold thousands of stories"
    );
    assert!(
        !json(&before[1]).as_array().unwrap().is_empty(),
        "events detected"
    );
    let alerts = json(&before[2]);
    eprintln!(
        "{} stories, {} events, {} pending and {} dead alerts",
        stories.as_array().unwrap().len(),
        json(&before[1]).as_array().unwrap().len(),
        alerts["pending"].as_array().unwrap().len(),
        alerts["dead"].as_array().unwrap().len()
    );
    assert!(!alerts["pending"].as_array().unwrap().is_empty());
    assert_eq!(alerts["dead"].as_array().unwrap().len(), 1);
    assert!(ws.ok(&["store", "check"]).contains("consistent"));

    let dump = ws.dir.path().join("backup.jsonl");
    ws.ok(&["store", "export", dump.to_str().unwrap()]);
    let text = std::fs::read_to_string(&dump).unwrap();
    let header = json(text.lines().next().unwrap());
    assert_eq!(header["format"], "tidings-store");
    assert_eq!(header["version"], 1);
    assert_eq!(header["schema"], tidings::store::SCHEMA_VERSION);

    let moved = Workspace::new(SINK);
    let imported = moved.ok(&["store", "import", dump.to_str().unwrap()]);
    assert!(imported.starts_with("imported "), "{imported}");
    assert_eq!(
        listings(&moved),
        before,
        "the same stories, events and alerts"
    );
    assert!(moved.ok(&["store", "check"]).contains("consistent"));
    // Dedup still knows every imported story: the captures again add no story (items
    // whose title changed between captures are noted as edits).
    ingest(&moved, &common::captured_batches(&shared));
    let ids = |listing: &str| -> Vec<u64> {
        json(listing)
            .as_array()
            .unwrap()
            .iter()
            .map(|s| s["id"].as_u64().unwrap())
            .collect()
    };
    assert_eq!(ids(&listings(&moved)[0]), ids(&before[0]));

    // A store that holds records is not imported into, unless forced.
    let again = moved.run(&["store", "import", dump.to_str().unwrap()]);
    assert!(!again.status.success());
    let err = String::from_utf8_lossy(&again.stderr);
    assert!(err.contains("already holds records"), "{err}");
    // Nor is something that is not an export.
    let bogus = ws.dir.path().join("bogus.jsonl");
    std::fs::write(&bogus, "{\"hello\": 1}\n").unwrap();
    let empty = Workspace::new(SINK);
    let out = empty.run(&["store", "import", bogus.to_str().unwrap()]);
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("line 1") && err.contains("not a tidings store export"),
        "{err}"
    );
}

#[test]
fn prune_removes_what_retention_says_and_keeps_what_events_cite() {
    let ws = Workspace::new(
        "[retention]\nstory_identity = \"30d\"\nstory_text = \"90d\"\nstories = \"180d\"\n",
    );
    // 400 days old: 3 plain stories (removed whole) and 2 reports of a meeting (cited by
    // an event: kept without their text); 60 days old: 2 (identity gone, text kept);
    // new: 2 (untouched).
    let mut batch = Vec::new();
    for n in 0..3 {
        batch.push(item("old", n, days_ago(400), false));
    }
    for n in 3..5 {
        batch.push(item("old", n, days_ago(400), true));
    }
    for n in 5..7 {
        batch.push(item("mid", n, days_ago(60), false));
    }
    for n in 7..9 {
        batch.push(item("new", n, days_ago(0), false));
    }
    ingest(&ws, std::slice::from_ref(&batch));
    let events_before = ws.ok(&["events", "--json"]);
    assert!(
        !json(&events_before).as_array().unwrap().is_empty(),
        "the meeting is an event"
    );

    let dry = json(&ws.ok(&["store", "prune", "--dry-run", "--json"]));
    assert_eq!(dry["identities"], 7, "{dry}");
    assert_eq!(dry["texts"], 5, "{dry}");
    assert_eq!(dry["stories"], 3, "{dry}");
    assert_eq!(dry["cited_kept"], 2, "{dry}");
    assert_eq!(
        json(&ws.ok(&["stories", "--json"]))
            .as_array()
            .unwrap()
            .len(),
        9,
        "a dry run removes nothing"
    );
    let text = ws.ok(&["store", "prune", "--dry-run"]);
    assert!(
        text.starts_with("would remove: the dedup keys of 7 stories"),
        "{text}"
    );

    let done = json(&ws.ok(&["store", "prune", "--json"]));
    assert_eq!(
        (
            &done["identities"],
            &done["texts"],
            &done["stories"],
            &done["cited_kept"]
        ),
        (
            &dry["identities"],
            &dry["texts"],
            &dry["stories"],
            &dry["cited_kept"]
        ),
        "{done}"
    );
    let stories = json(&ws.ok(&["stories", "--json"]));
    let stories = stories.as_array().unwrap();
    assert_eq!(stories.len(), 6);
    for s in stories {
        let feed = s["feed"].as_str().unwrap();
        let text = s["text"].as_str().unwrap();
        match feed {
            "old" => {
                assert!(s["title"].as_str().unwrap().starts_with("Wang Yi"), "{s}");
                assert!(s["url"]
                    .as_str()
                    .unwrap()
                    .starts_with("https://news.example/old/"));
                assert!(text.is_empty(), "{s}");
            }
            "mid" | "new" => assert!(!text.is_empty(), "{s}"),
            other => panic!("{other}"),
        }
    }
    assert_eq!(
        ws.ok(&["events", "--json"]),
        events_before,
        "events and evidence stay"
    );
    assert!(ws.ok(&["store", "check"]).contains("consistent"));
    let stats = json(&ws.ok(&["store", "stats", "--json"]));
    assert_eq!(stats["stories"], 6);
    let bands = stats["stories_by_age"].as_array().unwrap();
    let band = |name: &str| bands.iter().find(|b| b["band"] == name).unwrap().clone();
    assert_eq!(band("< 1d")["stories"], 2);
    assert_eq!(band("30d–90d")["with_text"], 2);
    assert_eq!(band("≥ 365d")["stories"], 2);
    assert_eq!(band("≥ 365d")["with_text"], 0);
    let trees = stats["trees"].as_array().unwrap();
    let keys = |name: &str| trees.iter().find(|t| t["name"] == name).unwrap()["keys"].clone();
    assert_eq!(
        keys("idx_guid"),
        2,
        "only the new stories keep their GUID keys"
    );
    assert_eq!(keys("idx_time"), 6);

    // The mid-aged items come back as new stories: their identity is gone.
    ingest(&ws, &[batch[5..7].to_vec()]);
    assert_eq!(
        json(&ws.ok(&["stories", "--json"]))
            .as_array()
            .unwrap()
            .len(),
        8
    );
    // And nothing more is due.
    let again = json(&ws.ok(&["store", "prune", "--json"]));
    assert_eq!(
        (&again["identities"], &again["stories"]),
        (&0.into(), &0.into())
    );
}

#[test]
fn compaction_gives_the_space_back_and_keeps_every_listing() {
    let ws = Workspace::new(
        "[retention]\nstory_identity = \"1d\"\nstory_text = \"1d\"\nstories = \"1d\"\n",
    );
    let old: Vec<Candidate> = (0..3000)
        .map(|n| item("old", n, days_ago(10), false))
        .collect();
    let new: Vec<Candidate> = (3000..3100)
        .map(|n| item("new", n, days_ago(0), false))
        .collect();
    ingest(&ws, &[old, new]);
    let store_dir = ws.data_dir().join("store");
    let full = dir_size(&store_dir);
    let pruned = json(&ws.ok(&["store", "prune", "--json"]));
    assert_eq!(pruned["stories"], 3000);
    let after_prune = dir_size(&store_dir);
    let before = listings(&ws);
    assert_eq!(json(&before[0]).as_array().unwrap().len(), 100);

    let out = ws.ok(&["store", "compact"]);
    assert!(out.starts_with("compacted "), "{out}");
    let compacted = dir_size(&store_dir);
    eprintln!(
        "store of 3,100 stories: {full} bytes; after pruning 3,000: {after_prune} bytes; \
         compacted: {compacted} bytes"
    );
    assert!(
        compacted * 2 < after_prune,
        "compaction gives the space back: {after_prune} → {compacted} bytes"
    );
    assert_eq!(listings(&ws), before);
    assert!(ws.ok(&["store", "check"]).contains("consistent"));
    assert!(!ws.data_dir().join("store.compacting").exists());
    // New stories get new ids above the old ones.
    ingest(&ws, &[vec![item("new", 5000, days_ago(0), false)]]);
    let stories = json(&ws.ok(&["stories", "--json", "--limit", "1000"]));
    let ids: std::collections::HashSet<u64> = stories
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["id"].as_u64().unwrap())
        .collect();
    assert_eq!(ids.len(), 101, "no id reused");
    assert!(ws.ok(&["store", "check"]).contains("consistent"));

    // While a daemon holds the store, compaction refuses and says why.
    let mut daemon = ws.spawn_daemon(&[]);
    ws.wait_ready(Duration::from_secs(30));
    let out = ws.run(&["store", "compact"]);
    common::terminate(&mut daemon, Duration::from_secs(10));
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("in use"), "{err}");
}

#[test]
fn a_kill_during_pruning_loses_no_event_and_leaves_the_store_consistent() {
    let ws = Workspace::new(
        "[retention]\nstory_identity = \"1d\"\nstory_text = \"1d\"\nstories = \"1d\"\n\
         prune_every = \"1h\"\nbatch = 1\n",
    );
    // Many old stories, removed one per batch; some cite an event.
    let old: Vec<Candidate> = (0..4000)
        .map(|n| item("old", n, days_ago(10), n % 200 == 0))
        .collect();
    ingest(&ws, &[old]);
    let events_before = ws.ok(&["events", "--json", "--limit", "100000"]);
    assert!(!json(&events_before).as_array().unwrap().is_empty());
    let mut daemon = ws.spawn_daemon(&[]);
    common::wait_for(Duration::from_secs(60), "pruning to start", || {
        ws.log().contains("pruning by [retention]")
    });
    std::thread::sleep(Duration::from_millis(300));
    common::signal(&daemon, "KILL");
    daemon.wait().unwrap();
    let log = ws.log();
    let finished = log.contains(" pruned");
    eprintln!(
        "killed {} the prune cycle had finished",
        if finished { "after" } else { "before" }
    );

    let check = ws.run(&["store", "check"]);
    let out = String::from_utf8_lossy(&check.stdout);
    assert!(
        check.status.success() && out.contains("consistent"),
        "{out}"
    );
    assert_eq!(
        ws.ok(&["events", "--json", "--limit", "100000"]),
        events_before,
        "no event lost"
    );
    let stories = json(&ws.ok(&["stories", "--json", "--limit", "100000"]));
    let n = stories.as_array().unwrap().len();
    assert!(n >= 20, "the cited stories stay: {n}");
    // The next prune finishes the work.
    ws.ok(&["store", "prune"]);
    assert_eq!(
        json(&ws.ok(&["stories", "--json", "--limit", "100000"]))
            .as_array()
            .unwrap()
            .len(),
        20,
        "only the 20 cited stories are left"
    );
    assert!(ws.ok(&["store", "check"]).contains("consistent"));
}
