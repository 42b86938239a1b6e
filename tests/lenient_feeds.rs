//! Lenient reading through the real binary: each fixture under
//! `tests/fixtures/feeds/lenient/` is served by a local HTTP server on 127.0.0.1, one
//! `tidings run --once` polls it, and `stories --json` / `feeds --json` show what was
//! stored and what the feed's state says.

mod common;

use std::path::PathBuf;

use axum::extract::Path;
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Router;
use serde_json::Value;

use common::Workspace;

fn fixtures() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/feeds/lenient")
}

/// Serves a fixture's bytes unchanged, with no charset in the content type.
async fn serve(Path(name): Path<String>) -> Response {
    match std::fs::read(fixtures().join(&name)) {
        Ok(bytes) => ([(header::CONTENT_TYPE, "application/xml")], bytes).into_response(),
        Err(_) => StatusCode::NOT_FOUND.into_response(),
    }
}

/// What one poll of one fixture left in a fresh store.
struct Polled {
    stories: Vec<Value>,
    feed: Value,
}

impl Polled {
    fn titles(&self) -> Vec<String> {
        let mut t: Vec<String> = self
            .stories
            .iter()
            .map(|s| s["title"].as_str().unwrap_or_default().to_string())
            .collect();
        t.sort();
        t
    }

    fn story(&self, title_part: &str) -> &Value {
        self.stories
            .iter()
            .find(|s| s["title"].as_str().is_some_and(|t| t.contains(title_part)))
            .unwrap_or_else(|| panic!("no story titled like {title_part:?}: {:?}", self.titles()))
    }
}

/// Serves `fixture` on 127.0.0.1, runs `tidings run --once` against it and reads back.
fn poll(fixture: &str) -> Polled {
    poll_times(fixture, 1)
}

/// Like [`poll`], with `times` runs of `tidings run --once` on one store.
fn poll_times(fixture: &str, times: usize) -> Polled {
    poll_with(fixture, times, "")
}

/// Like [`poll_times`], with `extra` added to the config.
fn poll_with(fixture: &str, times: usize, extra: &str) -> Polled {
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let listener = runtime
        .block_on(tokio::net::TcpListener::bind("127.0.0.1:0"))
        .unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let app = Router::new().route("/{name}", get(serve));
    runtime.spawn(async move { axum::serve(listener, app).await.unwrap() });
    let ws = Workspace::new(&format!(
        "[daemon]\njitter = 0.0\n\n[http]\ntotal_timeout = \"5s\"\n{extra}\n\n[[feeds]]\nid = \"f\"\nurl = \"{base}/{fixture}\"\n"
    ));
    for _ in 0..times {
        let out = ws.run(&["run", "--once"]);
        assert!(
            out.status.success(),
            "run --once on {fixture}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
    let stories: Value =
        serde_json::from_str(&ws.ok(&["stories", "--json", "--limit", "1000"])).unwrap();
    let feeds: Value = serde_json::from_str(&ws.ok(&["feeds", "--json"])).unwrap();
    let text = ws.ok(&["feeds"]);
    let mut feed = feeds[0].clone();
    feed["table"] = Value::String(text);
    Polled {
        stories: stories.as_array().cloned().unwrap_or_default(),
        feed,
    }
}

/// Every fixture with the entries it holds.
const CASES: &[(&str, usize)] = &[
    ("bare_ampersand_entities.xml", 3),
    ("c1_numeric_references.xml", 2),
    ("unbalanced_html.xml", 3),
    ("truncated.xml", 3),
    ("rss_no_version.xml", 2),
    ("rss_093.xml", 2),
    ("rss_094.xml", 2),
    ("rss_201.xml", 2),
    ("rss_21.xml", 2),
    ("rss090_no_link.xml", 2),
    ("rss10_no_link.xml", 2),
    ("atom03.xml", 3),
    ("atom_content_types.xml", 3),
    ("utf16le_bom.xml", 2),
    ("utf16be_no_bom.xml", 2),
    ("utf16le_no_declaration.xml", 2),
    ("utf32le_bom.xml", 2),
    ("utf32be_no_bom.xml", 2),
    ("sniff_shift_jis.xml", 2),
    ("sniff_euc_kr.xml", 2),
    ("sniff_gbk.xml", 2),
    ("sniff_windows_1251.xml", 2),
    ("lenient_dates.xml", 3),
    ("one_bad_entry.xml", 3),
    ("items_outside_channel.xml", 2),
    ("unreadable_entries.xml", 0),
    ("no_identity.xml", 1),
    ("repeated_guid.xml", 1),
    ("real_fields.xml", 2),
    ("dc_language.xml", 1),
    ("item_dc_language.xml", 3),
    ("guid_not_permalink.xml", 2),
    ("rdf_some_links.xml", 3),
];

/// Prints, per fixture, the entries stored, the health and the error: the figures of
/// the table in `benches/README.md` (`cargo test --test lenient_feeds -- --ignored --nocapture`).
#[test]
#[ignore]
fn measure_every_fixture() {
    println!("| fixture | entries in it | stored | skipped | health | note |");
    println!("|---|---|---|---|---|---|");
    for (fixture, held) in CASES {
        let p = poll(fixture);
        let note = p.feed["last_error"]
            .as_str()
            .or(p.feed["warning"].as_str())
            .or(p.feed["first_skipped"].as_str())
            .unwrap_or("");
        println!(
            "| `{fixture}` | {held} | {} | {} | {} | {} |",
            p.stories.len(),
            p.feed["skipped_entries"].as_u64().unwrap_or(0),
            p.feed["health"].as_str().unwrap_or(""),
            note.replace('|', "/")
        );
    }
}

fn text_of<'a>(p: &'a Polled, title_part: &str) -> &'a str {
    p.story(title_part)["text"].as_str().unwrap_or_default()
}

#[test]
fn bare_ampersands_and_html_entities_are_read() {
    let p = poll("bare_ampersand_entities.xml");
    assert_eq!(p.stories.len(), 3, "{:?}", p.feed);
    assert_eq!(p.feed["health"], "ok");
    p.story("Trade & tariffs: Café owners protest");
    assert_eq!(
        text_of(&p, "AT&T and R&D spending"),
        "Q&A with the CEO … more © 2020"
    );
    assert_eq!(
        text_of(&p, "Trade"),
        "Prices rose 5% — officials & unions met."
    );
}

#[test]
fn references_to_c1_characters_are_read_as_windows_1252() {
    let p = poll("c1_numeric_references.xml");
    assert_eq!(p.stories.len(), 2);
    assert_eq!(
        text_of(&p, "The minister’s plan"),
        "“We agree,” she said – twice."
    );
}

#[test]
fn unbalanced_html_outside_cdata_is_read() {
    let p = poll("unbalanced_html.xml");
    assert_eq!(p.stories.len(), 3, "{:?}", p.feed);
    assert_eq!(
        text_of(&p, "Story number 1"),
        "Opening paragraph bold text and an unclosed italic"
    );
    p.story("Story two");
}

#[test]
fn a_truncated_document_keeps_every_complete_entry() {
    let p = poll("truncated.xml");
    assert_eq!(
        p.titles(),
        ["Story number 1", "Story number 2", "Story number 3"]
    );
    assert_eq!(p.feed["skipped_entries"], 1, "{}", p.feed);
    assert!(
        p.feed["first_skipped"]
            .as_str()
            .unwrap()
            .contains("entry 4 at line 28: cut off"),
        "{}",
        p.feed
    );
    let table = p.feed["table"].as_str().unwrap();
    assert!(table.contains("1 entry skipped"), "{table}");
}

#[test]
fn rss_without_a_version_or_with_an_unknown_one_is_read_as_rss_2() {
    for fixture in [
        "rss_no_version.xml",
        "rss_093.xml",
        "rss_094.xml",
        "rss_201.xml",
        "rss_21.xml",
    ] {
        let p = poll(fixture);
        assert_eq!(
            p.titles(),
            ["Story number 1", "Story number 2"],
            "{fixture}"
        );
        assert_eq!(p.story("1")["url"], "https://news.example/story/1");
    }
}

#[test]
fn rss_0_90_and_1_0_items_without_a_link_are_kept() {
    let p = poll("rss090_no_link.xml");
    assert_eq!(p.titles(), ["Old format story one", "Old format story two"]);
    assert_eq!(p.story("two")["url"], "https://news.example/090/2");
    let p = poll("rss10_no_link.xml");
    assert_eq!(
        p.titles(),
        [
            "RDF story without a link",
            "Second RDF story without a link"
        ]
    );
    let a = p
        .stories
        .iter()
        .find(|s| s["title"] == "RDF story without a link")
        .unwrap();
    assert_eq!(a["sources"][0]["guid"], "urn:a");
    assert_eq!(a["published"], "2020-04-21T12:43:01Z");
    assert_eq!(a["text"], "No link here.");
}

#[test]
fn atom_0_3_is_read_with_atom_1_0_meanings() {
    let p = poll("atom03.xml");
    assert_eq!(p.stories.len(), 3, "{}", p.feed);
    assert_eq!(p.feed["title"], "Atom 0.3 feed");
    let one = p.story("escaped entry");
    assert_eq!(one["text"], "Escaped HTML body one");
    assert_eq!(one["published"], "2004-05-01T09:00:00Z");
    assert_eq!(one["url"], "https://news.example/atom03/1");
    assert_eq!(text_of(&p, "xml entry"), "Inline XHTML body two");
    assert_eq!(p.story("xml entry")["published"], "2004-04-30T08:00:00Z");
    assert_eq!(
        text_of(&p, "base64 entry"),
        "Decoded base64 body of entry three"
    );
}

#[test]
fn atom_xhtml_mime_base64_and_empty_types_are_read() {
    let p = poll("atom_content_types.xml");
    assert_eq!(p.stories.len(), 3, "{}", p.feed);
    assert_eq!(text_of(&p, "Empty type title"), "Empty type body");
    assert_eq!(text_of(&p, "XHTML mime type"), "XHTML mime body");
    assert_eq!(
        text_of(&p, "Base64 content"),
        "Decoded base64 body of entry three"
    );
}

#[test]
fn utf_16_and_utf_32_are_read_with_or_without_bom_or_declaration() {
    for fixture in [
        "utf16le_bom.xml",
        "utf16be_no_bom.xml",
        "utf16le_no_declaration.xml",
        "utf32le_bom.xml",
        "utf32be_no_bom.xml",
    ] {
        let p = poll(fixture);
        assert_eq!(p.stories.len(), 2, "{fixture}: {}", p.feed);
        p.story("Ünïcødé story one — “quoted”");
    }
}

#[test]
fn an_undeclared_encoding_is_sniffed() {
    for (fixture, title) in [
        ("sniff_shift_jis.xml", "東京で首脳会談が開かれた"),
        ("sniff_euc_kr.xml", "서울에서 정상회담이 열렸다"),
        ("sniff_gbk.xml", "北京举行首脑会谈"),
        (
            "sniff_windows_1251.xml",
            "В Москве прошли переговоры министров",
        ),
    ] {
        let p = poll(fixture);
        assert_eq!(p.stories.len(), 2, "{fixture}");
        p.story(title);
    }
}

#[test]
fn lenient_dates_are_read() {
    let p = poll("lenient_dates.xml");
    for n in ["1", "2"] {
        let s = p.story(&format!("Story number {n}"));
        assert_eq!(s["published"], "2020-04-21T12:43:01Z", "{s}");
        assert_eq!(s["published_from_feed"], true);
    }
    assert_eq!(
        p.story("Story number 3")["published"],
        "2020-04-21T10:43:01Z"
    );
}

#[test]
fn one_bad_entry_costs_only_itself_and_is_reported() {
    let p = poll("one_bad_entry.xml");
    assert_eq!(
        p.titles(),
        ["Story number 1", "Story number 3", "Story number 4"]
    );
    assert_eq!(p.feed["skipped_entries"], 1);
    let first = p.feed["first_skipped"].as_str().unwrap();
    assert!(first.starts_with("entry 2 at line 14:"), "{first}");
    let table = p.feed["table"].as_str().unwrap();
    assert!(
        table.contains("1 entry skipped: entry 2 at line 14"),
        "{table}"
    );
}

#[test]
fn items_after_the_channel_are_read() {
    let p = poll("items_outside_channel.xml");
    assert_eq!(p.titles(), ["Story number 1", "Story number 2"]);
    assert_eq!(p.feed["health"], "ok");
}

#[test]
fn a_document_whose_entries_cannot_be_read_is_a_warning_not_ok() {
    let p = poll("unreadable_entries.xml");
    assert!(p.stories.is_empty());
    assert_eq!(p.feed["health"], "warning", "{}", p.feed);
    let warning = p.feed["warning"].as_str().unwrap();
    assert!(
        warning.contains("has 2 entries but none could be read"),
        "{warning}"
    );
    let table = p.feed["table"].as_str().unwrap();
    assert!(
        table.contains("warning") && table.contains("none could be read"),
        "{table}"
    );
}

#[test]
fn entries_with_nothing_to_tell_them_by_are_skipped_and_counted() {
    let p = poll("no_identity.xml");
    assert_eq!(p.titles(), ["The one real story"]);
    assert_eq!(p.feed["skipped_entries"], 3, "{}", p.feed);
    assert_eq!(p.feed["first_skipped"], "entry 1: no title, text or link");
}

#[test]
fn a_guid_repeated_in_one_document_keeps_its_first_entry_and_no_revisions() {
    let p = poll_times("repeated_guid.xml", 2);
    assert_eq!(p.titles(), ["First title under the GUID"]);
    let s = p.story("First title");
    assert_eq!(s["revisions"].as_array().unwrap().len(), 0, "{s}");
    assert_eq!(s["text"], "First text.");
}

#[test]
fn media_text_channel_language_permalink_guids_and_tracking_parameters() {
    let p = poll("real_fields.xml");
    assert_eq!(p.stories.len(), 2);
    let video = p.story("media:group");
    assert_eq!(video["text"], "Le ministre a parlé du budget.");
    assert_eq!(video["language"], "fr-fr");
    assert_eq!(video["url"], "https://video.example/watch?v=abc");
    let permalink = p.story("GUID is its link");
    assert_eq!(permalink["url"], "https://news.example/permalink?id=7");
}

#[test]
fn a_channel_dc_language_is_the_story_language() {
    let p = poll("dc_language.xml");
    assert_eq!(p.story("Berlin")["language"], "de-de");
}

#[test]
fn the_config_extends_the_stripped_parameters() {
    let p = poll_with("real_fields.xml", 1, "\n[urls]\nstrip_params = [\"v\"]\n");
    assert_eq!(p.story("media:group")["url"], "https://video.example/watch");
}

#[test]
fn an_items_own_dc_language_is_its_story_language() {
    let p = poll("item_dc_language.xml");
    assert_eq!(p.story("Paris")["language"], "fr-fr");
    assert_eq!(p.story("London")["language"], "en-gb");
    // No language of its own and none on the channel: none, not a neighbour's.
    assert_eq!(p.story("ohne Sprache")["language"], Value::Null);
}

#[test]
fn a_guid_that_is_not_a_permalink_is_never_the_link() {
    let p = poll("guid_not_permalink.xml");
    let name_only = p.story("only a name");
    assert_eq!(name_only["url"], Value::Null);
    assert_eq!(
        name_only["sources"][0]["guid"],
        "https://cms.example/internal/node/881"
    );
    assert_eq!(
        p.story("is its address")["url"],
        "https://news.example/stories/882"
    );
}

#[test]
fn rdf_items_without_a_link_are_kept_beside_linked_ones() {
    let p = poll("rdf_some_links.xml");
    assert_eq!(
        p.titles(),
        [
            "Linked RDF story",
            "RDF story known by its about",
            "RDF story with a name only"
        ]
    );
    assert_eq!(p.story("Linked")["url"], "https://news.example/rdf/1");
    assert_eq!(p.story("its about")["url"], "https://news.example/rdf/2");
    assert_eq!(p.story("name only")["url"], Value::Null);
    assert_eq!(p.story("name only")["sources"][0]["guid"], "urn:rdf:3");
}
