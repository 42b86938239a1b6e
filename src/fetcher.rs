//! The fetcher: one HTTP GET of one feed, with conditional headers, timeouts, a redirect
//! limit and a cap on the decompressed body size.
//!
//! Redirects are followed here, hop by hop, so that the fetcher can tell a permanent
//! move (every hop 301 or 308: the feed's stored URL should change) from a temporary one,
//! and a loop from a long chain. It also reports what the server says about caching
//! (`Cache-Control: max-age`) and the body's declared charset.
//!
//! It never panics and never retries: it reports what happened and the scheduler decides
//! what to do next.

use std::time::Duration;

use reqwest::header::{
    HeaderMap, ACCEPT, CACHE_CONTROL, CONTENT_TYPE, ETAG, IF_MODIFIED_SINCE, IF_NONE_MATCH,
    LAST_MODIFIED, LOCATION,
};
use reqwest::StatusCode;

use crate::config::HttpSettings;
use crate::http::{error_chain as chain, retry_after};

/// The validators from the previous successful fetch of a feed.
#[derive(Debug, Clone, Default)]
pub struct Validators {
    pub etag: Option<String>,
    pub last_modified: Option<String>,
}

/// What the server said besides the body, for the scheduler.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ServerHints {
    /// Where the feed now lives, when every redirect on the way was permanent (301/308).
    pub moved_to: Option<String>,
    /// `Cache-Control: max-age`.
    pub max_age: Option<Duration>,
}

/// A completed exchange.
#[derive(Debug)]
pub enum Fetched {
    /// 304: the feed is unchanged since the validators were issued.
    NotModified { hints: ServerHints },
    /// 2xx with a body.
    Body {
        status: u16,
        /// URL after redirects.
        final_url: String,
        bytes: Vec<u8>,
        validators: Validators,
        /// The `charset` of the `Content-Type` header, if it named one.
        charset: Option<String>,
        hints: ServerHints,
    },
}

/// Why a fetch failed.
#[derive(Debug, thiserror::Error)]
pub enum FetchError {
    #[error("timed out: {0}")]
    Timeout(String),
    #[error("connection failed: {0}")]
    Connect(String),
    #[error("too many redirects (limit {0})")]
    Redirects(usize),
    #[error("redirect loop: {0} redirects back to a URL already visited")]
    RedirectLoop(String),
    #[error("HTTP {status}{}", retry_after.map(|d| format!(" (retry after {}s)", d.as_secs())).unwrap_or_default())]
    Status {
        status: u16,
        retry_after: Option<Duration>,
    },
    #[error("body larger than the limit of {limit} bytes (after decompression)")]
    TooLarge { limit: u64 },
    #[error("{0}")]
    Other(String),
}

impl FetchError {
    /// The HTTP status, when the failure was an HTTP answer.
    pub fn status(&self) -> Option<u16> {
        match self {
            FetchError::Status { status, .. } => Some(*status),
            _ => None,
        }
    }
}

pub struct Fetcher {
    client: reqwest::Client,
    max_body_bytes: u64,
    max_redirects: usize,
    max_retry_after: Duration,
}

impl Fetcher {
    pub fn new(settings: &HttpSettings) -> Result<Fetcher, FetchError> {
        let client = reqwest::Client::builder()
            .user_agent(settings.user_agent.clone())
            .connect_timeout(settings.connect_timeout)
            .read_timeout(settings.read_timeout)
            .timeout(settings.total_timeout)
            .redirect(reqwest::redirect::Policy::none())
            .gzip(true)
            .brotli(true)
            .build()
            .map_err(|e| FetchError::Other(format!("cannot build HTTP client: {}", chain(&e))))?;
        Ok(Fetcher {
            client,
            max_body_bytes: settings.max_body_bytes,
            max_redirects: settings.max_redirects,
            max_retry_after: settings.max_retry_after,
        })
    }

    /// GETs `url`, sending the validators as `If-None-Match` / `If-Modified-Since`, and
    /// following up to `max_redirects` redirects.
    pub async fn fetch(&self, url: &str, validators: &Validators) -> Result<Fetched, FetchError> {
        let mut current = url::Url::parse(url)
            .map_err(|e| FetchError::Other(format!("invalid URL {url}: {e}")))?;
        let mut visited = vec![current.clone()];
        let mut all_permanent = true;
        let mut response = loop {
            let mut request = self.client.get(current.clone()).header(
                ACCEPT,
                "application/rss+xml, application/atom+xml, application/feed+json, application/xml;q=0.9, text/xml;q=0.9, */*;q=0.5",
            );
            if let Some(etag) = &validators.etag {
                request = request.header(IF_NONE_MATCH, etag);
            }
            if let Some(lm) = &validators.last_modified {
                request = request.header(IF_MODIFIED_SINCE, lm);
            }
            let response = request.send().await.map_err(|e| self.classify(e))?;
            let status = response.status();
            if !status.is_redirection() || status == StatusCode::NOT_MODIFIED {
                break response;
            }
            let Some(next) =
                header(response.headers(), LOCATION).and_then(|l| current.join(&l).ok())
            else {
                return Err(FetchError::Status {
                    status: status.as_u16(),
                    retry_after: None,
                });
            };
            if visited.contains(&next) {
                return Err(FetchError::RedirectLoop(next.to_string()));
            }
            if visited.len() > self.max_redirects {
                return Err(FetchError::Redirects(self.max_redirects));
            }
            all_permanent &= matches!(
                status,
                StatusCode::MOVED_PERMANENTLY | StatusCode::PERMANENT_REDIRECT
            );
            visited.push(next.clone());
            current = next;
        };
        let hints = ServerHints {
            moved_to: (all_permanent && visited.len() > 1).then(|| current.to_string()),
            max_age: max_age(response.headers()),
        };
        let status = response.status();
        if status == StatusCode::NOT_MODIFIED {
            return Ok(Fetched::NotModified { hints });
        }
        if !status.is_success() {
            return Err(FetchError::Status {
                status: status.as_u16(),
                retry_after: retry_after(status.as_u16(), response.headers(), self.max_retry_after),
            });
        }
        if response
            .content_length()
            .is_some_and(|n| n > self.max_body_bytes)
        {
            return Err(FetchError::TooLarge {
                limit: self.max_body_bytes,
            });
        }
        let validators = Validators {
            etag: header(response.headers(), ETAG),
            last_modified: header(response.headers(), LAST_MODIFIED),
        };
        let final_url = response.url().to_string();
        let charset = header(response.headers(), CONTENT_TYPE).and_then(|ct| charset_of(&ct));
        // Content-Length counts compressed bytes; the cap is on what we decompress, so
        // count while streaming.
        let mut bytes = Vec::new();
        while let Some(chunk) = response.chunk().await.map_err(|e| self.classify(e))? {
            if bytes.len() as u64 + chunk.len() as u64 > self.max_body_bytes {
                return Err(FetchError::TooLarge {
                    limit: self.max_body_bytes,
                });
            }
            bytes.extend_from_slice(&chunk);
        }
        Ok(Fetched::Body {
            status: status.as_u16(),
            final_url,
            bytes,
            validators,
            charset,
            hints,
        })
    }

    fn classify(&self, e: reqwest::Error) -> FetchError {
        if e.is_timeout() {
            FetchError::Timeout(chain(&e))
        } else if e.is_redirect() {
            FetchError::Redirects(self.max_redirects)
        } else if e.is_connect() {
            FetchError::Connect(chain(&e))
        } else {
            FetchError::Other(chain(&e))
        }
    }
}

fn header(headers: &HeaderMap, name: reqwest::header::HeaderName) -> Option<String> {
    headers
        .get(name)
        .and_then(|v| v.to_str().ok())
        .map(str::to_string)
}

/// `Cache-Control: max-age=N` as a duration (`no-cache`/`no-store` say nothing about
/// how often to poll, so they are ignored).
fn max_age(headers: &HeaderMap) -> Option<Duration> {
    let value = headers.get(CACHE_CONTROL)?.to_str().ok()?;
    value.split(',').find_map(|d| {
        let (k, v) = d.trim().split_once('=')?;
        (k.trim().eq_ignore_ascii_case("max-age"))
            .then(|| v.trim().trim_matches('"').parse::<u64>().ok())
            .flatten()
            .map(Duration::from_secs)
    })
}

/// The `charset` parameter of a `Content-Type` value, lower-cased.
fn charset_of(content_type: &str) -> Option<String> {
    content_type.split(';').skip(1).find_map(|p| {
        let (k, v) = p.trim().split_once('=')?;
        k.trim()
            .eq_ignore_ascii_case("charset")
            .then(|| v.trim().trim_matches('"').to_ascii_lowercase())
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use reqwest::header::HeaderValue;

    #[test]
    fn max_age_is_read_from_cache_control() {
        let mut h = HeaderMap::new();
        h.insert(
            CACHE_CONTROL,
            HeaderValue::from_static("public, max-age=900"),
        );
        assert_eq!(max_age(&h), Some(Duration::from_secs(900)));
        h.insert(CACHE_CONTROL, HeaderValue::from_static("no-cache"));
        assert_eq!(max_age(&h), None);
        h.insert(CACHE_CONTROL, HeaderValue::from_static("max-age=soon"));
        assert_eq!(max_age(&h), None);
    }

    #[test]
    fn charset_is_read_from_content_type() {
        assert_eq!(
            charset_of("application/rss+xml; charset=\"ISO-8859-1\"").as_deref(),
            Some("iso-8859-1")
        );
        assert_eq!(charset_of("text/xml"), None);
    }
}
