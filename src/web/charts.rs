//! The pictures, drawn server-side as SVG: a timeline of events per day by type, a world
//! map shading countries by event count with meetings drawn between capitals, and a
//! country's page with its counterparts ranked. Each comes with its numbers as a table
//! too (for screen readers and for copying).

use std::collections::{BTreeMap, BTreeSet};

use chrono::{Duration, NaiveDate, Utc};
use maud::{html, Markup};

use super::filters::{encode, DayRange, FilterError};
use super::layout::page;
use super::pages::{country_name, events_table, type_label};
use super::world::world;
use super::WebError;
use crate::store::{EventQuery, Store};

/// Days a picture covers when the URL names no range: the 30 days up to the newest
/// event's day.
const DEFAULT_DAYS: i64 = 30;
/// The longest timeline, in days.
const MAX_TIMELINE_DAYS: i64 = 366;
/// Events of one country read for its page, at most.
const COUNTRY_EVENTS: usize = 20_000;
/// Links drawn on the map at most (the pairs with the most events).
const MAX_LINKS: usize = 400;
/// Colours of the event types (Okabe–Ito, told apart with colour-blindness).
const PALETTE: &[&str] = &[
    "#0072B2", "#E69F00", "#009E73", "#CC79A7", "#56B4E9", "#D55E00", "#8C6D1F", "#000000",
];
/// Shades of the map, none to most events.
const SHADES: &[&str] = &[
    "#e9ecef", "#c6dbef", "#9ecae1", "#6baed6", "#3182bd", "#08519c",
];

/// The range a picture shows: the URL's, or the 30 days up to the newest event (today
/// when there is none).
fn resolve(store: &Store, range: DayRange) -> Result<(NaiveDate, NaiveDate), WebError> {
    let newest = store
        .newest_event_day()?
        .unwrap_or_else(|| Utc::now().date_naive());
    Ok(match (range.from, range.to) {
        (Some(f), Some(t)) => (f, t),
        (Some(f), None) => (f, (f + Duration::days(DEFAULT_DAYS - 1)).max(newest)),
        (None, Some(t)) => (t - Duration::days(DEFAULT_DAYS - 1), t),
        (None, None) => (newest - Duration::days(DEFAULT_DAYS - 1), newest),
    })
}

fn range_form(action: &str, from: NaiveDate, to: NaiveDate, extra: Markup) -> Markup {
    html! {
        form.filters method="get" action=(action) aria-label="Choose the days shown" {
            div { label for="r-from" { "From" } input #r-from type="date" name="from" value=(from); }
            div { label for="r-to" { "To" } input #r-to type="date" name="to" value=(to); }
            (extra)
            div.actions { button type="submit" { "Show" } }
        }
    }
}

fn colour(types: &[String], t: &str) -> &'static str {
    let i = types.iter().position(|x| x == t).unwrap_or(0);
    PALETTE[i % PALETTE.len()]
}

/// Events per day, stacked by type.
pub fn timeline_page(store: &Store, range: DayRange) -> Result<Markup, WebError> {
    let (from, to) = resolve(store, range)?;
    let days = (to - from).num_days() + 1;
    if days > MAX_TIMELINE_DAYS {
        return Err(WebError::Filter(FilterError {
            name: "from",
            value: from.to_string(),
            reason: format!("the timeline shows at most {MAX_TIMELINE_DAYS} days ({days} asked)"),
        }));
    }
    let tallies = store.event_tallies(Some(from), Some(to), None)?;
    let types: Vec<String> = tallies
        .by_day_and_type
        .keys()
        .map(|(_, t)| t.clone())
        .collect::<BTreeSet<_>>()
        .into_iter()
        .collect();
    let mut per_day: BTreeMap<NaiveDate, Vec<(&str, u64)>> = BTreeMap::new();
    for ((d, t), n) in &tallies.by_day_and_type {
        per_day.entry(*d).or_default().push((t.as_str(), *n));
    }
    let max = per_day
        .values()
        .map(|v| v.iter().map(|(_, n)| n).sum::<u64>())
        .max()
        .unwrap_or(0)
        .max(1);
    let total: u64 = tallies.by_day_and_type.values().sum();
    let (w, h, left, bottom, top) = (960.0, 280.0, 44.0, 36.0, 10.0);
    let plot_w = w - left - 10.0;
    let plot_h = h - bottom - top;
    let bar = plot_w / days as f64;
    let label_every = ((days as f64) / 10.0).ceil().max(1.0) as i64;
    let y = |n: f64| top + plot_h - plot_h * n / max as f64;
    // One rectangle per day and type, stacked.
    let mut rects = Vec::new();
    for (day, stack) in &per_day {
        let x = left + bar * (*day - from).num_days() as f64;
        let mut below = 0u64;
        for (t, n) in stack {
            let y_top = y((below + n) as f64);
            let height = y(below as f64) - y_top;
            below += n;
            rects.push((*day, x, y_top, height, *t, *n));
        }
    }
    let svg = html! {
        svg.chart viewBox={ "0 0 " (w) " " (h) } role="img" aria-labelledby="tl-title" {
            title #tl-title { "Events per day by type, " (from) " to " (to) }
            line.axis x1=(left) y1=(top + plot_h) x2=(w - 10.0) y2=(top + plot_h) {}
            @for tick in [0, max / 2, max] {
                text.tick x=(left - 6.0) y=(y(tick as f64) + 4.0) text-anchor="end" { (tick) }
                line.grid x1=(left) y1=(y(tick as f64)) x2=(w - 10.0) y2=(y(tick as f64)) {}
            }
            @for i in 0..days {
                @let day = from + Duration::days(i);
                @let x = left + bar * i as f64;
                @if i % label_every == 0 {
                    text.tick x=(x + bar / 2.0) y=(h - bottom + 16.0) text-anchor="middle" { (day.format("%m-%d")) }
                }
            }
            @for (day, x, y_top, height, t, n) in &rects {
                a href={ "/?" (encode(&[("type", t.to_string()), ("from", day.to_string()), ("to", day.to_string())])) } {
                    rect x=(x + bar * 0.1) y=(y_top) width=(bar * 0.8) height=(height) fill=(colour(&types, t)) {
                        title { (day) ": " (n) " " (type_label(t)) }
                    }
                }
            }
        }
    };
    Ok(page(
        "Timeline",
        "/timeline",
        html! {
            h1 { "Timeline" }
            (range_form("/timeline", from, to, html! {}))
            p.summary { (total) " events filed from " (from) " to " (to) ", by the day they are filed under." }
            ul.legend aria-label="Event types" {
                @for t in &types {
                    li { span.swatch style={ "background:" (colour(&types, t)) } {} (type_label(t)) }
                }
            }
            figure { (svg) }
            details {
                summary { "The numbers" }
                table {
                    caption { "Events per day and type" }
                    thead { tr { th scope="col" { "Day" } @for t in &types { th scope="col" { (type_label(t)) } } } }
                    tbody {
                        @for (d, stack) in &per_day {
                            tr {
                                th scope="row" { (d) }
                                @for t in &types {
                                    td.num { (stack.iter().find(|(x, _)| x == t).map(|(_, n)| *n).unwrap_or(0)) }
                                }
                            }
                        }
                    }
                }
            }
        },
    ))
}

/// The shade class (0 to 5) of `n` events when the busiest country has `max`.
fn shade(n: u64, max: u64) -> usize {
    if n == 0 {
        return 0;
    }
    let level = ((n as f64).ln_1p() / (max.max(1) as f64).ln_1p() * 5.0).ceil() as usize;
    level.clamp(1, 5)
}

/// The world map: countries shaded by events, links of one type between capitals.
pub fn map_page(store: &Store, range: DayRange, links: Option<String>) -> Result<Markup, WebError> {
    let (from, to) = resolve(store, range)?;
    let link_type = links.unwrap_or_else(|| "bilateral_meeting".to_string());
    let tallies = store.event_tallies(Some(from), Some(to), Some(&link_type))?;
    let types = store.event_types()?;
    let w = world();
    let max = tallies.by_country.values().copied().max().unwrap_or(0);
    let mut pairs: Vec<(String, String, u64)> = tallies
        .by_key
        .iter()
        .filter(|((t, _), _)| *t == link_type)
        .filter_map(|((_, key), n)| {
            let (a, b) = key.split_once('-')?;
            (a.len() == 3 && b.len() == 3).then(|| (a.to_string(), b.to_string(), *n))
        })
        .collect();
    pairs.sort_by(|x, y| y.2.cmp(&x.2).then_with(|| (&x.0, &x.1).cmp(&(&y.0, &y.1))));
    let drawn: Vec<_> = pairs
        .iter()
        .filter_map(|(a, b, n)| Some((a, b, *n, w.capitals.get(a)?, w.capitals.get(b)?)))
        .take(MAX_LINKS)
        .collect();
    let mut ranked: Vec<(&String, &u64)> = tallies.by_country.iter().collect();
    ranked.sort_by(|x, y| y.1.cmp(x.1).then_with(|| x.0.cmp(y.0)));
    let range_query = encode(&[("from", from.to_string()), ("to", to.to_string())]);
    let svg = html! {
        svg.map viewBox={ "0 0 " (w.width) " " (w.height) } role="img" aria-labelledby="map-title" {
            title #map-title { "Countries shaded by events from " (from) " to " (to) "; " (type_label(&link_type)) "s drawn between capitals" }
            rect.sea x="0" y="0" width=(w.width) height=(w.height) {}
            @for c in &w.countries {
                @match &c.code {
                    Some(code) => {
                        @let n = tallies.by_country.get(code).copied().unwrap_or(0);
                        a href={ "/countries/" (code) "?" (range_query) } {
                            path.country d=(c.d) fill=(SHADES[shade(n, max)]) data-code=(code) {
                                title { (c.name) ": " (n) " event" @if n != 1 { "s" } }
                            }
                        }
                    }
                    None => { path.country d=(c.d) fill=(SHADES[0]) { title { (c.name) } } }
                }
            }
            @for (a, b, n, ca, cb) in &drawn {
                @let (mx, my) = ((ca.x + cb.x) / 2.0, (ca.y + cb.y) / 2.0);
                @let (dx, dy) = (cb.x - ca.x, cb.y - ca.y);
                @let (cx, cy) = (mx + dy * 0.2, my - dx.abs() * 0.2 - dy.abs() * 0.05);
                path.link d={ "M" (ca.x) "," (ca.y) " Q" (cx) "," (cy) " " (cb.x) "," (cb.y) }
                    stroke-width=(((*n as f64).sqrt() * 1.5 + 0.5).min(8.0)) {
                    title { (country_name(a)) " – " (country_name(b)) ": " (n) " " (type_label(&link_type)) @if *n != 1 { "s" } }
                }
            }
            @for code in drawn.iter().flat_map(|(a, b, ..)| [*a, *b]).collect::<BTreeSet<_>>() {
                @if let Some(c) = w.capitals.get(code) {
                    circle.capital cx=(c.x) cy=(c.y) r="2.5" { title { (c.name) } }
                }
            }
        }
    };
    Ok(page(
        "Map",
        "/map",
        html! {
            h1 { "Map" }
            (range_form("/map", from, to, html! {
                div {
                    label for="r-links" { "Links drawn" }
                    select #r-links name="links" {
                        @for t in &types {
                            option value=(t) selected[*t == link_type] { (type_label(t)) }
                        }
                        @if !types.contains(&link_type) {
                            option value=(link_type) selected { (type_label(&link_type)) }
                        }
                    }
                }
            }))
            p.summary {
                (tallies.by_country.len()) " countries with events from " (from) " to " (to) "; "
                (pairs.len()) " pairs of countries with a " (type_label(&link_type)) " (" (drawn.len()) " drawn between capitals"
                @if drawn.len() == MAX_LINKS { ": the " (MAX_LINKS) " with the most" }
                ")."
            }
            ul.legend aria-label="Shades" {
                li { span.swatch style={ "background:" (SHADES[0]) } {} "none" }
                @for level in 1..SHADES.len() {
                    li { span.swatch style={ "background:" (SHADES[level]) } {} "level " (level) }
                }
                li { span.swatch.line {} (type_label(&link_type)) " between capitals" }
            }
            figure.map-figure { (svg) figcaption { "Outlines: Natural Earth 1:110m (public domain). Capitals: GeoNames (CC BY 4.0)." } }
            div.side-by-side {
                table {
                    caption { "Countries by events" }
                    thead { tr { th scope="col" { "Country" } th scope="col" { "Events" } } }
                    tbody {
                        @for (code, n) in ranked.iter().take(25) {
                            tr { th scope="row" { a href={ "/countries/" (code) "?" (range_query) } { (country_name(code)) } } td.num { (n) } }
                        }
                    }
                }
                table {
                    caption { "Pairs by " (type_label(&link_type)) "s" }
                    thead { tr { th scope="col" { "Pair" } th scope="col" { "Events" } } }
                    tbody {
                        @for (a, b, n) in pairs.iter().take(25) {
                            tr { th scope="row" { (country_name(a)) " – " (country_name(b)) } td.num { (n) } }
                        }
                    }
                }
            }
        },
    ))
}

/// One country: its events' counterparts ranked, and its latest events.
pub fn country_page(store: &Store, code: &str, range: DayRange) -> Result<Markup, WebError> {
    let query = EventQuery {
        country: Some(code.to_string()),
        since: range.from,
        limit: Some(COUNTRY_EVENTS),
        ..EventQuery::default()
    };
    let events = store.events_between(&query, range.to, None)?;
    struct Counterpart {
        events: u64,
        types: BTreeMap<String, u64>,
        latest: NaiveDate,
    }
    let mut counterparts: BTreeMap<&str, Counterpart> = BTreeMap::new();
    let mut by_type: BTreeMap<&str, u64> = BTreeMap::new();
    for e in &events {
        *by_type.entry(e.event_type.as_str()).or_default() += 1;
        for c in e.countries.iter().filter(|c| *c != code) {
            let entry = counterparts.entry(c.as_str()).or_insert(Counterpart {
                events: 0,
                types: BTreeMap::new(),
                latest: e.anchor,
            });
            entry.events += 1;
            *entry.types.entry(e.event_type.clone()).or_default() += 1;
            entry.latest = entry.latest.max(e.anchor);
        }
    }
    let mut ranked: Vec<(&str, &Counterpart)> = counterparts.iter().map(|(k, v)| (*k, v)).collect();
    ranked.sort_by(|a, b| b.1.events.cmp(&a.1.events).then_with(|| a.0.cmp(b.0)));
    let name = country_name(code);
    let range_text = match (range.from, range.to) {
        (None, None) => "all stored days".to_string(),
        (f, t) => format!(
            "{} to {}",
            f.map(|d| d.to_string())
                .unwrap_or_else(|| "the first".into()),
            t.map(|d| d.to_string())
                .unwrap_or_else(|| "the last".into())
        ),
    };
    let capped = events.len() == COUNTRY_EVENTS;
    let list_link = format!("/?{}", encode(&[("country", code.to_string())]));
    Ok(page(
        name,
        "/map",
        html! {
            h1 { (name) " " small { "(" (code) ")" } }
            @if let Some(c) = world().capitals.get(code) { p.meta { "Capital: " (c.name) } }
            p.summary {
                (events.len()) " event" @if events.len() != 1 { "s" } " (" (range_text) ")"
                @if capped { ", the newest " (COUNTRY_EVENTS) " counted" }
                @for (t, n) in &by_type { " · " (n) " " (type_label(t)) }
                " · " a href=(list_link) { "list them" }
            }
            h2 { "Counterparts" }
            @if ranked.is_empty() {
                p { "No event of " (name) " names another country." }
            } @else {
                table.counterparts {
                    caption { "Countries in events with " (name) ", most first" }
                    thead { tr { th scope="col" { "Rank" } th scope="col" { "Country" } th scope="col" { "Events" } th scope="col" { "Types" } th scope="col" { "Latest" } } }
                    tbody {
                        @for (i, (c, cp)) in ranked.iter().enumerate() {
                            tr {
                                td.num { (i + 1) }
                                th scope="row" { a href={ "/countries/" (c) } { (country_name(c)) } }
                                td.num { (cp.events) }
                                td { @for (j, (t, n)) in cp.types.iter().enumerate() { @if j > 0 { ", " } (n) " " (type_label(t)) } }
                                td { (cp.latest) }
                            }
                        }
                    }
                }
            }
            h2 { "Latest events" }
            (events_table(&events[..events.len().min(25)], &format!("The latest events of {name}"), None))
        },
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shades_grow_with_the_count_and_only_zero_is_blank() {
        assert_eq!(shade(0, 10), 0);
        assert_eq!(shade(1, 1), 5);
        assert_eq!(shade(1, 1000), 1);
        assert_eq!(shade(1000, 1000), 5);
        assert!(shade(30, 1000) < shade(300, 1000));
    }
}
