//! The store's maintenance calls on PostgreSQL, with the sled backend's report types:
//! `stats` ([`StoreStats`]: counts, stories by age, rows and bytes per table), `check`
//! ([`CheckReport`]), `export` and `import` in the versioned JSONL format of
//! `store/export.rs`, so that a sled store moves to PostgreSQL by `tidings store
//! export` on sled and `tidings store import` with `[store] backend = "postgres"` (and
//! back the same way).
//!
//! **Check.** The schema's constraints already keep a dedup key on one story and every
//! key row on a story that exists (foreign keys). What they do not keep, the check
//! reads: every record decodes and agrees with the columns read beside it (id, feed,
//! publication time; an event's type, key, anchor, modality and countries; an alert's
//! event and dead flag); every story an event cites is there; every key and band row
//! leads to a story (should a foreign key ever be disabled); each story that keeps its
//! identity has a GUID row for each of its copies; and per feed, the stories its GUID
//! rows lead to are as many as the stories (keeping their identity) whose records name
//! it. An alert whose event is gone is no fault: the alert carries a copy of its event,
//! and retention removes events by their own period, pending alerts or not (as sled
//! does).
//!
//! **Export** reads one REPEATABLE READ snapshot, streamed: rows go to the writer as
//! they come, through a bounded channel, never the whole table in memory. A story's
//! signature is written as sled stores it (publication time ‖ MinHash, big-endian);
//! the meta line carries the delivered count and, as sled's pruning meta_updates, the lowest
//! story id each stage (signature, identity, text) has not reached.
//!
//! **Import** runs in one transaction — a bad line (which the error names, with what
//! is wrong) leaves the database as it was — into a database with no feed state, story,
//! event or alert unless forced. Ids are kept; the band keys are computed again from
//! the signature; which pruning stages a story has been through follows from what its
//! line holds (no GUID: identity dropped; no text: text dropped) and the meta_updates of the
//! meta line; the id sequences are set above every imported id.

use std::collections::BTreeMap;
use std::future::Future;
use std::io::{BufRead, Write};
use std::sync::mpsc::{sync_channel, Receiver, SyncSender};

use base64::Engine;
use chrono::{DateTime, Utc};
use futures_util::TryStreamExt;
use sqlx::{PgConnection, PgPool, Row};

use super::events::{decode_event, modality_text};
use super::ingest::{db_id, db_key, decode, decode_signature, encode_signature};
use super::{PgError, PgStore};
use crate::dedup::Fingerprint;
use crate::model::{Alert, Event, FeedState, SinkCircuit, Story};
use crate::store::codec;
use crate::store::export::{b64, check_header, Header, Line, StoryLine, FORMAT_NAME};
use crate::store::stats::{band_of, empty_bands};
use crate::store::{
    CheckReport, ExportReport, ImportReport, StoreError, StoreStats, TableStats,
    EXPORT_FORMAT_VERSION, SCHEMA_VERSION,
};

/// Rows sent ahead of the reader or the writer at most.
const AHEAD: usize = 256;

/// The meta keys of the export format (as sled names them).
const DELIVERED: &str = "alerts_delivered";
const SIGNATURE_CURSOR: &str = "prune_signature_below";
const IDENTITY_CURSOR: &str = "prune_identity_below";
const TEXT_CURSOR: &str = "prune_text_below";

fn decode_json<T: serde::de::DeserializeOwned>(
    table: &'static str,
    id: String,
    record: serde_json::Value,
) -> Result<T, PgError> {
    serde_json::from_value(record).map_err(|source| PgError::Decode { table, id, source })
}

fn count(n: i64) -> u64 {
    u64::try_from(n).unwrap_or(0)
}

impl PgStore {
    /// Runs `work` on its own thread, on the backend's runtime, while the caller runs
    /// `here`; they talk through a bounded channel (`work` gets the pool and, through
    /// `connect`, its end of the channel). Neither needs the other's data to be `Send`
    /// beyond what crosses the channel.
    fn alongside<W, Fut, H, A, B>(&self, work: W, here: H) -> Result<(A, B), StoreError>
    where
        W: FnOnce(PgPool) -> Fut + Send,
        Fut: Future<Output = Result<A, PgError>>,
        A: Send,
        H: FnOnce() -> Result<B, StoreError>,
    {
        let runtime = self.runtime.as_ref().ok_or(PgError::Lost)?;
        let pool = self.pool.clone();
        std::thread::scope(|scope| {
            let worker = scope.spawn(move || runtime.block_on(work(pool)));
            let mine = here();
            let theirs = worker.join().map_err(|_| PgError::Lost)?;
            // The caller's error first: the worker only stopped because of it.
            let mine = mine?;
            Ok((theirs?, mine))
        })
    }

    // --- stats

    /// Counts, stories by age at `now`, and rows and bytes per table (see
    /// `store/stats.rs` for how the fields map).
    pub fn stats(&self, now: DateTime<Utc>) -> Result<StoreStats, PgError> {
        let path = self.target.clone();
        self.run(move |pool| async move {
            let what = "reading the store's statistics";
            let names: Vec<String> = sqlx::query_scalar(
                "SELECT c.relname::text FROM pg_class c \
                 JOIN pg_namespace n ON n.oid = c.relnamespace \
                 WHERE n.nspname = current_schema() AND c.relkind IN ('r', 'p') \
                 ORDER BY c.relname COLLATE \"C\"",
            )
            .fetch_all(&pool)
            .await
            .map_err(PgError::query(what))?;
            let mut tables = Vec::with_capacity(names.len());
            for name in names {
                let quoted = format!("\"{}\"", name.replace('"', "\"\""));
                let row = sqlx::query(sqlx::AssertSqlSafe(format!(
                    "SELECT (SELECT count(*) FROM {quoted}), \
                            pg_total_relation_size($1::text::regclass)"
                )))
                .bind(&quoted)
                .fetch_one(&pool)
                .await
                .map_err(PgError::query(what))?;
                tables.push(TableStats {
                    name,
                    rows: count(row.get(0)),
                    bytes: count(row.get(1)),
                });
            }
            let mut bands = empty_bands();
            // Whole days since first seen, truncated as chrono's `num_days` does.
            let rows = sqlx::query(
                "SELECT trunc(extract(epoch FROM ($1 - first_seen)) / 86400)::bigint AS days, \
                        count(*), count(*) FILTER (WHERE record ->> 'text' <> '') \
                 FROM stories GROUP BY days",
            )
            .bind(now)
            .fetch_all(&pool)
            .await
            .map_err(PgError::query(what))?;
            let mut stories = 0;
            for r in rows {
                let at = band_of(r.get(0));
                bands[at].stories += count(r.get(1));
                bands[at].with_text += count(r.get(2));
                stories += count(r.get(1));
            }
            let row = sqlx::query(
                "SELECT (SELECT count(*) FROM events), \
                        (SELECT count(*) FROM alerts WHERE NOT dead), \
                        (SELECT count(*) FROM alerts WHERE dead), \
                        (SELECT value FROM counters WHERE name = 'alerts_delivered')",
            )
            .fetch_one(&pool)
            .await
            .map_err(PgError::query(what))?;
            let disk_bytes = tables.iter().map(|t| t.bytes).sum::<u64>();
            Ok(StoreStats {
                path,
                disk_bytes,
                trees: Vec::new(),
                tables,
                stories,
                stories_by_age: bands,
                events: count(row.get(0)),
                alerts_pending: count(row.get(1)),
                alerts_dead: count(row.get(2)),
                alerts_delivered: count(row.get::<Option<i64>, _>(3).unwrap_or(0)),
                disk_bytes_per_story: disk_bytes.checked_div(stories).unwrap_or(0),
            })
        })
    }

    // --- check

    /// Checks records, columns, references and counts against each other (see the
    /// module docs). Reads every row once, in pages.
    pub fn check(&self) -> Result<CheckReport, PgError> {
        self.run(|pool| async move {
            let mut r = CheckReport::default();
            check_stories(&pool, &mut r).await?;
            check_events(&pool, &mut r).await?;
            check_alerts(&pool, &mut r).await?;
            check_keys(&pool, &mut r).await?;
            Ok(r)
        })
    }

    // --- export

    /// Writes the whole store to `out` in the export format (see the module docs).
    pub fn export(&self, mut out: impl Write) -> Result<ExportReport, StoreError> {
        let (tx, rx) = sync_channel::<Line>(AHEAD);
        let ((), report) = self.alongside(
            move |pool| async move { export_rows(&pool, tx).await },
            || write_lines(&mut out, rx),
        )?;
        Ok(report)
    }

    // --- import

    /// Reads an export into this database, which must hold no feed state, story, event
    /// or alert unless `force` (then records with the same ids are replaced). All or
    /// nothing: one transaction.
    pub fn import(&self, input: impl BufRead, force: bool) -> Result<ImportReport, StoreError> {
        let (tx, rx) = sync_channel::<Msg>(AHEAD);
        let target = self.target.clone();
        let (report, ()) = self.alongside(
            move |pool| async move { import_rows(&pool, rx, force, target).await },
            || read_lines(input, tx),
        )?;
        report.map_err(|(line, message)| StoreError::Import { line, message })
    }
}

// --- check, part by part

/// Rows read per page.
const PAGE: i64 = 1000;

/// Walks the rows of `query` a page at a time, in id order, calling `each` on every
/// row. The query takes the last id seen as `$1` and the page size as `$2`, and selects
/// the id first (`… WHERE id > $1 ORDER BY id LIMIT $2`).
async fn each_row(
    pool: &PgPool,
    what: &'static str,
    query: &'static str,
    mut each: impl FnMut(&sqlx::postgres::PgRow),
) -> Result<(), PgError> {
    let mut after = i64::MIN;
    loop {
        let rows = sqlx::query(query)
            .bind(after)
            .bind(PAGE)
            .fetch_all(pool)
            .await
            .map_err(PgError::query(what))?;
        let Some(last) = rows.last() else {
            return Ok(());
        };
        after = last.get(0);
        rows.iter().for_each(&mut each);
    }
}

async fn check_stories(pool: &PgPool, r: &mut CheckReport) -> Result<(), PgError> {
    each_row(
        pool,
        "checking stories",
        "SELECT id, feed, published, record FROM stories WHERE id > $1 ORDER BY id LIMIT $2",
        |row| {
            let id: i64 = row.get(0);
            r.stories += 1;
            let story: Story = match decode_json("stories", id.to_string(), row.get(3)) {
                Ok(s) => s,
                Err(e) => {
                    r.problem(format!("stories: story {id} does not decode: {e}"));
                    return;
                }
            };
            if db_id(story.id) != id {
                r.problem(format!(
                    "stories: record at id {id} holds story {}",
                    story.id
                ));
            }
            let feed: String = row.get(1);
            if story.feed != feed {
                r.problem(format!(
                    "stories: story {id} is listed under feed {feed:?}, its record says {:?}",
                    story.feed
                ));
            }
            // The column keeps microseconds.
            let published: DateTime<Utc> = row.get(2);
            if story.published.timestamp_micros() != published.timestamp_micros() {
                r.problem(format!(
                    "stories: story {id} is listed at {published}, its record says {}",
                    story.published
                ));
            }
        },
    )
    .await
}

async fn check_events(pool: &PgPool, r: &mut CheckReport) -> Result<(), PgError> {
    let what = "checking events";
    each_row(
        pool,
        what,
        "SELECT id, event_type, key, anchor, modality, countries, record FROM events \
         WHERE id > $1 ORDER BY id LIMIT $2",
        |row| {
            let id: i64 = row.get(0);
            r.events += 1;
            let event: Event = match decode_event(id, row.get(6)) {
                Ok(e) => e,
                Err(e) => {
                    r.problem(format!("events: event {id} does not decode: {e}"));
                    return;
                }
            };
            let columns_agree = db_id(event.id) == id
                && event.event_type == row.get::<String, _>(1)
                && event.key == row.get::<String, _>(2)
                && event.anchor == row.get::<chrono::NaiveDate, _>(3)
                && modality_text(event.modality) == row.get::<String, _>(4)
                && event.countries == row.get::<Vec<String>, _>(5);
            if !columns_agree {
                r.problem(format!(
                    "events: event {id}'s columns (id, type, key, day, modality, countries) \
                     differ from its record"
                ));
            }
        },
    )
    .await?;
    let missing = sqlx::query(
        "SELECT e.id, (src ->> 'story')::bigint AS story \
         FROM events e, jsonb_array_elements(e.record -> 'sources') AS src \
         WHERE NOT EXISTS (SELECT 1 FROM stories s WHERE s.id = (src ->> 'story')::bigint) \
         ORDER BY e.id, story",
    )
    .fetch_all(pool)
    .await
    .map_err(PgError::query(what))?;
    for row in missing {
        let (event, story): (i64, i64) = (row.get(0), row.get(1));
        r.problem(format!(
            "events: event {event} cites story {story}, which is missing"
        ));
    }
    Ok(())
}

async fn check_alerts(pool: &PgPool, r: &mut CheckReport) -> Result<(), PgError> {
    each_row(
        pool,
        "checking alerts",
        "SELECT id, event, dead, record FROM alerts WHERE id > $1 ORDER BY id LIMIT $2",
        |row| {
            let id: i64 = row.get(0);
            r.alerts += 1;
            let alert: Alert = match decode_json("alerts", id.to_string(), row.get(3)) {
                Ok(a) => a,
                Err(e) => {
                    r.problem(format!("alerts: alert {id} does not decode: {e}"));
                    return;
                }
            };
            if db_id(alert.id) != id || db_id(alert.event.id) != row.get::<i64, _>(1) {
                r.problem(format!(
                    "alerts: alert {id}'s columns (id, event) differ from its record"
                ));
            }
            if alert.dead.is_some() != row.get::<bool, _>(2) {
                r.problem(format!("alerts: alert {id} is listed in the wrong state"));
            }
        },
    )
    .await
}

async fn check_keys(pool: &PgPool, r: &mut CheckReport) -> Result<(), PgError> {
    let what = "checking the dedup keys";
    for table in ["story_guids", "story_urls", "story_hashes", "story_bands"] {
        let rows = sqlx::query(sqlx::AssertSqlSafe(format!(
            "SELECT DISTINCT k.story FROM {table} k \
             WHERE NOT EXISTS (SELECT 1 FROM stories s WHERE s.id = k.story) ORDER BY k.story"
        )))
        .fetch_all(pool)
        .await
        .map_err(PgError::query(what))?;
        for row in rows {
            let story: i64 = row.get(0);
            r.problem(format!(
                "{table}: a key leads to story {story}, which is missing"
            ));
        }
        let n: i64 =
            sqlx::query_scalar(sqlx::AssertSqlSafe(format!("SELECT count(*) FROM {table}")))
                .fetch_one(pool)
                .await
                .map_err(PgError::query(what))?;
        r.index_entries += count(n);
    }
    // Every copy of a story that keeps its identity is found by its (feed, GUID).
    let unindexed = sqlx::query(
        "SELECT s.id, src ->> 'feed', src ->> 'guid' \
         FROM stories s, jsonb_array_elements(s.record -> 'sources') AS src \
         WHERE NOT s.identity_dropped AND NOT EXISTS (SELECT 1 FROM story_guids g \
           WHERE g.feed = src ->> 'feed' AND g.guid = src ->> 'guid' AND g.story = s.id) \
         ORDER BY s.id",
    )
    .fetch_all(pool)
    .await
    .map_err(PgError::query(what))?;
    for row in unindexed {
        let (story, feed, guid): (i64, String, String) = (row.get(0), row.get(1), row.get(2));
        r.problem(format!(
            "story_guids: story {story}'s copy {guid:?} from feed {feed:?} has no GUID row"
        ));
    }
    // Each feed's count (`feed_story_count`) against the records.
    let counts = sqlx::query(
        "WITH recorded AS ( \
           SELECT src ->> 'feed' AS feed, count(DISTINCT s.id) AS n \
           FROM stories s, jsonb_array_elements(s.record -> 'sources') AS src \
           WHERE NOT s.identity_dropped GROUP BY 1), \
         keyed AS (SELECT feed, count(DISTINCT story) AS n FROM story_guids GROUP BY feed) \
         SELECT coalesce(k.feed, r.feed) AS feed, coalesce(k.n, 0), coalesce(r.n, 0) \
         FROM keyed k FULL JOIN recorded r ON r.feed = k.feed \
         WHERE coalesce(k.n, 0) <> coalesce(r.n, 0) ORDER BY 1",
    )
    .fetch_all(pool)
    .await
    .map_err(PgError::query(what))?;
    for row in counts {
        let (feed, keyed, recorded): (String, i64, i64) = (row.get(0), row.get(1), row.get(2));
        r.problem(format!(
            "story_guids: feed {feed:?} counts {keyed} stories, the stories' records have {recorded}"
        ));
    }
    Ok(())
}

// --- export, on the worker and on the caller

/// Sends every record, in the export's order, from one snapshot.
async fn export_rows(pool: &PgPool, out: SyncSender<Line>) -> Result<(), PgError> {
    let what = "exporting the store";
    let mut tx = pool.begin().await.map_err(PgError::query(what))?;
    sqlx::query("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY")
        .execute(&mut *tx)
        .await
        .map_err(PgError::query(what))?;
    // A closed channel: the writer failed and says why; stop quietly.
    macro_rules! send {
        ($line:expr) => {
            if out.send($line).is_err() {
                return Ok(());
            }
        };
    }
    {
        let mut rows = sqlx::query("SELECT id, state FROM feed_states ORDER BY id").fetch(&mut *tx);
        while let Some(row) = rows.try_next().await.map_err(PgError::query(what))? {
            let state: FeedState = decode_json("feed_states", row.get(0), row.get(1))?;
            send!(Line::Feed(Box::new(state)));
        }
    }
    {
        let mut rows = sqlx::query(
            "SELECT s.id, s.record, s.signature, \
               ARRAY(SELECT g.feed FROM story_guids g WHERE g.story = s.id ORDER BY g.feed, g.guid), \
               ARRAY(SELECT g.guid FROM story_guids g WHERE g.story = s.id ORDER BY g.feed, g.guid), \
               ARRAY(SELECT u.url FROM story_urls u WHERE u.story = s.id ORDER BY u.url), \
               (SELECT h.hash FROM story_hashes h WHERE h.story = s.id ORDER BY h.hash LIMIT 1) \
             FROM stories s ORDER BY s.id",
        )
        .fetch(&mut *tx);
        while let Some(row) = rows.try_next().await.map_err(PgError::query(what))? {
            let id: i64 = row.get(0);
            let story = decode(super::ingest::story_id(id), row.get(1))?;
            let feeds: Vec<String> = row.get(3);
            let guids: Vec<String> = row.get(4);
            let mut guids: Vec<(String, String)> = feeds.into_iter().zip(guids).collect();
            // In the order of the story's copies, as sled writes them.
            let at = |(f, g): &(String, String)| {
                story
                    .sources
                    .iter()
                    .position(|s| s.feed == *f && s.guid == *g)
                    .unwrap_or(usize::MAX)
            };
            guids.sort_by_key(at);
            let signature = row
                .get::<Option<Vec<u8>>, _>(2)
                .and_then(|b| decode_signature(&b))
                .map(|sig| b64().encode(codec::encode_signature(story.published, &sig)));
            let content_hash = row.get::<Option<Vec<u8>>, _>(6).map(|h| b64().encode(h));
            send!(Line::Story(Box::new(StoryLine {
                record: story,
                guids,
                urls: row.get(5),
                content_hash,
                signature,
            })));
        }
    }
    {
        let mut rows = sqlx::query("SELECT id, record FROM events ORDER BY id").fetch(&mut *tx);
        while let Some(row) = rows.try_next().await.map_err(PgError::query(what))? {
            send!(Line::Event(Box::new(decode_event(row.get(0), row.get(1))?)));
        }
    }
    {
        let mut rows = sqlx::query("SELECT id, record FROM alerts ORDER BY id").fetch(&mut *tx);
        while let Some(row) = rows.try_next().await.map_err(PgError::query(what))? {
            let id: i64 = row.get(0);
            let alert: Alert = decode_json("alerts", id.to_string(), row.get(1))?;
            send!(Line::Alert(Box::new(alert)));
        }
    }
    {
        let mut rows =
            sqlx::query("SELECT sink, record FROM sink_circuits ORDER BY sink").fetch(&mut *tx);
        while let Some(row) = rows.try_next().await.map_err(PgError::query(what))? {
            let circuit: SinkCircuit = decode_json("sink_circuits", row.get(0), row.get(1))?;
            send!(Line::Circuit(circuit));
        }
    }
    // sled's meta_updates: every story below one has been through that stage.
    let row = sqlx::query(
        "SELECT (SELECT value FROM counters WHERE name = 'alerts_delivered'), \
                (SELECT max(id) FROM stories), \
                (SELECT min(id) FROM stories WHERE signature IS NOT NULL), \
                (SELECT min(id) FROM stories WHERE NOT identity_dropped), \
                (SELECT min(id) FROM stories WHERE NOT text_dropped)",
    )
    .fetch_one(&mut *tx)
    .await
    .map_err(PgError::query(what))?;
    let mut meta = BTreeMap::new();
    meta.insert(
        DELIVERED.to_string(),
        count(row.get::<Option<i64>, _>(0).unwrap_or(0)),
    );
    if let Some(max) = row.get::<Option<i64>, _>(1) {
        for (key, i) in [
            (SIGNATURE_CURSOR, 2),
            (IDENTITY_CURSOR, 3),
            (TEXT_CURSOR, 4),
        ] {
            let below = row.get::<Option<i64>, _>(i).unwrap_or(max + 1);
            if below > 1 {
                meta.insert(key.to_string(), count(below));
            }
        }
    }
    send!(Line::Meta(meta));
    tx.commit().await.map_err(PgError::query(what))?;
    Ok(())
}

/// Writes the header and every line received, counting them.
fn write_lines(out: &mut dyn Write, lines: Receiver<Line>) -> Result<ExportReport, StoreError> {
    let io = |source| StoreError::Io {
        what: "writing the export".into(),
        source,
    };
    let mut one = |value: &dyn erased_serde_line::Line| -> Result<(), StoreError> {
        value.write(out).map_err(io)?;
        out.write_all(b"\n").map_err(io)
    };
    one(&Header {
        format: FORMAT_NAME.into(),
        version: EXPORT_FORMAT_VERSION,
        schema: SCHEMA_VERSION,
        exported_at: Utc::now(),
    })?;
    let mut report = ExportReport::default();
    for line in lines {
        match &line {
            Line::Feed(_) => report.feeds += 1,
            Line::Story(_) => report.stories += 1,
            Line::Event(_) => report.events += 1,
            Line::Alert(_) => report.alerts += 1,
            Line::Circuit(_) | Line::Meta(_) => {}
        }
        one(&line)?;
    }
    out.flush().map_err(io)?;
    Ok(report)
}

/// Two types through one closure.
mod erased_serde_line {
    pub trait Line {
        fn write(&self, out: &mut dyn std::io::Write) -> std::io::Result<()>;
    }

    impl<T: serde::Serialize> Line for T {
        fn write(&self, out: &mut dyn std::io::Write) -> std::io::Result<()> {
            serde_json::to_writer(out, self).map_err(std::io::Error::other)
        }
    }
}

// --- import, on the caller and on the worker

/// What the reader sends the writer: a record and its line, or the end of the input
/// (without it, the writer rolls back).
enum Msg {
    Line(u64, Line),
    End,
}

/// Reads the input: the header, then one record per line, sent to the writer. Stops
/// at the first bad line, or when the writer has stopped.
fn read_lines(input: impl BufRead, out: SyncSender<Msg>) -> Result<(), StoreError> {
    let mut header_seen = false;
    for (n, text) in input.lines().enumerate() {
        let line = n as u64 + 1;
        let text = text.map_err(|source| StoreError::Io {
            what: format!("reading the export at line {line}"),
            source,
        })?;
        if text.trim().is_empty() {
            continue;
        }
        if !header_seen {
            check_header(&text).map_err(|message| StoreError::Import { line, message })?;
            header_seen = true;
            continue;
        }
        let record: Line = serde_json::from_str(&text).map_err(|e| StoreError::Import {
            line,
            message: e.to_string(),
        })?;
        if out.send(Msg::Line(line, record)).is_err() {
            // The writer stopped; its error says why.
            return Ok(());
        }
    }
    if !header_seen {
        return Err(StoreError::Import {
            line: 0,
            message: "empty input: not a tidings store export".into(),
        });
    }
    let _ = out.send(Msg::End);
    Ok(())
}

/// Writes what the reader sends in one transaction, committed at the end of the
/// input. A record the database refuses is `Err((line, why))`.
async fn import_rows(
    pool: &PgPool,
    lines: Receiver<Msg>,
    force: bool,
    target: String,
) -> Result<Result<ImportReport, (u64, String)>, PgError> {
    let what = "importing";
    let mut tx = pool.begin().await.map_err(PgError::query(what))?;
    let held: bool = sqlx::query_scalar(
        "SELECT EXISTS (SELECT 1 FROM stories) OR EXISTS (SELECT 1 FROM events) \
         OR EXISTS (SELECT 1 FROM alerts) OR EXISTS (SELECT 1 FROM feed_states)",
    )
    .fetch_one(&mut *tx)
    .await
    .map_err(PgError::query(what))?;
    if held && !force {
        return Err(PgError::NotEmpty { target });
    }
    let mut report = ImportReport::default();
    let mut meta_updates: Vec<(&'static str, i64)> = Vec::new();
    // `recv` blocks this thread, which runs only this import.
    let ended = loop {
        let Ok(msg) = lines.recv() else { break false };
        let (line, record) = match msg {
            Msg::Line(line, record) => (line, record),
            Msg::End => break true,
        };
        let done = match record {
            Line::Feed(state) => {
                report.feeds += 1;
                import_feed(&mut tx, &state).await
            }
            Line::Story(story) => {
                report.stories += 1;
                let id = story.record.id;
                import_story(&mut tx, &story, force)
                    .await
                    .map_err(|e| format!("story {id}: {e}"))
            }
            Line::Event(event) => {
                report.events += 1;
                import_event(&mut tx, &event).await
            }
            Line::Alert(alert) => {
                report.alerts += 1;
                import_alert(&mut tx, &alert).await
            }
            Line::Circuit(circuit) => import_circuit(&mut tx, &circuit).await,
            Line::Meta(meta) => {
                for (key, value) in &meta {
                    let value = i64::try_from(*value).unwrap_or(i64::MAX);
                    match key.as_str() {
                        DELIVERED => meta_updates.push((DELIVERED, value)),
                        IDENTITY_CURSOR => meta_updates.push((IDENTITY_CURSOR, value)),
                        TEXT_CURSOR => meta_updates.push((TEXT_CURSOR, value)),
                        _ => {}
                    }
                }
                Ok(())
            }
        };
        if let Err(message) = done {
            return Ok(Err((line, message)));
        }
    };
    if !ended {
        // The reader stopped at a bad line: nothing is kept.
        return Ok(Ok(report));
    }
    for (key, value) in meta_updates {
        let statement = match key {
            DELIVERED => "UPDATE counters SET value = $1 WHERE name = 'alerts_delivered'",
            IDENTITY_CURSOR => {
                "UPDATE stories SET identity_dropped = true WHERE id < $1 AND NOT identity_dropped"
            }
            _ => "UPDATE stories SET text_dropped = true WHERE id < $1 AND NOT text_dropped",
        };
        sqlx::query(statement)
            .bind(value)
            .execute(&mut *tx)
            .await
            .map_err(PgError::query(what))?;
    }
    // New ids go above the imported ones.
    for (sequence, table) in [
        ("story_ids", "stories"),
        ("event_ids", "events"),
        ("alert_ids", "alerts"),
    ] {
        sqlx::query(sqlx::AssertSqlSafe(format!(
            "SELECT setval('{sequence}', m + 1, false) FROM (SELECT max(id) AS m FROM {table}) AS t \
             WHERE m + 1 > (SELECT CASE WHEN is_called THEN last_value + 1 ELSE last_value END \
                            FROM {sequence})"
        )))
        .execute(&mut *tx)
        .await
        .map_err(PgError::query(what))?;
    }
    tx.commit().await.map_err(PgError::query(what))?;
    Ok(Ok(report))
}

async fn import_feed(tx: &mut PgConnection, state: &FeedState) -> Result<(), String> {
    sqlx::query(
        "INSERT INTO feed_states (id, state) VALUES ($1, $2) \
         ON CONFLICT (id) DO UPDATE SET state = excluded.state",
    )
    .bind(&state.id)
    .bind(sqlx::types::Json(state))
    .execute(&mut *tx)
    .await
    .map(drop)
    .map_err(|e| format!("feed {:?}: {e}", state.id))
}

async fn import_story(tx: &mut PgConnection, line: &StoryLine, force: bool) -> Result<(), String> {
    let story = &line.record;
    let id = db_id(story.id);
    let signature = match &line.signature {
        Some(text) => {
            let bytes = b64().decode(text).map_err(|e| format!("signature: {e}"))?;
            let (sig, published) = codec::decode_signature(&bytes)
                .ok_or("signature: not a published time and MinHash signature")?;
            Some((sig, published))
        }
        None => None,
    };
    let hash = match &line.content_hash {
        Some(text) => {
            let bytes = b64()
                .decode(text)
                .map_err(|e| format!("content_hash: {e}"))?;
            if bytes.len() != 32 {
                return Err(format!(
                    "content_hash: {} bytes, a SHA-256 has 32",
                    bytes.len()
                ));
            }
            Some(bytes)
        }
        None => None,
    };
    let sql = |e: sqlx::Error| e.to_string();
    let identity_dropped = line.guids.is_empty();
    let text_dropped = story.text.is_empty() && story.revisions.is_empty();
    sqlx::query(
        "INSERT INTO stories (id, feed, published, first_seen, signature, record, \
           identity_dropped, text_dropped) VALUES ($1, $2, $3, $4, $5, $6, $7, $8) \
         ON CONFLICT (id) DO UPDATE SET feed = excluded.feed, published = excluded.published, \
           first_seen = excluded.first_seen, signature = excluded.signature, \
           record = excluded.record, identity_dropped = excluded.identity_dropped, \
           text_dropped = excluded.text_dropped",
    )
    .bind(id)
    .bind(&story.feed)
    .bind(story.published)
    .bind(story.first_seen)
    .bind(signature.as_ref().map(|(sig, _)| encode_signature(sig)))
    .bind(sqlx::types::Json(story))
    .bind(identity_dropped)
    .bind(text_dropped)
    .execute(&mut *tx)
    .await
    .map_err(sql)?;
    if force {
        sqlx::query("DELETE FROM story_bands WHERE story = $1")
            .bind(id)
            .execute(&mut *tx)
            .await
            .map_err(sql)?;
    }
    let (feeds, guids): (Vec<&str>, Vec<&str>) = line
        .guids
        .iter()
        .map(|(f, g)| (f.as_str(), g.as_str()))
        .unzip();
    sqlx::query(
        "INSERT INTO story_guids (feed, guid, story) \
         SELECT f, g, $3 FROM unnest($1::text[], $2::text[]) AS k (f, g) \
         ON CONFLICT (feed, guid) DO UPDATE SET story = excluded.story",
    )
    .bind(&feeds)
    .bind(&guids)
    .bind(id)
    .execute(&mut *tx)
    .await
    .map_err(sql)?;
    sqlx::query(
        "INSERT INTO story_urls (url, story) SELECT u, $2 FROM unnest($1::text[]) AS u \
         ON CONFLICT (url) DO UPDATE SET story = excluded.story",
    )
    .bind(&line.urls)
    .bind(id)
    .execute(&mut *tx)
    .await
    .map_err(sql)?;
    if let Some(hash) = hash {
        sqlx::query(
            "INSERT INTO story_hashes (hash, story) VALUES ($1, $2) \
             ON CONFLICT (hash) DO UPDATE SET story = excluded.story",
        )
        .bind(hash)
        .bind(id)
        .execute(&mut *tx)
        .await
        .map_err(sql)?;
    }
    if let Some((sig, published)) = signature {
        let keys = Fingerprint {
            content_hash: [0; 32],
            signature: Some(sig),
        }
        .band_keys();
        let bands: Vec<i16> = keys.iter().map(|(b, _)| i16::from(*b)).collect();
        let band_keys: Vec<i64> = keys.iter().map(|(_, k)| db_key(*k)).collect();
        sqlx::query(
            "INSERT INTO story_bands (band, key, published, story) \
             SELECT band, key, $3, $4 FROM unnest($1::smallint[], $2::bigint[]) AS k (band, key)",
        )
        .bind(&bands)
        .bind(&band_keys)
        .bind(published)
        .bind(id)
        .execute(&mut *tx)
        .await
        .map_err(sql)?;
    }
    Ok(())
}

async fn import_event(tx: &mut PgConnection, event: &Event) -> Result<(), String> {
    sqlx::query(
        "INSERT INTO events (id, event_type, key, anchor, modality, countries, record) \
         VALUES ($1, $2, $3, $4, $5, $6, $7) \
         ON CONFLICT (id) DO UPDATE SET event_type = excluded.event_type, key = excluded.key, \
           anchor = excluded.anchor, modality = excluded.modality, \
           countries = excluded.countries, record = excluded.record",
    )
    .bind(db_id(event.id))
    .bind(&event.event_type)
    .bind(&event.key)
    .bind(event.anchor)
    .bind(modality_text(event.modality))
    .bind(&event.countries)
    .bind(sqlx::types::Json(event))
    .execute(&mut *tx)
    .await
    .map(drop)
    .map_err(|e| format!("event {}: {e}", event.id))
}

async fn import_alert(tx: &mut PgConnection, alert: &Alert) -> Result<(), String> {
    sqlx::query(
        "INSERT INTO alerts (id, sink, event, dead, dead_since, next_attempt, record) \
         VALUES ($1, $2, $3, $4, $5, $6, $7) \
         ON CONFLICT (id) DO UPDATE SET sink = excluded.sink, event = excluded.event, \
           dead = excluded.dead, dead_since = excluded.dead_since, \
           next_attempt = excluded.next_attempt, claimed_by = NULL, lease_until = NULL, \
           record = excluded.record",
    )
    .bind(db_id(alert.id))
    .bind(&alert.sink)
    .bind(db_id(alert.event.id))
    .bind(alert.dead.is_some())
    .bind(alert.dead.as_ref().map(|d| d.at))
    .bind(alert.next_attempt)
    .bind(sqlx::types::Json(alert))
    .execute(&mut *tx)
    .await
    .map(drop)
    .map_err(|e| format!("alert {}: {e}", alert.id))
}

async fn import_circuit(tx: &mut PgConnection, circuit: &SinkCircuit) -> Result<(), String> {
    sqlx::query(
        "INSERT INTO sink_circuits (sink, record) VALUES ($1, $2) \
         ON CONFLICT (sink) DO UPDATE SET record = excluded.record",
    )
    .bind(&circuit.sink)
    .bind(sqlx::types::Json(circuit))
    .execute(&mut *tx)
    .await
    .map(drop)
    .map_err(|e| format!("sink breaker {:?}: {e}", circuit.sink))
}
