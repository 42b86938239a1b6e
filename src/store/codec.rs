//! Record encoding: stories, feed states, events and alerts as JSON, counters as
//! big-endian u64, signatures as published ‖ MinHash values; a record that does not
//! encode or decode is reported with its tree and key.

use chrono::{DateTime, Utc};

use super::StoreError;
use crate::dedup::{Signature, SIGNATURE_LEN};
use crate::model::Story;

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

pub(super) fn encode_story(story: &Story) -> Result<Vec<u8>, StoreError> {
    write_json(story, "stories", || story.id.to_string())
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
