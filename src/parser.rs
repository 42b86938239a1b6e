//! Feed parsing: raw response bytes in, normalised candidates out.
//!
//! feed-rs reads RSS 0.9x/1.0/2.0, Atom and JSON Feed from the raw bytes (it decodes the
//! charset from the XML declaration itself). Its default id generator would give entries
//! without an id a random UUID on every parse; we replace it so such entries get a
//! stable id derived from their content (see [`crate::normalise::derived_guid`]).

use chrono::{DateTime, Utc};

use crate::model::Candidate;
use crate::normalise;

/// A feed that could not be read.
#[derive(Debug, thiserror::Error)]
pub enum ParseError {
    #[error("the body is empty")]
    Empty,
    #[error("the body looks like an HTML page, not a feed")]
    HtmlPage,
    #[error("not a feed: {0}")]
    Invalid(String),
}

/// What one fetched feed document yielded.
#[derive(Debug, Clone)]
pub struct ParsedFeed {
    pub title: Option<String>,
    pub candidates: Vec<Candidate>,
}

/// Parses `body` as a feed and normalises each entry. `base_url` resolves relative links.
pub fn parse_feed(
    feed_id: &str,
    body: &[u8],
    base_url: Option<&str>,
    seen_at: DateTime<Utc>,
) -> Result<ParsedFeed, ParseError> {
    if body.iter().all(|b| b.is_ascii_whitespace()) {
        return Err(ParseError::Empty);
    }
    let parser = feed_rs::parser::Builder::new()
        .base_uri(base_url)
        .id_generator(|_, _, _| String::new())
        .build();
    let feed = parser.parse(body).map_err(|e| {
        if looks_like_html(body) {
            ParseError::HtmlPage
        } else {
            ParseError::Invalid(e.to_string())
        }
    })?;
    let candidates = feed
        .entries
        .iter()
        .map(|entry| normalise::candidate(feed_id, &feed, entry, seen_at))
        .collect();
    Ok(ParsedFeed {
        title: feed
            .title
            .as_ref()
            .map(|t| normalise::html_to_text(&t.content)),
        candidates,
    })
}

fn looks_like_html(body: &[u8]) -> bool {
    let head = &body[..body.len().min(1024)];
    let head = String::from_utf8_lossy(head).to_ascii_lowercase();
    head.contains("<!doctype html") || head.contains("<html")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn now() -> DateTime<Utc> {
        "2023-02-22T12:00:00Z".parse().unwrap()
    }

    const RSS: &str = r#"<?xml version="1.0"?>
<rss version="2.0"><channel><title>World</title><language>en-GB</language>
<item><title>Wang Yi meets Putin</title><link>https://ex.org/a?utm_source=rss</link>
<guid>a-1</guid><description>&lt;p&gt;Talks in &lt;b&gt;Moscow&lt;/b&gt;&lt;/p&gt;</description>
<pubDate>Wed, 22 Feb 2023 10:00:00 GMT</pubDate></item>
<item><title>No id here</title><link>https://ex.org/b</link><description>Body</description></item>
</channel></rss>"#;

    #[test]
    fn rss_entries_become_candidates() {
        let f = parse_feed("w", RSS.as_bytes(), None, now()).unwrap();
        assert_eq!(f.title.as_deref(), Some("World"));
        let a = &f.candidates[0];
        assert_eq!(a.guid, "a-1");
        assert!(!a.guid_derived);
        assert_eq!(a.url.as_deref(), Some("https://ex.org/a"));
        assert_eq!(a.text, "Talks in Moscow");
        assert_eq!(a.language.as_deref(), Some("en-gb"));
        assert_eq!(a.published, Some("2023-02-22T10:00:00Z".parse().unwrap()));
    }

    #[test]
    fn entries_without_id_get_the_same_id_on_every_parse() {
        let one = parse_feed("w", RSS.as_bytes(), None, now()).unwrap();
        let two = parse_feed("w", RSS.as_bytes(), None, now()).unwrap();
        assert!(one.candidates[1].guid_derived);
        assert!(one.candidates[1].guid.starts_with("tidings:"));
        assert_eq!(one.candidates[1].guid, two.candidates[1].guid);
    }

    #[test]
    fn atom_and_json_feed_are_read() {
        let atom = r#"<feed xmlns="http://www.w3.org/2005/Atom"><title>A</title><id>f</id>
<entry><title>T</title><id>urn:1</id><link href="https://ex.org/x"/><updated>2023-02-21T00:00:00Z</updated><summary>S</summary></entry></feed>"#;
        let f = parse_feed("a", atom.as_bytes(), None, now()).unwrap();
        assert_eq!(f.candidates[0].guid, "urn:1");
        let json = r#"{"version":"https://jsonfeed.org/version/1.1","title":"J","items":[{"id":"9","url":"https://ex.org/j","content_text":"hello"}]}"#;
        let f = parse_feed("j", json.as_bytes(), None, now()).unwrap();
        assert_eq!(f.candidates[0].text, "hello");
    }

    #[test]
    fn broken_empty_and_html_bodies_are_errors() {
        assert!(matches!(
            parse_feed("x", b"  \n", None, now()),
            Err(ParseError::Empty)
        ));
        assert!(matches!(
            parse_feed(
                "x",
                b"<!DOCTYPE html><html><body>Hi</body></html>",
                None,
                now()
            ),
            Err(ParseError::HtmlPage)
        ));
        assert!(matches!(
            parse_feed(
                "x",
                b"<rss version=\"2.0\"><channel><item><title>oops</channel>",
                None,
                now()
            ),
            Err(ParseError::Invalid(_))
        ));
    }
}
