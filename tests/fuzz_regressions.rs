//! Inputs the fuzz targets in `fuzz/` found to break the library, kept as tests so they
//! stay fixed. Each calls the same functions as its fuzz target.

use chrono::NaiveDate;
use tidings::detect::{Article, Detector};

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
