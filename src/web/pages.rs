//! The reading pages: events (filtered), one event with its evidence, one story, feed
//! health and the alert outbox. Each takes the store (and config) and returns markup;
//! every value from the store is spliced escaped.

use chrono::Duration;
use maud::{html, Markup};

use super::evidence::{in_context, CONTEXT_CHARS};
use super::filters::{EventFilters, DEFAULT_LIMIT, MAX_LIMIT};
use super::layout::{article_link, confidence, page, time_cell, when};
use super::world;
use super::WebError;
use crate::config::Config;
use crate::model::{AlertReason, Event, Field, Modality};
use crate::store::{AlertState, EventQuery, Store};
use crate::views;

/// Events or alerts listed at most on one page.
const ALERTS_SHOWN: usize = 500;
/// Days around a story's publication searched for its events.
const STORY_EVENT_DAYS: i64 = 60;

/// A country's name, or its code when the map does not know it.
pub fn country_name(code: &str) -> &str {
    world::name_of(code).unwrap_or(code)
}

/// An event type as words: `bilateral_meeting` → `bilateral meeting`.
pub fn type_label(t: &str) -> String {
    t.replace('_', " ")
}

fn parties(event: &Event) -> Markup {
    html! {
        @for (i, c) in event.countries.iter().enumerate() {
            @if i > 0 { " – " }
            a href={ "/countries/" (c) } { (country_name(c)) }
        }
        @if let Some(o) = &event.organization {
            @if !event.countries.is_empty() { " · " }
            (o)
        }
    }
}

fn headline(event: &Event) -> &str {
    event
        .sources
        .first()
        .map(|s| s.title.as_str())
        .unwrap_or("(no source)")
}

fn date_text(event: &Event) -> String {
    match event.date {
        Some(d) => d.to_string(),
        None => event.anchor.to_string(),
    }
}

/// One row of an events table (also sent to the live script).
pub fn event_row(event: &Event) -> Markup {
    html! {
        tr data-event-id=(event.id) {
            td { time datetime=(event.anchor) { (date_text(event)) } }
            td { (type_label(&event.event_type)) }
            td { (parties(event)) }
            td { (event.location.as_deref().unwrap_or("—")) }
            td { span class={ "modality " (event.modality.as_str()) } { (event.modality.as_str()) } }
            td.num { (confidence(event.confidence)) }
            td.num { (event.sources.len()) }
            td { a href={ "/events/" (event.id) } { (headline(event)) } }
        }
    }
}

/// The head of an events table.
fn events_head() -> Markup {
    html! {
        thead {
            tr {
                th scope="col" { "Day" }
                th scope="col" { "Type" }
                th scope="col" { "Parties" }
                th scope="col" { "Place" }
                th scope="col" { "Modality" }
                th scope="col" { "Confidence" }
                th scope="col" { "Sources" }
                th scope="col" { "Headline" }
            }
        }
    }
}

/// A table of events with a caption.
pub fn events_table(events: &[Event], caption: &str, body_id: Option<&str>) -> Markup {
    html! {
        table.events {
            caption { (caption) }
            (events_head())
            tbody id=[body_id] {
                @for e in events { (event_row(e)) }
            }
        }
    }
}

fn filter_form(f: &EventFilters, types: &[String], countries: &[String]) -> Markup {
    let modalities = [Modality::Occurred, Modality::Planned, Modality::Cancelled];
    html! {
        form.filters method="get" action="/" role="search" aria-label="Filter events" {
            div {
                label for="f-type" { "Type" }
                select #f-type name="type" {
                    option value="" { "any" }
                    @for t in types {
                        option value=(t) selected[f.event_type.as_deref() == Some(t.as_str())] { (type_label(t)) }
                    }
                }
            }
            div {
                label for="f-country" { "Country (ISO code)" }
                input #f-country name="country" list="f-countries" size="6" value=[f.country.as_deref()] placeholder="FRA";
                datalist #f-countries {
                    @for c in countries { option value=(c) { (country_name(c)) } }
                }
            }
            div {
                label for="f-modality" { "Modality" }
                select #f-modality name="modality" {
                    option value="" { "any" }
                    @for m in modalities {
                        option value=(m.as_str()) selected[f.modality == Some(m)] { (m.as_str()) }
                    }
                }
            }
            div {
                label for="f-conf" { "Minimum confidence" }
                input #f-conf type="number" name="min_confidence" min="0" max="1" step="0.05"
                    value=[f.min_confidence.map(|c| format!("{c}"))];
            }
            div {
                label for="f-from" { "From" }
                input #f-from type="date" name="from" value=[f.range.from.map(|d| d.to_string())];
            }
            div {
                label for="f-to" { "To" }
                input #f-to type="date" name="to" value=[f.range.to.map(|d| d.to_string())];
            }
            @if f.limit != DEFAULT_LIMIT {
                input type="hidden" name="limit" value=(f.limit);
            }
            div.actions {
                button type="submit" { "Filter" }
                " "
                a href="/" { "Clear" }
            }
        }
    }
}

/// The events page: the filters, a reserved box for events that arrive while it is
/// open, and the table, newest first.
pub fn render_events_page(store: &Store, f: &EventFilters) -> Result<Markup, WebError> {
    let events = store.events_between(&f.query(), f.range.to, f.min_confidence)?;
    let types = store.event_types()?;
    let countries = store.event_countries()?;
    let stored = store.event_count()?;
    let more = (events.len() == f.limit && f.limit < MAX_LIMIT).then(|| {
        let mut wider = f.clone();
        wider.limit = (f.limit * 2).min(MAX_LIMIT);
        format!("/?{}", wider.query_string())
    });
    let filters_json = f.query_string();
    Ok(page(
        "Events",
        "/",
        html! {
            h1 { "Events" }
            (filter_form(f, &types, &countries))
            p.summary {
                "Showing " (events.len()) " event" @if events.len() != 1 { "s" }
                ", newest first, of " (stored) " stored."
                @if let Some(href) = &more { " " a href=(href) { "Show more" } }
            }
            section #live .live aria-labelledby="live-title" data-filters=(filters_json) {
                h2 #live-title { "Arrived while this page is open" }
                div.live-box aria-live="polite" {
                    table.events {
                        caption.visually-hidden { "Events that arrived live" }
                        (events_head())
                        tbody #live-rows {}
                    }
                    p #live-empty { "New and updated events that pass the filters appear here, without a reload." }
                }
            }
            @if events.is_empty() {
                p.empty { "No stored event passes these filters." }
            }
            (events_table(&events, "Stored events", Some("event-rows")))
        },
    ))
}

/// The modality history: the sources in the order they were read, each change of
/// modality kept.
fn history(event: &Event) -> Vec<(Modality, &crate::model::EventSource)> {
    let mut sources: Vec<_> = event.sources.iter().collect();
    sources.sort_by_key(|s| (s.detected_at, s.published));
    let mut out: Vec<(Modality, &crate::model::EventSource)> = Vec::new();
    for s in sources {
        if out.last().is_none_or(|(m, _)| *m != s.modality) {
            out.push((s.modality, s));
        }
    }
    out
}

/// One event: its facts, parties, modality history and sources with their evidence.
pub fn event_page(store: &Store, id: u64) -> Result<Markup, WebError> {
    let event = store
        .event(id)?
        .ok_or_else(|| WebError::NotFound(format!("no event with id {id}")))?;
    let mut contexts = Vec::new();
    for s in &event.sources {
        let story = store.story(s.story)?;
        let field = story.as_ref().map(|st| match s.evidence.field {
            Field::Title => st.title.as_str(),
            Field::Text => st.text.as_str(),
        });
        contexts.push(in_context(field.unwrap_or(""), &s.evidence, CONTEXT_CHARS));
    }
    let title = format!("{} {}", type_label(&event.event_type), event.key);
    let changes = history(&event);
    Ok(page(
        &title,
        "/",
        html! {
            h1 { (type_label(&event.event_type)) ": " (parties(&event)) }
            p #event-changed .notice data-event-id=(event.id) role="status" hidden {
                "This event changed since the page was opened: "
                a href={ "/events/" (event.id) } { "reload it" }
                "."
            }
            dl.facts {
                dt { "Date" } dd { (date_text(&event)) @if event.date.is_none() { " (undated: filed under its first report's day)" } }
                dt { "Place" } dd { (event.location.as_deref().unwrap_or("—")) }
                dt { "Modality" } dd { span class={ "modality " (event.modality.as_str()) } { (event.modality.as_str()) } }
                dt { "Confidence" } dd { (confidence(event.confidence)) }
                dt { "First seen" } dd { (time_cell(Some(event.first_seen))) }
                dt { "Updated" } dd { (time_cell(Some(event.updated))) " · " (event.revisions) " revision" @if event.revisions != 1 { "s" } }
            }
            h2 { "Parties" }
            @if event.actors.is_empty() {
                p { "No named party." }
            } @else {
                table.parties {
                    caption.visually-hidden { "Parties and their roles" }
                    thead { tr { th scope="col" { "Party" } th scope="col" { "Role" } th scope="col" { "Country" } th scope="col" { "As written" } } }
                    tbody {
                        @for a in &event.actors {
                            tr {
                                th scope="row" { (a.name.as_deref().unwrap_or(&a.text)) }
                                td { (a.role.as_deref().unwrap_or("—")) }
                                td {
                                    @if let Some(c) = &a.country { a href={ "/countries/" (c) } { (country_name(c)) } } @else { "—" }
                                }
                                td { (a.text) }
                            }
                        }
                    }
                }
            }
            h2 { "Modality history" }
            ol.history {
                @for (m, s) in &changes {
                    li {
                        span class={ "modality " (m.as_str()) } { (m.as_str()) }
                        " — read " (time_cell(Some(s.detected_at)))
                        @if let Some(d) = s.date { ", for " (d.to_string()) }
                        ", in “" (s.title) "”"
                    }
                }
            }
            h2 { "Sources (" (event.sources.len()) ")" }
            @for (s, c) in event.sources.iter().zip(&contexts) {
                article.source {
                    h3 { (article_link(s.url.as_deref(), &s.title)) }
                    p.meta {
                        "Feed " (s.feed) " · published " (time_cell(Some(s.published)))
                        " · " span class={ "modality " (s.modality.as_str()) } { (s.modality.as_str()) }
                        " · confidence " (confidence(s.confidence))
                        " · rule " (s.evidence.rule)
                        " · " a href={ "/stories/" (s.story) } { "story " (s.story) }
                    }
                    blockquote.evidence {
                        (c.before)
                        mark {
                            @for (part, hit) in &c.sentence {
                                @if *hit { strong { (part) } } @else { (part) }
                            }
                        }
                        (c.after)
                    }
                    p.meta { "Evidence from the story's " (match s.evidence.field { Field::Title => "title", Field::Text => "text" })
                        @if let Some(r) = &s.evidence.resolved_against { ", dates read against " (r.date.to_string()) " (" (r.basis.as_str()) ")" }
                        "." }
                }
            }
        },
    ))
}

/// One story: its text, sources, revisions and the events it reports.
pub fn story_page(store: &Store, id: u64) -> Result<Markup, WebError> {
    let story = store
        .story(id)?
        .ok_or_else(|| WebError::NotFound(format!("no story with id {id}")))?;
    let day = story.published.date_naive();
    let around = EventQuery {
        since: Some(day - Duration::days(STORY_EVENT_DAYS)),
        ..EventQuery::default()
    };
    let events: Vec<Event> = store
        .events_between(&around, Some(day + Duration::days(STORY_EVENT_DAYS)), None)?
        .into_iter()
        .filter(|e| e.sources.iter().any(|s| s.story == id))
        .collect();
    Ok(page(
        &story.title,
        "/",
        html! {
            h1 { (article_link(story.url.as_deref(), &story.title)) }
            p.meta {
                "Feed " (story.feed) " · published " (time_cell(Some(story.published)))
                @if !story.published_from_feed { " (the feed gave no date: first seen)" }
                " · first seen " (time_cell(Some(story.first_seen)))
                @if let Some(l) = &story.language { " · language " (l) }
            }
            div.story-text { p { (story.text) } }
            h2 { "Sources (" (story.sources.len()) ")" }
            table {
                caption.visually-hidden { "Where the story was seen" }
                thead { tr { th scope="col" { "Feed" } th scope="col" { "Title" } th scope="col" { "Seen" } th scope="col" { "Matched by" } } }
                tbody {
                    @for s in &story.sources {
                        tr {
                            th scope="row" { (s.feed) }
                            td { (article_link(s.url.as_deref(), &s.title)) }
                            td { (time_cell(Some(s.seen_at))) }
                            td { (s.matched_by.label()) }
                        }
                    }
                }
            }
            h2 { "Revisions (" (story.revisions.len()) ")" }
            @if story.revisions.is_empty() {
                p { "The feed never edited this story." }
            } @else {
                ol.revisions {
                    @for r in &story.revisions {
                        li { "Before " (when(r.seen_at)) ": “" (r.title) "” — " (r.text) }
                    }
                }
            }
            h2 { "Events (" (events.len()) ")" }
            @if events.is_empty() {
                p { "No event was detected in this story." }
            } @else {
                (events_table(&events, "Events this story reports", None))
            }
        },
    ))
}

/// Every feed with its health, last error and next poll.
pub fn feeds_page(config: &Config, store: &Store) -> Result<Markup, WebError> {
    let rows = views::feed_statuses(config, Some(store))?;
    Ok(page(
        "Feeds",
        "/feeds",
        html! {
            h1 { "Feeds" }
            table.feeds {
                caption { (rows.len()) " feeds" }
                thead {
                    tr {
                        th scope="col" { "Feed" } th scope="col" { "Health" } th scope="col" { "Stories" }
                        th scope="col" { "Last poll" } th scope="col" { "Last success" } th scope="col" { "Status" }
                        th scope="col" { "Last error" } th scope="col" { "Next poll" }
                    }
                }
                tbody {
                    @for r in &rows {
                        tr {
                            th scope="row" {
                                (r.state.id)
                                @if let Some(n) = r.name.as_ref().or(r.state.title.as_ref()) { br; small { (n) } }
                            }
                            td { span class={ "health h-" (r.health.replace(' ', "-")) } { (r.health) } }
                            td.num { (r.stories) }
                            td { (time_cell(r.state.last_poll)) }
                            td { (time_cell(r.state.last_success)) }
                            td { @if let Some(s) = r.state.last_status { (s) } @else { "—" } }
                            td.error-text {
                                @if let Some(e) = r.state.last_error.as_ref().or(r.state.warning.as_ref()) { (e) } @else { "—" }
                                @if let Some(d) = &r.state.disabled { br; "disabled: " (d) }
                            }
                            td { (time_cell(r.state.next_poll)) }
                        }
                    }
                }
            }
        },
    ))
}

fn reason(r: &AlertReason) -> String {
    match r {
        AlertReason::New => "new event".into(),
        AlertReason::Updated { from } => format!("updated from {}", from.as_str()),
    }
}

/// The outbox: pending alerts, then dead ones, with their last errors.
pub fn alerts_page(store: &Store) -> Result<Markup, WebError> {
    let pending = store.list_alerts(AlertState::Pending, ALERTS_SHOWN)?;
    let dead = store.list_alerts(AlertState::Dead, ALERTS_SHOWN)?;
    let counts = store.outbox_counts()?;
    let table = |alerts: &[crate::model::Alert], caption: String, is_dead: bool| {
        html! {
            table.alerts {
                caption { (caption) }
                thead {
                    tr {
                        th scope="col" { "Alert" } th scope="col" { "Sink" } th scope="col" { "Why" }
                        th scope="col" { "Event" } th scope="col" { "Attempts" }
                        th scope="col" { @if is_dead { "Dead since" } @else { "Next attempt" } }
                        th scope="col" { "Last status" } th scope="col" { "Last error" }
                    }
                }
                tbody {
                    @for a in alerts {
                        tr {
                            th scope="row" { (a.id) }
                            td { (a.sink) }
                            td { (reason(&a.reason)) }
                            td { a href={ "/events/" (a.event.id) } { (type_label(&a.event.event_type)) " " (a.event.key) } }
                            td.num { (a.attempts) }
                            td {
                                @if let Some(d) = &a.dead { (time_cell(Some(d.at))) } @else { (time_cell(Some(a.next_attempt))) }
                            }
                            td { @if let Some(s) = a.last_status { (s) } @else { "—" } }
                            td.error-text {
                                @if let Some(e) = &a.last_error { (e) } @else { "—" }
                                @if let Some(d) = &a.dead { br; "dead: " (d.reason) }
                            }
                        }
                    }
                }
            }
        }
    };
    Ok(page(
        "Alerts",
        "/alerts",
        html! {
            h1 { "Alerts" }
            p.summary { (counts.pending) " pending, " (counts.dead) " dead. Replay dead alerts with " code { "tidings alerts replay" } "." }
            h2 { "Pending" }
            (table(&pending, format!("Pending alerts (showing {} of {})", pending.len(), counts.pending), false))
            h2 { "Dead" }
            (table(&dead, format!("Dead alerts, newest first (showing {} of {})", dead.len(), counts.dead), true))
        },
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn type_labels_read_as_words() {
        assert_eq!(type_label("bilateral_meeting"), "bilateral meeting");
        assert_eq!(country_name("FRA"), "France");
        assert_eq!(country_name("ZZZ"), "ZZZ");
    }
}
