//! The outbox: alerts waiting for delivery, and the dead-letter list.
//!
//! Alerts are created in the same transaction as the events they announce
//! ([`SledStore::ingest_detecting`]); this module reads and moves them afterwards. Every alert
//! keeps its id from creation to delivery, so a retry, a restart or a replay announces it
//! under the same id.
//!
//! | tree             | key                | value                           |
//! |------------------|--------------------|---------------------------------|
//! | `alerts`         | id                 | [`Alert`] as JSON               |
//! | `idx_alert_due`  | next attempt ‖ id  | empty — pending, soonest first  |
//! | `idx_alert_dead` | dead since ‖ id    | empty — the dead-letter list    |

use chrono::{DateTime, Utc};
use sled::transaction::{ConflictableTransactionError, TransactionalTree};
use sled::Transactional;

use super::codec::{decode_u64, read_json, write_json};
use super::tx::TxResult;
use super::{keys, SledStore, StoreError};
use crate::model::{Alert, AlertId, AlertReason, DeadLetter, Event};

/// Which alerts to list.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AlertState {
    Pending,
    Dead,
}

/// Sizes of the outbox.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct OutboxCounts {
    pub pending: usize,
    pub dead: usize,
    /// Alerts delivered over the store's lifetime.
    pub delivered: u64,
}

pub(super) const DELIVERED_KEY: &str = "alerts_delivered";

/// A new alert for `sink` about `event`, due now.
pub(super) fn new_alert(
    id: AlertId,
    sink: &str,
    reason: AlertReason,
    event: &Event,
    now: DateTime<Utc>,
) -> Alert {
    Alert {
        id,
        sink: sink.to_string(),
        reason,
        event: event.clone(),
        created: now,
        since: now,
        attempts: 0,
        next_attempt: now,
        last_attempt: None,
        last_status: None,
        last_error: None,
        dead: None,
    }
}

/// Writes a new or changed pending alert with its due-index entry (inside a transaction
/// over `[alerts, idx_alert_due]`). Returns whether the due entry is new.
pub(super) fn put_pending(
    alerts: &TransactionalTree,
    due: &TransactionalTree,
    alert: &Alert,
) -> TxResult<bool> {
    alerts.insert(&keys::id(alert.id), encode(alert)?)?;
    let before = due.insert(keys::by_time(alert.next_attempt, alert.id), &[])?;
    Ok(before.is_none())
}

fn encode(alert: &Alert) -> TxResult<Vec<u8>> {
    write_json(alert, "alerts", || alert.id.to_string())
        .map_err(ConflictableTransactionError::Abort)
}

impl SledStore {
    pub fn alert(&self, id: AlertId) -> Result<Option<Alert>, StoreError> {
        read_json(&self.alerts, "alerts", keys::id(id), || id.to_string())
    }

    /// Pending alerts due at `now` or earlier, soonest first, at most `limit`.
    pub fn due_alerts(&self, now: DateTime<Utc>, limit: usize) -> Result<Vec<Alert>, StoreError> {
        self.due_alerts_where(now, limit, |_| true)
    }

    /// Pending alerts due at `now` or earlier that `keep` accepts, soonest first, at most
    /// `limit`. Alerts it passes over (a paused sink's) are read but left as they are, so
    /// the cost grows with the backlog ahead of the first ones kept.
    pub fn due_alerts_where(
        &self,
        now: DateTime<Utc>,
        limit: usize,
        mut keep: impl FnMut(&Alert) -> bool,
    ) -> Result<Vec<Alert>, StoreError> {
        let mut out = Vec::new();
        let end = keys::by_time(now, u64::MAX);
        for entry in self.idx_alert_due.range(..=end) {
            if out.len() >= limit {
                break;
            }
            let (key, _) = entry?;
            let Some(id) = keys::decode_id(&key) else {
                continue;
            };
            if let Some(alert) = self.alert(id)? {
                if keep(&alert) {
                    out.push(alert);
                }
            }
        }
        Ok(out)
    }

    /// When the soonest pending alert is due, if any is pending.
    pub fn next_alert_due(&self) -> Result<Option<DateTime<Utc>>, StoreError> {
        self.next_alert_due_where(|_| true)
    }

    /// When the soonest pending alert that `keep` accepts is due, if any.
    pub fn next_alert_due_where(
        &self,
        mut keep: impl FnMut(&Alert) -> bool,
    ) -> Result<Option<DateTime<Utc>>, StoreError> {
        for entry in self.idx_alert_due.iter() {
            let (key, _) = entry?;
            let Some(id) = keys::decode_id(&key) else {
                continue;
            };
            if let Some(alert) = self.alert(id)? {
                if keep(&alert) {
                    return Ok(Some(alert.next_attempt));
                }
            }
        }
        Ok(None)
    }

    /// The sink accepted `alert`: it leaves the outbox.
    pub fn alert_delivered(&self, alert: &Alert) -> Result<(), StoreError> {
        let was_due = (&self.alerts, &self.idx_alert_due, &self.meta).transaction(
            |(alerts, due, meta)| -> TxResult<bool> {
                alerts.remove(&keys::id(alert.id))?;
                let was_due = due
                    .remove(keys::by_time(alert.next_attempt, alert.id))?
                    .is_some();
                let n = meta
                    .get(DELIVERED_KEY)?
                    .map(|v| decode_u64(&v))
                    .unwrap_or(0);
                meta.insert(DELIVERED_KEY, &(n + 1).to_be_bytes())?;
                Ok(was_due)
            },
        )?;
        self.counts.pending.add(-i64::from(was_due));
        Ok(())
    }

    /// Saves a failed attempt: `updated` carries the new attempt count, error and next
    /// attempt; `previous_due` is the next-attempt time it was indexed under.
    pub fn alert_retry(
        &self,
        updated: &Alert,
        previous_due: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        let (was_due, added) =
            (&self.alerts, &self.idx_alert_due).transaction(|(alerts, due)| {
                let was_due = due
                    .remove(keys::by_time(previous_due, updated.id))?
                    .is_some();
                let added = put_pending(alerts, due, updated)?;
                Ok((was_due, added))
            })?;
        self.counts
            .pending
            .add(i64::from(added) - i64::from(was_due));
        Ok(())
    }

    /// Moves an alert to the dead-letter list with `reason`.
    pub fn alert_dead(
        &self,
        alert: &Alert,
        reason: String,
        now: DateTime<Utc>,
    ) -> Result<Alert, StoreError> {
        let mut dead = alert.clone();
        dead.dead = Some(DeadLetter { at: now, reason });
        let (was_due, added) = (&self.alerts, &self.idx_alert_due, &self.idx_alert_dead)
            .transaction(|(alerts, due, dead_idx)| {
                let was_due = due
                    .remove(keys::by_time(alert.next_attempt, alert.id))?
                    .is_some();
                alerts.insert(&keys::id(dead.id), encode(&dead)?)?;
                let added = dead_idx.insert(keys::by_time(now, dead.id), &[])?.is_none();
                Ok((was_due, added))
            })?;
        self.counts.pending.add(-i64::from(was_due));
        self.counts.dead.add(i64::from(added));
        Ok(dead)
    }

    /// Puts a dead alert back in the outbox, due now, under its own id, with a fresh
    /// delivery clock. Returns `false` if `id` is not a dead alert.
    pub fn replay_alert(&self, id: AlertId, now: DateTime<Utc>) -> Result<bool, StoreError> {
        let Some(alert) = self.alert(id)? else {
            return Ok(false);
        };
        let Some(dead) = &alert.dead else {
            return Ok(false);
        };
        let dead_key = keys::by_time(dead.at, id);
        let mut revived = alert.clone();
        revived.dead = None;
        revived.since = now;
        revived.attempts = 0;
        revived.next_attempt = now;
        let (was_dead, added) = (&self.alerts, &self.idx_alert_due, &self.idx_alert_dead)
            .transaction(|(alerts, due, dead_idx)| {
                let was_dead = dead_idx.remove(dead_key.as_slice())?.is_some();
                let added = put_pending(alerts, due, &revived)?;
                Ok((was_dead, added))
            })?;
        self.counts.dead.add(-i64::from(was_dead));
        self.counts.pending.add(i64::from(added));
        Ok(true)
    }

    /// Replays every dead alert; returns how many.
    pub fn replay_dead_alerts(&self, now: DateTime<Utc>) -> Result<usize, StoreError> {
        let ids: Vec<AlertId> = self
            .list_alerts(AlertState::Dead, usize::MAX)?
            .into_iter()
            .map(|a| a.id)
            .collect();
        let mut n = 0;
        for id in ids {
            if self.replay_alert(id, now)? {
                n += 1;
            }
        }
        Ok(n)
    }

    /// Pending alerts soonest first, or dead alerts newest first.
    pub fn list_alerts(&self, state: AlertState, limit: usize) -> Result<Vec<Alert>, StoreError> {
        let iter: Box<dyn Iterator<Item = sled::Result<(sled::IVec, sled::IVec)>>> = match state {
            AlertState::Pending => Box::new(self.idx_alert_due.iter()),
            AlertState::Dead => Box::new(self.idx_alert_dead.iter().rev()),
        };
        let mut out = Vec::new();
        for entry in iter {
            if out.len() >= limit {
                break;
            }
            let (key, _) = entry?;
            if let Some(alert) = keys::decode_id(&key).map(|id| self.alert(id)).transpose()? {
                out.extend(alert);
            }
        }
        Ok(out)
    }

    /// Sizes of the outbox (pending and dead counted without a scan: see `counts`).
    pub fn outbox_counts(&self) -> Result<OutboxCounts, StoreError> {
        Ok(OutboxCounts {
            pending: self.counts.pending.get(),
            dead: self.counts.dead.get(),
            delivered: self
                .meta
                .get(DELIVERED_KEY)?
                .map(|v| decode_u64(&v))
                .unwrap_or(0),
        })
    }
}
