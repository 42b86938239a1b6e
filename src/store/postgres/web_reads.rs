//! The web view's reads in the shared database, with the same answers as sled's
//! (`store/web_reads.rs`): events newest first (anchor day, then id) over a day range
//! with a confidence floor, the distinct event types and countries in byte order, the
//! newest anchor day, and tallies per day and type, per country and per event key.
//!
//! Each is one query over the `events` table's columns: the day range by
//! `events_by_anchor`, one type by `events_by_type` (migration 0006), one country by
//! the GIN index on `countries` (or the day range, when the planner prefers it), the
//! types by a loose scan of an index that leads with the type. Only the listing
//! decodes records; the tallies count rows, as sled's count index keys.

use std::collections::BTreeMap;

use chrono::NaiveDate;
use sqlx::Row;

use super::events::{decode_event, modality_text};
use super::{PgError, PgStore};
use crate::model::Event;
use crate::store::web_reads::EventTallies;
use crate::store::EventQuery;

/// A count from the database (never negative).
fn count(n: i64) -> u64 {
    u64::try_from(n).unwrap_or(0)
}

impl PgStore {
    /// Events newest first like [`PgStore::events`], with no event filed after `until`
    /// and none whose confidence is below `min_confidence`; the limit counts only the
    /// events that pass.
    pub fn events_between(
        &self,
        q: &EventQuery,
        until: Option<NaiveDate>,
        min_confidence: Option<f32>,
    ) -> Result<Vec<Event>, PgError> {
        let q = q.clone();
        self.run(move |pool| async move {
            let limit = q
                .limit
                .map_or(i64::MAX, |l| i64::try_from(l).unwrap_or(i64::MAX));
            // The confidence as the record holds it (an f32 written as its shortest
            // decimal), read back as `real`: the same value sled compares.
            sqlx::query(
                "SELECT id, record FROM events \
                 WHERE ($1::text IS NULL OR event_type = $1) \
                   AND ($2::text IS NULL OR countries @> ARRAY[$2::text]) \
                   AND ($3::date IS NULL OR anchor >= $3) \
                   AND ($4::date IS NULL OR anchor <= $4) \
                   AND ($5::text IS NULL OR modality = $5) \
                   AND ($6::real IS NULL OR (record ->> 'confidence')::real >= $6) \
                 ORDER BY anchor DESC, id DESC LIMIT $7",
            )
            .bind(q.event_type.as_deref())
            .bind(q.country.as_deref())
            .bind(q.since)
            .bind(until)
            .bind(q.modality.map(modality_text))
            .bind(min_confidence)
            .bind(limit)
            .fetch_all(&pool)
            .await
            .map_err(PgError::query("listing events for the web view"))?
            .into_iter()
            .map(|r| decode_event(r.get(0), r.get(1)))
            .collect()
        })
    }

    /// The distinct event types stored, in byte order (as sled's index keys sort): one
    /// index probe per type (a loose index scan), not a scan of the events.
    pub fn event_types(&self) -> Result<Vec<String>, PgError> {
        self.run(|pool| async move {
            sqlx::query_scalar(
                "WITH RECURSIVE t (kind) AS ( \
                   (SELECT event_type FROM events ORDER BY event_type LIMIT 1) \
                   UNION ALL \
                   SELECT (SELECT e.event_type FROM events e WHERE e.event_type > t.kind \
                           ORDER BY e.event_type LIMIT 1) \
                   FROM t WHERE t.kind IS NOT NULL) \
                 SELECT kind COLLATE \"C\" AS kind FROM t WHERE kind IS NOT NULL ORDER BY 1",
            )
            .fetch_all(&pool)
            .await
            .map_err(PgError::query("listing event types"))
        })
    }

    /// The distinct country codes of stored events, in byte order. (A scan of the
    /// events' country arrays: the GIN index finds a country's events but cannot list
    /// its keys — about 0.2 s for 200,000 events.)
    pub fn event_countries(&self) -> Result<Vec<String>, PgError> {
        self.run(|pool| async move {
            sqlx::query_scalar(
                "SELECT DISTINCT c COLLATE \"C\" AS c FROM events, unnest(countries) AS c \
                 ORDER BY c",
            )
            .fetch_all(&pool)
            .await
            .map_err(PgError::query("listing event countries"))
        })
    }

    /// The anchor day of the newest event, if any.
    pub fn newest_event_day(&self) -> Result<Option<NaiveDate>, PgError> {
        self.run(|pool| async move {
            sqlx::query_scalar("SELECT max(anchor) FROM events")
                .fetch_one(&pool)
                .await
                .map_err(PgError::query("reading the newest event day"))
        })
    }

    /// Counts of the events filed from `from` to `to` (inclusive; either end open when
    /// `None`) per day and type and per country, and, for `key_type` only, per key.
    pub fn event_tallies(
        &self,
        from: Option<NaiveDate>,
        to: Option<NaiveDate>,
        key_type: Option<&str>,
    ) -> Result<EventTallies, PgError> {
        let key_type = key_type.map(str::to_string);
        self.run(move |pool| async move {
            let what = "tallying events";
            let range = "($1::date IS NULL OR anchor >= $1) AND ($2::date IS NULL OR anchor <= $2)";
            let mut tallies = EventTallies::default();
            let rows = sqlx::query(sqlx::AssertSqlSafe(format!(
                "SELECT anchor, event_type, count(*) FROM events WHERE {range} \
                 GROUP BY anchor, event_type"
            )))
            .bind(from)
            .bind(to)
            .fetch_all(&pool)
            .await
            .map_err(PgError::query(what))?;
            tallies.by_day_and_type = rows
                .iter()
                .map(|r| ((r.get(0), r.get(1)), count(r.get(2))))
                .collect::<BTreeMap<_, _>>();
            // One count per event and country, as sled's index has one key for each.
            let rows = sqlx::query(sqlx::AssertSqlSafe(format!(
                "SELECT c, count(DISTINCT id) FROM events, unnest(countries) AS c \
                 WHERE {range} GROUP BY c"
            )))
            .bind(from)
            .bind(to)
            .fetch_all(&pool)
            .await
            .map_err(PgError::query(what))?;
            tallies.by_country = rows.iter().map(|r| (r.get(0), count(r.get(1)))).collect();
            if let Some(kind) = key_type {
                let rows = sqlx::query(sqlx::AssertSqlSafe(format!(
                    "SELECT key, count(*) FROM events WHERE event_type = $3 AND {range} \
                     GROUP BY key"
                )))
                .bind(from)
                .bind(to)
                .bind(&kind)
                .fetch_all(&pool)
                .await
                .map_err(PgError::query(what))?;
                tallies.by_key = rows
                    .iter()
                    .map(|r| ((kind.clone(), r.get(0)), count(r.get(1))))
                    .collect();
            }
            Ok(tallies)
        })
    }
}
