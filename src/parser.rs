//! Feed parsing: raw response bytes in, normalised candidates out.
//!
//! feed-rs reads RSS 0.9x/1.0/2.0, Atom and JSON Feed from the raw bytes (it decodes the
//! charset from the XML declaration itself). Before that, [`decode_for_parsing`] settles
//! disagreements between the HTTP `charset` and the document: bytes that are valid UTF-8
//! are taken as UTF-8; a document that declares its own non-UTF-8 encoding is decoded by
//! that declaration; otherwise the HTTP charset, else Windows-1252, turns the bytes into
//! UTF-8 — a mislabelled feed is read, not refused. Its default id generator would give entries
//! without an id a random UUID on every parse; we replace it so such entries get a
//! stable id derived from their content (see [`crate::normalise::derived_guid`]).

use std::borrow::Cow;
use std::time::Duration;

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
    /// The feed's own hint of how often to poll it (RSS `<ttl>`).
    pub ttl: Option<Duration>,
}

/// Parses `body` as a feed and normalises each entry. `base_url` resolves relative links.
pub fn parse_feed(
    feed_id: &str,
    body: &[u8],
    base_url: Option<&str>,
    seen_at: DateTime<Utc>,
) -> Result<ParsedFeed, ParseError> {
    parse_feed_with_charset(feed_id, body, base_url, seen_at, None)
}

/// Like [`parse_feed`], with the `charset` the HTTP response declared.
pub fn parse_feed_with_charset(
    feed_id: &str,
    body: &[u8],
    base_url: Option<&str>,
    seen_at: DateTime<Utc>,
    http_charset: Option<&str>,
) -> Result<ParsedFeed, ParseError> {
    if body.iter().all(|b| b.is_ascii_whitespace()) {
        return Err(ParseError::Empty);
    }
    let body = decode_for_parsing(body, http_charset);
    let body = body.as_ref();
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
        ttl: feed.ttl.map(|m| Duration::from_secs(u64::from(m) * 60)),
    })
}

/// The bytes feed-rs should parse: unchanged when they are UTF-8 or declare their own
/// encoding, else decoded to UTF-8 with the HTTP charset (or Windows-1252).
pub fn decode_for_parsing<'a>(body: &'a [u8], http_charset: Option<&str>) -> Cow<'a, [u8]> {
    if std::str::from_utf8(body).is_ok() {
        return Cow::Borrowed(body);
    }
    if let Some(declared) = declared_encoding(body) {
        if !declared.eq_ignore_ascii_case("utf-8") && !declared.eq_ignore_ascii_case("utf8") {
            return Cow::Borrowed(body);
        }
    }
    let encoding = http_charset
        .and_then(|c| encoding_rs::Encoding::for_label(c.as_bytes()))
        .filter(|e| *e != encoding_rs::UTF_8)
        .unwrap_or(encoding_rs::WINDOWS_1252);
    let (text, _, _) = encoding.decode(body);
    Cow::Owned(text.into_owned().into_bytes())
}

/// The `encoding` of an XML declaration at the start of `body`, if any.
fn declared_encoding(body: &[u8]) -> Option<String> {
    let head = &body[..body.len().min(256)];
    let head = String::from_utf8_lossy(head);
    let decl = head.trim_start_matches('\u{feff}').trim_start();
    let decl = decl.strip_prefix("<?xml")?;
    let decl = &decl[..decl.find("?>")?];
    let at = decl.find("encoding")?;
    let rest = decl[at + "encoding".len()..]
        .trim_start()
        .strip_prefix('=')?
        .trim_start();
    let quote = rest.chars().next().filter(|c| *c == '"' || *c == '\'')?;
    let value = &rest[1..];
    Some(value[..value.find(quote)?].to_string())
}

fn looks_like_html(body: &[u8]) -> bool {
    let head = &body[..body.len().min(1024)];
    let head = String::from_utf8_lossy(head).to_ascii_lowercase();
    head.contains("<!doctype html") || head.contains("<html")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mislabelled_latin1_is_read_not_refused() {
        // "Zürich" in ISO-8859-1, no encoding declared, served as UTF-8.
        let body = b"<?xml version=\"1.0\"?><rss version=\"2.0\"><channel><title>t</title><item><guid>1</guid><title>Z\xfcrich talks</title></item></channel></rss>";
        let parsed = parse_feed_with_charset("f", body, None, now(), Some("utf-8")).unwrap();
        assert_eq!(parsed.candidates[0].title, "Zürich talks");
        // The same with the right header.
        let parsed = parse_feed_with_charset("f", body, None, now(), Some("iso-8859-1")).unwrap();
        assert_eq!(parsed.candidates[0].title, "Zürich talks");
    }

    #[test]
    fn a_declared_encoding_and_valid_utf8_are_left_alone() {
        let latin = b"<?xml version=\"1.0\" encoding=\"ISO-8859-1\"?><rss/>";
        assert!(matches!(
            decode_for_parsing(latin, Some("utf-8")),
            Cow::Borrowed(_)
        ));
        assert_eq!(declared_encoding(latin).as_deref(), Some("ISO-8859-1"));
        let utf8 = "<rss><channel><title>Zürich</title></channel></rss>".as_bytes();
        assert!(matches!(
            decode_for_parsing(utf8, Some("iso-8859-1")),
            Cow::Borrowed(_)
        ));
    }

    #[test]
    fn ttl_is_read_in_minutes() {
        let body = b"<rss version=\"2.0\"><channel><title>t</title><ttl>15</ttl></channel></rss>";
        let parsed = parse_feed("f", body, None, now()).unwrap();
        assert_eq!(parsed.ttl, Some(Duration::from_secs(900)));
    }

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
