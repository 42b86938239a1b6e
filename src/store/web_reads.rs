//! Reads for the web view (`crate::web`): events in a day range with a confidence floor,
//! the distinct types and countries the indexes hold, and tallies per day, type, country
//! and event key read from the index keys alone (no event record is decoded), over the
//! day range asked.

use std::collections::BTreeMap;

use chrono::NaiveDate;

use super::events::EventQuery;
use super::{keys, SledStore, StoreError};
use crate::model::Event;

/// Counts of the events filed between two days, read from the index keys.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct EventTallies {
    /// (day, type) → events.
    pub by_day_and_type: BTreeMap<(NaiveDate, String), u64>,
    /// Country code → events with that country among their parties.
    pub by_country: BTreeMap<String, u64>,
    /// (type, key) → events; the key is the sorted country codes joined by '-', or the
    /// organisation.
    pub by_key: BTreeMap<(String, String), u64>,
}

/// The inverse of [`keys::day`].
fn day_of(bytes: &[u8]) -> Option<NaiveDate> {
    let raw = u32::from_be_bytes(bytes.get(..4)?.try_into().ok()?);
    let days = (raw ^ (1 << 31)) as i32;
    NaiveDate::from_ymd_opt(1970, 1, 1)?.checked_add_signed(chrono::Duration::days(days.into()))
}

/// The first `part ‖ 0` of a key and the rest after the separator.
fn split_part(key: &[u8]) -> Option<(&str, &[u8])> {
    let end = key.iter().position(|b| *b == 0)?;
    Some((std::str::from_utf8(&key[..end]).ok()?, &key[end + 1..]))
}

/// Whether `day` lies within `[from, to]` (either end open when `None`).
fn within(day: NaiveDate, from: Option<NaiveDate>, to: Option<NaiveDate>) -> bool {
    from.is_none_or(|f| day >= f) && to.is_none_or(|t| day <= t)
}

impl SledStore {
    /// Events newest first (by anchor day) like [`SledStore::events`], with two more
    /// filters: no event filed after `until`, and none below `min_confidence`. Reads the
    /// same narrowest index, only over the day range asked.
    pub fn events_between(
        &self,
        q: &EventQuery,
        until: Option<NaiveDate>,
        min_confidence: Option<f32>,
    ) -> Result<Vec<Event>, StoreError> {
        let limit = q.limit.unwrap_or(usize::MAX);
        let (tree, prefix) = if let Some(c) = &q.country {
            (&self.idx_event_country, keys::prefix(c))
        } else if let Some(t) = &q.event_type {
            (&self.idx_event_type, keys::prefix(t))
        } else {
            (&self.idx_event_time, Vec::new())
        };
        let mut lo = prefix.clone();
        if let Some(since) = q.since {
            lo.extend_from_slice(&keys::day(since));
        }
        // The upper bound: the day after `until`, or the end of the prefix.
        let hi = match until.and_then(|u| u.succ_opt()) {
            Some(next) => {
                let mut hi = prefix.clone();
                hi.extend_from_slice(&keys::day(next));
                Some(hi)
            }
            None if prefix.is_empty() => None,
            None => {
                let mut hi = prefix.clone();
                // The separator 0 becomes 1: just past every key of the prefix.
                if let Some(last) = hi.last_mut() {
                    *last = 1;
                }
                Some(hi)
            }
        };
        let iter = match hi {
            Some(hi) => tree.range(lo..hi),
            None => tree.range(lo..),
        };
        let mut out = Vec::new();
        for entry in iter.rev() {
            if out.len() >= limit {
                break;
            }
            let (key, _) = entry?;
            let Some(id) = keys::decode_id(&key) else {
                continue;
            };
            let Some(event) = self.event(id)? else {
                continue;
            };
            if q.matches(&event) && min_confidence.is_none_or(|m| event.confidence >= m) {
                out.push(event);
            }
        }
        Ok(out)
    }

    /// The distinct event types stored, in order (one seek per type, not a scan).
    pub fn event_types(&self) -> Result<Vec<String>, StoreError> {
        distinct_parts(&self.idx_event_type)
    }

    /// The distinct country codes of stored events, in order (one seek per country).
    pub fn event_countries(&self) -> Result<Vec<String>, StoreError> {
        distinct_parts(&self.idx_event_country)
    }

    /// The anchor day of the newest event, if any.
    pub fn newest_event_day(&self) -> Result<Option<NaiveDate>, StoreError> {
        Ok(match self.idx_event_time.last()? {
            Some((key, _)) => day_of(&key),
            None => None,
        })
    }

    /// Counts of the events filed from `from` to `to` (inclusive; either end open when
    /// `None`) per day and type and per country, and, for `key_type` only, per key.
    /// Reads only index keys: per type and per country just the day range asked (one
    /// seek each), and the keys of `key_type`'s events (its key sits before the day).
    pub fn event_tallies(
        &self,
        from: Option<NaiveDate>,
        to: Option<NaiveDate>,
        key_type: Option<&str>,
    ) -> Result<EventTallies, StoreError> {
        let mut tallies = EventTallies::default();
        for kind in self.event_types()? {
            for day in days_in(&self.idx_event_type, &kind, from, to) {
                *tallies
                    .by_day_and_type
                    .entry((day?, kind.clone()))
                    .or_default() += 1;
            }
        }
        for code in self.event_countries()? {
            let n = days_in(&self.idx_event_country, &code, from, to).count();
            if n > 0 {
                *tallies.by_country.entry(code).or_default() += n as u64;
            }
        }
        if let Some(kind) = key_type {
            for entry in self.idx_event_key.scan_prefix(keys::prefix(kind)) {
                let (key, _) = entry?;
                let Some((_, rest)) = split_part(&key) else {
                    continue;
                };
                let Some((event_key, rest)) = split_part(rest) else {
                    continue;
                };
                let Some(day) = day_of(rest) else { continue };
                if within(day, from, to) {
                    *tallies
                        .by_key
                        .entry((kind.to_string(), event_key.to_string()))
                        .or_default() += 1;
                }
            }
        }
        Ok(tallies)
    }
}

/// The days of the entries of `part ‖ 0 ‖ day ‖ id` keys from `from` to `to`.
fn days_in(
    tree: &sled::Tree,
    part: &str,
    from: Option<NaiveDate>,
    to: Option<NaiveDate>,
) -> impl Iterator<Item = Result<NaiveDate, StoreError>> {
    let prefix = keys::prefix(part);
    let mut lo = prefix.clone();
    if let Some(f) = from {
        lo.extend_from_slice(&keys::day(f));
    }
    let mut hi = prefix.clone();
    match to.and_then(|t| t.succ_opt()) {
        Some(next) => hi.extend_from_slice(&keys::day(next)),
        // Past every key of the prefix: its separator 0 becomes 1.
        None => {
            if let Some(last) = hi.last_mut() {
                *last = 1;
            }
        }
    }
    let skip = prefix.len();
    tree.range(lo..hi).filter_map(move |entry| match entry {
        Ok((key, _)) => key.get(skip..).and_then(day_of).map(Ok),
        Err(e) => Some(Err(e.into())),
    })
}

/// The distinct `part`s of a `part ‖ 0 ‖ …` index: seek to the first key, then past its
/// part, and so on.
fn distinct_parts(tree: &sled::Tree) -> Result<Vec<String>, StoreError> {
    let mut out = Vec::new();
    let mut from: Vec<u8> = Vec::new();
    while let Some((key, _)) = tree.range(from.clone()..).next().transpose()? {
        let Some((part, _)) = split_part(&key) else {
            break;
        };
        out.push(part.to_string());
        from = keys::prefix(part);
        if let Some(last) = from.last_mut() {
            *last = 1;
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::detect::Detection;
    use crate::model::{Candidate, Evidence, Field, Modality};
    use crate::store::IngestHooks;

    fn story(guid: &str, published: &str) -> Candidate {
        Candidate {
            feed: "f".into(),
            guid: guid.into(),
            guid_derived: false,
            url: Some(format!("https://x/{guid}")),
            raw_url: None,
            title: format!("story {guid}"),
            text: format!("text of {guid}"),
            published: Some(published.parse().unwrap()),
            language: None,
            seen_at: published.parse().unwrap(),
        }
    }

    fn detection(kind: &str, countries: &[&str], confidence: f32) -> Detection {
        Detection {
            event_type: kind.into(),
            actors: Vec::new(),
            countries: countries.iter().map(|c| c.to_string()).collect(),
            organization: None,
            location: None,
            date: None,
            modality: Modality::Occurred,
            confidence,
            evidence: Evidence {
                field: Field::Title,
                sentence: "s".into(),
                start: 0,
                end: 1,
                rule: "r".into(),
                matched: Vec::new(),
                resolved_against: None,
            },
        }
    }

    fn add(store: &SledStore, guid: &str, published: &str, d: Detection) {
        let detect = move |_: &crate::model::Story| vec![d.clone()];
        let hooks = IngestHooks {
            detect: &detect,
            route: &|_, _| None,
        };
        store
            .ingest_detecting(&story(guid, published), &hooks)
            .unwrap();
    }

    #[test]
    fn ranges_confidence_distinct_parts_and_tallies() {
        let dir = tempfile::tempdir().unwrap();
        let store = SledStore::open(dir.path()).unwrap();
        assert_eq!(store.newest_event_day().unwrap(), None);
        add(
            &store,
            "a",
            "2026-01-01T10:00:00Z",
            detection("meet", &["DEU", "FRA"], 0.9),
        );
        add(
            &store,
            "b",
            "2026-01-05T10:00:00Z",
            detection("meet", &["FRA", "USA"], 0.5),
        );
        add(
            &store,
            "c",
            "2026-01-09T10:00:00Z",
            detection("vote", &["CHN"], 0.8),
        );
        add(
            &store,
            "d",
            "2026-02-01T10:00:00Z",
            detection("meet", &["DEU", "FRA"], 0.7),
        );

        let day = |s: &str| s.parse::<NaiveDate>().unwrap();
        let all = |q: EventQuery, until, min| {
            store
                .events_between(&q, until, min)
                .unwrap()
                .iter()
                .map(|e| e.countries.join("-"))
                .collect::<Vec<_>>()
        };
        assert_eq!(
            all(EventQuery::default(), None, None),
            ["DEU-FRA", "CHN", "FRA-USA", "DEU-FRA"]
        );
        assert_eq!(
            all(EventQuery::default(), Some(day("2026-01-09")), Some(0.6)),
            ["CHN", "DEU-FRA"],
            "until is inclusive; the floor drops 0.5"
        );
        let fra = EventQuery {
            country: Some("FRA".into()),
            since: Some(day("2026-01-02")),
            ..EventQuery::default()
        };
        assert_eq!(all(fra, Some(day("2026-01-31")), None), ["FRA-USA"]);
        let meet = EventQuery {
            event_type: Some("meet".into()),
            limit: Some(2),
            ..EventQuery::default()
        };
        assert_eq!(all(meet, None, None), ["DEU-FRA", "FRA-USA"]);

        assert_eq!(store.event_types().unwrap(), ["meet", "vote"]);
        assert_eq!(
            store.event_countries().unwrap(),
            ["CHN", "DEU", "FRA", "USA"]
        );
        assert_eq!(store.newest_event_day().unwrap(), Some(day("2026-02-01")));

        let t = store
            .event_tallies(
                Some(day("2026-01-01")),
                Some(day("2026-01-31")),
                Some("meet"),
            )
            .unwrap();
        assert_eq!(t.by_day_and_type.len(), 3);
        assert_eq!(t.by_day_and_type[&(day("2026-01-09"), "vote".into())], 1);
        assert_eq!(t.by_country["FRA"], 2);
        assert_eq!(
            t.by_country.get("DEU"),
            Some(&1),
            "February is out of range"
        );
        assert_eq!(t.by_key[&("meet".into(), "DEU-FRA".into())], 1);
        let everything = store.event_tallies(None, None, Some("meet")).unwrap();
        assert_eq!(everything.by_key[&("meet".into(), "DEU-FRA".into())], 2);
        assert_eq!(everything.by_country["FRA"], 3);
        assert_eq!(everything.by_day_and_type.values().sum::<u64>(), 4);
        let no_keys = store.event_tallies(None, None, None).unwrap();
        assert!(no_keys.by_key.is_empty());
    }

    #[test]
    fn days_round_trip_through_their_keys() {
        for d in ["1969-12-31", "1970-01-01", "2026-12-07"] {
            let day: NaiveDate = d.parse().unwrap();
            assert_eq!(day_of(&keys::day(day)), Some(day));
        }
    }
}
