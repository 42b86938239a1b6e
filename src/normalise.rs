//! Story normalisation: turns a parsed feed entry into a [`Candidate`] — canonical URL,
//! plain-text title and body, publication time, language.
//!
//! Everything here is pure: no I/O, no clock (the caller passes the time it saw the entry).

use chrono::{DateTime, Utc};
use feed_rs::model::{Entry, Feed};
use url::Url;

use crate::model::Candidate;

mod html_text;

/// Query parameters that only track the reader; they never select different content.
const TRACKING_PARAMS: &[&str] = &[
    "fbclid",
    "gclid",
    "dclid",
    "gbraid",
    "wbraid",
    "msclkid",
    "yclid",
    "igshid",
    "mc_cid",
    "mc_eid",
    "_ga",
    "_gl",
    "ocid",
    "cmpid",
    "smid",
    "smtyp",
    "emc",
    "partner",
    "s_cid",
    "ito",
    "ns_mchannel",
    "ns_source",
    "ns_campaign",
    "ns_linkname",
    "ns_fee",
    "rss",
    "ref_src",
    "xtor",
    "spm",
    "cid",
    "CMP",
    "maca",
    "cmp",
    "ncid",
    "sr_share",
    "ftag",
    "soc_src",
    "soc_trk",
    "mbid",
    "twclid",
    "li_fat_id",
    "_hsenc",
    "_hsmi",
    "mkt_tok",
    "vero_id",
    "oly_enc_id",
    "oly_anon_id",
    "rb_clickid",
    "wickedid",
    "ttclid",
];

/// Parameters that track only with a given value (`ref=rss`): with another value they
/// may select content.
const TRACKING_PAIRS: &[(&str, &str)] = &[
    ("ref", "rss"),
    ("ref", "feed"),
    ("ref", "rss_feed"),
    ("source", "rss"),
    ("from", "rss"),
    ("via", "rss"),
];

/// Prefixes of tracking parameters: `utm_source`, `at_medium`, `at_campaign`, …
const TRACKING_PREFIXES: &[&str] = &["utm_", "at_", "pk_", "mtm_", "hsa_"];

fn is_tracking_param(name: &str) -> bool {
    TRACKING_PARAMS.iter().any(|p| p.eq_ignore_ascii_case(name))
        || TRACKING_PREFIXES
            .iter()
            // Compared as bytes: a parameter name may be any text, and its first bytes
            // need not end on a character boundary.
            .any(|p| {
                name.len() > p.len()
                    && name.as_bytes()[..p.len()].eq_ignore_ascii_case(p.as_bytes())
            })
}

/// Canonical form of an article URL: scheme and host lower-cased (the `url` crate does
/// this), default port dropped, fragment dropped, tracking parameters removed, the
/// remaining query parameters sorted. Returns `None` for anything but http(s) URLs.
///
/// ```
/// use tidings::normalise::canonical_url;
/// assert_eq!(
///     canonical_url("HTTPS://www.BBC.co.uk/news/world-64731513?at_medium=RSS&at_campaign=KARANGA#x").as_deref(),
///     Some("https://www.bbc.co.uk/news/world-64731513"),
/// );
/// ```
pub fn canonical_url(raw: &str) -> Option<String> {
    canonical_url_stripping(raw, &[])
}

/// [`canonical_url`], also removing the query parameters named in `strip` (the config's
/// `[urls] strip_params`, compared without case).
pub fn canonical_url_stripping(raw: &str, strip: &[String]) -> Option<String> {
    let mut url = Url::parse(raw.trim()).ok()?;
    if !matches!(url.scheme(), "http" | "https") || url.host_str().is_none() {
        return None;
    }
    url.set_fragment(None);
    let mut params: Vec<(String, String)> = url
        .query_pairs()
        .filter(|(k, v)| {
            !is_tracking_param(k)
                && !strip.iter().any(|s| s.eq_ignore_ascii_case(k))
                && !TRACKING_PAIRS
                    .iter()
                    .any(|(n, val)| k.eq_ignore_ascii_case(n) && v.eq_ignore_ascii_case(val))
        })
        .map(|(k, v)| (k.into_owned(), v.into_owned()))
        .collect();
    if params.is_empty() {
        url.set_query(None);
    } else {
        params.sort();
        url.query_pairs_mut().clear().extend_pairs(params);
    }
    Some(url.into())
}

/// Plain text from an HTML fragment: tags removed, entities decoded, whitespace collapsed
/// to single spaces. Text without markup passes through with its entities decoded.
///
/// ```
/// use tidings::normalise::html_to_text;
/// assert_eq!(html_to_text("<p>Wang Yi met <b>Putin</b>&nbsp;in Moscow.</p>"), "Wang Yi met Putin in Moscow.");
/// ```
pub fn html_to_text(html: &str) -> String {
    let text = if !html.contains(['<', '&']) {
        collapse_whitespace(html)
    } else {
        collapse_whitespace(&html_text::text_of(html))
    };
    c1_as_windows_1252(text)
}

/// C1 control characters (U+0080–U+009F, from a feed's `&#146;`) read as the
/// windows-1252 characters they stand for, as browsers read them (`’`). Costs one byte
/// search when there are none (in UTF-8 they all start with byte 0xC2).
fn c1_as_windows_1252(text: String) -> String {
    if !text.as_bytes().contains(&0xc2) {
        return text;
    }
    text.chars()
        .map(|c| match u32::from(c) {
            v @ 0x80..=0x9f => html5ever::data::C1_REPLACEMENTS[(v - 0x80) as usize].unwrap_or(c),
            _ => c,
        })
        .collect()
}

/// Collapses runs of whitespace (including non-breaking spaces) to one space and trims.
pub fn collapse_whitespace(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for word in s
        .split(|c: char| c.is_whitespace() || c == '\u{a0}')
        .filter(|w| !w.is_empty())
    {
        if !out.is_empty() {
            out.push(' ');
        }
        out.push_str(word);
    }
    out
}

/// Builds the candidate for one entry of `feed`, read from the feed with config id
/// `feed_id`. `seen_at` is when the entry was fetched.
pub fn candidate(feed_id: &str, feed: &Feed, entry: &Entry, seen_at: DateTime<Utc>) -> Candidate {
    candidate_stripping(feed_id, feed, entry, seen_at, &[])
}

/// [`candidate`], with the config's extra query parameters to strip from links.
pub fn candidate_stripping(
    feed_id: &str,
    feed: &Feed,
    entry: &Entry,
    seen_at: DateTime<Utc>,
    strip: &[String],
) -> Candidate {
    let title = entry
        .title
        .as_ref()
        .map(|t| html_to_text(&t.content))
        .unwrap_or_default();
    let body = entry
        .content
        .as_ref()
        .and_then(|c| c.body.as_deref())
        .filter(|b| !b.trim().is_empty())
        .or_else(|| entry.summary.as_ref().map(|s| s.content.as_str()))
        .filter(|b| !b.trim().is_empty())
        // Video feeds (YouTube…) carry their text in `media:description`, often inside
        // `media:group`.
        .or_else(|| {
            entry
                .media
                .iter()
                .filter_map(|m| m.description.as_ref())
                .map(|d| d.content.as_str())
                .find(|d| !d.trim().is_empty())
        })
        .unwrap_or("");
    let text = html_to_text(body);
    let raw_url = entry
        .links
        .iter()
        .find(|l| l.rel.as_deref().is_none_or(|r| r == "alternate"))
        .or_else(|| entry.links.first())
        .map(|l| l.href.clone())
        // An entry with no link whose GUID is an http(s) URL (RSS `isPermaLink`): the
        // GUID is its link.
        .or_else(|| {
            let id = entry.id.trim();
            (id.starts_with("http://") || id.starts_with("https://")).then(|| id.to_string())
        });
    let url = raw_url
        .as_deref()
        .and_then(|u| canonical_url_stripping(u, strip));
    let published = entry
        .published
        .or(entry.updated)
        .filter(|p| *p <= seen_at + chrono::Duration::hours(24));
    let language = entry
        .language
        .clone()
        .or_else(|| feed.language.clone())
        .map(|l| l.trim().to_ascii_lowercase())
        .filter(|l| !l.is_empty());
    let (guid, guid_derived) = if entry.id.trim().is_empty() {
        (derived_guid(url.as_deref(), &title, &text), true)
    } else {
        (entry.id.trim().to_string(), false)
    };
    Candidate {
        feed: feed_id.to_string(),
        guid,
        guid_derived,
        url,
        raw_url,
        title,
        text,
        published,
        language,
        seen_at,
    }
}

/// A stable id for an entry that has none: a hash of its canonical link, or of its title
/// and text when it has no link. Stable across parses, unlike a random UUID.
pub fn derived_guid(url: Option<&str>, title: &str, text: &str) -> String {
    use sha2::{Digest, Sha256};
    let mut h = Sha256::new();
    match url {
        Some(u) => h.update(u.as_bytes()),
        None => {
            h.update(title.as_bytes());
            h.update([0]);
            h.update(text.as_bytes());
        }
    }
    let digest = h.finalize();
    let mut s = String::from("tidings:");
    for b in &digest[..16] {
        s.push_str(&format!("{b:02x}"));
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tracking_parameters_fragment_and_case_are_normalised() {
        assert_eq!(
            canonical_url(
                "HTTPS://WWW.BBC.co.uk/news/world-123?at_medium=RSS&at_campaign=KARANGA#top"
            )
            .as_deref(),
            Some("https://www.bbc.co.uk/news/world-123")
        );
        assert_eq!(
            canonical_url("https://example.com/a?utm_source=x&b=2&a=1&fbclid=zz&gclid=1")
                .as_deref(),
            Some("https://example.com/a?a=1&b=2")
        );
        assert_eq!(
            canonical_url("https://n.example/a?ref=rss&maca=en-rss&ito=1&cmpid=x&ocid=y&smid=z&mc_cid=1&mc_eid=2&id=5&ref=home")
                .as_deref(),
            Some("https://n.example/a?id=5&ref=home")
        );
        assert_eq!(
            canonical_url("http://example.com:80/a/").as_deref(),
            Some("http://example.com/a/")
        );
    }

    #[test]
    fn configured_parameters_are_stripped_too() {
        let strip = ["src_campaign".to_string()];
        assert_eq!(
            canonical_url_stripping("https://n.example/a?SRC_campaign=x&id=1", &strip).as_deref(),
            Some("https://n.example/a?id=1")
        );
    }

    #[test]
    fn meaningful_query_parameters_are_kept_and_sorted() {
        assert_eq!(
            canonical_url("https://news.example/story.php?z=last&id=42").as_deref(),
            Some("https://news.example/story.php?id=42&z=last")
        );
        // A parameter that merely starts like a tracking prefix is still content.
        assert_eq!(
            canonical_url("https://x.example/?at=5").as_deref(),
            Some("https://x.example/?at=5")
        );
    }

    #[test]
    fn parameter_names_in_any_script_are_kept_and_tracking_ones_still_dropped() {
        // Names whose first bytes end inside a character: "фото" (2-byte letters) and
        // "u" + a 3-byte kanji, against the 3- and 4-byte tracking prefixes. Comparing
        // them by string slice once panicked.
        assert_eq!(
            canonical_url("https://news.example/a?%D1%84%D0%BE%D1%82%D0%BE=1&utm_source=rss")
                .as_deref(),
            Some("https://news.example/a?%D1%84%D0%BE%D1%82%D0%BE=1")
        );
        assert_eq!(
            canonical_url("https://news.example/a?u\u{6f22}p=2&f\u{17e}\u{2014}lid=3&AT_medium=x")
                .as_deref(),
            Some("https://news.example/a?f%C5%BE%E2%80%94lid=3&u%E6%BC%A2p=2")
        );
    }

    #[test]
    fn non_http_and_garbage_urls_have_no_canonical_form() {
        assert_eq!(canonical_url("mailto:desk@example.org"), None);
        assert_eq!(canonical_url("not a url"), None);
        assert_eq!(canonical_url(""), None);
    }

    #[test]
    fn html_is_reduced_to_plain_text() {
        assert_eq!(
            html_to_text(
                "<p>Wang Yi met <b>Putin</b> in Moscow.</p><p>Talks &amp; more&nbsp;talks.</p>"
            ),
            "Wang Yi met Putin in Moscow. Talks & more talks."
        );
        assert_eq!(
            html_to_text("Caf&eacute; &#8220;quoted&#8221; &lt;tag&gt;"),
            "Café “quoted” <tag>"
        );
        assert_eq!(html_to_text("  plain\n\ttext  "), "plain text");
        assert_eq!(
            html_to_text("It\u{92}s \u{93}q\u{94} \u{81}"),
            "It’s “q” \u{81}"
        );
        assert_eq!(html_to_text("<script>alert(1)</script>News"), "News");
    }

    #[test]
    fn derived_guid_is_stable_and_distinguishes_content() {
        let a = derived_guid(None, "t", "x");
        assert_eq!(a, derived_guid(None, "t", "x"));
        assert_ne!(a, derived_guid(None, "t", "y"));
        assert_ne!(a, derived_guid(Some("https://a/"), "t", "x"));
    }
}
