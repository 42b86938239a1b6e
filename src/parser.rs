//! Feed parsing: raw response bytes in, normalised candidates out.
//!
//! feed-rs reads RSS 0.9x/1.0/2.0, Atom and JSON Feed from the raw bytes (it decodes the
//! charset from the XML declaration itself). Before that, [`decode_for_parsing`] settles
//! the encoding: UTF-16 and UTF-32 (by BOM, or by the first bytes of `<`) are decoded to
//! UTF-8; bytes that are valid UTF-8 are taken as UTF-8; a document that declares its own
//! non-UTF-8 encoding is decoded by that declaration; otherwise the HTTP charset, else
//! the encoding `chardetng` sniffs, turns the bytes into UTF-8 — a mislabelled feed is
//! read, not refused. Dates are read leniently ([`dates`]).
//!
//! The fast path is feed-rs alone. Only when it fails, or yields no entry from a document
//! that has `<item>`/`<entry>` elements, does [`recover`] repair the document and, if that
//! is not enough, read it entry by entry; what was skipped is reported in
//! [`ParsedFeed::skipped`], and a document with entries of which none could be read in
//! [`ParsedFeed::warning`]. Its default id generator would give entries
//! without an id a random UUID on every parse; we replace it so such entries get a
//! stable id derived from their content (see [`crate::normalise::derived_guid`]).

use std::borrow::Cow;
use std::time::Duration;

use chrono::{DateTime, Utc};

use crate::model::Candidate;
use crate::normalise;

mod dates;
mod item_facts;
mod recover;

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
    /// Entries that could not be read and were skipped (with the document recovered
    /// entry by entry), and the first one's error with its position.
    pub skipped: usize,
    pub first_skipped: Option<String>,
    /// Something the feed's owner should know though the document was read: it has
    /// entries, but none could be read.
    pub warning: Option<String>,
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
    parse_feed_stripping(feed_id, body, base_url, seen_at, http_charset, &[])
}

/// Like [`parse_feed_with_charset`], also stripping the query parameters named in
/// `strip` (the config's `[urls] strip_params`) from links.
pub fn parse_feed_stripping(
    feed_id: &str,
    body: &[u8],
    base_url: Option<&str>,
    seen_at: DateTime<Utc>,
    http_charset: Option<&str>,
    strip: &[String],
) -> Result<ParsedFeed, ParseError> {
    if body.iter().all(|b| b.is_ascii_whitespace()) {
        return Err(ParseError::Empty);
    }
    let body = decode_for_parsing(body, http_charset);
    let body = body.as_ref();
    let parser = feed_rs::parser::Builder::new()
        .base_uri(base_url)
        .id_generator(|_, _, _| String::new())
        .timestamp_parser(dates::parse_timestamp)
        .build();
    let first = parser.parse(body);
    let mut parsed = match first {
        Ok(mut feed)
            if (!feed.entries.is_empty() || !recover::has_entries(body))
                && !recover::rdf_items_lost(&feed, body) =>
        {
            channel_dc_language(&mut feed, body);
            let not_permalink = item_facts(&mut feed, body);
            return Ok(parsed_feed(feed_id, &feed, seen_at, strip, &not_permalink));
        }
        Err(_) if looks_like_html(body) => return Err(ParseError::HtmlPage),
        first => recovered(feed_id, &parser, body, first, seen_at, strip)?,
    };
    if parsed.candidates.is_empty() && parsed.warning.is_none() {
        let n = recover::count_entries(body);
        parsed.warning = Some(format!(
            "the document has {n} entr{} but none could be read",
            if n == 1 { "y" } else { "ies" }
        ));
    }
    Ok(parsed)
}

/// The slow path: `first` (feed-rs on the document as it came) failed or read no entry
/// from a document that has some. Repairs the document, then reads it entry by entry.
fn recovered(
    feed_id: &str,
    parser: &feed_rs::parser::Parser,
    body: &[u8],
    first: Result<feed_rs::model::Feed, feed_rs::parser::ParseFeedError>,
    seen_at: DateTime<Utc>,
    strip: &[String],
) -> Result<ParsedFeed, ParseError> {
    let text = utf8_text(body);
    let repaired = recover::repair(&text);
    let mut whole = parser.parse(repaired.as_bytes());
    if let Ok(mut feed) = whole {
        if !feed.entries.is_empty() {
            channel_dc_language(&mut feed, repaired.as_bytes());
            let not_permalink = item_facts(&mut feed, repaired.as_bytes());
            return Ok(parsed_feed(feed_id, &feed, seen_at, strip, &not_permalink));
        }
        whole = Ok(feed);
    }
    let by_entry = recover::by_entry(parser, &repaired);
    let feed = match (by_entry.feed, whole, first) {
        (Some(feed), _, _) if !feed.entries.is_empty() => feed,
        // Nothing read one by one either: the document as a whole, if it parsed.
        (_, Ok(feed), _) | (_, _, Ok(feed)) => feed,
        // The header reads and whole entries are there, but none of them reads: a
        // warning on the feed. A document cut off before its first entry ends stays an
        // error.
        (Some(feed), _, Err(_)) if by_entry.found > usize::from(by_entry.cut_off) => feed,
        (_, _, Err(e)) => return Err(ParseError::Invalid(e.to_string())),
    };
    let mut feed = feed;
    channel_dc_language(&mut feed, repaired.as_bytes());
    let not_permalink = item_facts(&mut feed, repaired.as_bytes());
    let mut parsed = parsed_feed(feed_id, &feed, seen_at, strip, &not_permalink);
    if !parsed.candidates.is_empty() {
        parsed.skipped += by_entry.skipped;
        if by_entry.first_error.is_some() {
            parsed.first_skipped = by_entry.first_error;
        }
    } else if let Some(e) = by_entry.first_error {
        parsed.warning = Some(format!(
            "the document has {} entr{} but none could be read; first: {e}",
            by_entry.found,
            if by_entry.found == 1 { "y" } else { "ies" }
        ));
    }
    Ok(parsed)
}

/// The raw facts feed-rs does not carry (`parser/item_facts.rs`), read only when the
/// feed needs them: item languages go on the entries; the result says, per entry,
/// whether its GUID is not a permalink.
fn item_facts(feed: &mut feed_rs::model::Feed, doc: &[u8]) -> Vec<bool> {
    if !item_facts::needed(feed, doc) {
        return Vec::new();
    }
    item_facts::apply(feed, &item_facts::read(doc))
}

/// The candidates of `feed`'s entries. `not_permalink[n]` (when present) says entry
/// `n`'s GUID is `isPermaLink="false"`: never its link.
fn parsed_feed(
    feed_id: &str,
    feed: &feed_rs::model::Feed,
    seen_at: DateTime<Utc>,
    strip: &[String],
    not_permalink: &[bool],
) -> ParsedFeed {
    let mut candidates = Vec::with_capacity(feed.entries.len());
    let mut guids = std::collections::HashSet::with_capacity(feed.entries.len());
    let (mut skipped, mut first_skipped) = (0, None);
    for (n, entry) in feed.entries.iter().enumerate() {
        let mut c = normalise::candidate_stripping(feed_id, feed, entry, seen_at, strip);
        if not_permalink.get(n).copied().unwrap_or(false)
            && entry.links.is_empty()
            && c.raw_url.as_deref() == Some(entry.id.trim())
        {
            c.url = None;
            c.raw_url = None;
        }
        // Nothing to tell it by: never merged with other such entries into one story.
        if c.title.is_empty() && c.text.is_empty() && c.url.is_none() {
            skipped += 1;
            first_skipped.get_or_insert_with(|| format!("entry {}: no title, text or link", n + 1));
            continue;
        }
        // One GUID repeated with other titles in one document: the first is the entry
        // (else each poll would revise the story back and forth).
        if !guids.insert(c.guid.clone()) {
            continue;
        }
        candidates.push(c);
    }
    ParsedFeed {
        title: feed
            .title
            .as_ref()
            .map(|t| normalise::html_to_text(&t.content)),
        candidates,
        ttl: feed.ttl.map(|m| Duration::from_secs(u64::from(m) * 60)),
        skipped,
        first_skipped,
        warning: None,
    }
}

/// An RSS 2.0 channel that states its language only as `<dc:language>` (feed-rs reads
/// it in RSS 1.0 alone): that language is the feed's. Searched for only when the feed
/// has no language, and only before the first item (an item's own is read by
/// `parser/item_facts.rs`).
fn channel_dc_language(feed: &mut feed_rs::model::Feed, body: &[u8]) {
    if feed.language.is_some() {
        return;
    }
    let Ok(text) = std::str::from_utf8(body) else {
        return;
    };
    // The channel's own, before its first item: an item's is the item's.
    let channel = &text[..text.find("<item").unwrap_or(text.len())];
    let Some(at) = channel.find("<dc:language>") else {
        return;
    };
    let rest = &text[at + "<dc:language>".len()..];
    let value = rest[..rest.find('<').unwrap_or(rest.len())].trim();
    if !value.is_empty() && value.len() <= 35 {
        feed.language = Some(value.to_ascii_lowercase());
    }
}

/// The document as UTF-8 text: bytes [`decode_for_parsing`] left in their declared
/// encoding are decoded by it (else as windows-1252).
fn utf8_text(body: &[u8]) -> Cow<'_, str> {
    if let Ok(text) = std::str::from_utf8(body) {
        return Cow::Borrowed(text);
    }
    let encoding = declared_encoding(body)
        .and_then(|d| encoding_rs::Encoding::for_label(d.as_bytes()))
        .unwrap_or(encoding_rs::WINDOWS_1252);
    encoding.decode(body).0
}

/// The bytes feed-rs should parse: unchanged when they are UTF-8 or declare their own
/// encoding, else decoded to UTF-8 with the HTTP charset (or Windows-1252).
pub fn decode_for_parsing<'a>(body: &'a [u8], http_charset: Option<&str>) -> Cow<'a, [u8]> {
    if let Some(text) = decode_wide(body) {
        return Cow::Owned(recover::declare_utf8(&text).into_owned().into_bytes());
    }
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
        .unwrap_or_else(|| {
            let mut detector =
                chardetng::EncodingDetector::new(chardetng::Iso2022JpDetection::Deny);
            detector.feed(body, true);
            detector.guess(None, chardetng::Utf8Detection::Deny)
        });
    let (text, _, _) = encoding.decode(body);
    Cow::Owned(recover::declare_utf8(&text).into_owned().into_bytes())
}

/// A UTF-16 or UTF-32 document (told by its BOM, or by how `<` is spelled in its first
/// bytes) decoded to UTF-8; `None` for any other document.
fn decode_wide(body: &[u8]) -> Option<String> {
    let head: [u8; 4] = body.get(..4)?.try_into().ok()?;
    let (wide, skip) = match head {
        [0, 0, 0xfe, 0xff] => (Wide::Utf32Be, 4),
        [0xff, 0xfe, 0, 0] => (Wide::Utf32Le, 4),
        [0xfe, 0xff, _, _] => (Wide::Utf16Be, 2),
        [0xff, 0xfe, _, _] => (Wide::Utf16Le, 2),
        [0, 0, 0, b] if b != 0 => (Wide::Utf32Be, 0),
        [b, 0, 0, 0] if b != 0 => (Wide::Utf32Le, 0),
        [0, a, 0, b] if a != 0 && b != 0 => (Wide::Utf16Be, 0),
        [a, 0, b, 0] if a != 0 && b != 0 => (Wide::Utf16Le, 0),
        _ => return None,
    };
    let body = &body[skip..];
    Some(match wide {
        Wide::Utf16Be => encoding_rs::UTF_16BE
            .decode_without_bom_handling(body)
            .0
            .into_owned(),
        Wide::Utf16Le => encoding_rs::UTF_16LE
            .decode_without_bom_handling(body)
            .0
            .into_owned(),
        Wide::Utf32Be | Wide::Utf32Le => body
            .chunks(4)
            .map(|c| {
                let mut b = [0u8; 4];
                b[..c.len()].copy_from_slice(c);
                let v = if matches!(wide, Wide::Utf32Be) {
                    u32::from_be_bytes(b)
                } else {
                    u32::from_le_bytes(b)
                };
                char::from_u32(v).unwrap_or('\u{fffd}')
            })
            .collect(),
    })
}

#[derive(Clone, Copy)]
enum Wide {
    Utf16Be,
    Utf16Le,
    Utf32Be,
    Utf32Le,
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
    fn a_channel_dc_language_is_the_feed_language() {
        let body = br#"<rss version="2.0" xmlns:dc="http://purl.org/dc/elements/1.1/"><channel><title>t</title><dc:language>de-DE</dc:language><item><guid>1</guid><title>x</title></item></channel></rss>"#;
        let parsed = parse_feed("f", body, None, now()).unwrap();
        assert_eq!(parsed.candidates[0].language.as_deref(), Some("de-de"));
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
