//! Arbitrary text as a story: detection must never panic, and what it reports must be
//! consistent and serialisable.
//!
//! The input is read as UTF-8 (lossily); its first line is the title, the rest the
//! body. For each detection the target checks that:
//! - the evidence offsets are character offsets with `start <= end`, within the field,
//!   and that they select exactly the evidence sentence;
//! - the countries are sorted and distinct ISO alpha-3 codes;
//! - a date span does not end before it starts;
//! - the confidence is finite and within [0.05, 0.99];
//! - the detections serialise to JSON and read back equal.

#![no_main]

use std::sync::OnceLock;

use chrono::NaiveDate;
use libfuzzer_sys::fuzz_target;
use tidings::detect::{Article, Detection, Detector, Field};

fn detector() -> &'static Detector {
    static DETECTOR: OnceLock<Detector> = OnceLock::new();
    DETECTOR.get_or_init(|| Detector::embedded().expect("embedded detector"))
}

fn check(d: &Detection, article: &Article) {
    let field = match d.evidence.field {
        Field::Title => article.title,
        Field::Text => article.text,
    };
    let ev = &d.evidence;
    assert!(ev.start <= ev.end, "evidence {}..{}", ev.start, ev.end);
    let chars = field.chars().count();
    assert!(
        ev.end <= chars,
        "evidence end {} beyond {chars} chars",
        ev.end
    );
    let selected: String = field
        .chars()
        .skip(ev.start)
        .take(ev.end - ev.start)
        .collect();
    assert_eq!(
        selected, ev.sentence,
        "evidence offsets do not select the sentence"
    );

    assert!(
        d.countries.windows(2).all(|w| w[0] < w[1]),
        "countries not sorted and distinct: {:?}",
        d.countries
    );
    for c in &d.countries {
        assert!(
            c.len() == 3 && c.bytes().all(|b| b.is_ascii_uppercase()),
            "{c:?}"
        );
    }

    if let Some(date) = &d.date {
        assert!(date.start <= date.end, "date span {date}");
    }

    assert!(
        d.confidence.is_finite() && (0.05..=0.99).contains(&d.confidence),
        "confidence {}",
        d.confidence
    );
}

fuzz_target!(|data: &[u8]| {
    let input = String::from_utf8_lossy(data);
    let (title, text) = input.split_once('\n').unwrap_or((&input, ""));
    let article = Article {
        title,
        text,
        published: NaiveDate::from_ymd_opt(2023, 2, 22).expect("valid date"),
    };
    let detections = detector().detect(&article);
    for d in &detections {
        check(d, &article);
    }
    let json = serde_json::to_string(&detections).expect("detections serialise");
    let back: Vec<Detection> = serde_json::from_str(&json).expect("detections read back");
    assert_eq!(back, detections, "JSON round trip changed the detections");
});
