//! Arbitrary bytes inside feeds that feed-rs refuses, so that every input goes through
//! the recovery path (`src/parser/recover.rs`): the repairs and the entry-by-entry
//! reading must never panic, and what they yield is counted consistently.
//!
//! The first byte picks a prefix that feed-rs does not read as it is — an RSS version it
//! does not know, Atom 0.3, RSS 0.90 — and the rest of the input follows it, inside an
//! open `<item>`/`<entry>`; half of the inputs are closed again, half are cut off.

#![no_main]

use chrono::{DateTime, Utc};
use libfuzzer_sys::fuzz_target;
use tidings::parser::parse_feed_with_charset;

const PREFIXES: [&str; 4] = [
    "<?xml version=\"1.0\"?><rss version=\"2.1\"><channel><title>t &amp; T</title><item><title>",
    "<rss><channel><title>t</title></channel><item><description>",
    "<feed xmlns=\"http://purl.org/atom/ns#\"><title>t</title><entry><content mode=\"base64\" type=\"text/html\">",
    "<rdf:RDF xmlns:rdf=\"http://www.w3.org/1999/02/22-rdf-syntax-ns#\" xmlns=\"http://my.netscape.com/rdf/simple/0.9/\"><channel><title>t</title></channel><item rdf:about=\"urn:x\"><title>",
];

const SUFFIXES: [&str; 4] = [
    "</title></item></channel></rss>",
    "</description></item></channel></rss>",
    "</content></entry></feed>",
    "</title></item></rdf:RDF>",
];

fuzz_target!(|data: &[u8]| {
    let Some((&pick, rest)) = data.split_first() else {
        return;
    };
    let which = usize::from(pick) % PREFIXES.len();
    let mut body = PREFIXES[which].as_bytes().to_vec();
    body.extend_from_slice(rest);
    if pick & 0x80 == 0 {
        body.extend_from_slice(SUFFIXES[which].as_bytes());
    }
    let now: DateTime<Utc> = DateTime::from_timestamp(1_677_067_200, 0).expect("a valid time");
    if let Ok(feed) = parse_feed_with_charset("fuzz", &body, None, now, None) {
        assert!(feed.skipped == 0 || feed.first_skipped.is_some());
        assert!(feed.warning.is_none() || feed.candidates.is_empty());
        for c in &feed.candidates {
            assert!(!c.guid.is_empty());
            assert!(!(c.title.is_empty() && c.text.is_empty() && c.url.is_none()));
        }
    }
});
