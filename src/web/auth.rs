//! The pages' token rule: when the API has a bearer token, every page (and the live
//! stream the pages read) requires it, as `Authorization: Bearer …` or as the cookie
//! `/login` sets.
//!
//! A browser cannot add a header to a link it follows, so `/login?token=…` (the form on
//! every 401 page sends it) checks the token and answers with a cookie,
//! `tidings_view`, holding the token's SHA-256 (hex, so any token fits in a cookie):
//! `HttpOnly` (no script reads it), `SameSite=Strict` (no other site's page sends it),
//! valid for the pages only — the `/api/` routes still want the header. It then
//! redirects to the page asked for, a local path only.

use axum::extract::Query;
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{Html, IntoResponse, Response};
use sha2::{Digest, Sha256};

/// The cookie `/login` sets.
pub const COOKIE: &str = "tidings_view";

/// The token given in `Authorization: Bearer …` (scheme in any case).
fn bearer(headers: &HeaderMap) -> Option<&str> {
    let value = headers.get(header::AUTHORIZATION)?.to_str().ok()?;
    let (scheme, token) = value.trim().split_once(' ')?;
    scheme
        .eq_ignore_ascii_case("bearer")
        .then_some(token.trim())
}

/// The value of cookie `name`, if the request carries it.
fn cookie<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v.trim())
}

fn hex_digest(text: &str) -> String {
    Sha256::digest(text.as_bytes())
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// Compares two strings through their digests, so the time taken says nothing about
/// where they differ.
fn same(a: &str, b: &str) -> bool {
    Sha256::digest(a.as_bytes()) == Sha256::digest(b.as_bytes())
}

/// Whether the request carries the token, as a header or as the cookie.
pub fn admits(token: &str, headers: &HeaderMap) -> bool {
    if bearer(headers).is_some_and(|given| same(given, token)) {
        return true;
    }
    cookie(headers, COOKIE).is_some_and(|given| same(given, &hex_digest(token)))
}

/// `next` if it is a path on this endpoint (not `//host`, not a URL), else `/`.
fn local_path(next: Option<&str>) -> &str {
    match next {
        Some(p) if p.starts_with('/') && !p.starts_with("//") && !p.contains('\\') => p,
        _ => "/",
    }
}

/// The 401 page: why, and the token form that comes back to `next`.
pub fn login_page_response(
    status: StatusCode,
    next: Option<&str>,
    message: Option<&str>,
) -> Response {
    let next = local_path(next);
    let page = super::layout::login_page(next, message);
    let mut response = (status, Html(page.into_string())).into_response();
    response.headers_mut().insert(
        header::WWW_AUTHENTICATE,
        HeaderValue::from_static("Bearer realm=\"tidings\""),
    );
    response
}

#[derive(serde::Deserialize)]
pub struct LoginParams {
    token: Option<String>,
    next: Option<String>,
}

/// `GET /login?token=…&next=…`.
pub async fn login(
    axum::extract::State(state): axum::extract::State<super::WebState>,
    Query(p): Query<LoginParams>,
) -> Response {
    let next = local_path(p.next.as_deref()).to_string();
    let Some(expected) = &state.token else {
        // No token is configured: nothing to log in to.
        return (StatusCode::SEE_OTHER, [(header::LOCATION, next)]).into_response();
    };
    match p.token.as_deref().filter(|t| !t.is_empty()) {
        None => login_page_response(StatusCode::UNAUTHORIZED, Some(&next), None),
        Some(given) if same(given, expected.expose()) => {
            let cookie = format!(
                "{COOKIE}={}; Path=/; HttpOnly; SameSite=Strict",
                hex_digest(expected.expose())
            );
            (
                StatusCode::SEE_OTHER,
                [(header::LOCATION, next), (header::SET_COOKIE, cookie)],
            )
                .into_response()
        }
        Some(_) => login_page_response(
            StatusCode::UNAUTHORIZED,
            Some(&next),
            Some("That token is not the endpoint's."),
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(pairs: &[(&'static str, &str)]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for (k, v) in pairs {
            h.append(*k, HeaderValue::from_str(v).unwrap());
        }
        h
    }

    #[test]
    fn the_token_is_admitted_as_a_bearer_header_or_as_the_cookie_of_its_digest() {
        let token = "s3cret;=x";
        assert!(admits(
            token,
            &headers(&[("authorization", "bearer s3cret;=x")])
        ));
        assert!(!admits(
            token,
            &headers(&[("authorization", "Bearer wrong")])
        ));
        assert!(!admits(token, &headers(&[])));
        let good = format!("a=b; {COOKIE}={}", hex_digest("s3cret;=x"));
        assert!(admits(token, &headers(&[("cookie", &good)])));
        assert!(!admits(
            token,
            &headers(&[("cookie", "tidings_view=s3cret;=x")])
        ));
    }

    #[test]
    fn login_redirects_only_to_local_paths() {
        assert_eq!(local_path(Some("/events/3?x=1")), "/events/3?x=1");
        assert_eq!(local_path(Some("//evil.example/")), "/");
        assert_eq!(local_path(Some("https://evil.example/")), "/");
        assert_eq!(local_path(Some("/\\evil.example")), "/");
        assert_eq!(local_path(None), "/");
    }
}
