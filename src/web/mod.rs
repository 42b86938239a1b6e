//! The web view: server-rendered, read-only HTML pages over the store, served by the
//! daemon's endpoint beside the JSON API (which mounts [`router`]).
//!
//! - `GET /` — events, newest first, filtered by `type`, `country`, `modality`,
//!   `min_confidence`, `from` and `to` (anchor days) and `limit`, all in the URL;
//! - `GET /events/{id}` — one event: parties, date, place, modality history, and every
//!   source with its evidence sentence highlighted in the story's text;
//! - `GET /stories/{id}` — a story's sources, revisions and events;
//! - `GET /feeds`, `GET /alerts` — feed health, pending and dead alerts;
//! - `GET /timeline`, `GET /map`, `GET /countries/{code}` — events per day and type, a
//!   world map of event counts with meetings drawn between capitals, one country's
//!   counterparts ranked;
//! - `GET /live` — the event stream (NDJSON, as `/api/v1/events/stream`) for the pages'
//!   script, and `GET /fragments/event-row/{id}` — one events-table row rendered for it;
//! - `GET /assets/…` — the stylesheet and the script, embedded in the binary;
//! - `GET /login` — trades a token for a cookie (see [`auth`]).
//!
//! Every page goes through the same read paths as the JSON API (`Store::events` and its
//! filters). Feed text is hostile: every page is built with `maud`, which escapes every
//! spliced value; nothing from the store is ever spliced unescaped, and article links are
//! drawn only for `http(s)` URLs.

pub mod auth;
pub mod charts;
mod evidence;
mod filters;
mod layout;
mod pages;
pub mod world;

use std::sync::Arc;

use axum::extract::{Path, Query, Request, State};
use axum::http::{header, StatusCode};
use axum::middleware::{self, Next};
use axum::response::{Html, IntoResponse, Response};
use axum::routing::get;
use axum::Router;
use tokio::sync::{broadcast, watch};

use crate::config::{Config, Secret};
use crate::store::{Store, StoreError};
use crate::views::EventNotice;

pub use filters::{DayRange, EventFilters, FilterError};
pub use pages::render_events_page;

/// What the pages share: the daemon's store, its live config and event broadcast.
#[derive(Clone)]
pub struct WebState {
    pub store: Arc<Store>,
    pub config: watch::Receiver<Arc<Config>>,
    pub events: broadcast::Sender<EventNotice>,
    /// Turns true when the daemon shuts down: open live streams end then.
    pub stopping: watch::Receiver<bool>,
    /// The API's bearer token; the pages require it too (as a header or the cookie
    /// `/login` sets).
    pub token: Option<Arc<Secret>>,
}

/// Why a page could not be shown.
#[derive(Debug, thiserror::Error)]
pub enum WebError {
    #[error(transparent)]
    Filter(#[from] FilterError),
    #[error("{0}")]
    NotFound(String),
    #[error("the store could not be read: {0}")]
    Store(#[from] StoreError),
    #[error("the page could not be built: {0}")]
    Task(String),
}

impl WebError {
    fn status(&self) -> StatusCode {
        match self {
            WebError::Filter(_) => StatusCode::BAD_REQUEST,
            WebError::NotFound(_) => StatusCode::NOT_FOUND,
            WebError::Store(_) | WebError::Task(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }
}

impl IntoResponse for WebError {
    fn into_response(self) -> Response {
        let status = self.status();
        let page = layout::error_page(status, &self.to_string());
        (status, Html(page.into_string())).into_response()
    }
}

/// Runs blocking store reads and the rendering off the async workers.
async fn blocking(
    f: impl FnOnce() -> Result<maud::Markup, WebError> + Send + 'static,
) -> Result<Html<String>, WebError> {
    tokio::task::spawn_blocking(f)
        .await
        .map_err(|e| WebError::Task(e.to_string()))?
        .map(|m| Html(m.into_string()))
}

/// The web view's routes, with their state; the token rule applies to all but `/login`
/// and `/assets/`.
pub fn router(state: WebState) -> Router {
    let guarded = Router::new()
        .route("/", get(events_page))
        .route("/events/{id}", get(event_page))
        .route("/stories/{id}", get(story_page))
        .route("/feeds", get(feeds_page))
        .route("/alerts", get(alerts_page))
        .route("/timeline", get(timeline_page))
        .route("/map", get(map_page))
        .route("/countries/{code}", get(country_page))
        .route("/fragments/event-row/{id}", get(event_row))
        .route("/live", get(live))
        .layer(middleware::from_fn_with_state(
            state.clone(),
            require_viewer,
        ));
    Router::new()
        .merge(guarded)
        .route("/login", get(auth::login))
        .route("/assets/style.css", get(style))
        .route("/assets/app.js", get(script))
        .with_state(state)
}

async fn require_viewer(State(state): State<WebState>, request: Request, next: Next) -> Response {
    if let Some(token) = &state.token {
        if !auth::admits(token.expose(), request.headers()) {
            return auth::login_page_response(
                StatusCode::UNAUTHORIZED,
                request.uri().path_and_query().map(|p| p.as_str()),
                None,
            );
        }
    }
    next.run(request).await
}

const STYLE: &str = include_str!("assets/style.css");
const SCRIPT: &str = include_str!("assets/app.js");

async fn style() -> Response {
    (
        [
            (header::CONTENT_TYPE, "text/css; charset=utf-8"),
            (header::CACHE_CONTROL, "no-cache"),
        ],
        STYLE,
    )
        .into_response()
}

async fn script() -> Response {
    (
        [
            (header::CONTENT_TYPE, "text/javascript; charset=utf-8"),
            (header::CACHE_CONTROL, "no-cache"),
        ],
        SCRIPT,
    )
        .into_response()
}

type Params = Query<Vec<(String, String)>>;

async fn events_page(
    State(state): State<WebState>,
    Query(params): Params,
) -> Result<Html<String>, WebError> {
    let filters = EventFilters::parse(&params)?;
    let store = Arc::clone(&state.store);
    blocking(move || render_events_page(&store, &filters)).await
}

fn id_of(text: &str, what: &str) -> Result<u64, WebError> {
    text.parse()
        .map_err(|_| WebError::NotFound(format!("no {what} with id {text:?}")))
}

async fn event_page(
    State(state): State<WebState>,
    Path(id): Path<String>,
) -> Result<Html<String>, WebError> {
    let id = id_of(&id, "event")?;
    let store = Arc::clone(&state.store);
    blocking(move || pages::event_page(&store, id)).await
}

async fn story_page(
    State(state): State<WebState>,
    Path(id): Path<String>,
) -> Result<Html<String>, WebError> {
    let id = id_of(&id, "story")?;
    let store = Arc::clone(&state.store);
    blocking(move || pages::story_page(&store, id)).await
}

async fn feeds_page(State(state): State<WebState>) -> Result<Html<String>, WebError> {
    let config = state.config.borrow().clone();
    let store = Arc::clone(&state.store);
    blocking(move || pages::feeds_page(&config, &store)).await
}

async fn alerts_page(State(state): State<WebState>) -> Result<Html<String>, WebError> {
    let store = Arc::clone(&state.store);
    blocking(move || pages::alerts_page(&store)).await
}

async fn timeline_page(
    State(state): State<WebState>,
    Query(params): Params,
) -> Result<Html<String>, WebError> {
    let range = filters::DayRange::parse(&params)?;
    let store = Arc::clone(&state.store);
    blocking(move || charts::timeline_page(&store, range)).await
}

async fn map_page(
    State(state): State<WebState>,
    Query(params): Params,
) -> Result<Html<String>, WebError> {
    let range = filters::DayRange::parse(&params)?;
    let links = filters::single(&params, "links")?;
    let store = Arc::clone(&state.store);
    blocking(move || charts::map_page(&store, range, links)).await
}

async fn country_page(
    State(state): State<WebState>,
    Path(code): Path<String>,
    Query(params): Params,
) -> Result<Html<String>, WebError> {
    let code = filters::country_code(&code)?;
    let range = filters::DayRange::parse(&params)?;
    let store = Arc::clone(&state.store);
    blocking(move || charts::country_page(&store, &code, range)).await
}

/// One events-table row for the live script: 204 when the event does not pass the
/// filters the page shows (given as the same query parameters).
async fn event_row(
    State(state): State<WebState>,
    Path(id): Path<String>,
    Query(params): Params,
) -> Result<Response, WebError> {
    let id = id_of(&id, "event")?;
    let filters = EventFilters::parse(&params)?;
    let store = Arc::clone(&state.store);
    let row = tokio::task::spawn_blocking(move || -> Result<_, WebError> {
        let event = store
            .event(id)?
            .ok_or_else(|| WebError::NotFound(format!("no event with id {id}")))?;
        Ok(filters
            .matches(&event)
            .then(|| pages::event_row(&event).into_string()))
    })
    .await
    .map_err(|e| WebError::Task(e.to_string()))??;
    Ok(match row {
        Some(html) => Html(html).into_response(),
        None => StatusCode::NO_CONTENT.into_response(),
    })
}

/// New and updated events, one JSON line each, as they are stored (the API's event
/// stream, under the pages' token rule).
async fn live(State(state): State<WebState>) -> Response {
    let lines = crate::views::notice_lines(
        state.events.subscribe(),
        state.stopping.clone(),
        "web live updates",
    );
    (
        [
            (header::CONTENT_TYPE, "application/x-ndjson"),
            (header::CACHE_CONTROL, "no-store"),
        ],
        axum::body::Body::from_stream(lines),
    )
        .into_response()
}
