//! Per-sink circuit breakers: a sink that fails is paused as a whole, not alert by alert.
//!
//! ```text
//!            failure                       probe time reached
//! closed ───────────────► open ────────────────────────────────► half-open
//!   ▲                      ▲                                         │
//!   │                      └──────── probe failed (longer pause) ────┤
//!   └──────────────────────────────── probe delivered ───────────────┘
//! ```
//!
//! - **closed**: alerts flow with the worker's parallelism. The first attempt that finds
//!   the sink down (a network error or timeout, 5xx, 429: [`Verdict::Down`]) opens it.
//! - **open**: the sink's alerts wait where they are in the outbox and no attempt is made;
//!   the pause after the n-th failure in a row is `min × 2ⁿ⁻¹`, capped at `max`, moved by
//!   up to ±`jitter` of itself (or the sink's `Retry-After` when it sent one).
//! - **half-open**: once the pause is over, one probe alert (the sink's oldest) is sent.
//!   Delivered (or any answer that is not a sink failure), the circuit closes and the
//!   backlog drains; a failure reopens it with the next, longer pause.
//!
//! Each permit carries the circuit's epoch (its count of state changes): the answer to an
//! attempt sent before the circuit last changed — one in flight when another opened it,
//! or when a probe closed it — does not move it again.
//! Everything here is pure: the clock (`now`) and the jitter's roll are passed in, so the
//! tests drive it without sleeping. The worker saves each change in the store
//! ([`SinkCircuit`]), where `tidings alerts` and a restarted daemon read it.

use std::collections::HashMap;
use std::time::Duration;

use chrono::{DateTime, Utc};

use crate::config::AlertSettings;
use crate::model::{CircuitState, SinkCircuit};

/// How long a failing sink is paused.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Policy {
    /// The pause after the first failure.
    pub min: Duration,
    /// The longest pause.
    pub max: Duration,
    /// Each pause moves by up to this fraction of itself.
    pub jitter: f64,
}

impl Policy {
    pub fn from_settings(settings: &AlertSettings) -> Policy {
        Policy {
            min: settings.sink_backoff_min,
            max: settings.sink_backoff_max,
            jitter: settings.jitter,
        }
    }

    /// The pause after `failures` failures in a row, before jitter: `min × 2^(failures−1)`,
    /// capped at `max`.
    pub fn backoff(&self, failures: u32) -> Duration {
        let doublings = failures.max(1) - 1;
        let factor = 2u32.saturating_pow(doublings.min(31));
        self.min.saturating_mul(factor).min(self.max)
    }

    /// [`Policy::backoff`] moved by `jitter × (2·roll − 1)` of itself (`roll` in
    /// `[0, 1)`, 0.5 for none), still at most `max`.
    pub fn jittered(&self, failures: u32, roll: f64) -> Duration {
        let base = self.backoff(failures);
        let factor = 1.0 + self.jitter * (roll.clamp(0.0, 1.0) * 2.0 - 1.0);
        base.mul_f64(factor.max(0.0)).min(self.max)
    }
}

/// What one attempt says about its sink.
#[derive(Debug, Clone, PartialEq)]
pub enum Verdict {
    /// The sink answered (delivered, gone, or refused this one alert): it is up.
    Up,
    /// The sink is down: unreachable, timed out, 5xx, 429.
    Down {
        error: String,
        retry_after: Option<Duration>,
    },
}

/// Whether an alert for a sink may go now; `epoch` is the circuit's count of state
/// changes when it was given.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Permit {
    /// Closed: send.
    Send { epoch: u64 },
    /// The one probe of a half-open circuit.
    Probe { epoch: u64 },
    /// Open (or its probe is in flight): the alert waits, untouched.
    Hold,
}

/// How many of a sink's due alerts a round may take.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Admit {
    All,
    /// The probe's pause is over: the oldest one.
    One,
    None,
}

/// One state change, for the log, the metrics and the store.
#[derive(Debug, Clone, PartialEq)]
pub struct Transition {
    pub from: CircuitState,
    pub circuit: SinkCircuit,
}

/// One sink's breaker.
#[derive(Debug, Clone, PartialEq)]
pub struct Breaker {
    circuit: SinkCircuit,
}

impl Breaker {
    /// A closed breaker for `sink`.
    pub fn new(sink: &str, now: DateTime<Utc>) -> Breaker {
        Breaker {
            circuit: SinkCircuit {
                sink: sink.to_string(),
                state: CircuitState::Closed,
                failures: 0,
                since: now,
                next_probe: None,
                changes: 0,
                last_error: None,
            },
        }
    }

    /// The breaker as the store saved it. A probe cannot outlive the worker that sent it,
    /// so a saved half-open circuit is open again, its probe due at once.
    pub fn restore(mut circuit: SinkCircuit) -> Breaker {
        if circuit.state == CircuitState::HalfOpen {
            circuit.state = CircuitState::Open;
            circuit.next_probe = Some(circuit.since);
        }
        Breaker { circuit }
    }

    pub fn circuit(&self) -> &SinkCircuit {
        &self.circuit
    }

    pub fn state(&self) -> CircuitState {
        self.circuit.state
    }

    /// How many of the sink's due alerts a round may take at `now`.
    pub fn admits(&self, now: DateTime<Utc>) -> Admit {
        match self.circuit.state {
            CircuitState::Closed => Admit::All,
            CircuitState::HalfOpen => Admit::None,
            CircuitState::Open if self.probe_due(now) => Admit::One,
            CircuitState::Open => Admit::None,
        }
    }

    /// When the paused sink's next probe may go: `Some` only while it waits for it.
    pub fn paused_until(&self, now: DateTime<Utc>) -> Option<DateTime<Utc>> {
        match self.circuit.state {
            CircuitState::Open if !self.probe_due(now) => self.circuit.next_probe,
            _ => None,
        }
    }

    fn probe_due(&self, now: DateTime<Utc>) -> bool {
        self.circuit.next_probe.is_none_or(|t| t <= now)
    }

    /// Asks to send one alert at `now`. An open circuit whose pause is over turns
    /// half-open and lets this one through as its probe.
    pub fn permit(&mut self, now: DateTime<Utc>) -> (Permit, Option<Transition>) {
        match self.circuit.state {
            CircuitState::Closed => (
                Permit::Send {
                    epoch: self.circuit.changes,
                },
                None,
            ),
            CircuitState::HalfOpen => (Permit::Hold, None),
            CircuitState::Open if self.probe_due(now) => {
                let t = self.change(CircuitState::HalfOpen, now, |_| {});
                let epoch = self.circuit.changes;
                (Permit::Probe { epoch }, Some(t))
            }
            CircuitState::Open => (Permit::Hold, None),
        }
    }

    /// Takes the answer to an attempt sent under `permit`. `roll` in `[0, 1)` places the
    /// pause within its jitter.
    pub fn report(
        &mut self,
        permit: Permit,
        verdict: &Verdict,
        now: DateTime<Utc>,
        policy: &Policy,
        roll: f64,
    ) -> Option<Transition> {
        let epoch = match permit {
            Permit::Send { epoch } | Permit::Probe { epoch } => epoch,
            Permit::Hold => return None,
        };
        if epoch != self.circuit.changes {
            // Sent before the circuit last changed: that change already counted.
            return None;
        }
        let state = self.circuit.state;
        match (permit, state, verdict) {
            (Permit::Probe { .. }, CircuitState::HalfOpen, Verdict::Up) => {
                Some(self.change(CircuitState::Closed, now, |c| {
                    c.failures = 0;
                    c.next_probe = None;
                    c.last_error = None;
                }))
            }
            (Permit::Probe { .. }, CircuitState::HalfOpen, Verdict::Down { .. })
            | (Permit::Send { .. }, CircuitState::Closed, Verdict::Down { .. }) => {
                let Verdict::Down { error, retry_after } = verdict else {
                    unreachable!("matched Down above")
                };
                let failures = self.circuit.failures.saturating_add(1);
                let pause = retry_after.unwrap_or_else(|| policy.jittered(failures, roll));
                let next = now + chrono::Duration::from_std(pause).unwrap_or(chrono::Duration::MAX);
                Some(self.change(CircuitState::Open, now, |c| {
                    c.failures = failures;
                    c.next_probe = Some(next);
                    c.last_error = Some(error.clone());
                }))
            }
            // Closed and up.
            _ => None,
        }
    }

    fn change(
        &mut self,
        to: CircuitState,
        now: DateTime<Utc>,
        update: impl FnOnce(&mut SinkCircuit),
    ) -> Transition {
        let from = self.circuit.state;
        self.circuit.state = to;
        self.circuit.since = now;
        self.circuit.changes += 1;
        update(&mut self.circuit);
        Transition {
            from,
            circuit: self.circuit.clone(),
        }
    }
}

/// The breakers of every sink the worker has sent to (a sink never seen is closed).
#[derive(Debug, Default)]
pub struct Breakers {
    map: HashMap<String, Breaker>,
}

impl Breakers {
    /// The breakers saved in the store.
    pub fn restore(saved: Vec<SinkCircuit>) -> Breakers {
        Breakers {
            map: saved
                .into_iter()
                .map(|c| (c.sink.clone(), Breaker::restore(c)))
                .collect(),
        }
    }

    pub fn get(&self, sink: &str) -> Option<&Breaker> {
        self.map.get(sink)
    }

    pub fn iter(&self) -> impl Iterator<Item = &Breaker> {
        self.map.values()
    }

    pub fn admits(&self, sink: &str, now: DateTime<Utc>) -> Admit {
        self.map.get(sink).map_or(Admit::All, |b| b.admits(now))
    }

    /// The soonest time a paused sink's probe may go.
    pub fn next_probe(&self, now: DateTime<Utc>) -> Option<DateTime<Utc>> {
        self.map.values().filter_map(|b| b.paused_until(now)).min()
    }

    pub fn permit(&mut self, sink: &str, now: DateTime<Utc>) -> (Permit, Option<Transition>) {
        self.map
            .entry(sink.to_string())
            .or_insert_with(|| Breaker::new(sink, now))
            .permit(now)
    }

    pub fn report(
        &mut self,
        sink: &str,
        permit: Permit,
        verdict: &Verdict,
        now: DateTime<Utc>,
        policy: &Policy,
        roll: f64,
    ) -> Option<Transition> {
        self.map
            .entry(sink.to_string())
            .or_insert_with(|| Breaker::new(sink, now))
            .report(permit, verdict, now, policy, roll)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// No jitter.
    const MID: f64 = 0.5;

    fn policy() -> Policy {
        Policy {
            min: Duration::from_secs(1),
            max: Duration::from_secs(300),
            jitter: 0.0,
        }
    }

    fn t0() -> DateTime<Utc> {
        "2026-12-07T12:00:00Z".parse().unwrap()
    }

    fn at(secs: i64) -> DateTime<Utc> {
        t0() + chrono::Duration::seconds(secs)
    }

    fn down() -> Verdict {
        Verdict::Down {
            error: "connection refused".into(),
            retry_after: None,
        }
    }

    #[test]
    fn the_pause_doubles_from_min_and_stops_at_max() {
        let p = policy();
        let secs: Vec<u64> = (1..=11).map(|n| p.backoff(n).as_secs()).collect();
        assert_eq!(secs, [1, 2, 4, 8, 16, 32, 64, 128, 256, 300, 300]);
        assert_eq!(p.backoff(u32::MAX), Duration::from_secs(300));
        assert_eq!(p.jittered(3, MID), Duration::from_secs(4));
    }

    #[test]
    fn jitter_stays_within_its_fraction_and_under_max() {
        let p = Policy {
            jitter: 0.2,
            ..policy()
        };
        assert_eq!(p.jittered(3, 0.0), Duration::from_secs_f64(3.2));
        assert_eq!(p.jittered(3, 1.0), Duration::from_secs_f64(4.8));
        assert_eq!(p.jittered(20, 1.0), Duration::from_secs(300));
    }

    /// A breaker that failed once at `t0`.
    fn opened() -> Breaker {
        let mut b = Breaker::new("hook", t0());
        let (send, _) = b.permit(t0());
        b.report(send, &down(), t0(), &policy(), MID).unwrap();
        b
    }

    #[test]
    fn a_failure_opens_and_holds_until_the_probe_time() {
        let mut b = Breaker::new("hook", t0());
        let (send, change) = b.permit(t0());
        assert_eq!((send, change), (Permit::Send { epoch: 0 }, None));
        let t = b.report(send, &down(), t0(), &policy(), MID).unwrap();
        assert_eq!(t.from, CircuitState::Closed);
        assert_eq!(t.circuit.state, CircuitState::Open);
        assert_eq!(t.circuit.failures, 1);
        assert_eq!(t.circuit.next_probe, Some(at(1)));
        assert_eq!(t.circuit.last_error.as_deref(), Some("connection refused"));
        assert_eq!(b.admits(t0()), Admit::None);
        assert_eq!(b.paused_until(t0()), Some(at(1)));
        assert_eq!(b.permit(t0()), (Permit::Hold, None));
    }

    #[test]
    fn attempts_sent_before_the_last_change_do_not_move_it() {
        let p = policy();
        let mut b = Breaker::new("hook", t0());
        // Four sent while closed; the first failure opens the circuit.
        let sends: Vec<Permit> = (0..4).map(|_| b.permit(t0()).0).collect();
        b.report(sends[0], &down(), t0(), &p, MID).unwrap();
        assert_eq!(b.report(sends[1], &down(), t0(), &p, MID), None);
        assert_eq!(b.report(sends[2], &Verdict::Up, t0(), &p, MID), None);
        assert_eq!((b.circuit().failures, b.circuit().changes), (1, 1));
        // A probe closes it; a failure sent before then does not reopen it.
        let (probe, _) = b.permit(at(1));
        b.report(probe, &Verdict::Up, at(1), &p, MID).unwrap();
        assert_eq!(b.report(sends[3], &down(), at(1), &p, MID), None);
        assert_eq!(b.state(), CircuitState::Closed);
        assert_eq!(b.report(Permit::Hold, &down(), at(1), &p, MID), None);
    }

    #[test]
    fn failed_probes_reopen_with_longer_pauses_and_a_delivered_one_closes() {
        let p = policy();
        let mut b = opened();
        let mut pauses = Vec::new();
        for _ in 0..4 {
            let now = b.circuit().next_probe.unwrap();
            assert_eq!(b.admits(now), Admit::One);
            let (probe, t) = b.permit(now);
            assert!(matches!(probe, Permit::Probe { .. }), "{probe:?}");
            assert_eq!(t.unwrap().circuit.state, CircuitState::HalfOpen);
            // Only one probe at a time.
            assert_eq!(b.permit(now), (Permit::Hold, None));
            assert_eq!(b.admits(now), Admit::None);
            let t = b.report(probe, &down(), now, &p, MID).unwrap();
            assert_eq!(
                (t.from, t.circuit.state),
                (CircuitState::HalfOpen, CircuitState::Open)
            );
            pauses.push((t.circuit.next_probe.unwrap() - now).num_seconds());
        }
        assert_eq!(pauses, [2, 4, 8, 16]);
        let now = b.circuit().next_probe.unwrap();
        let (probe, _) = b.permit(now);
        let t = b.report(probe, &Verdict::Up, now, &p, MID).unwrap();
        assert_eq!(
            (t.from, t.circuit.state),
            (CircuitState::HalfOpen, CircuitState::Closed)
        );
        assert_eq!(t.circuit.failures, 0);
        assert_eq!(t.circuit.next_probe, None);
        // Closed → open, then 4 × (→ half-open, → open), then → half-open, → closed.
        assert_eq!(t.circuit.changes, 11);
        assert_eq!(b.admits(now), Admit::All);
        // Closed again: the next failure starts from the shortest pause.
        let (send, _) = b.permit(now);
        let t = b.report(send, &down(), now, &p, MID).unwrap();
        assert_eq!(
            t.circuit.next_probe,
            Some(now + chrono::Duration::seconds(1))
        );
    }

    #[test]
    fn a_retry_after_sets_the_pause() {
        let mut b = Breaker::new("hook", t0());
        let limited = Verdict::Down {
            error: "HTTP 429".into(),
            retry_after: Some(Duration::from_secs(30)),
        };
        let (send, _) = b.permit(t0());
        let t = b.report(send, &limited, t0(), &policy(), MID).unwrap();
        assert_eq!(t.circuit.next_probe, Some(at(30)));
    }

    #[test]
    fn a_saved_half_open_circuit_comes_back_open_with_its_probe_due() {
        let mut b = opened();
        b.permit(at(1));
        assert_eq!(b.state(), CircuitState::HalfOpen);
        let back = Breaker::restore(b.circuit().clone());
        assert_eq!(back.state(), CircuitState::Open);
        assert_eq!(back.admits(at(1)), Admit::One);
    }

    #[test]
    fn breakers_pause_one_sink_and_not_the_others() {
        let p = policy();
        let mut all = Breakers::default();
        assert_eq!(all.admits("a", t0()), Admit::All);
        let (send, _) = all.permit("a", t0());
        assert!(matches!(send, Permit::Send { .. }));
        all.report("a", send, &down(), t0(), &p, MID).unwrap();
        assert_eq!(all.admits("a", t0()), Admit::None);
        assert_eq!(all.admits("b", t0()), Admit::All);
        assert!(matches!(all.permit("b", t0()).0, Permit::Send { .. }));
        assert_eq!(all.next_probe(t0()), Some(at(1)));
        assert_eq!(all.next_probe(at(1)), None, "due: no longer a pause");
        let saved: Vec<SinkCircuit> = all.iter().map(|b| b.circuit().clone()).collect();
        let back = Breakers::restore(saved);
        assert_eq!(back.admits("a", t0()), Admit::None);
        assert_eq!(back.get("a").unwrap().state(), CircuitState::Open);
    }
}
