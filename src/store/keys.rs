//! Byte layouts of the store's keys.
//!
//! Integers are big-endian so that sled's byte order is numeric order; timestamps are
//! milliseconds with the sign bit flipped so that times before 1970 still sort first.
//! Variable-length parts (feed ids) end with a 0 byte, which feed ids cannot contain.

use chrono::{DateTime, Utc};

use crate::model::StoryId;

pub fn time(t: DateTime<Utc>) -> [u8; 8] {
    ((t.timestamp_millis() as u64) ^ (1 << 63)).to_be_bytes()
}

pub fn id(id: StoryId) -> [u8; 8] {
    id.to_be_bytes()
}

pub fn decode_id(bytes: &[u8]) -> Option<StoryId> {
    Some(StoryId::from_be_bytes(
        bytes.get(bytes.len().checked_sub(8)?..)?.try_into().ok()?,
    ))
}

/// `idx_time`: time ‖ id — newest first by reverse iteration.
pub fn by_time(t: DateTime<Utc>, story: StoryId) -> Vec<u8> {
    let mut k = Vec::with_capacity(16);
    k.extend_from_slice(&time(t));
    k.extend_from_slice(&id(story));
    k
}

/// Prefix of all `idx_feed` keys of one feed.
pub fn feed_prefix(feed: &str) -> Vec<u8> {
    let mut k = Vec::with_capacity(feed.len() + 17);
    k.extend_from_slice(feed.as_bytes());
    k.push(0);
    k
}

/// `idx_feed`: feed ‖ 0 ‖ time ‖ id — one feed's stories, newest first.
pub fn by_feed(feed: &str, t: DateTime<Utc>, story: StoryId) -> Vec<u8> {
    let mut k = feed_prefix(feed);
    k.extend_from_slice(&time(t));
    k.extend_from_slice(&id(story));
    k
}

/// `idx_guid`: feed ‖ 0 ‖ guid.
pub fn guid(feed: &str, guid: &str) -> Vec<u8> {
    let mut k = feed_prefix(feed);
    k.extend_from_slice(guid.as_bytes());
    k
}

/// `idx_event_story`: story ‖ event — the events that cite a story.
pub fn story_event(story: StoryId, event: u64) -> [u8; 16] {
    let mut k = [0; 16];
    k[..8].copy_from_slice(&id(story));
    k[8..].copy_from_slice(&id(event));
    k
}

/// A calendar day, sortable: days since 1970-01-01 with the sign bit flipped.
pub fn day(d: chrono::NaiveDate) -> [u8; 4] {
    let days = (d - chrono::NaiveDate::from_ymd_opt(1970, 1, 1).expect("valid")).num_days() as i32;
    ((days as u32) ^ (1 << 31)).to_be_bytes()
}

/// A prefix ending in a 0 separator: `part ‖ 0`.
pub fn prefix(part: &str) -> Vec<u8> {
    let mut k = Vec::with_capacity(part.len() + 13);
    k.extend_from_slice(part.as_bytes());
    k.push(0);
    k
}

/// `idx_event_time`: day ‖ id.
pub fn event_by_day(d: chrono::NaiveDate, event: u64) -> Vec<u8> {
    let mut k = Vec::with_capacity(12);
    k.extend_from_slice(&day(d));
    k.extend_from_slice(&id(event));
    k
}

/// `idx_event_type` / `idx_event_country`: part ‖ 0 ‖ day ‖ id.
pub fn event_by(part: &str, d: chrono::NaiveDate, event: u64) -> Vec<u8> {
    let mut k = prefix(part);
    k.extend_from_slice(&day(d));
    k.extend_from_slice(&id(event));
    k
}

/// `idx_event_key`: type ‖ 0 ‖ key ‖ 0 ‖ day ‖ id (the prefix without day and id when
/// those are `None`).
pub fn event_key(
    event_type: &str,
    key: &str,
    d: Option<chrono::NaiveDate>,
    event: Option<u64>,
) -> Vec<u8> {
    let mut k = prefix(event_type);
    k.extend_from_slice(key.as_bytes());
    k.push(0);
    if let Some(d) = d {
        k.extend_from_slice(&day(d));
    }
    if let Some(e) = event {
        k.extend_from_slice(&id(e));
    }
    k
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn time_keys_sort_chronologically_across_the_epoch() {
        let a = time("1969-12-31T23:59:59Z".parse().unwrap());
        let b = time("1970-01-01T00:00:01Z".parse().unwrap());
        let c = time("2023-02-22T00:00:00Z".parse().unwrap());
        assert!(a < b && b < c);
    }

    #[test]
    fn ids_round_trip_from_the_end_of_a_key() {
        let k = by_feed("bbc", "2023-02-22T00:00:00Z".parse().unwrap(), 42);
        assert_eq!(decode_id(&k), Some(42));
        assert_eq!(decode_id(&[1, 2]), None);
    }
}
