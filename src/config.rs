//! Configuration: the TOML file, its defaults, and validation with file:line errors.
//!
//! The file is read into "raw" structs that keep source spans, then checked and turned
//! into [`Config`], whose values are ready to use (durations parsed, URLs parsed, per-feed
//! intervals filled in from the defaults). A config that fails any check is refused whole.

use std::collections::HashSet;
use std::fmt;
use std::net::SocketAddr;
use std::ops::Range;
use std::path::{Path, PathBuf};
use std::time::Duration;

use serde::{Deserialize, Deserializer};
use toml::Spanned;
use url::Url;

use crate::diagnostics::invalid_at;
pub use crate::diagnostics::ConfigError;

/// How long the store keeps what (`[retention]`); `None` keeps it forever. Ages are
/// counted from when a story was first seen, an event last updated, an alert
/// dead-lettered.
#[derive(Debug, Clone, PartialEq)]
pub struct RetentionSettings {
    /// After this, a story loses its text and revisions; title, URL and sources stay.
    pub story_text: Option<Duration>,
    /// After this, a story's GUID, URL and content-hash keys and its near-duplicate
    /// signature go: the story is no longer matched by dedup.
    pub story_identity: Option<Duration>,
    /// After this, a story no event cites is removed whole (a cited one stays, without
    /// its text).
    pub stories: Option<Duration>,
    /// After this (since its last update), an event is removed with its evidence.
    pub events: Option<Duration>,
    /// After this (since it was dead-lettered), a dead alert is removed.
    pub dead_alerts: Option<Duration>,
    /// How often the daemon prunes.
    pub prune_every: Duration,
    /// Records handled per write (the writer lock is held for one batch at a time).
    pub batch: usize,
}

impl Default for RetentionSettings {
    fn default() -> Self {
        const DAY: u64 = 24 * 3600;
        RetentionSettings {
            story_text: Some(Duration::from_secs(90 * DAY)),
            story_identity: Some(Duration::from_secs(30 * DAY)),
            stories: Some(Duration::from_secs(365 * DAY)),
            events: None,
            dead_alerts: Some(Duration::from_secs(30 * DAY)),
            prune_every: Duration::from_secs(600),
            batch: 256,
        }
    }
}

/// The default configuration shipped with tidings, embedded in the binary.
pub const DEFAULT_CONFIG: &str = include_str!("../config/tidings.toml");

/// Name used for the embedded default in messages.
pub const EMBEDDED_NAME: &str = "<embedded default config/tidings.toml>";

/// A validated configuration.
#[derive(Debug, Clone)]
pub struct Config {
    /// Where the config came from: a file path or [`EMBEDDED_NAME`].
    pub origin: String,
    /// Data directory from the config, if set; `--data-dir` overrides it.
    pub data_dir: Option<PathBuf>,
    pub daemon: DaemonSettings,
    pub http: HttpSettings,
    pub detection: DetectionSettings,
    /// How article links are made canonical.
    pub urls: UrlSettings,
    pub api: ApiSettings,
    pub alerts: AlertSettings,
    /// How long the store keeps what (`[retention]`).
    pub retention: RetentionSettings,
    /// Which backend holds the data (`[store]`).
    pub store: StoreSettings,
    pub sinks: Vec<SinkConfig>,
    pub feeds: Vec<FeedConfig>,
    /// Feed id → position in `feeds`.
    feed_index: std::collections::HashMap<String, usize>,
}

/// The daemon's HTTP endpoint: health, metrics and the read API.
#[derive(Debug, Clone, PartialEq)]
pub struct ApiSettings {
    pub listen: SocketAddr,
    /// Bearer token the read API requires; required when `listen` is not loopback.
    pub token: Option<SecretRef>,
    /// Names the `Host` header may carry besides the listen address (and, on loopback,
    /// `localhost`): a reverse proxy's name, say. Browsers on this machine must not reach
    /// the API through a name an attacker controls (DNS rebinding).
    pub allowed_hosts: Vec<HostAndPort>,
    /// Longest time a client may take to send a request's headers (and an idle
    /// keep-alive connection may wait for the next request) before it is closed.
    pub header_read_timeout: Duration,
    /// Most connections served at once; more wait in the listen backlog.
    pub max_connections: usize,
}

/// A host as the `Host` header and `api.allowed_hosts` write it: a lowercase name, IPv4
/// address or bracketed IPv6 address, and maybe a port.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HostAndPort {
    /// Lowercase, without a trailing dot; IPv6 addresses keep their brackets.
    pub name: String,
    pub port: Option<u16>,
}

impl HostAndPort {
    /// Reads `name`, `name:port`, `[v6]` or `[v6]:port`; `None` for anything else (a
    /// scheme, a path, user info, spaces, an empty name or a bad port).
    pub fn parse(text: &str) -> Option<HostAndPort> {
        let (name, port) = if let Some(rest) = text.strip_prefix('[') {
            let (inside, after) = rest.split_once(']')?;
            inside.parse::<std::net::Ipv6Addr>().ok()?;
            let port = match after {
                "" => None,
                p => Some(p.strip_prefix(':')?),
            };
            (format!("[{}]", inside.to_ascii_lowercase()), port)
        } else {
            let (name, port) = match text.split_once(':') {
                Some((n, p)) => (n, Some(p)),
                None => (text, None),
            };
            let name = name.strip_suffix('.').unwrap_or(name);
            let valid = |c: char| c.is_ascii_alphanumeric() || c == '-' || c == '.' || c == '_';
            if name.is_empty() || !name.chars().all(valid) {
                return None;
            }
            (name.to_ascii_lowercase(), port)
        };
        let port = match port {
            None => None,
            Some(p) if !p.is_empty() && p.bytes().all(|b| b.is_ascii_digit()) => {
                Some(p.parse::<u16>().ok()?)
            }
            Some(_) => return None,
        };
        Some(HostAndPort { name, port })
    }
}

impl fmt::Display for HostAndPort {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.port {
            Some(port) => write!(f, "{}:{port}", self.name),
            None => f.write_str(&self.name),
        }
    }
}

/// Where the data lives (`[store]`).
#[derive(Debug, Clone, PartialEq, Default)]
pub enum StoreSettings {
    /// The embedded sled store in the data directory (the default).
    #[default]
    Sled,
    /// A PostgreSQL database: its URL is a secret (it may hold a password).
    Postgres {
        url: SecretRef,
        /// Connections in the pool.
        max_connections: u32,
        /// How long a daemon's claim on a host, a feed or an alert lasts without renewal:
        /// a daemon that dies leaves its work to the others after this long.
        lease: Duration,
    },
}

/// The default `[store] lease`.
pub const DEFAULT_LEASE: Duration = Duration::from_secs(30);

/// How the outbox delivers alerts.
#[derive(Debug, Clone, PartialEq)]
pub struct AlertSettings {
    /// Longest time one delivery attempt may take.
    pub timeout: Duration,
    /// Waits between attempts: the n-th failure waits the n-th entry (the last repeats),
    /// each moved by up to ±`jitter` of itself.
    pub retry_delays: Vec<Duration>,
    pub jitter: f64,
    /// An alert not delivered this long after it was raised goes to the dead-letter list.
    pub max_age: Duration,
    /// A failing sink is paused as a whole (`alerts::breaker`): first for
    /// `sink_backoff_min`, doubling with each failed probe up to `sink_backoff_max`, each
    /// pause moved by up to ±`jitter` of itself.
    pub sink_backoff_min: Duration,
    pub sink_backoff_max: Duration,
    /// Whether significant updates (planned → occurred, → cancelled) raise alerts, for
    /// sinks that do not say.
    pub on_update: bool,
}

/// The shortest poll interval that is polite to a publisher; shorter ones are allowed
/// (a user's own server) but warned about.
pub const POLITE_MINIMUM: Duration = Duration::from_secs(60);

/// One place alerts go, and which events it wants.
#[derive(Debug, Clone, PartialEq)]
pub struct SinkConfig {
    /// Short stable identifier; alerts in the outbox refer to it.
    pub id: String,
    pub kind: crate::model::SinkKind,
    pub url: Url,
    /// Signing secret of a webhook sink (a `whsec_…` Standard Webhooks secret).
    pub secret: Option<SecretRef>,
    /// Bearer token for an ntfy server that requires one.
    pub token: Option<SecretRef>,
    /// ntfy topic.
    pub topic: Option<String>,
    pub filter: SinkFilter,
    pub on_update: bool,
    /// Where each filter value stands in the config file, for the checks that need the
    /// detector's data (event types, gazetteer).
    pub filter_places: FilterPlaces,
}

/// Where a value stands in its config file, for an error found after loading.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Place {
    pub file: String,
    pub line: usize,
    pub column: usize,
}

impl Place {
    /// An error at this place.
    pub fn error(&self, message: String) -> ConfigError {
        ConfigError::Invalid {
            file: self.file.clone(),
            line: self.line,
            column: self.column,
            message,
        }
    }
}

/// The places of a sink filter's values, in the order of [`SinkFilter`]'s lists.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct FilterPlaces {
    pub types: Vec<Place>,
    pub countries: Vec<Place>,
    pub actors: Vec<Place>,
}

/// Which events a sink wants; an empty list means any.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct SinkFilter {
    pub types: Vec<String>,
    /// ISO alpha-3 codes: the event must involve at least one.
    pub countries: Vec<String>,
    /// Official names (case-insensitive): the event must involve at least one.
    pub actors: Vec<String>,
    pub min_confidence: f32,
    pub modality: Vec<crate::model::Modality>,
    /// Categories of feeds (as written), and the feeds they stand for: the event must
    /// have a source from one of them.
    pub categories: Vec<String>,
    pub feeds: Vec<String>,
}

/// A secret's value, read from the environment or a file when it is needed. Never printed.
#[derive(Clone, PartialEq)]
pub struct Secret(String);

impl Secret {
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Secret(…)")
    }
}

/// Where a secret is kept. The config names it; nothing reads it while parsing, so
/// commands that only read the store work without access to the secrets.
#[derive(Debug, Clone, PartialEq)]
pub enum SecretSource {
    /// An environment variable's name.
    Env(String),
    /// A file's path (relative paths are resolved against the config file's directory).
    File(PathBuf),
}

/// A secret named by the config, and where: resolved by the daemon when it starts or
/// reloads, by `alerts test`, and by `check --secrets`.
#[derive(Debug, Clone, PartialEq)]
pub struct SecretRef {
    pub source: SecretSource,
    /// Where the config names it, for messages: `tidings.toml:9:14: sink "hook"`.
    pub named_at: String,
}

/// A secret that could not be read.
#[derive(Debug, thiserror::Error)]
#[error("{named_at}: {problem}")]
pub struct SecretError {
    pub named_at: String,
    pub problem: String,
}

impl SecretRef {
    /// Reads the secret now. Surrounding whitespace is dropped; an empty value is an error.
    pub fn resolve(&self) -> Result<Secret, SecretError> {
        let fail = |problem: String| SecretError {
            named_at: self.named_at.clone(),
            problem,
        };
        match &self.source {
            SecretSource::Env(name) => match std::env::var(name) {
                Ok(v) if !v.trim().is_empty() => Ok(Secret(v.trim().to_string())),
                _ => Err(fail(format!(
                    "environment variable {name} is not set or empty"
                ))),
            },
            SecretSource::File(path) => match std::fs::read_to_string(path) {
                Ok(v) if !v.trim().is_empty() => Ok(Secret(v.trim().to_string())),
                Ok(_) => Err(fail(format!("secret file {} is empty", path.display()))),
                Err(e) => Err(fail(format!(
                    "cannot read secret file {}: {e}",
                    path.display()
                ))),
            },
        }
    }

    /// What the reference names, for `check --secrets`: "environment variable X" or
    /// "file P". Never the value.
    pub fn describe(&self) -> String {
        match &self.source {
            SecretSource::Env(name) => format!("environment variable {name}"),
            SecretSource::File(path) => format!("file {}", path.display()),
        }
    }
}

/// Where the detector's data comes from; `None` means the embedded default.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct DetectionSettings {
    /// Directory with countries.toml, officials.toml, organizations.toml and roles.toml.
    pub gazetteer: Option<PathBuf>,
    /// Event type files.
    pub event_types: Option<Vec<PathBuf>>,
    /// Modality cue file.
    pub modality: Option<PathBuf>,
    /// Decision model file (written by `tidings train`).
    pub model: Option<PathBuf>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct DaemonSettings {
    /// Most fetches in flight at once, over all feeds.
    pub max_concurrent_fetches: usize,
    /// Poll interval for feeds that set none.
    pub default_interval: Duration,
    /// Each scheduled poll moves by a random amount up to this fraction of its interval.
    pub jitter: f64,
    /// Longest wait between retries of a failing feed.
    pub max_backoff: Duration,
    /// How long shutdown waits for in-flight polls before abandoning them.
    pub shutdown_grace: Duration,
    /// Whether intervals follow each feed's publishing rate (else each feed keeps its
    /// configured interval).
    pub adaptive: bool,
    /// Bounds of adaptive intervals. A feed whose configured interval lies outside them
    /// widens them for itself: the user allowed that interval.
    pub min_interval: Duration,
    pub max_interval: Duration,
    /// Most fetches in flight at once to one host.
    pub per_host_concurrency: usize,
    /// Least time between the starts of two requests to one host.
    pub per_host_spacing: Duration,
    /// Consecutive failures after which a feed shows as failing (it is still retried, at
    /// the capped backoff).
    pub failing_after: u32,
    /// Most entries taken from one response (feeds list newest first); the rest of an
    /// oversized feed is skipped, with a warning.
    pub max_entries: usize,
}

/// How article links are made canonical (`[urls]`).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct UrlSettings {
    /// Query parameters stripped from links on top of the built-in tracking list
    /// (`utm_*`, `fbclid`, `ref=rss`, …; see `normalise`).
    pub strip_params: Vec<String>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct HttpSettings {
    pub user_agent: String,
    pub connect_timeout: Duration,
    /// Longest silence between two reads of a response body.
    pub read_timeout: Duration,
    /// Longest time for a whole request, body included.
    pub total_timeout: Duration,
    /// Largest accepted body, counted after decompression.
    pub max_body_bytes: u64,
    pub max_redirects: usize,
    /// Longest pause a 429 or 503 `Retry-After` may impose, on a feed's host or on a
    /// sink; never longer than `daemon.max_backoff`.
    pub max_retry_after: Duration,
}

#[derive(Debug, Clone, PartialEq)]
pub struct FeedConfig {
    /// Short stable identifier (`[a-z0-9_-]+`), used as the feed's key in the store.
    pub id: String,
    pub name: Option<String>,
    pub url: Url,
    pub interval: Duration,
    /// The folder the feed is filed under ("News/World": folders nest with `/`), as
    /// OPML import keeps it; `feeds --category`, `events --category` and sinks'
    /// `categories` filter on it.
    pub category: Option<String>,
    /// The site the feed belongs to (OPML `htmlUrl`).
    pub site: Option<String>,
}

/// A duration written the human way in the file: "90s", "10m", "1h 30m".
#[derive(Debug, Clone, Copy, PartialEq)]
struct HumanDuration(Duration);

impl<'de> Deserialize<'de> for HumanDuration {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        // A duration is a string with its unit; a bare number gets the same hint.
        #[derive(Deserialize)]
        #[serde(untagged)]
        enum Written {
            Text(String),
            Number(f64),
            Other(toml::Value),
        }
        let text = match Written::deserialize(d)? {
            Written::Text(text) => text,
            Written::Number(n) => {
                return Err(serde::de::Error::custom(format!(
                "a duration needs its unit, as a string: write e.g. \"{n}s\" or \"{n}m\", not {n}"
            )))
            }
            Written::Other(v) => {
                return Err(serde::de::Error::custom(format!(
                "invalid duration {v}: write a string with a unit, e.g. \"90s\", \"10m\", \"1h\""
            )))
            }
        };
        humantime::parse_duration(&text)
            .map(HumanDuration)
            .map_err(|e| {
                serde::de::Error::custom(format!(
                    "invalid duration {text:?}: {e} (write e.g. \"90s\", \"10m\", \"1h\")"
                ))
            })
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawConfig {
    data_dir: Option<PathBuf>,
    #[serde(default)]
    daemon: RawDaemon,
    #[serde(default)]
    http: RawHttp,
    #[serde(default)]
    detection: RawDetection,
    #[serde(default)]
    urls: RawUrls,
    #[serde(default)]
    api: RawApi,
    #[serde(default)]
    alerts: RawAlerts,
    #[serde(default)]
    retention: RawRetention,
    #[serde(default)]
    store: RawStore,
    #[serde(default)]
    sinks: Vec<Spanned<RawSink>>,
    #[serde(default)]
    feeds: Vec<Spanned<RawFeed>>,
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct RawStore {
    backend: Option<Spanned<String>>,
    url_env: Option<Spanned<String>>,
    url_file: Option<Spanned<PathBuf>>,
    max_connections: Option<Spanned<u32>>,
    lease: Option<Spanned<HumanDuration>>,
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct RawApi {
    listen: Option<Spanned<String>>,
    token_env: Option<Spanned<String>>,
    token_file: Option<Spanned<PathBuf>>,
    allowed_hosts: Option<Vec<Spanned<String>>>,
    header_read_timeout: Option<Spanned<HumanDuration>>,
    max_connections: Option<Spanned<usize>>,
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct RawAlerts {
    timeout: Option<HumanDuration>,
    retry_delays: Option<Spanned<Vec<HumanDuration>>>,
    jitter: Option<Spanned<f64>>,
    max_age: Option<HumanDuration>,
    on_update: Option<bool>,
    sink_backoff_min: Option<Spanned<HumanDuration>>,
    sink_backoff_max: Option<Spanned<HumanDuration>>,
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct RawRetention {
    story_text: Option<Spanned<Keep>>,
    story_identity: Option<Spanned<Keep>>,
    stories: Option<Spanned<Keep>>,
    events: Option<Spanned<Keep>>,
    dead_alerts: Option<Spanned<Keep>>,
    prune_every: Option<Spanned<HumanDuration>>,
    batch: Option<Spanned<usize>>,
}

/// A retention period: a duration ("90d", "12h") or "forever" (`None`).
struct Keep(Option<Duration>);

impl<'de> Deserialize<'de> for Keep {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        #[derive(Deserialize)]
        #[serde(untagged)]
        enum Raw {
            Text(String),
            Number(i64),
        }
        match Raw::deserialize(d)? {
            Raw::Text(t) if t.trim() == "forever" => Ok(Keep(None)),
            Raw::Text(t) => humantime::parse_duration(&t)
                .map(|d| Keep(Some(d)))
                .map_err(|e| {
                    serde::de::Error::custom(format!(
                        "invalid retention {t:?}: {e} (write a duration such as \"90d\" or \"12h\", or \"forever\")"
                    ))
                }),
            Raw::Number(n) => Err(serde::de::Error::custom(format!(
                "a retention period needs its unit, as a string: write e.g. \"{n}d\", or \"forever\""
            ))),
        }
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawSink {
    id: Spanned<String>,
    kind: crate::model::SinkKind,
    url: Spanned<String>,
    secret_env: Option<Spanned<String>>,
    secret_file: Option<Spanned<PathBuf>>,
    token_env: Option<Spanned<String>>,
    token_file: Option<Spanned<PathBuf>>,
    topic: Option<String>,
    #[serde(default)]
    types: Vec<Spanned<String>>,
    #[serde(default)]
    countries: Vec<Spanned<String>>,
    #[serde(default)]
    actors: Vec<Spanned<String>>,
    #[serde(default)]
    categories: Vec<Spanned<String>>,
    min_confidence: Option<Spanned<f32>>,
    #[serde(default)]
    modality: Vec<crate::model::Modality>,
    on_update: Option<bool>,
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct RawDetection {
    gazetteer: Option<PathBuf>,
    event_types: Option<Vec<PathBuf>>,
    modality: Option<Spanned<PathBuf>>,
    model: Option<PathBuf>,
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct RawDaemon {
    max_concurrent_fetches: Option<Spanned<usize>>,
    default_interval: Option<Spanned<HumanDuration>>,
    jitter: Option<Spanned<f64>>,
    max_backoff: Option<HumanDuration>,
    shutdown_grace: Option<HumanDuration>,
    adaptive: Option<bool>,
    min_interval: Option<Spanned<HumanDuration>>,
    max_interval: Option<Spanned<HumanDuration>>,
    per_host_concurrency: Option<Spanned<usize>>,
    per_host_spacing: Option<HumanDuration>,
    failing_after: Option<Spanned<u32>>,
    max_entries: Option<Spanned<usize>>,
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct RawUrls {
    strip_params: Option<Vec<Spanned<String>>>,
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct RawHttp {
    user_agent: Option<Spanned<String>>,
    connect_timeout: Option<HumanDuration>,
    read_timeout: Option<HumanDuration>,
    total_timeout: Option<HumanDuration>,
    max_body_bytes: Option<Spanned<u64>>,
    max_redirects: Option<usize>,
    max_retry_after: Option<HumanDuration>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawFeed {
    id: Spanned<String>,
    name: Option<String>,
    url: Spanned<String>,
    interval: Option<Spanned<HumanDuration>>,
    category: Option<String>,
    site: Option<String>,
}

/// Shortest poll interval accepted; keeps a typo from hammering a publisher.
pub const MIN_INTERVAL: Duration = Duration::from_secs(1);

impl Config {
    /// Reads and validates the config file at `path`.
    pub fn load(path: &Path) -> Result<Config, ConfigError> {
        let text = std::fs::read_to_string(path).map_err(|source| ConfigError::Read {
            path: path.to_owned(),
            source,
        })?;
        Config::parse(&text, &path.display().to_string())
    }

    /// The embedded default configuration.
    pub fn embedded_default() -> Result<Config, ConfigError> {
        Config::parse(DEFAULT_CONFIG, EMBEDDED_NAME)
    }

    /// Parses and validates config text; `origin` names it in error messages.
    pub fn parse(text: &str, origin: &str) -> Result<Config, ConfigError> {
        let locate = |span: Range<usize>, message: String| invalid_at(text, origin, span, message);
        let raw: RawConfig = toml::from_str(text)
            .map_err(|e| locate(e.span().unwrap_or(0..0), e.message().trim().to_string()))?;

        let d = raw.daemon;
        let default_interval = d
            .default_interval
            .map(|s| {
                let span = s.span();
                let v = s.into_inner().0;
                check_interval(v).map_err(|m| locate(span, m))
            })
            .transpose()?
            .unwrap_or(Duration::from_secs(600));
        let max_concurrent_fetches = match d.max_concurrent_fetches {
            Some(s) if *s.get_ref() == 0 => {
                return Err(locate(
                    s.span(),
                    "max_concurrent_fetches must be at least 1".into(),
                ))
            }
            Some(s) => s.into_inner(),
            None => 8,
        };
        let jitter = match d.jitter {
            Some(s) if !(0.0..=0.5).contains(s.get_ref()) => {
                return Err(locate(
                    s.span(),
                    "jitter must be a fraction between 0.0 and 0.5".into(),
                ))
            }
            Some(s) => s.into_inner(),
            None => 0.1,
        };
        let daemon = DaemonSettings {
            max_concurrent_fetches,
            default_interval,
            jitter,
            max_backoff: d
                .max_backoff
                .map(|h| h.0)
                .unwrap_or(Duration::from_secs(6 * 3600)),
            shutdown_grace: d
                .shutdown_grace
                .map(|h| h.0)
                .unwrap_or(Duration::from_secs(10)),
            adaptive: d.adaptive.unwrap_or(true),
            min_interval: Duration::from_secs(120),
            max_interval: Duration::from_secs(3600),
            per_host_concurrency: match d.per_host_concurrency {
                Some(s) if *s.get_ref() == 0 => {
                    return Err(locate(
                        s.span(),
                        "per_host_concurrency must be at least 1".into(),
                    ))
                }
                Some(s) => s.into_inner(),
                None => 2,
            },
            per_host_spacing: d
                .per_host_spacing
                .map(|h| h.0)
                .unwrap_or(Duration::from_millis(250)),
            failing_after: match d.failing_after {
                Some(s) if *s.get_ref() == 0 => {
                    return Err(locate(s.span(), "failing_after must be at least 1".into()))
                }
                Some(s) => s.into_inner(),
                None => 3,
            },
            max_entries: match d.max_entries {
                Some(s) if *s.get_ref() == 0 => {
                    return Err(locate(s.span(), "max_entries must be at least 1".into()))
                }
                Some(s) => s.into_inner(),
                None => 1000,
            },
        };
        let mut daemon = daemon;
        let min_given = d.min_interval.is_some();
        if let Some(s) = d.min_interval {
            let span = s.span();
            daemon.min_interval = check_interval(s.into_inner().0).map_err(|m| locate(span, m))?;
        }
        if let Some(s) = d.max_interval {
            let span = s.span();
            let max = check_interval(s.into_inner().0).map_err(|m| locate(span.clone(), m))?;
            if !min_given {
                // Only the maximum was set: the default minimum gives way to it.
                daemon.min_interval = daemon.min_interval.min(max);
            }
            if max < daemon.min_interval {
                return Err(locate(
                    span,
                    "max_interval must not be shorter than min_interval".into(),
                ));
            }
            daemon.max_interval = max;
        }

        let h = raw.http;
        let user_agent = match h.user_agent {
            Some(s) if s.get_ref().trim().is_empty() => {
                return Err(locate(s.span(), "user_agent must not be empty".into()))
            }
            Some(s) => s.into_inner(),
            None => default_user_agent(),
        };
        let max_body_bytes = match h.max_body_bytes {
            Some(s) if *s.get_ref() < 1024 => {
                return Err(locate(
                    s.span(),
                    "max_body_bytes must be at least 1024".into(),
                ))
            }
            Some(s) => s.into_inner(),
            None => 10 * 1024 * 1024,
        };
        let http = HttpSettings {
            user_agent,
            connect_timeout: h
                .connect_timeout
                .map(|h| h.0)
                .unwrap_or(Duration::from_secs(10)),
            read_timeout: h
                .read_timeout
                .map(|h| h.0)
                .unwrap_or(Duration::from_secs(30)),
            total_timeout: h
                .total_timeout
                .map(|h| h.0)
                .unwrap_or(Duration::from_secs(60)),
            max_body_bytes,
            max_redirects: h.max_redirects.unwrap_or(5),
            // A pause never outlives the longest backoff the daemon would wait anyway.
            max_retry_after: h
                .max_retry_after
                .map(|h| h.0)
                .unwrap_or(crate::http::DEFAULT_MAX_RETRY_AFTER)
                .min(daemon.max_backoff),
        };

        let mut seen_ids = HashSet::new();
        let mut feeds = Vec::with_capacity(raw.feeds.len());
        for spanned in raw.feeds {
            let feed = spanned.into_inner();
            let id_span = feed.id.span();
            let id = feed.id.into_inner();
            if !valid_feed_id(&id) {
                return Err(locate(
                    id_span,
                    format!("feed id {id:?} must be 1 to 64 characters of a-z, 0-9, '-' or '_'"),
                ));
            }
            if !seen_ids.insert(id.clone()) {
                return Err(locate(id_span, format!("feed id {id:?} is used twice")));
            }
            let url_span = feed.url.span();
            let url = Url::parse(feed.url.get_ref()).map_err(|e| {
                locate(
                    url_span.clone(),
                    format!("feed {id:?}: invalid url {:?}: {e}", feed.url.get_ref()),
                )
            })?;
            if !matches!(url.scheme(), "http" | "https") {
                return Err(locate(
                    url_span,
                    format!(
                        "feed {id:?}: url must be http or https, not {:?}",
                        url.scheme()
                    ),
                ));
            }
            let interval = match feed.interval {
                Some(s) => {
                    let span = s.span();
                    check_interval(s.into_inner().0)
                        .map_err(|m| locate(span, format!("feed {id:?}: {m}")))?
                }
                None => default_interval,
            };
            let category = feed
                .category
                .map(|c| {
                    c.split('/')
                        .map(str::trim)
                        .filter(|p| !p.is_empty())
                        .collect::<Vec<_>>()
                        .join("/")
                })
                .filter(|c| !c.is_empty());
            feeds.push(FeedConfig {
                id,
                name: feed.name,
                url,
                interval,
                category,
                site: feed.site,
            });
        }

        // Paths in [detection] are relative to the config file's directory.
        let base = Path::new(origin)
            .parent()
            .map(Path::to_path_buf)
            .unwrap_or_default();
        let rel = |p: PathBuf| if p.is_absolute() { p } else { base.join(p) };
        if let (Some(m), None) = (&raw.detection.modality, &raw.detection.event_types) {
            return Err(locate(
                m.span(),
                "detection.modality is set but detection.event_types is not: set both, or event_types alone".into(),
            ));
        }
        let detection = DetectionSettings {
            gazetteer: raw.detection.gazetteer.map(rel),
            event_types: raw
                .detection
                .event_types
                .map(|v| v.into_iter().map(rel).collect()),
            modality: raw.detection.modality.map(|m| rel(m.into_inner())),
            model: raw.detection.model.map(rel),
        };

        let mut strip_params = Vec::new();
        for p in raw.urls.strip_params.unwrap_or_default() {
            let name = p.get_ref().trim();
            if name.is_empty() || name.contains(['=', '&', '?', '#']) {
                return Err(locate(
                    p.span(),
                    format!(
                        "strip_params: {:?} is not a query parameter name",
                        p.get_ref()
                    ),
                ));
            }
            strip_params.push(name.to_string());
        }
        let urls = UrlSettings { strip_params };

        let api = parse_api(raw.api, &locate, &rel)?;
        let alerts = parse_alerts(raw.alerts, &locate)?;
        let retention = parse_retention(raw.retention, &locate)?;
        let store = parse_store(raw.store, &locate, &rel)?;
        let mut sinks = Vec::with_capacity(raw.sinks.len());
        let mut seen_sinks = HashSet::new();
        for spanned in raw.sinks {
            let raw_sink = spanned.into_inner();
            if !seen_sinks.insert(raw_sink.id.get_ref().clone()) {
                return Err(locate(
                    raw_sink.id.span(),
                    format!("sink id {:?} is used twice", raw_sink.id.get_ref()),
                ));
            }
            let categories = raw_sink.categories.clone();
            let mut sink = parse_sink(raw_sink, alerts.on_update, &locate, &rel)?;
            // A category filter is the feeds filed under it (or under a subfolder of it).
            for c in categories {
                let wanted = c.get_ref().trim_matches('/');
                let under = |f: &&FeedConfig| {
                    f.category
                        .as_deref()
                        .is_some_and(|fc| fc == wanted || fc.starts_with(&format!("{wanted}/")))
                };
                let ids: Vec<String> = feeds.iter().filter(under).map(|f| f.id.clone()).collect();
                if ids.is_empty() {
                    let known: Vec<&str> =
                        feeds.iter().filter_map(|f| f.category.as_deref()).collect();
                    return Err(locate(
                        c.span(),
                        format!(
                            "sink {:?}: no feed has category {wanted:?}{}",
                            sink.id,
                            crate::diagnostics::nearest(wanted, known)
                                .map(|n| format!(" (did you mean {n:?}?)"))
                                .unwrap_or_default()
                        ),
                    ));
                }
                sink.filter.categories.push(wanted.to_string());
                sink.filter.feeds.extend(ids);
            }
            sinks.push(sink);
        }

        Ok(Config {
            origin: origin.to_string(),
            data_dir: raw.data_dir,
            daemon,
            http,
            detection,
            urls,
            api,
            alerts,
            retention,
            store,
            sinks,
            feed_index: feeds
                .iter()
                .enumerate()
                .map(|(i, f)| (f.id.clone(), i))
                .collect(),
            feeds,
        })
    }

    pub fn sink(&self, id: &str) -> Option<&SinkConfig> {
        self.sinks.iter().find(|s| s.id == id)
    }

    /// What is allowed but unwise: intervals under [`POLITE_MINIMUM`], which publishers
    /// may answer by blocking the reader. `check` prints these; the daemon logs them.
    pub fn warnings(&self) -> Vec<String> {
        let mut out = Vec::new();
        let polite = humantime::format_duration(POLITE_MINIMUM);
        let mut under = |what: String, d: Duration| {
            if d < POLITE_MINIMUM {
                out.push(format!(
                    "{what} is {}, under the polite minimum of {polite}: publishers may \
                     block a reader that polls this often",
                    humantime::format_duration(d)
                ));
            }
        };
        under(
            "[daemon] default_interval".into(),
            self.daemon.default_interval,
        );
        under("[daemon] min_interval".into(), self.daemon.min_interval);
        // A feed on the default interval is covered by the default's warning.
        for f in self
            .feeds
            .iter()
            .filter(|f| f.interval != self.daemon.default_interval)
        {
            under(format!("feed {:?}: interval", f.id), f.interval);
        }
        out
    }

    pub fn feed(&self, id: &str) -> Option<&FeedConfig> {
        self.feed_index.get(id).map(|&i| &self.feeds[i])
    }
}

impl fmt::Display for FeedConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} ({})", self.id, self.url)
    }
}

/// Default address of the HTTP endpoint.
pub const DEFAULT_LISTEN: &str = "127.0.0.1:8787";
/// Default for `api.header_read_timeout`.
pub const DEFAULT_HEADER_READ_TIMEOUT: Duration = Duration::from_secs(10);
/// Default for `api.max_connections`.
pub const DEFAULT_MAX_CONNECTIONS: usize = 256;
/// Largest `api.max_connections` accepted.
pub const MAX_MAX_CONNECTIONS: usize = 65_536;

type Locate<'a> = dyn Fn(Range<usize>, String) -> ConfigError + 'a;

fn parse_api(
    raw: RawApi,
    locate: &Locate,
    rel: &dyn Fn(PathBuf) -> PathBuf,
) -> Result<ApiSettings, ConfigError> {
    let (listen, listen_span) = match raw.listen {
        Some(s) => {
            let span = s.span();
            let addr = s.get_ref().parse::<SocketAddr>().map_err(|e| {
                locate(
                    span.clone(),
                    format!(
                        "api.listen {:?} is not an address and port (e.g. \"127.0.0.1:8787\"): {e}",
                        s.get_ref()
                    ),
                )
            })?;
            (addr, span)
        }
        None => (DEFAULT_LISTEN.parse().expect("valid default address"), 0..0),
    };
    let token = secret_ref(raw.token_env, raw.token_file, "api", locate, rel)?;
    if token.is_none() && !listen.ip().is_loopback() {
        return Err(locate(
            listen_span,
            format!(
                "api.listen {listen} is not a loopback address: set api.token_env or api.token_file so the API requires a bearer token"
            ),
        ));
    }
    let mut allowed_hosts = Vec::new();
    for entry in raw.allowed_hosts.unwrap_or_default() {
        let host = HostAndPort::parse(entry.get_ref()).ok_or_else(|| {
            locate(
                entry.span(),
                format!(
                    "api.allowed_hosts entry {:?} is not a host name with an optional port (e.g. \"tidings.internal\" or \"tidings.internal:8443\")",
                    entry.get_ref()
                ),
            )
        })?;
        allowed_hosts.push(host);
    }
    let header_read_timeout = match raw.header_read_timeout {
        Some(s) if s.get_ref().0.is_zero() => {
            return Err(locate(
                s.span(),
                "api.header_read_timeout must be longer than zero".into(),
            ))
        }
        Some(s) => s.into_inner().0,
        None => DEFAULT_HEADER_READ_TIMEOUT,
    };
    let max_connections = match raw.max_connections {
        Some(s) if *s.get_ref() == 0 || *s.get_ref() > MAX_MAX_CONNECTIONS => {
            return Err(locate(
                s.span(),
                format!("api.max_connections must be at least 1 and at most {MAX_MAX_CONNECTIONS}"),
            ))
        }
        Some(s) => s.into_inner(),
        None => DEFAULT_MAX_CONNECTIONS,
    };
    Ok(ApiSettings {
        listen,
        token,
        allowed_hosts,
        header_read_timeout,
        max_connections,
    })
}

fn parse_retention(raw: RawRetention, locate: &Locate) -> Result<RetentionSettings, ConfigError> {
    let defaults = RetentionSettings::default();
    // Each period with its span (for the checks between them), zero refused.
    let period = |field: Option<Spanned<Keep>>,
                  name: &str,
                  default: Option<Duration>|
     -> Result<(Option<Duration>, Range<usize>), ConfigError> {
        match field {
            Some(s) => {
                let span = s.span();
                let keep = s.into_inner().0;
                if keep.is_some_and(|d| d.is_zero()) {
                    return Err(locate(
                        span,
                        format!("retention.{name} must be longer than zero (or \"forever\")"),
                    ));
                }
                Ok((keep, span))
            }
            None => Ok((default, 0..0)),
        }
    };
    let (story_text, text_span) = period(raw.story_text, "story_text", defaults.story_text)?;
    let (story_identity, identity_span) = period(
        raw.story_identity,
        "story_identity",
        defaults.story_identity,
    )?;
    let (stories, stories_span) = period(raw.stories, "stories", defaults.stories)?;
    let (events, _) = period(raw.events, "events", defaults.events)?;
    let (dead_alerts, _) = period(raw.dead_alerts, "dead_alerts", defaults.dead_alerts)?;
    let forever = Duration::MAX;
    let text = story_text.unwrap_or(forever);
    if story_identity.unwrap_or(forever) > text {
        let span = if identity_span.is_empty() {
            text_span
        } else {
            identity_span
        };
        return Err(locate(
            span,
            "retention.story_identity must not be longer than retention.story_text: a \
             story whose text is gone cannot be compared, and a feed that still carries it \
             would bring it back as an edit"
                .into(),
        ));
    }
    if stories.unwrap_or(forever) < text {
        let span = if stories_span.is_empty() {
            text_span
        } else {
            stories_span
        };
        return Err(locate(
            span,
            "retention.stories must be at least retention.story_text (a story is removed \
             whole only after its text)"
                .into(),
        ));
    }
    let prune_every = match raw.prune_every {
        Some(s) if s.get_ref().0.is_zero() => {
            return Err(locate(
                s.span(),
                "retention.prune_every must be longer than zero".into(),
            ))
        }
        Some(s) => s.into_inner().0,
        None => defaults.prune_every,
    };
    let batch = match raw.batch {
        Some(s) if !(1..=100_000).contains(s.get_ref()) => {
            return Err(locate(
                s.span(),
                "retention.batch must be between 1 and 100000".into(),
            ))
        }
        Some(s) => s.into_inner(),
        None => defaults.batch,
    };
    Ok(RetentionSettings {
        story_text,
        story_identity,
        stories,
        events,
        dead_alerts,
        prune_every,
        batch,
    })
}

fn parse_store(
    raw: RawStore,
    locate: &Locate,
    rel: &dyn Fn(PathBuf) -> PathBuf,
) -> Result<StoreSettings, ConfigError> {
    const BACKENDS: [&str; 2] = ["sled", "postgres"];
    let backend = raw
        .backend
        .as_ref()
        .map_or("sled", |b| b.get_ref().as_str());
    if !BACKENDS.contains(&backend) {
        let span = raw.backend.as_ref().map(Spanned::span).unwrap_or_default();
        return Err(locate(
            span,
            format!(
                "store.backend {backend:?} is not one of \"sled\", \"postgres\"{}",
                crate::diagnostics::nearest(backend, BACKENDS)
                    .map(|n| format!(" (did you mean {n:?}?)"))
                    .unwrap_or_default()
            ),
        ));
    }
    let max_connections = match raw.max_connections {
        Some(n) if !(1..=1000).contains(n.get_ref()) => {
            return Err(locate(
                n.span(),
                "store.max_connections must be between 1 and 1000".into(),
            ))
        }
        Some(n) => Some(n),
        None => None,
    };
    if backend == "sled" {
        let stray = raw
            .url_env
            .as_ref()
            .map(|e| (e.span(), "url_env"))
            .or_else(|| raw.url_file.as_ref().map(|f| (f.span(), "url_file")))
            .or_else(|| {
                max_connections
                    .as_ref()
                    .map(|n| (n.span(), "max_connections"))
            })
            .or_else(|| raw.lease.as_ref().map(|l| (l.span(), "lease")));
        if let Some((span, key)) = stray {
            return Err(locate(
                span,
                format!("store.{key} is for backend = \"postgres\"; this store is sled"),
            ));
        }
        return Ok(StoreSettings::Sled);
    }
    let span = raw.backend.as_ref().map(Spanned::span).unwrap_or_default();
    let Some(url) = secret_ref(raw.url_env, raw.url_file, "store", locate, rel)? else {
        return Err(locate(
            span,
            "store.backend = \"postgres\" needs the database URL: set store.url_env or store.url_file".into(),
        ));
    };
    let lease = match raw.lease {
        Some(l) if l.get_ref().0 < Duration::from_secs(1) => {
            return Err(locate(
                l.span(),
                "store.lease must be at least 1s (claims are renewed several times per lease)"
                    .into(),
            ))
        }
        Some(l) => l.into_inner().0,
        None => DEFAULT_LEASE,
    };
    Ok(StoreSettings::Postgres {
        url,
        max_connections: max_connections.map_or(8, Spanned::into_inner),
        lease,
    })
}

fn parse_alerts(raw: RawAlerts, locate: &Locate) -> Result<AlertSettings, ConfigError> {
    let retry_delays = match raw.retry_delays {
        Some(s) if s.get_ref().is_empty() => {
            return Err(locate(
                s.span(),
                "alerts.retry_delays needs at least one delay".into(),
            ))
        }
        Some(s) => s.into_inner().into_iter().map(|h| h.0).collect(),
        None => [5, 5 * 60, 30 * 60, 2 * 3600]
            .into_iter()
            .map(Duration::from_secs)
            .collect(),
    };
    let jitter = match raw.jitter {
        Some(s) if !(0.0..=0.5).contains(s.get_ref()) => {
            return Err(locate(
                s.span(),
                "alerts.jitter must be a fraction between 0.0 and 0.5".into(),
            ))
        }
        Some(s) => s.into_inner(),
        None => 0.2,
    };
    let sink_backoff_min = match raw.sink_backoff_min {
        Some(s) if s.get_ref().0.is_zero() => {
            return Err(locate(
                s.span(),
                "alerts.sink_backoff_min must be longer than zero".into(),
            ))
        }
        Some(s) => s.into_inner().0,
        None => Duration::from_secs(1),
    };
    let sink_backoff_max = match raw.sink_backoff_max {
        Some(s) if s.get_ref().0 < sink_backoff_min => {
            return Err(locate(
                s.span(),
                "alerts.sink_backoff_max must be at least alerts.sink_backoff_min".into(),
            ))
        }
        Some(s) => s.into_inner().0,
        None => Duration::from_secs(5 * 60).max(sink_backoff_min),
    };
    Ok(AlertSettings {
        sink_backoff_min,
        sink_backoff_max,
        timeout: raw.timeout.map(|h| h.0).unwrap_or(Duration::from_secs(10)),
        retry_delays,
        jitter,
        max_age: raw
            .max_age
            .map(|h| h.0)
            .unwrap_or(Duration::from_secs(24 * 3600)),
        on_update: raw.on_update.unwrap_or(true),
    })
}

fn parse_sink(
    raw: RawSink,
    default_on_update: bool,
    locate: &Locate,
    rel: &dyn Fn(PathBuf) -> PathBuf,
) -> Result<SinkConfig, ConfigError> {
    use crate::model::SinkKind;
    let id_span = raw.id.span();
    let id = raw.id.into_inner();
    if !valid_feed_id(&id) {
        return Err(locate(
            id_span,
            format!("sink id {id:?} must be 1 to 64 characters of a-z, 0-9, '-' or '_'"),
        ));
    }
    let url_span = raw.url.span();
    let url = Url::parse(raw.url.get_ref())
        .map_err(|e| locate(url_span.clone(), format!("sink {id:?}: invalid url: {e}")))?;
    if !matches!(url.scheme(), "http" | "https") {
        return Err(locate(
            url_span,
            format!("sink {id:?}: url must be http or https"),
        ));
    }
    let what = format!("sink {id:?}");
    let secret = secret_ref(raw.secret_env, raw.secret_file, &what, locate, rel)?;
    match raw.kind {
        SinkKind::Webhook if secret.is_none() => {
            return Err(locate(
                id_span,
                format!(
                "{what}: a webhook sink needs secret_env or secret_file (a whsec_… signing secret)"
            ),
            ))
        }
        SinkKind::Webhook => {}
        _ if secret.is_some() => {
            return Err(locate(
                id_span,
                format!("{what}: only webhook sinks are signed; remove secret_env/secret_file"),
            ))
        }
        _ => {}
    }
    let token = secret_ref(raw.token_env, raw.token_file, &what, locate, rel)?;
    // Where each value stands: the detector's data checks them later.
    let place = |span: Range<usize>| match locate(span, String::new()) {
        ConfigError::Invalid {
            file, line, column, ..
        } => Place { file, line, column },
        _ => Place::default(),
    };
    let filter_places = FilterPlaces {
        types: raw.types.iter().map(|t| place(t.span())).collect(),
        countries: raw.countries.iter().map(|c| place(c.span())).collect(),
        actors: raw.actors.iter().map(|a| place(a.span())).collect(),
    };
    let mut countries = Vec::with_capacity(raw.countries.len());
    for c in raw.countries {
        let code = c.get_ref().to_ascii_uppercase();
        if code.len() != 3 || !code.bytes().all(|b| b.is_ascii_uppercase()) {
            return Err(locate(
                c.span(),
                format!(
                    "{what}: country {:?} is not an ISO 3166-1 alpha-3 code (e.g. \"RUS\")",
                    c.get_ref()
                ),
            ));
        }
        countries.push(code);
    }
    let min_confidence = match raw.min_confidence {
        Some(s) if !(0.0..=1.0).contains(s.get_ref()) => {
            return Err(locate(
                s.span(),
                format!("{what}: min_confidence must be between 0.0 and 1.0"),
            ))
        }
        Some(s) => s.into_inner(),
        None => 0.0,
    };
    Ok(SinkConfig {
        id,
        kind: raw.kind,
        url,
        secret,
        token,
        topic: raw.topic,
        filter: SinkFilter {
            types: raw.types.into_iter().map(Spanned::into_inner).collect(),
            countries,
            actors: raw.actors.into_iter().map(Spanned::into_inner).collect(),
            min_confidence,
            modality: raw.modality,
            categories: Vec::new(),
            feeds: Vec::new(),
        },
        on_update: raw.on_update.unwrap_or(default_on_update),
        filter_places,
    })
}

/// The secret named by an environment variable or a file (not both). Nothing is read
/// here: [`SecretRef::resolve`] reads it when a command needs it.
fn secret_ref(
    env: Option<Spanned<String>>,
    file: Option<Spanned<PathBuf>>,
    what: &str,
    locate: &Locate,
    rel: &dyn Fn(PathBuf) -> PathBuf,
) -> Result<Option<SecretRef>, ConfigError> {
    let named_at = |span: Range<usize>| match locate(span, what.to_string()) {
        ConfigError::Invalid {
            file, line, column, ..
        } => format!("{file}:{line}:{column}: {what}"),
        other => other.to_string(),
    };
    match (env, file) {
        (Some(e), Some(_)) => Err(locate(
            e.span(),
            format!("{what}: set the secret by environment variable or by file, not both"),
        )),
        (Some(e), None) if e.get_ref().trim().is_empty() => Err(locate(
            e.span(),
            format!("{what}: the environment variable's name is empty"),
        )),
        (Some(e), None) => Ok(Some(SecretRef {
            named_at: named_at(e.span()),
            source: SecretSource::Env(e.into_inner()),
        })),
        (None, Some(f)) => Ok(Some(SecretRef {
            named_at: named_at(f.span()),
            source: SecretSource::File(rel(f.into_inner())),
        })),
        (None, None) => Ok(None),
    }
}

/// The User-Agent sent when the config sets none.
pub fn default_user_agent() -> String {
    format!(
        "tidings/{} (news-event monitor; feed reader)",
        env!("CARGO_PKG_VERSION")
    )
}

fn check_interval(d: Duration) -> Result<Duration, String> {
    if d < MIN_INTERVAL {
        Err(format!(
            "interval {} is shorter than the minimum of {}",
            humantime::format_duration(d),
            humantime::format_duration(MIN_INTERVAL)
        ))
    } else {
        Ok(d)
    }
}

fn valid_feed_id(id: &str) -> bool {
    !id.is_empty()
        && id.len() <= 64
        && id
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-' || b == b'_')
}

#[cfg(test)]
mod tests {
    use super::*;

    fn err(text: &str) -> String {
        Config::parse(text, "t.toml").unwrap_err().to_string()
    }

    #[test]
    fn the_store_is_sled_unless_the_config_names_a_postgres_url() {
        assert_eq!(
            Config::embedded_default().unwrap().store,
            StoreSettings::Sled
        );
        let c = Config::parse(
            "[store]\nbackend = \"postgres\"\nurl_env = \"TIDINGS_DATABASE_URL\"\n",
            "t.toml",
        )
        .unwrap();
        let StoreSettings::Postgres {
            url,
            max_connections,
            lease,
        } = c.store
        else {
            panic!("{:?}", c.store)
        };
        assert_eq!(lease, DEFAULT_LEASE);
        assert_eq!(url.source, SecretSource::Env("TIDINGS_DATABASE_URL".into()));
        assert_eq!(url.named_at, "t.toml:3:11: store");
        assert_eq!(max_connections, 8);
        assert_eq!(
            err("[store]\nbackend = \"postgres\"\n"),
            "t.toml:2:11: store.backend = \"postgres\" needs the database URL: set store.url_env or store.url_file"
        );
        assert_eq!(
            err("[store]\nbackend = \"postgress\"\nurl_env = \"U\"\n"),
            "t.toml:2:11: store.backend \"postgress\" is not one of \"sled\", \"postgres\" (did you mean \"postgres\"?)"
        );
        assert_eq!(
            err("[store]\nurl_file = \"db.url\"\n"),
            "t.toml:2:12: store.url_file is for backend = \"postgres\"; this store is sled"
        );
        assert_eq!(
            err("[store]\nbackend = \"postgres\"\nurl_env = \"U\"\nmax_connections = 0\n"),
            "t.toml:4:19: store.max_connections must be between 1 and 1000"
        );
        assert_eq!(
            err("[store]\nbackend = \"postgres\"\nurl_env = \"U\"\nlease = \"200ms\"\n"),
            "t.toml:4:9: store.lease must be at least 1s (claims are renewed several times per lease)"
        );
        assert_eq!(
            err("[store]\nlease = \"10s\"\n"),
            "t.toml:2:9: store.lease is for backend = \"postgres\"; this store is sled"
        );
        let c = Config::parse(
            "[store]\nbackend = \"postgres\"\nurl_env = \"U\"\nlease = \"5s\"\n",
            "t.toml",
        )
        .unwrap();
        assert!(
            matches!(c.store, StoreSettings::Postgres { lease, .. } if lease == Duration::from_secs(5))
        );
    }

    #[test]
    fn retention_takes_durations_and_forever_and_refuses_what_cannot_hold() {
        let day = |d: u64| Some(Duration::from_secs(d * 24 * 3600));
        let c = Config::embedded_default().unwrap();
        assert_eq!(c.retention, RetentionSettings::default());
        assert_eq!(c.retention.story_text, day(90));
        assert_eq!(c.retention.story_identity, day(30));
        assert_eq!(c.retention.events, None, "events are kept forever");
        assert_eq!(c.retention.dead_alerts, day(30));
        let c = Config::parse(
            "[retention]\nstory_text = \"forever\"\nstory_identity = \"12h\"\n\
             stories = \"forever\"\nevents = \"2y\"\nprune_every = \"1m\"\nbatch = 10\n",
            "t.toml",
        )
        .unwrap();
        assert_eq!(c.retention.story_text, None);
        assert_eq!(
            c.retention.story_identity,
            Some(Duration::from_secs(12 * 3600))
        );
        assert_eq!(c.retention.stories, None);
        assert!(c.retention.events.is_some());
        assert_eq!(c.retention.batch, 10);
        let e = err("[retention]\nstory_text = 90\n");
        assert!(e.contains("t.toml:2") && e.contains("\"90d\""), "{e}");
        let e = err("[retention]\nstory_text = \"ninety days\"\n");
        assert!(e.contains("invalid retention"), "{e}");
        let e = err("[retention]\nstory_identity = \"100d\"\n");
        assert!(e.contains("story_identity must not be longer than"), "{e}");
        let e = err("[retention]\nstory_identity = \"forever\"\n");
        assert!(e.contains("story_identity must not be longer than"), "{e}");
        let e = err("[retention]\nstory_text = \"forever\"\n");
        assert!(e.contains("retention.stories must be at least"), "{e}");
        let e = err("[retention]\nstories = \"10d\"\n");
        assert!(e.contains("retention.stories must be at least"), "{e}");
        let e = err("[retention]\nevents = \"0s\"\n");
        assert!(e.contains("longer than zero"), "{e}");
        let e = err("[retention]\nkeep = \"1d\"\n");
        assert!(e.contains("keep"), "{e}");
    }

    #[test]
    fn embedded_default_is_valid_and_has_about_twenty_feeds() {
        let c = Config::embedded_default().unwrap();
        assert!(c.feeds.len() >= 18, "{} feeds", c.feeds.len());
        assert!(c
            .feeds
            .iter()
            .all(|f| f.url.scheme() == "https" || f.url.scheme() == "http"));
    }

    #[test]
    fn minimal_config_gets_defaults() {
        let c = Config::parse("[[feeds]]\nid = \"a\"\nurl = \"http://x/feed\"\n", "t").unwrap();
        assert_eq!(c.feeds[0].interval, Duration::from_secs(600));
        assert_eq!(c.http.max_body_bytes, 10 * 1024 * 1024);
        assert_eq!(c.daemon.max_concurrent_fetches, 8);
    }

    #[test]
    fn syntax_error_names_file_and_line() {
        let e = err("[daemon]\nmax_concurrent_fetches = 4\n[[feeds]\n");
        assert!(e.starts_with("t.toml:3:"), "{e}");
    }

    #[test]
    fn unknown_key_is_refused_with_its_line() {
        let e = err("[daemon]\nmax_concurent_fetches = 4\n");
        assert!(e.starts_with("t.toml:2:"), "{e}");
        assert!(e.contains("max_concurent_fetches"), "{e}");
    }

    #[test]
    fn bad_duration_is_refused_with_its_line() {
        let e = err("[[feeds]]\nid = \"a\"\nurl = \"http://x/\"\ninterval = \"ten minutes\"\n");
        assert!(e.starts_with("t.toml:4:"), "{e}");
        assert!(e.contains("invalid duration"), "{e}");
    }

    #[test]
    fn duplicate_feed_id_is_refused_at_the_second() {
        let e = err("[[feeds]]\nid = \"a\"\nurl = \"http://x/\"\n\n[[feeds]]\nid = \"a\"\nurl = \"http://y/\"\n");
        assert!(e.starts_with("t.toml:6:"), "{e}");
        assert!(e.contains("used twice"), "{e}");
    }

    #[test]
    fn detection_modality_alone_is_refused_at_its_line() {
        let e = err("[detection]\nmodality = \"m.toml\"\n");
        assert!(
            e.starts_with("t.toml:2:") && e.contains("event_types"),
            "{e}"
        );
        let c = Config::parse(
            "[detection]\nevent_types = [\"events/a.toml\"]\n",
            "/etc/tidings/tidings.toml",
        )
        .unwrap();
        assert_eq!(
            c.detection.event_types,
            Some(vec![PathBuf::from("/etc/tidings/events/a.toml")])
        );
    }

    #[test]
    fn sinks_are_read_with_their_filters_and_secrets() {
        let dir = tempfile::tempdir().unwrap();
        let secret = dir.path().join("hook.secret");
        std::fs::write(
            &secret,
            "whsec_dGlkaW5ncy10ZXN0LXNpZ25pbmcta2V5LTMyYnl0ZXM=\n",
        )
        .unwrap();
        let origin = dir.path().join("tidings.toml");
        let c = Config::parse(
            "[alerts]\nretry_delays = [\"1s\", \"1m\"]\non_update = false\n\n\
             [[sinks]]\nid = \"desk\"\nkind = \"webhook\"\nurl = \"https://hooks.example/t\"\n\
             secret_file = \"hook.secret\"\ntypes = [\"un_vote\"]\ncountries = [\"rus\"]\n\
             min_confidence = 0.5\nmodality = [\"occurred\"]\n\n\
             [[sinks]]\nid = \"phone\"\nkind = \"ntfy\"\nurl = \"https://ntfy.example\"\ntopic = \"t\"\non_update = true\n",
            &origin.display().to_string(),
        )
        .unwrap();
        assert_eq!(
            c.alerts.retry_delays,
            vec![Duration::from_secs(1), Duration::from_secs(60)]
        );
        assert_eq!(c.alerts.max_age, Duration::from_secs(24 * 3600));
        let desk = c.sink("desk").unwrap();
        assert_eq!(
            desk.secret.as_ref().map(|r| &r.source),
            Some(&SecretSource::File(dir.path().join("hook.secret")))
        );
        assert_eq!(
            desk.secret.as_ref().unwrap().resolve().unwrap().expose(),
            "whsec_dGlkaW5ncy10ZXN0LXNpZ25pbmcta2V5LTMyYnl0ZXM="
        );
        assert_eq!(desk.filter.countries, vec!["RUS"]);
        assert_eq!(desk.filter.min_confidence, 0.5);
        assert!(!desk.on_update, "inherits [alerts] on_update");
        assert!(c.sink("phone").unwrap().on_update);
        assert!(
            !format!("{desk:?}").contains("dGlkaW5ncy10ZXN0"),
            "Debug never shows the secret"
        );
    }

    #[test]
    fn bad_sinks_are_refused_at_their_line() {
        let e = err("[[sinks]]\nid = \"a\"\nkind = \"webhook\"\nurl = \"https://h/\"\n");
        assert!(
            e.starts_with("t.toml:2:") && e.contains("secret_env or secret_file"),
            "{e}"
        );
        let e = err("[[sinks]]\nid = \"a\"\nkind = \"pager\"\nurl = \"https://h/\"\n");
        assert!(e.starts_with("t.toml:3:") && e.contains("pager"), "{e}");
        let e = err("[[sinks]]\nid = \"a\"\nkind = \"slack\"\nurl = \"https://h/\"\nsecret_env = \"TIDINGS_TEST_SLACK_SECRET\"\n");
        assert!(
            e.starts_with("t.toml:2:") && e.contains("only webhook sinks are signed"),
            "{e}"
        );
        let e = err("[[sinks]]\nid = \"a\"\nkind = \"slack\"\nurl = \"https://h/\"\ncountries = [\"Russia\"]\n");
        assert!(e.starts_with("t.toml:5:") && e.contains("alpha-3"), "{e}");
        let e = err("[[sinks]]\nid = \"a\"\nkind = \"slack\"\nurl = \"https://h/\"\n\n[[sinks]]\nid = \"a\"\nkind = \"slack\"\nurl = \"https://h/\"\n");
        assert!(
            e.starts_with("t.toml:7:") && e.contains("used twice"),
            "{e}"
        );
        let e = err("[alerts]\nretry_delays = []\n");
        assert!(e.starts_with("t.toml:2:"), "{e}");
        let e = err("[alerts]\nsink_backoff_min = \"0s\"\n");
        assert!(
            e.starts_with("t.toml:2:") && e.contains("longer than zero"),
            "{e}"
        );
        let e = err("[alerts]\nsink_backoff_min = \"10s\"\nsink_backoff_max = \"5s\"\n");
        assert!(e.starts_with("t.toml:3:") && e.contains("at least"), "{e}");
    }

    #[test]
    fn a_failing_sink_pauses_from_one_second_to_five_minutes_unless_told() {
        let c = Config::parse("", "t.toml").unwrap();
        assert_eq!(c.alerts.sink_backoff_min, Duration::from_secs(1));
        assert_eq!(c.alerts.sink_backoff_max, Duration::from_secs(300));
        let c = Config::parse(
            "[alerts]\nsink_backoff_min = \"100ms\"\nsink_backoff_max = \"2s\"\n",
            "t.toml",
        )
        .unwrap();
        assert_eq!(c.alerts.sink_backoff_min, Duration::from_millis(100));
        assert_eq!(c.alerts.sink_backoff_max, Duration::from_secs(2));
    }

    #[test]
    fn secrets_are_named_by_the_config_and_read_only_when_resolved() {
        // An unset variable does not stop the config from parsing...
        let c = Config::parse(
            "[[sinks]]\nid = \"hook\"\nkind = \"webhook\"\nurl = \"https://h/\"\n\
             secret_env = \"TIDINGS_TEST_UNSET_VARIABLE\"\n",
            "t.toml",
        )
        .unwrap();
        let r = c.sink("hook").unwrap().secret.clone().unwrap();
        assert_eq!(
            r.source,
            SecretSource::Env("TIDINGS_TEST_UNSET_VARIABLE".into())
        );
        assert_eq!(
            r.describe(),
            "environment variable TIDINGS_TEST_UNSET_VARIABLE"
        );
        // ...resolving it says where the config names it and what is wrong.
        let e = r.resolve().unwrap_err().to_string();
        assert_eq!(
            e,
            "t.toml:5:14: sink \"hook\": environment variable TIDINGS_TEST_UNSET_VARIABLE is not set or empty"
        );
        // A missing file is reported the same way, with its path.
        let c = Config::parse(
            "[api]\ntoken_file = \"/nonexistent/tidings-token\"\n",
            "t.toml",
        )
        .unwrap();
        let e = c.api.token.unwrap().resolve().unwrap_err().to_string();
        assert!(
            e.starts_with("t.toml:2:14: api: cannot read secret file /nonexistent/tidings-token"),
            "{e}"
        );
        // Both ways at once is still a config error.
        let e = err("[api]\ntoken_env = \"A\"\ntoken_file = \"b\"\n");
        assert!(e.starts_with("t.toml:2:") && e.contains("not both"), "{e}");
    }

    #[test]
    fn the_api_off_loopback_needs_a_token() {
        let c = Config::parse("", "t.toml").unwrap();
        assert_eq!(c.api.listen.to_string(), DEFAULT_LISTEN);
        let e = err("[api]\nlisten = \"0.0.0.0:8787\"\n");
        assert!(
            e.starts_with("t.toml:2:") && e.contains("bearer token"),
            "{e}"
        );
        let e = err("[api]\nlisten = \"localhost\"\n");
        assert!(e.contains("not an address and port"), "{e}");
    }

    #[test]
    fn api_hardening_settings_have_defaults_and_are_validated() {
        let c = Config::parse("", "t.toml").unwrap();
        assert!(c.api.allowed_hosts.is_empty());
        assert_eq!(c.api.header_read_timeout, DEFAULT_HEADER_READ_TIMEOUT);
        assert_eq!(c.api.max_connections, DEFAULT_MAX_CONNECTIONS);
        let c = Config::parse(
            "[api]\nallowed_hosts = [\"Tidings.Internal.\", \"proxy:8443\", \"[::1]:9\"]\nheader_read_timeout = \"2s\"\nmax_connections = 3\n",
            "t.toml",
        )
        .unwrap();
        let hosts: Vec<String> = c.api.allowed_hosts.iter().map(|h| h.to_string()).collect();
        assert_eq!(hosts, ["tidings.internal", "proxy:8443", "[::1]:9"]);
        assert_eq!(c.api.header_read_timeout, Duration::from_secs(2));
        assert_eq!(c.api.max_connections, 3);
        for bad in ["http://x", "x/y", "a b", "", "x:", "x:99999", "[zz]", "u@x"] {
            let e = err(&format!("[api]\nallowed_hosts = [{bad:?}]\n"));
            assert!(
                e.starts_with("t.toml:2:") && e.contains("allowed_hosts"),
                "{bad}: {e}"
            );
        }
        for bad in ["0", "65537"] {
            let e = err(&format!("[api]\nmax_connections = {bad}\n"));
            assert!(
                e.starts_with("t.toml:2:") && e.contains("at least 1"),
                "{e}"
            );
        }
        let e = err("[api]\nheader_read_timeout = \"0s\"\n");
        assert!(
            e.starts_with("t.toml:2:") && e.contains("longer than zero"),
            "{e}"
        );
    }

    #[test]
    fn host_and_port_reads_the_host_header_forms() {
        let h = |t: &str| HostAndPort::parse(t).map(|h| h.to_string());
        assert_eq!(h("LocalHost:8787").as_deref(), Some("localhost:8787"));
        assert_eq!(h("127.0.0.1").as_deref(), Some("127.0.0.1"));
        assert_eq!(h("[::1]:80").as_deref(), Some("[::1]:80"));
        assert_eq!(h("example.com.").as_deref(), Some("example.com"));
        for bad in [
            "", ":80", "a:b", "a:1:2", "[::1", "[nope]:1", "a b", "a/b", "a:+1",
        ] {
            assert_eq!(h(bad), None, "{bad:?}");
        }
    }

    #[test]
    fn bad_url_and_scheme_are_refused() {
        assert!(err("[[feeds]]\nid = \"a\"\nurl = \"not a url\"\n").starts_with("t.toml:3:"));
        assert!(err("[[feeds]]\nid = \"a\"\nurl = \"ftp://x/f\"\n").contains("http or https"));
    }

    #[test]
    fn bad_feed_id_and_tiny_interval_are_refused() {
        assert!(
            err("[[feeds]]\nid = \"Has Space\"\nurl = \"http://x/\"\n").contains("must be 1 to 64")
        );
        assert!(
            err("[[feeds]]\nid = \"a\"\nurl = \"http://x/\"\ninterval = \"10ms\"\n")
                .contains("shorter than the minimum")
        );
    }
}
