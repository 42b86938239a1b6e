//! Where read commands get their data: the store itself when no daemon holds it, else
//! the running daemon's read API (sled admits one process per store).

use std::io::Write;
use std::path::Path;

use anyhow::{bail, Context, Result};
use chrono::{NaiveDate, Utc};
use futures_util::StreamExt;
use serde::de::DeserializeOwned;

use tidings::config::Config;
use tidings::daemon::{DaemonInfo, DAEMON_FILE};
use tidings::model::Modality;
use tidings::model::{Alert, Event, Story};
use tidings::store::{AlertState, EventQuery, Store, StoreError, StoryQuery};
use tidings::views::{self, EventNotice, FeedStatus, SinkStatus};

pub enum Reader {
    /// No store yet: every listing is empty.
    Empty,
    Local(Box<Store>),
    Remote(Remote),
}

impl Reader {
    /// Opens the store in `data_dir`; if a running daemon holds it, talks to the daemon.
    pub fn open(data_dir: &Path, config: &Config) -> Result<Reader> {
        // A shared database is read directly, whether daemons run or not.
        if let Some(store) = super::postgres_store(config)? {
            return Ok(Reader::Local(Box::new(store)));
        }
        let path = data_dir.join("store");
        // "--data-dir /etc/passwd": a mistake, not an empty store.
        if data_dir.exists() && !data_dir.is_dir() {
            bail!(
                "the data directory {} is not a directory (pass --data-dir a directory)",
                data_dir.display()
            );
        }
        if !path.exists() {
            let _ = writeln!(
                std::io::stderr(),
                "no store at {} yet: run `tidings run` first",
                path.display()
            );
            return Ok(Reader::Empty);
        }
        match Store::open(&path) {
            Ok(store) => Ok(Reader::Local(Box::new(store))),
            Err(StoreError::InUse { .. }) => Ok(Reader::Remote(Remote::find(data_dir, config)?)),
            Err(e) => Err(e.into()),
        }
    }

    pub fn feeds(&self, config: &Config) -> Result<Vec<FeedStatus>> {
        match self {
            Reader::Empty => Ok(views::feed_statuses(config, None)?),
            Reader::Local(s) => Ok(views::feed_statuses(config, Some(s))?),
            Reader::Remote(r) => r.get("/api/v1/feeds", &[]),
        }
    }

    pub fn stories(&self, q: &StoryQuery) -> Result<Vec<Story>> {
        match self {
            Reader::Empty => Ok(Vec::new()),
            Reader::Local(s) => Ok(s.stories(q)?),
            Reader::Remote(r) => {
                let mut params = Vec::new();
                push(&mut params, "feed", q.feed.clone());
                push(&mut params, "since", q.since.map(|t| t.to_rfc3339()));
                push(&mut params, "limit", q.limit.map(|n| n.to_string()));
                r.get("/api/v1/stories", &params)
            }
        }
    }

    pub fn story(&self, id: u64) -> Result<Option<Story>> {
        match self {
            Reader::Empty => Ok(None),
            Reader::Local(s) => Ok(s.story(id)?),
            Reader::Remote(r) => r.get_optional(&format!("/api/v1/stories/{id}")),
        }
    }

    pub fn events(&self, q: &EventQuery) -> Result<Vec<Event>> {
        match self {
            Reader::Empty => Ok(Vec::new()),
            Reader::Local(s) => Ok(s.events(q)?),
            Reader::Remote(r) => {
                let mut params = Vec::new();
                push(&mut params, "type", q.event_type.clone());
                push(&mut params, "country", q.country.clone());
                push(
                    &mut params,
                    "since",
                    q.since.map(|d: NaiveDate| d.to_string()),
                );
                push(
                    &mut params,
                    "modality",
                    q.modality.map(|m: Modality| m.as_str().to_string()),
                );
                push(&mut params, "limit", q.limit.map(|n| n.to_string()));
                r.get("/api/v1/events", &params)
            }
        }
    }

    pub fn event(&self, id: u64) -> Result<Option<Event>> {
        match self {
            Reader::Empty => Ok(None),
            Reader::Local(s) => Ok(s.event(id)?),
            Reader::Remote(r) => r.get_optional(&format!("/api/v1/events/{id}")),
        }
    }

    pub fn alerts(&self, state: AlertState, limit: usize) -> Result<Vec<Alert>> {
        match self {
            Reader::Empty => Ok(Vec::new()),
            Reader::Local(s) => Ok(s.list_alerts(state, limit)?),
            Reader::Remote(r) => {
                let state = match state {
                    AlertState::Pending => "pending",
                    AlertState::Dead => "dead",
                };
                r.get(
                    "/api/v1/alerts",
                    &[("state", state.to_string()), ("limit", limit.to_string())],
                )
            }
        }
    }

    /// Each configured sink's circuit breaker.
    pub fn sinks(&self, config: &Config) -> Result<Vec<SinkStatus>> {
        match self {
            Reader::Empty => Ok(views::sink_statuses(config, None)?),
            Reader::Local(s) => Ok(views::sink_statuses(config, Some(s))?),
            Reader::Remote(r) => r.get("/api/v1/sinks", &[]),
        }
    }

    /// Puts a dead alert back in the outbox; `Ok(false)` if there is no such dead alert.
    pub fn replay(&self, id: u64) -> Result<bool> {
        match self {
            Reader::Empty => Ok(false),
            Reader::Local(s) => Ok(s.replay_alert(id, Utc::now())?),
            Reader::Remote(r) => {
                let answer: Option<serde_json::Value> =
                    r.post_optional(&format!("/api/v1/alerts/{id}/replay"))?;
                Ok(answer.is_some())
            }
        }
    }

    pub fn replay_dead(&self) -> Result<usize> {
        match self {
            Reader::Empty => Ok(0),
            Reader::Local(s) => Ok(s.replay_dead_alerts(Utc::now())?),
            Reader::Remote(r) => {
                let answer: Option<serde_json::Value> =
                    r.post_optional("/api/v1/alerts/replay-dead")?;
                Ok(answer
                    .and_then(|v| v.get("replayed").and_then(|n| n.as_u64()))
                    .unwrap_or(0) as usize)
            }
        }
    }
}

fn push(params: &mut Vec<(&'static str, String)>, key: &'static str, value: Option<String>) {
    if let Some(v) = value {
        params.push((key, v));
    }
}

/// A running daemon's read API.
pub struct Remote {
    base: String,
    token: Option<String>,
    client: reqwest::Client,
    runtime: tokio::runtime::Runtime,
}

impl Remote {
    /// The daemon that holds the store in `data_dir`, from the file it wrote there.
    pub fn find(data_dir: &Path, config: &Config) -> Result<Remote> {
        let file = data_dir.join(DAEMON_FILE);
        let text = std::fs::read_to_string(&file).with_context(|| {
            format!(
                "the store in {} is held by another process, and {} does not say how to reach its API (is `tidings run --once` running?)",
                data_dir.display(),
                file.display()
            )
        })?;
        let info: DaemonInfo = serde_json::from_str(&text)
            .with_context(|| format!("{} is not a valid daemon file", file.display()))?;
        Remote::new(&info.api, config)
    }

    pub fn new(base: &str, config: &Config) -> Result<Remote> {
        // Only the API token is read, and only because this command talks to the API.
        let token = config
            .api
            .token
            .as_ref()
            .map(|r| r.resolve())
            .transpose()
            .context("the running daemon's API requires its bearer token")?;
        Ok(Remote {
            base: base.trim_end_matches('/').to_string(),
            token: token.map(|t| t.expose().to_string()),
            client: reqwest::Client::builder()
                .user_agent(config.http.user_agent.clone())
                .build()
                .context("cannot build the HTTP client")?,
            runtime: tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .context("cannot start the async runtime")?,
        })
    }

    fn request(&self, method: reqwest::Method, path: &str) -> reqwest::RequestBuilder {
        let r = self.client.request(method, format!("{}{path}", self.base));
        match &self.token {
            Some(t) => r.bearer_auth(t),
            None => r,
        }
    }

    fn get<T: DeserializeOwned>(&self, path: &str, params: &[(&str, String)]) -> Result<T> {
        self.get_optional_with(path, params)?
            .with_context(|| format!("the daemon's API has nothing at {path}"))
    }

    fn get_optional<T: DeserializeOwned>(&self, path: &str) -> Result<Option<T>> {
        self.get_optional_with(path, &[])
    }

    fn get_optional_with<T: DeserializeOwned>(
        &self,
        path: &str,
        params: &[(&str, String)],
    ) -> Result<Option<T>> {
        let request = self.request(reqwest::Method::GET, path).query(params);
        self.runtime.block_on(answer(request, &self.base))
    }

    /// A write: marked with `X-Tidings-Request` so the endpoint's guard against
    /// cross-site writes from browsers lets it through.
    fn post_optional<T: DeserializeOwned>(&self, path: &str) -> Result<Option<T>> {
        let request = self
            .request(reqwest::Method::POST, path)
            .header(tidings::api::access::WRITE_MARKER_HEADER, "1");
        self.runtime.block_on(answer(request, &self.base))
    }

    /// Asks the daemon to poll feed `id` now.
    pub fn poll(&self, id: &str) -> Result<()> {
        let answer: Option<serde_json::Value> =
            self.post_optional(&format!("/api/v1/feeds/{id}/poll"))?;
        answer.map(|_| ()).with_context(|| {
            format!("the running daemon has no feed {id:?} (was the config reloaded?)")
        })
    }

    /// Asks the daemon to reload its config file.
    pub fn reload(&self) -> Result<()> {
        let answer: Option<serde_json::Value> = self.post_optional("/api/v1/reload")?;
        answer
            .map(|_| ())
            .context("this daemon's API has no reload (is it an older tidings?)")
    }

    /// The daemon's base URL.
    pub fn base(&self) -> &str {
        &self.base
    }

    /// Whether the daemon answers `/readyz` with 200.
    pub fn ready(&self) -> bool {
        let request = self.client.get(format!("{}/readyz", self.base));
        self.runtime
            .block_on(async { request.send().await.ok() })
            .is_some_and(|r| r.status().is_success())
    }

    /// Streams new and updated events to `each` until the daemon ends the stream (it
    /// stopped: `Ok`) or `each` fails. A stream that breaks off is an error.
    pub fn follow(
        &self,
        connected: impl FnOnce(),
        mut each: impl FnMut(EventNotice) -> Result<()>,
    ) -> Result<()> {
        self.runtime.block_on(async {
            let response = self
                .request(reqwest::Method::GET, "/api/v1/events/stream")
                .send()
                .await
                .with_context(|| format!("cannot reach the daemon at {}", self.base))?;
            if !response.status().is_success() {
                bail!("the daemon answered {}", response.status());
            }
            connected();
            let mut body = response.bytes_stream();
            let mut buffer: Vec<u8> = Vec::new();
            while let Some(chunk) = body.next().await {
                let chunk = chunk.context("the event stream broke off")?;
                buffer.extend_from_slice(&chunk);
                while let Some(end) = buffer.iter().position(|&b| b == b'\n') {
                    let line: Vec<u8> = buffer.drain(..=end).collect();
                    if line.iter().all(u8::is_ascii_whitespace) {
                        continue;
                    }
                    let notice: EventNotice = serde_json::from_slice(&line)
                        .context("the event stream sent a line that is not an event")?;
                    each(notice)?;
                }
            }
            Ok(())
        })
    }
}

async fn answer<T: DeserializeOwned>(
    request: reqwest::RequestBuilder,
    base: &str,
) -> Result<Option<T>> {
    let response = request
        .send()
        .await
        .with_context(|| format!("cannot reach the running daemon's API at {base}"))?;
    let status = response.status();
    if status == reqwest::StatusCode::NOT_FOUND {
        return Ok(None);
    }
    let body = response
        .bytes()
        .await
        .context("the daemon's answer broke off")?;
    if !status.is_success() {
        let message = serde_json::from_slice::<serde_json::Value>(&body)
            .ok()
            .and_then(|v| v.get("error").and_then(|e| e.as_str()).map(str::to_string))
            .unwrap_or_else(|| String::from_utf8_lossy(&body).into_owned());
        bail!("the daemon's API answered {status}: {message}");
    }
    Ok(Some(serde_json::from_slice(&body).context(
        "the daemon's API sent an answer this CLI cannot read",
    )?))
}
