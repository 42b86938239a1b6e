//! The outbox: alerts waiting for delivery, and the dead-letter list.
//!
//! Alerts are created in the same transaction as the events they announce
//! ([`Store::ingest_detecting`]); this module reads and moves them afterwards. Every alert
//! keeps its id from creation to delivery, so a retry, a restart or a replay announces it
//! under the same id.
//!
//! | tree             | key                | value                           |
//! |------------------|--------------------|---------------------------------|
//! | `alerts`         | id                 | [`Alert`] as JSON               |
//! | `idx_alert_due`  | next attempt ‖ id  | empty — pending, soonest first  |
//! | `idx_alert_dead` | dead since ‖ id    | empty — the dead-letter list    |

use chrono::{DateTime, Utc};
use sled::transaction::TransactionalTree;
use sled::Transactional;

use super::{keys, read_json, Store, StoreError, TxResult};
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

const DELIVERED_KEY: &str = "alerts_delivered";

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
/// over `[alerts, idx_alert_due]`).
pub(super) fn put_pending(
    alerts: &TransactionalTree,
    due: &TransactionalTree,
    alert: &Alert,
) -> TxResult<()> {
    alerts.insert(&keys::id(alert.id), encode(alert)?)?;
    due.insert(keys::by_time(alert.next_attempt, alert.id), &[])?;
    Ok(())
}

fn encode(alert: &Alert) -> TxResult<Vec<u8>> {
    serde_json::to_vec(alert).map_err(|e| {
        sled::transaction::ConflictableTransactionError::Abort(StoreError::Backend(format!(
            "cannot encode alert {}: {e}",
            alert.id
        )))
    })
}

impl Store {
    pub fn alert(&self, id: AlertId) -> Result<Option<Alert>, StoreError> {
        read_json(&self.alerts, "alerts", keys::id(id), || id.to_string())
    }

    /// Pending alerts due at `now` or earlier, soonest first, at most `limit`.
    pub fn due_alerts(&self, now: DateTime<Utc>, limit: usize) -> Result<Vec<Alert>, StoreError> {
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
                out.push(alert);
            }
        }
        Ok(out)
    }

    /// When the soonest pending alert is due, if any is pending.
    pub fn next_alert_due(&self) -> Result<Option<DateTime<Utc>>, StoreError> {
        let Some((key, _)) = self.idx_alert_due.first()? else {
            return Ok(None);
        };
        let Some(id) = keys::decode_id(&key) else {
            return Ok(None);
        };
        Ok(self.alert(id)?.map(|a| a.next_attempt))
    }

    /// The sink accepted `alert`: it leaves the outbox.
    pub fn alert_delivered(&self, alert: &Alert) -> Result<(), StoreError> {
        (&self.alerts, &self.idx_alert_due, &self.meta).transaction(|(alerts, due, meta)| {
            alerts.remove(&keys::id(alert.id))?;
            due.remove(keys::by_time(alert.next_attempt, alert.id))?;
            let n = meta
                .get(DELIVERED_KEY)?
                .map(|v| super::decode_u64(&v))
                .unwrap_or(0);
            meta.insert(DELIVERED_KEY, &(n + 1).to_be_bytes())?;
            Ok(())
        })?;
        Ok(())
    }

    /// Saves a failed attempt: `updated` carries the new attempt count, error and next
    /// attempt; `previous_due` is the next-attempt time it was indexed under.
    pub fn alert_retry(
        &self,
        updated: &Alert,
        previous_due: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        (&self.alerts, &self.idx_alert_due).transaction(|(alerts, due)| {
            due.remove(keys::by_time(previous_due, updated.id))?;
            put_pending(alerts, due, updated)?;
            Ok(())
        })?;
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
        (&self.alerts, &self.idx_alert_due, &self.idx_alert_dead).transaction(
            |(alerts, due, dead_idx)| {
                due.remove(keys::by_time(alert.next_attempt, alert.id))?;
                alerts.insert(&keys::id(dead.id), encode(&dead)?)?;
                dead_idx.insert(keys::by_time(now, dead.id), &[])?;
                Ok(())
            },
        )?;
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
        (&self.alerts, &self.idx_alert_due, &self.idx_alert_dead).transaction(
            |(alerts, due, dead_idx)| {
                dead_idx.remove(dead_key.as_slice())?;
                put_pending(alerts, due, &revived)?;
                Ok(())
            },
        )?;
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
        let iter: Box<dyn Iterator<Item = sled::Result<(sled::IVec, sled::IVec)>>> = match state
        {
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

    pub fn outbox_counts(&self) -> Result<OutboxCounts, StoreError> {
        Ok(OutboxCounts {
            pending: self.idx_alert_due.len(),
            dead: self.idx_alert_dead.len(),
            delivered: self
                .meta
                .get(DELIVERED_KEY)?
                .map(|v| super::decode_u64(&v))
                .unwrap_or(0),
        })
    }
}
