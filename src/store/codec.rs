//! Record encoding: feed states, events and alerts as JSON, stories as compact JSON
//! ([`StoredStory`]: short field names, and of the original copy only what differs from
//! the story), counters as big-endian u64, signatures as published ‖ MinHash values; a
//! record that does not encode or decode is reported with its tree and key.
//!
//! A story record of the real captures took 799 bytes as the model's JSON: the
//! original copy repeated the story's feed, URL, title and first-seen time, and every
//! field its long name. The compact form keeps every value (a decoded story equals the
//! one encoded) and reads the earlier form too (for the upgrade from version 5).

use chrono::{DateTime, Utc};

use super::StoreError;
use crate::dedup::{Signature, SIGNATURE_LEN};
use crate::model::{MatchKind, Revision, Source, Story, StoryId};

/// Reads one JSON record; a record that does not decode is reported as corrupt with its
/// tree and key (`describe` renders the key for people).
pub(super) fn read_json<T: serde::de::DeserializeOwned>(
    tree: &sled::Tree,
    name: &'static str,
    key: impl AsRef<[u8]>,
    describe: impl FnOnce() -> String,
) -> Result<Option<T>, StoreError> {
    match tree.get(key)? {
        None => Ok(None),
        Some(bytes) => {
            serde_json::from_slice(&bytes)
                .map(Some)
                .map_err(|source| StoreError::Decode {
                    tree: name,
                    key: describe(),
                    source,
                })
        }
    }
}

/// Encodes one JSON record to be written to tree `name` (`describe` renders its key for
/// people, should the record not encode).
pub(super) fn write_json<T: serde::Serialize>(
    value: &T,
    name: &'static str,
    describe: impl FnOnce() -> String,
) -> Result<Vec<u8>, StoreError> {
    serde_json::to_vec(value).map_err(|source| StoreError::Encode {
        tree: name,
        key: describe(),
        source,
    })
}

/// A story as stored. The first source is the original copy: its feed, URL, title and
/// time are left out when they are the story's.
#[derive(serde::Serialize, serde::Deserialize)]
struct StoredStory {
    i: StoryId,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    u: Option<String>,
    t: String,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    x: String,
    p: DateTime<Utc>,
    /// `published_from_feed`, left out when true.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pn: bool,
    f: DateTime<Utc>,
    fd: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    l: Option<String>,
    s: Vec<StoredSource>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    r: Vec<Revision>,
}

/// A source as stored: `None` fields are the story's (feed, title, first-seen time), the
/// URL is the story's unless given or marked absent (`nu`), the GUID is the source's
/// URL unless given.
#[derive(serde::Serialize, serde::Deserialize)]
struct StoredSource {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    f: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    g: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    u: Option<String>,
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    nu: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    t: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    s: Option<DateTime<Utc>>,
    m: MatchKind,
}

/// The parts of a story record that age and listing checks read, in either form.
#[derive(serde::Deserialize)]
pub(super) struct StoryTimes {
    #[serde(alias = "published", rename = "p")]
    pub published: DateTime<Utc>,
    #[serde(alias = "first_seen", rename = "f")]
    pub first_seen: DateTime<Utc>,
    #[serde(alias = "text", rename = "x", default)]
    pub text: String,
}

pub(super) fn encode_story(story: &Story) -> Result<Vec<u8>, StoreError> {
    let sources = story
        .sources
        .iter()
        .map(|s| {
            let (u, nu) = match (&s.url, &story.url) {
                (Some(a), Some(b)) if a == b => (None, false),
                (None, Some(_)) => (None, true),
                (None, None) => (None, false),
                (Some(a), _) => (Some(a.clone()), false),
            };
            StoredSource {
                f: (s.feed != story.feed).then(|| s.feed.clone()),
                g: (s.url.as_ref() != Some(&s.guid)).then(|| s.guid.clone()),
                u,
                nu,
                t: (s.title != story.title).then(|| s.title.clone()),
                s: (s.seen_at != story.first_seen).then_some(s.seen_at),
                m: s.matched_by,
            }
        })
        .collect();
    let stored = StoredStory {
        i: story.id,
        u: story.url.clone(),
        t: story.title.clone(),
        x: story.text.clone(),
        p: story.published,
        pn: !story.published_from_feed,
        f: story.first_seen,
        fd: story.feed.clone(),
        l: story.language.clone(),
        s: sources,
        r: story.revisions.clone(),
    };
    write_json(&stored, "stories", || story.id.to_string())
}

/// Decodes a story record, in the compact form or the earlier one (the model's JSON).
pub(super) fn decode_story(bytes: &[u8]) -> Result<Story, serde_json::Error> {
    let stored: StoredStory = match serde_json::from_slice(bytes) {
        Ok(s) => s,
        Err(e) => return serde_json::from_slice::<Story>(bytes).map_err(|_| e),
    };
    let sources = stored
        .s
        .into_iter()
        .map(|s| {
            let url = match (s.u, s.nu) {
                (Some(u), _) => Some(u),
                (None, true) => None,
                (None, false) => stored.u.clone(),
            };
            Source {
                feed: s.f.unwrap_or_else(|| stored.fd.clone()),
                guid: match s.g {
                    Some(g) => g,
                    None => url.clone().unwrap_or_default(),
                },
                url,
                title: s.t.unwrap_or_else(|| stored.t.clone()),
                seen_at: s.s.unwrap_or(stored.f),
                matched_by: s.m,
            }
        })
        .collect();
    Ok(Story {
        id: stored.i,
        url: stored.u,
        title: stored.t,
        text: stored.x,
        published: stored.p,
        published_from_feed: !stored.pn,
        first_seen: stored.f,
        feed: stored.fd,
        language: stored.l,
        sources,
        revisions: stored.r,
    })
}

/// Reads one story record (see [`decode_story`]).
pub(super) fn read_story(tree: &sled::Tree, id: StoryId) -> Result<Option<Story>, StoreError> {
    match tree.get(super::keys::id(id))? {
        None => Ok(None),
        Some(bytes) => decode_story(&bytes)
            .map(Some)
            .map_err(|source| StoreError::Decode {
                tree: "stories",
                key: id.to_string(),
                source,
            }),
    }
}

pub(super) fn decode_u64(bytes: &[u8]) -> u64 {
    bytes.try_into().map(u64::from_be_bytes).unwrap_or(0)
}

pub(super) fn encode_signature(published: DateTime<Utc>, sig: &Signature) -> Vec<u8> {
    let mut out = Vec::with_capacity(8 + SIGNATURE_LEN * 4);
    out.extend_from_slice(&published.timestamp_millis().to_be_bytes());
    out.extend(sig.iter().flat_map(|v| v.to_be_bytes()));
    out
}

pub(super) fn decode_signature(bytes: &[u8]) -> Option<(Signature, DateTime<Utc>)> {
    if bytes.len() != 8 + SIGNATURE_LEN * 4 {
        return None;
    }
    let published =
        DateTime::from_timestamp_millis(i64::from_be_bytes(bytes[..8].try_into().ok()?))?;
    let mut sig = [0u32; SIGNATURE_LEN];
    for (slot, chunk) in sig.iter_mut().zip(bytes[8..].chunks_exact(4)) {
        *slot = u32::from_be_bytes(chunk.try_into().ok()?);
    }
    Some((sig, published))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn story() -> Story {
        let t = |s: &str| s.parse::<DateTime<Utc>>().unwrap();
        let source = |feed: &str, guid: &str, url: Option<&str>, title: &str, at: &str, m| Source {
            feed: feed.into(),
            guid: guid.into(),
            url: url.map(str::to_string),
            title: title.into(),
            seen_at: t(at),
            matched_by: m,
        };
        Story {
            id: 42,
            url: Some("https://x/1".into()),
            title: "Talks".into(),
            text: "Officials met.".into(),
            published: t("2023-02-22T10:00:00Z"),
            published_from_feed: true,
            first_seen: t("2023-02-22T10:05:00.123456789Z"),
            feed: "a".into(),
            language: Some("en".into()),
            sources: vec![
                source(
                    "a",
                    "https://x/1",
                    Some("https://x/1"),
                    "Talks",
                    "2023-02-22T10:05:00.123456789Z",
                    MatchKind::Original,
                ),
                source(
                    "b",
                    "b-7",
                    Some("https://y/7"),
                    "Talks held",
                    "2023-02-22T11:00:00Z",
                    MatchKind::Url,
                ),
                source(
                    "c",
                    "c-9",
                    None,
                    "Talks",
                    "2023-02-22T12:00:00Z",
                    MatchKind::NearDuplicate { similarity: 0.75 },
                ),
                source(
                    "a",
                    "guid-not-url",
                    Some("https://x/1"),
                    "Talks",
                    "2023-02-22T10:05:00.123456789Z",
                    MatchKind::Guid,
                ),
            ],
            revisions: vec![Revision {
                seen_at: t("2023-02-22T10:30:00Z"),
                title: "Talk".into(),
                text: "Officials meet.".into(),
            }],
        }
    }

    #[test]
    fn a_story_decodes_to_what_was_encoded_and_takes_less_room() {
        let s = story();
        let compact = encode_story(&s).unwrap();
        assert_eq!(decode_story(&compact).unwrap(), s);
        let model = serde_json::to_vec(&s).unwrap();
        assert!(
            compact.len() * 10 < model.len() * 7,
            "{} vs {}",
            compact.len(),
            model.len()
        );
        // The earlier form (the model's JSON) still decodes.
        assert_eq!(decode_story(&model).unwrap(), s);
        let mut bare = s.clone();
        bare.url = None;
        bare.published_from_feed = false;
        bare.language = None;
        bare.text.clear();
        bare.revisions.clear();
        for src in &mut bare.sources {
            src.url = None;
        }
        assert_eq!(decode_story(&encode_story(&bare).unwrap()).unwrap(), bare);
        let times: StoryTimes = serde_json::from_slice(&compact).unwrap();
        assert_eq!(
            (times.published, times.first_seen),
            (s.published, s.first_seen)
        );
        let times: StoryTimes = serde_json::from_slice(&model).unwrap();
        assert_eq!(times.text, s.text);
        assert!(decode_story(b"not json").is_err());
    }
}
