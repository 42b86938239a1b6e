//! Scheduling decisions: when each feed is polled next.
//!
//! Pure functions of the feed's state, its interval and the clock; the daemon applies
//! them. Every feed has its own next-poll time. Successes wait one interval; failures
//! wait the interval doubled per consecutive failure, capped; a server's `Retry-After`
//! is honoured when it asks for longer. Every wait is moved by random jitter so feeds
//! that share a host drift apart instead of being polled in the same second.

use std::time::Duration;

use chrono::{DateTime, Utc};

use crate::config::DaemonSettings;
use crate::model::FeedState;

/// Longest delay before a feed's first poll after start, spreading start-up load.
const STARTUP_SPREAD: Duration = Duration::from_secs(5);

/// `base` moved by a random amount in `[-jitter·base, +jitter·base]`.
pub fn jittered(base: Duration, jitter: f64) -> Duration {
    if jitter <= 0.0 {
        return base;
    }
    let factor = 1.0 + jitter * (fastrand::f64() * 2.0 - 1.0);
    base.mul_f64(factor.max(0.0))
}

/// When to poll next after a successful poll (a 200 or a 304).
pub fn after_success(now: DateTime<Utc>, interval: Duration, jitter: f64) -> DateTime<Utc> {
    now + to_chrono(jittered(interval, jitter))
}

/// Every feed's next-poll time, soonest first. Inserting, removing and taking the due
/// feeds cost O(log n) each, so a daemon with tens of thousands of feeds does not walk
/// them all whenever one poll ends.
#[derive(Debug, Default)]
pub struct DueQueue {
    by_time: std::collections::BTreeSet<(DateTime<Utc>, String)>,
    by_id: std::collections::HashMap<String, DateTime<Utc>>,
}

impl DueQueue {
    /// Schedules `id` at `at`, replacing an earlier schedule.
    pub fn insert(&mut self, id: String, at: DateTime<Utc>) {
        if let Some(old) = self.by_id.insert(id.clone(), at) {
            self.by_time.remove(&(old, id.clone()));
        }
        self.by_time.insert((at, id));
    }

    pub fn remove(&mut self, id: &str) {
        if let Some(old) = self.by_id.remove(id) {
            self.by_time.remove(&(old, id.to_string()));
        }
    }

    pub fn contains(&self, id: &str) -> bool {
        self.by_id.contains_key(id)
    }

    /// When `id` is due, if it is scheduled.
    pub fn due_at(&self, id: &str) -> Option<DateTime<Utc>> {
        self.by_id.get(id).copied()
    }

    /// Removes and returns every feed due at `now` or earlier, soonest first.
    pub fn take_due(&mut self, now: DateTime<Utc>) -> Vec<String> {
        let mut out = Vec::new();
        while let Some((at, _)) = self.by_time.first() {
            if *at > now {
                break;
            }
            let Some((_, id)) = self.by_time.pop_first() else {
                break;
            };
            self.by_id.remove(&id);
            out.push(id);
        }
        out
    }

    /// When the soonest feed is due.
    pub fn next(&self) -> Option<DateTime<Utc>> {
        self.by_time.first().map(|(at, _)| *at)
    }

    pub fn is_empty(&self) -> bool {
        self.by_id.is_empty()
    }

    /// Keeps only the feeds for which `keep` holds.
    pub fn retain(&mut self, keep: impl Fn(&str) -> bool) {
        let gone: Vec<String> = self.by_id.keys().filter(|id| !keep(id)).cloned().collect();
        for id in gone {
            self.remove(&id);
        }
    }
}

/// Longest publisher hint honoured: a `<ttl>` of a week is not a reason to go blind.
pub const MAX_PUBLISHER_INTERVAL: Duration = Duration::from_secs(6 * 3600);

/// How fast the publishing-rate estimate follows new observations.
const RATE_WEIGHT: f64 = 0.3;

/// What the scheduler knows when a poll succeeded.
#[derive(Debug, Clone, Copy)]
pub struct Observation {
    /// New stories the poll found (0 for a 304).
    pub new: usize,
    /// Time since the previous successful poll, if there was one.
    pub since_last: Option<Duration>,
}

/// The feed's next interval and publishing-rate estimate after a successful poll.
///
/// The rate (new stories per hour) is a moving average over polls. The interval aims at
/// about one new story per poll, moves by at most a factor of two per poll, and stays
/// within `[min_interval, max_interval]` widened to include the feed's configured
/// interval. The publisher's hint (`<ttl>`, `max-age`, up to
/// [`MAX_PUBLISHER_INTERVAL`]) is a floor: tidings never polls more often than the
/// publisher asks. With `adaptive = false` the configured interval is used as it is
/// (still under the publisher's floor).
pub fn adapt(
    settings: &DaemonSettings,
    configured: Duration,
    current: Option<Duration>,
    rate_per_hour: Option<f64>,
    seen: Observation,
    publisher_hint: Option<Duration>,
) -> (Duration, Option<f64>) {
    let floor = publisher_hint
        .unwrap_or_default()
        .min(MAX_PUBLISHER_INTERVAL);
    if !settings.adaptive {
        return (configured.max(floor), rate_per_hour);
    }
    let rate = match (seen.since_last, rate_per_hour) {
        (Some(elapsed), previous) if !elapsed.is_zero() => {
            let observed = seen.new as f64 / (elapsed.as_secs_f64() / 3600.0);
            Some(match previous {
                Some(r) => RATE_WEIGHT * observed + (1.0 - RATE_WEIGHT) * r,
                None => observed,
            })
        }
        (_, previous) => previous,
    };
    let lo = settings.min_interval.min(configured);
    let hi = settings.max_interval.max(configured);
    let previous = current.unwrap_or(configured);
    let target = match rate {
        Some(r) if r > 0.0 => Duration::from_secs_f64((3600.0 / r).min(hi.as_secs_f64())),
        Some(_) => hi,
        None => previous,
    };
    let step = target.clamp(previous / 2, previous.saturating_mul(2));
    (step.clamp(lo, hi).max(floor), rate)
}

/// When to retry after the `failures`-th consecutive failure (1 for the first).
pub fn after_failure(
    now: DateTime<Utc>,
    interval: Duration,
    failures: u32,
    max_backoff: Duration,
    retry_after: Option<Duration>,
    jitter: f64,
) -> DateTime<Utc> {
    let wait = backoff(interval, failures, max_backoff).max(retry_after.unwrap_or_default());
    now + to_chrono(jittered(wait, jitter))
}

/// `interval · 2^(failures-1)`, capped at `max(max_backoff, interval)`.
pub fn backoff(interval: Duration, failures: u32, max_backoff: Duration) -> Duration {
    let cap = max_backoff.max(interval);
    let doublings = failures.saturating_sub(1).min(20);
    interval.saturating_mul(1 << doublings).min(cap)
}

/// When to poll a feed first after the daemon starts: at its saved next-poll time if
/// that is still ahead (a restart keeps the schedule), else soon, spread over a few
/// seconds.
pub fn first_poll(
    state: Option<&FeedState>,
    now: DateTime<Utc>,
    interval: Duration,
) -> DateTime<Utc> {
    if let Some(next) = state.and_then(|s| s.next_poll) {
        if next > now {
            // Never wait longer than the current interval: the config may have shortened it.
            return next.min(now + to_chrono(interval));
        }
    }
    let spread = STARTUP_SPREAD.min(interval);
    now + to_chrono(spread.mul_f64(fastrand::f64()))
}

fn to_chrono(d: Duration) -> chrono::Duration {
    chrono::Duration::from_std(d).unwrap_or(chrono::Duration::MAX)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn now() -> DateTime<Utc> {
        "2023-02-22T12:00:00Z".parse().unwrap()
    }

    fn settings() -> DaemonSettings {
        let mut s = crate::config::Config::parse("", "t").unwrap().daemon;
        s.min_interval = Duration::from_secs(60);
        s.max_interval = Duration::from_secs(3600);
        s
    }

    fn seen(new: usize, minutes: u64) -> Observation {
        Observation {
            new,
            since_last: Some(Duration::from_secs(minutes * 60)),
        }
    }

    #[test]
    fn a_busy_feed_is_polled_more_often_a_quiet_one_less_within_bounds() {
        let s = settings();
        let ten = Duration::from_secs(600);
        // Six new stories in ten minutes: aim for a poll per story, halving at most.
        let (i, rate) = adapt(&s, ten, Some(ten), None, seen(6, 10), None);
        assert_eq!(i, Duration::from_secs(300));
        assert!((rate.unwrap() - 36.0).abs() < 1e-9);
        // Nothing new for a while: the rate decays and the interval doubles, up to the max.
        let mut current = i;
        let mut rate = rate;
        for _ in 0..20 {
            (current, rate) = adapt(
                &s,
                ten,
                Some(current),
                rate,
                seen(0, current.as_secs() / 60),
                None,
            );
        }
        assert_eq!(current, Duration::from_secs(3600));
        // Very busy: never below the minimum.
        let (i, _) = adapt(
            &s,
            ten,
            Some(Duration::from_secs(90)),
            Some(10_000.0),
            seen(50, 1),
            None,
        );
        assert_eq!(i, Duration::from_secs(60));
    }

    #[test]
    fn the_publisher_hint_is_a_floor_and_fixed_mode_keeps_the_interval() {
        let s = settings();
        let ten = Duration::from_secs(600);
        let hint = Some(Duration::from_secs(1800));
        let (i, _) = adapt(&s, ten, Some(ten), Some(60.0), seen(10, 10), hint);
        assert_eq!(i, Duration::from_secs(1800));
        let week = Some(Duration::from_secs(7 * 86400));
        let (i, _) = adapt(&s, ten, Some(ten), None, seen(0, 10), week);
        assert_eq!(i, MAX_PUBLISHER_INTERVAL);
        let fixed = DaemonSettings {
            adaptive: false,
            ..settings()
        };
        assert_eq!(adapt(&fixed, ten, None, None, seen(9, 1), None).0, ten);
        // A configured interval below the minimum widens the bounds for that feed.
        let (i, _) = adapt(
            &s,
            Duration::from_secs(1),
            Some(Duration::from_secs(1)),
            Some(1e6),
            seen(9, 1),
            None,
        );
        assert_eq!(i, Duration::from_secs(1));
    }

    #[test]
    fn the_due_queue_hands_out_due_feeds_soonest_first() {
        let mut q = DueQueue::default();
        let t = now();
        q.insert("b".into(), t + chrono::Duration::seconds(20));
        q.insert("a".into(), t + chrono::Duration::seconds(10));
        q.insert("c".into(), t + chrono::Duration::seconds(30));
        q.insert("c".into(), t + chrono::Duration::seconds(5));
        assert_eq!(q.next(), Some(t + chrono::Duration::seconds(5)));
        assert_eq!(q.take_due(t + chrono::Duration::seconds(15)), ["c", "a"]);
        assert!(q.contains("b") && !q.contains("a"));
        q.retain(|id| id != "b");
        assert!(q.is_empty() && q.next().is_none());
    }

    #[test]
    fn jitter_stays_within_its_fraction() {
        for _ in 0..1000 {
            let d = jittered(Duration::from_secs(600), 0.1);
            assert!(
                d >= Duration::from_secs(540) && d <= Duration::from_secs(660),
                "{d:?}"
            );
        }
        assert_eq!(
            jittered(Duration::from_secs(600), 0.0),
            Duration::from_secs(600)
        );
    }

    #[test]
    fn backoff_doubles_and_is_capped() {
        let i = Duration::from_secs(60);
        let cap = Duration::from_secs(600);
        assert_eq!(backoff(i, 1, cap), Duration::from_secs(60));
        assert_eq!(backoff(i, 2, cap), Duration::from_secs(120));
        assert_eq!(backoff(i, 4, cap), Duration::from_secs(480));
        assert_eq!(backoff(i, 5, cap), cap);
        assert_eq!(backoff(i, 500, cap), cap);
        // A cap below the interval never shortens the interval.
        assert_eq!(backoff(i, 3, Duration::from_secs(1)), i);
    }

    #[test]
    fn retry_after_wins_when_longer() {
        let t = after_failure(
            now(),
            Duration::from_secs(60),
            1,
            Duration::from_secs(600),
            Some(Duration::from_secs(3600)),
            0.0,
        );
        assert_eq!(t, now() + chrono::Duration::seconds(3600));
        let t = after_failure(
            now(),
            Duration::from_secs(60),
            1,
            Duration::from_secs(600),
            Some(Duration::from_secs(5)),
            0.0,
        );
        assert_eq!(t, now() + chrono::Duration::seconds(60));
    }

    #[test]
    fn restart_keeps_a_saved_schedule_but_not_a_stale_one() {
        let interval = Duration::from_secs(600);
        let saved = FeedState {
            next_poll: Some(now() + chrono::Duration::seconds(300)),
            ..Default::default()
        };
        assert_eq!(
            first_poll(Some(&saved), now(), interval),
            now() + chrono::Duration::seconds(300)
        );
        let stale = FeedState {
            next_poll: Some(now() - chrono::Duration::seconds(300)),
            ..Default::default()
        };
        assert!(first_poll(Some(&stale), now(), interval) <= now() + chrono::Duration::seconds(5));
        let far = FeedState {
            next_poll: Some(now() + chrono::Duration::days(1)),
            ..Default::default()
        };
        assert_eq!(
            first_poll(Some(&far), now(), interval),
            now() + chrono::Duration::seconds(600)
        );
    }
}
