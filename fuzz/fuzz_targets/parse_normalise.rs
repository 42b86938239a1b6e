//! Arbitrary bytes as a fetched feed body: parsing must never panic, and every story it
//! yields must already be in normal form.
//!
//! For each candidate the target checks that:
//! - the canonical URL is an http(s) URL that canonicalises to itself, and is the
//!   canonical form of the raw link the feed gave;
//! - title and text are plain text with whitespace collapsed (trimmed, single spaces);
//! - the GUID is non-empty and trimmed; a derived GUID is `tidings:` and 32 hex digits;
//! - a publication time is never more than 24 hours after the time the feed was seen;
//! - a language is lower-case, trimmed and non-empty.
//!
//! Bodies that are not feeds go through the text helpers (`canonical_url`,
//! `html_to_text`) directly, so those see arbitrary input too.

#![no_main]

use chrono::{DateTime, Duration, Utc};
use libfuzzer_sys::fuzz_target;
use tidings::model::Candidate;
use tidings::normalise::{canonical_url, collapse_whitespace, html_to_text};
use tidings::parser::parse_feed_with_charset;

/// Charsets an HTTP response may declare, the absent and the bogus ones included.
const CHARSETS: [Option<&str>; 6] = [
    None,
    Some("utf-8"),
    Some("iso-8859-1"),
    Some("shift_jis"),
    Some("utf-16le"),
    Some("no-such-charset"),
];

const BASE_URL: &str = "https://news.example.org/world/rss.xml";

fn seen_at() -> DateTime<Utc> {
    DateTime::from_timestamp(1_677_067_200, 0).expect("2023-02-22T12:00:00Z")
}

fn is_collapsed(s: &str) -> bool {
    collapse_whitespace(s) == s
}

fn check_candidate(c: &Candidate, now: DateTime<Utc>) {
    assert_eq!(c.feed, "fuzz");
    assert!(is_collapsed(&c.title), "title not collapsed: {:?}", c.title);
    assert!(is_collapsed(&c.text), "text not collapsed: {:?}", c.text);

    assert!(!c.guid.is_empty(), "empty guid");
    assert_eq!(c.guid.trim(), c.guid, "guid not trimmed");
    if c.guid_derived {
        let hex = c
            .guid
            .strip_prefix("tidings:")
            .expect("derived guid prefix");
        assert_eq!(hex.len(), 32, "derived guid length: {:?}", c.guid);
        assert!(hex.bytes().all(|b| b.is_ascii_hexdigit()));
    }

    if let Some(url) = &c.url {
        assert!(
            url.starts_with("http://") || url.starts_with("https://"),
            "canonical url with another scheme: {url:?}"
        );
        assert_eq!(
            canonical_url(url).as_deref(),
            Some(url.as_str()),
            "canonical url is not a fixed point"
        );
        let raw = c
            .raw_url
            .as_deref()
            .expect("canonical url without a raw link");
        assert_eq!(canonical_url(raw).as_deref(), Some(url.as_str()));
    }

    if let Some(published) = c.published {
        assert!(
            published <= now + Duration::hours(24),
            "published in the future"
        );
    }

    if let Some(lang) = &c.language {
        assert!(!lang.is_empty());
        assert_eq!(lang.trim(), lang);
        assert_eq!(&lang.to_ascii_lowercase(), lang);
    }

    // The helpers on the story's own fields: plain text stays plain.
    let _ = html_to_text(&c.title);
    if let Some(raw) = &c.raw_url {
        let _ = canonical_url(raw);
    }
}

fuzz_target!(|data: &[u8]| {
    let now = seen_at();
    let charset = CHARSETS[data.len() % CHARSETS.len()];
    match parse_feed_with_charset("fuzz", data, Some(BASE_URL), now, charset) {
        Ok(feed) => {
            if let Some(title) = &feed.title {
                assert!(is_collapsed(title), "feed title not collapsed: {title:?}");
            }
            for c in &feed.candidates {
                check_candidate(c, now);
            }
        }
        Err(_) => {
            let text = String::from_utf8_lossy(data);
            if let Some(url) = canonical_url(&text) {
                assert_eq!(canonical_url(&url).as_deref(), Some(url.as_str()));
            }
            let plain = html_to_text(&text);
            assert!(
                is_collapsed(&plain),
                "html_to_text not collapsed: {plain:?}"
            );
        }
    }
});
