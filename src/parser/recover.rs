//! Recovery for feed documents feed-rs refuses, or reads as empty although they hold
//! entries. It runs only then: a document feed-rs reads is never touched.
//!
//! Two stages, each tried only when the one before did not yield entries:
//!
//! 1. [`repair`]: text-level repairs of the whole document — the XML declaration says
//!    UTF-8 (the text already is); an `<rss>` root with no or an unknown `version`
//!    (0.93, 0.94, 2.01, 2.1…) is read as RSS 2.0; Atom 0.3 (`http://purl.org/atom/ns#`)
//!    is rewritten with its Atom 1.0 meanings (`modified` → `updated`, `issued` and
//!    `created` → `published`, `tagline` → `subtitle`, `copyright` → `rights`,
//!    `mode="escaped|base64|xml"`); Atom `type` values feed-rs refuses (`""`,
//!    `text/plain`, `application/xhtml+xml`) are mapped to `text`/`html`/`xhtml`; HTML
//!    markup outside CDATA in text elements (`title`, `description`, `summary`,
//!    `content`, …) is wrapped in CDATA so that unbalanced tags do not break the
//!    document; bare `&` becomes `&amp;`, HTML named entities (`&nbsp;`, `&eacute;`, from
//!    html5ever's table) become character references, and references to C1 controls
//!    (`&#146;`) become the windows-1252 characters browsers read them as.
//! 2. [`by_entry`]: the channel header and each `<item>`/`<entry>` parsed alone, so one
//!    bad entry costs only itself; an entry cut off by a truncated document is skipped.
//!    What was skipped is counted, with the first error and its line.

use std::borrow::Cow;
use std::fmt::Write as _;

use base64::Engine as _;
use feed_rs::model::Feed;

/// Entries recovered one by one, and what was skipped.
#[derive(Debug)]
pub(crate) struct ByEntry {
    /// The feed as its header reads, with every entry that parsed alone.
    pub feed: Option<Feed>,
    /// `<item>`/`<entry>` elements found (complete or cut off).
    pub found: usize,
    /// Entries that did not parse (or were cut off).
    pub skipped: usize,
    /// The first skipped entry's error, with its position.
    pub first_error: Option<String>,
    /// Whether the document ends inside its last entry.
    pub cut_off: bool,
}

/// The text-level repairs of the module docs, on a document already decoded to UTF-8.
pub(crate) fn repair(doc: &str) -> String {
    let doc = declare_utf8(doc);
    let doc = fix_root(&doc);
    let doc = if root_name(&doc) == Some("RDF") {
        Cow::Owned(rdf_as_rss2(&doc))
    } else {
        doc
    };
    let atom = root_name(&doc) == Some("feed");
    let doc = if atom {
        Cow::Owned(fix_atom(&doc))
    } else {
        doc
    };
    let doc = wrap_markup(&doc, atom);
    fix_entities(&doc)
}

/// Whether the document has `<item>` or `<entry>` elements (cheap: a byte search).
pub(crate) fn has_entries(doc: &[u8]) -> bool {
    find_tag(doc, b"item", 0).is_some() || find_tag(doc, b"entry", 0).is_some()
}

/// An RSS 0.90/1.0 document (`<rdf:RDF>`) from which feed-rs read fewer items than it
/// has: feed-rs drops RDF items without a link, so the document goes the recovery way,
/// which reads it as RSS 2.0 and keeps them. Counts only RDF documents.
pub(crate) fn rdf_items_lost(feed: &feed_rs::model::Feed, doc: &[u8]) -> bool {
    use feed_rs::model::FeedType;
    matches!(feed.feed_type, FeedType::RSS0 | FeedType::RSS1)
        && count_entries(doc) > feed.entries.len()
}

/// Counts the `<name` start tags in `doc` at or after `from`.
fn count_from(doc: &[u8], name: &[u8], from: usize) -> usize {
    let mut n = 0;
    let mut at = from;
    while let Some(p) = find_tag(doc, name, at) {
        n += 1;
        at = p + 1;
    }
    n
}

/// The first `</name>` at or after a position, remembering the last answer per end tag:
/// the scans run forward, so many unclosed elements cost one search, not one each (no
/// quadratic time on hostile input).
struct Closes<'a> {
    doc: &'a str,
    last: Vec<(String, Option<usize>)>,
}

impl<'a> Closes<'a> {
    fn new(doc: &'a str) -> Self {
        Closes {
            doc,
            last: Vec::new(),
        }
    }

    /// Byte offset of the first `close` at or after `from` (`from` never decreases
    /// between calls for one `close`).
    fn after(&mut self, close: &str, from: usize) -> Option<usize> {
        let slot = match self.last.iter().position(|(n, _)| n == close) {
            Some(i) => {
                match self.last[i].1 {
                    None => return None,
                    Some(p) if p >= from => return Some(p),
                    Some(_) => {}
                }
                i
            }
            None => {
                self.last.push((close.to_string(), None));
                self.last.len() - 1
            }
        };
        let found = self
            .doc
            .get(from..)
            .and_then(|rest| rest.find(close))
            .map(|e| from + e);
        self.last[slot].1 = found;
        found
    }
}

/// Counts the `<item>`/`<entry>` start tags in `doc`.
pub(crate) fn count_entries(doc: &[u8]) -> usize {
    let name: &[u8] = if find_tag(doc, b"item", 0).is_some() {
        b"item"
    } else {
        b"entry"
    };
    let mut n = 0;
    let mut at = 0;
    while let Some(p) = find_tag(doc, name, at) {
        n += 1;
        at = p + 1;
    }
    n
}

/// Parses the header and each entry of `doc` alone (see the module docs).
pub(crate) fn by_entry(parser: &feed_rs::parser::Parser, doc: &str) -> ByEntry {
    let entry_name = if root_name(doc) == Some("feed") {
        "entry"
    } else {
        "item"
    };
    let mut out = ByEntry {
        feed: None,
        found: 0,
        skipped: 0,
        first_error: None,
        cut_off: false,
    };
    let Some(first) = find_tag(doc.as_bytes(), entry_name.as_bytes(), 0) else {
        return out;
    };
    let (header, closing) = header_and_closing(&doc[..first]);
    let parse = |body: &str| parser.parse(body.as_bytes());
    let mut wrapped = String::new();
    wrapped.push_str(&header);
    wrapped.push_str(&closing);
    let mut feed = parse(&wrapped).ok();
    let mut entries = Vec::new();
    let end_tag = format!("</{entry_name}>");
    // Each entry is parsed with the header: a huge header before many entries would
    // cost their product. Past this many bytes parsed, the rest is skipped and counted.
    let budget = doc.len().saturating_mul(8).max(1 << 20);
    let mut spent = 0usize;
    let mut at = first;
    while at < doc.len() {
        out.found += 1;
        spent = spent.saturating_add(header.len() + closing.len());
        if spent > budget {
            let rest = count_from(doc.as_bytes(), entry_name.as_bytes(), at);
            out.found += rest.saturating_sub(1);
            out.skipped += rest;
            out.first_error.get_or_insert_with(|| {
                format!(
                    "entry {} at line {}: not read (the header is too large to read {rest} entries one by one)",
                    out.found - rest + 1,
                    line_of(doc, at)
                )
            });
            break;
        }
        let Some(end) = doc[at..].find(&end_tag).map(|e| at + e + end_tag.len()) else {
            out.skipped += 1;
            out.cut_off = true;
            out.first_error.get_or_insert_with(|| {
                format!(
                    "entry {} at line {}: cut off (the document ends inside it)",
                    out.found,
                    line_of(doc, at)
                )
            });
            break;
        };
        wrapped.clear();
        wrapped.push_str(&header);
        wrapped.push_str(&doc[at..end]);
        wrapped.push_str(&closing);
        match parse(&wrapped) {
            Ok(mut one) if !one.entries.is_empty() => {
                entries.append(&mut one.entries);
                if feed.is_none() {
                    feed = Some(one);
                }
            }
            Ok(_) => {
                out.skipped += 1;
                out.first_error.get_or_insert_with(|| {
                    format!(
                        "entry {} at line {}: no entry read",
                        out.found,
                        line_of(doc, at)
                    )
                });
            }
            Err(e) => {
                out.skipped += 1;
                out.first_error.get_or_insert_with(|| {
                    format!("entry {} at line {}: {e}", out.found, line_of(doc, at))
                });
            }
        }
        match find_tag(doc.as_bytes(), entry_name.as_bytes(), end) {
            Some(next) => at = next,
            None => break,
        }
    }
    if let Some(f) = feed.as_mut() {
        f.entries = entries;
    }
    out.feed = feed;
    out
}

/// 1-based line of byte `offset` in `doc`.
pub(crate) fn line_of(doc: &str, offset: usize) -> usize {
    doc.as_bytes()[..offset.min(doc.len())]
        .iter()
        .filter(|b| **b == b'\n')
        .count()
        + 1
}

/// The header text to put before one entry, and the end tags that close what it opened.
/// RSS items placed after `</channel>` are read as the channel's.
fn header_and_closing(header: &str) -> (String, String) {
    let mut stack = open_elements(header);
    let mut header = header.to_string();
    if stack.first().map(String::as_str) == Some("rss") && !stack.iter().any(|n| n == "channel") {
        if let Some(p) = header.rfind("</channel>") {
            header.replace_range(p..p + "</channel>".len(), "");
            stack.push("channel".to_string());
        }
    }
    let closing = stack.iter().rev().fold(String::new(), |mut s, n| {
        let _ = write!(s, "</{n}>");
        s
    });
    (header, closing)
}

/// The names of the elements open at the end of `text`, outermost first.
fn open_elements(text: &str) -> Vec<String> {
    let mut stack: Vec<String> = Vec::new();
    let b = text.as_bytes();
    let mut i = 0;
    while let Some(p) = text[i..].find('<').map(|p| i + p) {
        let rest = &text[p..];
        if rest.starts_with("<![CDATA[") {
            i = rest.find("]]>").map_or(text.len(), |e| p + e + 3);
            continue;
        }
        if rest.starts_with("<!--") {
            i = rest.find("-->").map_or(text.len(), |e| p + e + 3);
            continue;
        }
        let Some(end) = rest.find('>').map(|e| p + e) else {
            break;
        };
        i = end + 1;
        if rest.starts_with("<?") || rest.starts_with("<!") {
            continue;
        }
        if let Some(name) = rest.strip_prefix("</") {
            let name = tag_name(name);
            if let Some(at) = stack.iter().rposition(|n| n == name) {
                stack.truncate(at);
            }
        } else if b[end - 1] != b'/' {
            let name = tag_name(&rest[1..]);
            if !name.is_empty() {
                stack.push(name.to_string());
            }
        }
    }
    stack
}

fn tag_name(s: &str) -> &str {
    let end = s
        .find(|c: char| c.is_whitespace() || c == '>' || c == '/')
        .unwrap_or(s.len());
    &s[..end]
}

/// The first start tag's local name (after any `<?xml?>`, comments and doctype).
fn root_name(doc: &str) -> Option<&str> {
    let p = root_at(doc)?;
    let name = tag_name(&doc[p + 1..]);
    Some(name.rsplit(':').next().unwrap_or(name))
}

fn root_at(doc: &str) -> Option<usize> {
    let mut i = 0;
    loop {
        let p = i + doc[i..].find('<')?;
        let rest = &doc[p..];
        if rest.starts_with("<?") || rest.starts_with("<!") {
            i = p + rest.find('>')? + 1;
            continue;
        }
        return Some(p);
    }
}

/// Byte offset of the next start tag `<name` (followed by a delimiter) at or after `from`.
fn find_tag(doc: &[u8], name: &[u8], from: usize) -> Option<usize> {
    let mut i = from;
    while i < doc.len() {
        let p = i + doc[i..].iter().position(|b| *b == b'<')?;
        let after = p + 1 + name.len();
        if doc.len() > after
            && doc[p + 1..after].eq_ignore_ascii_case(name)
            && matches!(doc[after], b' ' | b'\t' | b'\r' | b'\n' | b'>' | b'/')
        {
            return Some(p);
        }
        i = p + 1;
    }
    None
}

/// The XML declaration rewritten to say UTF-8 (the text is UTF-8 by now).
pub(crate) fn declare_utf8(doc: &str) -> Cow<'_, str> {
    let trimmed = doc.trim_start_matches('\u{feff}').trim_start();
    if let Some(rest) = trimmed.strip_prefix("<?xml") {
        if let Some(end) = rest.find("?>") {
            if rest[..end].contains("encoding") {
                return Cow::Owned(format!(
                    "<?xml version=\"1.0\" encoding=\"UTF-8\"?>{}",
                    &rest[end + 2..]
                ));
            }
        }
    }
    if trimmed.len() != doc.len() {
        return Cow::Owned(trimmed.to_string());
    }
    Cow::Borrowed(doc)
}

/// An `<rss>` root whose `version` feed-rs does not know is read as RSS 2.0.
fn fix_root(doc: &str) -> Cow<'_, str> {
    let Some(p) = root_at(doc) else {
        return Cow::Borrowed(doc);
    };
    if tag_name(&doc[p + 1..]) != "rss" {
        return Cow::Borrowed(doc);
    }
    let Some(end) = doc[p..].find('>').map(|e| p + e) else {
        return Cow::Borrowed(doc);
    };
    let mut attrs = parse_attrs(&doc[p + 4..end]);
    let version = attrs
        .iter()
        .find(|(k, _)| k == "version")
        .map(|(_, v)| v.as_str());
    if matches!(version, Some("2.0" | "0.91" | "0.92")) {
        return Cow::Borrowed(doc);
    }
    attrs.retain(|(k, _)| k != "version");
    attrs.insert(0, ("version".into(), "2.0".into()));
    let tail = if doc[p..end].ends_with('/') { "/" } else { "" };
    Cow::Owned(format!(
        "{}<rss{}{tail}>{}",
        &doc[..p],
        write_attrs(&attrs),
        &doc[end + 1..]
    ))
}

/// RSS 0.90 and 1.0 (`<rdf:RDF>`, items beside the channel) rewritten as RSS 2.0, whose
/// items need no link (feed-rs drops RDF items without one): the channel holds the
/// items, and an item's `rdf:about` becomes its GUID.
fn rdf_as_rss2(doc: &str) -> String {
    let Some(p) = root_at(doc) else {
        return doc.to_string();
    };
    let Some(end) = doc[p..].find('>').map(|e| p + e) else {
        return doc.to_string();
    };
    let root = tag_name(&doc[p + 1..]).to_string();
    let mut attrs = parse_attrs(&doc[p + 1 + root.len()..end]);
    attrs.retain(|(k, _)| k != "xmlns");
    let mut out = format!("{}<rss version=\"2.0\"{}>", &doc[..p], write_attrs(&attrs));
    let mut i = end + 1;
    let mut in_channel = false;
    let mut closes = Closes::new(doc);
    while let Some(q) = doc[i..].find('<').map(|q| i + q) {
        let rest = &doc[q..];
        let skip_to = if rest.starts_with("<![CDATA[") {
            rest.find("]]>").map(|e| q + e + 3)
        } else if rest.starts_with("<!--") {
            rest.find("-->").map(|e| q + e + 3)
        } else {
            None
        };
        if let Some(to) = skip_to {
            out.push_str(&doc[i..to]);
            i = to;
            continue;
        }
        let Some(tag_end) = rest.find('>').map(|e| q + e) else {
            break;
        };
        out.push_str(&doc[i..q]);
        let (closing, name) = match rest.strip_prefix("</") {
            Some(r) => (true, tag_name(r)),
            None => (false, tag_name(&rest[1..])),
        };
        let tag = &doc[q..=tag_end];
        if !closing && name == "channel" && !tag.ends_with("/>") {
            out.push_str("<channel>");
            in_channel = true;
        } else if closing && name == "channel" {
            // The channel stays open: the items that follow are its own.
        } else if closing && name == root {
            out.push_str(if in_channel {
                "</channel></rss>"
            } else {
                "</rss>"
            });
        } else if !closing && name == "item" {
            let attrs = parse_attrs(&doc[q + 5..tag_end]);
            out.push_str("<item>");
            let about = attrs.iter().find(|(k, _)| k == "rdf:about" || k == "about");
            let has_guid = closes
                .after("</item>", tag_end)
                .is_some_and(|e| doc[tag_end..e].contains("<guid"));
            // `rdf:about` is the item's URI, which RSS 1.0 asks to be its link: an
            // http(s) one is a permalink; any other is a name only.
            if let (Some((_, about)), false) = (about, has_guid) {
                let permalink = about.starts_with("http://") || about.starts_with("https://");
                let _ = write!(out, "<guid isPermaLink=\"{permalink}\">{about}</guid>");
            }
        } else {
            out.push_str(tag);
        }
        i = tag_end + 1;
    }
    out.push_str(&doc[i..]);
    out
}

/// `name="value"` pairs of a start tag's attribute text (values kept escaped).
fn parse_attrs(s: &str) -> Vec<(String, String)> {
    let mut out = Vec::new();
    let mut rest = s.trim_end_matches('/');
    loop {
        rest = rest.trim_start();
        let Some(eq) = rest.find('=') else { break };
        let name = rest[..eq].trim().to_string();
        let after = rest[eq + 1..].trim_start();
        let Some(q) = after.chars().next().filter(|c| *c == '"' || *c == '\'') else {
            break;
        };
        let Some(close) = after[1..].find(q) else {
            break;
        };
        out.push((name, after[1..1 + close].to_string()));
        rest = &after[close + 2..];
    }
    out
}

fn write_attrs(attrs: &[(String, String)]) -> String {
    attrs.iter().fold(String::new(), |mut s, (k, v)| {
        let q = if v.contains('"') { '\'' } else { '"' };
        let _ = write!(s, " {k}={q}{v}{q}");
        s
    })
}

/// Elements whose text may carry HTML.
const TEXT_ELEMENTS: &[&str] = &[
    "title",
    "description",
    "summary",
    "content",
    "content:encoded",
    "subtitle",
    "rights",
    "media:description",
];

/// Atom 0.3 names and `mode`s, and `type` values feed-rs refuses, in Atom 1.0 terms.
fn fix_atom(doc: &str) -> String {
    let mut doc = doc.replace("http://purl.org/atom/ns#", "http://www.w3.org/2005/Atom");
    for (from, to) in [
        ("modified", "updated"),
        ("issued", "published"),
        ("created", "published"),
        ("tagline", "subtitle"),
        ("copyright", "rights"),
    ] {
        doc = rename_element(&doc, from, to);
    }
    let mut out = String::with_capacity(doc.len());
    let mut i = 0;
    let mut closes = Closes::new(&doc);
    while let Some((p, name)) = next_text_element(&doc, i) {
        let Some(end) = doc[p..].find('>').map(|e| p + e) else {
            break;
        };
        out.push_str(&doc[i..p]);
        let self_closing = doc[..end].ends_with('/');
        let mut attrs = parse_attrs(&doc[p + 1 + name.len()..end]);
        let mode = take_attr(&mut attrs, "mode");
        let ty = take_attr(&mut attrs, "type").unwrap_or_default();
        let ty = match (mode.as_deref(), ty.trim()) {
            (Some("xml"), _) => "xhtml".to_string(),
            (Some("escaped" | "base64"), t) if t.is_empty() || t.starts_with("text/plain") => {
                "text".into()
            }
            (Some("escaped" | "base64"), _) => "html".into(),
            (_, "" | "text/plain") => "text".into(),
            (_, "application/xhtml+xml") => "xhtml".into(),
            (_, t) => t.to_string(),
        };
        attrs.push(("type".into(), ty));
        let close = format!("</{name}>");
        let body_end = if self_closing {
            None
        } else {
            closes.after(&close, end)
        };
        match (mode.as_deref(), body_end) {
            (Some("base64"), Some(be)) => {
                let raw: String = doc[end + 1..be].split_whitespace().collect();
                let decoded = base64::engine::general_purpose::STANDARD
                    .decode(raw.as_bytes())
                    .ok()
                    .and_then(|b| String::from_utf8(b).ok());
                match decoded {
                    Some(text) => {
                        let _ = write!(
                            out,
                            "<{name}{}>{}{close}",
                            write_attrs(&attrs),
                            cdata(&text)
                        );
                        i = be + close.len();
                        continue;
                    }
                    None => {
                        let _ = write!(out, "<{name}{}>", write_attrs(&attrs));
                    }
                }
            }
            _ => {
                let slash = if self_closing { "/" } else { "" };
                let _ = write!(out, "<{name}{}{slash}>", write_attrs(&attrs));
            }
        }
        i = end + 1;
    }
    out.push_str(&doc[i..]);
    out
}

fn take_attr(attrs: &mut Vec<(String, String)>, name: &str) -> Option<String> {
    let at = attrs.iter().position(|(k, _)| k == name)?;
    Some(attrs.remove(at).1)
}

/// The next start tag at or after `from` that opens one of [`TEXT_ELEMENTS`], skipping
/// CDATA sections and comments.
fn next_text_element(doc: &str, from: usize) -> Option<(usize, &'static str)> {
    let mut i = from;
    loop {
        let p = i + doc[i..].find('<')?;
        let rest = &doc[p..];
        if rest.starts_with("<![CDATA[") {
            i = p + rest.find("]]>")? + 3;
            continue;
        }
        if rest.starts_with("<!--") {
            i = p + rest.find("-->")? + 3;
            continue;
        }
        let name = tag_name(&rest[1..]);
        if let Some(n) = TEXT_ELEMENTS.iter().find(|n| **n == name) {
            return Some((p, n));
        }
        i = p + 1;
    }
}

/// Renames start and end tags `from` (with any prefix-free spelling) to `to`.
fn rename_element(doc: &str, from: &str, to: &str) -> String {
    let mut out = String::with_capacity(doc.len());
    let mut i = 0;
    let b = doc.as_bytes();
    while let Some(p) = doc[i..].find('<').map(|p| i + p) {
        let slash = usize::from(b.get(p + 1) == Some(&b'/'));
        let start = p + 1 + slash;
        let after = start + from.len();
        if doc.len() > after
            && doc.get(start..after) == Some(from)
            && matches!(b[after], b' ' | b'\t' | b'\r' | b'\n' | b'>' | b'/')
        {
            out.push_str(&doc[i..start]);
            out.push_str(to);
            i = after;
        } else {
            out.push_str(&doc[i..p + 1]);
            i = p + 1;
        }
    }
    out.push_str(&doc[i..]);
    out
}

/// `text` as one or more CDATA sections (a `]]>` inside is split across two).
fn cdata(text: &str) -> String {
    format!("<![CDATA[{}]]>", text.replace("]]>", "]]]]><![CDATA[>"))
}

/// Wraps the content of text elements that holds raw markup (outside CDATA) in CDATA.
/// Atom `xhtml` content is XML by design and left alone.
fn wrap_markup(doc: &str, atom: bool) -> String {
    let mut out = String::with_capacity(doc.len() + 64);
    let mut i = 0;
    let mut closes = Closes::new(doc);
    while let Some((p, name)) = next_text_element(doc, i) {
        let Some(end) = doc[p..].find('>').map(|e| p + e) else {
            break;
        };
        out.push_str(&doc[i..=end]);
        i = end + 1;
        if doc[..end].ends_with('/') {
            continue;
        }
        let tag = &doc[p..end];
        if atom && (tag.contains("xhtml") || tag.contains("+xml") || tag.contains("/xml")) {
            continue;
        }
        let close = format!("</{name}>");
        let Some(be) = closes.after(&close, i) else {
            continue;
        };
        let inner = &doc[i..be];
        if !inner.contains('<')
            || inner.contains("<![CDATA[")
            || find_tag(inner.as_bytes(), b"item", 0).is_some()
            || find_tag(inner.as_bytes(), b"entry", 0).is_some()
        {
            continue;
        }
        out.push_str(&cdata(inner));
        out.push_str(&close);
        i = be + close.len();
    }
    out.push_str(&doc[i..]);
    out
}

/// XML's own five entities, kept as they are.
const XML_ENTITIES: &[&str] = &["amp", "lt", "gt", "quot", "apos"];

/// Bare `&`, HTML named entities and C1 references made into well-formed XML (outside
/// CDATA sections and comments).
fn fix_entities(doc: &str) -> String {
    let mut out = String::with_capacity(doc.len() + 64);
    let mut i = 0;
    let b = doc.as_bytes();
    while i < doc.len() {
        let Some(p) = doc[i..].find(['&', '<']).map(|p| i + p) else {
            break;
        };
        out.push_str(&doc[i..p]);
        if b[p] == b'<' {
            let rest = &doc[p..];
            let skip = if rest.starts_with("<![CDATA[") {
                rest.find("]]>").map(|e| e + 3)
            } else if rest.starts_with("<!--") {
                rest.find("-->").map(|e| e + 3)
            } else {
                Some(1)
            };
            let skip = skip.unwrap_or(rest.len());
            out.push_str(&rest[..skip]);
            i = p + skip;
            continue;
        }
        let (written, used) = entity(&doc[p + 1..]);
        out.push_str(&written);
        i = p + 1 + used;
    }
    out.push_str(&doc[i..]);
    out
}

/// What to write for the `&` before `rest`, and how many bytes of `rest` it consumed.
fn entity(rest: &str) -> (Cow<'static, str>, usize) {
    let bare = (Cow::Borrowed("&amp;"), 0);
    let Some(semi) = rest.get(..rest.len().min(40)).and_then(|h| h.find(';')) else {
        return bare;
    };
    let name = &rest[..semi];
    if let Some(num) = name.strip_prefix('#') {
        let value = match num.strip_prefix(['x', 'X']) {
            Some(hex) => u32::from_str_radix(hex, 16).ok(),
            None => num.parse::<u32>().ok(),
        };
        let Some(value) = value else {
            let digits = num.trim_start_matches(['x', 'X']);
            if !digits.is_empty() && digits.bytes().all(|b| b.is_ascii_hexdigit()) {
                // Out of range: no character, dropped.
                return (Cow::Borrowed(""), semi + 1);
            }
            return bare;
        };
        let c = match value {
            0x80..=0x9f => {
                html5ever::data::C1_REPLACEMENTS[(value - 0x80) as usize].or(char::from_u32(value))
            }
            _ => char::from_u32(value),
        };
        return match c.filter(|c| xml_char(*c)) {
            Some(c) => (Cow::Owned(format!("&#x{:X};", c as u32)), semi + 1),
            // A reference to a character XML forbids is dropped.
            None => (Cow::Borrowed(""), semi + 1),
        };
    }
    if !name.chars().all(|c| c.is_ascii_alphanumeric()) || name.is_empty() {
        return bare;
    }
    if XML_ENTITIES.contains(&name) {
        return (Cow::Owned(format!("&{name};")), semi + 1);
    }
    match html5ever::data::NAMED_ENTITIES.get(&rest[..=semi]) {
        Some(&(a, b)) if a != 0 => {
            let mut s = format!("&#x{a:X};");
            if b != 0 {
                let _ = write!(s, "&#x{b:X};");
            }
            (Cow::Owned(s), semi + 1)
        }
        _ => bare,
    }
}

fn xml_char(c: char) -> bool {
    matches!(c, '\t' | '\n' | '\r') || (c >= ' ' && !matches!(c, '\u{fffe}' | '\u{ffff}'))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn entities_bare_ampersands_and_c1_references_become_xml() {
        assert_eq!(
            fix_entities("<t>AT&T &amp; Caf&eacute;&nbsp;&#146;s &#x93;q&#148; &bogus; &</t>"),
            "<t>AT&amp;T &amp; Caf&#xE9;&#xA0;&#x2019;s &#x201C;q&#x201D; &amp;bogus; &amp;</t>"
        );
        assert_eq!(
            fix_entities("<![CDATA[a & b]]><!-- & --><x a=\"1&2\"/>"),
            "<![CDATA[a & b]]><!-- & --><x a=\"1&amp;2\"/>"
        );
        // Forbidden characters are dropped, not written.
        assert_eq!(fix_entities("a&#0;b&#xFFFF;c&#99999999999;"), "abc");
    }

    #[test]
    fn markup_in_text_elements_is_wrapped_in_cdata() {
        let doc = "<item><title>T <em>x</title><description><p>a <b>b</p></description><description>plain</description></item>";
        assert_eq!(
            wrap_markup(doc, false),
            "<item><title><![CDATA[T <em>x]]></title><description><![CDATA[<p>a <b>b</p>]]></description><description>plain</description></item>"
        );
        let atom = "<content type=\"xhtml\"><div>x</div></content>";
        assert_eq!(wrap_markup(atom, true), atom);
        assert_eq!(cdata("a]]>b"), "<![CDATA[a]]]]><![CDATA[>b]]>");
    }

    #[test]
    fn unknown_rss_versions_are_read_as_2_0() {
        for root in [
            "<rss>",
            "<rss version=\"0.94\">",
            "<rss version='2.01' xmlns:a=\"u\">",
        ] {
            let doc = format!("<?xml version=\"1.0\"?>{root}<channel/></rss>");
            let fixed = fix_root(&doc);
            assert!(fixed.contains("<rss version=\"2.0\""), "{fixed}");
        }
        let ok = "<rss version=\"0.91\"><channel/></rss>";
        assert!(matches!(fix_root(ok), Cow::Borrowed(_)));
    }

    #[test]
    fn rdf_items_without_a_link_are_read_as_rss_2() {
        let doc = "<?xml version=\"1.0\"?><rdf:RDF xmlns:rdf=\"r\" xmlns=\"http://my.netscape.com/rdf/simple/0.9/\"><channel rdf:about=\"c\"><title>C</title></channel><item rdf:about=\"urn:a\"><title>A</title></item><item><title>B</title></item></rdf:RDF>";
        assert_eq!(
            rdf_as_rss2(doc),
            "<?xml version=\"1.0\"?><rss version=\"2.0\" xmlns:rdf=\"r\"><channel><title>C</title><item><guid isPermaLink=\"false\">urn:a</guid><title>A</title></item><item><title>B</title></item></channel></rss>"
        );
    }

    #[test]
    fn atom_0_3_is_rewritten_in_atom_1_0_terms() {
        let doc = "<feed version=\"0.3\" xmlns=\"http://purl.org/atom/ns#\"><tagline>t</tagline><entry><issued>2004</issued><modified>2005</modified><content type=\"text/html\" mode=\"escaped\">&lt;b&gt;</content><content mode=\"base64\" type=\"text/html\">PGI+eDwvYj4=</content><title type=\"\">e</title></entry></feed>";
        let fixed = fix_atom(doc);
        assert_eq!(
            fixed,
            "<feed version=\"0.3\" xmlns=\"http://www.w3.org/2005/Atom\"><subtitle type=\"text\">t</subtitle><entry><published>2004</published><updated>2005</updated><content type=\"html\">&lt;b&gt;</content><content type=\"html\"><![CDATA[<b>x</b>]]></content><title type=\"text\">e</title></entry></feed>"
        );
    }

    #[test]
    fn each_entry_is_parsed_alone_and_a_cut_off_one_is_counted() {
        let doc = "<?xml version=\"1.0\"?>\n<rss version=\"2.0\"><channel><title>C</title>\n<item><guid>1</guid><title>one</title></item>\n<item><guid>2</guid><category>x</item>\n<item><guid>3</guid><title>three</title></item>\n<item><guid>4</guid><ti";
        let parser = feed_rs::parser::Builder::new().build();
        let got = by_entry(&parser, doc);
        let feed = got.feed.expect("the header parses");
        assert_eq!(feed.title.unwrap().content, "C");
        let ids: Vec<_> = feed.entries.iter().map(|e| e.id.as_str()).collect();
        assert_eq!(ids, ["1", "3"]);
        assert_eq!((got.found, got.skipped), (4, 2));
        assert!(
            got.first_error
                .as_deref()
                .unwrap()
                .starts_with("entry 2 at line 4:"),
            "{:?}",
            got.first_error
        );
    }

    #[test]
    fn items_after_the_channel_are_read_as_its_own() {
        let (header, closing) =
            header_and_closing("<rss version=\"2.0\"><channel><title>C</title></channel>\n");
        assert_eq!(header, "<rss version=\"2.0\"><channel><title>C</title>\n");
        assert_eq!(closing, "</channel></rss>");
    }

    #[test]
    fn many_unclosed_elements_cost_linear_time() {
        let doc = format!(
            "<rss version=\"9\"><channel><title>{}</title>{}",
            "x".repeat(100_000),
            "<item><title>a <b></item>".repeat(50_000)
        );
        let started = std::time::Instant::now();
        let repaired = repair(&doc);
        let parser = feed_rs::parser::Builder::new().build();
        let got = by_entry(&parser, &repaired);
        assert_eq!(got.found, 50_000);
        assert_eq!(got.skipped, 50_000);
        assert!(started.elapsed() < std::time::Duration::from_secs(20));
    }

    #[test]
    fn a_header_too_large_to_repeat_for_every_entry_stops_the_reading() {
        let doc = format!(
            "<rss version=\"2.0\"><channel><title>{}</title>{}</channel></rss>",
            "x".repeat(200_000),
            "<item><guid>1</guid><title>t</title></item>".repeat(100)
        );
        let parser = feed_rs::parser::Builder::new().build();
        let got = by_entry(&parser, &doc);
        assert_eq!(got.found, 100);
        assert!(got.skipped > 80 && got.skipped < 100, "{got:?}");
        assert!(got.first_error.unwrap().contains("header is too large"));
    }

    #[test]
    fn garbage_never_panics() {
        for doc in [
            "",
            "<",
            "&",
            "&#",
            "<rss",
            "<feed xmlns=\"http://purl.org/atom/ns#\"><content mode=\"base64\">",
            "<item><title>é&#x80;</title>",
            "<![CDATA[",
            "<!--",
            "<rss version=\"x\"/",
        ] {
            let r = repair(doc);
            let parser = feed_rs::parser::Builder::new().build();
            let _ = by_entry(&parser, &r);
            let _ = count_entries(r.as_bytes());
        }
    }
}
