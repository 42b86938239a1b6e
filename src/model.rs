//! The records that move through the pipeline and live in the store.
//!
//! These types are backend-neutral: the store serialises them, the CLI prints them and
//! the daemon builds them, but none of them knows how or where they are kept. They sit at
//! the bottom of the layering: this module imports nothing from the crate, so every
//! other module may use it (the detector's [`Modality`], [`EventActor`], [`Evidence`],
//! [`Field`] and [`DateSpan`], the config's [`SinkKind`], and the stored records).

use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};

/// Identifier of a stored story. Assigned by the store, increasing with insertion order.
pub type StoryId = u64;

/// A news item after normalisation, before deduplication: what one feed said about one
/// story on one poll.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Candidate {
    /// Config id of the feed the entry came from.
    pub feed: String,
    /// The entry's identifier within its feed (the feed's own GUID, or a derived one).
    pub guid: String,
    /// Whether `guid` was derived by tidings because the feed gave none.
    pub guid_derived: bool,
    /// Canonical URL of the article, if the entry had a usable link.
    pub url: Option<String>,
    /// The link exactly as the feed gave it.
    pub raw_url: Option<String>,
    /// Plain-text title (HTML removed, entities decoded, whitespace collapsed).
    pub title: String,
    /// Plain-text body: the entry's content or summary.
    pub text: String,
    /// Publication time from the feed, if it gave one.
    pub published: Option<DateTime<Utc>>,
    /// Language of the entry or its feed, where stated.
    pub language: Option<String>,
    /// When tidings saw the entry.
    pub seen_at: DateTime<Utc>,
}

/// A deduplicated story: one real-world article, possibly seen through many feeds.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Story {
    pub id: StoryId,
    /// Canonical URL of the first copy seen.
    pub url: Option<String>,
    /// Current title (the latest revision seen under the original GUID).
    pub title: String,
    /// Current plain text.
    pub text: String,
    /// Publication time: the feed's, or the first-seen time when the feed gave none.
    pub published: DateTime<Utc>,
    /// True when `published` came from the feed; false when it is the first-seen time.
    pub published_from_feed: bool,
    pub first_seen: DateTime<Utc>,
    /// Feed the story was first seen in.
    pub feed: String,
    pub language: Option<String>,
    /// Every copy of this story that was seen, the first one included.
    pub sources: Vec<Source>,
    /// Earlier titles and texts, when the original copy was edited in place.
    #[serde(default)]
    pub revisions: Vec<Revision>,
}

/// One copy of a story, as seen in one feed.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Source {
    pub feed: String,
    pub guid: String,
    pub url: Option<String>,
    pub title: String,
    pub seen_at: DateTime<Utc>,
    /// Why this copy was recognised as this story.
    pub matched_by: MatchKind,
}

/// How a copy was linked to its story.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "kind")]
pub enum MatchKind {
    /// The first copy: it created the story.
    Original,
    /// Same feed and GUID as a copy already stored.
    Guid,
    /// Same canonical URL.
    Url,
    /// Same normalised title and text.
    Content,
    /// A near-duplicate: estimated word-shingle Jaccard similarity at or above the threshold.
    NearDuplicate { similarity: f32 },
}

impl MatchKind {
    pub fn label(&self) -> String {
        match self {
            MatchKind::Original => "original".into(),
            MatchKind::Guid => "same guid".into(),
            MatchKind::Url => "same url".into(),
            MatchKind::Content => "same content".into(),
            MatchKind::NearDuplicate { similarity } => format!("near-duplicate ({similarity:.2})"),
        }
    }
}

/// An earlier state of a story that its feed later edited (same GUID, new title or text).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Revision {
    /// When the edit was noticed.
    pub seen_at: DateTime<Utc>,
    /// The title and text before the edit.
    pub title: String,
    pub text: String,
}

/// What the daemon remembers about a feed between polls.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct FeedState {
    pub id: String,
    pub url: String,
    /// Feed title as the feed states it.
    pub title: Option<String>,
    pub etag: Option<String>,
    pub last_modified: Option<String>,
    pub last_poll: Option<DateTime<Utc>>,
    pub last_success: Option<DateTime<Utc>>,
    /// HTTP status of the last response, if one arrived.
    pub last_status: Option<u16>,
    /// Last fetch or parse error, cleared by the next success.
    pub last_error: Option<String>,
    pub next_poll: Option<DateTime<Utc>>,
    pub consecutive_failures: u32,
    pub polls: u64,
    /// Polls answered with 304 Not Modified.
    pub not_modified: u64,
    pub last_duration_ms: Option<u64>,
    pub last_bytes: Option<u64>,
    /// The URL the config gave when this state began; `url` is where the feed is polled
    /// and follows permanent redirects. A different URL in the config starts afresh.
    #[serde(default)]
    pub config_url: String,
    /// Why the feed is no longer polled (the publisher answered 410 Gone). Cleared when
    /// the config gives the feed another URL.
    #[serde(default)]
    pub disabled: Option<String>,
    /// The interval the scheduler uses now, in seconds.
    #[serde(default)]
    pub interval_secs: Option<u64>,
    /// Estimated new stories per hour (a moving average over polls).
    #[serde(default)]
    pub rate_per_hour: Option<f64>,
    /// The publisher's own polling hint (RSS `<ttl>`, `Cache-Control: max-age`), seconds.
    #[serde(default)]
    pub publisher_interval_secs: Option<u64>,
    /// Entries of the last document read that could not be read and were skipped.
    #[serde(default)]
    pub skipped_entries: u64,
    /// The first skipped entry's error, with its position (`entry 2 at line 14: …`).
    #[serde(default)]
    pub first_skipped: Option<String>,
    /// The last document read has entries, but none could be read: the feed answers,
    /// yet yields nothing.
    #[serde(default)]
    pub warning: Option<String>,
}

/// Result of offering one candidate to the store.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum IngestOutcome {
    /// A new story was stored.
    New(StoryId),
    /// Recognised as a copy of a stored story; recorded as another source.
    Duplicate(StoryId, MatchKind),
    /// The same copy as before, with a changed title or text; the story was updated.
    Revised(StoryId),
    /// The same copy as before, unchanged: nothing to do.
    Unchanged(StoryId),
}

/// Writes a confidence as what it means, two decimals (`0.95`, not `0.95000005` or,
/// through a JSON value, `0.9500000476837158`).
pub fn confidence_two_decimals<S: serde::Serializer>(c: &f32, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_f64((f64::from(*c) * 100.0).round() / 100.0)
}

/// Identifier of a stored event.
pub type EventId = u64;

/// An event: one real-world meeting, vote, … as reported by one or more stories.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Event {
    pub id: EventId,
    #[serde(rename = "type")]
    pub event_type: String,
    /// What identifies the event within its type: countries joined by '-', or the organisation.
    pub key: String,
    pub countries: Vec<String>,
    pub organization: Option<String>,
    /// Every distinct actor seen across the sources.
    pub actors: Vec<EventActor>,
    pub location: Option<String>,
    pub date: Option<DateSpan>,
    pub modality: Modality,
    /// The highest confidence of any source.
    #[serde(serialize_with = "confidence_two_decimals")]
    pub confidence: f32,
    /// The day the event is filed under: its resolved date, else its first story's
    /// publication day.
    pub anchor: chrono::NaiveDate,
    pub first_seen: DateTime<Utc>,
    pub updated: DateTime<Utc>,
    /// How many times a later story changed the event's modality or date.
    pub revisions: u32,
    pub sources: Vec<EventSource>,
}

/// One story's report of an event.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EventSource {
    pub story: StoryId,
    pub feed: String,
    pub url: Option<String>,
    pub title: String,
    pub published: DateTime<Utc>,
    pub detected_at: DateTime<Utc>,
    pub modality: Modality,
    pub date: Option<DateSpan>,
    #[serde(serialize_with = "confidence_two_decimals")]
    pub confidence: f32,
    pub evidence: Evidence,
}

/// What recording a detection did to the stored events.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum EventChange {
    /// A new event.
    New(EventId),
    /// An existing event changed modality (planned → occurred, → cancelled) or date.
    Updated { id: EventId, from: Modality },
    /// Another source for an existing event, nothing else changed.
    Corroborated(EventId),
}

impl EventChange {
    /// The event changed.
    pub fn id(&self) -> EventId {
        match *self {
            EventChange::New(id) | EventChange::Corroborated(id) => id,
            EventChange::Updated { id, .. } => id,
        }
    }
}

/// Identifier of an alert in the outbox. Assigned once, when the alert is written with
/// its event, and kept through every retry, restart and replay.
pub type AlertId = u64;

/// Why an alert was raised.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum AlertReason {
    /// A new event.
    New,
    /// A significant update of a known event: planned → occurred, or → cancelled.
    Updated { from: Modality },
}

/// One announcement of one event to one sink. It stays in the outbox until the sink
/// accepted it, or moves to the dead-letter list when it cannot be delivered.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Alert {
    pub id: AlertId,
    /// Config id of the sink it goes to.
    pub sink: String,
    pub reason: AlertReason,
    /// The event as it was when the alert was raised.
    pub event: Event,
    pub created: DateTime<Utc>,
    /// When the delivery clock started: `created`, or the last replay. Retries stop once
    /// this is older than the maximum age.
    pub since: DateTime<Utc>,
    /// Delivery attempts made since `since`.
    pub attempts: u32,
    pub next_attempt: DateTime<Utc>,
    pub last_attempt: Option<DateTime<Utc>>,
    /// HTTP status of the last answer, if one arrived.
    pub last_status: Option<u16>,
    pub last_error: Option<String>,
    /// Set when the alert moved to the dead-letter list: why, and when.
    pub dead: Option<DeadLetter>,
}

/// Where a sink's circuit breaker stands (`alerts::breaker`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CircuitState {
    /// The sink works: alerts flow.
    Closed,
    /// One probe alert is in flight; its answer closes or reopens the circuit.
    HalfOpen,
    /// The sink failed: its alerts wait until the next probe.
    Open,
}

impl CircuitState {
    pub fn as_str(&self) -> &'static str {
        match self {
            CircuitState::Closed => "closed",
            CircuitState::HalfOpen => "half_open",
            CircuitState::Open => "open",
        }
    }

    /// The value of the `tidings_sink_state` gauge: 0 closed, 1 half-open, 2 open.
    pub fn gauge(&self) -> i64 {
        match self {
            CircuitState::Closed => 0,
            CircuitState::HalfOpen => 1,
            CircuitState::Open => 2,
        }
    }
}

/// A sink's circuit breaker as saved in the store, for `tidings alerts` and restarts.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SinkCircuit {
    /// Config id of the sink.
    pub sink: String,
    pub state: CircuitState,
    /// Failed attempts in a row (0 when closed); the backoff doubles with each.
    pub failures: u32,
    /// When the state last changed.
    pub since: DateTime<Utc>,
    /// When the next probe may go (open circuits only).
    pub next_probe: Option<DateTime<Utc>>,
    /// State changes over the store's lifetime.
    pub changes: u64,
    /// The failure that opened (or reopened) the circuit.
    pub last_error: Option<String>,
}

/// Why an alert was given up.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DeadLetter {
    pub at: DateTime<Utc>,
    pub reason: String,
}

impl Alert {
    /// The stable message id sinks see (the Standard Webhooks `webhook-id`); the same
    /// for every attempt of this alert.
    pub fn message_id(&self) -> String {
        format!("msg_tidings_{}", self.id)
    }
}

/// Whether an event happened, is planned, or was called off.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Modality {
    Occurred,
    Planned,
    Cancelled,
}

impl Modality {
    pub fn as_str(&self) -> &'static str {
        match self {
            Modality::Occurred => "occurred",
            Modality::Planned => "planned",
            Modality::Cancelled => "cancelled",
        }
    }
}

impl std::str::FromStr for Modality {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        match s {
            "occurred" => Ok(Modality::Occurred),
            "planned" => Ok(Modality::Planned),
            "cancelled" | "canceled" => Ok(Modality::Cancelled),
            _ => Err(format!(
                "{s:?} is not a modality (occurred, planned, cancelled)"
            )),
        }
    }
}

/// One participant of an event.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EventActor {
    /// The official's name, when a known official was resolved.
    pub name: Option<String>,
    /// ISO 3166-1 alpha-3 code of the actor's state.
    pub country: Option<String>,
    pub role: Option<String>,
    /// The words of the text that name the actor.
    pub text: String,
}

/// Which part of the story a sentence came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Field {
    Title,
    Text,
}

/// Why a detection was made.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Evidence {
    pub field: Field,
    pub sentence: String,
    /// Character (Unicode scalar) offsets of the sentence in its field.
    pub start: usize,
    pub end: usize,
    /// The rule that matched, e.g. "bilateral: named + role".
    pub rule: String,
    /// The words that made it: trigger, actors, cues.
    pub matched: Vec<String>,
    /// The day the story's dates ("on Wednesday") and its officials' terms of office were
    /// read against, and where that day came from.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub resolved_against: Option<DatedBy>,
}

/// The day a detection was read against.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct DatedBy {
    pub date: NaiveDate,
    pub basis: DateBasis,
}

/// Where the day a detection was read against came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DateBasis {
    /// The feed's publication date of the story.
    Published,
    /// The feed gave no date: the day tidings first saw the story (an archive feed's
    /// items may be older, and their officials someone else).
    FirstSeen,
}

impl DateBasis {
    pub fn as_str(&self) -> &'static str {
        match self {
            DateBasis::Published => "publication date",
            DateBasis::FirstSeen => "first seen (the feed gave no date)",
        }
    }
}

/// A resolved date or range of dates.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DateSpan {
    pub start: NaiveDate,
    pub end: NaiveDate,
}

impl DateSpan {
    pub fn day(d: NaiveDate) -> DateSpan {
        DateSpan { start: d, end: d }
    }
}

impl std::fmt::Display for DateSpan {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        if self.start == self.end {
            write!(f, "{}", self.start)
        } else {
            write!(f, "{}/{}", self.start, self.end)
        }
    }
}

impl std::str::FromStr for DateSpan {
    type Err = chrono::ParseError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.split_once('/') {
            Some((a, b)) => Ok(DateSpan {
                start: a.parse()?,
                end: b.parse()?,
            }),
            None => s.parse().map(DateSpan::day),
        }
    }
}

impl<'de> serde::Deserialize<'de> for DateSpan {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        s.parse().map_err(serde::de::Error::custom)
    }
}

/// Serialised as ISO 8601: "2023-02-22", or an interval "2023-02-20/2023-02-26".
impl Serialize for DateSpan {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

/// The kinds of sink tidings can deliver to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum SinkKind {
    /// Generic JSON, signed per the Standard Webhooks spec.
    Webhook,
    /// A Slack incoming webhook.
    Slack,
    /// A Discord channel webhook.
    Discord,
    /// An ntfy server (JSON publishing to the server's root URL).
    Ntfy,
}

impl SinkKind {
    pub fn as_str(&self) -> &'static str {
        match self {
            SinkKind::Webhook => "webhook",
            SinkKind::Slack => "slack",
            SinkKind::Discord => "discord",
            SinkKind::Ntfy => "ntfy",
        }
    }
}
