//! Events in the shared database: a new story's detections merged into events under
//! an advisory lock on each (type, key), so two daemons that detect one meeting at the
//! same moment make one event with two sources; the alerts the changes raise written
//! in the same transaction; and the event listings.

use chrono::Utc;
use sqlx::{PgConnection, Row};

use super::ingest::{db_id, lock_all, lock_key};
use super::{PgError, PgStore};
use crate::detect::Detection;
use crate::model::{AlertId, Event, EventChange, EventId, Modality, Story};
use crate::store::event_plan::{self, anchor_range, nearest_stored};
use crate::store::{EventQuery, RouteHook};

/// Merges `detections` of the new `story` into the events and writes the alerts the
/// changes raise, inside the story's transaction. Returns the changes and the alerts'
/// ids.
pub(super) async fn merge_and_alert(
    tx: &mut PgConnection,
    story: &Story,
    detections: &[Detection],
    route: &RouteHook<'_>,
) -> Result<(Vec<EventChange>, Vec<AlertId>), PgError> {
    let what = "merging events";
    // The (type, key) locks come after the story's dedup locks, all at once and
    // sorted: no transaction waits for a dedup lock while it holds an event lock.
    let mut keys: Vec<i64> = detections
        .iter()
        .map(|d| lock_key(&[b"event", d.event_type.as_bytes(), d.key().as_bytes()]))
        .collect();
    keys.sort_unstable();
    keys.dedup();
    lock_all(tx, keys).await?;
    let stored = stored_events_for(tx, story, detections).await?;
    let mut event_ids = next_ids(tx, "event_ids", detections.len())
        .await?
        .into_iter();
    let now = Utc::now();
    let plan = event_plan::plan_events(
        story,
        detections,
        now,
        |d| -> Result<Option<Event>, PgError> {
            let (from, to) = anchor_range(d, story);
            Ok(nearest_stored(
                stored
                    .iter()
                    .filter(|e| {
                        e.event_type == d.event_type
                            && e.key == d.key()
                            && e.anchor >= from
                            && e.anchor < to
                    })
                    .cloned(),
                d,
                story,
            ))
        },
        || event_ids.next().ok_or(PgError::Lost),
    )?;
    // The alerts, numbered in order, then given ids from the sequence.
    let mut placeholder = 0;
    let mut alerts = event_plan::plan_alerts(&plan, route, now, || -> Result<AlertId, PgError> {
        placeholder += 1;
        Ok(placeholder)
    })?;
    let alert_ids = next_ids(tx, "alert_ids", alerts.len()).await?;
    for (alert, id) in alerts.iter_mut().zip(&alert_ids) {
        alert.id = *id;
    }
    for (event, _) in &plan.writes {
        sqlx::query(
            "INSERT INTO events (id, event_type, key, anchor, modality, countries, record) \
             VALUES ($1, $2, $3, $4, $5, $6, $7) \
             ON CONFLICT (id) DO UPDATE SET anchor = excluded.anchor, \
               modality = excluded.modality, countries = excluded.countries, \
               record = excluded.record",
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
        .map_err(PgError::query(what))?;
    }
    // Followers (`tidings events --follow`) hear of each change when the transaction
    // commits, and not before.
    let notices: Vec<String> = plan.changes.iter().map(super::follow::payload).collect();
    if !notices.is_empty() {
        sqlx::query("SELECT pg_notify($1, n) FROM unnest($2::text[]) AS n")
            .bind(super::follow::EVENTS_CHANNEL)
            .bind(&notices)
            .execute(&mut *tx)
            .await
            .map_err(PgError::query("announcing event changes"))?;
    }
    for alert in &alerts {
        sqlx::query(
            "INSERT INTO alerts (id, sink, event, next_attempt, record) VALUES ($1, $2, $3, $4, $5)",
        )
        .bind(db_id(alert.id))
        .bind(&alert.sink)
        .bind(db_id(alert.event.id))
        .bind(alert.next_attempt)
        .bind(sqlx::types::Json(alert))
        .execute(&mut *tx)
        .await
        .map_err(PgError::query("writing alerts"))?;
    }
    Ok((plan.changes, alert_ids))
}

/// The stored events any of `detections` could join: same type and key, anchored in
/// the detection's range. One round trip.
async fn stored_events_for(
    tx: &mut PgConnection,
    story: &Story,
    detections: &[Detection],
) -> Result<Vec<Event>, PgError> {
    let mut types = Vec::new();
    let mut keys = Vec::new();
    let mut froms = Vec::new();
    let mut tos = Vec::new();
    for d in detections {
        let (from, to) = anchor_range(d, story);
        types.push(d.event_type.clone());
        keys.push(d.key());
        froms.push(from);
        tos.push(to);
    }
    let rows = sqlx::query(
        "SELECT DISTINCT e.id, e.record FROM events e \
         JOIN unnest($1::text[], $2::text[], $3::date[], $4::date[]) AS q (t, k, lo, hi) \
           ON e.event_type = q.t AND e.key = q.k AND e.anchor >= q.lo AND e.anchor < q.hi",
    )
    .bind(&types)
    .bind(&keys)
    .bind(&froms)
    .bind(&tos)
    .fetch_all(&mut *tx)
    .await
    .map_err(PgError::query("reading events to merge into"))?;
    rows.into_iter()
        .map(|r| decode_event(r.get(0), r.get(1)))
        .collect()
}

/// `n` fresh ids from `sequence`.
async fn next_ids(tx: &mut PgConnection, sequence: &str, n: usize) -> Result<Vec<u64>, PgError> {
    if n == 0 {
        return Ok(Vec::new());
    }
    let ids: Vec<i64> =
        sqlx::query_scalar("SELECT nextval($1::regclass) FROM generate_series(1, $2)")
            .bind(sequence)
            .bind(i64::try_from(n).unwrap_or(i64::MAX))
            .fetch_all(&mut *tx)
            .await
            .map_err(PgError::query("drawing ids"))?;
    Ok(ids
        .into_iter()
        .map(|id| u64::try_from(id).unwrap_or(0))
        .collect())
}

/// A modality as the record spells it (`occurred`, `planned`, `cancelled`).
pub(super) fn modality_text(m: Modality) -> String {
    serde_json::to_value(m)
        .ok()
        .and_then(|v| v.as_str().map(str::to_string))
        .unwrap_or_default()
}

pub(super) fn decode_event(id: i64, record: serde_json::Value) -> Result<Event, PgError> {
    serde_json::from_value(record).map_err(|source| PgError::Decode {
        table: "events",
        id: id.to_string(),
        source,
    })
}

impl PgStore {
    /// A stored event by id.
    pub fn event(&self, id: EventId) -> Result<Option<Event>, PgError> {
        self.run(move |pool| async move {
            let row = sqlx::query("SELECT id, record FROM events WHERE id = $1")
                .bind(db_id(id))
                .fetch_optional(&pool)
                .await
                .map_err(PgError::query("reading an event"))?;
            row.map(|r| decode_event(r.get(0), r.get(1))).transpose()
        })
    }

    /// Events newest first (by anchor day), filtered as [`EventQuery`] says.
    pub fn events(&self, q: &EventQuery) -> Result<Vec<Event>, PgError> {
        let q = q.clone();
        self.run(move |pool| async move {
            let limit = q
                .limit
                .map_or(i64::MAX, |l| i64::try_from(l).unwrap_or(i64::MAX));
            let rows = sqlx::query(
                "SELECT id, record FROM events \
                 WHERE ($1::text IS NULL OR event_type = $1) \
                   AND ($2::text IS NULL OR $2 = ANY (countries)) \
                   AND ($3::date IS NULL OR anchor >= $3) \
                   AND ($4::text IS NULL OR modality = $4) \
                 ORDER BY anchor DESC, id DESC LIMIT $5",
            )
            .bind(q.event_type.as_deref())
            .bind(q.country.as_deref())
            .bind(q.since)
            .bind(q.modality.map(modality_text))
            .bind(limit)
            .fetch_all(&pool)
            .await
            .map_err(PgError::query("listing events"))?;
            rows.into_iter()
                .map(|r| decode_event(r.get(0), r.get(1)))
                .collect()
        })
    }

    /// How many events are stored.
    pub fn event_count(&self) -> Result<usize, PgError> {
        self.run(|pool| async move {
            let n: i64 = sqlx::query_scalar("SELECT count(*) FROM events")
                .fetch_one(&pool)
                .await
                .map_err(PgError::query("counting events"))?;
            Ok(usize::try_from(n).unwrap_or(0))
        })
    }
}
