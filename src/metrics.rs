//! The daemon's Prometheus metrics, served at `/metrics` in the OpenMetrics text format.
//!
//! Names follow Prometheus conventions: counters end in `_total` (added by the encoder),
//! durations are in seconds, and gauges say what they count.

use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::{exponential_buckets, Histogram};
use prometheus_client::registry::Registry;

/// Label of a poll's result: `ok`, `not_modified` or `error`.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct PollLabels {
    pub result: String,
}

/// Label of an event type.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct TypeLabels {
    pub r#type: String,
}

/// Labels of a delivery attempt: the sink, and `delivered`, `failed` or `dead`.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct DeliveryLabels {
    pub sink: String,
    pub result: String,
}

/// Label of a sink.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct SinkLabels {
    pub sink: String,
}

/// Labels of a sink's circuit-breaker change: the sink, and the state it entered
/// (`closed`, `half_open`, `open`).
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct SinkStateLabels {
    pub sink: String,
    pub state: String,
}

pub struct Metrics {
    registry: Registry,
    /// `tidings_feed_polls_total{result}`.
    pub polls: Family<PollLabels, Counter>,
    /// `tidings_poll_duration_seconds`: one poll, fetch to stored.
    pub poll_duration: Histogram,
    /// `tidings_stories_total`: new stories stored.
    pub stories: Counter,
    /// `tidings_duplicates_total`: entries recognised as copies of stored stories.
    pub duplicates: Counter,
    /// `tidings_events_total{type}`: new events.
    pub events: Family<TypeLabels, Counter>,
    /// `tidings_event_updates_total{type}`: events whose modality or date changed.
    pub event_updates: Family<TypeLabels, Counter>,
    /// `tidings_alerts_total`: alerts written to the outbox.
    pub alerts: Counter,
    /// `tidings_alert_deliveries_total{sink,result}`.
    pub deliveries: Family<DeliveryLabels, Counter>,
    /// `tidings_sink_state{sink}`: 0 closed, 1 half-open, 2 open.
    pub sink_state: Family<SinkLabels, Gauge>,
    /// `tidings_sink_state_changes_total{sink,state}`: changes, by the state entered.
    pub sink_state_changes: Family<SinkStateLabels, Counter>,
    /// `tidings_outbox_pending`, `tidings_outbox_dead`.
    pub outbox_pending: Gauge,
    pub outbox_dead: Gauge,
    /// `tidings_feeds`, `tidings_feeds_failing`.
    pub feeds: Gauge,
    pub feeds_failing: Gauge,
    /// `tidings_config_reloads_total{result}`: `ok` or `error`.
    pub reloads: Family<PollLabels, Counter>,
}

impl Default for Metrics {
    fn default() -> Self {
        Metrics::new()
    }
}

impl Metrics {
    pub fn new() -> Metrics {
        let mut registry = Registry::default();
        let polls = Family::<PollLabels, Counter>::default();
        registry.register("tidings_feed_polls", "Feed polls by result", polls.clone());
        let poll_duration = Histogram::new(exponential_buckets(0.01, 2.0, 14));
        registry.register(
            "tidings_poll_duration_seconds",
            "Duration of one feed poll, fetch to stored",
            poll_duration.clone(),
        );
        let stories = Counter::default();
        registry.register("tidings_stories", "New stories stored", stories.clone());
        let duplicates = Counter::default();
        registry.register(
            "tidings_duplicates",
            "Feed entries recognised as copies of stored stories",
            duplicates.clone(),
        );
        let events = Family::<TypeLabels, Counter>::default();
        registry.register("tidings_events", "New events by type", events.clone());
        let event_updates = Family::<TypeLabels, Counter>::default();
        registry.register(
            "tidings_event_updates",
            "Events whose modality or date changed, by type",
            event_updates.clone(),
        );
        let alerts = Counter::default();
        registry.register(
            "tidings_alerts",
            "Alerts written to the outbox",
            alerts.clone(),
        );
        let deliveries = Family::<DeliveryLabels, Counter>::default();
        registry.register(
            "tidings_alert_deliveries",
            "Alert delivery attempts by sink and result",
            deliveries.clone(),
        );
        let sink_state = Family::<SinkLabels, Gauge>::default();
        registry.register(
            "tidings_sink_state",
            "Circuit breaker of each sink: 0 closed, 1 half-open, 2 open",
            sink_state.clone(),
        );
        let sink_state_changes = Family::<SinkStateLabels, Counter>::default();
        registry.register(
            "tidings_sink_state_changes",
            "Circuit breaker state changes by sink and the state entered",
            sink_state_changes.clone(),
        );
        let outbox_pending = Gauge::default();
        registry.register(
            "tidings_outbox_pending",
            "Alerts waiting for delivery",
            outbox_pending.clone(),
        );
        let outbox_dead = Gauge::default();
        registry.register(
            "tidings_outbox_dead",
            "Alerts on the dead-letter list",
            outbox_dead.clone(),
        );
        let feeds = Gauge::default();
        registry.register("tidings_feeds", "Configured feeds", feeds.clone());
        let feeds_failing = Gauge::default();
        registry.register(
            "tidings_feeds_failing",
            "Feeds shown as failing by `tidings feeds` (failing_after failures in a row)",
            feeds_failing.clone(),
        );
        let reloads = Family::<PollLabels, Counter>::default();
        registry.register(
            "tidings_config_reloads",
            "Config reloads by result",
            reloads.clone(),
        );
        Metrics {
            registry,
            polls,
            poll_duration,
            stories,
            duplicates,
            events,
            event_updates,
            alerts,
            deliveries,
            sink_state,
            sink_state_changes,
            outbox_pending,
            outbox_dead,
            feeds,
            feeds_failing,
            reloads,
        }
    }

    pub fn poll(&self, result: &str) {
        self.polls
            .get_or_create(&PollLabels {
                result: result.to_string(),
            })
            .inc();
    }

    pub fn delivery(&self, sink: &str, result: &str) {
        self.deliveries
            .get_or_create(&DeliveryLabels {
                sink: sink.to_string(),
                result: result.to_string(),
            })
            .inc();
    }

    /// Sets a sink's state gauge (`value`: 0 closed, 1 half-open, 2 open).
    pub fn sink_state(&self, sink: &str, value: i64) {
        self.sink_state
            .get_or_create(&SinkLabels {
                sink: sink.to_string(),
            })
            .set(value);
    }

    /// Counts a sink's change into `state` and sets its gauge to `value`.
    pub fn sink_state_change(&self, sink: &str, state: &str, value: i64) {
        self.sink_state(sink, value);
        self.sink_state_changes
            .get_or_create(&SinkStateLabels {
                sink: sink.to_string(),
                state: state.to_string(),
            })
            .inc();
    }

    pub fn reload(&self, result: &str) {
        self.reloads
            .get_or_create(&PollLabels {
                result: result.to_string(),
            })
            .inc();
    }

    /// The OpenMetrics text exposition of every metric.
    pub fn encode(&self) -> String {
        let mut out = String::new();
        // Writing to a String cannot fail.
        let _ = prometheus_client::encoding::text::encode(&mut out, &self.registry);
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exposition_uses_conventional_names() {
        let m = Metrics::new();
        m.poll("ok");
        m.events
            .get_or_create(&TypeLabels {
                r#type: "un_vote".into(),
            })
            .inc();
        m.delivery("ops", "delivered");
        m.outbox_pending.set(3);
        m.sink_state("quiet", 0);
        m.sink_state_change("ops", "open", 2);
        let text = m.encode();
        assert!(
            text.contains("tidings_sink_state{sink=\"quiet\"} 0"),
            "{text}"
        );
        assert!(
            text.contains("tidings_sink_state{sink=\"ops\"} 2"),
            "{text}"
        );
        assert!(
            text.contains("tidings_sink_state_changes_total{sink=\"ops\",state=\"open\"} 1"),
            "{text}"
        );
        assert!(
            text.contains("tidings_feed_polls_total{result=\"ok\"} 1"),
            "{text}"
        );
        assert!(
            text.contains("tidings_events_total{type=\"un_vote\"} 1"),
            "{text}"
        );
        assert!(
            text.contains("tidings_alert_deliveries_total{sink=\"ops\",result=\"delivered\"} 1"),
            "{text}"
        );
        assert!(text.contains("tidings_outbox_pending 3"), "{text}");
        assert!(
            text.contains("# TYPE tidings_poll_duration_seconds histogram"),
            "{text}"
        );
    }
}
