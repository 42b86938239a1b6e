//! The schedule when several daemons share one store (PostgreSQL): the feeds' due times
//! live in the database, and each daemon polls what it claims there instead of keeping
//! a schedule of its own.
//!
//! Every `every` the coordinator runs a claiming round ([`Claiming::claim`]): the round
//! says this daemon is alive, renews the hosts it holds, takes its share of free hosts,
//! and returns the due feeds of its hosts, each claimed for one poll. A finished poll
//! hands the feed back with its next due time ([`Claiming::finish`]). A daemon that
//! stops gives everything back ([`Claiming::release`]); one that dies loses its hosts
//! when their lease runs out, and the next round of another daemon takes them.
//!
//! Each call runs on the blocking pool: the store's calls wait for the database.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, Utc};

use crate::config::FeedConfig;
use crate::model::FeedState;
use crate::store::{FeedClaim, Store, StoreError};

/// The claiming rounds of one daemon.
pub(super) struct Claiming {
    store: Arc<Store>,
    /// How long a claim on a host or a feed lasts without renewal.
    pub lease: Duration,
    /// Time between rounds.
    pub every: Duration,
}

/// A disabled feed (gone, HTTP 410) is not claimed again until its URL changes.
const DISABLED_FOR: chrono::Duration = chrono::Duration::days(365 * 100);

impl Claiming {
    /// Claiming on `store` under `lease`: a round every sixth of the lease, at most every
    /// second, so a host's lease is renewed several times before it could run out.
    pub fn new(store: Arc<Store>, lease: Duration) -> Claiming {
        Claiming {
            store,
            lease,
            every: round_interval(lease),
        }
    }

    /// Makes `feeds` the ones daemons claim, each under the host it is polled at.
    pub async fn register(&self, feeds: &[FeedConfig]) -> Result<(), StoreError> {
        let ids: Vec<(String, String)> = feeds
            .iter()
            .map(|f| (f.id.clone(), f.url.host_str().unwrap_or("").to_string()))
            .collect();
        self.blocking("register feeds", move |store| {
            let states: HashMap<String, FeedState> = store
                .feed_states()?
                .into_iter()
                .map(|s| (s.id.clone(), s))
                .collect();
            // A feed that moved permanently is polled at its new host.
            let feeds: Vec<(String, String)> = ids
                .into_iter()
                .map(|(id, host)| {
                    let moved = states
                        .get(&id)
                        .and_then(|s| url::Url::parse(&s.url).ok())
                        .and_then(|u| u.host_str().map(str::to_string));
                    (id, moved.unwrap_or(host))
                })
                .collect();
            store.register_feeds(&feeds)
        })
        .await
    }

    /// One round: up to `limit` due feeds claimed for this daemon.
    pub async fn claim(&self, limit: usize) -> Result<Vec<FeedClaim>, StoreError> {
        let lease = self.lease;
        self.blocking("claim feeds", move |store| {
            store.claim_due_feeds(lease, limit)
        })
        .await
    }

    /// Hands `feed` back after its poll, due again when its state says (never again for
    /// a disabled feed, until its URL changes). False when another daemon had taken it.
    pub async fn finish(&self, feed: String, state: &FeedState) -> Result<bool, StoreError> {
        let now = Utc::now();
        let next = match (&state.disabled, state.next_poll) {
            (Some(_), _) => now + DISABLED_FOR,
            (None, Some(t)) => t,
            (None, None) => now,
        };
        self.blocking("finish a poll", move |store| {
            store.finish_feed_poll(&feed, next)
        })
        .await
    }

    /// Makes `feed` due at `at`, for whichever daemon holds its host.
    pub async fn set_due(&self, feed: String, at: DateTime<Utc>) -> Result<bool, StoreError> {
        self.blocking("make a feed due", move |store| {
            store.set_feed_due(&feed, at)
        })
        .await
    }

    /// Gives back every host and feed this daemon holds.
    pub async fn release(&self) -> Result<(), StoreError> {
        self.blocking("release claims", |store| store.release_claims())
            .await
    }

    async fn blocking<T: Send + 'static>(
        &self,
        task: &'static str,
        call: impl FnOnce(&Store) -> Result<T, StoreError> + Send + 'static,
    ) -> Result<T, StoreError> {
        self.store.blocking(task, call).await
    }
}

/// A sixth of the lease, between 0.1 s and 1 s.
fn round_interval(lease: Duration) -> Duration {
    (lease / 6).clamp(Duration::from_millis(100), Duration::from_secs(1))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rounds_come_often_enough_to_renew_a_lease_several_times() {
        let every = |secs: f64| round_interval(Duration::from_secs_f64(secs));
        assert_eq!(every(30.0), Duration::from_secs(1));
        assert_eq!(every(3.0), Duration::from_millis(500));
        assert_eq!(every(0.3), Duration::from_millis(100));
    }
}
