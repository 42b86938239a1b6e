//! The daemon: keeps every configured feed on its own schedule until told to stop.
//!
//! One coordinator loop owns the schedule (each feed's next-poll time). When a feed is
//! due it spawns a poll task ([`crate::poll::poll_feed`]); a global semaphore caps how
//! many fetches run at once. A feed never has two polls in flight. On shutdown no new
//! polls start, polls in flight get `shutdown_grace` to finish, the rest are abandoned
//! (their feed state is untouched, so they are simply polled again), and the store is
//! flushed.

use std::collections::{HashMap, HashSet};
use std::future::Future;
use std::sync::Arc;

use chrono::{DateTime, Utc};
use tokio::sync::Semaphore;
use tokio::task::JoinSet;
use tracing::{error, info, warn};

use crate::config::{Config, ConfigError, FeedConfig};
use crate::detect::Detector;
use crate::fetcher::{FetchError, Fetcher};
use crate::poll::{poll_feed, PollResult};
use crate::scheduler;
use crate::store::{Store, StoreError};

#[derive(Debug, thiserror::Error)]
pub enum DaemonError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(transparent)]
    Http(#[from] FetchError),
    #[error(transparent)]
    Config(#[from] ConfigError),
}

/// How long the daemon runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RunMode {
    /// Until the shutdown future completes.
    Forever,
    /// Poll every feed once, then return.
    Once,
}

/// Runs the daemon until `shutdown` completes (or, in [`RunMode::Once`], until every
/// feed was polled once).
pub async fn run(
    config: &Config,
    store: Arc<Store>,
    mode: RunMode,
    shutdown: impl Future<Output = ()>,
) -> Result<(), DaemonError> {
    let fetcher = Arc::new(Fetcher::new(&config.http)?);
    let permits = Arc::new(Semaphore::new(config.daemon.max_concurrent_fetches));
    let settings = Arc::new(config.daemon.clone());
    let detector = Arc::new(Detector::from_settings(&config.detection)?);

    let now = Utc::now();
    let mut due: HashMap<String, DateTime<Utc>> = HashMap::new();
    for feed in &config.feeds {
        let state = store.feed_state(&feed.id)?;
        let first = match mode {
            RunMode::Once => now,
            RunMode::Forever => scheduler::first_poll(state.as_ref(), now, feed.interval),
        };
        due.insert(feed.id.clone(), first);
    }
    info!(feeds = config.feeds.len(), config = %config.origin, store = %store.path().display(), "daemon started");

    let mut in_flight: HashSet<String> = HashSet::new();
    let mut tasks: JoinSet<(String, Result<(), StoreError>)> = JoinSet::new();
    tokio::pin!(shutdown);

    loop {
        let now = Utc::now();
        for feed in &config.feeds {
            if in_flight.contains(&feed.id) || due.get(&feed.id).is_none_or(|t| *t > now) {
                continue;
            }
            in_flight.insert(feed.id.clone());
            due.remove(&feed.id);
            tasks.spawn(poll_task(
                feed.clone(),
                Arc::clone(&settings),
                Arc::clone(&fetcher),
                Arc::clone(&store),
                Arc::clone(&detector),
                Arc::clone(&permits),
            ));
        }
        if mode == RunMode::Once && due.is_empty() && tasks.is_empty() {
            break;
        }
        let sleep_until = due.values().min().copied();
        let sleep = async {
            match sleep_until {
                Some(t) => tokio::time::sleep((t - Utc::now()).to_std().unwrap_or_default()).await,
                None => std::future::pending().await,
            }
        };
        tokio::select! {
            _ = &mut shutdown => {
                info!(in_flight = tasks.len(), "shutting down");
                break;
            }
            Some(joined) = tasks.join_next(), if !tasks.is_empty() => {
                let (feed_id, result) = match joined {
                    Ok(r) => r,
                    Err(e) => {
                        error!(error = %e, "poll task failed");
                        continue;
                    }
                };
                in_flight.remove(&feed_id);
                if let Err(e) = result {
                    // The store failed: stop rather than poll on without saving.
                    error!(feed = %feed_id, error = %e, "store error; stopping");
                    tasks.shutdown().await;
                    store.flush()?;
                    return Err(e.into());
                }
                if mode == RunMode::Forever {
                    if let Some(state) = store.feed_state(&feed_id)? {
                        let next = state.next_poll.unwrap_or_else(Utc::now);
                        due.insert(feed_id, next);
                    }
                }
            }
            _ = sleep => {}
        }
    }

    // Graceful end: let polls in flight finish within the grace period.
    let grace = tokio::time::sleep(settings.shutdown_grace);
    tokio::pin!(grace);
    while !tasks.is_empty() {
        tokio::select! {
            _ = &mut grace => {
                warn!(abandoned = tasks.len(), "grace period over; abandoning polls in flight (they will be repeated)");
                tasks.shutdown().await;
                break;
            }
            Some(_) = tasks.join_next() => {}
        }
    }
    store.flush()?;
    info!(
        stories = store.story_count(),
        "daemon stopped; store flushed"
    );
    Ok(())
}

async fn poll_task(
    feed: FeedConfig,
    settings: Arc<crate::config::DaemonSettings>,
    fetcher: Arc<Fetcher>,
    store: Arc<Store>,
    detector: Arc<Detector>,
    permits: Arc<Semaphore>,
) -> (String, Result<(), StoreError>) {
    let Ok(_permit) = permits.acquire().await else {
        return (feed.id, Ok(()));
    };
    let started = std::time::Instant::now();
    let result = poll_feed(&feed, &settings, &fetcher, &store, &detector).await;
    let duration_ms = started.elapsed().as_millis() as u64;
    let result = result.map(|(outcome, state)| {
        let next = state.next_poll.map(|t| t.to_rfc3339()).unwrap_or_default();
        match outcome {
            PollResult::Ingested {
                status,
                bytes,
                counts,
            } => info!(
                feed = %feed.id, url = %feed.url, status, bytes,
                entries = counts.entries, new = counts.new, duplicates = counts.duplicates,
                revised = counts.revised, events_new = counts.events_new, events_updated = counts.events_updated,
                duration_ms, next_poll = %next, "poll"
            ),
            PollResult::NotModified => info!(
                feed = %feed.id, url = %feed.url, status = 304, bytes = 0, new = 0, duplicates = 0,
                duration_ms, next_poll = %next, "poll: not modified"
            ),
            PollResult::Failed { status, error, .. } => warn!(
                feed = %feed.id, url = %feed.url, status = status.unwrap_or(0), error = %error,
                failures = state.consecutive_failures, duration_ms, next_poll = %next, "poll failed"
            ),
        }
    });
    (feed.id, result)
}
