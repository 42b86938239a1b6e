//! One poll of one feed, start to finish: fetch, parse and normalise, deduplicate and
//! store each entry, then record the feed's new state and when to poll it next.
//!
//! A failure at any step is recorded on that feed only; nothing else is affected.

use std::sync::Arc;
use std::time::{Duration, Instant};

use chrono::Utc;

use crate::alerts::routing;
use crate::config::{Config, FeedConfig, SinkConfig};
use crate::detect::{Article, Detector};
use crate::fetcher::{FetchError, Fetched, Fetcher, Validators};
use crate::model::{Candidate, EventChange, FeedState, IngestOutcome, Story};
use crate::parser;
use crate::scheduler;
use crate::store::{IngestHooks, Store, StoreError};

/// Counts of what happened to a batch of entries.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct IngestCounts {
    pub entries: usize,
    pub new: usize,
    pub duplicates: usize,
    pub revised: usize,
    pub unchanged: usize,
    pub events_new: usize,
    pub events_updated: usize,
    /// Alerts written to the outbox.
    pub alerts: usize,
}

/// Runs the detector on a story.
/// A story whose feed gave no date is read against the day it was first seen, and its
/// evidence says so.
pub fn detect_story(detector: &Detector, story: &Story) -> Vec<crate::detect::Detection> {
    let mut found = detector.detect(&Article {
        title: &story.title,
        text: &story.text,
        published: story.published.date_naive(),
    });
    if !story.published_from_feed {
        for d in &mut found {
            if let Some(dated) = &mut d.evidence.resolved_against {
                dated.basis = crate::model::DateBasis::FirstSeen;
            }
        }
    }
    found
}

/// Offers every candidate to the store, in feed order, as one batch; new stories go
/// through the detector, and their events are stored with them, with an alert for each
/// sink that wants them. Returns the counts and every event change, in order.
pub fn ingest_all(
    store: &Store,
    detector: &Detector,
    sinks: &[SinkConfig],
    candidates: &[Candidate],
) -> Result<(IngestCounts, Vec<EventChange>), StoreError> {
    let mut counts = IngestCounts {
        entries: candidates.len(),
        ..Default::default()
    };
    let mut changes = Vec::new();
    let hooks = IngestHooks {
        detect: &|story| detect_story(detector, story),
        route: &|change, event| routing::route_change(sinks, change, event),
    };
    for ingested in store.ingest_batch(candidates, &hooks)? {
        counts.alerts += ingested.alerts.len();
        changes.extend_from_slice(&ingested.events);
        for change in &ingested.events {
            match change {
                EventChange::New(_) => counts.events_new += 1,
                EventChange::Updated { .. } => counts.events_updated += 1,
                EventChange::Corroborated(_) => {}
            }
        }
        match ingested.outcome {
            IngestOutcome::New(_) => counts.new += 1,
            IngestOutcome::Duplicate(..) => counts.duplicates += 1,
            IngestOutcome::Revised(_) => counts.revised += 1,
            IngestOutcome::Unchanged(_) => counts.unchanged += 1,
        }
    }
    Ok((counts, changes))
}

/// What a poll ended with.
#[derive(Debug)]
pub enum PollResult {
    Ingested {
        status: u16,
        bytes: usize,
        counts: IngestCounts,
        /// What the new stories did to the stored events, in order.
        changes: Vec<EventChange>,
    },
    NotModified,
    Failed {
        status: Option<u16>,
        error: String,
        retry_after: Option<Duration>,
    },
}

/// Polls `feed` once and saves its state. Returns the result and the saved state.
pub async fn poll_feed(
    feed: &FeedConfig,
    config: &Arc<Config>,
    fetcher: &Fetcher,
    store: &Arc<Store>,
    detector: &Arc<Detector>,
    cpu: &tokio::sync::Semaphore,
) -> Result<(PollResult, FeedState), StoreError> {
    let settings = &config.daemon;
    let started = Instant::now();
    let mut state = store.feed_state(&feed.id)?.unwrap_or_default();
    let from_config = if state.config_url.is_empty() {
        // Saved before redirects were followed: `url` was the config's.
        state.url.clone()
    } else {
        state.config_url.clone()
    };
    if from_config != feed.url.as_str() {
        // New feed, or its URL changed in the config: what we knew of the old URL
        // (validators, redirects, a 410) does not apply.
        state = FeedState {
            id: feed.id.clone(),
            url: feed.url.to_string(),
            config_url: feed.url.to_string(),
            ..state
        };
        state.etag = None;
        state.last_modified = None;
        state.disabled = None;
        state.publisher_interval_secs = None;
    }
    state.config_url = feed.url.to_string();
    let validators = Validators {
        etag: state.etag.clone(),
        last_modified: state.last_modified.clone(),
    };
    let poll_url = state.url.clone();

    let fetched = fetcher.fetch(&poll_url, &validators).await;
    let hints = match &fetched {
        Ok(Fetched::NotModified { hints }) | Ok(Fetched::Body { hints, .. }) => Some(hints.clone()),
        Err(_) => None,
    };
    let mut ttl = None;
    let result = match fetched {
        Ok(Fetched::NotModified { .. }) => PollResult::NotModified,
        Ok(Fetched::Body {
            status,
            final_url,
            bytes,
            validators,
            charset,
            ..
        }) => {
            let (id, store2, detector2, config2, len) = (
                feed.id.clone(),
                Arc::clone(store),
                Arc::clone(detector),
                Arc::clone(config),
                bytes.len(),
            );
            // Parsing, normalising and storing are CPU and disk work: keep them off the
            // async workers, and run no more of them at once than `cpu` allows, so that
            // many finished downloads do not pile up as threads fighting for the store.
            let _cpu_slot = cpu.acquire().await;
            let outcome = tokio::task::spawn_blocking(move || {
                let parsed = parser::parse_feed_stripping(
                    &id,
                    &bytes,
                    Some(&final_url),
                    Utc::now(),
                    charset.as_deref(),
                    &config2.urls.strip_params,
                )?;
                let limit = config2.daemon.max_entries;
                if parsed.candidates.len() > limit {
                    tracing::warn!(feed = %id, entries = parsed.candidates.len(), taken = limit, "feed has more entries than daemon.max_entries; the rest are skipped");
                }
                let taken = &parsed.candidates[..parsed.candidates.len().min(limit)];
                let (counts, changes) = ingest_all(&store2, &detector2, &config2.sinks, taken)
                    .map_err(PollStepError::Store)?;
                let read = (parsed.skipped, parsed.first_skipped, parsed.warning);
                Ok::<_, PollStepError>((parsed.title, parsed.ttl, counts, changes, read))
            })
            .await
            .unwrap_or_else(|e| Err(PollStepError::Panicked(e.to_string())));
            match outcome {
                Ok((title, feed_ttl, counts, changes, (skipped, first_skipped, warning))) => {
                    ttl = feed_ttl;
                    if let Some(w) = &warning {
                        tracing::warn!(feed = %feed.id, warning = %w, "feed read, but none of its entries");
                    }
                    if skipped > 0 {
                        tracing::warn!(feed = %feed.id, skipped, first = first_skipped.as_deref().unwrap_or(""), "entries skipped");
                    }
                    state.skipped_entries = skipped as u64;
                    state.first_skipped = first_skipped;
                    state.warning = warning;
                    // Only now that every entry is stored do the validators move on: a
                    // poll cut short is simply repeated.
                    state.etag = validators.etag;
                    state.last_modified = validators.last_modified;
                    if title.is_some() {
                        state.title = title;
                    }
                    PollResult::Ingested {
                        status,
                        bytes: len,
                        counts,
                        changes,
                    }
                }
                Err(PollStepError::Store(e)) => return Err(e),
                Err(e) => PollResult::Failed {
                    status: Some(status),
                    error: e.to_string(),
                    retry_after: None,
                },
            }
        }
        Err(e) => {
            let retry_after = match &e {
                FetchError::Status { retry_after, .. } => *retry_after,
                _ => None,
            };
            PollResult::Failed {
                status: e.status(),
                error: e.to_string(),
                retry_after,
            }
        }
    };

    let finished = Utc::now();
    if let Some(hints) = &hints {
        if let Some(moved) = &hints.moved_to {
            tracing::info!(feed = %feed.id, from = %poll_url, to = %moved, "feed moved permanently; polling the new URL from now on");
            state.url = moved.clone();
        }
        let publisher = [ttl, hints.max_age].into_iter().flatten().max();
        if publisher.is_some() || matches!(result, PollResult::Ingested { .. }) {
            // A full answer says all the publisher wants; a 304 may omit headers.
            state.publisher_interval_secs = publisher.map(|d| d.as_secs());
        }
    }
    state.polls += 1;
    state.last_poll = Some(finished);
    state.last_duration_ms = Some(started.elapsed().as_millis() as u64);
    match &result {
        PollResult::Ingested { status, bytes, .. } => {
            state.last_status = Some(*status);
            state.last_bytes = Some(*bytes as u64);
        }
        PollResult::NotModified => {
            state.last_status = Some(304);
            state.last_bytes = Some(0);
            state.not_modified += 1;
        }
        PollResult::Failed { status, .. } => {
            state.last_status = *status;
        }
    }
    match &result {
        PollResult::Failed {
            error, retry_after, ..
        } => {
            state.consecutive_failures += 1;
            state.last_error = Some(error.clone());
            if state.last_status == Some(410) {
                state.disabled = Some(format!(
                    "HTTP 410 Gone from {poll_url}: the publisher removed this feed; give it another URL in the config or remove it"
                ));
                tracing::warn!(feed = %feed.id, url = %poll_url, "feed gone (410): no longer polled");
            }
            state.next_poll = Some(scheduler::after_failure(
                finished,
                current_interval(feed, &state),
                state.consecutive_failures,
                settings.max_backoff,
                *retry_after,
                settings.jitter,
            ));
        }
        _ => {
            let new = match &result {
                PollResult::Ingested { counts, .. } => counts.new,
                _ => 0,
            };
            let since_last = state
                .last_success
                .and_then(|t| (finished - t).to_std().ok());
            let (interval, rate) = scheduler::adapt(
                settings,
                feed.interval,
                state.interval_secs.map(Duration::from_secs),
                state.rate_per_hour,
                scheduler::Observation { new, since_last },
                state.publisher_interval_secs.map(Duration::from_secs),
            );
            state.interval_secs = Some(interval.as_secs().max(1));
            state.rate_per_hour = rate;
            state.consecutive_failures = 0;
            state.last_error = None;
            state.last_success = Some(finished);
            state.next_poll = Some(scheduler::after_success(
                finished,
                interval,
                settings.jitter,
            ));
        }
    }
    store.put_feed_state(&state)?;
    Ok((result, state))
}

/// The interval a feed is on now: its adapted one, else its configured one.
fn current_interval(feed: &FeedConfig, state: &FeedState) -> Duration {
    state
        .interval_secs
        .map(Duration::from_secs)
        .unwrap_or(feed.interval)
}

#[derive(Debug, thiserror::Error)]
enum PollStepError {
    #[error("parse error: {0}")]
    Parse(#[from] parser::ParseError),
    #[error(transparent)]
    Store(StoreError),
    #[error("internal error while parsing: {0}")]
    Panicked(String),
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::DateBasis;

    fn story(published_from_feed: bool) -> Story {
        let seen: chrono::DateTime<chrono::Utc> = "2023-04-01T08:00:00Z".parse().unwrap();
        Story {
            id: 1,
            url: None,
            title: String::new(),
            text: "Russian Foreign Minister Sergey Lavrov met Chinese Foreign Minister Wang Yi in Beijing."
                .into(),
            published: seen,
            published_from_feed,
            first_seen: seen,
            feed: "f".into(),
            language: None,
            sources: Vec::new(),
            revisions: Vec::new(),
        }
    }

    #[test]
    fn the_evidence_says_which_day_a_story_was_read_against() {
        let detector = Detector::embedded().unwrap();
        let dated = detect_story(&detector, &story(true));
        let basis = |found: &[crate::detect::Detection]| {
            found[0]
                .evidence
                .resolved_against
                .map(|d| (d.date.to_string(), d.basis))
        };
        assert_eq!(
            basis(&dated),
            Some(("2023-04-01".into(), DateBasis::Published))
        );
        // A feed that gave no date: read against the day tidings first saw the story.
        let undated = detect_story(&detector, &story(false));
        assert_eq!(
            basis(&undated),
            Some(("2023-04-01".into(), DateBasis::FirstSeen))
        );
    }
}
