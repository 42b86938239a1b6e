//! The store's maintenance on PostgreSQL (`TIDINGS_TEST_DATABASE_URL`, which `.ci/run`
//! sets): a sled store filled from the real captures moves to PostgreSQL by export and
//! import and back again with the same stories, events and alerts; the consistency
//! check names what the schema's constraints do not prevent; an import stopped by a bad
//! line keeps nothing; `tidings store stats|check|prune|export|import` work on a
//! PostgreSQL store through the real binary; and the web view's pages render from a
//! PostgreSQL store as from sled.

mod common;

use std::path::Path;

use chrono::{DateTime, Utc};
use common::pg::database_or_skip;
use common::{shared_dir_or_skip, Workspace};
use sqlx::{AssertSqlSafe, Connection};
use tidings::detect::Detector;
use tidings::model::{AlertReason, Candidate, Event, EventChange, FeedState, IngestOutcome, Story};
use tidings::poll::detect_story;
use tidings::store::{AlertState, EventQuery, IngestHooks, Store, StoreError, StoryQuery};

/// An alert to the desk for every new or updated event.
fn route(change: &EventChange, _: &Event) -> Option<(AlertReason, Vec<String>)> {
    let reason = match *change {
        EventChange::New(_) => AlertReason::New,
        EventChange::Updated { from, .. } => AlertReason::Updated { from },
        EventChange::Corroborated(_) => return None,
    };
    Some((reason, vec!["desk".to_string()]))
}

/// Ingests each batch as a poll would, with the embedded detector. Returns how many
/// entries were new stories.
fn ingest(store: &Store, detector: &Detector, batches: &[Vec<Candidate>]) -> usize {
    let detect = |s: &Story| detect_story(detector, s);
    let hooks = IngestHooks {
        detect: &detect,
        route: &route,
    };
    batches
        .iter()
        .map(|batch| {
            store
                .ingest_batch(batch, &hooks)
                .unwrap()
                .iter()
                .filter(|i| matches!(i.outcome, IngestOutcome::New(_)))
                .count()
        })
        .sum()
}

/// Everything a person reads from a store, whole.
#[derive(Debug, PartialEq)]
struct Contents {
    stories: Vec<Story>,
    events: Vec<Event>,
    pending: Vec<tidings::model::Alert>,
    dead: Vec<tidings::model::Alert>,
    feeds: Vec<FeedState>,
    circuits: Vec<tidings::model::SinkCircuit>,
    delivered: u64,
}

fn contents(store: &Store) -> Contents {
    Contents {
        stories: store.stories(&StoryQuery::default()).unwrap(),
        events: store.events(&EventQuery::default()).unwrap(),
        pending: store.list_alerts(AlertState::Pending, usize::MAX).unwrap(),
        dead: store.list_alerts(AlertState::Dead, usize::MAX).unwrap(),
        feeds: store.feed_states().unwrap(),
        circuits: store.sink_circuits().unwrap(),
        delivered: store.outbox_counts().unwrap().delivered,
    }
}

#[test]
fn a_sled_store_from_the_real_captures_moves_to_postgres_and_back_unchanged() {
    let Some(shared) = shared_dir_or_skip("pg_maintenance_round_trip") else {
        return;
    };
    let Some(db) = database_or_skip("pg_maintenance_round_trip") else {
        return;
    };
    let detector = Detector::embedded().unwrap();
    let batches = common::captured_batches(&shared);
    let dir = tempfile::tempdir().unwrap();
    let sled_path = dir.path().join("sled");
    let dump = {
        let sled = Store::open(&sled_path).unwrap();
        let new = ingest(&sled, &detector, &batches);
        assert!(new > 1000, "the captures hold thousands of stories: {new}");
        // One alert delivered and one dead, so that every list has entries.
        let due = sled.due_alerts(Utc::now(), 2).unwrap();
        assert_eq!(due.len(), 2, "the captures raise alerts");
        sled.alert_delivered(&due[0]).unwrap();
        sled.alert_dead(&due[1], "gone (test)".into(), Utc::now())
            .unwrap();
        let feed = FeedState {
            id: "bbc".into(),
            consecutive_failures: 1,
            ..Default::default()
        };
        sled.put_feed_state(&feed).unwrap();
        let mut dump = Vec::new();
        sled.export(&mut dump).unwrap();
        sled.flush().unwrap();
        dump
    };
    let before = contents(&Store::open(&sled_path).unwrap());
    assert!(!before.events.is_empty() && !before.dead.is_empty());

    let pg = Store::connect_postgres(&db.url, 4).unwrap();
    let report = pg.import_into(dump.as_slice(), false).unwrap();
    assert_eq!(report.stories as usize, before.stories.len());
    assert_eq!(report.events as usize, before.events.len());
    assert_eq!(contents(&pg), before, "the same records, ids kept");
    let check = pg.check().unwrap();
    assert!(check.is_ok(), "{:?}", check.described);
    assert_eq!(check.stories as usize, before.stories.len());
    let stats = pg.stats(Utc::now()).unwrap();
    assert_eq!(stats.stories as usize, before.stories.len());
    assert_eq!(stats.alerts_delivered, 1);

    // Dedup in PostgreSQL knows every imported story, near-duplicates included: the
    // captures again add none.
    assert_eq!(ingest(&pg, &detector, &batches), 0);
    let after_again = contents(&pg);
    assert_eq!(after_again.stories.len(), before.stories.len());
    assert_eq!(after_again.events.len(), before.events.len());

    // And back: PostgreSQL's export into a new sled store reads the same.
    let mut back = Vec::new();
    let exported = pg.export(&mut back).unwrap();
    assert_eq!(exported.stories as usize, before.stories.len());
    let sled_again = dir.path().join("sled-again");
    Store::import(&sled_again, back.as_slice(), false).unwrap();
    let reopened = open_sled(&sled_again);
    assert_eq!(contents(&reopened), after_again);
    let check = reopened.check().unwrap();
    assert!(check.is_ok(), "{:?}", check.described);
    // sled's dedup knows them too.
    assert_eq!(ingest(&reopened, &detector, &batches), 0);
}

/// Opens a sled store just written by another handle (sled lets go of its lock from
/// a background thread).
fn open_sled(path: &Path) -> Store {
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(5);
    loop {
        match Store::open(path) {
            Err(StoreError::InUse { .. }) if std::time::Instant::now() < deadline => {
                std::thread::sleep(std::time::Duration::from_millis(20))
            }
            other => return other.unwrap(),
        }
    }
}

/// Runs `statements` on the database at `url` with foreign keys and their cascades
/// off (as a faulty restore or a hand edit could leave it).
fn break_with(url: &str, statements: &[&str]) {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    runtime.block_on(async {
        let mut c = sqlx::PgConnection::connect(url).await.unwrap();
        sqlx::raw_sql("SET session_replication_role = replica")
            .execute(&mut c)
            .await
            .unwrap();
        for s in statements {
            sqlx::raw_sql(AssertSqlSafe(s.to_string()))
                .execute(&mut c)
                .await
                .unwrap_or_else(|e| panic!("{s}: {e}"));
        }
    });
}

fn meeting_entry(feed: &str, guid: &str, at: DateTime<Utc>) -> Candidate {
    Candidate {
        feed: feed.into(),
        guid: guid.into(),
        guid_derived: false,
        url: Some(format!("https://{feed}.example/{guid}")),
        raw_url: None,
        title: "Ministers meet in Madrid".into(),
        text: "The foreign ministers of Spain and Portugal met in Madrid on Tuesday to discuss trade and security.".into(),
        published: Some(at),
        language: Some("en".into()),
        seen_at: at,
    }
}

#[test]
fn the_check_names_what_the_constraints_do_not_prevent() {
    let Some(db) = database_or_skip("pg_maintenance_check") else {
        return;
    };
    let pg = Store::connect_postgres(&db.url, 2).unwrap();
    let detector = Detector::embedded().unwrap();
    let at = Utc::now();
    let plain = Candidate {
        title: "Markets steady".into(),
        text: "Stocks closed little changed as traders waited for new figures.".into(),
        ..meeting_entry("wire", "w2", at)
    };
    ingest(
        &pg,
        &detector,
        &[vec![meeting_entry("wire", "w1", at), plain]],
    );
    let stories = pg.stories(&StoryQuery::default()).unwrap();
    let cited = stories
        .iter()
        .find(|s| s.title.starts_with("Ministers"))
        .unwrap()
        .id;
    let other = stories.iter().find(|s| s.id != cited).unwrap().id;
    let event = pg.events(&EventQuery::default()).unwrap()[0].id;
    let alert = pg.list_alerts(AlertState::Pending, 10).unwrap()[0].id;
    let report = pg.check().unwrap();
    assert!(report.is_ok(), "{:?}", report.described);
    assert_eq!((report.stories, report.events, report.alerts), (2, 1, 1));

    break_with(
        &db.url,
        &[
            // A cited story gone, its key rows left behind.
            &format!("DELETE FROM stories WHERE id = {cited}"),
            // A story listed under a feed its record does not name.
            &format!("UPDATE stories SET feed = 'elsewhere' WHERE id = {other}"),
            // A GUID row from a feed the story's record does not name.
            &format!("INSERT INTO story_guids (feed, guid, story) VALUES ('extra', 'x1', {other})"),
            // An alert whose state column and record disagree.
            &format!("UPDATE alerts SET dead = true WHERE id = {alert}"),
        ],
    );
    let report = pg.check().unwrap();
    assert!(!report.is_ok());
    let all = report.described.join("\n");
    for expected in [
        format!("events: event {event} cites story {cited}, which is missing"),
        format!("story_guids: a key leads to story {cited}, which is missing"),
        format!("story_hashes: a key leads to story {cited}, which is missing"),
        format!(
            "stories: story {other} is listed under feed \"elsewhere\", its record says \"wire\""
        ),
        "story_guids: feed \"extra\" counts 1 stories, the stories' records have 0".to_string(),
        format!("alerts: alert {alert} is listed in the wrong state"),
    ] {
        assert!(all.contains(&expected), "{expected:?} not in:\n{all}");
    }
    assert_eq!(report.problems as usize, report.described.len());

    // An alert whose event retention removed is no fault: it carries its event.
    break_with(
        &db.url,
        &[
            &format!("DELETE FROM events WHERE id = {event}"),
            &format!("UPDATE alerts SET dead = false WHERE id = {alert}"),
        ],
    );
    let all = pg.check().unwrap().described.join("\n");
    assert!(!all.contains("alerts:"), "{all}");
}

#[test]
fn an_import_stopped_by_a_bad_line_keeps_nothing_and_says_where() {
    let Some(db) = database_or_skip("pg_maintenance_bad_import") else {
        return;
    };
    let source = tempfile::tempdir().unwrap();
    let dump = {
        let sled = Store::open(source.path()).unwrap();
        let detector = Detector::embedded().unwrap();
        ingest(
            &sled,
            &detector,
            &[vec![meeting_entry("wire", "w1", Utc::now())]],
        );
        let mut dump = Vec::new();
        sled.export(&mut dump).unwrap();
        String::from_utf8(dump).unwrap()
    };
    let pg = Store::connect_postgres(&db.url, 2).unwrap();
    let lines: Vec<&str> = dump.lines().collect();
    // A story line whose signature is not base64, after good lines.
    let story = lines
        .iter()
        .position(|l| l.starts_with("{\"story\""))
        .unwrap();
    let mut broken: serde_json::Value = serde_json::from_str(lines[story]).unwrap();
    broken["story"]["signature"] = "not base64!".into();
    let mut bad: Vec<String> = lines.iter().map(|l| l.to_string()).collect();
    bad[story] = broken.to_string();
    let err = pg
        .import_into(bad.join("\n").as_bytes(), false)
        .unwrap_err();
    let message = err.to_string();
    assert!(
        message.starts_with(&format!("import, line {}: story ", story + 1)),
        "{message}"
    );
    assert!(message.contains("signature"), "{message}");
    assert_eq!(pg.story_count().unwrap(), 0, "nothing kept");
    assert!(pg.feed_states().unwrap().is_empty());
    // A truncated record line.
    let mut cut: Vec<String> = lines.iter().map(|l| l.to_string()).collect();
    cut.push("{\"event\": {\"id\": ".into());
    let err = pg
        .import_into(cut.join("\n").as_bytes(), false)
        .unwrap_err();
    assert!(
        matches!(err, StoreError::Import { line, .. } if line as usize == cut.len()),
        "{err}"
    );
    assert_eq!(pg.story_count().unwrap(), 0);
    // Empty input.
    let err = pg.import_into(&b""[..], false).unwrap_err();
    assert!(err.to_string().contains("empty input"), "{err}");
    // The whole file imports.
    pg.import_into(dump.as_bytes(), false).unwrap();
    assert_eq!(pg.story_count().unwrap(), 1);
}

#[test]
fn the_store_commands_work_on_a_postgres_store() {
    let Some(db) = database_or_skip("pg_maintenance_cli") else {
        return;
    };
    // A sled store with one story and its event, exported by the binary.
    let sled_ws = Workspace::new("");
    {
        std::fs::create_dir_all(sled_ws.data_dir()).unwrap();
        let sled = Store::open(&sled_ws.data_dir().join("store")).unwrap();
        let detector = Detector::embedded().unwrap();
        ingest(
            &sled,
            &detector,
            &[vec![meeting_entry("wire", "w1", Utc::now())]],
        );
        sled.flush().unwrap();
    }
    let dump = sled_ws.dir.path().join("dump.jsonl");
    sled_ws.ok(&["store", "export", dump.to_str().unwrap()]);

    let ws = Workspace::new("[store]\nbackend = \"postgres\"\nurl_file = \"db.url\"\n");
    std::fs::write(ws.dir.path().join("db.url"), format!("{}\n", db.url)).unwrap();
    let imported = ws.ok(&["store", "import", dump.to_str().unwrap()]);
    assert!(
        imported.starts_with("imported 0 feeds, 1 stories, 1 events, 1 alerts into PostgreSQL"),
        "{imported}"
    );
    assert!(!ws.data_dir().join("store").exists(), "no sled store made");
    assert_eq!(
        ws.ok(&["stories", "--json"]),
        sled_ws.ok(&["stories", "--json"])
    );
    assert!(ws.ok(&["store", "check"]).contains("consistent"));
    let stats: serde_json::Value =
        serde_json::from_str(&ws.ok(&["store", "stats", "--json"])).unwrap();
    assert_eq!(stats["stories"], 1);
    assert_eq!(stats["events"], 1);
    assert!(stats["path"].as_str().unwrap().starts_with("postgres://"));
    assert!(stats.get("trees").is_none());
    assert!(stats["tables"]
        .as_array()
        .unwrap()
        .iter()
        .any(|t| t["name"] == "stories" && t["rows"] == 1));
    let text = ws.ok(&["store", "stats"]);
    assert!(text.contains("table") && text.contains("stories"), "{text}");
    // A second import into the now full database is refused.
    let again = ws.run(&["store", "import", dump.to_str().unwrap()]);
    assert!(!again.status.success());
    assert!(
        String::from_utf8_lossy(&again.stderr).contains("already holds"),
        "{}",
        String::from_utf8_lossy(&again.stderr)
    );
    // Retention's dry run reads the database too.
    let dry: serde_json::Value =
        serde_json::from_str(&ws.ok(&["store", "prune", "--dry-run", "--json"])).unwrap();
    assert_eq!(dry["stories"], 0, "{dry}");
    // And out again, to standard output.
    let out = ws.ok(&["store", "export"]);
    assert_eq!(
        out.lines().count(),
        5,
        "header, story, event, alert, meta: {out}"
    );
}

/// A feed with two meetings the detector finds, published `days` ago.
fn meetings_feed() -> String {
    let day = |d: i64| (Utc::now() - chrono::Duration::days(d)).to_rfc2822();
    format!(
        r#"<?xml version="1.0"?>
<rss version="2.0"><channel><title>Wire</title><link>https://wire.example/</link><description>d</description>
<item><title>Ministers meet in Madrid</title><link>https://wire.example/1</link><guid>w-1</guid>
<pubDate>{}</pubDate>
<description>The foreign ministers of Spain and Portugal met in Madrid on Tuesday to discuss trade and security.</description></item>
<item><title>Macron and Merz meet in Berlin</title><link>https://wire.example/2</link><guid>w-2</guid>
<pubDate>{}</pubDate>
<description>French President Emmanuel Macron met German Chancellor Friedrich Merz in Berlin on Tuesday.</description></item>
</channel></rss>"#,
        day(2),
        day(4)
    )
}

/// Starts a daemon on `store` (a `[store]` table, or "" for sled) polling `feed`, the
/// database URL (if any) in `db.url`; returns it with its base URL (from the
/// `daemon.json` it writes in its data directory) once its first poll's events are
/// stored.
fn desk(store: &str, url: Option<&str>, feed: &str) -> (Workspace, std::process::Child, String) {
    let ws = Workspace::new(&format!(
        "{store}\n[[feeds]]\nid = \"wire\"\nurl = \"{feed}\"\ninterval = \"1h\"\n\n\
         [api]\nlisten = \"127.0.0.1:0\"\ntoken_file = \"api.token\"\n"
    ));
    std::fs::write(ws.dir.path().join("api.token"), "t0ken\n").unwrap();
    if let Some(url) = url {
        std::fs::write(ws.dir.path().join("db.url"), format!("{url}\n")).unwrap();
    }
    let daemon = ws.spawn_daemon(&[]);
    let base = ws.wait_ready(std::time::Duration::from_secs(60));
    common::wait_for(
        std::time::Duration::from_secs(60),
        "the first poll's events",
        || {
            common::http_request("GET", &format!("{base}/api/v1/events"), Some("t0ken"))
                .and_then(|(_, body)| serde_json::from_str::<serde_json::Value>(&body).ok())
                .is_some_and(|v| v.as_array().is_some_and(|a| a.len() == 2))
        },
    );
    (ws, daemon, base)
}

/// `html` with the numbers after an id's marker replaced by `#`.
fn without_ids(html: &str) -> String {
    let mut out = html.to_string();
    for marker in ["data-event-id=\"", "/events/", "/stories/", "/event-row/"] {
        let mut done = String::new();
        let mut rest = out.as_str();
        while let Some(at) = rest.find(marker) {
            let (before, after) = rest.split_at(at + marker.len());
            done.push_str(before);
            let digits = after.bytes().take_while(u8::is_ascii_digit).count();
            if digits > 0 {
                done.push('#');
            }
            rest = &after[digits..];
        }
        done.push_str(rest);
        out = done;
    }
    out
}

#[test]
fn the_web_views_pages_render_from_postgres_as_from_sled() {
    let Some(db) = database_or_skip("pg_maintenance_web") else {
        return;
    };
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let listener = runtime
        .block_on(tokio::net::TcpListener::bind("127.0.0.1:0"))
        .unwrap();
    let feed = format!("http://{}/feed.xml", listener.local_addr().unwrap());
    let body = meetings_feed();
    let app = axum::Router::new().route(
        "/feed.xml",
        axum::routing::get(move || {
            let body = body.clone();
            async move { ([("content-type", "application/rss+xml")], body) }
        }),
    );
    runtime.spawn(async move { axum::serve(listener, app).await.unwrap() });

    let (sled_ws, mut sled_daemon, sled_base) = desk("", None, &feed);
    let (pg_ws, mut pg_daemon, pg_base) = desk(
        "[store]\nbackend = \"postgres\"\nurl_file = \"db.url\"\n",
        Some(&db.url),
        &feed,
    );
    let page = |base: &str, path: &str| {
        let (status, html) =
            common::http_request("GET", &format!("{base}{path}"), Some("t0ken")).unwrap();
        assert_eq!(status, 200, "{path}: {html}");
        html
    };
    for path in [
        "/",
        "/?country=ESP",
        "/?type=bilateral_meeting",
        "/map",
        "/countries/ESP",
    ] {
        let html = page(&pg_base, path);
        assert!(
            html.contains("ESP") || html.contains("Spain"),
            "{path} names Spain:\n{html}"
        );
    }
    assert!(page(&pg_base, "/timeline").contains("<svg"));
    // Pages built from the reads alone (no ids in them) are the same on both.
    // The same pages on both, but for the ids (sled numbers stories, events and alerts
    // from one generator, PostgreSQL from a sequence each).
    for path in [
        "/",
        "/?country=PRT",
        "/timeline",
        "/map",
        "/countries/ESP",
        "/countries/DEU",
    ] {
        assert_eq!(
            without_ids(&page(&pg_base, path)),
            without_ids(&page(&sled_base, path)),
            "{path}"
        );
    }
    assert!(common::terminate(
        &mut pg_daemon,
        std::time::Duration::from_secs(20)
    ));
    assert!(common::terminate(
        &mut sled_daemon,
        std::time::Duration::from_secs(20)
    ));
    drop((sled_ws, pg_ws));
}
