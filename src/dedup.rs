//! Deduplication: deciding whether a candidate is a story already stored.
//!
//! Checks run from cheapest and surest to fuzziest, and the first hit wins:
//!
//! 1. **GUID** — the same feed already gave an entry with this GUID (an edit in place,
//!    e.g. a retitled headline, becomes a revision of that story);
//! 2. **canonical URL** — the same article reached through another feed or with
//!    tracking parameters;
//! 3. **content hash** — SHA-256 of the normalised title and text;
//! 4. **near-duplicate** — MinHash over word 2-shingles of title and text, found through
//!    locality-sensitive hashing: the 64 hashes form 16 bands of 4, and each band's hash is
//!    an index key. Two texts with Jaccard similarity `J` share at least one band with
//!    probability `1 - (1 - J⁴)¹⁶` (0.9998 at J = 0.8, 0.12 at J = 0.3), and every candidate
//!    found is confirmed on its full signature. The band keys of recent stories are held
//!    in memory ([`RecentBands`]), so a lookup costs 16 hash-map probes whatever the
//!    store's size, plus one signature read per story found; stories outside the
//!    near-duplicate window are passed over without reading their signatures.
//!
//! The store provides the lookups ([`DedupIndex`]); this module owns the decision.

use chrono::{DateTime, Utc};
use sha2::{Digest, Sha256};
use siphasher::sip::SipHasher13;
use std::hash::Hasher;

use crate::model::{Candidate, MatchKind, StoryId};

mod recent_bands;
pub use recent_bands::{RecentBands, CAPACITY as RECENT_CAPACITY, HORIZON_HOURS};

/// Number of MinHash values per signature.
pub const SIGNATURE_LEN: usize = 64;
/// LSH bands, each of `SIGNATURE_LEN / BANDS` rows.
pub const BANDS: usize = 16;
const ROWS: usize = SIGNATURE_LEN / BANDS;
/// Words per shingle.
const SHINGLE_WORDS: usize = 2;
/// Texts with fewer shingles than this are too short to judge by similarity: two short
/// headlines can share most words and still be different stories.
pub const MIN_SHINGLES: usize = 12;
/// Estimated Jaccard similarity at or above which two stories are the same.
pub const NEAR_DUPLICATE_THRESHOLD: f32 = 0.6;

/// Near-duplicates must be published within this many hours of each other: syndicated
/// copies appear within a day or two, while a recurring format (a daily live blog) can
/// repeat its summary word for word weeks apart.
pub const NEAR_DUPLICATE_WINDOW_HOURS: i64 = 72;

/// Most stories one band key keeps, the most recently added. A band shared by more
/// stories than this is boilerplate (a footer, a standing paragraph), not a sign of a copy;
/// without a cap, every story carrying it would make lookups slower.
pub const BUCKET_CAP: usize = 64;

/// A story filed under a band key, with its publication time.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BandMember {
    pub id: StoryId,
    pub published: DateTime<Utc>,
}

/// A MinHash signature.
pub type Signature = [u32; SIGNATURE_LEN];

/// Everything dedup needs to know about a candidate, computed once.
#[derive(Debug, Clone, PartialEq)]
pub struct Fingerprint {
    /// SHA-256 of the normalised title and text.
    pub content_hash: [u8; 32],
    /// MinHash signature, when the text is long enough to compare by similarity.
    pub signature: Option<Signature>,
}

impl Fingerprint {
    pub fn of(candidate: &Candidate) -> Fingerprint {
        let mut words = Words::default();
        words.push_text(&candidate.title);
        let title_words = words.len();
        words.push_text(&candidate.text);
        let mut h = Sha256::new();
        for (i, w) in words.iter().enumerate() {
            if i == title_words {
                // An empty word between title and text.
                h.update(b" ");
            }
            h.update(w.as_bytes());
            h.update(b" ");
        }
        if title_words == words.len() {
            h.update(b" ");
        }
        // Title and body together: recurring formats (a daily briefing, a weekly quiz)
        // repeat their body word for word and differ only in the title.
        let signature = minhash(&words);
        Fingerprint {
            content_hash: h.finalize().into(),
            signature,
        }
    }

    /// The LSH band keys of the signature: (band number, hash of the band's rows).
    pub fn band_keys(&self) -> Vec<(u8, u64)> {
        self.signature.as_ref().map(band_keys).unwrap_or_default()
    }
}

/// The lookups dedup needs from the store.
pub trait DedupIndex {
    type Error;
    fn story_by_guid(&self, feed: &str, guid: &str) -> Result<Option<StoryId>, Self::Error>;
    fn story_by_url(&self, url: &str) -> Result<Option<StoryId>, Self::Error>;
    fn story_by_content_hash(&self, hash: &[u8; 32]) -> Result<Option<StoryId>, Self::Error>;
    /// Stories sharing the given LSH band key.
    fn stories_in_band(&self, band: u8, key: u64) -> Result<Vec<BandMember>, Self::Error>;
    /// A story's MinHash signature and publication time.
    fn signature(&self, id: StoryId) -> Result<Option<(Signature, DateTime<Utc>)>, Self::Error>;
}

/// Finds the stored story `candidate` duplicates, if any, and how it matched.
pub fn find_match<I: DedupIndex>(
    index: &I,
    candidate: &Candidate,
    fp: &Fingerprint,
) -> Result<Option<(StoryId, MatchKind)>, I::Error> {
    if let Some(id) = index.story_by_guid(&candidate.feed, &candidate.guid)? {
        return Ok(Some((id, MatchKind::Guid)));
    }
    if let Some(url) = &candidate.url {
        if let Some(id) = index.story_by_url(url)? {
            return Ok(Some((id, MatchKind::Url)));
        }
    }
    if let Some(id) = index.story_by_content_hash(&fp.content_hash)? {
        return Ok(Some((id, MatchKind::Content)));
    }
    let Some(sig) = &fp.signature else {
        return Ok(None);
    };
    let candidate_time = candidate.published.unwrap_or(candidate.seen_at);
    let mut best: Option<(StoryId, f32)> = None;
    let mut checked = Vec::new();
    for (band, key) in band_keys(sig) {
        for member in index.stories_in_band(band, key)? {
            let id = member.id;
            if checked.contains(&id) || !within_window(member.published, candidate_time) {
                continue;
            }
            checked.push(id);
            if let Some((other, published)) = index.signature(id)? {
                if !within_window(published, candidate_time) {
                    continue;
                }
                let s = similarity(sig, &other);
                if s >= NEAR_DUPLICATE_THRESHOLD && best.is_none_or(|(_, b)| s > b) {
                    best = Some((id, s));
                }
            }
        }
    }
    Ok(best.map(|(id, s)| (id, MatchKind::NearDuplicate { similarity: s })))
}

/// Whether [`find_match`] could match `candidate` against a store that held `other`:
/// the same feed and GUID, the same URL, the same content, or a near-duplicate. Used to
/// decide without a store, e.g. among new stories not yet written.
pub fn could_match(
    candidate: &Candidate,
    fp: &Fingerprint,
    other: &Candidate,
    other_fp: &Fingerprint,
) -> bool {
    keys_could_match(
        candidate,
        fp,
        KeysRef {
            feed: &other.feed,
            guid: &other.guid,
            url: other.url.as_deref(),
            at: other.published.unwrap_or(other.seen_at),
            content_hash: &other_fp.content_hash,
            signature: other_fp.signature.as_ref(),
        },
    )
}

/// What a written story or copy gives [`find_match`] to match against, kept so that a
/// look made before the write can be checked against it without the store
/// ([`MatchKeys::could_match`], the same test as [`could_match`]).
#[derive(Debug, Clone)]
pub struct MatchKeys {
    feed: String,
    guid: String,
    url: Option<String>,
    at: DateTime<Utc>,
    content_hash: [u8; 32],
    signature: Option<Box<Signature>>,
}

impl MatchKeys {
    pub fn of(candidate: &Candidate, fp: &Fingerprint) -> MatchKeys {
        MatchKeys {
            feed: candidate.feed.clone(),
            guid: candidate.guid.clone(),
            url: candidate.url.clone(),
            at: candidate.published.unwrap_or(candidate.seen_at),
            content_hash: fp.content_hash,
            signature: fp.signature.map(Box::new),
        }
    }

    /// Whether [`find_match`] could match `candidate` against what these keys index.
    pub fn could_match(&self, candidate: &Candidate, fp: &Fingerprint) -> bool {
        keys_could_match(
            candidate,
            fp,
            KeysRef {
                feed: &self.feed,
                guid: &self.guid,
                url: self.url.as_deref(),
                at: self.at,
                content_hash: &self.content_hash,
                signature: self.signature.as_deref(),
            },
        )
    }
}

struct KeysRef<'a> {
    feed: &'a str,
    guid: &'a str,
    url: Option<&'a str>,
    at: DateTime<Utc>,
    content_hash: &'a [u8; 32],
    signature: Option<&'a Signature>,
}

fn keys_could_match(candidate: &Candidate, fp: &Fingerprint, other: KeysRef<'_>) -> bool {
    (candidate.feed == other.feed && candidate.guid == other.guid)
        || (candidate.url.is_some() && candidate.url.as_deref() == other.url)
        || fp.content_hash == *other.content_hash
        || match (&fp.signature, other.signature) {
            (Some(a), Some(b)) => {
                within_window(candidate.published.unwrap_or(candidate.seen_at), other.at)
                    && similarity(a, b) >= NEAR_DUPLICATE_THRESHOLD
            }
            _ => false,
        }
}

fn within_window(a: DateTime<Utc>, b: DateTime<Utc>) -> bool {
    (a - b).num_hours().abs() <= NEAR_DUPLICATE_WINDOW_HOURS
}

/// Lower-cased words, punctuation stripped from their edges, kept in one buffer (a
/// fingerprint is taken of every entry of every poll, so no string per word).
#[derive(Default)]
struct Words {
    text: String,
    ends: Vec<usize>,
}

impl Words {
    fn push_text(&mut self, text: &str) {
        for w in text.split_whitespace() {
            let w = w.trim_matches(|c: char| !c.is_alphanumeric());
            if w.is_empty() {
                continue;
            }
            if w.is_ascii() {
                self.text
                    .extend(w.bytes().map(|b| b.to_ascii_lowercase() as char));
            } else {
                // `str::to_lowercase`, not per character: it knows a word-final sigma.
                self.text.push_str(&w.to_lowercase());
            }
            self.ends.push(self.text.len());
        }
    }

    fn len(&self) -> usize {
        self.ends.len()
    }

    fn get(&self, i: usize) -> &str {
        let start = if i == 0 { 0 } else { self.ends[i - 1] };
        &self.text[start..self.ends[i]]
    }

    fn iter(&self) -> impl Iterator<Item = &str> {
        (0..self.len()).map(|i| self.get(i))
    }
}

fn shingle_hashes(words: &Words) -> Vec<u64> {
    let mut hashes: Vec<u64> = (0..words.len().saturating_sub(SHINGLE_WORDS - 1))
        .map(|i| {
            let mut h = SipHasher13::new_with_keys(0x7469_6469_6e67_7321, 0x7368_696e_676c_6573);
            for k in i..i + SHINGLE_WORDS {
                h.write(words.get(k).as_bytes());
                h.write_u8(0xff);
            }
            h.finish()
        })
        .collect();
    hashes.sort_unstable();
    hashes.dedup();
    hashes
}

/// Multipliers and offsets of the 64 hash functions `h_i(x) = (a_i·x + b_i) >> 32`
/// (multiply-shift hashing), drawn once from a fixed seed so signatures are stable
/// across runs and versions.
fn hash_params() -> &'static [(u64, u64); SIGNATURE_LEN] {
    static PARAMS: std::sync::OnceLock<[(u64, u64); SIGNATURE_LEN]> = std::sync::OnceLock::new();
    PARAMS.get_or_init(|| {
        // splitmix64, a fixed and well-known sequence
        let mut state: u64 = 0x5449_4449_4e47_5321;
        let mut next = || {
            state = state.wrapping_add(0x9e37_79b9_7f4a_7c15);
            let mut z = state;
            z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
            z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
            z ^ (z >> 31)
        };
        let mut p = [(0, 0); SIGNATURE_LEN];
        for slot in p.iter_mut() {
            *slot = (next() | 1, next());
        }
        p
    })
}

/// MinHash signature of the word sequence, or `None` if it is too short to compare.
fn minhash(words: &Words) -> Option<Signature> {
    minhash_of_shingles(&shingle_hashes(words))
}

/// MinHash signature of a set of shingle hashes (sorted, distinct).
fn minhash_of_shingles(shingles: &[u64]) -> Option<Signature> {
    if shingles.len() < MIN_SHINGLES {
        return None;
    }
    let params = hash_params();
    let mut sig = [u32::MAX; SIGNATURE_LEN];
    for &x in shingles {
        for (slot, &(a, b)) in sig.iter_mut().zip(params.iter()) {
            let v = (a.wrapping_mul(x).wrapping_add(b) >> 32) as u32;
            if v < *slot {
                *slot = v;
            }
        }
    }
    Some(sig)
}

fn band_keys(sig: &Signature) -> Vec<(u8, u64)> {
    sig.chunks(ROWS)
        .enumerate()
        .map(|(band, rows)| {
            let mut h = SipHasher13::new_with_keys(band as u64, 0x6261_6e64);
            for r in rows {
                h.write_u32(*r);
            }
            (band as u8, h.finish())
        })
        .collect()
}

/// Estimated Jaccard similarity of the shingle sets behind two signatures.
pub fn similarity(a: &Signature, b: &Signature) -> f32 {
    let equal = a.iter().zip(b.iter()).filter(|(x, y)| x == y).count();
    equal as f32 / SIGNATURE_LEN as f32
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    fn cand(feed: &str, guid: &str, url: Option<&str>, title: &str, text: &str) -> Candidate {
        Candidate {
            feed: feed.into(),
            guid: guid.into(),
            guid_derived: false,
            url: url.map(Into::into),
            raw_url: None,
            title: title.into(),
            text: text.into(),
            published: None,
            language: None,
            seen_at: "2023-02-22T12:00:00Z".parse().unwrap(),
        }
    }

    /// An in-memory index, to test the decision apart from any store.
    #[derive(Default)]
    struct MemIndex {
        guids: HashMap<(String, String), StoryId>,
        urls: HashMap<String, StoryId>,
        hashes: HashMap<[u8; 32], StoryId>,
        bands: RecentBands,
        sigs: HashMap<StoryId, (Signature, DateTime<Utc>)>,
    }

    impl MemIndex {
        fn add(&mut self, id: StoryId, c: &Candidate) {
            let fp = Fingerprint::of(c);
            self.guids.insert((c.feed.clone(), c.guid.clone()), id);
            if let Some(u) = &c.url {
                self.urls.insert(u.clone(), id);
            }
            self.hashes.insert(fp.content_hash, id);
            if let Some(s) = fp.signature {
                self.bands
                    .insert(id, c.published.unwrap_or(c.seen_at), c.seen_at, &s);
                self.sigs.insert(id, (s, c.published.unwrap_or(c.seen_at)));
            }
        }
    }

    impl DedupIndex for MemIndex {
        type Error = ();
        fn story_by_guid(&self, f: &str, g: &str) -> Result<Option<StoryId>, ()> {
            Ok(self.guids.get(&(f.to_string(), g.to_string())).copied())
        }
        fn story_by_url(&self, u: &str) -> Result<Option<StoryId>, ()> {
            Ok(self.urls.get(u).copied())
        }
        fn story_by_content_hash(&self, h: &[u8; 32]) -> Result<Option<StoryId>, ()> {
            Ok(self.hashes.get(h).copied())
        }
        fn stories_in_band(&self, _: u8, k: u64) -> Result<Vec<BandMember>, ()> {
            Ok(self.bands.members(k))
        }
        fn signature(&self, id: StoryId) -> Result<Option<(Signature, DateTime<Utc>)>, ()> {
            Ok(self.sigs.get(&id).copied())
        }
    }

    const WIRE: &str =
        "China's top diplomat Wang Yi met Russian President Vladimir Putin in Moscow on \
        Wednesday, days before the anniversary of the invasion of Ukraine. Putin said relations \
        between the two countries were reaching new frontiers, while Wang said ties were as solid \
        as a rock and would not bow to pressure from third countries.";

    #[test]
    fn syndicated_copy_with_small_edits_is_a_near_duplicate() {
        let mut idx = MemIndex::default();
        idx.add(
            1,
            &cand(
                "a",
                "1",
                Some("https://a.example/x"),
                "Wang Yi meets Putin in Moscow",
                WIRE,
            ),
        );
        let edited = WIRE
            .replace("Wednesday", "Wednesday (Feb. 22)")
            .replace("would not bow", "will not bow");
        let c = cand(
            "b",
            "zz",
            Some("https://b.example/y"),
            "China's Wang meets Putin in Moscow",
            &edited,
        );
        let m = find_match(&idx, &c, &Fingerprint::of(&c)).unwrap();
        match m {
            Some((1, MatchKind::NearDuplicate { similarity })) => {
                assert!(similarity >= NEAR_DUPLICATE_THRESHOLD)
            }
            other => panic!("expected near duplicate of 1, got {other:?}"),
        }
    }

    #[test]
    fn the_same_text_weeks_apart_is_not_a_near_duplicate() {
        let mut idx = MemIndex::default();
        let mut first = cand(
            "a",
            "1",
            Some("https://a.example/apr"),
            "Markets: live updates",
            WIRE,
        );
        first.published = Some("2020-04-28T04:00:00Z".parse().unwrap());
        idx.add(1, &first);
        let mut later = cand(
            "a",
            "2",
            Some("https://a.example/jun"),
            "Markets rally: live updates",
            WIRE,
        );
        later.published = Some("2020-06-16T09:00:00Z".parse().unwrap());
        later.text.push_str(" Updated.");
        assert_eq!(
            find_match(&idx, &later, &Fingerprint::of(&later)).unwrap(),
            None
        );
        later.published = Some("2020-04-29T09:00:00Z".parse().unwrap());
        assert!(matches!(
            find_match(&idx, &later, &Fingerprint::of(&later)).unwrap(),
            Some((1, MatchKind::NearDuplicate { .. }))
        ));
    }

    #[test]
    fn different_stories_on_the_same_topic_are_not_duplicates() {
        let mut idx = MemIndex::default();
        idx.add(
            1,
            &cand("a", "1", None, "Wang Yi meets Putin in Moscow", WIRE),
        );
        let other = "Russian Foreign Minister Sergey Lavrov met China's top diplomat Wang Yi in Moscow \
            on Tuesday. Lavrov told Wang that Moscow valued Beijing's balanced position on the war in \
            Ukraine, and the two discussed a peace plan Beijing is expected to publish this week.";
        let c = cand("b", "2", None, "Lavrov hosts Wang Yi", other);
        assert_eq!(find_match(&idx, &c, &Fingerprint::of(&c)).unwrap(), None);
    }

    #[test]
    fn exact_checks_come_first_in_order() {
        let mut idx = MemIndex::default();
        let orig = cand("a", "g1", Some("https://a.example/x"), "Title", WIRE);
        idx.add(7, &orig);
        let same_guid = cand("a", "g1", Some("https://other/"), "New title", "new text");
        assert_eq!(
            find_match(&idx, &same_guid, &Fingerprint::of(&same_guid)).unwrap(),
            Some((7, MatchKind::Guid))
        );
        let same_url = cand("b", "g9", Some("https://a.example/x"), "Other", "short");
        assert_eq!(
            find_match(&idx, &same_url, &Fingerprint::of(&same_url)).unwrap(),
            Some((7, MatchKind::Url))
        );
        let same_text = cand("c", "g8", None, "TITLE", &WIRE.to_uppercase());
        assert_eq!(
            find_match(&idx, &same_text, &Fingerprint::of(&same_text)).unwrap(),
            Some((7, MatchKind::Content))
        );
    }

    #[test]
    fn short_texts_are_not_compared_by_similarity() {
        let c = cand("a", "1", None, "Putin meets Wang", "In Moscow.");
        assert!(Fingerprint::of(&c).signature.is_none());
    }

    #[test]
    fn could_match_agrees_with_each_check_of_find_match() {
        let base = cand(
            "a",
            "1",
            Some("https://a.example/x"),
            "Wang Yi meets Putin",
            WIRE,
        );
        let fp = |c: &Candidate| Fingerprint::of(c);
        let kept = MatchKeys::of(&base, &fp(&base));
        let check = |c: &Candidate| {
            let told = could_match(c, &fp(c), &base, &fp(&base));
            assert_eq!(
                kept.could_match(c, &fp(c)),
                told,
                "MatchKeys and could_match"
            );
            told
        };
        let mut same_guid = cand("a", "1", None, "Retitled", "Other text");
        assert!(check(&same_guid));
        same_guid.feed = "b".into();
        assert!(!check(&same_guid), "a GUID counts only within its feed");
        assert!(check(&cand(
            "b",
            "2",
            Some("https://a.example/x"),
            "T",
            "X"
        )));
        assert!(check(&cand("b", "2", None, "Wang Yi meets Putin", WIRE)));
        let reworded = WIRE.replace("Wednesday", "Thursday");
        let mut copy = cand("b", "2", None, "Wang Yi meets Putin", &reworded);
        assert!(check(&copy));
        copy.published = Some(base.seen_at + chrono::Duration::days(10));
        assert!(!check(&copy), "outside the window");
        assert!(!check(&cand(
            "b",
            "2",
            None,
            "Something else",
            "Unrelated text."
        )));
        let mut idx = MemIndex::default();
        idx.add(1, &base);
        let reworded = cand("b", "2", None, "Wang Yi meets Putin", &reworded);
        assert!(find_match(&idx, &reworded, &fp(&reworded))
            .unwrap()
            .is_some());
    }

    #[test]
    fn stories_outside_the_window_are_passed_over_unread() {
        struct NoSignatures(BandMember);
        impl DedupIndex for NoSignatures {
            type Error = ();
            fn story_by_guid(&self, _: &str, _: &str) -> Result<Option<StoryId>, ()> {
                Ok(None)
            }
            fn story_by_url(&self, _: &str) -> Result<Option<StoryId>, ()> {
                Ok(None)
            }
            fn story_by_content_hash(&self, _: &[u8; 32]) -> Result<Option<StoryId>, ()> {
                Ok(None)
            }
            fn stories_in_band(&self, _: u8, _: u64) -> Result<Vec<BandMember>, ()> {
                Ok(vec![self.0])
            }
            fn signature(&self, _: StoryId) -> Result<Option<(Signature, DateTime<Utc>)>, ()> {
                panic!("a story outside the window must not be read")
            }
        }
        let c = cand("a", "1", None, "Wang Yi meets Putin", WIRE);
        let fp = Fingerprint::of(&c);
        let old = BandMember {
            id: 7,
            published: c.seen_at - chrono::Duration::days(30),
        };
        assert_eq!(find_match(&NoSignatures(old), &c, &fp), Ok(None));
    }

    fn words(numbers: impl Iterator<Item = u32>) -> Words {
        let mut w = Words::default();
        w.push_text(&numbers.map(|i| format!("w{i} ")).collect::<String>());
        w
    }

    /// The fingerprint as first written (a `String` per word). Stored signatures and
    /// hashes must stay comparable with new ones, so the current code must agree with it.
    fn reference_fingerprint(c: &Candidate) -> Fingerprint {
        fn words(text: &str) -> Vec<String> {
            text.split_whitespace()
                .map(|w| {
                    w.trim_matches(|c: char| !c.is_alphanumeric())
                        .to_lowercase()
                })
                .filter(|w| !w.is_empty())
                .collect()
        }
        let (title, text) = (words(&c.title), words(&c.text));
        let mut h = Sha256::new();
        for w in title.iter().chain([&String::new()]).chain(&text) {
            h.update(w.as_bytes());
            h.update(b" ");
        }
        let all = [title, text].concat();
        let mut shingles: Vec<u64> = all
            .windows(SHINGLE_WORDS)
            .map(|w| {
                let mut h =
                    SipHasher13::new_with_keys(0x7469_6469_6e67_7321, 0x7368_696e_676c_6573);
                for word in w {
                    h.write(word.as_bytes());
                    h.write_u8(0xff);
                }
                h.finish()
            })
            .collect();
        shingles.sort_unstable();
        shingles.dedup();
        Fingerprint {
            content_hash: h.finalize().into(),
            signature: minhash_of_shingles(&shingles),
        }
    }

    #[test]
    fn fingerprints_match_the_reference_on_every_shape_of_input() {
        let texts = [
            ("", ""),
            ("Only a title", ""),
            ("", WIRE),
            ("Wang Yi meets Putin", WIRE),
            (
                "ΟΔΥΣΣΕΥΣ in Ελλάδα — «Σύνοδος»",
                "Ο ΠΡΩΘΥΠΟΥΡΓΟΣ συναντήθηκε με τον ΠΡΟΕΔΡΟ ΟΔΥΣΣΕΑΣ. Émile Zoë ÇA İstanbul \
                 straße ǅemal (Moscow) ... -- \u{a0} \"quoted\" words, numbers 1,234 and 5.6%; \
                 Ὀδυσσεύς ΣΑΣ ΝΑΣ again and again and again with more words to make shingles",
            ),
        ];
        for (title, text) in texts {
            let c = cand("a", "1", None, title, text);
            assert_eq!(Fingerprint::of(&c), reference_fingerprint(&c), "{title:?}");
        }
    }

    #[test]
    fn similarity_tracks_jaccard() {
        let a = minhash(&words(0..200)).unwrap();
        assert_eq!(similarity(&a, &a), 1.0);
        assert!(similarity(&a, &minhash(&words(1000..1200)).unwrap()) < 0.1);
        // Replace the second half: true shingle Jaccard is about 1/3.
        let s = similarity(&a, &minhash(&words((0..100).chain(5000..5100))).unwrap());
        assert!((0.15..0.55).contains(&s), "{s}");
    }
}
