//! Text preparation for matching: case and diacritic folding that remembers where every
//! folded byte came from, the phrase matcher that runs on folded text, and sentence
//! splitting.
//!
//! Matching runs on the folded text ("Erdoğan" → "erdogan", "Élysée" → "elysee",
//! "’" → "'"), and every match is mapped back to a span of the original text, so evidence
//! quotes the story exactly. Folding also notes where phrases may start (word starts,
//! with a hash of each first word), once for all the matchers that search the text.

use std::ops::Range;

use icu_normalizer::DecomposingNormalizerBorrowed;
use icu_properties::props::GeneralCategory;
use icu_properties::CodePointMapData;

/// Lower-cased, diacritic-free text with a map back to the original.
#[derive(Debug, Clone)]
pub struct Folded {
    pub text: String,
    /// `origin[i]` is the byte offset in the original of folded byte `i`; one extra entry
    /// maps the end.
    origin: Vec<u32>,
    /// Where phrases may start, found once for all the matchers run over the text.
    starts: Vec<PhraseStart>,
}

impl Folded {
    /// Where a whole word of the folded text is one of `words` (folded, each a run of
    /// word bytes): the word's index in `words` and its folded span, in text order.
    /// Uses the word starts and hashes noted when folding, so no byte is read twice.
    pub fn whole_words(&self, words: &[String]) -> Vec<(usize, Range<usize>)> {
        let hashes: Vec<u32> = words
            .iter()
            .map(|w| FirstWord::of(w.as_bytes()).0)
            .collect();
        let bytes = self.text.as_bytes();
        let mut out = Vec::new();
        for s in self.starts.iter().filter(|s| s.word_len > 0) {
            let range = s.at as usize..(s.at + s.word_len) as usize;
            if let Some(i) = (0..words.len())
                .find(|&i| hashes[i] == s.hash && &bytes[range.clone()] == words[i].as_bytes())
            {
                out.push((i, range));
            }
        }
        out
    }

    /// The original byte range of the folded range `start..end`.
    pub fn original(&self, range: Range<usize>) -> Range<usize> {
        let start = self.origin[range.start] as usize;
        // The end maps to the start of the byte after the last folded byte's source char.
        let end = if range.end == 0 {
            0
        } else {
            let last = self.origin[range.end - 1] as usize;
            let next = self.origin[range.end] as usize;
            if next > last {
                next
            } else {
                last + 1
            }
        };
        start..end
    }
}

impl Folded {
    /// The folded offset where original byte offset `at` begins.
    pub fn folded_offset(&self, at: usize) -> usize {
        self.origin.partition_point(|&o| (o as usize) < at)
    }
}

/// Folds `original`: lower case, diacritics removed, typographic quotes and dashes made
/// plain.
pub fn fold(original: &str) -> Folded {
    let mut text = String::with_capacity(original.len());
    let mut origin = Vec::with_capacity(original.len() + 1);
    let push = |text: &mut String, origin: &mut Vec<u32>, c: char, at: usize| {
        let before = text.len();
        text.push(c);
        origin.extend(std::iter::repeat_n(at as u32, text.len() - before));
    };
    let bytes = original.as_bytes();
    let mut at = 0;
    while at < bytes.len() {
        if bytes[at].is_ascii() {
            // A run of ASCII folds byte for byte.
            let end = ascii_run_end(bytes, at);
            let from = text.len();
            text.push_str(&original[at..end]);
            text[from..].make_ascii_lowercase();
            origin.extend(at as u32..end as u32);
            at = end;
            continue;
        }
        let c = original[at..].chars().next().expect("a char starts here");
        // The rest of this iteration maps what `c` folds to back to `at`; the loop goes on
        // after it.
        let next = at + c.len_utf8();
        match c {
            '\u{2018}' | '\u{2019}' | '\u{02bc}' | '\u{2032}' => {
                push(&mut text, &mut origin, '\'', at)
            }
            '\u{201c}' | '\u{201d}' | '\u{201e}' => push(&mut text, &mut origin, '"', at),
            '\u{2010}' | '\u{2011}' | '\u{2013}' | '\u{2014}' => {
                push(&mut text, &mut origin, '-', at)
            }
            '\u{a0}' | '\u{2009}' | '\u{202f}' => push(&mut text, &mut origin, ' ', at),
            'ı' => push(&mut text, &mut origin, 'i', at),
            'ł' | 'Ł' => push(&mut text, &mut origin, 'l', at),
            'ø' | 'Ø' => push(&mut text, &mut origin, 'o', at),
            'đ' | 'Đ' => push(&mut text, &mut origin, 'd', at),
            'ß' => {
                push(&mut text, &mut origin, 's', at);
                push(&mut text, &mut origin, 's', at);
            }
            _ => {
                let gc = CodePointMapData::<GeneralCategory>::new();
                for d in DecomposingNormalizerBorrowed::new_nfd().normalize_iter(std::iter::once(c))
                {
                    if gc.get(d) == GeneralCategory::NonspacingMark {
                        continue;
                    }
                    for l in d.to_lowercase() {
                        push(&mut text, &mut origin, l, at);
                    }
                }
            }
        }
        at = next;
    }
    origin.push(original.len() as u32);
    let starts = phrase_starts(text.as_bytes());
    Folded {
        text,
        origin,
        starts,
    }
}

/// Where the run of ASCII bytes from `at` ends: stories are mostly ASCII, so eight bytes
/// are tested at a time.
fn ascii_run_end(bytes: &[u8], mut at: usize) -> usize {
    while let Some(chunk) = bytes.get(at..at + 8) {
        let word = u64::from_le_bytes(chunk.try_into().expect("eight bytes"));
        if word & 0x8080_8080_8080_8080 != 0 {
            break;
        }
        at += 8;
    }
    at + bytes[at..]
        .iter()
        .position(|b| !b.is_ascii())
        .unwrap_or(bytes.len() - at)
}

/// Whether a byte of folded text belongs to a word (letters, digits, any non-ASCII).
pub const fn is_word_byte(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b >= 0x80
}

/// A set of folded phrases, matched at word starts (see [`PhraseMatcher::find`]).
pub struct PhraseMatcher {
    /// Used directly rather than through `AhoCorasick`, whose searches go through a
    /// trait object: the walk below inlines each step of the automaton.
    automaton: aho_corasick::dfa::DFA,
    /// The automaton's anchored start state.
    start: aho_corasick::automaton::StateID,
    /// Which first words (hashed, see [`FirstWord`]) some phrase starts with: most words
    /// start no phrase and are skipped without a search.
    first_words: Box<[u64; 1024]>,
    /// Whether some phrase starts with an apostrophe ("'s"); only then are apostrophes
    /// searched.
    apostrophe_phrases: bool,
    /// For each phrase, the other phrases that are prefixes of it, longest first, with
    /// their lengths: one search at a start finds the longest match and these give the
    /// shorter ones.
    shorter: Vec<Vec<(usize, usize)>>,
    /// The phrases' first words, each with the automaton's state after it and the bytes
    /// that follow it in the phrases: a walk starts there instead of stepping through the
    /// word's bytes again, or is not needed at all.
    after_first_word: FirstWordStates,
}

impl PhraseMatcher {
    pub fn new<P: AsRef<str>>(phrases: &[P]) -> Result<PhraseMatcher, aho_corasick::BuildError> {
        use aho_corasick::automaton::Automaton;
        let automaton = aho_corasick::dfa::DFA::builder()
            .match_kind(aho_corasick::MatchKind::LeftmostLongest)
            .start_kind(aho_corasick::StartKind::Anchored)
            .build(phrases.iter().map(|p| p.as_ref()))?;
        let start = automaton
            .start_state(aho_corasick::Anchored::Yes)
            .expect("an automaton built for anchored searches has an anchored start state");
        let mut first_words = Box::new([0u64; 1024]);
        let mut apostrophe_phrases = false;
        for p in phrases {
            let b = p.as_ref().as_bytes();
            if b.first().is_some_and(|&b| is_word_byte(b)) {
                let mut word = FirstWord::default();
                for &b in b.iter().take_while(|&&b| is_word_byte(b)) {
                    word.push(b);
                }
                set_bit(&mut first_words, word.index());
            } else if b.first() == Some(&b'\'') {
                apostrophe_phrases = true;
            }
        }
        let index: std::collections::HashMap<&str, usize> = phrases
            .iter()
            .enumerate()
            .map(|(i, p)| (p.as_ref(), i))
            .collect();
        let after_first_word = FirstWordStates::new(&automaton, start, phrases);
        let shorter = phrases
            .iter()
            .map(|p| {
                let p = p.as_ref();
                let mut found: Vec<(usize, usize)> = p
                    .char_indices()
                    .skip(1)
                    .filter_map(|(k, _)| index.get(&p[..k]).map(|&i| (i, k)))
                    .collect();
                found.reverse();
                found
            })
            .collect();
        Ok(PhraseMatcher {
            automaton,
            start,
            first_words,
            apostrophe_phrases,
            shorter,
            after_first_word,
        })
    }

    /// The longest phrase starting at `start`, as (pattern, length): an anchored
    /// leftmost-longest walk of the automaton until it can match no further.
    fn longest_at(&self, bytes: &[u8], start: usize) -> Option<(usize, usize)> {
        self.longest_from(bytes, start, 0, self.start)
    }

    /// [`PhraseMatcher::longest_at`] for a start whose first word is
    /// `bytes[start..start + len]` (hashed `hash`), from the state after that word. A
    /// phrase that ends inside the word could not end on a word boundary, so it is no
    /// loss that the walk does not see it; a word that begins no phrase has no match.
    fn longest_after_word(
        &self,
        bytes: &[u8],
        start: usize,
        len: usize,
        hash: FirstWord,
    ) -> Option<(usize, usize)> {
        let word = &bytes[start..start + len];
        let slot = self.after_first_word.get(hash, word)?;
        // Most words go on in a way no phrase does ("foreign policy" against "foreign
        // minister"): the two bytes after the word say so without a walk, unless some
        // phrase is the word and one byte more.
        let after = start + len;
        if !slot.one_byte_more {
            if let Some(&[b1, b2]) = bytes.get(after..after + 2) {
                if slot.next_two & FirstWordSlot::bit(b1, b2) == 0 {
                    return slot.match_here.map(|pattern| (pattern, len));
                }
            }
        }
        self.longest_from(bytes, start, len, slot.state)
    }

    /// The walk of [`PhraseMatcher::longest_at`] from state `sid`, reached after `done`
    /// bytes from `start`.
    fn longest_from(
        &self,
        bytes: &[u8],
        start: usize,
        done: usize,
        mut sid: aho_corasick::automaton::StateID,
    ) -> Option<(usize, usize)> {
        use aho_corasick::automaton::Automaton;
        let dfa = &self.automaton;
        let mut found = dfa
            .is_match(sid)
            .then(|| (dfa.match_pattern(sid, 0).as_usize(), done));
        for (i, &b) in bytes[start + done..].iter().enumerate() {
            sid = dfa.next_state(aho_corasick::Anchored::Yes, sid, b);
            if dfa.is_special(sid) {
                if dfa.is_dead(sid) {
                    break;
                }
                if dfa.is_match(sid) {
                    found = Some((dfa.match_pattern(sid, 0).as_usize(), done + i + 1));
                }
            }
        }
        found
    }

    /// Finds phrases that start at a word start of `folded.text` and end on a word
    /// boundary. At each start, matches are offered to `accept` longest first, as (start,
    /// end, pattern); when it returns true the shorter ones at that start are skipped.
    /// Only word starts whose whole first word begins some phrase are searched (the
    /// starts come from [`fold`], shared by every matcher), with one short anchored walk.
    pub fn find(&self, folded: &Folded, accept: impl FnMut(usize, usize, usize) -> bool) {
        phrases_at_word_starts(self, folded, accept)
    }
}

fn set_bit(bits: &mut [u64; 1024], i: usize) {
    bits[i >> 6] |= 1 << (i & 63);
}

fn bit(bits: &[u64; 1024], i: usize) -> bool {
    bits[i >> 6] & (1 << (i & 63)) != 0
}

/// A hash of a run of word bytes, built a byte at a time (FNV-1a), for the first-word
/// filter and [`FirstWordStates`].
///
/// The filter is exact for word starts: a phrase that matches at a word start and ends
/// on a word boundary either is the text's whole first word or continues past it with
/// the non-word byte that ends it, so its own first run of word bytes is that word.
/// Words that begin no phrase ("they", "there" against "the hague") are skipped.
#[derive(Clone, Copy, PartialEq, Eq)]
struct FirstWord(u32);

impl Default for FirstWord {
    fn default() -> FirstWord {
        FirstWord(0x811c_9dc5)
    }
}

impl FirstWord {
    fn push(&mut self, b: u8) {
        self.0 = (self.0 ^ b as u32).wrapping_mul(0x0100_0193);
    }

    /// The hash's 16-bit index into a filter.
    fn index(&self) -> usize {
        (self.0 ^ (self.0 >> 16)) as usize & 0xffff
    }

    /// The hash of a whole word.
    fn of(word: &[u8]) -> FirstWord {
        let mut hash = FirstWord::default();
        for &b in word {
            hash.push(b);
        }
        hash
    }
}

/// The automaton's state after each phrase's first word (its leading run of word
/// bytes), and what follows the word in the phrases, in an open-addressing table keyed by the word's [`FirstWord`] hash; the words
/// themselves are kept to tell apart words of the same hash.
struct FirstWordStates {
    /// Power-of-two length; `None` is an empty slot.
    slots: Vec<Option<FirstWordSlot>>,
    /// The words, end to end (`FirstWordSlot::word` indexes it).
    words: Vec<u8>,
}

#[derive(Clone)]
struct FirstWordSlot {
    hash: FirstWord,
    word: Range<u32>,
    state: aho_corasick::automaton::StateID,
    /// The phrase the word itself is, as the automaton reports it at `state`.
    match_here: Option<usize>,
    /// Whether some phrase is the word and one byte more ("jr.").
    one_byte_more: bool,
    /// The two bytes after the word in the phrases longer than that ([`Self::bit`]): a
    /// text whose next two bytes are not among them matches no longer phrase.
    next_two: u128,
}

impl FirstWordSlot {
    /// The bit of [`FirstWordSlot::next_two`] for the two bytes after a word.
    fn bit(b1: u8, b2: u8) -> u128 {
        1 << ((b1 as usize * 37 + b2 as usize) & 127)
    }
}

impl FirstWordStates {
    fn new<P: AsRef<str>>(
        dfa: &aho_corasick::dfa::DFA,
        start: aho_corasick::automaton::StateID,
        phrases: &[P],
    ) -> FirstWordStates {
        use aho_corasick::automaton::Automaton;
        // Each first word with what follows it in its phrases: (one byte more, next two).
        let mut after: std::collections::HashMap<&[u8], (bool, u128)> =
            std::collections::HashMap::new();
        for p in phrases {
            let b = p.as_ref().as_bytes();
            let len = b.iter().take_while(|&&b| is_word_byte(b)).count();
            if len == 0 {
                continue;
            }
            let (one_byte_more, next_two) = after.entry(&b[..len]).or_default();
            match b[len..] {
                [_] => *one_byte_more = true,
                [b1, b2, ..] => *next_two |= FirstWordSlot::bit(b1, b2),
                [] => {}
            }
        }
        let mut distinct: Vec<&[u8]> = after.keys().copied().collect();
        distinct.sort_unstable();
        let mut table = FirstWordStates {
            slots: vec![None; (distinct.len() * 2).next_power_of_two().max(1)],
            words: Vec::new(),
        };
        let mask = table.slots.len() - 1;
        for w in distinct {
            let state = w.iter().fold(start, |sid, &b| {
                dfa.next_state(aho_corasick::Anchored::Yes, sid, b)
            });
            let hash = FirstWord::of(w);
            let from = table.words.len() as u32;
            table.words.extend_from_slice(w);
            let mut i = hash.0 as usize & mask;
            while table.slots[i].is_some() {
                i = (i + 1) & mask;
            }
            let (one_byte_more, next_two) = after[w];
            table.slots[i] = Some(FirstWordSlot {
                hash,
                word: from..table.words.len() as u32,
                state,
                match_here: dfa
                    .is_match(state)
                    .then(|| dfa.match_pattern(state, 0).as_usize()),
                one_byte_more,
                next_two,
            });
        }
        table
    }

    /// What follows `word` (hashed `hash`) in the phrases, if some phrase starts with it.
    fn get(&self, hash: FirstWord, word: &[u8]) -> Option<&FirstWordSlot> {
        let mask = self.slots.len() - 1;
        let mut i = hash.0 as usize & mask;
        while let Some(slot) = &self.slots[i] {
            if slot.hash == hash
                && &self.words[slot.word.start as usize..slot.word.end as usize] == word
            {
                return Some(slot);
            }
            i = (i + 1) & mask;
        }
        None
    }
}

/// A place where a phrase may start: a word start, with its first word's length and
/// hash, or an apostrophe (length 0).
#[derive(Debug, Clone, Copy)]
struct PhraseStart {
    at: u32,
    /// The length of the first word; 0 for an apostrophe.
    word_len: u32,
    hash: u32,
}

/// The word starts and apostrophes of folded text, in order. Both are char boundaries: a
/// word start's byte follows a non-word (ASCII) byte, so it is never a UTF-8
/// continuation byte. Each word is hashed as it is skipped.
fn phrase_starts(bytes: &[u8]) -> Vec<PhraseStart> {
    let mut starts = Vec::with_capacity(bytes.len() / 4);
    let mut at = 0;
    while at < bytes.len() {
        let b = bytes[at];
        if !WORD_BYTES[b as usize] {
            if b == b'\'' {
                starts.push(PhraseStart {
                    at: at as u32,
                    word_len: 0,
                    hash: 0,
                });
            }
            at += 1;
            continue;
        }
        let start = at;
        let mut word = FirstWord::default();
        while at < bytes.len() && WORD_BYTES[bytes[at] as usize] {
            word.push(bytes[at]);
            at += 1;
        }
        starts.push(PhraseStart {
            at: start as u32,
            word_len: (at - start) as u32,
            hash: word.0,
        });
    }
    starts
}

fn phrases_at_word_starts(
    matcher: &PhraseMatcher,
    folded: &Folded,
    mut accept: impl FnMut(usize, usize, usize) -> bool,
) {
    let bytes = folded.text.as_bytes();
    for s in &folded.starts {
        // Only words that begin some phrase, and apostrophes if a phrase starts with one.
        let start = s.at as usize;
        let longest = if s.word_len == 0 {
            if !matcher.apostrophe_phrases {
                continue;
            }
            matcher.longest_at(bytes, start)
        } else {
            let hash = FirstWord(s.hash);
            if !bit(&matcher.first_words, hash.index()) {
                continue;
            }
            matcher.longest_after_word(bytes, start, s.word_len as usize, hash)
        };
        let Some((longest, longest_len)) = longest else {
            continue;
        };
        let candidates =
            std::iter::once((longest, longest_len)).chain(matcher.shorter[longest].iter().copied());
        for (pattern, len) in candidates {
            let end = start + len;
            if (end == bytes.len() || !is_word_byte(bytes[end]) || !is_word_byte(bytes[end - 1]))
                && accept(start, end, pattern)
            {
                break;
            }
        }
    }
}

/// [`is_word_byte`] of every byte, for the scan over word starts.
static WORD_BYTES: [bool; 256] = {
    let mut table = [false; 256];
    let mut b = 0;
    while b < 256 {
        table[b] = is_word_byte(b as u8);
        b += 1;
    }
    table
};

/// Abbreviations after which a full stop does not end a sentence (folded, without the dot).
const ABBREVIATIONS: &[&str] = &[
    "mr", "mrs", "ms", "dr", "prof", "gen", "lt", "col", "maj", "capt", "sgt", "adm", "sen", "rep",
    "gov", "pres", "st", "mt", "jr", "sr", "no", "vs", "etc", "inc", "ltd", "co", "corp", "jan",
    "feb", "mar", "apr", "jun", "jul", "aug", "sep", "sept", "oct", "nov", "dec", "u.s", "u.n",
    "u.k", "e.u", "a.m", "p.m", "approx", "est", "dept", "sec", "amb", "rev", "hon", "fr",
];

/// Sentence byte ranges of `text`: ends at `.`, `!` or `?` followed by space and a capital,
/// digit or quote (not after a known abbreviation or a single initial), and at blank lines.
pub fn sentences(text: &str) -> Vec<Range<usize>> {
    let bytes = text.as_bytes();
    let mut out = Vec::new();
    let mut start = 0;
    let mut i = 0;
    let mut ends = NextEnds::new(text);
    while i < bytes.len() {
        // Only these bytes can end a sentence: go straight to the next one.
        match ends.first_from(i) {
            Some(next) => i = next,
            None => break,
        }
        let b = bytes[i];
        let boundary_end = if b == b'\n' && bytes.get(i + 1) == Some(&b'\n') {
            Some(i)
        } else if matches!(b, b'.' | b'!' | b'?') && ends_sentence(text, start, i) {
            // Keep closing quotes and brackets with the sentence.
            let mut j = i + 1;
            while j < bytes.len() && matches!(bytes[j], b'"' | b'\'' | b')') {
                j += 1;
            }
            if text[j..].starts_with('\u{201d}') || text[j..].starts_with('\u{2019}') {
                j += 3;
            }
            Some(j)
        } else {
            None
        };
        if let Some(end) = boundary_end {
            push_trimmed(text, start..end, &mut out);
            start = end;
            i = end.max(i + 1);
            continue;
        }
        i += 1;
    }
    push_trimmed(text, start..text.len(), &mut out);
    if text.contains("==") {
        out = without_headings(text, out);
    }
    out
}

/// The sentences with section headings taken out of them: "…were unrelated. ==Responses==
/// Prime Minister Tony Blair has cancelled…" (text taken from a wiki page) holds the
/// heading "==Responses==", which is neither the end of one sentence nor the start of
/// the next. A heading is two or more "=", a title of at most 80 bytes on one line, and
/// as many "=".
fn without_headings(text: &str, sentences: Vec<Range<usize>>) -> Vec<Range<usize>> {
    let mut out = Vec::with_capacity(sentences.len() + 4);
    for r in sentences {
        let mut from = r.start;
        let mut at = r.start;
        while let Some(found) = text[at..r.end].find("==") {
            let open = at + found;
            let marks = text[open..r.end].bytes().take_while(|&b| b == b'=').count();
            let title_start = open + marks;
            let Some(close) = text[title_start..r.end]
                .find('=')
                .map(|i| title_start + i)
                .filter(|&c| c - title_start <= 80 && !text[title_start..c].contains('\n'))
            else {
                at = title_start;
                continue;
            };
            let closing = text[close..r.end]
                .bytes()
                .take_while(|&b| b == b'=')
                .count();
            if closing < 2 {
                at = close + closing;
                continue;
            }
            push_trimmed(text, from..open, &mut out);
            from = close + closing;
            at = from;
        }
        push_trimmed(text, from..r.end, &mut out);
    }
    out
}

/// The bytes that can end a sentence, each with its next offset in the text. Each is
/// looked for with `str::find`, which runs `memchr` over the text, and again only once
/// the scan has passed it: most are full stops, and "!", "?" and newlines are rare.
struct NextEnds<'a> {
    text: &'a str,
    /// The next offset of each of [`NextEnds::BYTES`] at or after the last scan position;
    /// `text.len()` when there is none.
    next: [usize; 4],
}

impl<'a> NextEnds<'a> {
    const BYTES: [char; 4] = ['.', '!', '?', '\n'];

    fn new(text: &'a str) -> NextEnds<'a> {
        NextEnds {
            text,
            next: Self::BYTES.map(|c| text.find(c).unwrap_or(text.len())),
        }
    }

    /// The first offset at or after `at` (a char boundary) of a byte that can end a
    /// sentence.
    fn first_from(&mut self, at: usize) -> Option<usize> {
        for (next, c) in self.next.iter_mut().zip(Self::BYTES) {
            if *next < at {
                *next = self.text[at..].find(c).map_or(self.text.len(), |p| at + p);
            }
        }
        self.next
            .iter()
            .copied()
            .min()
            .filter(|&n| n < self.text.len())
    }
}

fn push_trimmed(text: &str, r: Range<usize>, out: &mut Vec<Range<usize>>) {
    let s = &text[r.clone()];
    let lead = s.len() - s.trim_start().len();
    let trail = s.len() - s.trim_end().len();
    if lead + trail < s.len() {
        out.push(r.start + lead..r.end - trail);
    }
}

fn ends_sentence(text: &str, start: usize, dot: usize) -> bool {
    let rest = &text[dot + 1..];
    // Skip closing quotes, then require whitespace, then a sentence start.
    let rest = rest.trim_start_matches(['"', '\'', ')', '\u{201d}', '\u{2019}']);
    let Some(after_space) = rest.strip_prefix(|c: char| c.is_whitespace()) else {
        return rest.is_empty();
    };
    let next = after_space.trim_start().chars().next();
    if !next.is_some_and(|c| {
        c.is_uppercase()
            || c.is_ascii_digit()
            || matches!(c, '"' | '\'' | '\u{201c}' | '\u{2018}' | '(')
    }) {
        return false;
    }
    if text.as_bytes()[dot] != b'.' {
        return true;
    }
    // The word before the dot.
    let word_start = text[start..dot]
        .char_indices()
        .rev()
        .find(|(_, c)| c.is_whitespace() || *c == '(' || *c == '"')
        .map(|(p, c)| start + p + c.len_utf8())
        .unwrap_or(start);
    let word = &text[word_start..dot];
    let mut chars = word.chars();
    if chars.next().is_some_and(char::is_alphabetic) && chars.next().is_none() {
        return false; // an initial: "George W. Bush"
    }
    !ABBREVIATIONS.iter().any(|a| a.eq_ignore_ascii_case(word))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn folding_removes_case_and_diacritics_and_maps_back() {
        let original = "President Erdoğan met Élysée officials in Bogotá’s centre";
        let f = fold(original);
        assert_eq!(
            f.text,
            "president erdogan met elysee officials in bogota's centre"
        );
        let at = f.text.find("erdogan").unwrap();
        assert_eq!(&original[f.original(at..at + 7)], "Erdoğan");
        let at = f.text.find("elysee").unwrap();
        assert_eq!(&original[f.original(at..at + 6)], "Élysée");
        let at = f.text.find("bogota's").unwrap();
        assert_eq!(&original[f.original(at..at + 8)], "Bogotá’s");
    }

    #[test]
    fn ascii_runs_end_at_the_first_non_ascii_byte_at_any_offset() {
        for n in 0..20 {
            let text = format!("{}é and more text after it", "a".repeat(n));
            assert_eq!(ascii_run_end(text.as_bytes(), 0), n);
            assert_eq!(ascii_run_end(text.as_bytes(), n + 2), text.len());
        }
    }

    #[test]
    fn sentences_split_at_ends_but_not_abbreviations_or_initials() {
        let t = "U.S. Secretary of State Antony J. Blinken met Mr. Wang on Feb. 18 in Munich. \
                 They talked for an hour! Did they agree? \"No,\" an aide said.\n\nNew paragraph";
        let s: Vec<&str> = sentences(t).into_iter().map(|r| &t[r]).collect();
        assert_eq!(
            s,
            [
                "U.S. Secretary of State Antony J. Blinken met Mr. Wang on Feb. 18 in Munich.",
                "They talked for an hour!",
                "Did they agree?",
                "\"No,\" an aide said.",
                "New paragraph"
            ]
        );
    }

    #[test]
    fn section_headings_are_no_part_of_a_sentence() {
        let text = "Police said it was unrelated. ==Responses== Prime Minister Tony Blair has cancelled a visit. A == B is true.";
        let got: Vec<&str> = sentences(text).into_iter().map(|r| &text[r]).collect();
        assert_eq!(
            got,
            [
                "Police said it was unrelated.",
                "Prime Minister Tony Blair has cancelled a visit.",
                "A == B is true."
            ]
        );
        let text = "It ended.\n\n=== International reaction ===\nThe US welcomed it.";
        let got: Vec<&str> = sentences(text).into_iter().map(|r| &text[r]).collect();
        assert_eq!(got, ["It ended.", "The US welcomed it."]);
    }

    #[test]
    fn decimals_and_lower_case_continuations_do_not_split() {
        let t = "Growth was 2.5 percent. the rest follows";
        assert_eq!(sentences(t).len(), 1);
    }
}
