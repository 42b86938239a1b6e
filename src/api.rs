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
//!   `POST /api/v1/reload` — the only writes: `tidings alerts replay` while the daemon
//!   holds the store, and a config reload (as SIGHUP) after `tidings feeds add` and
//!   friends edited the config file.
//!
//! When a token is configured, every `/api/` route requires `Authorization: Bearer`.

use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use axum::extract::{Path, Query, Request, State};
use axum::http::{header, StatusCode};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use chrono::{DateTime, NaiveDate, Utc};
use serde::Deserialize;
use sha2::{Digest, Sha256};
use tokio::sync::{broadcast, watch, Notify};

use crate::config::{Config, Secret};
use crate::metrics::Metrics;
use crate::model::Modality;
use crate::store::{AlertState, EventQuery, Store, StoreError, StoryQuery};
use crate::views::{self, EventNotice};

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
        .route("/reload", post(reload))
        .layer(middleware::from_fn_with_state(state.clone(), require_token));
    Router::new()
        .route("/livez", get(|| async { "ok\n" }))
        .route("/readyz", get(readyz))
        .route("/metrics", get(metrics))
        .nest("/api/v1", api)
        .with_state(state)
}

/// An API error: status and a one-line JSON message.
struct ApiError(StatusCode, String);

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

async fn require_token(State(state): State<ApiState>, request: Request, next: Next) -> Response {
    if let Some(token) = &state.token {
        let given = request
            .headers()
            .get(header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.strip_prefix("Bearer "))
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
        (StatusCode::SERVICE_UNAVAILABLE, "not ready\n").into_response()
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
    Query(p): Query<StoriesParams>,
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
    Path(id): Path<u64>,
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
    Query(p): Query<EventsParams>,
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
    Path(id): Path<u64>,
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
    let receiver = state.events.subscribe();
    let lines = futures_util::stream::unfold(receiver, |mut rx| async move {
        loop {
            match rx.recv().await {
                Ok(notice) => {
                    let mut line = serde_json::to_vec(&notice).unwrap_or_default();
                    line.push(b'\n');
                    return Some((Ok::<_, std::convert::Infallible>(line), rx));
                }
                // A slow reader missed some: go on with the next.
                Err(broadcast::error::RecvError::Lagged(missed)) => {
                    tracing::warn!(missed, "event stream reader fell behind");
                }
                Err(broadcast::error::RecvError::Closed) => return None,
            }
        }
    });
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
    Query(p): Query<AlertsParams>,
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
    Path(id): Path<u64>,
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

async fn reload(State(state): State<ApiState>) -> ApiResult<serde_json::Value> {
    state.reload.send(()).map_err(|_| {
        ApiError(
            StatusCode::SERVICE_UNAVAILABLE,
            "the daemon is stopping".into(),
        )
    })?;
    Ok(Json(serde_json::json!({ "reload": "requested" })))
}
