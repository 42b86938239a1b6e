//! Managing the feed list: `tidings feeds add`, `remove`, `import FILE.opml` and
//! `export`.
//!
//! The config file stays the one source of truth. Edits go through toml_edit, so the
//! user's comments, order and layout survive; every edited text is validated as a whole
//! config by the caller before it replaces the file. OPML is read with the opml crate:
//! outlines with an `xmlUrl` are feeds, at any depth; the folders (outlines without one)
//! they sit in become their `category` ("News/World"). Export writes the folders back as
//! nested outlines, indented, with `htmlUrl`. Feed URLs are compared canonically
//! ([`crate::normalise::canonical_url`]: case of scheme and host, tracking parameters).
//! An OPML file that is not well-formed XML is refused with the line and column.
//! [`discover_feeds`] finds the feeds a web page announces (`<link rel="alternate">`), for
//! `feeds add` given a site's address.

use std::collections::HashSet;

use toml_edit::{value, ArrayOfTables, DocumentMut, Item, Table};
use url::Url;

use crate::config::Config;

#[derive(Debug, thiserror::Error)]
pub enum FeedListError {
    #[error("the config is not valid TOML: {0}")]
    Toml(String),
    #[error("`feeds` in the config is not a list of [[feeds]] tables")]
    NotFeedTables,
    #[error("there is already a feed with id {0:?}")]
    DuplicateId(String),
    #[error("feed {id:?} already polls {url}")]
    DuplicateUrl { id: String, url: String },
    #[error("no feed with id {0:?} in the config")]
    NoSuchFeed(String),
    #[error("{0:?} is not an http or https URL")]
    BadUrl(String),
    #[error("the OPML document cannot be read: {0}")]
    Opml(String),
    #[error("the OPML document is not well-formed XML at line {line}, column {column}: {message}")]
    OpmlAt {
        line: usize,
        column: usize,
        message: String,
    },
}

/// A feed to add.
#[derive(Debug, Clone, PartialEq)]
pub struct NewFeed {
    pub id: String,
    pub name: Option<String>,
    pub url: String,
    /// Written as given (e.g. "10m").
    pub interval: Option<String>,
    /// The folder path, "News/World".
    pub category: Option<String>,
    /// The site's page (OPML `htmlUrl`).
    pub site: Option<String>,
}

/// What an import did.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ImportReport {
    pub added: Vec<NewFeed>,
    /// URLs already in the config.
    pub already_present: Vec<String>,
    /// Outlines whose `xmlUrl` is not an http(s) URL, with why.
    pub refused: Vec<String>,
}

fn document(config_text: &str) -> Result<DocumentMut, FeedListError> {
    config_text
        .parse::<DocumentMut>()
        .map_err(|e| FeedListError::Toml(e.to_string()))
}

fn feed_tables(doc: &mut DocumentMut) -> Result<&mut ArrayOfTables, FeedListError> {
    let item = doc
        .entry("feeds")
        .or_insert(Item::ArrayOfTables(ArrayOfTables::new()));
    item.as_array_of_tables_mut()
        .ok_or(FeedListError::NotFeedTables)
}

fn existing(tables: &ArrayOfTables) -> (HashSet<String>, Vec<(String, String)>) {
    let mut ids = HashSet::new();
    let mut urls = Vec::new();
    for t in tables.iter() {
        let id = t
            .get("id")
            .and_then(|v| v.as_str())
            .unwrap_or("")
            .to_string();
        if let Some(u) = t.get("url").and_then(|v| v.as_str()) {
            urls.push((id.clone(), u.to_string()));
        }
        ids.insert(id);
    }
    (ids, urls)
}

fn check_url(url: &str) -> Result<Url, FeedListError> {
    Url::parse(url)
        .ok()
        .filter(|u| matches!(u.scheme(), "http" | "https"))
        .ok_or_else(|| FeedListError::BadUrl(url.to_string()))
}

/// Whether two feed URLs are the same feed: equal once canonical
/// ("HTTPS://WWW.UN.ORG/en/rss.xml?utm_source=x" is "https://www.un.org/en/rss.xml").
fn same_url(a: &str, b: &str) -> bool {
    match (
        crate::normalise::canonical_url(a),
        crate::normalise::canonical_url(b),
    ) {
        (Some(a), Some(b)) => a == b,
        _ => a == b,
    }
}

fn push(tables: &mut ArrayOfTables, feed: &NewFeed) {
    let mut t = Table::new();
    t.insert("id", value(feed.id.as_str()));
    if let Some(name) = &feed.name {
        t.insert("name", value(name.as_str()));
    }
    t.insert("url", value(feed.url.as_str()));
    if let Some(interval) = &feed.interval {
        t.insert("interval", value(interval.as_str()));
    }
    if let Some(category) = &feed.category {
        t.insert("category", value(category.as_str()));
    }
    if let Some(site) = &feed.site {
        t.insert("site", value(site.as_str()));
    }
    tables.push(t);
}

/// The config text with `feed` appended to the feed list.
pub fn add(config_text: &str, feed: &NewFeed) -> Result<String, FeedListError> {
    check_url(&feed.url)?;
    let mut doc = document(config_text)?;
    let tables = feed_tables(&mut doc)?;
    let (ids, urls) = existing(tables);
    if ids.contains(&feed.id) {
        return Err(FeedListError::DuplicateId(feed.id.clone()));
    }
    if let Some((id, url)) = urls.iter().find(|(_, u)| same_url(u, &feed.url)) {
        return Err(FeedListError::DuplicateUrl {
            id: id.clone(),
            url: url.clone(),
        });
    }
    push(tables, feed);
    Ok(doc.to_string())
}

/// The config text without the feed `id`. Its stories stay in the store.
pub fn remove(config_text: &str, id: &str) -> Result<String, FeedListError> {
    let mut doc = document(config_text)?;
    let tables = feed_tables(&mut doc)?;
    let before = tables.len();
    tables.retain(|t| t.get("id").and_then(|v| v.as_str()) != Some(id));
    if tables.len() == before {
        return Err(FeedListError::NoSuchFeed(id.to_string()));
    }
    Ok(doc.to_string())
}

/// The config text with every feed of an OPML document that the config lacks.
pub fn import_opml(
    config_text: &str,
    opml_text: &str,
) -> Result<(String, ImportReport), FeedListError> {
    import_opml_with(config_text, opml_text, &|_, _| {})
}

/// [`import_opml`], calling `progress(done, total)` after each outline.
pub fn import_opml_with(
    config_text: &str,
    opml_text: &str,
    progress: &dyn Fn(usize, usize),
) -> Result<(String, ImportReport), FeedListError> {
    xml_well_formed(opml_text)?;
    let opml = opml::OPML::from_str(opml_text).map_err(|e| FeedListError::Opml(e.to_string()))?;
    let mut outlines = Vec::new();
    flatten(&opml.body.outlines, &[], &mut outlines);
    let mut doc = document(config_text)?;
    let tables = feed_tables(&mut doc)?;
    let (mut ids, mut urls) = existing(tables);
    let mut report = ImportReport::default();
    let total = outlines.len();
    for (done, (o, folders)) in outlines.into_iter().enumerate() {
        progress(done, total);
        let Some(xml_url) = o.xml_url.as_deref().map(str::trim) else {
            continue;
        };
        if check_url(xml_url).is_err() {
            report
                .refused
                .push(format!("{xml_url:?}: not an http or https URL"));
            continue;
        }
        if urls.iter().any(|(_, u)| same_url(u, xml_url)) {
            report.already_present.push(xml_url.to_string());
            continue;
        }
        let name = o
            .title
            .clone()
            .filter(|t| !t.trim().is_empty())
            .or_else(|| Some(o.text.clone()).filter(|t| !t.trim().is_empty()));
        let id = unique_id(&slug(name.as_deref().unwrap_or(""), xml_url), &ids);
        let feed = NewFeed {
            id: id.clone(),
            name,
            url: xml_url.to_string(),
            interval: None,
            category: Some(folders.join("/")).filter(|c| !c.is_empty()),
            site: o.html_url.clone().filter(|u| !u.trim().is_empty()),
        };
        push(tables, &feed);
        ids.insert(id.clone());
        urls.push((id, xml_url.to_string()));
        report.added.push(feed);
    }
    Ok((doc.to_string(), report))
}

/// Every outline with the folders it sits in (the titles of its feed-less ancestors).
fn flatten<'a>(
    outlines: &'a [opml::Outline],
    folders: &[String],
    out: &mut Vec<(&'a opml::Outline, Vec<String>)>,
) {
    for o in outlines {
        out.push((o, folders.to_vec()));
        if !o.outlines.is_empty() {
            let mut inner = folders.to_vec();
            if o.xml_url.is_none() {
                let name = o.title.clone().unwrap_or_else(|| o.text.clone());
                // A folder's name is one path step: its own slashes would split it.
                let name = name.trim().replace('/', "-");
                if !name.is_empty() {
                    inner.push(name);
                }
            }
            flatten(&o.outlines, &inner, out);
        }
    }
}

/// Refuses a document that is not well-formed XML, naming the line and column of the
/// first error (the OPML reader alone does not say where).
fn xml_well_formed(text: &str) -> Result<(), FeedListError> {
    let mut reader = quick_xml::Reader::from_str(text);
    reader.config_mut().check_end_names = true;
    loop {
        match reader.read_event() {
            Ok(quick_xml::events::Event::Eof) => return Ok(()),
            Ok(_) => {}
            Err(e) => {
                let mut at = (reader.error_position() as usize).min(text.len());
                while !text.is_char_boundary(at) {
                    at -= 1;
                }
                let before = &text[..at];
                let line = before.matches('\n').count() + 1;
                let column = before.len() - before.rfind('\n').map_or(0, |n| n + 1) + 1;
                return Err(FeedListError::OpmlAt {
                    line,
                    column,
                    message: e.to_string(),
                });
            }
        }
    }
}

/// An OPML 2.0 document listing the config's feeds, indented, with each category a
/// folder (nested for "News/World") and each feed's `htmlUrl`.
pub fn export_opml(config: &Config) -> Result<String, FeedListError> {
    let mut root = Folder::default();
    for f in &config.feeds {
        let mut folder = &mut root;
        for step in f.category.iter().flat_map(|c| c.split('/')) {
            let at = match folder.folders.iter().position(|(n, _)| n == step) {
                Some(at) => at,
                None => {
                    folder.folders.push((step.to_string(), Folder::default()));
                    folder.folders.len() - 1
                }
            };
            folder = &mut folder.folders[at].1;
        }
        folder.feeds.push(f);
    }
    let mut out =
        String::from("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<opml version=\"2.0\">\n");
    out.push_str("  <head>\n    <title>tidings feeds</title>\n");
    out.push_str(&format!(
        "    <dateCreated>{}</dateCreated>\n  </head>\n  <body>\n",
        escape(&chrono::Utc::now().to_rfc2822())
    ));
    write_folder(&root, 2, &mut out);
    out.push_str("  </body>\n</opml>\n");
    Ok(out)
}

/// Feeds and subfolders of one folder, in config order.
#[derive(Default)]
struct Folder<'a> {
    feeds: Vec<&'a crate::config::FeedConfig>,
    folders: Vec<(String, Folder<'a>)>,
}

fn write_folder(folder: &Folder, depth: usize, out: &mut String) {
    let indent = "  ".repeat(depth);
    for f in &folder.feeds {
        let name = escape(f.name.as_deref().unwrap_or(&f.id));
        out.push_str(&format!(
            "{indent}<outline type=\"rss\" text=\"{name}\" title=\"{name}\" xmlUrl=\"{}\"",
            escape(f.url.as_str())
        ));
        if let Some(site) = &f.site {
            out.push_str(&format!(" htmlUrl=\"{}\"", escape(site)));
        }
        out.push_str("/>\n");
    }
    for (name, inner) in &folder.folders {
        let name = escape(name);
        out.push_str(&format!(
            "{indent}<outline text=\"{name}\" title=\"{name}\">\n"
        ));
        write_folder(inner, depth + 1, out);
        out.push_str(&format!("{indent}</outline>\n"));
    }
}

/// Text for an XML attribute or element.
fn escape(s: &str) -> String {
    quick_xml::escape::escape(s).into_owned()
}

/// A feed a web page announces.
#[derive(Debug, Clone, PartialEq)]
pub struct Discovered {
    pub url: String,
    pub title: Option<String>,
}

/// The feeds an HTML page links as alternates (`<link rel="alternate"
/// type="application/rss+xml" href="…">`, Atom, JSON Feed, RDF), resolved against
/// `base`, in page order, each once.
pub fn discover_feeds(html: &str, base: &str) -> Vec<Discovered> {
    use html5ever::tendril::StrTendril;
    use html5ever::tokenizer::{
        BufferQueue, TagKind, Token, TokenSink, TokenSinkResult, Tokenizer, TokenizerOpts,
    };
    struct Links(std::cell::RefCell<Vec<(String, Option<String>)>>);
    impl TokenSink for Links {
        type Handle = ();
        fn process_token(&self, token: Token, _line: u64) -> TokenSinkResult<()> {
            if let Token::TagToken(tag) = token {
                if tag.kind == TagKind::StartTag && &*tag.name == "link" {
                    let attr = |name: &str| {
                        tag.attrs
                            .iter()
                            .find(|a| &*a.name.local == name)
                            .map(|a| a.value.to_string())
                    };
                    let rel = attr("rel").unwrap_or_default().to_ascii_lowercase();
                    let kind = attr("type").unwrap_or_default().to_ascii_lowercase();
                    let feed_type = matches!(
                        kind.split(';').next().unwrap_or("").trim(),
                        "application/rss+xml"
                            | "application/atom+xml"
                            | "application/feed+json"
                            | "application/rdf+xml"
                    );
                    if rel.split_whitespace().any(|r| r == "alternate") && feed_type {
                        if let Some(href) = attr("href") {
                            self.0.borrow_mut().push((href, attr("title")));
                        }
                    }
                }
            }
            TokenSinkResult::Continue
        }
    }
    let input = BufferQueue::default();
    input.push_back(StrTendril::from_slice(html));
    let tokenizer = Tokenizer::new(Links(Default::default()), TokenizerOpts::default());
    let _ = tokenizer.feed(&input);
    tokenizer.end();
    let base = Url::parse(base).ok();
    let mut out: Vec<Discovered> = Vec::new();
    for (href, title) in tokenizer.sink.0.take() {
        let url = match &base {
            Some(b) => b.join(href.trim()).map(|u| u.to_string()).ok(),
            None => Url::parse(href.trim()).map(|u| u.to_string()).ok(),
        };
        let Some(url) = url.filter(|u| check_url(u).is_ok()) else {
            continue;
        };
        if out.iter().all(|d| !same_url(&d.url, &url)) {
            out.push(Discovered {
                url,
                title: title.filter(|t| !t.trim().is_empty()),
            });
        }
    }
    out
}

/// A feed id from a name: lower-case a-z, 0-9 and '-', at most 48 characters; the URL's
/// host when the name has none of those.
pub fn slug(name: &str, url: &str) -> String {
    let from = |s: &str| {
        let mut out = String::new();
        for c in s.chars().flat_map(char::to_lowercase) {
            if c.is_ascii_alphanumeric() {
                out.push(c);
            } else if !out.ends_with('-') && !out.is_empty() {
                out.push('-');
            }
        }
        out.trim_end_matches('-')
            .chars()
            .take(48)
            .collect::<String>()
    };
    let s = from(name);
    if !s.is_empty() {
        return s.trim_end_matches('-').to_string();
    }
    let host = Url::parse(url)
        .ok()
        .and_then(|u| u.host_str().map(str::to_string))
        .unwrap_or_default();
    let s = from(&host);
    if s.is_empty() {
        "feed".into()
    } else {
        s
    }
}

fn unique_id(base: &str, taken: &HashSet<String>) -> String {
    if !taken.contains(base) {
        return base.to_string();
    }
    (2..)
        .map(|n| format!("{base}-{n}"))
        .find(|id| !taken.contains(id))
        .expect("an unused suffix exists")
}

#[cfg(test)]
mod tests {
    use super::*;

    const CONFIG: &str = "# my feeds\n[daemon]\njitter = 0.1\n\n# the wire\n[[feeds]]\nid = \"wire\"\nurl = \"https://news.example/wire.xml\" # main\n";

    fn feed(id: &str, url: &str) -> NewFeed {
        NewFeed {
            id: id.into(),
            name: Some("Example".into()),
            url: url.into(),
            interval: Some("5m".into()),
            category: None,
            site: None,
        }
    }

    #[test]
    fn add_and_remove_keep_comments_and_refuse_duplicates() {
        let text = add(CONFIG, &feed("world", "https://news.example/world.xml")).unwrap();
        assert!(text.starts_with("# my feeds\n[daemon]"), "{text}");
        assert!(
            text.contains("# the wire") && text.contains("# main"),
            "{text}"
        );
        let config = Config::parse(&text, "t").unwrap();
        assert_eq!(config.feeds.len(), 2);
        assert_eq!(config.feeds[1].id, "world");
        assert_eq!(
            config.feeds[1].interval,
            std::time::Duration::from_secs(300)
        );

        assert!(matches!(
            add(&text, &feed("world", "https://x.example/a")),
            Err(FeedListError::DuplicateId(_))
        ));
        assert!(matches!(
            add(&text, &feed("other", "https://news.example/wire.xml")),
            Err(FeedListError::DuplicateUrl { .. })
        ));
        assert!(matches!(
            add(&text, &feed("bad", "ftp://x/")),
            Err(FeedListError::BadUrl(_))
        ));

        let removed = remove(&text, "wire").unwrap();
        let config = Config::parse(&removed, "t").unwrap();
        assert_eq!(config.feeds.len(), 1);
        assert!(removed.contains("# my feeds"));
        assert!(matches!(
            remove(&removed, "wire"),
            Err(FeedListError::NoSuchFeed(_))
        ));
    }

    #[test]
    fn opml_round_trips_through_import_and_export() {
        let opml = r#"<?xml version="1.0"?>
<opml version="2.0"><head><title>subs</title></head><body>
  <outline text="World">
    <outline text="BBC News – World" type="rss" xmlUrl="https://feeds.bbci.co.uk/news/world/rss.xml"/>
    <outline text="Wire again" type="rss" xmlUrl="https://news.example/wire.xml"/>
  </outline>
  <outline text="" type="rss" xmlUrl="https://www.un.org/feed/"/>
  <outline text="BBC News – World" type="rss" xmlUrl="https://feeds.bbci.co.uk/news/rss.xml"/>
  <outline text="Broken" type="rss" xmlUrl="javascript:alert(1)"/>
</body></opml>"#;
        let (text, report) = import_opml(CONFIG, opml).unwrap();
        let ids: Vec<&str> = report.added.iter().map(|f| f.id.as_str()).collect();
        assert_eq!(ids, ["bbc-news-world", "www-un-org", "bbc-news-world-2"]);
        assert_eq!(report.already_present, ["https://news.example/wire.xml"]);
        assert_eq!(report.refused.len(), 1);
        let config = Config::parse(&text, "t").unwrap();
        assert_eq!(config.feeds.len(), 4);

        let exported = export_opml(&config).unwrap();
        assert!(exported.starts_with("<?xml"), "{exported}");
        let back = opml::OPML::from_str(&exported).unwrap();
        assert_eq!(back.version, "2.0");
        let mut all = Vec::new();
        flatten(&back.body.outlines, &[], &mut all);
        let urls: Vec<String> = all.iter().filter_map(|(o, _)| o.xml_url.clone()).collect();
        assert_eq!(urls.len(), 4);
        // The folder came back around the feed filed in it.
        let bbc = all
            .iter()
            .find(|(o, _)| {
                o.xml_url.as_deref() == Some("https://feeds.bbci.co.uk/news/world/rss.xml")
            })
            .unwrap();
        assert_eq!(bbc.1, ["World"]);
        assert!(urls.contains(&"https://www.un.org/feed/".to_string()));
        // Importing the export adds nothing.
        let (_, again) = import_opml(&text, &exported).unwrap();
        assert!(again.added.is_empty() && again.already_present.len() == 4);
        assert!(matches!(
            import_opml(CONFIG, "<html>not opml</html>"),
            Err(FeedListError::Opml(_))
        ));
    }

    #[test]
    fn a_page_announces_its_feeds_as_alternates() {
        let html = r#"<!doctype html><html><head>
            <link rel="stylesheet" href="/s.css">
            <link rel="alternate" type="application/rss+xml" title="World" href="/world/rss.xml">
            <link rel="alternate" type="application/atom+xml" href="https://other.example/atom">
            <link rel="alternate" type="application/rss+xml" href="/world/rss.xml?utm_source=x">
            <link rel="alternate" hreflang="fr" href="/fr/">
            <link rel="alternate" type="application/rss+xml" href="javascript:alert(1)">
            </head><body><a href="/feed">not a link tag</a></body></html>"#;
        let found = discover_feeds(html, "https://news.example/home/");
        assert_eq!(
            found,
            [
                Discovered {
                    url: "https://news.example/world/rss.xml".into(),
                    title: Some("World".into())
                },
                Discovered {
                    url: "https://other.example/atom".into(),
                    title: None
                },
            ]
        );
        assert!(
            discover_feeds("<html><body>no feeds</body></html>", "https://x.example/").is_empty()
        );
    }
}
