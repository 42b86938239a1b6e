//! What the CLI and the read API show, built from the config and the store: the same
//! shapes whether the CLI opened the store itself or asked the running daemon.

use serde::{Deserialize, Serialize};

use crate::config::Config;
use crate::model::Modality;
use crate::model::{CircuitState, Event, EventChange, FeedState, SinkCircuit};
use crate::store::{Store, StoreError};

/// One feed with its health: its saved state (which carries `id` and `url`) plus what the
/// config and the store add.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FeedStatus {
    pub name: Option<String>,
    pub in_config: bool,
    /// `never polled`, `ok`, `warning` (read, but none of its entries), `retrying`,
    /// `failing`, `disabled`, or `not in config`.
    pub health: String,
    pub stories: u64,
    /// With several daemons on one database: the daemon that holds the feed now (polling
    /// it, or holding its host), and the one that made its last poll.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub daemon: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_polled_by: Option<String>,
    #[serde(flatten)]
    pub state: FeedState,
}

/// One configured sink and its circuit breaker as the delivery worker last saved it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SinkStatus {
    pub sink: String,
    pub state: CircuitState,
    /// Failed attempts in a row.
    pub failures: u32,
    /// When the state last changed (`None`: it never failed).
    pub since: Option<chrono::DateTime<chrono::Utc>>,
    /// When a paused sink's next probe may go.
    pub next_probe: Option<chrono::DateTime<chrono::Utc>>,
    /// State changes so far.
    pub changes: u64,
    /// The failure that paused it.
    pub last_error: Option<String>,
}

impl SinkStatus {
    fn of(sink: &str, saved: Option<SinkCircuit>) -> SinkStatus {
        match saved {
            Some(c) => SinkStatus {
                sink: c.sink,
                state: c.state,
                failures: c.failures,
                since: Some(c.since),
                next_probe: c.next_probe,
                changes: c.changes,
                last_error: c.last_error,
            },
            None => SinkStatus {
                sink: sink.to_string(),
                state: CircuitState::Closed,
                failures: 0,
                since: None,
                next_probe: None,
                changes: 0,
                last_error: None,
            },
        }
    }
}

/// Every configured sink, in config order, with its saved breaker (closed if it has
/// none: it never failed).
pub fn sink_statuses(
    config: &Config,
    store: Option<&Store>,
) -> Result<Vec<SinkStatus>, StoreError> {
    let mut saved = match store {
        Some(s) => s.sink_circuits()?,
        None => Vec::new(),
    };
    Ok(config
        .sinks
        .iter()
        .map(|sink| {
            let circuit = saved
                .iter()
                .position(|c| c.sink == sink.id)
                .map(|i| saved.swap_remove(i));
            SinkStatus::of(&sink.id, circuit)
        })
        .collect())
}

/// Every configured feed, then feeds the store knows that the config no longer lists.
pub fn feed_statuses(
    config: &Config,
    store: Option<&Store>,
) -> Result<Vec<FeedStatus>, StoreError> {
    let mut rows = Vec::new();
    let holders: std::collections::HashMap<String, crate::store::FeedHolder> = match store {
        Some(s) => s
            .feed_holders()?
            .into_iter()
            .map(|h| (h.feed.clone(), h))
            .collect(),
        None => Default::default(),
    };
    let daemon = |id: &str| {
        holders
            .get(id)
            .and_then(|h| h.polling.clone().or(h.holder.clone()))
    };
    let last_polled_by = |id: &str| holders.get(id).and_then(|h| h.last_polled_by.clone());
    for feed in &config.feeds {
        let saved = store.map(|s| s.feed_state(&feed.id)).transpose()?.flatten();
        let state = saved.unwrap_or_else(|| FeedState {
            id: feed.id.clone(),
            url: feed.url.to_string(),
            ..FeedState::default()
        });
        rows.push(FeedStatus {
            name: feed.name.clone(),
            in_config: true,
            health: health(&state, config.daemon.failing_after).to_string(),
            stories: store
                .map(|s| s.feed_story_count(&feed.id))
                .transpose()?
                .unwrap_or(0),
            daemon: daemon(&feed.id),
            last_polled_by: last_polled_by(&feed.id),
            state,
        });
    }
    if let Some(s) = store {
        for state in s.feed_states()? {
            if config.feed(&state.id).is_none() {
                rows.push(FeedStatus {
                    name: None,
                    in_config: false,
                    health: "not in config".to_string(),
                    stories: s.feed_story_count(&state.id)?,
                    daemon: None,
                    last_polled_by: last_polled_by(&state.id),
                    state,
                });
            }
        }
    }
    Ok(rows)
}

/// Whether a feed shows as `failing`: the one definition `tidings feeds` and the
/// `tidings_feeds_failing` metric share.
pub fn is_failing(state: &FeedState, failing_after: u32) -> bool {
    health(state, failing_after) == "failing"
}

/// `disabled` (410), `never polled`, `ok`, `warning` (the last document has entries, none
/// readable), `retrying` (fewer than `failing_after` failures in a row) or `failing`.
fn health(state: &FeedState, failing_after: u32) -> &'static str {
    if state.disabled.is_some() {
        return "disabled";
    }
    match (state.last_poll, state.consecutive_failures) {
        (None, _) => "never polled",
        (Some(_), 0) if state.warning.is_some() => "warning",
        (Some(_), 0) => "ok",
        (Some(_), n) if n < failing_after => "retrying",
        (Some(_), _) => "failing",
    }
}

/// One line of the event stream: an event as it stands after a story created or
/// changed it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EventNotice {
    /// `new`, `updated` or `corroborated`.
    pub change: String,
    /// For updates: the modality before.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub previous_modality: Option<Modality>,
    pub event: Event,
}

impl EventNotice {
    pub fn of(change: &EventChange, event: Event) -> EventNotice {
        let (change, previous_modality) = match change {
            EventChange::New(_) => ("new", None),
            EventChange::Updated { from, .. } => ("updated", Some(*from)),
            EventChange::Corroborated(_) => ("corroborated", None),
        };
        EventNotice {
            change: change.to_string(),
            previous_modality,
            event,
        }
    }
}

/// The event stream's lines: each notice `receiver` gets, as one JSON line, until the
/// daemon stops (`stopping` turns true: an open stream must not hold the shutdown up,
/// and the reader sees a clean end) or the sender is gone. A reader that falls behind
/// skips what it missed, with a warning naming `reader`. Served by the API's
/// `/api/v1/events/stream` and the web view's live updates.
pub fn notice_lines(
    receiver: tokio::sync::broadcast::Receiver<EventNotice>,
    stopping: tokio::sync::watch::Receiver<bool>,
    reader: &'static str,
) -> impl futures_util::Stream<Item = Result<Vec<u8>, std::convert::Infallible>> {
    use tokio::sync::broadcast::error::RecvError;
    futures_util::stream::unfold(
        (receiver, stopping),
        move |(mut rx, mut stopping)| async move {
            loop {
                let received = tokio::select! {
                    r = rx.recv() => r,
                    _ = stopping.wait_for(|s| *s) => return None,
                };
                match received {
                    Ok(notice) => {
                        let mut line = serde_json::to_vec(&notice).unwrap_or_default();
                        line.push(b'\n');
                        return Some((Ok(line), (rx, stopping)));
                    }
                    Err(RecvError::Lagged(missed)) => {
                        tracing::warn!(missed, reader, "event stream reader fell behind");
                    }
                    Err(RecvError::Closed) => return None,
                }
            }
        },
    )
}
