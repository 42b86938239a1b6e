//! What each kind of sink receives for an alert.
//!
//! - **Webhook**: the Standard Webhooks convention — `type` (`event.new` or
//!   `event.updated`), `timestamp`, and `data` carrying the alert id, the whole event and,
//!   for updates, the modality it had before.
//! - **Slack**: an incoming-webhook message with a fallback `text` and Block Kit blocks.
//! - **Discord**: a webhook message with one embed; it never pings anyone.
//! - **ntfy**: a JSON publish to the server root (topic, title, message, tags, click,
//!   priority).
//!
//! Story titles, evidence sentences and names come from the news and can contain
//! anything, so every piece of such text is made safe for the sink it goes to: control
//! and bidirectional-override characters are removed, Slack's `&`, `<` and `>` become
//! entities (and a link's URL cannot close or split the `<url|title>` syntax), Discord
//! markdown is escaped and `@everyone`/`@here` cannot mention anyone, and ntfy gets plain
//! text. Every piece is cut to fit the sink's limits, always between whole characters
//! (and whole escapes), ending with "…" when something was cut.

use std::fmt::Write as _;

use chrono::{DateTime, SecondsFormat, Utc};
use serde_json::{json, Map, Value};

use crate::model::DateSpan;
use crate::model::SinkKind;
use crate::model::{Alert, AlertReason, Event, EventSource};
use crate::model::{EventActor, Modality};

/// Ends text that was cut to fit a limit.
const ELLIPSIS: &str = "…";

/// Actors listed by name before the rest are counted ("and 3 others").
const MAX_ACTORS_LISTED: usize = 8;

/// ntfy topic used when the sink names none.
const DEFAULT_NTFY_TOPIC: &str = "tidings";

// Slack limits, counted in UTF-16 code units (never fewer than characters, so the limit
// holds however Slack counts). A section's text may be 3000 characters long; the pieces
// below add up to less than that with the markup around them.
const SLACK_SECTION_MAX: usize = 3000;
const SLACK_TEXT_MAX: usize = 3000;
const SLACK_HEADLINE_MAX: usize = 300;
const SLACK_ACTORS_MAX: usize = 600;
const SLACK_PLACE_MAX: usize = 300;
const SLACK_EVIDENCE_MAX: usize = 800;
/// A longer source URL is not linked (a cut URL would lead elsewhere).
const SLACK_URL_MAX: usize = 700;
const SLACK_LINK_LABEL_MAX: usize = 250;
/// Markup around the pieces: `*…*`, line breaks, `>`, `<|>`, `_…_`.
const SLACK_MARKUP: usize = 16;
const _: () = assert!(
    SLACK_HEADLINE_MAX
        + SLACK_ACTORS_MAX
        + SLACK_PLACE_MAX
        + SLACK_EVIDENCE_MAX
        + SLACK_URL_MAX
        + SLACK_LINK_LABEL_MAX
        + SLACK_MARKUP
        <= SLACK_SECTION_MAX
);

// Discord limits, counted in UTF-16 code units as above. An embed's title, description,
// field names and values together may not exceed 6000.
const DISCORD_CONTENT_MAX: usize = 2000;
const DISCORD_TITLE_MAX: usize = 256;
const DISCORD_DESCRIPTION_MAX: usize = 4096;
const DISCORD_EMBED_TOTAL_MAX: usize = 6000;
const DISCORD_ACTORS_MAX: usize = 1500;
const DISCORD_EVIDENCE_MAX: usize = 2000;
const DISCORD_SOURCE_TITLE_MAX: usize = 300;
/// Markup around the description's pieces: blank line, `> `, line break, `— `.
const DISCORD_DESCRIPTION_MARKUP: usize = 8;
/// Each field value is cut to this (Discord allows 1024).
const DISCORD_FIELD_VALUE_MAX: usize = 200;
/// At most this many fields, with names of at most this length.
const DISCORD_FIELDS_MAX: usize = 7;
const DISCORD_FIELD_NAME_MAX: usize = 12;
const _: () = assert!(
    DISCORD_ACTORS_MAX
        + DISCORD_EVIDENCE_MAX
        + DISCORD_SOURCE_TITLE_MAX
        + DISCORD_DESCRIPTION_MARKUP
        <= DISCORD_DESCRIPTION_MAX
);
const _: () = assert!(
    DISCORD_TITLE_MAX
        + DISCORD_DESCRIPTION_MAX
        + DISCORD_FIELDS_MAX * (DISCORD_FIELD_NAME_MAX + DISCORD_FIELD_VALUE_MAX)
        <= DISCORD_EMBED_TOTAL_MAX
);

// ntfy limits, in bytes: a longer message would be turned into an attachment.
const NTFY_MESSAGE_MAX: usize = 4096;
const NTFY_TITLE_MAX: usize = 256;

/// The JSON body sent to a sink of `kind` for `alert`. `ntfy_topic` is the topic for ntfy
/// sinks (ignored by the others).
pub fn render(kind: SinkKind, alert: &Alert, ntfy_topic: Option<&str>) -> Value {
    match kind {
        SinkKind::Webhook => webhook(alert),
        SinkKind::Slack => slack(alert),
        SinkKind::Discord => discord(alert),
        SinkKind::Ntfy => ntfy(alert, ntfy_topic),
    }
}

/// One plain-text line summarising the alert, e.g.
/// "Bilateral meeting, occurred: CHN–RUS — Wang Yi (CHN, top diplomat) and Vladimir Putin
/// (RUS, head of state), Moscow, 2023-02-22"
pub fn summary(alert: &Alert) -> String {
    let text = Text::of(alert);
    let details: Vec<&str> = [text.actors.as_str(), text.place_date.as_str()]
        .into_iter()
        .filter(|s| !s.is_empty())
        .collect();
    if details.is_empty() {
        text.headline
    } else {
        format!("{} — {}", text.headline, details.join(", "))
    }
}

// ---------------------------------------------------------------------------------------
// The sinks

/// Standard Webhooks body: `type`, `timestamp`, `data`.
fn webhook(alert: &Alert) -> Value {
    let (kind, previous) = match alert.reason {
        AlertReason::New => ("event.new", None),
        AlertReason::Updated { from } => ("event.updated", Some(from)),
    };
    let event = event_json(&alert.event);
    let mut data = Map::new();
    data.insert("alert_id".into(), Value::String(alert.message_id()));
    data.insert("event".into(), event);
    if let Some(from) = previous {
        data.insert(
            "previous_modality".into(),
            Value::String(from.as_str().into()),
        );
    }
    json!({
        "type": kind,
        "timestamp": rfc3339(alert.created),
        "data": data,
    })
}

/// The event exactly as serde writes it. Going through the text form keeps `f32` values
/// as written ("0.92"), where converting straight to a JSON value would widen them to
/// `f64` ("0.9200000166893005"). The event's types serialise without fail (string keys,
/// no fallible custom serialisers); null is only a guard.
fn event_json(event: &Event) -> Value {
    serde_json::to_string(event)
        .ok()
        .and_then(|text| serde_json::from_str(&text).ok())
        .unwrap_or(Value::Null)
}

/// Slack incoming-webhook message: fallback text, a section and a context block.
fn slack(alert: &Alert) -> Value {
    let text = Text::of(alert);
    let mut section = String::new();
    let _ = write!(
        section,
        "*{}*",
        slack_escape(&text.headline, SLACK_HEADLINE_MAX)
    );
    for (line, max) in [
        (&text.actors, SLACK_ACTORS_MAX),
        (&text.place_date, SLACK_PLACE_MAX),
    ] {
        if !line.is_empty() {
            section.push('\n');
            section.push_str(&slack_escape(line, max));
        }
    }
    if let Some(sentence) = text.evidence.filter(|s| !s.is_empty()) {
        section.push_str("\n>");
        section.push_str(&slack_escape(&sentence, SLACK_EVIDENCE_MAX));
    }
    if let Some((url, title)) = &text.link {
        let label = slack_escape(title, SLACK_LINK_LABEL_MAX);
        let url = slack_url(url);
        if url.encode_utf16().count() <= SLACK_URL_MAX {
            let label = if label.is_empty() {
                "source".to_string()
            } else {
                label
            };
            let _ = write!(section, "\n<{url}|{label}>");
        } else if !label.is_empty() {
            let _ = write!(section, "\n_{label}_");
        }
    } else if let Some(title) = text.source_title.as_deref().filter(|t| !t.is_empty()) {
        let _ = write!(section, "\n_{}_", slack_escape(title, SLACK_LINK_LABEL_MAX));
    }
    // The pieces' limits (checked at compile time above) keep the section within Slack's.
    debug_assert!(utf16_len(&section) <= SLACK_SECTION_MAX);

    json!({
        "text": slack_escape(&summary(alert), SLACK_TEXT_MAX),
        "blocks": [
            {
                "type": "section",
                "text": {"type": "mrkdwn", "text": section},
            },
            {
                "type": "context",
                "elements": [
                    {"type": "mrkdwn", "text": slack_escape(&text.footer, SLACK_TEXT_MAX)},
                ],
            },
        ],
    })
}

/// Discord webhook message: a short headline and one embed; mentions are disabled.
fn discord(alert: &Alert) -> Value {
    let text = Text::of(alert);
    let event = &alert.event;

    let mut description = String::new();
    if !text.actors.is_empty() {
        description.push_str(&discord_escape(&text.actors, DISCORD_ACTORS_MAX));
    }
    if let Some(sentence) = text.evidence.filter(|s| !s.is_empty()) {
        if !description.is_empty() {
            description.push_str("\n\n");
        }
        description.push_str("> ");
        description.push_str(&discord_escape(&sentence, DISCORD_EVIDENCE_MAX));
    }
    if let Some(title) = text.source_title.as_deref().filter(|t| !t.is_empty()) {
        if !description.is_empty() {
            description.push('\n');
        }
        description.push_str("— ");
        description.push_str(&discord_escape(title, DISCORD_SOURCE_TITLE_MAX));
    }
    // The pieces' limits (checked at compile time above) keep it within Discord's.
    debug_assert!(utf16_len(&description) <= DISCORD_DESCRIPTION_MAX);

    let mut fields = vec![field(
        "Countries",
        &or_dash(&clean(&event.countries.join(", "))),
    )];
    if let Some(org) = &event.organization {
        fields.push(field("Organization", &or_dash(&clean(org))));
    }
    fields.push(field("Modality", &text.modality));
    fields.push(field("Date", &or_dash(&text.date)));
    fields.push(field(
        "Location",
        &or_dash(&event.location.as_deref().map(clean).unwrap_or_default()),
    ));
    fields.push(field("Sources", &event.sources.len().to_string()));
    fields.push(field("Confidence", &format!("{:.2}", event.confidence)));

    let mut embed = Map::new();
    embed.insert(
        "title".into(),
        Value::String(discord_escape(&text.headline, DISCORD_TITLE_MAX)),
    );
    if !description.is_empty() {
        embed.insert("description".into(), Value::String(description));
    }
    if let Some((url, _)) = &text.link {
        embed.insert("url".into(), Value::String(url.clone()));
    }
    embed.insert("timestamp".into(), Value::String(rfc3339(alert.created)));
    embed.insert("color".into(), Value::from(modality_colour(event.modality)));
    embed.insert("fields".into(), Value::Array(fields));

    json!({
        "content": discord_escape(&text.headline, DISCORD_CONTENT_MAX),
        "embeds": [embed],
        "allowed_mentions": {"parse": []},
    })
}

/// ntfy JSON publish: plain text throughout.
fn ntfy(alert: &Alert, topic: Option<&str>) -> Value {
    let text = Text::of(alert);
    let mut lines: Vec<String> = Vec::new();
    for line in [&text.actors, &text.place_date] {
        if !line.is_empty() {
            lines.push(line.clone());
        }
    }
    if let Some(sentence) = text.evidence.filter(|s| !s.is_empty()) {
        if !lines.is_empty() {
            lines.push(String::new());
        }
        lines.push(format!("“{sentence}”"));
    }
    let message = if lines.is_empty() {
        text.headline.clone()
    } else {
        lines.join("\n")
    };

    let mut body = Map::new();
    body.insert(
        "topic".into(),
        Value::String(topic.unwrap_or(DEFAULT_NTFY_TOPIC).to_string()),
    );
    body.insert(
        "title".into(),
        Value::String(ntfy_text(&text.headline, NTFY_TITLE_MAX)),
    );
    body.insert(
        "message".into(),
        Value::String(ntfy_text(&message, NTFY_MESSAGE_MAX)),
    );
    body.insert(
        "tags".into(),
        json!([
            ntfy_text(&alert.event.event_type, NTFY_TITLE_MAX),
            alert.event.modality.as_str()
        ]),
    );
    if let Some((url, _)) = &text.link {
        body.insert("click".into(), Value::String(url.clone()));
    }
    body.insert("priority".into(), Value::from(ntfy_priority(alert)));
    Value::Object(body)
}

/// 4 (high) for a new event that occurred or was cancelled, 3 (default) otherwise.
fn ntfy_priority(alert: &Alert) -> u8 {
    match (alert.reason, alert.event.modality) {
        (AlertReason::New, Modality::Occurred | Modality::Cancelled) => 4,
        _ => 3,
    }
}

/// Embed side colour: green for occurred, blue for planned, red for cancelled.
fn modality_colour(modality: Modality) -> u32 {
    match modality {
        Modality::Occurred => 0x2e_a0_43,
        Modality::Planned => 0x1f_6f_eb,
        Modality::Cancelled => 0xcf_22_2e,
    }
}

fn field(name: &str, value: &str) -> Value {
    json!({
        "name": name,
        "value": discord_escape(value, DISCORD_FIELD_VALUE_MAX),
        "inline": true,
    })
}

fn or_dash(s: &str) -> String {
    if s.trim().is_empty() {
        "—".into()
    } else {
        s.to_string()
    }
}

fn rfc3339(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(SecondsFormat::AutoSi, true)
}

// ---------------------------------------------------------------------------------------
// Human wording, shared by every sink (plain, one-line text; each sink escapes it)

/// The alert in words, before any sink's escaping.
struct Text {
    /// "Bilateral meeting, occurred: CHN–RUS".
    headline: String,
    /// "occurred", or "now occurred (was planned)" for updates.
    modality: String,
    /// "Wang Yi (CHN, top diplomat) and Vladimir Putin (RUS, head of state)".
    actors: String,
    /// "2023-02-22", "2023-02-20 to 2023-02-26", or empty.
    date: String,
    /// "Moscow, 2023-02-22", or whichever of the two is known.
    place_date: String,
    /// The evidence sentence of the source that best states the event as it now is.
    evidence: Option<String>,
    /// That source's title.
    source_title: Option<String>,
    /// A web link to a source, and that source's title.
    link: Option<(String, String)>,
    /// "1 source · confidence 0.92".
    footer: String,
}

impl Text {
    fn of(alert: &Alert) -> Text {
        let event = &alert.event;
        let modality = match alert.reason {
            AlertReason::New => event.modality.as_str().to_string(),
            AlertReason::Updated { from } => {
                format!("now {} (was {})", event.modality.as_str(), from.as_str())
            }
        };
        let subject = subject(event);
        let kind = Some(humanise(&event.event_type))
            .filter(|k| !k.is_empty())
            .unwrap_or_else(|| "Event".into());
        let headline = if subject.is_empty() {
            format!("{kind}, {modality}")
        } else {
            format!("{kind}, {modality}: {subject}")
        };
        let date = event.date.map(date_label).unwrap_or_default();
        let place_date = [
            event.location.as_deref().map(clean).unwrap_or_default(),
            date.clone(),
        ]
        .into_iter()
        .filter(|s| !s.is_empty())
        .collect::<Vec<_>>()
        .join(", ");
        let lead = lead_source(event);
        let sources = event.sources.len();
        Text {
            headline,
            modality,
            actors: actors_line(&event.actors),
            date,
            place_date,
            evidence: lead.map(|s| clean(&s.evidence.sentence)),
            source_title: lead.map(|s| clean(&s.title)),
            link: web_link(event),
            footer: format!(
                "{sources} source{} · confidence {:.2}",
                if sources == 1 { "" } else { "s" },
                event.confidence
            ),
        }
    }
}

/// What the event is about: its countries ("CHN–RUS"), else its organisation ("UNGA").
fn subject(event: &Event) -> String {
    if !event.countries.is_empty() {
        clean(&event.countries.join("–"))
    } else if let Some(org) = &event.organization {
        clean(org)
    } else {
        clean(&event.key)
    }
}

/// Words in event type ids that are acronyms: `un_vote` reads "UN vote".
const ACRONYMS: &[&str] = &[
    "un", "eu", "au", "nato", "asean", "brics", "sco", "iaea", "opec", "g7", "g20", "us", "uk",
];

/// An id such as `bilateral_meeting` in words: "Bilateral meeting"; `un_vote`: "UN vote".
fn humanise(id: &str) -> String {
    let words: Vec<String> = id
        .split('_')
        .map(|w| {
            if ACRONYMS.contains(&w) {
                w.to_uppercase()
            } else {
                w.to_string()
            }
        })
        .collect();
    let words = clean(&words.join(" "));
    let mut chars = words.chars();
    match chars.next() {
        Some(first) => first.to_uppercase().chain(chars).collect(),
        None => String::new(),
    }
}

/// "Name (CCC, role)", with the actor's own words when no official was resolved.
fn actor_label(actor: &EventActor) -> String {
    let who = actor
        .name
        .as_deref()
        .map(clean)
        .filter(|n| !n.is_empty())
        .unwrap_or_else(|| clean(&actor.text));
    let details: Vec<String> = [
        actor.country.as_deref().map(clean),
        actor.role.as_deref().map(|r| clean(&r.replace('_', " "))),
    ]
    .into_iter()
    .flatten()
    .filter(|s| !s.is_empty())
    .collect();
    match (who.is_empty(), details.is_empty()) {
        (_, true) => who,
        (true, false) => details.join(", "),
        (false, false) => format!("{who} ({})", details.join(", ")),
    }
}

/// "A", "A and B", "A, B and C", "A, …, H and 3 others".
fn actors_line(actors: &[EventActor]) -> String {
    let mut labels: Vec<String> = actors
        .iter()
        .map(actor_label)
        .filter(|l| !l.is_empty())
        .collect();
    let others = labels.len().saturating_sub(MAX_ACTORS_LISTED);
    labels.truncate(MAX_ACTORS_LISTED);
    if others > 0 {
        labels.push(format!(
            "{others} other{}",
            if others == 1 { "" } else { "s" }
        ));
    }
    match labels.split_last() {
        None => String::new(),
        Some((last, [])) => last.clone(),
        Some((last, rest)) => format!("{} and {last}", rest.join(", ")),
    }
}

fn date_label(span: DateSpan) -> String {
    if span.start == span.end {
        span.start.to_string()
    } else {
        format!("{} to {}", span.start, span.end)
    }
}

/// The source that best states the event as it now is: the first whose modality is the
/// event's (for an update, the first story that reported the change), else the first.
fn lead_source(event: &Event) -> Option<&EventSource> {
    event
        .sources
        .iter()
        .find(|s| s.modality == event.modality)
        .or_else(|| event.sources.first())
}

/// A link to the event's coverage: the lead source's URL, else the first other source
/// with one. Only absolute http(s) URLs qualify; the sinks reject or cannot open others.
fn web_link(event: &Event) -> Option<(String, String)> {
    let lead = lead_source(event);
    lead.into_iter().chain(event.sources.iter()).find_map(|s| {
        let url = s.url.as_deref()?;
        let parsed = url::Url::parse(url).ok()?;
        matches!(parsed.scheme(), "http" | "https").then(|| (parsed.to_string(), clean(&s.title)))
    })
}

/// Text from the news made single-line and inert: line breaks and tabs become spaces,
/// other control characters and bidirectional overrides are dropped, runs of spaces
/// collapse and the ends are trimmed.
fn clean(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut space = false;
    for c in s.chars() {
        if c.is_whitespace() {
            space = !out.is_empty();
            continue;
        }
        if c.is_control() || is_bidi_control(c) {
            continue;
        }
        if space {
            out.push(' ');
            space = false;
        }
        out.push(c);
    }
    out
}

/// Characters that reorder the display of the text around them.
fn is_bidi_control(c: char) -> bool {
    matches!(c, '\u{200e}' | '\u{200f}' | '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}')
}

// ---------------------------------------------------------------------------------------
// Escaping and fitting

fn utf16_len(s: &str) -> usize {
    s.encode_utf16().count()
}

fn byte_len(s: &str) -> usize {
    s.len()
}

/// Joins `units` (each a character or one escape) while they fit in `max` as measured by
/// `width`; when they do not all fit, keeps the longest run of whole units that leaves
/// room for "…" and ends with it. Never cuts inside a unit, so never inside a character
/// or an escape.
fn fit<'a>(
    units: impl IntoIterator<Item = &'a str>,
    max: usize,
    width: fn(&str) -> usize,
) -> String {
    let ellipsis = width(ELLIPSIS);
    let mut out = String::new();
    let mut used = 0;
    // Length of `out` at the last point where "…" would still fit after it.
    let mut safe = 0;
    for unit in units {
        let w = width(unit);
        if used + w > max {
            out.truncate(safe);
            out.push_str(ELLIPSIS);
            return out;
        }
        out.push_str(unit);
        used += w;
        if used + ellipsis <= max {
            safe = out.len();
        }
    }
    out
}

/// Splits `s` into one `&str` per character, for [`fit`].
fn chars_of(s: &str) -> impl Iterator<Item = &str> {
    s.char_indices().map(move |(i, c)| &s[i..i + c.len_utf8()])
}

/// Slack text: `&`, `<` and `>` as entities, cut to `max`.
fn slack_escape(s: &str, max: usize) -> String {
    let units = chars_of(s).map(|c| match c {
        "&" => "&amp;",
        "<" => "&lt;",
        ">" => "&gt;",
        other => other,
    });
    fit(units, max, utf16_len)
}

/// A URL for Slack's `<url|label>`: `|`, `<`, `>` and spaces percent-encoded so the URL
/// cannot end the link or start its label early, and `&` as an entity.
fn slack_url(url: &str) -> String {
    let mut out = String::with_capacity(url.len());
    for c in url.chars() {
        match c {
            '|' => out.push_str("%7C"),
            '<' => out.push_str("%3C"),
            '>' => out.push_str("%3E"),
            ' ' => out.push_str("%20"),
            '&' => out.push_str("&amp;"),
            c if c.is_control() => {}
            c => out.push(c),
        }
    }
    out
}

/// Discord text: markdown characters escaped with a backslash, `@everyone` and `@here`
/// broken by a zero-width space, cut to `max`.
fn discord_escape(s: &str, max: usize) -> String {
    let mut units: Vec<&str> = Vec::with_capacity(s.len());
    for (i, c) in s.char_indices() {
        let rest = &s[i + c.len_utf8()..];
        let unit: &str = match c {
            '\\' => "\\\\",
            '*' => "\\*",
            '_' => "\\_",
            '~' => "\\~",
            '`' => "\\`",
            '|' => "\\|",
            '>' => "\\>",
            '<' => "\\<",
            '#' => "\\#",
            '[' => "\\[",
            ']' => "\\]",
            // A list or small-text marker only at the start of a line.
            '-' if i == 0 => "\\-",
            '@' if starts_with_ignore_case(rest, "everyone")
                || starts_with_ignore_case(rest, "here") =>
            {
                "@\u{200b}"
            }
            _ => &s[i..i + c.len_utf8()],
        };
        units.push(unit);
    }
    fit(units, max, utf16_len)
}

fn starts_with_ignore_case(s: &str, prefix: &str) -> bool {
    s.get(..prefix.len())
        .is_some_and(|head| head.eq_ignore_ascii_case(prefix))
}

/// ntfy text: plain, without control characters other than line breaks, cut to `max`
/// bytes.
fn ntfy_text(s: &str, max: usize) -> String {
    let units = chars_of(s).filter(|c| *c == "\n" || !c.chars().any(|ch| ch.is_control()));
    fit(units, max, byte_len)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{Evidence, Field};
    use chrono::{NaiveDate, TimeZone};

    fn at(h: u32) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2023, 2, 22, h, 0, 0)
            .single()
            .expect("valid time")
    }

    fn actor(name: Option<&str>, country: &str, role: &str, text: &str) -> EventActor {
        EventActor {
            name: name.map(str::to_string),
            country: Some(country.into()),
            role: Some(role.into()),
            text: text.into(),
        }
    }

    fn source(title: &str, url: Option<&str>, sentence: &str, modality: Modality) -> EventSource {
        EventSource {
            story: 7,
            feed: "wire".into(),
            url: url.map(str::to_string),
            title: title.into(),
            published: at(12),
            detected_at: at(13),
            modality,
            date: None,
            confidence: 0.9,
            evidence: Evidence {
                resolved_against: None,
                field: Field::Text,
                sentence: sentence.into(),
                start: 0,
                end: sentence.chars().count(),
                rule: "bilateral: named + role".into(),
                matched: vec![],
            },
        }
    }

    fn alert() -> Alert {
        let day = NaiveDate::from_ymd_opt(2023, 2, 22).expect("valid date");
        Alert {
            id: 42,
            sink: "ops".into(),
            reason: AlertReason::New,
            event: Event {
                id: 9,
                event_type: "bilateral_meeting".into(),
                key: "CHN-RUS".into(),
                countries: vec!["CHN".into(), "RUS".into()],
                organization: None,
                actors: vec![
                    actor(Some("Wang Yi"), "CHN", "top_diplomat", "Wang Yi"),
                    actor(
                        Some("Vladimir Putin"),
                        "RUS",
                        "head_of_state",
                        "President Vladimir Putin",
                    ),
                ],
                location: Some("Moscow".into()),
                date: Some(DateSpan::day(day)),
                modality: Modality::Occurred,
                confidence: 0.92,
                anchor: day,
                first_seen: at(13),
                updated: at(13),
                revisions: 0,
                sources: vec![source(
                    "Putin meets Wang Yi",
                    Some("https://example.com/putin-wang"),
                    "Putin received Wang Yi at the Kremlin on Wednesday.",
                    Modality::Occurred,
                )],
            },
            created: at(14),
            since: at(14),
            attempts: 0,
            next_attempt: at(14),
            last_attempt: None,
            last_status: None,
            last_error: None,
            dead: None,
        }
    }

    fn str_at<'a>(v: &'a Value, pointer: &str) -> &'a str {
        v.pointer(pointer)
            .and_then(Value::as_str)
            .unwrap_or_else(|| panic!("no string at {pointer} in {v}"))
    }

    fn slack_section(v: &Value) -> &str {
        str_at(v, "/blocks/0/text/text")
    }

    #[test]
    fn summary_reads_as_one_line() {
        assert_eq!(
            summary(&alert()),
            "Bilateral meeting, occurred: CHN–RUS — Wang Yi (CHN, top diplomat) and \
             Vladimir Putin (RUS, head of state), Moscow, 2023-02-22"
        );
    }

    #[test]
    fn updates_say_what_changed() {
        let mut a = alert();
        a.reason = AlertReason::Updated {
            from: Modality::Planned,
        };
        assert!(summary(&a).starts_with("Bilateral meeting, now occurred (was planned): CHN–RUS"));
        let discord = render(SinkKind::Discord, &a, None);
        assert_eq!(
            str_at(&discord, "/embeds/0/fields/1/value"),
            "now occurred (was planned)"
        );
        let webhook = render(SinkKind::Webhook, &a, None);
        assert_eq!(str_at(&webhook, "/type"), "event.updated");
        assert_eq!(str_at(&webhook, "/data/previous_modality"), "planned");
        let ntfy = render(SinkKind::Ntfy, &a, None);
        assert_eq!(ntfy["priority"], 3);
        assert!(str_at(&ntfy, "/title").contains("now occurred (was planned)"));
    }

    #[test]
    fn new_events_have_no_previous_modality() {
        let webhook = render(SinkKind::Webhook, &alert(), None);
        assert_eq!(str_at(&webhook, "/type"), "event.new");
        assert!(webhook.pointer("/data/previous_modality").is_none());
        assert_eq!(str_at(&webhook, "/data/alert_id"), "msg_tidings_42");
        assert_eq!(str_at(&webhook, "/timestamp"), "2023-02-22T14:00:00Z");
        // The event is the same JSON the store and the CLI write.
        let written: Value =
            serde_json::from_str(&serde_json::to_string(&alert().event).expect("serialises"))
                .expect("parses");
        assert_eq!(webhook["data"]["event"], written);
        assert_eq!(webhook["data"]["event"]["confidence"], json!(0.92));
    }

    #[test]
    fn update_quotes_the_source_that_reported_the_change() {
        let mut a = alert();
        a.reason = AlertReason::Updated {
            from: Modality::Planned,
        };
        a.event.sources.insert(
            0,
            source(
                "Wang Yi to visit Moscow",
                Some("https://example.com/plan"),
                "Wang Yi will travel to Moscow next week.",
                Modality::Planned,
            ),
        );
        let slack = render(SinkKind::Slack, &a, None);
        let section = slack_section(&slack);
        assert!(section.contains("Putin received Wang Yi"), "{section}");
        assert!(section.contains("<https://example.com/putin-wang|Putin meets Wang Yi>"));
    }

    #[test]
    fn organisation_events_show_the_organisation() {
        let mut a = alert();
        a.event.event_type = "un_vote".into();
        a.event.countries.clear();
        a.event.organization = Some("UNGA".into());
        a.event.actors.clear();
        a.event.modality = Modality::Planned;
        assert!(summary(&a).starts_with("UN vote, planned: UNGA"));
        assert_eq!(render(SinkKind::Ntfy, &a, Some("news"))["priority"], 3);
    }

    #[test]
    fn actors_fall_back_to_their_words_and_long_lists_are_counted() {
        let mut a = alert();
        a.event.actors = vec![actor(
            None,
            "RUS",
            "foreign_minister",
            "the Russian foreign minister",
        )];
        assert!(summary(&a).contains("the Russian foreign minister (RUS, foreign minister)"));
        a.event.actors = (0..11)
            .map(|i| actor(Some(&format!("Person {i}")), "RUS", "official", "x"))
            .collect();
        let s = summary(&a);
        assert!(s.contains("Person 7 (RUS, official) and 3 others"), "{s}");
        assert!(!s.contains("Person 8"));
    }

    #[test]
    fn slack_escapes_user_text_and_links() {
        let mut a = alert();
        a.event.sources[0].title = "<script>alert(1)</script> a|b> & co".into();
        a.event.sources[0].url = Some("https://evil.example/a|b>c<d&e=1".into());
        a.event.sources[0].evidence.sentence =
            "Talks <b>went</b> well & <!everyone> cheered".into();
        let v = render(SinkKind::Slack, &a, None);
        let section = slack_section(&v);
        assert!(!section.contains("<script>"), "{section}");
        assert!(section.contains("&lt;script&gt;alert(1)&lt;/script&gt;"));
        assert!(section.contains("&lt;!everyone&gt;"));
        assert!(section.contains("&amp; co"));
        // The link is the only `<…>` in the text, and its URL holds no `|`, `<` or `>`.
        let link_start = section.find('<').expect("a link");
        let link = &section[link_start..];
        assert_eq!(section.matches('<').count(), 1, "{section}");
        let (url, label) = link[1..link.len() - 1].split_once('|').expect("url|label");
        assert_eq!(url, "https://evil.example/a%7Cb%3Ec%3Cd&amp;e=1");
        assert!(!label.contains('>') && !label.contains('<'));
        assert!(link.ends_with('>'));
        assert!(!str_at(&v, "/text").contains('<'));
    }

    #[test]
    fn non_web_urls_are_not_linked() {
        let mut a = alert();
        a.event.sources[0].url = Some("javascript:alert(1)".into());
        let slack = render(SinkKind::Slack, &a, None);
        assert!(!slack_section(&slack).contains("javascript"));
        let discord = render(SinkKind::Discord, &a, None);
        assert!(discord.pointer("/embeds/0/url").is_none());
        let ntfy = render(SinkKind::Ntfy, &a, None);
        assert!(ntfy.get("click").is_none());
    }

    #[test]
    fn discord_escapes_markdown_and_mentions() {
        let mut a = alert();
        a.event.location = Some("@here *bold* [x](https://e.x)".into());
        a.event.sources[0].evidence.sentence =
            "@everyone look: *bold* _it_ `code` ~~s~~ | > # \\".into();
        a.event.actors[0].name = Some("@Everyone".into());
        let v = render(SinkKind::Discord, &a, None);
        let description = str_at(&v, "/embeds/0/description");
        assert!(
            description.contains("@\u{200b}everyone look"),
            "{description}"
        );
        assert!(description.contains("@\u{200b}Everyone (CHN"));
        assert!(
            description.contains("\\*bold\\* \\_it\\_ \\`code\\` \\~\\~s\\~\\~ \\| \\> \\# \\\\")
        );
        let location = str_at(&v, "/embeds/0/fields/3/value");
        assert_eq!(location, "@\u{200b}here \\*bold\\* \\[x\\](https://e.x)");
        assert_eq!(v["allowed_mentions"], json!({"parse": []}));
        let serialised = v.to_string();
        assert!(!serialised.contains("@everyone") && !serialised.contains("@here"));
    }

    #[test]
    fn ntfy_is_plain_text_without_control_characters() {
        let mut a = alert();
        a.event.sources[0].evidence.sentence =
            "Bell\u{7} and\r\nbreak\u{1b}[31m red\u{202e}".into();
        a.event.location = Some("Mos\u{0}cow".into());
        let v = render(SinkKind::Ntfy, &a, Some("world-news"));
        assert_eq!(str_at(&v, "/topic"), "world-news");
        let message = str_at(&v, "/message");
        assert!(
            !message
                .chars()
                .any(|c| (c.is_control() && c != '\n') || is_bidi_control(c)),
            "{message:?}"
        );
        assert!(message.contains("“Bell and break[31m red”"), "{message:?}");
        assert!(message.contains("Moscow, 2023-02-22"));
        assert_eq!(v["priority"], 4);
        assert_eq!(v["tags"], json!(["bilateral_meeting", "occurred"]));
        assert_eq!(str_at(&v, "/click"), "https://example.com/putin-wang");
        assert_eq!(
            str_at(&render(SinkKind::Ntfy, &a, None), "/topic"),
            "tidings"
        );
    }

    #[test]
    fn long_multibyte_text_fits_every_limit() {
        let long = "é".repeat(5000);
        let mut a = alert();
        a.event.sources[0].evidence.sentence = long.clone();
        a.event.sources[0].title = long.clone();
        a.event.location = Some(long.clone());
        a.event.actors[0].name = Some(long.clone());
        a.event.event_type = "é".repeat(3000);

        let slack = render(SinkKind::Slack, &a, None);
        let section = slack_section(&slack);
        assert!(section.chars().count() <= SLACK_SECTION_MAX);
        assert!(section.contains(ELLIPSIS));
        assert!(str_at(&slack, "/text").chars().count() <= SLACK_TEXT_MAX);

        let discord = render(SinkKind::Discord, &a, None);
        assert!(str_at(&discord, "/content").chars().count() <= DISCORD_CONTENT_MAX);
        assert!(str_at(&discord, "/embeds/0/title").chars().count() <= DISCORD_TITLE_MAX);
        let description = str_at(&discord, "/embeds/0/description");
        assert!(description.chars().count() <= DISCORD_DESCRIPTION_MAX);
        let mut total =
            str_at(&discord, "/embeds/0/title").chars().count() + description.chars().count();
        for f in discord["embeds"][0]["fields"].as_array().expect("fields") {
            let value = f["value"].as_str().expect("value");
            assert!(value.chars().count() <= 1024);
            total += value.chars().count() + f["name"].as_str().expect("name").chars().count();
        }
        assert!(total <= DISCORD_EMBED_TOTAL_MAX);

        let ntfy = render(SinkKind::Ntfy, &a, None);
        let message = str_at(&ntfy, "/message");
        assert!(message.len() <= NTFY_MESSAGE_MAX);
        assert!(message.ends_with(ELLIPSIS));
        assert!(str_at(&ntfy, "/title").len() <= NTFY_TITLE_MAX);
    }

    #[test]
    fn cutting_never_splits_an_escape_or_a_character() {
        // Each "&" becomes five characters; the cut must fall between whole escapes.
        let cut = slack_escape(&"&".repeat(100), 23);
        assert_eq!(cut, format!("{}…", "&amp;".repeat(4)));
        let cut = discord_escape(&"*".repeat(100), 10);
        assert_eq!(cut, format!("{}…", "\\*".repeat(4)));
        // Four-byte characters, cut by bytes.
        let cut = ntfy_text(&"🌍".repeat(10), 11);
        assert_eq!(cut, "🌍🌍…");
        // Text that fits is left whole.
        assert_eq!(slack_escape("a<b", 6), "a&lt;b");
        assert_eq!(ntfy_text("ab", 2), "ab");
    }

    #[test]
    fn clean_makes_text_single_line() {
        assert_eq!(clean("  a\n\tb \u{7}c\u{202e}d  "), "a b cd");
        assert_eq!(humanise("bilateral_meeting"), "Bilateral meeting");
        assert_eq!(humanise(""), "");
    }
}
