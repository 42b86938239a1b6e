//! One delivery attempt of one alert to one sink, and what its answer means.
//!
//! A 2xx answer delivers the alert; 410 Gone means the endpoint is gone for good; any
//! other answer or a network error is a failure to retry, after the sink's `Retry-After`
//! when it sent one with 429 or 503. Redirects are not followed: a webhook that moved
//! must be reconfigured, not guessed at.

use std::time::Duration;

use chrono::{DateTime, Utc};
use reqwest::header::{AUTHORIZATION, CONTENT_TYPE};

use crate::alerts::credentials::SinkCredentials;
use crate::alerts::{payload, sign};
use crate::config::{AlertSettings, HttpSettings, SinkConfig};
use crate::http::{error_chain as chain, retry_after};
use crate::model::Alert;
use crate::model::SinkKind;

/// The answer to one attempt.
#[derive(Debug, Clone, PartialEq)]
pub enum Attempt {
    Delivered {
        status: u16,
    },
    /// 410: the sink will never accept it.
    Gone {
        status: u16,
    },
    Failed {
        status: Option<u16>,
        error: String,
        retry_after: Option<Duration>,
    },
}

#[derive(Debug, thiserror::Error)]
#[error("cannot build the HTTP client for alerts: {0}")]
pub struct ClientError(String);

/// Sends alerts. One per daemon; cheap to share.
pub struct Deliverer {
    client: reqwest::Client,
    max_retry_after: Duration,
}

impl Deliverer {
    pub fn new(settings: &AlertSettings, http: &HttpSettings) -> Result<Deliverer, ClientError> {
        let client = reqwest::Client::builder()
            .user_agent(&http.user_agent)
            .timeout(settings.timeout)
            .connect_timeout(settings.timeout)
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .map_err(|e| ClientError(chain(&e)))?;
        Ok(Deliverer {
            client,
            max_retry_after: http.max_retry_after,
        })
    }

    /// Sends `alert` to `sink` once, timestamped `now`, with the sink's resolved secrets.
    pub async fn send(
        &self,
        sink: &SinkConfig,
        credentials: &SinkCredentials,
        alert: &Alert,
        now: DateTime<Utc>,
    ) -> Attempt {
        let body = payload::render(sink.kind, alert, sink.topic.as_deref());
        let body = match serde_json::to_vec(&body) {
            Ok(b) => b,
            Err(e) => {
                return Attempt::Failed {
                    status: None,
                    error: format!("cannot encode the payload: {e}"),
                    retry_after: None,
                }
            }
        };
        let mut request = self
            .client
            .post(sink.url.clone())
            .header(CONTENT_TYPE, "application/json");
        if sink.kind == SinkKind::Webhook {
            if let Some(secret) = &credentials.secret {
                for (name, value) in
                    sign::headers(secret, &alert.message_id(), now.timestamp(), &body)
                {
                    request = request.header(name, value);
                }
            }
        }
        if let Some(token) = &credentials.token {
            request = request.header(AUTHORIZATION, format!("Bearer {}", token.expose()));
        }
        match request.body(body).send().await {
            Ok(response) => {
                let status = response.status();
                let wait = retry_after(status.as_u16(), response.headers(), self.max_retry_after);
                // Drain a little of the body so the connection can be reused; its
                // content does not matter.
                let _ = response.bytes().await;
                classify(status.as_u16(), wait)
            }
            Err(e) => Attempt::Failed {
                status: None,
                error: chain(&e),
                retry_after: None,
            },
        }
    }
}

fn classify(status: u16, retry_after: Option<Duration>) -> Attempt {
    match status {
        200..=299 => Attempt::Delivered { status },
        410 => Attempt::Gone { status },
        _ => Attempt::Failed {
            status: Some(status),
            error: format!("HTTP {status}"),
            // Already filtered to 429/503 and capped by [`retry_after`].
            retry_after,
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn answers_are_classified() {
        assert_eq!(classify(204, None), Attempt::Delivered { status: 204 });
        assert_eq!(classify(410, None), Attempt::Gone { status: 410 });
        let wait = Some(Duration::from_secs(7));
        assert!(matches!(
            classify(429, wait),
            Attempt::Failed { retry_after: Some(d), .. } if d == Duration::from_secs(7)
        ));
        assert!(matches!(
            classify(301, None),
            Attempt::Failed {
                status: Some(301),
                ..
            }
        ));
    }
}
