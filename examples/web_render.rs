//! Server-side render time of the web view with 100,000 stored events.
//!
//! Fills a sled store in a temporary directory through the store's own ingest path
//! (`Store::ingest_batch`, with a detection hook that reports one synthetic event per
//! story: a bilateral meeting, a vote, sanctions, … between random states over three
//! years) until it holds `--events` events, then renders, `--runs` times each:
//!
//! - the first events page (`/`, newest 100, no filter) — the page the issue times;
//! - the baseline: the same 100 events as the JSON API answers them
//!   (`Store::events` + `serde_json`);
//! - the events page filtered by country and minimum confidence, the timeline and the
//!   map (default 30 days), and a country page.
//!
//! and prints each one's median and 90th percentile, and the ratio of the first page's
//! median to the baseline's. No HTTP: the figures are the handlers' work.
//!
//! ```sh
//! cargo run --release --example web_render
//! cargo run --release --example web_render -- --events 100000 --runs 51
//! ```

use std::time::{Duration, Instant};

use chrono::{Duration as Days, NaiveDate, TimeZone, Utc};
use tidings::detect::Detection;
use tidings::model::{Candidate, Evidence, Field, Modality, Story};
use tidings::store::{EventQuery, IngestHooks, Store};
use tidings::web::{charts, render_events_page, DayRange, EventFilters};

const TYPES: &[(&str, u32)] = &[
    ("bilateral_meeting", 60),
    ("un_vote", 10),
    ("sanctions", 10),
    ("ceasefire", 5),
    ("diplomatic_expulsion", 10),
    ("military_exercise", 5),
];

fn arg(name: &str, default: usize) -> usize {
    let args: Vec<String> = std::env::args().collect();
    args.iter()
        .position(|a| a == name)
        .and_then(|i| args.get(i + 1))
        .map(|v| {
            v.parse()
                .unwrap_or_else(|_| panic!("{name} takes a number, not {v:?}"))
        })
        .unwrap_or(default)
}

/// A pseudo-random story: distinct words, so dedup keeps every one.
fn candidate(i: usize, rng: &mut fastrand::Rng, start: chrono::DateTime<Utc>) -> Candidate {
    const WORDS: &[&str] = &[
        "talks",
        "minister",
        "delegation",
        "agreement",
        "summit",
        "trade",
        "energy",
        "border",
        "security",
        "council",
        "resolution",
        "envoy",
        "visit",
        "statement",
        "cooperation",
        "pipeline",
        "tariff",
        "navy",
        "exercise",
        "embassy",
        "ceasefire",
        "aid",
        "vote",
        "session",
        "capital",
        "president",
        "parliament",
        "election",
        "sanction",
        "grain",
    ];
    let published = start + Days::minutes(rng.i64(0..3 * 365 * 24 * 60));
    let text: Vec<String> = (0..40)
        .map(|_| format!("{}{}", WORDS[rng.usize(..WORDS.len())], rng.u32(..1000)))
        .collect();
    Candidate {
        feed: format!("feed{}", i % 50),
        guid: format!("g{i}"),
        guid_derived: false,
        url: Some(format!("https://news.example/{i}")),
        raw_url: None,
        title: format!("Story {i}: {}", text[..6].join(" ")),
        text: text.join(" "),
        published: Some(published),
        language: Some("en".into()),
        seen_at: published,
    }
}

fn detection(story: &Story, codes: &[String]) -> Detection {
    let mut rng = fastrand::Rng::with_seed(story.id.wrapping_mul(0x9E37_79B9_7F4A_7C15));
    let total: u32 = TYPES.iter().map(|(_, w)| w).sum();
    let mut pick = rng.u32(..total);
    let kind = TYPES
        .iter()
        .find(|(_, w)| {
            if pick < *w {
                true
            } else {
                pick -= w;
                false
            }
        })
        .map(|(t, _)| *t)
        .unwrap_or("bilateral_meeting");
    let a = rng.usize(..codes.len());
    let mut b = rng.usize(..codes.len());
    while b == a {
        b = rng.usize(..codes.len());
    }
    let mut countries = vec![codes[a].clone(), codes[b].clone()];
    countries.sort();
    let organization = (kind == "un_vote").then(|| "UNSC".to_string());
    if organization.is_some() {
        countries.clear();
    }
    let sentence = story.text.chars().take(120).collect::<String>();
    Detection {
        event_type: kind.to_string(),
        actors: Vec::new(),
        countries,
        organization,
        location: None,
        date: None,
        modality: if rng.bool() {
            Modality::Occurred
        } else {
            Modality::Planned
        },
        confidence: 0.5 + rng.f32() * 0.5,
        evidence: Evidence {
            field: Field::Text,
            end: sentence.chars().count(),
            sentence,
            start: 0,
            rule: "synthetic".into(),
            matched: Vec::new(),
            resolved_against: None,
        },
    }
}

/// One page's render, timed by [`time`].
type Render<'a> = Box<dyn Fn() -> String + 'a>;

fn time<T>(runs: usize, mut f: impl FnMut() -> T) -> (Duration, Duration, T) {
    let mut times = Vec::with_capacity(runs);
    let mut last = None;
    for _ in 0..runs {
        let t = Instant::now();
        last = Some(std::hint::black_box(f()));
        times.push(t.elapsed());
    }
    times.sort();
    (
        times[runs / 2],
        times[(runs * 9) / 10],
        last.expect("at least one run"),
    )
}

fn ms(d: Duration) -> String {
    format!("{:.2} ms", d.as_secs_f64() * 1000.0)
}

fn main() {
    let target = arg("--events", 100_000);
    let runs = arg("--runs", 51).max(1);
    let dir = tempfile::tempdir().expect("a temporary directory");
    let store = Store::open(dir.path()).expect("open the store");
    let codes: Vec<String> = tidings::web::world::world()
        .capitals
        .keys()
        .cloned()
        .collect();
    let detect = |s: &Story| vec![detection(s, &codes)];
    let hooks = IngestHooks {
        detect: &detect,
        route: &|_, _| None,
    };
    let start = Utc.with_ymd_and_hms(2024, 1, 1, 0, 0, 0).unwrap();
    let mut rng = fastrand::Rng::with_seed(7);
    let filling = Instant::now();
    let mut i = 0;
    while store.event_count().expect("count") < target {
        let batch: Vec<Candidate> = (0..500)
            .map(|k| candidate(i + k, &mut rng, start))
            .collect();
        i += batch.len();
        store.ingest_batch(&batch, &hooks).expect("ingest");
    }
    println!(
        "store: {} events from {} stories, filled in {:.1} s",
        store.event_count().expect("count"),
        i,
        filling.elapsed().as_secs_f64()
    );

    let first = EventFilters::parse(&[]).expect("no filter");
    let (page_median, page_p90, page) = time(runs, || {
        render_events_page(&store, &first)
            .expect("render")
            .into_string()
    });
    let (json_median, json_p90, json) = time(runs, || {
        let events = store
            .events(&EventQuery {
                limit: Some(100),
                ..EventQuery::default()
            })
            .expect("read");
        serde_json::to_vec(&events).expect("serialise")
    });
    assert_eq!(page.matches("<tr data-event-id=").count(), 100);
    println!(
        "first events page (100 rows): median {}, p90 {} ({} KiB of HTML), over {runs} runs",
        ms(page_median),
        ms(page_p90),
        page.len() / 1024
    );
    println!(
        "baseline, the same 100 events as API JSON: median {}, p90 {} ({} KiB)",
        ms(json_median),
        ms(json_p90),
        json.len() / 1024
    );
    println!(
        "ratio page / JSON: {:.2}x",
        page_median.as_secs_f64() / json_median.as_secs_f64()
    );

    let params = |pairs: &[(&str, &str)]| -> Vec<(String, String)> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    };
    let filtered =
        EventFilters::parse(&params(&[("country", "FRA"), ("min_confidence", "0.8")])).unwrap();
    let none = DayRange::default();
    let newest = store.newest_event_day().unwrap().unwrap_or(NaiveDate::MIN);
    let rows: [(&str, Render); 4] = [
        (
            "events page, country=FRA&min_confidence=0.8",
            Box::new(|| render_events_page(&store, &filtered).unwrap().into_string()),
        ),
        (
            "timeline (30 days)",
            Box::new(|| charts::timeline_page(&store, none).unwrap().into_string()),
        ),
        (
            "map (30 days)",
            Box::new(|| charts::map_page(&store, none, None).unwrap().into_string()),
        ),
        (
            "country page FRA (all days)",
            Box::new(|| {
                charts::country_page(&store, "FRA", none)
                    .unwrap()
                    .into_string()
            }),
        ),
    ];
    for (name, render) in rows {
        let (median, p90, html) = time(runs, render);
        println!(
            "{name}: median {}, p90 {} ({} KiB)",
            ms(median),
            ms(p90),
            html.len() / 1024
        );
    }
    println!("(newest event day {newest})");
}
