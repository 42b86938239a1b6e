//! Scheduling decisions: when each feed is polled next.
//!
//! Pure functions of the feed's state, its interval and the clock; the daemon applies
//! them. Every feed has its own next-poll time. Successes wait one interval; failures
//! wait the interval doubled per consecutive failure, capped; a server's `Retry-After`
//! is honoured when it asks for longer. Every wait is moved by random jitter so feeds
//! that share a host drift apart instead of being polled in the same second.

use std::time::Duration;

use chrono::{DateTime, Utc};

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
