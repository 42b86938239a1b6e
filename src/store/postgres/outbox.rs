//! The outbox in the shared database: alerts claimed for delivery by one daemon at a
//! time (`FOR UPDATE SKIP LOCKED`, under a lease), so each alert is in one daemon's
//! hands; a daemon that dies mid-delivery lets its lease run out and another sends the
//! alert again under the same id — a repeat at most, never a loss. Delivered alerts
//! leave the table; dead ones stay, listed and replayable, as with sled.

use std::time::Duration;

use chrono::{DateTime, Utc};
use sqlx::Row;

use super::ingest::db_id;
use super::{PgError, PgStore};
use crate::model::{Alert, AlertId, DeadLetter};
use crate::store::AlertState;

fn decode_alert(id: i64, record: serde_json::Value) -> Result<Alert, PgError> {
    serde_json::from_value(record).map_err(|source| PgError::Decode {
        table: "alerts",
        id: id.to_string(),
        source,
    })
}

impl PgStore {
    /// Claims for `daemon`, until `lease` from now, up to `limit` pending alerts due at
    /// `now` or earlier of sinks other than the `paused` ones, soonest first. An alert
    /// another daemon holds under a running lease is passed over.
    pub fn claim_due_alerts(
        &self,
        daemon: &str,
        now: DateTime<Utc>,
        lease: Duration,
        limit: usize,
        paused: &[String],
    ) -> Result<Vec<Alert>, PgError> {
        let daemon = daemon.to_string();
        let paused = paused.to_vec();
        let limit = i64::try_from(limit).unwrap_or(i64::MAX);
        let lease = lease.as_secs_f64();
        self.run(move |pool| async move {
            let rows = sqlx::query(
                "UPDATE alerts a SET claimed_by = $1, \
                   lease_until = now() + $2 * interval '1 second' \
                 WHERE a.id IN ( \
                   SELECT id FROM alerts \
                   WHERE NOT dead AND next_attempt <= $3 \
                     AND NOT (sink = ANY ($4)) \
                     AND (claimed_by IS NULL OR claimed_by = $1 OR lease_until < now()) \
                   ORDER BY next_attempt, id LIMIT $5 FOR UPDATE SKIP LOCKED) \
                 RETURNING a.id, a.record",
            )
            .bind(&daemon)
            .bind(lease)
            .bind(now)
            .bind(&paused)
            .bind(limit)
            .fetch_all(&pool)
            .await
            .map_err(PgError::query("claiming alerts"))?;
            let mut alerts = rows
                .into_iter()
                .map(|r| decode_alert(r.get(0), r.get(1)))
                .collect::<Result<Vec<_>, _>>()?;
            alerts.sort_by(|a, b| a.next_attempt.cmp(&b.next_attempt).then(a.id.cmp(&b.id)));
            Ok(alerts)
        })
    }

    /// A sink accepted `alert`: it leaves the outbox.
    pub fn alert_delivered(&self, alert: &Alert) -> Result<(), PgError> {
        let id = db_id(alert.id);
        self.run(move |pool| async move {
            let what = "removing a delivered alert";
            let mut tx = pool.begin().await.map_err(PgError::query(what))?;
            let removed = sqlx::query("DELETE FROM alerts WHERE id = $1 AND NOT dead")
                .bind(id)
                .execute(&mut *tx)
                .await
                .map_err(PgError::query(what))?
                .rows_affected();
            sqlx::query("UPDATE counters SET value = value + $1 WHERE name = 'alerts_delivered'")
                .bind(i64::try_from(removed).unwrap_or(0))
                .execute(&mut *tx)
                .await
                .map_err(PgError::query(what))?;
            tx.commit().await.map_err(PgError::query(what))
        })
    }

    /// `updated` failed and is due again at its `next_attempt`; its claim ends.
    pub fn alert_retry(&self, updated: &Alert) -> Result<(), PgError> {
        let updated = updated.clone();
        self.run(move |pool| async move {
            sqlx::query(
                "UPDATE alerts SET record = $2, next_attempt = $3, claimed_by = NULL, \
                   lease_until = NULL WHERE id = $1 AND NOT dead",
            )
            .bind(db_id(updated.id))
            .bind(sqlx::types::Json(&updated))
            .bind(updated.next_attempt)
            .execute(&pool)
            .await
            .map_err(PgError::query("scheduling an alert's retry"))?;
            Ok(())
        })
    }

    /// `alert` cannot be delivered: it moves to the dead-letter list, with `reason`.
    pub fn alert_dead(
        &self,
        alert: &Alert,
        reason: String,
        now: DateTime<Utc>,
    ) -> Result<Alert, PgError> {
        let mut dead = alert.clone();
        dead.dead = Some(DeadLetter { at: now, reason });
        let stored = dead.clone();
        self.run(move |pool| async move {
            sqlx::query(
                "UPDATE alerts SET record = $2, dead = true, dead_since = $3, \
                   claimed_by = NULL, lease_until = NULL WHERE id = $1",
            )
            .bind(db_id(stored.id))
            .bind(sqlx::types::Json(&stored))
            .bind(now)
            .execute(&pool)
            .await
            .map_err(PgError::query("moving an alert to the dead letters"))?;
            Ok(())
        })?;
        Ok(dead)
    }

    /// Puts a dead alert back in the outbox, due now, under its own id, with a fresh
    /// delivery clock. Returns `false` if `id` is not a dead alert.
    pub fn replay_alert(&self, id: AlertId, now: DateTime<Utc>) -> Result<bool, PgError> {
        self.run(move |pool| async move {
            let what = "replaying an alert";
            let mut tx = pool.begin().await.map_err(PgError::query(what))?;
            let row =
                sqlx::query("SELECT id, record FROM alerts WHERE id = $1 AND dead FOR UPDATE")
                    .bind(db_id(id))
                    .fetch_optional(&mut *tx)
                    .await
                    .map_err(PgError::query(what))?;
            let Some(row) = row else {
                return Ok(false);
            };
            let mut revived = decode_alert(row.get(0), row.get(1))?;
            revived.dead = None;
            revived.since = now;
            revived.attempts = 0;
            revived.next_attempt = now;
            sqlx::query(
                "UPDATE alerts SET record = $2, dead = false, dead_since = NULL, \
                   next_attempt = $3, claimed_by = NULL, lease_until = NULL WHERE id = $1",
            )
            .bind(db_id(id))
            .bind(sqlx::types::Json(&revived))
            .bind(now)
            .execute(&mut *tx)
            .await
            .map_err(PgError::query(what))?;
            tx.commit().await.map_err(PgError::query(what))?;
            Ok(true)
        })
    }

    /// Replays every dead alert; returns how many.
    pub fn replay_dead_alerts(&self, now: DateTime<Utc>) -> Result<usize, PgError> {
        let mut n = 0;
        for alert in self.list_alerts(AlertState::Dead, usize::MAX)? {
            if self.replay_alert(alert.id, now)? {
                n += 1;
            }
        }
        Ok(n)
    }

    /// One alert, pending or dead.
    pub fn alert(&self, id: AlertId) -> Result<Option<Alert>, PgError> {
        self.run(move |pool| async move {
            sqlx::query("SELECT id, record FROM alerts WHERE id = $1")
                .bind(db_id(id))
                .fetch_optional(&pool)
                .await
                .map_err(PgError::query("reading an alert"))?
                .map(|r| decode_alert(r.get(0), r.get(1)))
                .transpose()
        })
    }

    /// When `claimant`'s next claim could take an alert of a sink other than the
    /// `paused` ones: the soonest due time, an alert another daemon holds counting from
    /// the end of its lease.
    pub fn next_claimable_alert(
        &self,
        claimant: &str,
        paused: &[String],
    ) -> Result<Option<DateTime<Utc>>, PgError> {
        let claimant = claimant.to_string();
        let paused = paused.to_vec();
        self.run(move |pool| async move {
            sqlx::query_scalar(
                "SELECT min(CASE WHEN claimed_by IS NOT NULL AND claimed_by <> $1 \
                                   AND lease_until >= now() \
                              THEN greatest(next_attempt, lease_until) \
                              ELSE next_attempt END) \
                 FROM alerts WHERE NOT dead AND NOT (sink = ANY ($2))",
            )
            .bind(&claimant)
            .bind(&paused)
            .fetch_one(&pool)
            .await
            .map_err(PgError::query("reading the next due alert"))
        })
    }

    /// Pending alerts due at `now` or earlier, soonest first, at most `limit` (read, not
    /// claimed).
    pub fn due_alerts(&self, now: DateTime<Utc>, limit: usize) -> Result<Vec<Alert>, PgError> {
        let limit = i64::try_from(limit).unwrap_or(i64::MAX);
        self.run(move |pool| async move {
            sqlx::query(
                "SELECT id, record FROM alerts WHERE NOT dead AND next_attempt <= $1 \
                 ORDER BY next_attempt, id LIMIT $2",
            )
            .bind(now)
            .bind(limit)
            .fetch_all(&pool)
            .await
            .map_err(PgError::query("reading due alerts"))?
            .into_iter()
            .map(|r| decode_alert(r.get(0), r.get(1)))
            .collect()
        })
    }

    /// Pending alerts soonest first, or dead alerts newest first.
    pub fn list_alerts(&self, state: AlertState, limit: usize) -> Result<Vec<Alert>, PgError> {
        let limit = i64::try_from(limit).unwrap_or(i64::MAX);
        self.run(move |pool| async move {
            let query = match state {
                AlertState::Pending => {
                    "SELECT id, record FROM alerts WHERE NOT dead ORDER BY next_attempt, id LIMIT $1"
                }
                AlertState::Dead => {
                    "SELECT id, record FROM alerts WHERE dead ORDER BY dead_since DESC, id DESC LIMIT $1"
                }
            };
            let rows = sqlx::query(query)
                .bind(limit)
                .fetch_all(&pool)
                .await
                .map_err(PgError::query("listing alerts"))?;
            rows.into_iter()
                .map(|r| decode_alert(r.get(0), r.get(1)))
                .collect()
        })
    }
}
