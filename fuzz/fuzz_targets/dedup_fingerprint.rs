//! Arbitrary text as a story's title and body: fingerprinting must never panic, and the
//! fingerprint must depend only on the words.
//!
//! The input is read as UTF-8 (lossily); its first line is the title, the rest the
//! body. The target checks that:
//! - the fingerprint is deterministic;
//! - collapsing whitespace (as normalisation does) leaves it unchanged;
//! - there are exactly `BANDS` band keys when there is a signature, none otherwise;
//! - a signature is fully similar to itself.

#![no_main]

use chrono::DateTime;
use libfuzzer_sys::fuzz_target;
use tidings::dedup::{similarity, Fingerprint, BANDS};
use tidings::model::Candidate;
use tidings::normalise::collapse_whitespace;

fn candidate(title: &str, text: &str) -> Candidate {
    Candidate {
        feed: "fuzz".into(),
        guid: "fuzz-1".into(),
        guid_derived: false,
        url: None,
        raw_url: None,
        title: title.into(),
        text: text.into(),
        published: None,
        language: None,
        seen_at: DateTime::from_timestamp(1_677_067_200, 0).expect("2023-02-22T12:00:00Z"),
    }
}

fuzz_target!(|data: &[u8]| {
    let input = String::from_utf8_lossy(data);
    let (title, text) = input.split_once('\n').unwrap_or((&input, ""));
    let c = candidate(title, text);
    let fp = Fingerprint::of(&c);

    assert_eq!(Fingerprint::of(&c), fp, "fingerprint not deterministic");

    let collapsed = candidate(&collapse_whitespace(title), &collapse_whitespace(text));
    assert_eq!(
        Fingerprint::of(&collapsed),
        fp,
        "whitespace changed the fingerprint"
    );

    let keys = fp.band_keys();
    match &fp.signature {
        Some(sig) => {
            assert_eq!(keys.len(), BANDS);
            assert!(keys
                .iter()
                .enumerate()
                .all(|(i, (b, _))| usize::from(*b) == i));
            assert_eq!(similarity(sig, sig), 1.0);
        }
        None => assert!(keys.is_empty()),
    }
});
