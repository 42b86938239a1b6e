//! The daemon's HTTP endpoint (axum), on loopback by default.
//!
//! - `GET /livez` — the process answers.
//! - `GET /readyz` — 200 once the store is open and the daemon is polling; 503 while it
//!   shuts down.
//! - `GET /metrics` — Prometheus metrics ([`crate::metrics`]).
//! - `GET /api/v1/feeds`, `/api/v1/stories` (`feed`, `since`, `limit`),
//!   `/api/v1/stories/{id}`, `/api/v1/events` (`type`, `country`, `since`, `modality`,
//!   `limit`), `/api/v1/events/{id}`, `/api/v1/alerts` (`state=pending|dead`, `limit`),
//!   `/api/v1/sinks` (each configured sink's circuit breaker) — JSON, the CLI's filters.
//! - `GET /api/v1/events/stream` — new and updated events as they are stored, one JSON
//!   object per line (`application/x-ndjson`), until the client disconnects.
//! - `POST /api/v1/alerts/{id}/replay`, `POST /api/v1/alerts/replay-dead`,
//!   `POST /api/v1/reload`, `POST /api/v1/feeds/{id}/poll` — the only writes: `tidings
//!   alerts replay` while the daemon holds the store, a config reload (as SIGHUP) after
//!   `tidings feeds add` and friends edited the config file, and `tidings feeds poll`.
//!
//! When a token is configured, every `/api/` route requires `Authorization: Bearer`
//! (the scheme in any case).
//!
//! The web view's pages ([`crate::web`]: `/`, `/events/{id}`, `/map`, …) are mounted
//! here too, behind the same access checks and token (as the header or the cookie its
//! `/login` sets).
//!
//! Every request passes [`access`] first (the `Host` check against DNS rebinding, and
//! for writes the cross-origin and form checks); [`server`] serves the router with a
//! header-read deadline and a connection cap. Every 4xx and 5xx answer is
//! `{"error": "…"}` JSON: the handlers' [`ApiError`], [`ApiQuery`] and [`ApiPath`] for
//! malformed parameters, fallbacks for unknown routes (404) and methods (405), and a
//! last layer that rewrites any other error answer (axum's own rejections) into that
//! shape.

pub mod access;
pub mod server;

use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use axum::extract::{FromRequestParts, Path, Query, Request, State};
use axum::http::request::Parts;
use axum::http::{header, HeaderValue, Method, StatusCode, Uri};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use chrono::{DateTime, NaiveDate, Utc};
use serde::de::DeserializeOwned;
use serde::Deserialize;
use sha2::{Digest, Sha256};
use tokio::sync::{broadcast, watch, Notify};

use crate::config::{Config, Secret};
use crate::metrics::Metrics;
use crate::model::Modality;
use crate::store::{AlertState, EventQuery, Store, StoreError, StoryQuery};
use crate::views::{self, EventNotice};

use access::AccessPolicy;

/// What the handlers share.
#[derive(Clone)]
pub struct ApiState {
    pub store: Arc<Store>,
    pub metrics: Arc<Metrics>,
    pub config: watch::Receiver<Arc<Config>>,
    pub events: broadcast::Sender<EventNotice>,
    pub ready: Arc<AtomicBool>,
    /// Wakes the delivery worker after a replay.
    pub outbox: Arc<Notify>,
    /// Asks the daemon to reload its config file.
    pub reload: tokio::sync::mpsc::UnboundedSender<()>,
    /// The bearer token every `/api/` route requires, resolved when the daemon started
    /// (API settings change only with a restart).
    pub token: Option<Arc<Secret>>,
    /// Turns true when the daemon shuts down: open event streams end then.
    pub stopping: watch::Receiver<bool>,
    /// Asks the daemon to poll a feed now (`tidings feeds poll ID`).
    pub poll_now: tokio::sync::mpsc::UnboundedSender<String>,
    /// The hosts and origins the endpoint answers to, for the bound address.
    pub access: Arc<AccessPolicy>,
}

/// Binds the endpoint's listener (the address may use port 0).
pub async fn bind(addr: SocketAddr) -> std::io::Result<tokio::net::TcpListener> {
    tokio::net::TcpListener::bind(addr).await
}

/// The endpoint's routes.
pub fn router(state: ApiState) -> Router {
    let api = Router::new()
        .route("/feeds", get(feeds))
        .route("/stories", get(stories))
        .route("/stories/{id}", get(story))
        .route("/events", get(events))
        .route("/events/stream", get(event_stream))
        .route("/events/{id}", get(event))
        .route("/alerts", get(alerts))
        .route("/sinks", get(sinks))
        .route("/alerts/replay-dead", post(replay_dead))
        .route("/alerts/{id}/replay", post(replay))
        .route("/feeds/{id}/poll", post(poll_feed))
        .route("/reload", post(reload))
        .layer(middleware::from_fn_with_state(state.clone(), require_token));
    // The web view's pages, under the same token and access rules.
    let web = crate::web::router(crate::web::WebState {
        store: Arc::clone(&state.store),
        config: state.config.clone(),
        events: state.events.clone(),
        stopping: state.stopping.clone(),
        token: state.token.clone(),
    });
    Router::new()
        .route("/livez", get(|| async { "ok\n" }))
        .route("/readyz", get(readyz))
        .route("/metrics", get(metrics))
        .nest("/api/v1", api)
        .fallback(unknown_route)
        .method_not_allowed_fallback(method_not_allowed)
        .with_state(state.clone())
        .merge(web)
        .layer(middleware::from_fn_with_state(state, check_access))
        .layer(middleware::from_fn(errors_as_json))
}

/// An API error: status and a one-line JSON message.
pub struct ApiError(StatusCode, String);

impl ApiError {
    pub fn new(status: StatusCode, message: impl Into<String>) -> ApiError {
        ApiError(status, message.into())
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        (self.0, Json(serde_json::json!({ "error": self.1 }))).into_response()
    }
}

impl From<StoreError> for ApiError {
    fn from(e: StoreError) -> Self {
        ApiError(StatusCode::INTERNAL_SERVER_ERROR, e.to_string())
    }
}

type ApiResult<T> = Result<Json<T>, ApiError>;

/// `Query`, with a malformed query string answered as a JSON 400.
pub struct ApiQuery<T>(pub T);

impl<T: DeserializeOwned, S: Send + Sync> FromRequestParts<S> for ApiQuery<T> {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, ApiError> {
        match Query::<T>::from_request_parts(parts, state).await {
            Ok(Query(value)) => Ok(ApiQuery(value)),
            Err(rejection) => Err(ApiError(rejection.status(), rejection.body_text())),
        }
    }
}

/// `Path`, with a malformed path parameter (`/events/abc`) answered as JSON.
pub struct ApiPath<T>(pub T);

impl<T: DeserializeOwned + Send, S: Send + Sync> FromRequestParts<S> for ApiPath<T> {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, ApiError> {
        match Path::<T>::from_request_parts(parts, state).await {
            Ok(Path(value)) => Ok(ApiPath(value)),
            Err(rejection) => Err(ApiError(rejection.status(), rejection.body_text())),
        }
    }
}

async fn unknown_route(method: Method, uri: Uri) -> ApiError {
    ApiError(
        StatusCode::NOT_FOUND,
        format!("no route for {method} {}", uri.path()),
    )
}

async fn method_not_allowed(method: Method, uri: Uri) -> ApiError {
    ApiError(
        StatusCode::METHOD_NOT_ALLOWED,
        format!("{method} is not allowed on {}", uri.path()),
    )
}

/// The [`access`] checks, before any route.
async fn check_access(State(state): State<ApiState>, request: Request, next: Next) -> Response {
    if let Err(refusal) = state
        .access
        .check(request.method(), request.uri(), request.headers())
    {
        return ApiError(refusal.status(), refusal.to_string()).into_response();
    }
    next.run(request).await
}

/// Longest error body [`errors_as_json`] reads to quote it.
const ERROR_BODY_LIMIT: usize = 16 * 1024;

/// Rewrites any 4xx/5xx answer that is not JSON yet into `{"error": "…"}`, quoting its
/// text (or the status's reason when it had none); headers such as `Allow` stay. The
/// web view's HTML error pages are left as they are.
async fn errors_as_json(request: Request, next: Next) -> Response {
    let response = next.run(request).await;
    let status = response.status();
    let is_json = response
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("application/json") || v.starts_with("text/html"));
    if !(status.is_client_error() || status.is_server_error()) || is_json {
        return response;
    }
    let (mut parts, body) = response.into_parts();
    let text = axum::body::to_bytes(body, ERROR_BODY_LIMIT)
        .await
        .map(|b| String::from_utf8_lossy(&b).trim().to_string())
        .unwrap_or_default();
    let message = if text.is_empty() {
        status
            .canonical_reason()
            .unwrap_or("error")
            .to_ascii_lowercase()
    } else {
        text
    };
    let body = serde_json::json!({ "error": message }).to_string();
    parts.headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    parts.headers.remove(header::CONTENT_LENGTH);
    Response::from_parts(parts, axum::body::Body::from(body))
}

async fn require_token(State(state): State<ApiState>, request: Request, next: Next) -> Response {
    if let Some(token) = &state.token {
        let given = request
            .headers()
            .get(header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .and_then(access::bearer_token)
            .unwrap_or("");
        // Compare digests so the time taken says nothing about the token.
        if Sha256::digest(given.as_bytes()) != Sha256::digest(token.expose().as_bytes()) {
            return ApiError(
                StatusCode::UNAUTHORIZED,
                "a bearer token is required (Authorization: Bearer …)".into(),
            )
            .into_response();
        }
    }
    next.run(request).await
}

async fn readyz(State(state): State<ApiState>) -> Response {
    if state.ready.load(Ordering::SeqCst) {
        (StatusCode::OK, "ready\n").into_response()
    } else {
        ApiError(StatusCode::SERVICE_UNAVAILABLE, "not ready".into()).into_response()
    }
}

async fn metrics(State(state): State<ApiState>) -> Response {
    if let Ok(counts) = state.store.outbox_counts() {
        state.metrics.outbox_pending.set(counts.pending as i64);
        state.metrics.outbox_dead.set(counts.dead as i64);
    }
    (
        [(
            header::CONTENT_TYPE,
            "application/openmetrics-text; version=1.0.0; charset=utf-8",
        )],
        state.metrics.encode(),
    )
        .into_response()
}

/// Runs blocking store reads off the async workers.
async fn blocking<T: Send + 'static>(
    f: impl FnOnce() -> Result<T, ApiError> + Send + 'static,
) -> Result<T, ApiError> {
    tokio::task::spawn_blocking(f)
        .await
        .map_err(|e| ApiError(StatusCode::INTERNAL_SERVER_ERROR, e.to_string()))?
}

async fn sinks(State(state): State<ApiState>) -> ApiResult<Vec<views::SinkStatus>> {
    let config = state.config.borrow().clone();
    let store = Arc::clone(&state.store);
    blocking(move || Ok(views::sink_statuses(&config, Some(&store))?))
        .await
        .map(Json)
}

async fn feeds(State(state): State<ApiState>) -> ApiResult<Vec<views::FeedStatus>> {
    let config = state.config.borrow().clone();
    let store = Arc::clone(&state.store);
    blocking(move || Ok(views::feed_statuses(&config, Some(&store))?))
        .await
        .map(Json)
}

#[derive(Deserialize)]
struct StoriesParams {
    feed: Option<String>,
    since: Option<DateTime<Utc>>,
    limit: Option<usize>,
}

async fn stories(
    State(state): State<ApiState>,
    ApiQuery(p): ApiQuery<StoriesParams>,
) -> ApiResult<Vec<crate::model::Story>> {
    let store = Arc::clone(&state.store);
    let query = StoryQuery {
        feed: p.feed,
        since: p.since,
        limit: Some(p.limit.unwrap_or(50)),
    };
    blocking(move || Ok(store.stories(&query)?)).await.map(Json)
}

async fn story(
    State(state): State<ApiState>,
    ApiPath(id): ApiPath<u64>,
) -> ApiResult<crate::model::Story> {
    let store = Arc::clone(&state.store);
    blocking(move || {
        store
            .story(id)?
            .ok_or_else(|| ApiError(StatusCode::NOT_FOUND, format!("no story with id {id}")))
    })
    .await
    .map(Json)
}

#[derive(Deserialize)]
struct EventsParams {
    r#type: Option<String>,
    country: Option<String>,
    since: Option<NaiveDate>,
    modality: Option<Modality>,
    limit: Option<usize>,
}

async fn events(
    State(state): State<ApiState>,
    ApiQuery(p): ApiQuery<EventsParams>,
) -> ApiResult<Vec<crate::model::Event>> {
    let store = Arc::clone(&state.store);
    let query = EventQuery {
        event_type: p.r#type,
        country: p.country.map(|c| c.to_ascii_uppercase()),
        since: p.since,
        modality: p.modality,
        limit: Some(p.limit.unwrap_or(50)),
    };
    blocking(move || Ok(store.events(&query)?)).await.map(Json)
}

async fn event(
    State(state): State<ApiState>,
    ApiPath(id): ApiPath<u64>,
) -> ApiResult<crate::model::Event> {
    let store = Arc::clone(&state.store);
    blocking(move || {
        store
            .event(id)?
            .ok_or_else(|| ApiError(StatusCode::NOT_FOUND, format!("no event with id {id}")))
    })
    .await
    .map(Json)
}

/// New and updated events, one JSON line each, as they are stored.
async fn event_stream(State(state): State<ApiState>) -> Response {
    let lines = crate::views::notice_lines(
        state.events.subscribe(),
        state.stopping.clone(),
        "API event stream",
    );
    (
        [(header::CONTENT_TYPE, "application/x-ndjson")],
        axum::body::Body::from_stream(lines),
    )
        .into_response()
}

#[derive(Deserialize)]
struct AlertsParams {
    state: Option<String>,
    limit: Option<usize>,
}

async fn alerts(
    State(state): State<ApiState>,
    ApiQuery(p): ApiQuery<AlertsParams>,
) -> ApiResult<Vec<crate::model::Alert>> {
    let which = match p.state.as_deref() {
        None | Some("pending") => AlertState::Pending,
        Some("dead") => AlertState::Dead,
        Some(other) => {
            return Err(ApiError(
                StatusCode::BAD_REQUEST,
                format!("state must be pending or dead, not {other:?}"),
            ))
        }
    };
    let store = Arc::clone(&state.store);
    let limit = p.limit.unwrap_or(usize::MAX);
    blocking(move || Ok(store.list_alerts(which, limit)?))
        .await
        .map(Json)
}

async fn replay(
    State(state): State<ApiState>,
    ApiPath(id): ApiPath<u64>,
) -> ApiResult<serde_json::Value> {
    let store = Arc::clone(&state.store);
    let replayed = blocking(move || Ok(store.replay_alert(id, Utc::now())?)).await?;
    if !replayed {
        return Err(ApiError(
            StatusCode::NOT_FOUND,
            format!("no dead alert with id {id}"),
        ));
    }
    state.outbox.notify_one();
    Ok(Json(serde_json::json!({ "replayed": 1 })))
}

async fn replay_dead(State(state): State<ApiState>) -> ApiResult<serde_json::Value> {
    let store = Arc::clone(&state.store);
    let n = blocking(move || Ok(store.replay_dead_alerts(Utc::now())?)).await?;
    state.outbox.notify_one();
    Ok(Json(serde_json::json!({ "replayed": n })))
}

/// `POST /api/v1/feeds/{id}/poll`: the feed is polled at once (unless a poll of it is
/// already in flight, which is as good).
async fn poll_feed(
    State(state): State<ApiState>,
    Path(id): Path<String>,
) -> ApiResult<serde_json::Value> {
    if state.config.borrow().feed(&id).is_none() {
        return Err(ApiError(
            StatusCode::NOT_FOUND,
            format!("no feed {id:?} in the running config"),
        ));
    }
    state.poll_now.send(id.clone()).map_err(|_| {
        ApiError(
            StatusCode::SERVICE_UNAVAILABLE,
            "the daemon is stopping".into(),
        )
    })?;
    Ok(Json(serde_json::json!({ "poll": "requested", "feed": id })))
}

async fn reload(State(state): State<ApiState>) -> ApiResult<serde_json::Value> {
    state.reload.send(()).map_err(|_| {
        ApiError(
            StatusCode::SERVICE_UNAVAILABLE,
            "the daemon is stopping".into(),
        )
    })?;
    Ok(Json(serde_json::json!({ "reload": "requested" })))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Serves `router` on 127.0.0.1 port 0 with the real serve loop; the base URL and
    /// the means to stop it.
    async fn serve_on_loopback(
        router: Router,
    ) -> (
        String,
        tokio::sync::oneshot::Sender<()>,
        tokio::task::JoinHandle<()>,
    ) {
        let listener = bind("127.0.0.1:0".parse().unwrap()).await.unwrap();
        let base = format!("http://{}", listener.local_addr().unwrap());
        let (stop_tx, stop_rx) = tokio::sync::oneshot::channel::<()>();
        let limits = server::ConnectionLimits {
            header_read_timeout: std::time::Duration::from_secs(5),
            max_connections: 4,
        };
        let served = tokio::spawn(server::serve(listener, router, limits, async move {
            let _ = stop_rx.await;
        }));
        (base, stop_tx, served)
    }

    #[tokio::test]
    async fn errors_that_are_not_json_yet_are_rewritten_as_json() {
        let router = Router::new()
            .route(
                "/plain",
                get(|| async { (StatusCode::IM_A_TEAPOT, "short and stout\n") }),
            )
            .route("/empty", get(|| async { StatusCode::BAD_GATEWAY }))
            .route(
                "/already",
                get(|| async { ApiError::new(StatusCode::CONFLICT, "kept as it is") }),
            )
            .route("/fine", get(|| async { "plain success stays\n" }))
            .layer(middleware::from_fn(errors_as_json));
        let (base, stop, served) = serve_on_loopback(router).await;
        let client = reqwest::Client::new();
        for (path, status, message) in [
            ("/plain", 418, "short and stout"),
            ("/empty", 502, "bad gateway"),
            ("/already", 409, "kept as it is"),
        ] {
            let response = client.get(format!("{base}{path}")).send().await.unwrap();
            assert_eq!(response.status().as_u16(), status, "{path}");
            assert_eq!(
                response.headers()[header::CONTENT_TYPE],
                "application/json",
                "{path}"
            );
            let body: serde_json::Value =
                serde_json::from_slice(&response.bytes().await.unwrap()).unwrap();
            assert_eq!(body, serde_json::json!({ "error": message }), "{path}");
        }
        let fine = client.get(format!("{base}/fine")).send().await.unwrap();
        assert_eq!(fine.status(), StatusCode::OK);
        assert_eq!(fine.text().await.unwrap(), "plain success stays\n");
        // The serve loop returns once asked to stop and its connections have closed.
        drop(client);
        stop.send(()).unwrap();
        tokio::time::timeout(std::time::Duration::from_secs(10), served)
            .await
            .expect("the serve loop stops when asked")
            .unwrap();
    }
}
