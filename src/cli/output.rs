//! How the CLI prints feeds and stories: aligned tables for people, JSON for machines.

use std::io::Write;

use anyhow::Result;
use chrono::{DateTime, Utc};
use serde::Serialize;

use tidings::config::Config;
use tidings::detect::Detection;
use tidings::eval::Report;
use tidings::model::{Event, FeedState, Story};
use tidings::store::Store;

/// One feed as `tidings feeds` shows it: its saved state (which carries `id` and `url`)
/// plus what the config and the store add.
#[derive(Serialize)]
struct FeedRow {
    name: Option<String>,
    in_config: bool,
    health: &'static str,
    stories: u64,
    #[serde(flatten)]
    state: FeedState,
}

fn health(state: &FeedState) -> &'static str {
    match (state.last_poll, state.consecutive_failures) {
        (None, _) => "never polled",
        (Some(_), 0) => "ok",
        (Some(_), _) => "failing",
    }
}

pub fn feeds(config: &Config, store: Option<&Store>, json: bool) -> Result<()> {
    let mut rows = Vec::new();
    for feed in &config.feeds {
        let saved = store.map(|s| s.feed_state(&feed.id)).transpose()?.flatten();
        let state = saved.unwrap_or_else(|| FeedState {
            id: feed.id.clone(),
            url: feed.url.to_string(),
            ..FeedState::default()
        });
        rows.push(FeedRow {
            name: feed.name.clone(),
            in_config: true,
            health: health(&state),
            stories: store
                .map(|s| s.feed_story_count(&feed.id))
                .transpose()?
                .unwrap_or(0),
            state,
        });
    }
    if let Some(s) = store {
        for state in s.feed_states()? {
            if config.feed(&state.id).is_none() {
                rows.push(FeedRow {
                    name: None,
                    in_config: false,
                    health: "not in config",
                    stories: s.feed_story_count(&state.id)?,
                    state,
                });
            }
        }
    }
    let mut out = std::io::stdout().lock();
    if json {
        serde_json::to_writer_pretty(&mut out, &rows)?;
        writeln!(out)?;
        return Ok(());
    }
    writeln!(
        out,
        "{:<24} {:<13} {:<17} {:>4} {:>7} {:<17} LAST ERROR",
        "FEED", "HEALTH", "LAST POLL", "HTTP", "STORIES", "NEXT POLL"
    )?;
    for r in &rows {
        writeln!(
            out,
            "{:<24} {:<13} {:<17} {:>4} {:>7} {:<17} {}",
            r.state.id,
            r.health,
            time(r.state.last_poll),
            r.state
                .last_status
                .map(|s| s.to_string())
                .unwrap_or_else(|| "-".into()),
            r.stories,
            time(r.state.next_poll),
            r.state.last_error.as_deref().unwrap_or("")
        )?;
    }
    Ok(())
}

pub fn stories(stories: &[Story], json: bool) -> Result<()> {
    let mut out = std::io::stdout().lock();
    if json {
        serde_json::to_writer_pretty(&mut out, stories)?;
        writeln!(out)?;
        return Ok(());
    }
    writeln!(
        out,
        "{:>8} {:<17} {:<20} {:>3} TITLE",
        "ID", "PUBLISHED", "FEED", "SRC"
    )?;
    for s in stories {
        writeln!(
            out,
            "{:>8} {:<17} {:<20} {:>3} {}",
            s.id,
            time(Some(s.published)),
            s.feed,
            s.sources.len(),
            clip(&s.title, 90)
        )?;
    }
    Ok(())
}

pub fn story(story: &Story, json: bool) -> Result<()> {
    let mut out = std::io::stdout().lock();
    if json {
        serde_json::to_writer_pretty(&mut out, story)?;
        writeln!(out)?;
        return Ok(());
    }
    writeln!(out, "story {}", story.id)?;
    writeln!(out, "title:      {}", story.title)?;
    writeln!(out, "url:        {}", story.url.as_deref().unwrap_or("-"))?;
    writeln!(
        out,
        "published:  {}{}",
        story.published.to_rfc3339(),
        if story.published_from_feed {
            ""
        } else {
            " (first seen; the feed gave no date)"
        }
    )?;
    writeln!(out, "first seen: {}", story.first_seen.to_rfc3339())?;
    writeln!(out, "feed:       {}", story.feed)?;
    writeln!(
        out,
        "language:   {}",
        story.language.as_deref().unwrap_or("-")
    )?;
    writeln!(out, "text:       {}", story.text)?;
    writeln!(out, "sources ({}):", story.sources.len())?;
    for s in &story.sources {
        writeln!(
            out,
            "  - {} [{}] seen {}",
            s.feed,
            s.matched_by.label(),
            s.seen_at.to_rfc3339()
        )?;
        writeln!(out, "    guid:  {}", s.guid)?;
        writeln!(out, "    url:   {}", s.url.as_deref().unwrap_or("-"))?;
        writeln!(out, "    title: {}", s.title)?;
    }
    if !story.revisions.is_empty() {
        writeln!(out, "earlier revisions ({}):", story.revisions.len())?;
        for r in &story.revisions {
            writeln!(out, "  - until {}: {}", r.seen_at.to_rfc3339(), r.title)?;
        }
    }
    Ok(())
}

fn time(t: Option<DateTime<Utc>>) -> String {
    t.map(|t| t.format("%Y-%m-%d %H:%M").to_string())
        .unwrap_or_else(|| "-".into())
}

fn clip(s: &str, max: usize) -> String {
    if s.chars().count() <= max {
        s.to_string()
    } else {
        let mut c: String = s.chars().take(max - 1).collect();
        c.push('…');
        c
    }
}

pub fn detections(events: &[Detection], json: bool) -> Result<()> {
    let mut out = std::io::stdout().lock();
    if json {
        serde_json::to_writer_pretty(&mut out, events)?;
        writeln!(out)?;
        return Ok(());
    }
    if events.is_empty() {
        writeln!(out, "no events found")?;
    }
    for e in events {
        let key = if e.countries.is_empty() {
            e.organization.clone().unwrap_or_default()
        } else {
            e.countries.join("–")
        };
        writeln!(
            out,
            "{}  {}  {}  date {}  location {}  confidence {:.2}",
            e.event_type,
            key,
            e.modality.as_str(),
            e.date.map(|d| d.to_string()).unwrap_or_else(|| "-".into()),
            e.location.as_deref().unwrap_or("-"),
            e.confidence
        )?;
        for a in &e.actors {
            writeln!(
                out,
                "  actor: {} ({}, {}) — \"{}\"",
                a.name.as_deref().unwrap_or("-"),
                a.country.as_deref().unwrap_or("-"),
                a.role.as_deref().unwrap_or("-"),
                a.text
            )?;
        }
        writeln!(
            out,
            "  rule: {}; matched: {}",
            e.evidence.rule,
            e.evidence.matched.join(", ")
        )?;
        writeln!(
            out,
            "  evidence ({} chars {}–{}): {}",
            match e.evidence.field {
                tidings::detect::Field::Title => "title",
                tidings::detect::Field::Text => "text",
            },
            e.evidence.start,
            e.evidence.end,
            e.evidence.sentence
        )?;
    }
    Ok(())
}

pub fn eval_report(report: &Report, errors: bool, json: bool) -> Result<()> {
    let mut out = std::io::stdout().lock();
    if json {
        serde_json::to_writer_pretty(&mut out, report)?;
        writeln!(out)?;
        return Ok(());
    }
    if errors {
        for e in &report.errors {
            writeln!(
                out,
                "{} {} {} {}: {}",
                e.article, e.kind, e.event_type, e.key, e.detail
            )?;
        }
        writeln!(out)?;
    }
    writeln!(out, "{} articles", report.articles)?;
    writeln!(
        out,
        "{:<22} {:>4} {:>4} {:>4} {:>9} {:>7} {:>6} {:>9}",
        "type", "tp", "fp", "fn", "precision", "recall", "f1", "modality"
    )?;
    for (t, s) in &report.types {
        writeln!(
            out,
            "{:<22} {:>4} {:>4} {:>4} {:>9.3} {:>7.3} {:>6.3} {:>9.3}",
            t,
            s.true_positives,
            s.false_positives,
            s.false_negatives,
            s.precision,
            s.recall,
            s.f1,
            s.modality_accuracy
        )?;
    }
    writeln!(
        out,
        "modality accuracy on matched events: {:.3}",
        report.modality_accuracy
    )?;
    if !report.unscored.is_empty() {
        let list: Vec<String> = report
            .unscored
            .iter()
            .map(|(t, n)| format!("{t} {n}"))
            .collect();
        writeln!(
            out,
            "not scored (no labels of these types): {}",
            list.join(", ")
        )?;
    }
    Ok(())
}

fn event_key(countries: &[String], organization: Option<&str>) -> String {
    if countries.is_empty() {
        organization.unwrap_or("-").to_string()
    } else {
        countries.join("–")
    }
}

pub fn events(events: &[Event], json: bool) -> Result<()> {
    let mut out = std::io::stdout().lock();
    if json {
        serde_json::to_writer_pretty(&mut out, events)?;
        writeln!(out)?;
        return Ok(());
    }
    writeln!(
        out,
        "{:>8} {:<10} {:<20} {:<14} {:<10} {:>4} {:>4} LOCATION",
        "ID", "DATE", "TYPE", "KEY", "MODALITY", "CONF", "SRC"
    )?;
    for e in events {
        writeln!(
            out,
            "{:>8} {:<10} {:<20} {:<14} {:<10} {:>4.2} {:>4} {}",
            e.id,
            e.anchor,
            e.event_type,
            event_key(&e.countries, e.organization.as_deref()),
            e.modality.as_str(),
            e.confidence,
            e.sources.len(),
            e.location.as_deref().unwrap_or("")
        )?;
    }
    Ok(())
}

pub fn event(store: &Store, e: &Event, json: bool) -> Result<()> {
    let mut out = std::io::stdout().lock();
    if json {
        serde_json::to_writer_pretty(&mut out, e)?;
        writeln!(out)?;
        return Ok(());
    }
    writeln!(
        out,
        "event {}: {} {}",
        e.id,
        e.event_type,
        event_key(&e.countries, e.organization.as_deref())
    )?;
    writeln!(
        out,
        "modality:   {} (revisions: {})",
        e.modality.as_str(),
        e.revisions
    )?;
    writeln!(
        out,
        "date:       {}",
        e.date
            .map(|d| d.to_string())
            .unwrap_or_else(|| format!("- (filed under {})", e.anchor))
    )?;
    writeln!(out, "location:   {}", e.location.as_deref().unwrap_or("-"))?;
    writeln!(out, "confidence: {:.2}", e.confidence)?;
    writeln!(
        out,
        "first seen: {}; updated {}",
        e.first_seen.to_rfc3339(),
        e.updated.to_rfc3339()
    )?;
    writeln!(out, "actors:")?;
    for a in &e.actors {
        writeln!(
            out,
            "  - {} ({}, {}) \"{}\"",
            a.name.as_deref().unwrap_or("-"),
            a.country.as_deref().unwrap_or("-"),
            a.role.as_deref().unwrap_or("-"),
            a.text
        )?;
    }
    writeln!(out, "sources ({}):", e.sources.len())?;
    for s in &e.sources {
        writeln!(
            out,
            "  - story {} from {} ({}), published {}",
            s.story,
            s.feed,
            s.url.as_deref().unwrap_or("-"),
            s.published.to_rfc3339()
        )?;
        writeln!(out, "    title:    {}", s.title)?;
        writeln!(
            out,
            "    says:     {} {}",
            s.modality.as_str(),
            s.date.map(|d| d.to_string()).unwrap_or_default()
        )?;
        writeln!(
            out,
            "    rule:     {}; matched: {}",
            s.evidence.rule,
            s.evidence.matched.join(", ")
        )?;
        writeln!(out, "    evidence: {}", s.evidence.sentence)?;
        if let Some(story) = store.story(s.story)? {
            if story.sources.len() > 1 {
                let outlets: Vec<&str> = story.sources.iter().map(|x| x.feed.as_str()).collect();
                writeln!(
                    out,
                    "    story also carried by: {}",
                    outlets[1..].join(", ")
                )?;
            }
        }
    }
    Ok(())
}
