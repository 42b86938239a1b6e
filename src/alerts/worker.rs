//! The delivery worker: takes due alerts from the outbox, sends them, and records what
//! happened — delivered (out of the outbox), failed (retried later with backoff and
//! jitter, or after the sink's `Retry-After`), or given up (the dead-letter list).
//!
//! Before announcing anything the worker flushes the store, so an alert is on disk
//! before any sink has seen it: after a crash, a restart delivers the same alert under
//! the same id, never a re-detected copy under a new one.

use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, Utc};
use futures_util::StreamExt;
use tokio::sync::{watch, Notify};
use tracing::{debug, error, info, warn};

use crate::alerts::credentials::Credentials;
use crate::alerts::deliver::{Attempt, Deliverer};
use crate::config::{AlertSettings, Config, HttpSettings};
use crate::metrics::Metrics;
use crate::model::Alert;
use crate::scheduler::jittered;
use crate::store::{Store, StoreError};

/// Alerts taken from the outbox per round.
const BATCH: usize = 64;
/// Deliveries in flight at once.
const PARALLEL: usize = 4;
/// Longest sleep between rounds when nothing is due (a safety net: new alerts wake the
/// worker at once).
const IDLE: Duration = Duration::from_secs(30);

pub struct Worker {
    pub store: Arc<Store>,
    pub metrics: Arc<Metrics>,
    pub config: watch::Receiver<Arc<Config>>,
    /// The sinks' secrets, resolved by the daemon for the config it runs (sent before
    /// the config they belong to).
    pub credentials: watch::Receiver<Arc<Credentials>>,
    /// Notified when new alerts were written.
    pub wake: Arc<Notify>,
}

impl Worker {
    /// One round over every alert due now, then returns (for `tidings run --once`).
    pub async fn deliver_due(&self) -> Result<(), StoreError> {
        let config = self.config.borrow().clone();
        match Deliverer::new(&config.alerts, &config.http) {
            Ok(d) => self.round(&config, &d).await?,
            Err(e) => error!(error = %e, "alerts cannot be delivered"),
        }
        self.refresh_gauges()
    }

    /// Delivers until `stop` turns true; a round in progress is finished first (each
    /// attempt is bounded by the alert timeout).
    pub async fn run(self, mut stop: watch::Receiver<bool>) -> Result<(), StoreError> {
        let mut deliverer: Option<(AlertSettings, HttpSettings, Arc<Deliverer>)> = None;
        loop {
            if *stop.borrow() {
                return Ok(());
            }
            let config = self.config.borrow().clone();
            let current = match &deliverer {
                Some((s, http, d)) if *s == config.alerts && *http == config.http => Arc::clone(d),
                _ => match Deliverer::new(&config.alerts, &config.http) {
                    Ok(d) => {
                        let d = Arc::new(d);
                        deliverer =
                            Some((config.alerts.clone(), config.http.clone(), Arc::clone(&d)));
                        d
                    }
                    Err(e) => {
                        error!(error = %e, "alerts cannot be delivered");
                        tokio::time::sleep(IDLE).await;
                        continue;
                    }
                },
            };
            self.round(&config, &current).await?;
            self.refresh_gauges()?;

            let wait = match self
                .blocking("read the next due alert", |store| store.next_alert_due())
                .await?
            {
                Some(t) => (t - Utc::now()).to_std().unwrap_or_default().min(IDLE),
                None => IDLE,
            };
            if wait.is_zero() {
                continue;
            }
            tokio::select! {
                _ = tokio::time::sleep(wait) => {}
                _ = self.wake.notified() => {}
                _ = stop.changed() => {}
            }
        }
    }

    /// Runs a store call on a blocking thread: sled's reads and writes may wait on the
    /// disk, and the runtime's threads serve polls and the API meanwhile.
    async fn blocking<T: Send + 'static>(
        &self,
        task: &'static str,
        call: impl FnOnce(&Store) -> Result<T, StoreError> + Send + 'static,
    ) -> Result<T, StoreError> {
        let store = Arc::clone(&self.store);
        tokio::task::spawn_blocking(move || call(&store))
            .await
            .map_err(|source| StoreError::Task { task, source })?
    }

    /// The outbox gauges, from the store's counters (no scan).
    fn refresh_gauges(&self) -> Result<(), StoreError> {
        let counts = self.store.outbox_counts()?;
        self.metrics.outbox_pending.set(counts.pending as i64);
        self.metrics.outbox_dead.set(counts.dead as i64);
        Ok(())
    }

    /// One round: every alert due now, sent and recorded.
    async fn round(&self, config: &Config, deliverer: &Deliverer) -> Result<(), StoreError> {
        let now = Utc::now();
        let due = self
            .blocking("read due alerts", move |store| store.due_alerts(now, BATCH))
            .await?;
        if due.is_empty() {
            return Ok(());
        }
        // Durable before announced.
        let store = Arc::clone(&self.store);
        tokio::task::spawn_blocking(move || store.flush())
            .await
            .map_err(|source| StoreError::Task {
                task: "flush",
                source,
            })??;
        let credentials = self.credentials.borrow().clone();
        let credentials = &credentials;
        let results: Vec<(Alert, Attempt)> = futures_util::stream::iter(due)
            .map(|alert| async move {
                let attempt = match (config.sink(&alert.sink), credentials.get(&alert.sink)) {
                    (Some(sink), Some(secrets)) => {
                        deliverer.send(sink, secrets, &alert, Utc::now()).await
                    }
                    (Some(_), None) => Attempt::Failed {
                        status: None,
                        error: format!("sink {:?} has no resolved secrets yet", alert.sink),
                        retry_after: None,
                    },
                    (None, _) => Attempt::Failed {
                        status: None,
                        error: format!("sink {:?} is not in the config", alert.sink),
                        retry_after: None,
                    },
                };
                (alert, attempt)
            })
            .buffer_unordered(PARALLEL)
            .collect()
            .await;
        let settings = config.alerts.clone();
        let metrics = Arc::clone(&self.metrics);
        self.blocking("record deliveries", move |store| {
            for (alert, attempt) in results {
                Self::record(store, &metrics, &settings, alert, attempt)?;
            }
            Ok(())
        })
        .await?;
        Ok(())
    }

    fn record(
        store: &Store,
        metrics: &Metrics,
        settings: &AlertSettings,
        alert: Alert,
        attempt: Attempt,
    ) -> Result<(), StoreError> {
        let now = Utc::now();
        let id = alert.message_id();
        match attempt {
            Attempt::Delivered { status } => {
                store.alert_delivered(&alert)?;
                metrics.delivery(&alert.sink, "delivered");
                info!(alert = %id, sink = %alert.sink, event = alert.event.id, status, attempts = alert.attempts + 1, "alert delivered");
            }
            Attempt::Gone { status } => {
                store.alert_dead(&alert, format!("endpoint gone (HTTP {status})"), now)?;
                metrics.delivery(&alert.sink, "dead");
                warn!(alert = %id, sink = %alert.sink, status, "sink answered 410 Gone; alert moved to the dead-letter list");
            }
            Attempt::Failed {
                status,
                error,
                retry_after,
            } => {
                let mut next = alert.clone();
                next.attempts += 1;
                next.last_attempt = Some(now);
                next.last_status = status;
                next.last_error = Some(error.clone());
                next.next_attempt =
                    now + to_chrono(retry_delay(settings, next.attempts, retry_after));
                let deadline = alert.since + to_chrono(settings.max_age);
                if next.next_attempt > deadline {
                    let reason = format!(
                        "not delivered within {} ({} attempts); last error: {error}",
                        humantime::format_duration(settings.max_age),
                        next.attempts
                    );
                    store.alert_dead(&next_with_due(&next, alert.next_attempt), reason, now)?;
                    metrics.delivery(&alert.sink, "dead");
                    warn!(alert = %id, sink = %alert.sink, attempts = next.attempts, error = %error, "alert given up; moved to the dead-letter list");
                } else {
                    store.alert_retry(&next, alert.next_attempt)?;
                    metrics.delivery(&alert.sink, "failed");
                    debug!(alert = %id, sink = %alert.sink, attempts = next.attempts, error = %error, next_attempt = %next.next_attempt.to_rfc3339(), "alert delivery failed; will retry");
                    if next.attempts == 1 || next.attempts % 5 == 0 {
                        warn!(alert = %id, sink = %alert.sink, attempts = next.attempts, error = %error, next_attempt = %next.next_attempt.to_rfc3339(), "alert delivery failing");
                    }
                }
            }
        }
        Ok(())
    }
}

/// `alert` with the updated fields of a failed attempt, still indexed at `indexed_due`
/// (so that moving it to the dead-letter list removes the right due entry).
fn next_with_due(updated: &Alert, indexed_due: DateTime<Utc>) -> Alert {
    let mut a = updated.clone();
    a.next_attempt = indexed_due;
    a
}

/// How long to wait after the `attempts`-th failure: the sink's `Retry-After` when it
/// sent one, else the configured delay for that attempt (the last one repeats), jittered.
pub fn retry_delay(
    settings: &AlertSettings,
    attempts: u32,
    retry_after: Option<Duration>,
) -> Duration {
    if let Some(wait) = retry_after {
        return wait;
    }
    let index = (attempts.max(1) as usize - 1).min(settings.retry_delays.len() - 1);
    jittered(settings.retry_delays[index], settings.jitter)
}

fn to_chrono(d: Duration) -> chrono::Duration {
    chrono::Duration::from_std(d).unwrap_or(chrono::Duration::MAX)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn settings() -> AlertSettings {
        AlertSettings {
            timeout: Duration::from_secs(10),
            retry_delays: vec![
                Duration::from_secs(5),
                Duration::from_secs(300),
                Duration::from_secs(1800),
            ],
            jitter: 0.0,
            max_age: Duration::from_secs(86400),
            on_update: true,
        }
    }

    #[test]
    fn delays_follow_the_schedule_and_the_last_repeats() {
        let s = settings();
        assert_eq!(retry_delay(&s, 1, None), Duration::from_secs(5));
        assert_eq!(retry_delay(&s, 2, None), Duration::from_secs(300));
        assert_eq!(retry_delay(&s, 3, None), Duration::from_secs(1800));
        assert_eq!(retry_delay(&s, 9, None), Duration::from_secs(1800));
        assert_eq!(
            retry_delay(&s, 1, Some(Duration::from_secs(42))),
            Duration::from_secs(42)
        );
    }

    #[test]
    fn jitter_stays_within_its_fraction() {
        let s = AlertSettings {
            jitter: 0.2,
            ..settings()
        };
        for _ in 0..200 {
            let d = retry_delay(&s, 2, None).as_secs_f64();
            assert!((240.0..=360.0).contains(&d), "{d}");
        }
    }
}
