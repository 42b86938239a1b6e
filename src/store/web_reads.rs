//! Reads for the web view (`crate::web`): events in a day range with a confidence floor,
//! the distinct types and countries the indexes hold, and tallies per day, type, country
//! and event key read from the index keys alone (no event record is decoded), over the
//! day range asked. The PostgreSQL backend answers the same calls with the same results
//! in SQL (`store/postgres/web_reads.rs`); `tests/store_backends.rs` compares the two.

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

    #[test]
    fn days_round_trip_through_their_keys() {
        for d in ["1969-12-31", "1970-01-01", "2026-12-07"] {
            let day: NaiveDate = d.parse().unwrap();
            assert_eq!(day_of(&keys::day(day)), Some(day));
        }
    }
}
