//! Alerts: announcing events to the sinks a user configured.
//!
//! - [`payload`]: each sink kind's message shape (generic webhook JSON, Slack, Discord,
//!   ntfy), with text escaped for it.
//! - [`sign`]: Standard Webhooks signatures for generic webhooks.
//! - [`credentials`]: the sinks' secrets, resolved when the daemon starts or reloads.
//! - [`routing`]: which event changes deserve an alert, and which sinks want it (their
//!   filters).
//! - [`deliver`]: one attempt to one sink and what its answer means.
//! - [`breaker`]: per-sink circuit breakers — a failing sink is paused as a whole, probed
//!   with one alert after a growing pause, and resumed when it answers.
//! - [`worker`]: the delivery loop over the store's outbox, with retries, the breakers
//!   and the dead-letter list.
//!
//! The outbox itself lives in the store: alerts are written in the same transaction as
//! the events they announce.

pub mod breaker;
pub mod credentials;
pub mod deliver;
pub mod payload;
pub mod routing;
pub mod sign;
pub mod worker;

use credentials::CredentialErrors;

/// Sends a sample alert to `sink` now, outside the outbox: `tidings alerts test SINK`.
/// The sample is marked as a test in its event type and evidence.
/// The sink's secrets are resolved first, as the daemon would.
pub async fn send_test(
    config: &crate::config::Config,
    sink: &crate::config::SinkConfig,
) -> Result<deliver::Attempt, TestError> {
    let credentials =
        credentials::resolve_sink(sink).map_err(|e| TestError::Secrets(CredentialErrors(e)))?;
    let deliverer = deliver::Deliverer::new(&config.alerts, &config.http)?;
    let now = chrono::Utc::now();
    let alert = sample_alert(now);
    Ok(deliverer.send(sink, &credentials, &alert, now).await)
}

/// Why `alerts test` could not send.
#[derive(Debug, thiserror::Error)]
pub enum TestError {
    #[error(transparent)]
    Client(#[from] deliver::ClientError),
    #[error("{0}")]
    Secrets(#[source] CredentialErrors),
}

/// The alert `alerts test` sends: a made-up meeting, clearly labelled as a test.
pub fn sample_alert(now: chrono::DateTime<chrono::Utc>) -> crate::model::Alert {
    use crate::model::{Alert, AlertReason, Event, EventSource};
    use crate::model::{EventActor, Evidence, Field, Modality};
    let sentence = "This is a test alert from tidings: no such meeting took place.".to_string();
    let event = Event {
        id: 0,
        event_type: "test".into(),
        key: "TEST".into(),
        countries: Vec::new(),
        organization: None,
        actors: vec![EventActor {
            name: Some("tidings".into()),
            country: None,
            role: Some("test".into()),
            text: "tidings".into(),
        }],
        location: None,
        date: None,
        modality: Modality::Occurred,
        confidence: 1.0,
        anchor: now.date_naive(),
        first_seen: now,
        updated: now,
        revisions: 0,
        sources: vec![EventSource {
            story: 0,
            feed: "test".into(),
            url: None,
            title: "tidings test alert".into(),
            published: now,
            detected_at: now,
            modality: Modality::Occurred,
            date: None,
            confidence: 1.0,
            evidence: Evidence {
                resolved_against: None,
                field: Field::Text,
                start: 0,
                end: sentence.chars().count(),
                sentence,
                rule: "test".into(),
                matched: Vec::new(),
            },
        }],
    };
    Alert {
        id: now.timestamp_millis().unsigned_abs(),
        sink: String::new(),
        reason: AlertReason::New,
        event,
        created: now,
        since: now,
        attempts: 0,
        next_attempt: now,
        last_attempt: None,
        last_status: None,
        last_error: None,
        dead: None,
    }
}
