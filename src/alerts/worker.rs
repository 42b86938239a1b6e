//! The delivery worker: takes due alerts from the outbox, sends them, and records what
//! happened — delivered (out of the outbox), failed (retried later with backoff and
//! jitter, or after the sink's `Retry-After`), or given up (the dead-letter list).
//!
//! Before announcing anything the worker flushes the store, so an alert is on disk
//! before any sink has seen it: after a crash, a restart delivers the same alert under
//! the same id, never a re-detected copy under a new one.
//!
//! A sink that is down (unreachable, timed out, 5xx, 429) is paused as a whole by its
//! circuit breaker ([`crate::alerts::breaker`]): a round passes over the alerts of a
//! paused sink, which keep their place in the outbox and their attempt counts, takes only
//! the oldest one as a probe once the pause is over, and after a delivered probe the
//! sink's backlog drains oldest first. An alert's own failed attempt against a down sink
//! counts as an attempt but keeps its place; only other failures (4xx, missing secrets)
//! move the alert back by the configured retry delays. Each state change is logged once,
//! counted in the metrics and saved in the store.
//!
//! When several daemons share the store (PostgreSQL), a round claims its alerts
//! (`Store::claim_due_alerts`) under a lease long enough for the round: no other daemon
//! sends them meanwhile, and one that dies holding them delays them by at most the lease
//! before another sends them under the same ids.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use chrono::{DateTime, Utc};
use futures_util::StreamExt;
use tokio::sync::{watch, Notify};
use tracing::{debug, error, info, warn};

use crate::alerts::breaker::{Admit, Breakers, Permit, Policy, Transition, Verdict};
use crate::alerts::credentials::Credentials;
use crate::alerts::deliver::{Attempt, Deliverer};
use crate::config::{AlertSettings, Config, HttpSettings};
use crate::metrics::Metrics;
use crate::model::{Alert, CircuitState, SinkCircuit};
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
    /// The sinks' circuit breakers, restored from the store at start.
    breakers: Mutex<Breakers>,
}

/// What became of one alert in a round.
enum Outcome {
    /// Its sink is paused: not sent, left as it was.
    Held,
    /// Sent, and the sink answered (or the attempt failed before reaching it: no
    /// secrets, not configured).
    Tried(Attempt),
    /// Sent, and the sink was down: the alert keeps its place; the sink's breaker says
    /// when its next probe may go (`None`: it is closed again).
    SinkDown {
        attempt: Attempt,
        next_probe: Option<DateTime<Utc>>,
    },
}

impl Worker {
    /// A worker over `store`, resuming the sinks' circuit breakers saved there.
    pub fn new(
        store: Arc<Store>,
        metrics: Arc<Metrics>,
        config: watch::Receiver<Arc<Config>>,
        credentials: watch::Receiver<Arc<Credentials>>,
        wake: Arc<Notify>,
    ) -> Result<Worker, StoreError> {
        let breakers = Breakers::restore(store.sink_circuits()?);
        Ok(Worker {
            store,
            metrics,
            config,
            credentials,
            wake,
            breakers: Mutex::new(breakers),
        })
    }

    fn breakers(&self) -> std::sync::MutexGuard<'_, Breakers> {
        // The breakers are plain data: one poisoned by a panic elsewhere is still whole.
        self.breakers.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// One round over every alert due now, then returns (for `tidings run --once`).
    pub async fn deliver_due(&self) -> Result<(), StoreError> {
        let config = self.config.borrow().clone();
        match Deliverer::new(&config.alerts, &config.http) {
            Ok(d) => self.round(&config, &d).await?,
            Err(e) => error!(error = %e, "alerts cannot be delivered"),
        }
        self.refresh_gauges(&config)
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
            self.refresh_gauges(&config)?;

            // The next alert a round would take, or the next probe of a paused sink.
            let now = Utc::now();
            let (admits, next_probe) = {
                let breakers = self.breakers();
                (
                    self.admits(&config, &breakers, now),
                    breakers.next_probe(now),
                )
            };
            let next_due = self
                .blocking("read the next due alert", move |store| {
                    store.next_claimable_alert(&paused_sinks(&admits))
                })
                .await?;
            let wait = match next_due.into_iter().chain(next_probe).min() {
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

    /// Runs a store call on a blocking thread ([`Store::blocking`]).
    async fn blocking<T: Send + 'static>(
        &self,
        task: &'static str,
        call: impl FnOnce(&Store) -> Result<T, StoreError> + Send + 'static,
    ) -> Result<T, StoreError> {
        self.store.blocking(task, call).await
    }

    /// The outbox gauges, from the store's counters (no scan), and each configured sink's
    /// breaker state.
    fn refresh_gauges(&self, config: &Config) -> Result<(), StoreError> {
        let counts = self.store.outbox_counts()?;
        self.metrics.outbox_pending.set(counts.pending as i64);
        self.metrics.outbox_dead.set(counts.dead as i64);
        let breakers = self.breakers();
        for sink in &config.sinks {
            let state = breakers
                .get(&sink.id)
                .map_or(CircuitState::Closed, |b| b.state());
            self.metrics.sink_state(&sink.id, state.gauge());
        }
        Ok(())
    }

    /// How many due alerts each configured sink's breaker lets a round take at `now`.
    fn admits(
        &self,
        config: &Config,
        breakers: &Breakers,
        now: DateTime<Utc>,
    ) -> HashMap<String, Admit> {
        config
            .sinks
            .iter()
            .map(|s| (s.id.clone(), breakers.admits(&s.id, now)))
            .collect()
    }

    /// Logs a breaker's state change once and counts it.
    fn announce(&self, t: &Transition) {
        let c = &t.circuit;
        self.metrics
            .sink_state_change(&c.sink, c.state.as_str(), c.state.gauge());
        let next_probe = c.next_probe.map(|t| t.to_rfc3339()).unwrap_or_default();
        let error = c.last_error.as_deref().unwrap_or("");
        match (t.from, c.state) {
            (CircuitState::HalfOpen, CircuitState::Open) => {
                warn!(sink = %c.sink, failures = c.failures, error, next_probe, "sink still down: probe failed, its alerts keep waiting")
            }
            (_, CircuitState::Open) => {
                warn!(sink = %c.sink, failures = c.failures, error, next_probe, "sink down: delivery paused, its alerts wait in the outbox")
            }
            (_, CircuitState::HalfOpen) => {
                info!(sink = %c.sink, failures = c.failures, "sink paused long enough: sending one probe alert")
            }
            (_, CircuitState::Closed) => {
                info!(sink = %c.sink, "sink answers again: delivery resumed")
            }
        }
    }

    /// One round: every alert due now whose sink's breaker lets it go, sent and recorded.
    async fn round(&self, config: &Config, deliverer: &Deliverer) -> Result<(), StoreError> {
        let now = Utc::now();
        let admits = self.admits(config, &self.breakers(), now);
        let paused = paused_sinks(&admits);
        let lease = claim_lease(&config.alerts);
        let due = self
            .blocking("claim due alerts", move |store| {
                let mut probes: HashMap<String, usize> = HashMap::new();
                store.claim_due_alerts(now, BATCH, lease, &paused, |a| {
                    match admit(&admits, &a.sink) {
                        Admit::All => true,
                        Admit::None => false,
                        Admit::One => {
                            let taken = probes.entry(a.sink.clone()).or_default();
                            *taken += 1;
                            *taken == 1
                        }
                    }
                })
            })
            .await?;
        if due.is_empty() {
            return Ok(());
        }
        // Durable before announced.
        self.blocking("flush", |store| store.flush()).await?;
        let credentials = self.credentials.borrow().clone();
        let credentials = &credentials;
        let policy = Policy::from_settings(&config.alerts);
        let policy = &policy;
        let changes_before: HashMap<String, u64> = self
            .breakers()
            .iter()
            .map(|b| (b.circuit().sink.clone(), b.circuit().changes))
            .collect();
        let results: Vec<(Alert, Outcome)> = futures_util::stream::iter(due)
            .map(|alert| async move {
                let outcome = match (config.sink(&alert.sink), credentials.get(&alert.sink)) {
                    (Some(sink), Some(secrets)) => {
                        let (permit, change) = self.breakers().permit(&alert.sink, Utc::now());
                        if let Some(t) = &change {
                            self.announce(t);
                        }
                        if permit == Permit::Hold {
                            return (alert, Outcome::Held);
                        }
                        let attempt = deliverer.send(sink, secrets, &alert, Utc::now()).await;
                        let verdict = verdict(&attempt);
                        let mut breakers = self.breakers();
                        let change = breakers.report(
                            &alert.sink,
                            permit,
                            &verdict,
                            Utc::now(),
                            policy,
                            fastrand::f64(),
                        );
                        let outcome = match verdict {
                            Verdict::Up => Outcome::Tried(attempt),
                            Verdict::Down { .. } => Outcome::SinkDown {
                                attempt,
                                next_probe: breakers
                                    .get(&alert.sink)
                                    .and_then(|b| b.circuit().next_probe),
                            },
                        };
                        drop(breakers);
                        if let Some(t) = &change {
                            self.announce(t);
                        }
                        outcome
                    }
                    (Some(_), None) => Outcome::Tried(Attempt::Failed {
                        status: None,
                        error: format!("sink {:?} has no resolved secrets yet", alert.sink),
                        retry_after: None,
                    }),
                    (None, _) => Outcome::Tried(Attempt::Failed {
                        status: None,
                        error: format!("sink {:?} is not in the config", alert.sink),
                        retry_after: None,
                    }),
                };
                (alert, outcome)
            })
            .buffer_unordered(PARALLEL)
            .collect()
            .await;
        // The breakers that changed this round, saved as they stand now.
        let changed: Vec<SinkCircuit> = self
            .breakers()
            .iter()
            .map(|b| b.circuit())
            .filter(|c| changes_before.get(&c.sink).copied().unwrap_or(0) != c.changes)
            .cloned()
            .collect();
        let settings = config.alerts.clone();
        let metrics = Arc::clone(&self.metrics);
        self.blocking("record deliveries", move |store| {
            for circuit in &changed {
                store.save_sink_circuit(circuit)?;
            }
            for (alert, outcome) in results {
                match outcome {
                    Outcome::Held => {}
                    Outcome::Tried(attempt) => {
                        Self::record(store, &metrics, &settings, alert, attempt, None)?
                    }
                    Outcome::SinkDown {
                        attempt,
                        next_probe,
                    } => {
                        let resume = Some(next_probe.unwrap_or_else(Utc::now));
                        Self::record(store, &metrics, &settings, alert, attempt, resume)?
                    }
                }
            }
            Ok(())
        })
        .await?;
        Ok(())
    }

    /// Saves what one attempt did to `alert`. `sink_resumes` is set when the sink was
    /// down: when its breaker lets the next attempt go (the alert keeps its place in the
    /// outbox meanwhile).
    fn record(
        store: &Store,
        metrics: &Metrics,
        settings: &AlertSettings,
        alert: Alert,
        attempt: Attempt,
        sink_resumes: Option<DateTime<Utc>>,
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
                // Its sink is down: the alert keeps its place in the outbox and waits for
                // the sink's breaker; the next try is no sooner than the next probe.
                // Otherwise it waits its own retry delay.
                let (next_try, sink_down) = match sink_resumes {
                    Some(probe) => (probe.max(now), true),
                    None => {
                        next.next_attempt =
                            now + to_chrono(retry_delay(settings, next.attempts, retry_after));
                        (next.next_attempt, false)
                    }
                };
                let deadline = alert.since + to_chrono(settings.max_age);
                if next_try > deadline {
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
                    debug!(alert = %id, sink = %alert.sink, attempts = next.attempts, error = %error, next_attempt = %next_try.to_rfc3339(), "alert delivery failed; will retry");
                    // A down sink is logged by its breaker, once per state change.
                    if !sink_down && (next.attempts == 1 || next.attempts % 5 == 0) {
                        warn!(alert = %id, sink = %alert.sink, attempts = next.attempts, error = %error, next_attempt = %next.next_attempt.to_rfc3339(), "alert delivery failing");
                    }
                }
            }
        }
        Ok(())
    }
}

/// What an attempt says about its sink: down when it could not be reached or timed out
/// (no answer), or answered 5xx or 429; up for any other answer, including 4xx refusals
/// of one alert and 410 Gone.
pub fn verdict(attempt: &Attempt) -> Verdict {
    match attempt {
        Attempt::Failed {
            status,
            error,
            retry_after,
        } if status.is_none_or(|s| s >= 500 || s == 429) => Verdict::Down {
            error: error.clone(),
            retry_after: *retry_after,
        },
        _ => Verdict::Up,
    }
}

/// The breaker's answer for `sink`: a sink not in the config has none and is never held
/// (its alerts fail on their own and wait their retry delays).
/// The sinks whose breaker takes no alert now.
fn paused_sinks(admits: &HashMap<String, Admit>) -> Vec<String> {
    admits
        .iter()
        .filter(|(_, a)| **a == Admit::None)
        .map(|(sink, _)| sink.clone())
        .collect()
}

/// How long a round's claim on its alerts lasts when daemons share the outbox: every
/// attempt of a full round at the longest timeout, and a margin. A daemon that dies
/// holding alerts delays them by this much; they are then sent by another.
fn claim_lease(settings: &AlertSettings) -> Duration {
    settings.timeout * BATCH.div_ceil(PARALLEL) as u32 + Duration::from_secs(30)
}

fn admit(admits: &HashMap<String, Admit>, sink: &str) -> Admit {
    admits.get(sink).copied().unwrap_or(Admit::All)
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
            sink_backoff_min: Duration::from_secs(1),
            sink_backoff_max: Duration::from_secs(300),
            on_update: true,
        }
    }

    #[test]
    fn unreachable_sinks_5xx_and_429_are_down_other_answers_up() {
        let failed = |status: Option<u16>| Attempt::Failed {
            status,
            error: "e".into(),
            retry_after: None,
        };
        for down in [None, Some(500), Some(503), Some(429)] {
            assert!(
                matches!(verdict(&failed(down)), Verdict::Down { .. }),
                "{down:?}"
            );
        }
        for up in [Some(400), Some(404), Some(301)] {
            assert_eq!(verdict(&failed(up)), Verdict::Up, "{up:?}");
        }
        assert_eq!(verdict(&Attempt::Delivered { status: 200 }), Verdict::Up);
        assert_eq!(verdict(&Attempt::Gone { status: 410 }), Verdict::Up);
        let limited = Attempt::Failed {
            status: Some(429),
            error: "HTTP 429".into(),
            retry_after: Some(Duration::from_secs(3)),
        };
        assert_eq!(
            verdict(&limited),
            Verdict::Down {
                error: "HTTP 429".into(),
                retry_after: Some(Duration::from_secs(3))
            }
        );
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
