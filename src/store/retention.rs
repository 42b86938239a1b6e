//! The retention policy: what pruning removes, decided from ages and `[retention]`
//! alone. Backend-neutral and pure (the clock is an argument), so another backend
//! executes the same decisions; the sled part lives in `prune`.
//!
//! A story goes through four stages as it ages (counted from when it was first seen):
//! its near-duplicate signature goes once the story is past the near-duplicate index's
//! horizon ([`dedup::HORIZON_HOURS`]: nothing reads it after that, whatever the config),
//! its dedup keys go (`story_identity`), then its text and revisions (`story_text`),
//! then, if no event cites it, the story itself (`stories`). The config makes the order
//! hold (identity ≤ text ≤ stories). Events are removed `events` after their last
//! update, dead alerts `dead_alerts` after they died; by default events are kept
//! forever, and a story an event cites is never removed.

use chrono::{DateTime, Utc};

use crate::config::RetentionSettings;
use crate::dedup;

/// The times before which each kind of record is due for pruning, at one instant.
/// `None`: kept forever.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Cutoffs {
    pub now: DateTime<Utc>,
    /// Signatures of stories first seen before this are past the near-duplicate horizon.
    pub signatures: Option<DateTime<Utc>>,
    pub identity: Option<DateTime<Utc>>,
    pub text: Option<DateTime<Utc>>,
    pub stories: Option<DateTime<Utc>>,
    pub events: Option<DateTime<Utc>>,
    pub dead_alerts: Option<DateTime<Utc>>,
}

/// What pruning does to one story now.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct StoryFate {
    /// Its near-duplicate signature goes.
    pub drop_signature: bool,
    /// Its GUID, URL and content keys and its signature go.
    pub drop_identity: bool,
    /// Its text and revisions go.
    pub drop_text: bool,
    /// The story goes whole (index entries, record).
    pub remove: bool,
}

impl StoryFate {
    pub fn is_kept_whole(&self) -> bool {
        !(self.drop_signature || self.drop_identity || self.drop_text || self.remove)
    }
}

impl Cutoffs {
    /// The cutoffs of `settings` at `now`. A period too long to subtract from `now`
    /// keeps everything.
    pub fn at(settings: &RetentionSettings, now: DateTime<Utc>) -> Cutoffs {
        let before = |keep: Option<std::time::Duration>| {
            keep.and_then(|d| chrono::Duration::from_std(d).ok())
                .and_then(|d| now.checked_sub_signed(d))
        };
        Cutoffs {
            now,
            signatures: now.checked_sub_signed(chrono::Duration::hours(dedup::HORIZON_HOURS)),
            identity: before(settings.story_identity),
            text: before(settings.story_text),
            stories: before(settings.stories),
            events: before(settings.events),
            dead_alerts: before(settings.dead_alerts),
        }
    }

    /// What becomes of a story first seen at `first_seen`; `cited`: an event cites it.
    /// A stage applies once the age reaches its period. A story is removed whole only
    /// once its text and identity are due too, and never while an event cites it.
    pub fn story(&self, first_seen: DateTime<Utc>, cited: bool) -> StoryFate {
        let due = |cut: Option<DateTime<Utc>>| cut.is_some_and(|c| first_seen <= c);
        let drop_identity = due(self.identity);
        let drop_text = due(self.text);
        StoryFate {
            drop_signature: drop_identity || due(self.signatures),
            drop_identity,
            drop_text,
            remove: !cited && drop_identity && drop_text && due(self.stories),
        }
    }

    /// Whether an event last updated at `updated` is removed.
    pub fn event(&self, updated: DateTime<Utc>) -> bool {
        self.events.is_some_and(|c| updated <= c)
    }

    /// Whether an alert dead-lettered at `dead_at` is removed.
    pub fn dead_alert(&self, dead_at: DateTime<Utc>) -> bool {
        self.dead_alerts.is_some_and(|c| dead_at <= c)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    fn settings(text: &str, identity: &str, stories: &str) -> RetentionSettings {
        let p = |s: &str| (s != "forever").then(|| humantime::parse_duration(s).unwrap());
        RetentionSettings {
            story_text: p(text),
            story_identity: p(identity),
            stories: p(stories),
            events: None,
            dead_alerts: Some(Duration::from_secs(3600)),
            ..RetentionSettings::default()
        }
    }

    fn t(s: &str) -> DateTime<Utc> {
        s.parse().unwrap()
    }

    #[test]
    fn a_story_loses_its_identity_then_its_text_then_goes_unless_cited() {
        let s = settings("90d", "30d", "365d");
        let now = t("2026-12-31T00:00:00Z");
        let c = Cutoffs::at(&s, now);
        let fate = |age_days: i64, cited| c.story(now - chrono::Duration::days(age_days), cited);
        assert!(fate(0, false).is_kept_whole());
        assert!(!fate(29, false).drop_identity);
        assert_eq!(
            fate(5, false),
            StoryFate {
                drop_signature: true,
                ..Default::default()
            },
            "past the near-duplicate horizon, whatever the config"
        );
        assert!(fate(3, false).is_kept_whole(), "within the horizon");
        assert_eq!(
            fate(30, false),
            StoryFate {
                drop_signature: true,
                drop_identity: true,
                ..Default::default()
            },
            "the period reached is due"
        );
        assert_eq!(
            fate(90, false),
            StoryFate {
                drop_signature: true,
                drop_identity: true,
                drop_text: true,
                remove: false
            }
        );
        assert!(fate(365, false).remove);
        assert!(!fate(365, true).remove, "an event cites it");
        assert!(
            fate(365, true).drop_text,
            "a cited story still loses its text"
        );
        // A story dated in the future (a clock moved back) is kept.
        assert!(fate(-3, false).is_kept_whole());
    }

    #[test]
    fn forever_keeps_and_periods_beyond_the_calendar_keep_too() {
        let now = t("2026-12-31T00:00:00Z");
        let c = Cutoffs::at(&settings("forever", "forever", "forever"), now);
        let fate = c.story(t("1970-01-01T00:00:00Z"), false);
        assert!(
            !(fate.drop_identity || fate.drop_text || fate.remove),
            "{fate:?}"
        );
        assert!(!c.event(t("1970-01-01T00:00:00Z")));
        let mut huge = settings("90d", "30d", "365d");
        huge.story_text = Some(Duration::from_secs(u64::MAX / 4));
        let c = Cutoffs::at(&huge, now);
        assert_eq!(c.text, None);
        assert!(!c.story(t("1970-01-01T00:00:00Z"), false).drop_text);
    }

    #[test]
    fn events_and_dead_alerts_go_after_their_own_periods() {
        let mut s = settings("90d", "30d", "365d");
        s.events = Some(Duration::from_secs(10 * 24 * 3600));
        let now = t("2026-12-31T00:00:00Z");
        let c = Cutoffs::at(&s, now);
        assert!(c.event(t("2026-12-21T00:00:00Z")));
        assert!(!c.event(t("2026-12-21T00:00:01Z")));
        assert!(c.dead_alert(t("2026-12-30T23:00:00Z")));
        assert!(!c.dead_alert(t("2026-12-30T23:30:00Z")));
    }
}
