//! How the CLI prints feeds and stories: aligned tables for people, JSON for machines.
//! Times for people are in local time with the offset shown (`TZ` honoured), or in UTC
//! with `--utc`; JSON keeps RFC 3339 in UTC.

use std::io::Write;

use anyhow::Result;
use chrono::{DateTime, Local, Utc};

use tidings::detect::Detection;
use tidings::eval::Report;
use tidings::model::{Alert, AlertReason, CircuitState, Event, Story, StoryId};
use tidings::views::{EventNotice, FeedStatus, SinkStatus};

pub fn feeds(rows: &[FeedStatus], json: bool) -> Result<()> {
    let mut out = std::io::stdout().lock();
    if json {
        serde_json::to_writer_pretty(&mut out, rows)?;
        writeln!(out)?;
        return Ok(());
    }
    // Several daemons on one database: which one holds each feed.
    let shared = rows
        .iter()
        .any(|r| r.daemon.is_some() || r.last_polled_by.is_some());
    let width = rows
        .iter()
        .filter_map(|r| r.daemon.as_ref().or(r.last_polled_by.as_ref()))
        .map(|d| d.chars().count())
        .max()
        .unwrap_or(0)
        .max("DAEMON".len());
    let daemon_column = |r: Option<&FeedStatus>| match (shared, r) {
        (false, _) => String::new(),
        (true, None) => format!("{:<width$} ", "DAEMON"),
        (true, Some(r)) => format!(
            "{:<width$} ",
            r.daemon
                .as_deref()
                .or(r.last_polled_by.as_deref())
                .unwrap_or("-")
        ),
    };
    row(
        &mut out,
        format!(
            "{:<24} {:<13} {:<23} {:>4} {:>7} {:>8} {:<23} {}LAST ERROR",
            "FEED",
            "HEALTH",
            "LAST POLL",
            "HTTP",
            "STORIES",
            "EVERY",
            "NEXT POLL",
            daemon_column(None)
        ),
    )?;
    for r in rows {
        let note = match (&r.state.disabled, &r.state.last_error) {
            (Some(why), _) => why.clone(),
            (None, Some(e)) => e.clone(),
            (None, None) if r.state.warning.is_some() => {
                r.state.warning.clone().unwrap_or_default()
            }
            (None, None) if r.state.skipped_entries > 0 => format!(
                "{} entr{} skipped: {}",
                r.state.skipped_entries,
                if r.state.skipped_entries == 1 {
                    "y"
                } else {
                    "ies"
                },
                r.state.first_skipped.as_deref().unwrap_or("")
            ),
            (None, None) if r.state.url != r.state.config_url && !r.state.config_url.is_empty() => {
                format!("moved permanently to {}", r.state.url)
            }
            (None, None) => String::new(),
        };
        row(
            &mut out,
            format!(
                "{:<24} {:<13} {:<23} {:>4} {:>7} {:>8} {:<23} {}{}",
                r.state.id,
                r.health,
                time(r.state.last_poll),
                r.state
                    .last_status
                    .map(|s| s.to_string())
                    .unwrap_or_else(|| "-".into()),
                r.stories,
                r.state
                    .interval_secs
                    .map(
                        |s| humantime::format_duration(std::time::Duration::from_secs(s))
                            .to_string()
                    )
                    .unwrap_or_else(|| "-".into()),
                time(r.state.next_poll),
                daemon_column(Some(r)),
                note
            ),
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
    row(
        &mut out,
        format!(
            "{:>8} {:<23} {:<20} {:>3} TITLE",
            "ID", "PUBLISHED", "FEED", "SRC"
        ),
    )?;
    for s in stories {
        row(
            &mut out,
            format!(
                "{:>8} {:<23} {:<20} {:>3} {}",
                s.id,
                time(Some(s.published)),
                s.feed,
                s.sources.len(),
                s.title
            ),
        )?;
    }
    Ok(())
}

/// One story in full, with the events it reported (`events`).
pub fn story(story: &Story, events: &[Event], json: bool) -> Result<()> {
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
        stamp(story.published),
        if story.published_from_feed {
            ""
        } else {
            " (first seen; the feed gave no date)"
        }
    )?;
    writeln!(out, "first seen: {}", stamp(story.first_seen))?;
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
            stamp(s.seen_at)
        )?;
        writeln!(out, "    guid:  {}", s.guid)?;
        writeln!(out, "    url:   {}", s.url.as_deref().unwrap_or("-"))?;
        writeln!(out, "    title: {}", s.title)?;
    }
    if !story.revisions.is_empty() {
        writeln!(out, "earlier revisions ({}):", story.revisions.len())?;
        for r in &story.revisions {
            writeln!(out, "  - until {}: {}", stamp(r.seen_at), r.title)?;
        }
    }
    writeln!(out, "events ({}):", events.len())?;
    for e in events {
        writeln!(
            out,
            "  - event {}: {} {} {} (`tidings events show {}`)",
            e.id,
            e.event_type,
            event_key(&e.countries, e.organization.as_deref()),
            e.modality.as_str(),
            e.id
        )?;
    }
    Ok(())
}

/// Whether times are shown in UTC (`--utc`) rather than local time.
static IN_UTC: std::sync::atomic::AtomicBool = std::sync::atomic::AtomicBool::new(false);

/// Shows times in UTC from now on (`--utc`).
pub fn use_utc(utc: bool) {
    IN_UTC.store(utc, std::sync::atomic::Ordering::Relaxed);
}

/// A moment for people: local time with its offset, or UTC with `--utc`.
pub fn stamp(t: DateTime<Utc>) -> String {
    if IN_UTC.load(std::sync::atomic::Ordering::Relaxed) {
        t.format("%Y-%m-%d %H:%M:%S UTC").to_string()
    } else {
        t.with_timezone(&Local)
            .format("%Y-%m-%d %H:%M:%S %:z")
            .to_string()
    }
}

/// The width tables are fitted to; 0: no limit (`--wide`, or not a terminal).
static WIDTH: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);

/// Fits tables to the terminal standard output is (unless `wide`); a pipe or file gets
/// whole lines.
pub fn fit_tables(wide: bool) {
    let width = if wide {
        0
    } else {
        console::Term::stdout()
            .size_checked()
            .map_or(0, |(_, cols)| usize::from(cols))
    };
    WIDTH.store(width, std::sync::atomic::Ordering::Relaxed);
}

/// Writes one table line, cut to the fitted width with "…".
fn row(out: &mut impl Write, line: String) -> Result<()> {
    let width = WIDTH.load(std::sync::atomic::Ordering::Relaxed);
    if width > 0 && line.chars().count() > width {
        let cut: String = line.chars().take(width.saturating_sub(1)).collect();
        writeln!(out, "{}…", cut.trim_end())?;
    } else {
        writeln!(out, "{line}")?;
    }
    Ok(())
}

/// A moment in a table column: to the minute.
fn time(t: Option<DateTime<Utc>>) -> String {
    let Some(t) = t else {
        return "-".into();
    };
    if IN_UTC.load(std::sync::atomic::Ordering::Relaxed) {
        t.format("%Y-%m-%d %H:%M UTC").to_string()
    } else {
        t.with_timezone(&Local)
            .format("%Y-%m-%d %H:%M %:z")
            .to_string()
    }
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
                tidings::model::Field::Title => "title",
                tidings::model::Field::Text => "text",
            },
            e.evidence.start,
            e.evidence.end,
            e.evidence.sentence
        )?;
        if let Some(d) = &e.evidence.resolved_against {
            writeln!(
                out,
                "  dates and offices read against {} ({})",
                d.date,
                d.basis.as_str()
            )?;
        }
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
    if !report.reliability.bands.is_empty() {
        writeln!(out, "reliability (scored detections by confidence):")?;
        writeln!(
            out,
            "  {:<11} {:>10} {:>8} {:>15} {:>13}",
            "confidence", "detections", "correct", "mean confidence", "share correct"
        )?;
        for b in &report.reliability.bands {
            writeln!(
                out,
                "  {:<11} {:>10} {:>8} {:>15.3} {:>13.3}",
                format!("{:.1}–{:.1}", b.low, b.high),
                b.detections,
                b.correct,
                b.mean_confidence,
                b.share_correct
            )?;
        }
        writeln!(
            out,
            "expected calibration error: {:.3}",
            report.reliability.expected_calibration_error
        )?;
    }
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
    row(
        &mut out,
        format!(
            "{:>8} {:<10} {:<20} {:<14} {:<10} {:>4} {:>4} LOCATION",
            "ID", "DATE", "TYPE", "KEY", "MODALITY", "CONF", "SRC"
        ),
    )?;
    for e in events {
        row(
            &mut out,
            format!(
                "{:>8} {:<10} {:<20} {:<14} {:<10} {:>4.2} {:>4} {}",
                e.id,
                e.anchor,
                e.event_type,
                event_key(&e.countries, e.organization.as_deref()),
                e.modality.as_str(),
                e.confidence,
                e.sources.len(),
                e.location.as_deref().unwrap_or("")
            ),
        )?;
    }
    Ok(())
}

pub fn event(
    e: &Event,
    json: bool,
    story: &dyn Fn(StoryId) -> Result<Option<Story>>,
) -> Result<()> {
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
        stamp(e.first_seen),
        stamp(e.updated)
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
            "  - story {} from {} ({}), published {} (`tidings stories show {}`)",
            s.story,
            s.feed,
            s.url.as_deref().unwrap_or("-"),
            stamp(s.published),
            s.story
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
        if let Some(story) = story(s.story)? {
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

/// One line per event notice of `events --follow`: JSON lines for machines, a summary
/// for people.
pub fn notice(n: &EventNotice, jsonl: bool) -> Result<()> {
    let mut out = std::io::stdout().lock();
    if jsonl {
        serde_json::to_writer(&mut out, n)?;
    } else {
        let e = &n.event;
        write!(
            out,
            "{} {:<12} event {} {} {} {}",
            stamp(Utc::now()),
            n.change,
            e.id,
            e.event_type,
            event_key(&e.countries, e.organization.as_deref()),
            e.modality.as_str()
        )?;
        if let Some(from) = n.previous_modality {
            write!(out, " (was {})", from.as_str())?;
        }
        if let Some(s) = e.sources.last() {
            write!(out, " — {}", clip(&s.title, 80))?;
        }
    }
    writeln!(out)?;
    out.flush()?;
    Ok(())
}

/// `tidings alerts`: each sink's circuit breaker, the pending alerts, then the
/// dead-letter list.
pub fn alerts(sinks: &[SinkStatus], pending: &[Alert], dead: &[Alert], json: bool) -> Result<()> {
    let mut out = std::io::stdout().lock();
    if json {
        serde_json::to_writer_pretty(
            &mut out,
            &serde_json::json!({ "sinks": sinks, "pending": pending, "dead": dead }),
        )?;
        writeln!(out)?;
        return Ok(());
    }
    writeln!(out, "sinks ({}):", sinks.len())?;
    for s in sinks {
        writeln!(out, "  {}", sink_line(s))?;
    }
    writeln!(out, "pending ({}):", pending.len())?;
    if !pending.is_empty() {
        writeln!(
            out,
            "  {:>8} {:<16} {:<8} {:>8} {:<17} {:<17} LAST ERROR",
            "ID", "SINK", "WHY", "ATTEMPTS", "CREATED", "NEXT ATTEMPT"
        )?;
    }
    for a in pending {
        writeln!(
            out,
            "  {:>8} {:<16} {:<8} {:>8} {:<17} {:<17} {}",
            a.id,
            a.sink,
            reason(&a.reason),
            a.attempts,
            time(Some(a.created)),
            time(Some(a.next_attempt)),
            a.last_error.as_deref().unwrap_or("")
        )?;
    }
    writeln!(out, "dead ({}):", dead.len())?;
    if !dead.is_empty() {
        writeln!(
            out,
            "  {:>8} {:<16} {:<8} {:>8} {:<17} WHY DEAD",
            "ID", "SINK", "WHY", "ATTEMPTS", "DEAD SINCE"
        )?;
    }
    for a in dead {
        let d = a.dead.as_ref();
        writeln!(
            out,
            "  {:>8} {:<16} {:<8} {:>8} {:<17} {}",
            a.id,
            a.sink,
            reason(&a.reason),
            a.attempts,
            time(d.map(|d| d.at)),
            d.map(|d| d.reason.as_str()).unwrap_or("")
        )?;
    }
    if !dead.is_empty() {
        writeln!(
            out,
            "replay with `tidings alerts replay ID` or `tidings alerts replay --all-dead`"
        )?;
    }
    Ok(())
}

/// One sink's line: its id, its breaker's state and, while paused, when it is probed
/// next and why it was paused.
fn sink_line(s: &SinkStatus) -> String {
    let mut line = format!("{:<16} {:<9}", s.sink, s.state.as_str().replace('_', "-"));
    match s.state {
        CircuitState::Closed => line.push_str(" delivering"),
        CircuitState::HalfOpen => line.push_str(" probe in flight"),
        CircuitState::Open => {
            line.push_str(&format!(
                " paused after {} failure{}; next probe {}",
                s.failures,
                if s.failures == 1 { "" } else { "s" },
                s.next_probe.map(stamp).unwrap_or_else(|| "-".into())
            ));
        }
    }
    if let (Some(since), false) = (s.since, s.state == CircuitState::Closed && s.changes == 0) {
        line.push_str(&format!(" (since {})", time(Some(since))));
    }
    if let (Some(e), CircuitState::Open) = (&s.last_error, s.state) {
        line.push_str(&format!(": {e}"));
    }
    line
}

fn reason(r: &AlertReason) -> &'static str {
    match r {
        AlertReason::New => "new",
        AlertReason::Updated { .. } => "update",
    }
}
