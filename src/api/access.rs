//! Who may talk to the endpoint, checked before any route runs.
//!
//! A loopback API is still reachable from every web page the machine's browser opens:
//! a page can send simple requests (forms, `fetch` without preflight) to
//! `127.0.0.1:8787`, and through DNS rebinding it can even read answers under a name it
//! controls. So:
//!
//! - every request's `Host` must name the endpoint: its bound address,
//!   `127.0.0.1`/`localhost`/`[::1]` when it listens on loopback or on every address
//!   (with the bound port, or without one when that is 80), or an `api.allowed_hosts`
//!   entry (a name without a port allows any port). Anything else gets 421;
//! - every write (any method but GET, HEAD and OPTIONS) must not come from another site:
//!   an `Origin` header, when present, must be `http(s)://` an allowed host, and
//!   `Sec-Fetch-Site`, when present, must be `same-origin` or `none` (`same-site` is
//!   refused too: another port on localhost is the same site);
//! - every write must carry `Content-Type: application/json` or `X-Tidings-Request`,
//!   which an HTML form cannot send and a cross-origin `fetch` cannot send without a
//!   CORS preflight the endpoint never grants.
//!
//! The bearer token, when configured, is checked per route group in the router.

use std::net::{IpAddr, SocketAddr};

use axum::http::{header, HeaderMap, Method, StatusCode, Uri};
use thiserror::Error;

use crate::config::HostAndPort;

/// The custom header that marks a write as sent by a program, not a form.
pub const WRITE_MARKER_HEADER: &str = "x-tidings-request";

/// Why a request was refused before reaching a route.
#[derive(Debug, Error, PartialEq, Eq)]
pub enum Refusal {
    #[error("a Host header is required")]
    MissingHost,
    #[error("host {0:?} is not this endpoint (add it to api.allowed_hosts if it should be)")]
    UnknownHost(String),
    #[error("writes from origin {0:?} are refused: only this endpoint's own origin may write")]
    ForeignOrigin(String),
    #[error("writes with Sec-Fetch-Site: {0} are refused: only same-origin requests may write")]
    CrossSiteFetch(String),
    #[error("a write needs Content-Type: application/json or an X-Tidings-Request header")]
    NoWriteMarker,
}

impl Refusal {
    /// The status the refusal is answered with.
    pub fn status(&self) -> StatusCode {
        match self {
            Refusal::MissingHost => StatusCode::BAD_REQUEST,
            Refusal::UnknownHost(_) => StatusCode::MISDIRECTED_REQUEST,
            Refusal::ForeignOrigin(_) | Refusal::CrossSiteFetch(_) | Refusal::NoWriteMarker => {
                StatusCode::FORBIDDEN
            }
        }
    }
}

/// The hosts and origins the endpoint answers to.
#[derive(Debug, Clone)]
pub struct AccessPolicy {
    port: u16,
    /// Names that mean this endpoint on its own port.
    own_names: Vec<String>,
    /// `api.allowed_hosts`.
    allowed: Vec<HostAndPort>,
}

impl AccessPolicy {
    /// The policy for an endpoint bound to `bound` (the real port, after binding).
    pub fn new(bound: SocketAddr, allowed_hosts: &[HostAndPort]) -> AccessPolicy {
        let mut own_names = vec![match bound.ip() {
            IpAddr::V4(ip) => ip.to_string(),
            IpAddr::V6(ip) => format!("[{ip}]"),
        }];
        if bound.ip().is_loopback() || bound.ip().is_unspecified() {
            for name in ["127.0.0.1", "localhost", "[::1]"] {
                if !own_names.iter().any(|n| n == name) {
                    own_names.push(name.to_string());
                }
            }
        }
        AccessPolicy {
            port: bound.port(),
            own_names,
            allowed: allowed_hosts.to_vec(),
        }
    }

    /// Whether `host` (as a `Host` header writes it) names this endpoint.
    pub fn allows_host(&self, host: &HostAndPort) -> bool {
        let own_port = match host.port {
            Some(port) => port == self.port,
            None => self.port == 80,
        };
        (own_port && self.own_names.contains(&host.name))
            || self
                .allowed
                .iter()
                .any(|a| a.name == host.name && (a.port.is_none() || a.port == host.port))
    }

    /// Whether `origin` (an `Origin` header) is this endpoint's own.
    pub fn allows_origin(&self, origin: &str) -> bool {
        let Some((scheme, rest)) = origin.split_once("://") else {
            return false;
        };
        if !scheme.eq_ignore_ascii_case("http") && !scheme.eq_ignore_ascii_case("https") {
            return false;
        }
        HostAndPort::parse(rest).is_some_and(|host| self.allows_host(&host))
    }

    /// Checks one request's method, target and headers.
    pub fn check(&self, method: &Method, uri: &Uri, headers: &HeaderMap) -> Result<(), Refusal> {
        let host_text = match headers.get(header::HOST) {
            Some(value) => String::from_utf8_lossy(value.as_bytes()).into_owned(),
            None => return Err(Refusal::MissingHost),
        };
        let host_ok = HostAndPort::parse(&host_text).is_some_and(|h| self.allows_host(&h));
        if !host_ok {
            return Err(Refusal::UnknownHost(host_text));
        }
        // An absolute-form target names a host too.
        if let Some(authority) = uri.authority() {
            let ok = HostAndPort::parse(authority.as_str()).is_some_and(|h| self.allows_host(&h));
            if !ok {
                return Err(Refusal::UnknownHost(authority.to_string()));
            }
        }
        if matches!(*method, Method::GET | Method::HEAD | Method::OPTIONS) {
            return Ok(());
        }
        if let Some(origin) = headers.get(header::ORIGIN) {
            let origin = String::from_utf8_lossy(origin.as_bytes()).into_owned();
            if !self.allows_origin(&origin) {
                return Err(Refusal::ForeignOrigin(origin));
            }
        }
        if let Some(site) = headers.get("sec-fetch-site") {
            let site = String::from_utf8_lossy(site.as_bytes()).to_ascii_lowercase();
            if site != "same-origin" && site != "none" {
                return Err(Refusal::CrossSiteFetch(site));
            }
        }
        let json = headers
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.split(';').next())
            .is_some_and(|essence| essence.trim().eq_ignore_ascii_case("application/json"));
        if !json && !headers.contains_key(WRITE_MARKER_HEADER) {
            return Err(Refusal::NoWriteMarker);
        }
        Ok(())
    }
}

/// The token in an `Authorization` header's value if its scheme is `Bearer`, in any
/// case (`bearer`, `BEARER`), as RFC 9110 says auth schemes are.
pub fn bearer_token(authorization: &str) -> Option<&str> {
    let (scheme, token) = authorization.trim_start().split_once(' ')?;
    scheme
        .eq_ignore_ascii_case("bearer")
        .then(|| token.trim())
        .filter(|t| !t.is_empty())
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::HeaderValue;

    fn policy(bound: &str, allowed: &[&str]) -> AccessPolicy {
        let allowed: Vec<HostAndPort> = allowed
            .iter()
            .map(|a| HostAndPort::parse(a).unwrap())
            .collect();
        AccessPolicy::new(bound.parse().unwrap(), &allowed)
    }

    fn host(p: &AccessPolicy, h: &str) -> bool {
        HostAndPort::parse(h).is_some_and(|h| p.allows_host(&h))
    }

    #[test]
    fn loopback_names_on_the_bound_port_and_allowed_hosts_pass() {
        let p = policy("127.0.0.1:8787", &["proxy.internal", "fixed:9000"]);
        for ok in [
            "127.0.0.1:8787",
            "localhost:8787",
            "LOCALHOST:8787",
            "[::1]:8787",
            "proxy.internal",
            "proxy.internal:443",
            "fixed:9000",
        ] {
            assert!(host(&p, ok), "{ok} should pass");
        }
        for bad in [
            "evil.example",
            "evil.example:8787",
            "localhost",
            "localhost:8788",
            "127.0.0.1",
            "fixed:9001",
            "fixed",
            "127.0.0.1.evil.example:8787",
        ] {
            assert!(!host(&p, bad), "{bad} should be refused");
        }
        let p80 = policy("127.0.0.1:80", &[]);
        assert!(host(&p80, "localhost") && host(&p80, "127.0.0.1:80"));
    }

    #[test]
    fn origins_are_allowed_hosts_with_a_web_scheme() {
        let p = policy("127.0.0.1:8787", &[]);
        assert!(p.allows_origin("http://127.0.0.1:8787"));
        assert!(p.allows_origin("https://localhost:8787"));
        assert!(!p.allows_origin("http://evil.example"));
        assert!(!p.allows_origin("null"));
        assert!(!p.allows_origin("ftp://localhost:8787"));
        assert!(!p.allows_origin("http://localhost:3000"));
    }

    #[test]
    fn writes_need_an_own_origin_and_a_marker() {
        let p = policy("127.0.0.1:8787", &[]);
        let uri: Uri = "/api/v1/reload".parse().unwrap();
        let headers = |pairs: &[(&'static str, &'static str)]| {
            let mut h = HeaderMap::new();
            h.insert(header::HOST, HeaderValue::from_static("127.0.0.1:8787"));
            for (k, v) in pairs {
                h.insert(*k, HeaderValue::from_static(v));
            }
            h
        };
        let post = |pairs| p.check(&Method::POST, &uri, &headers(pairs));
        assert_eq!(post(&[]), Err(Refusal::NoWriteMarker));
        assert_eq!(post(&[("x-tidings-request", "1")]), Ok(()));
        assert_eq!(
            post(&[("content-type", "Application/JSON; charset=utf-8")]),
            Ok(())
        );
        assert_eq!(
            post(&[("content-type", "application/x-www-form-urlencoded")]),
            Err(Refusal::NoWriteMarker)
        );
        assert!(matches!(
            post(&[
                ("origin", "http://evil.example"),
                ("x-tidings-request", "1")
            ]),
            Err(Refusal::ForeignOrigin(_))
        ));
        assert_eq!(
            post(&[
                ("origin", "http://127.0.0.1:8787"),
                ("x-tidings-request", "1")
            ]),
            Ok(())
        );
        for site in ["cross-site", "same-site"] {
            let mut h = headers(&[("x-tidings-request", "1")]);
            h.insert("sec-fetch-site", HeaderValue::from_static(site));
            assert_eq!(
                p.check(&Method::POST, &uri, &h),
                Err(Refusal::CrossSiteFetch(site.into()))
            );
        }
        assert_eq!(
            post(&[
                ("sec-fetch-site", "same-origin"),
                ("x-tidings-request", "1")
            ]),
            Ok(())
        );
        // Reads need neither, but still the right Host.
        assert_eq!(p.check(&Method::GET, &uri, &headers(&[])), Ok(()));
        assert_eq!(
            p.check(&Method::GET, &uri, &HeaderMap::new()),
            Err(Refusal::MissingHost)
        );
        let absolute: Uri = "http://evil.example/api/v1/feeds".parse().unwrap();
        assert!(matches!(
            p.check(&Method::GET, &absolute, &headers(&[])),
            Err(Refusal::UnknownHost(_))
        ));
    }

    #[test]
    fn the_bearer_scheme_is_case_insensitive() {
        assert_eq!(bearer_token("Bearer abc"), Some("abc"));
        assert_eq!(bearer_token("bearer abc"), Some("abc"));
        assert_eq!(bearer_token("BEARER  abc "), Some("abc"));
        assert_eq!(bearer_token("Basic abc"), None);
        assert_eq!(bearer_token("Bearer"), None);
        assert_eq!(bearer_token("Bearer "), None);
    }
}
