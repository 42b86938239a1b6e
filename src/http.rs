//! HTTP helpers shared by the fetcher and the alert deliverer: one `Retry-After` policy
//! and error chains for messages.
//!
//! A server's `Retry-After` is honoured only with 429 Too Many Requests and 503 Service
//! Unavailable (the statuses RFC 9110 gives it for a pause), and never for longer than
//! the caller's cap: one reply must not park a feed's host, or a sink, for a year.
//!
//! This module sits in the bottom layer: it imports nothing from the crate.

use std::time::Duration;

use reqwest::header::{HeaderMap, RETRY_AFTER};

/// The longest pause a `Retry-After` is allowed by default (`http.max_retry_after`).
pub const DEFAULT_MAX_RETRY_AFTER: Duration = Duration::from_secs(6 * 3600);

/// The pause a response asks for: its `Retry-After` (seconds or an HTTP date) when the
/// status is 429 or 503, at most `cap`; `None` for any other status or no usable header.
pub fn retry_after(status: u16, headers: &HeaderMap, cap: Duration) -> Option<Duration> {
    if !matches!(status, 429 | 503) {
        return None;
    }
    let value = headers.get(RETRY_AFTER)?.to_str().ok()?.trim();
    let wait = match value.parse::<u64>() {
        Ok(secs) => Duration::from_secs(secs),
        Err(_) => {
            let when = chrono::DateTime::parse_from_rfc2822(value).ok()?;
            (when.with_timezone(&chrono::Utc) - chrono::Utc::now())
                .to_std()
                .unwrap_or_default()
        }
    };
    Some(wait.min(cap))
}

/// An error with its causes, e.g. "error sending request: connection refused".
pub fn error_chain(e: &dyn std::error::Error) -> String {
    let mut out = e.to_string();
    let mut source = e.source();
    while let Some(s) = source {
        let text = s.to_string();
        if !out.contains(&text) {
            out.push_str(": ");
            out.push_str(&text);
        }
        source = s.source();
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use reqwest::header::HeaderValue;

    const HOUR: Duration = Duration::from_secs(3600);

    fn headers(value: &'static str) -> HeaderMap {
        let mut h = HeaderMap::new();
        h.insert(RETRY_AFTER, HeaderValue::from_static(value));
        h
    }

    #[test]
    fn only_429_and_503_ask_for_a_pause() {
        let h = headers("120");
        assert_eq!(retry_after(429, &h, HOUR), Some(Duration::from_secs(120)));
        assert_eq!(retry_after(503, &h, HOUR), Some(Duration::from_secs(120)));
        for status in [200, 301, 404, 410, 500, 502, 504] {
            assert_eq!(retry_after(status, &h, HOUR), None, "status {status}");
        }
    }

    #[test]
    fn a_pause_is_capped() {
        assert_eq!(retry_after(503, &headers("31536000"), HOUR), Some(HOUR));
        let far = (chrono::Utc::now() + chrono::Duration::days(365)).to_rfc2822();
        let mut h = HeaderMap::new();
        h.insert(RETRY_AFTER, HeaderValue::from_str(&far).unwrap());
        assert_eq!(retry_after(429, &h, HOUR), Some(HOUR));
    }

    #[test]
    fn dates_in_the_past_and_garbage() {
        assert_eq!(
            retry_after(429, &headers("Wed, 21 Oct 2015 07:28:00 GMT"), HOUR),
            Some(Duration::ZERO)
        );
        assert_eq!(retry_after(429, &headers("soon"), HOUR), None);
        assert_eq!(retry_after(429, &HeaderMap::new(), HOUR), None);
    }

    #[test]
    fn an_error_chain_names_each_cause_once() {
        let inner = std::io::Error::other("connection refused");
        #[derive(Debug, thiserror::Error)]
        #[error("error sending request")]
        struct Outer(#[source] std::io::Error);
        assert_eq!(
            error_chain(&Outer(inner)),
            "error sending request: connection refused"
        );
    }
}
