//! The store's dedup lookup cost as it grows: 10k, 100k and 1M stored stories.
//!
//! One sled store is built in a temporary directory by ingesting synthetic stories
//! (`SledStore::ingest`, the daemon's own path); each time it reaches a size, three lookups
//! are measured with `dedup::find_match` over the store's `DedupIndex`, the fingerprint
//! being computed beforehand so only the store's work is timed:
//!
//! - `guid_hit`: a candidate whose feed and GUID are stored (the re-poll case; stops at
//!   the first check);
//! - `no_match`: a new candidate that matches nothing, so every check runs: GUID, URL,
//!   content hash and the 16 LSH band lookups (and the signatures of any story sharing a
//!   band, which are compared and rejected);
//! - `near_dup`: a syndicated copy of a stored story (another feed, GUID and URL, three
//!   words changed), found through the LSH bands and confirmed on its signature.
//!
//! Each benchmark cycles through 1,024 different queries, so it does not measure one hot
//! key. `guid_hit` queries are spread over the whole store; `no_match` and `near_dup`
//! queries are dated like the stories of the near-duplicate index's horizon (the newest
//! 96 h, 11,520 stories at one every 30 s), as a polled entry is: older ones are matched
//! by GUID, URL and hash only. Synthetic stories are news-like (a title and about
//! 600 bytes of text from sentence templates and a Zipf-distributed vocabulary, seeded,
//! so every run builds the same store).
//!
//! Run: `cargo bench --bench store` (builds up to 1M stories: minutes, and ~GBs in the
//! temp dir). `TIDINGS_BENCH_MAX=100000 cargo bench --bench store` stops at 100k.

use std::hint::black_box;
use std::time::{Duration, Instant};

use chrono::{DateTime, TimeZone, Utc};
use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion};

use tidings::dedup::{find_match, DedupIndex, Fingerprint};
use tidings::model::{Candidate, MatchKind};
use tidings::store::dir_size;
use tidings::store::SledStore;

const SIZES: [usize; 3] = [10_000, 100_000, 1_000_000];
const QUERIES: usize = 1024;
const SEED: u64 = 0x7469_6469_6e67_7321;
/// Stories within the near-duplicate index's horizon, at one every 30 s.
const HORIZON_STORIES: u64 = tidings::dedup::HORIZON_HOURS as u64 * 120;

// ---------------------------------------------------------------------------------------
// A seeded generator of news-like stories. Story `k` is always the same, so queries can
// be rebuilt from their index without keeping a million candidates in memory.

const ACTORS: &[&str] = &[
    "President Joe Biden",
    "Chinese Foreign Minister Wang Yi",
    "German Chancellor Olaf Scholz",
    "French President Emmanuel Macron",
    "Indian Prime Minister Narendra Modi",
    "Brazil's President Luiz Inacio Lula da Silva",
    "Japanese Prime Minister Fumio Kishida",
    "the European Commission",
    "the UN Security Council",
    "Turkey's foreign minister",
    "Kenyan President William Ruto",
    "the Australian government",
    "South Africa's president",
    "Canadian Prime Minister Justin Trudeau",
    "Nigeria's defence ministry",
    "the Mexican government",
    "Saudi Crown Prince Mohammed bin Salman",
    "Indonesian President Joko Widodo",
    "British Foreign Secretary James Cleverly",
    "Polish officials",
    "the International Monetary Fund",
    "Ukrainian President Volodymyr Zelensky",
    "Russian Foreign Minister Sergei Lavrov",
    "the World Health Organization",
];
const VERBS: &[&str] = &[
    "met",
    "held talks with",
    "spoke by phone with",
    "criticised",
    "welcomed",
    "called on",
    "signed an agreement with",
    "hosted",
    "warned",
    "rejected a proposal from",
    "sent a delegation to",
    "announced new measures against",
];
const TOPICS: &[&str] = &[
    "trade tariffs",
    "grain exports",
    "climate finance",
    "the energy crisis",
    "migration across the Mediterranean",
    "debt relief for poorer countries",
    "a ceasefire proposal",
    "nuclear safety",
    "fishing rights",
    "semiconductor supply chains",
    "drought in the Horn of Africa",
    "election security",
    "sanctions enforcement",
    "the price of fuel",
    "a new rail link",
    "vaccine production",
];
const PLACES: &[&str] = &[
    "Geneva",
    "New Delhi",
    "Brasilia",
    "Nairobi",
    "Jakarta",
    "Brussels",
    "Tokyo",
    "Ankara",
    "Canberra",
    "Warsaw",
    "Riyadh",
    "Mexico City",
    "Ottawa",
    "Abuja",
    "Pretoria",
    "Seoul",
];
const WHEN: &[&str] = &[
    "on Monday",
    "on Tuesday",
    "on Wednesday",
    "on Thursday",
    "on Friday",
    "at the weekend",
    "earlier this week",
    "late on Sunday",
];
const SOURCES: &[&str] = &[
    "officials said",
    "a spokesperson said",
    "according to state media",
    "diplomats said",
    "the ministry said in a statement",
    "analysts said",
];
/// Common English words, most frequent first (drawn with Zipf weights).
const COMMON: &[&str] = &[
    "the", "of", "and", "to", "a", "in", "that", "is", "for", "on", "with", "as", "was", "it",
    "by", "at", "from", "be", "has", "have", "said", "an", "are", "its", "not", "but", "were",
    "which", "this", "after", "their", "they", "had", "been", "more", "than", "also", "will",
    "would", "who", "over", "new", "into", "some", "about", "could",
];
const SYLLABLES: &[&str] = &[
    "ba", "ker", "lo", "min", "tra", "del", "sen", "por", "vi", "cal", "mun", "der", "ri", "son",
    "gal", "te", "nor", "pla", "quis", "ven", "ho", "tur", "ma", "lek", "dra", "fin", "zo", "ar",
    "bel", "cor", "us", "im",
];

/// Words drawn with Zipf weights: a few very common, a long tail of rare ones.
struct Vocabulary {
    words: Vec<String>,
    cumulative: Vec<f64>,
}

impl Vocabulary {
    fn new() -> Vocabulary {
        let mut words: Vec<String> = COMMON.iter().map(|w| w.to_string()).collect();
        let n = SYLLABLES.len();
        'outer: for a in 0..n {
            for middle in SYLLABLES {
                for c in 0..n {
                    if words.len() >= 20_000 {
                        break 'outer;
                    }
                    words.push(format!(
                        "{}{}{}",
                        SYLLABLES[(a * 7 + c) % n],
                        middle,
                        SYLLABLES[c]
                    ));
                }
            }
        }
        let mut total = 0.0;
        let cumulative = (0..words.len())
            .map(|r| {
                total += 1.0 / (r as f64 + 2.0);
                total
            })
            .collect();
        Vocabulary { words, cumulative }
    }

    fn word(&self, rng: &mut fastrand::Rng) -> &str {
        let x = rng.f64() * self.cumulative.last().copied().unwrap_or(1.0);
        let i = self.cumulative.partition_point(|&c| c < x);
        &self.words[i.min(self.words.len() - 1)]
    }
}

fn pick<'a>(rng: &mut fastrand::Rng, list: &[&'a str]) -> &'a str {
    list[rng.usize(..list.len())]
}

fn base_time() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2023, 1, 1, 0, 0, 0).unwrap()
}

fn story_time(k: u64) -> Option<DateTime<Utc>> {
    Some(base_time() + chrono::Duration::seconds(30 * k as i64))
}

/// Story `k`: distinct GUID, URL and text; published 30 s after story `k - 1`.
fn story(vocab: &Vocabulary, k: u64) -> Candidate {
    let mut rng = fastrand::Rng::with_seed(SEED ^ k.wrapping_mul(0x9e37_79b9_7f4a_7c15));
    let a = pick(&mut rng, ACTORS);
    let b = pick(&mut rng, ACTORS);
    let topic = pick(&mut rng, TOPICS);
    let place = pick(&mut rng, PLACES);
    let title = format!("{a} and {b} discuss {topic} in {place}");
    let mut text = format!(
        "{a} {} {b} in {place} {} to discuss {topic}, {}.",
        pick(&mut rng, VERBS),
        pick(&mut rng, WHEN),
        pick(&mut rng, SOURCES)
    );
    while text.len() < 600 {
        text.push(' ');
        if rng.u8(..4) == 0 {
            text.push_str(&format!(
                "About {} people were affected in {}, {}.",
                rng.u32(10..5000),
                pick(&mut rng, PLACES),
                pick(&mut rng, SOURCES)
            ));
            continue;
        }
        let n = rng.usize(8..18);
        let mut sentence = String::new();
        for i in 0..n {
            let w = vocab.word(&mut rng);
            if i == 0 {
                let mut chars = w.chars();
                if let Some(first) = chars.next() {
                    sentence.extend(first.to_uppercase());
                    sentence.push_str(chars.as_str());
                }
            } else {
                sentence.push(' ');
                sentence.push_str(w);
            }
        }
        sentence.push('.');
        text.push_str(&sentence);
    }
    let published = story_time(k).unwrap_or_else(base_time);
    Candidate {
        feed: format!("feed-{}", k % 500),
        guid: format!("urn:synthetic:{k}"),
        guid_derived: false,
        url: Some(format!("https://news{}.example/world/story-{k}", k % 50)),
        raw_url: None,
        title,
        text,
        published: Some(published),
        language: Some("en".into()),
        seen_at: published,
    }
}

/// A copy of story `k` syndicated elsewhere: another feed, GUID and URL, three words of
/// the text changed and the title reworded.
fn near_copy(vocab: &Vocabulary, k: u64) -> Candidate {
    let mut c = story(vocab, k);
    c.feed = "syndicated".into();
    c.guid = format!("urn:copy:{k}");
    c.url = Some(format!("https://copies.example/{k}?ref=wire"));
    c.title = format!("{} (updated)", c.title);
    let mut words: Vec<String> = c.text.split(' ').map(str::to_string).collect();
    let len = words.len();
    for i in [len / 4, len / 2, 3 * len / 4] {
        words[i] = "reportedly".into();
    }
    c.text = words.join(" ");
    c
}

// ---------------------------------------------------------------------------------------

fn max_size() -> usize {
    std::env::var("TIDINGS_BENCH_MAX")
        .ok()
        .and_then(|v| v.replace('_', "").parse().ok())
        .unwrap_or(SIZES[SIZES.len() - 1])
}

/// Ingests stories `from..to` with two threads (fingerprints are computed outside the
/// store's writer lock, so the second thread overlaps them with the writes).
fn grow(store: &SledStore, vocab: &Vocabulary, from: usize, to: usize) {
    let started = Instant::now();
    let step = 50_000;
    let mut at = from;
    while at < to {
        let end = (at + step).min(to);
        std::thread::scope(|s| {
            for t in 0..2u64 {
                s.spawn(move || {
                    for k in (at as u64..end as u64).filter(|k| k % 2 == t) {
                        store.ingest(&story(vocab, k)).expect("ingest");
                    }
                });
            }
        });
        at = end;
        let secs = started.elapsed().as_secs_f64();
        eprintln!(
            "  store: {at} stories ({:.0} ingests/s since {from}, {secs:.0} s)",
            (at - from) as f64 / secs
        );
    }
}

type Query = (Candidate, Fingerprint);

/// `QUERIES` queries: `make(i, k)` for the i-th, with `k` a random story of `stories`.
fn queries(stories: std::ops::Range<u64>, make: impl Fn(u64, u64) -> Candidate) -> Vec<Query> {
    let mut rng = fastrand::Rng::with_seed(SEED.rotate_left(7) ^ stories.end);
    (0..QUERIES as u64)
        .map(|i| {
            let c = make(i, rng.u64(stories.clone()));
            let fp = Fingerprint::of(&c);
            (c, fp)
        })
        .collect()
}

fn bench(c: &mut Criterion) {
    let max = max_size();
    let vocab = Vocabulary::new();
    let tmp = tempfile::tempdir().expect("temp dir");
    let store = SledStore::open(&tmp.path().join("store")).expect("store");
    let mut built = 0;
    for &size in SIZES.iter().filter(|&&s| s <= max) {
        eprintln!("building the store up to {size} stories …");
        grow(&store, &vocab, built, size);
        built = size;
        store.flush().expect("flush");
        eprintln!(
            "  store: {} stories, {:.0} MB on disk",
            store.story_count(),
            dir_size(tmp.path()) as f64 / 1e6
        );

        let all = 0..size as u64;
        let in_horizon = (size as u64).saturating_sub(HORIZON_STORIES)..size as u64;
        let guid_hits = queries(all, |_, k| story(&vocab, k));
        // New stories: indexes beyond anything stored, published at the time of a recent
        // stored story, so the 72 h window does not rule out what the bands turn up.
        let new = queries(in_horizon.clone(), |i, k| {
            let mut c = story(&vocab, 1_000_000_000 + i);
            c.published = story_time(k);
            c.seen_at = story_time(k).unwrap_or(c.seen_at);
            c
        });
        let near = queries(in_horizon, |_, k| near_copy(&vocab, k));

        // Check that each query takes the path it is meant to, and how many stories the
        // LSH bands turn up for a story that matches nothing.
        let kinds = |qs: &[Query]| {
            let mut counts = [0usize; 3]; // guid, near-duplicate, none
            for (c, fp) in qs {
                match find_match(&store, c, fp).expect("lookup") {
                    Some((_, MatchKind::Guid)) => counts[0] += 1,
                    Some((_, MatchKind::NearDuplicate { .. })) => counts[1] += 1,
                    None => counts[2] += 1,
                    Some(_) => {}
                }
            }
            counts
        };
        let band_hits: usize = new
            .iter()
            .map(|(_, fp)| {
                fp.band_keys()
                    .iter()
                    .map(|&(b, k)| store.stories_in_band(b, k).expect("band").len())
                    .sum::<usize>()
            })
            .sum();
        eprintln!(
            "  queries at {size}: guid_hit {:?}, no_match {:?}, near_dup {:?} \
             ([guid, near, none]); no_match band hits per lookup: {:.3}",
            kinds(&guid_hits),
            kinds(&new),
            kinds(&near),
            band_hits as f64 / new.len() as f64
        );

        let mut group = c.benchmark_group("store_lookup");
        group
            .sample_size(50)
            .warm_up_time(Duration::from_secs(1))
            .measurement_time(Duration::from_secs(4));
        for (name, qs) in [
            ("guid_hit", &guid_hits),
            ("no_match", &new),
            ("near_dup", &near),
        ] {
            group.bench_with_input(BenchmarkId::new(name, size), qs, |b, qs| {
                let mut i = 0usize;
                b.iter(|| {
                    let (c, fp) = &qs[i % qs.len()];
                    i += 1;
                    black_box(find_match(&store, c, fp).expect("lookup"))
                })
            });
        }
        // Where a no-match lookup's time goes: the single-key misses, and one band scan.
        group.bench_with_input(BenchmarkId::new("part_url_miss", size), &new, |b, qs| {
            let mut i = 0usize;
            b.iter(|| {
                let (c, _) = &qs[i % qs.len()];
                i += 1;
                black_box(
                    store
                        .story_by_url(c.url.as_deref().unwrap_or(""))
                        .expect("url"),
                )
            })
        });
        group.bench_with_input(BenchmarkId::new("part_hash_miss", size), &new, |b, qs| {
            let mut i = 0usize;
            b.iter(|| {
                let (_, fp) = &qs[i % qs.len()];
                i += 1;
                black_box(store.story_by_content_hash(&fp.content_hash).expect("hash"))
            })
        });
        let bands: Vec<(u8, u64)> = new.iter().flat_map(|(_, fp)| fp.band_keys()).collect();
        group.bench_with_input(
            BenchmarkId::new("part_one_band", size),
            &bands,
            |b, keys| {
                let mut i = 0usize;
                b.iter(|| {
                    let (band, key) = keys[i % keys.len()];
                    i += 1;
                    black_box(store.stories_in_band(band, key).expect("band"))
                })
            },
        );
        group.finish();
    }
    if max < SIZES[0] {
        eprintln!(
            "TIDINGS_BENCH_MAX={max} is below the smallest size ({}): nothing to do",
            SIZES[0]
        );
    }
}

criterion_group!(benches, bench);
criterion_main!(benches);
