//! Inputs the fuzz targets in `fuzz/` found to break the library, kept as tests so they
//! stay fixed. Each calls the same functions as its fuzz target.

use chrono::{DateTime, NaiveDate};
use tidings::detect::{Article, Detector};
use tidings::normalise::canonical_url;
use tidings::parser::parse_feed_with_charset;

/// `fuzz/fuzz_targets/detect.rs`: the title names two leaders and the body refers back
/// to them ("the two sides") in a sentence that opens with multi-byte characters.
/// Detection panicked slicing the body at the byte offsets the actors had in the title.
/// The actors keep the words of the title.
#[test]
fn detect_actors_named_in_the_title_and_referred_to_in_the_body() {
    // The fuzzer's bytes were b"Putin h Xi\n\xc9\xc9The two sides talks", read lossily:
    // each invalid byte becomes U+FFFD.
    let article = Article {
        title: "Putin h Xi",
        text: "\u{fffd}\u{fffd}The two sides talks",
        published: NaiveDate::from_ymd_opt(2023, 2, 22).unwrap(),
    };
    let detections = Detector::embedded().unwrap().detect(&article);
    serde_json::to_string(&detections).unwrap();
    for d in &detections {
        for actor in &d.actors {
            assert!(
                ["Putin", "Xi"].contains(&actor.text.as_str()),
                "actor words {:?} are not from the title",
                actor.text
            );
        }
    }
}

/// `fuzz/fuzz_targets/parse_normalise.rs`: a Shift_JIS feed whose link has a query
/// parameter named "u" and a kanji. Checking it against the tracking prefixes sliced
/// the name at byte 3, inside the kanji, and panicked: any link with a parameter name in
/// a non-Latin script could take down the poll of its feed. The parameter is kept.
#[test]
fn parse_a_link_whose_parameter_name_starts_with_a_multibyte_character() {
    // The minimised input; the target picks the charset by the input's length (93 bytes:
    // Shift_JIS), in which 0x9E 0x70 ("\x9ep") is one kanji, U+67DD.
    let body: &[u8] = b"?on?>\n<rss version=\"2.0\">\n<channel\n>\n<item>\ntl\n\
        <link>hg1?u\x9ep</link>script\n\n</item>\n</channel>";
    assert_eq!(body.len(), 93);
    let feed = parse_feed_with_charset(
        "fuzz",
        body,
        Some("https://news.example.org/world/rss.xml"),
        DateTime::from_timestamp(1_677_067_200, 0).unwrap(),
        Some("shift_jis"),
    )
    .unwrap();
    let [candidate] = feed.candidates.as_slice() else {
        panic!("one item: {:?}", feed.candidates)
    };
    let url = candidate.url.as_deref().expect("a canonical URL");
    assert_eq!(url, "https://news.example.org/world/hg1?u%E6%9F%9D=");
    assert_eq!(canonical_url(url).as_deref(), Some(url));
}
