//! How the CLI prints feeds and stories: aligned tables for people, JSON for machines.

use std::io::Write;

use anyhow::Result;
use chrono::{DateTime, Utc};
use serde::Serialize;

use tidings::config::Config;
use tidings::model::{FeedState, Story};
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
