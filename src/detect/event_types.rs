//! Event types as data: loading and validating the TOML files under `config/events/`,
//! inflecting their verbs, and compiling every trigger and cue into one lexicon
//! automaton.

use std::collections::HashMap;
use std::path::Path;

use serde::Deserialize;

use super::text::{Folded, PhraseMatcher};
use crate::diagnostics::{invalid_at, parse_toml, ConfigError};

/// The embedded default event types and modality cues, as (file name, text).
pub const EMBEDDED_TYPES: [(&str, &str); 6] = [
    (
        "bilateral_meeting.toml",
        include_str!("../../config/events/bilateral_meeting.toml"),
    ),
    (
        "un_vote.toml",
        include_str!("../../config/events/un_vote.toml"),
    ),
    (
        "sanctions.toml",
        include_str!("../../config/events/sanctions.toml"),
    ),
    (
        "ceasefire.toml",
        include_str!("../../config/events/ceasefire.toml"),
    ),
    (
        "diplomatic_expulsion.toml",
        include_str!("../../config/events/diplomatic_expulsion.toml"),
    ),
    (
        "military_exercise.toml",
        include_str!("../../config/events/military_exercise.toml"),
    ),
];
pub const EMBEDDED_MODALITY: (&str, &str) = (
    "modality.toml",
    include_str!("../../config/events/modality.toml"),
);

/// What an event needs besides a trigger.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Shape {
    /// Exactly two states.
    Bilateral,
    /// Two or more states.
    Multilateral,
    /// One or more states.
    StateAction,
    /// An organisation from the type's list.
    Organization,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawEventType {
    id: String,
    description: String,
    shape: Shape,
    #[serde(default = "default_confidence")]
    confidence: f32,
    #[serde(default)]
    triggers: Vec<String>,
    #[serde(default)]
    verbs: Vec<String>,
    #[serde(default)]
    place_triggers: Vec<String>,
    #[serde(default)]
    place_verbs: Vec<String>,
    #[serde(default)]
    object_triggers: Vec<String>,
    #[serde(default)]
    exclude: Vec<String>,
    #[serde(default)]
    require_any: Vec<String>,
    #[serde(default)]
    organizations: Vec<String>,
    #[serde(default)]
    back_references: Vec<String>,
    #[serde(default)]
    tallies: Vec<String>,
    #[serde(default)]
    body_hints: std::collections::BTreeMap<String, Vec<String>>,
    #[serde(default)]
    planned_cues: Vec<String>,
    #[serde(default)]
    cancelled_cues: Vec<String>,
}

fn default_confidence() -> f32 {
    0.7
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct EventTypeFile {
    event_type: RawEventType,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ModalityFile {
    planned: Vec<String>,
    cancelled: Vec<String>,
    #[serde(default)]
    stances: Vec<String>,
}

/// A validated event type.
#[derive(Debug, Clone)]
pub struct EventType {
    pub id: String,
    pub description: String,
    pub shape: Shape,
    pub confidence: f32,
    /// Organisation codes or UN vote bodies that count (organization shape).
    pub organizations: Vec<String>,
    /// Whether the type lists `require_any` words.
    pub has_requirements: bool,
    /// Organs named by `body_hints`, in the order of [`Cue::BodyHint`]'s index.
    pub body_hints: Vec<String>,
    /// Where the type came from, for messages.
    pub origin: String,
}

/// What a lexicon phrase is, for which type.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Cue {
    Trigger(usize),
    /// A trigger after which places name the other state ("visited Brazil").
    PlaceTrigger(usize),
    /// A trigger that counts only with an official right after it.
    ObjectTrigger(usize),
    Exclude(usize),
    Require(usize),
    BackReference(usize),
    /// A vote count or outcome that can only refer to the last organisation named.
    Tally(usize),
    /// A word that says which organ a decision of the organisation as a whole was taken
    /// in: (type, index into the type's `body_hints`).
    BodyHint(usize, usize),
    Planned(Option<usize>),
    Cancelled(Option<usize>),
    /// A stance toward an event, not the event: "ready for talks", "urged Tehran to
    /// continue talks".
    Stance,
}

/// One lexicon phrase found in a text (folded byte span).
#[derive(Debug, Clone, PartialEq)]
pub struct CueHit<'a> {
    pub start: usize,
    pub end: usize,
    pub cues: &'a [Cue],
}

/// Every event type, and the automaton of their phrases.
pub struct EventTypes {
    pub types: Vec<EventType>,
    phrases: Vec<(String, Vec<Cue>)>,
    matcher: PhraseMatcher,
}

impl std::fmt::Debug for EventTypes {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("EventTypes")
            .field("types", &self.types)
            .field("phrases", &self.phrases.len())
            .finish()
    }
}

impl EventTypes {
    pub fn embedded() -> Result<EventTypes, ConfigError> {
        let types = EMBEDDED_TYPES
            .iter()
            .map(|(n, t)| (format!("<embedded config/events/{n}>"), t.to_string()))
            .collect();
        let modality = (
            format!("<embedded config/events/{}>", EMBEDDED_MODALITY.0),
            EMBEDDED_MODALITY.1.to_string(),
        );
        EventTypes::from_sources(types, modality)
    }

    /// Loads the listed event type files and the modality cue file.
    pub fn load(files: &[impl AsRef<Path>], modality: &Path) -> Result<EventTypes, ConfigError> {
        let read = |p: &Path| {
            std::fs::read_to_string(p)
                .map(|t| (p.display().to_string(), t))
                .map_err(|source| ConfigError::Read {
                    path: p.to_owned(),
                    source,
                })
        };
        let types = files
            .iter()
            .map(|p| read(p.as_ref()))
            .collect::<Result<Vec<_>, _>>()?;
        EventTypes::from_sources(types, read(modality)?)
    }

    /// Builds from (origin, text) of each type file and of the modality file.
    pub fn from_sources(
        types: Vec<(String, String)>,
        modality: (String, String),
    ) -> Result<EventTypes, ConfigError> {
        let mut phrases = PhraseSet::default();
        let cues: ModalityFile = parse_toml(&modality.1, &modality.0)?;
        for p in &cues.planned {
            phrases.add(p, Cue::Planned(None));
        }
        for p in &cues.cancelled {
            phrases.add(p, Cue::Cancelled(None));
        }
        for p in &cues.stances {
            phrases.add(p, Cue::Stance);
        }
        let mut out: Vec<EventType> = Vec::new();
        for (origin, text) in &types {
            let raw = parse_toml::<EventTypeFile>(text, origin)?.event_type;
            let locate = |needle: &str, message: String| {
                let pos = text.find(needle).unwrap_or(0);
                invalid_at(text, origin, pos..pos, message)
            };
            if raw.id.is_empty()
                || !raw
                    .id
                    .bytes()
                    .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_')
            {
                return Err(locate(
                    "id",
                    format!(
                        "event type id {:?} must be lower-case letters, digits and '_'",
                        raw.id
                    ),
                ));
            }
            if let Some(other) = out.iter().find(|t| t.id == raw.id) {
                return Err(locate(
                    "id",
                    format!(
                        "event type {:?} is already defined in {}",
                        raw.id, other.origin
                    ),
                ));
            }
            if raw.triggers.is_empty() && raw.verbs.is_empty() && raw.object_triggers.is_empty() {
                return Err(locate(
                    "[event_type]",
                    format!("event type {:?} has no triggers and no verbs", raw.id),
                ));
            }
            if !(0.0..=1.0).contains(&raw.confidence) {
                return Err(locate(
                    "confidence",
                    "confidence must be between 0.0 and 1.0".into(),
                ));
            }
            if raw.shape == Shape::Organization && raw.organizations.is_empty() {
                return Err(locate(
                    "shape",
                    format!(
                        "event type {:?} has shape \"organization\" but lists no organizations",
                        raw.id
                    ),
                ));
            }
            let i = out.len();
            for t in &raw.triggers {
                phrases.add(t, Cue::Trigger(i));
            }
            for v in &raw.verbs {
                for form in inflect(v) {
                    phrases.add(&form, Cue::Trigger(i));
                }
            }
            for v in &raw.object_triggers {
                for form in inflect(v) {
                    phrases.add(&form, Cue::ObjectTrigger(i));
                }
            }
            // A place trigger counts only for a visitor and a place; listed under
            // `triggers` or `verbs` too, it also counts for two officials.
            for t in &raw.place_triggers {
                phrases.add(t, Cue::PlaceTrigger(i));
            }
            for v in &raw.place_verbs {
                for form in inflect(v) {
                    phrases.add(&form, Cue::PlaceTrigger(i));
                }
            }
            for t in &raw.exclude {
                phrases.add(t, Cue::Exclude(i));
            }
            for t in &raw.require_any {
                phrases.add(t, Cue::Require(i));
            }
            for t in &raw.back_references {
                phrases.add(t, Cue::BackReference(i));
            }
            for t in &raw.tallies {
                phrases.add(t, Cue::Tally(i));
            }
            let mut body_hints = Vec::new();
            for (k, (body, words)) in raw.body_hints.iter().enumerate() {
                for w in words {
                    phrases.add(w, Cue::BodyHint(i, k));
                }
                body_hints.push(body.clone());
            }
            for t in &raw.planned_cues {
                phrases.add(t, Cue::Planned(Some(i)));
            }
            for t in &raw.cancelled_cues {
                phrases.add(t, Cue::Cancelled(Some(i)));
            }
            out.push(EventType {
                id: raw.id,
                description: raw.description,
                shape: raw.shape,
                confidence: raw.confidence,
                organizations: raw.organizations,
                has_requirements: !raw.require_any.is_empty(),
                body_hints,
                origin: origin.clone(),
            });
        }
        let matcher = PhraseMatcher::new(
            &phrases
                .list
                .iter()
                .map(|(p, _)| p.as_str())
                .collect::<Vec<_>>(),
        )
        .map_err(|e| ConfigError::Invalid {
            file: modality.0.clone(),
            line: 1,
            column: 1,
            message: format!("cannot build the event lexicon: {e}"),
        })?;
        Ok(EventTypes {
            types: out,
            phrases: phrases.list,
            matcher,
        })
    }

    /// Every lexicon phrase in the folded text, on word boundaries, overlaps kept.
    pub fn find(&self, folded: &Folded) -> Vec<CueHit<'_>> {
        let mut hits: Vec<CueHit<'_>> = Vec::new();
        self.matcher.find(folded, |start, end, p| {
            hits.push(CueHit {
                start,
                end,
                cues: &self.phrases[p].1,
            });
            false
        });
        hits.sort_by_key(|h| (h.start, h.end));
        hits
    }

    pub fn phrase_text<'a>(&self, folded: &'a Folded, hit: &CueHit) -> &'a str {
        &folded.text[hit.start..hit.end]
    }
}

#[derive(Default)]
struct PhraseSet {
    list: Vec<(String, Vec<Cue>)>,
    index: HashMap<String, usize>,
}

impl PhraseSet {
    fn add(&mut self, phrase: &str, cue: Cue) {
        let folded = super::text::fold(phrase.trim()).text;
        if folded.is_empty() {
            return;
        }
        let i = *self.index.entry(folded.clone()).or_insert_with(|| {
            self.list.push((folded, Vec::new()));
            self.list.len() - 1
        });
        if !self.list[i].1.contains(&cue) {
            self.list[i].1.push(cue);
        }
    }
}

/// English inflections of a verb entry: "visit" → visit, visits, visited, visiting;
/// "meet:met" gives the irregular past; in "hold talks:held" the first word is inflected.
pub fn inflect(entry: &str) -> Vec<String> {
    let (phrase, past) = match entry.split_once(':') {
        Some((p, past)) => (p.trim(), Some(past.trim())),
        None => (entry.trim(), None),
    };
    let (verb, rest) = match phrase.split_once(' ') {
        Some((v, r)) => (v, format!(" {r}")),
        None => (phrase, String::new()),
    };
    let v = verb.to_lowercase();
    let third = if v.ends_with('s')
        || v.ends_with('x')
        || v.ends_with('z')
        || v.ends_with("ch")
        || v.ends_with("sh")
        || v.ends_with('o')
    {
        format!("{v}es")
    } else if ends_consonant_y(&v) {
        format!("{}ies", &v[..v.len() - 1])
    } else {
        format!("{v}s")
    };
    // An explicit past form says how the entry is spelled; the -ing form then follows
    // the one-syllable rule alone.
    let doubling = match past {
        Some(_) if doubles_final_consonant(&v) => Doubling::Always,
        Some(_) => Doubling::Never,
        None => doubling_of(&v),
    };
    let last = &v[v.len().saturating_sub(1)..];
    let mut pasts: Vec<String> = Vec::new();
    match past {
        Some(p) => pasts.push(p.to_string()),
        None if v.ends_with('e') => pasts.push(format!("{v}d")),
        None if ends_consonant_y(&v) => pasts.push(format!("{}ied", &v[..v.len() - 1])),
        None => {
            if doubling != Doubling::Never {
                pasts.push(format!("{v}{last}ed"));
            }
            if doubling != Doubling::Always {
                pasts.push(format!("{v}ed"));
            }
        }
    }
    let mut gerunds: Vec<String> = Vec::new();
    if v.ends_with("ie") {
        gerunds.push(format!("{}ying", &v[..v.len() - 2]));
    } else if v.ends_with('e') && !v.ends_with("ee") {
        gerunds.push(format!("{}ing", &v[..v.len() - 1]));
    } else {
        if doubling != Doubling::Never {
            gerunds.push(format!("{v}{last}ing"));
        }
        if doubling != Doubling::Always {
            gerunds.push(format!("{v}ing"));
        }
    }
    let mut forms: Vec<String> = Vec::new();
    for f in [vec![v.clone(), third], pasts, gerunds].concat() {
        let f = format!("{f}{rest}");
        if !forms.contains(&f) {
            forms.push(f);
        }
    }
    forms
}

fn is_vowel(c: u8) -> bool {
    matches!(c, b'a' | b'e' | b'i' | b'o' | b'u')
}

fn ends_consonant_y(v: &str) -> bool {
    let b = v.as_bytes();
    b.len() >= 2 && b[b.len() - 1] == b'y' && !is_vowel(b[b.len() - 2])
}

/// Whether a verb doubles its final consonant before -ed and -ing.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Doubling {
    Always,
    Never,
    /// Spelling varies, or the stress decides and the spelling cannot tell: both forms
    /// ("travelled" and "traveled"; "expelled", and a harmless "expeled").
    Both,
}

/// One-syllable consonant-vowel-consonant verbs double the consonant (ban → banned);
/// longer ones ending in a single vowel and `l` double in British spelling and in
/// stressed endings (expel → expelled, travel → travelled or traveled), as do the
/// stressed endings -fer, -cur, -mit, -gret (confer → conferred, admit → admitted;
/// but limit → limited): for those both spellings are listed.
fn doubling_of(v: &str) -> Doubling {
    if doubles_final_consonant(v) {
        return Doubling::Always;
    }
    let b = v.as_bytes();
    if b.len() >= 4 {
        let (c1, vo, c2) = (b[b.len() - 3], b[b.len() - 2], b[b.len() - 1]);
        let cvc = !is_vowel(c1) && is_vowel(vo) && !is_vowel(c2);
        if cvc
            && (c2 == b'l'
                || v.ends_with("fer")
                || v.ends_with("cur")
                || v.ends_with("mit")
                || v.ends_with("gret"))
        {
            return Doubling::Both;
        }
    }
    Doubling::Never
}

/// One-syllable consonant-vowel-consonant verbs double the consonant: ban → banned.
fn doubles_final_consonant(v: &str) -> bool {
    let b = v.as_bytes();
    if b.len() < 3 {
        return false;
    }
    let (c1, vo, c2) = (b[b.len() - 3], b[b.len() - 2], b[b.len() - 1]);
    let vowel_groups = b
        .windows(2)
        .filter(|w| !is_vowel(w[0]) && is_vowel(w[1]))
        .count()
        + usize::from(is_vowel(b[0]));
    vowel_groups == 1
        && !is_vowel(c1)
        && is_vowel(vo)
        && !is_vowel(c2)
        && !matches!(c2, b'w' | b'x' | b'y')
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::detect::text::fold;

    #[test]
    fn verbs_are_inflected() {
        assert_eq!(inflect("visit"), ["visit", "visits", "visited", "visiting"]);
        assert_eq!(inflect("meet:met"), ["meet", "meets", "met", "meeting"]);
        assert_eq!(
            inflect("hold talks:held"),
            ["hold talks", "holds talks", "held talks", "holding talks"]
        );
        assert_eq!(
            inflect("receive"),
            ["receive", "receives", "received", "receiving"]
        );
        assert_eq!(inflect("veto"), ["veto", "vetoes", "vetoed", "vetoing"]);
        assert_eq!(inflect("ban"), ["ban", "bans", "banned", "banning"]);
        assert_eq!(inflect("pass"), ["pass", "passes", "passed", "passing"]);
        assert_eq!(
            inflect("apply"),
            ["apply", "applies", "applied", "applying"]
        );
        assert_eq!(
            inflect("expel"),
            [
                "expel",
                "expels",
                "expelled",
                "expeled",
                "expelling",
                "expeling"
            ]
        );
        let travel = inflect("travel to");
        for form in [
            "travelled to",
            "traveled to",
            "travelling to",
            "traveling to",
        ] {
            assert!(travel.contains(&form.to_string()), "{form} in {travel:?}");
        }
    }

    /// Every verb of the shipped event types gives its real past and -ing forms.
    #[test]
    fn every_shipped_verb_gets_its_real_forms() {
        // The forms a reader writes, for each verb the shipped types list. A verb added
        // to a shipped type must be added here too.
        let expected: &[(&str, &[&str])] = &[
            ("meet:met", &["meets", "met", "meeting"]),
            (
                "hold talks:held",
                &["holds talks", "held talks", "holding talks"],
            ),
            (
                "hold a meeting:held",
                &["held a meeting", "holding a meeting"],
            ),
            ("hold negotiations:held", &["held negotiations"]),
            ("hold discussions:held", &["held discussions"]),
            ("visit", &["visits", "visited", "visiting"]),
            ("sit down:sat", &["sat down", "sitting down"]),
            ("confer", &["confers", "conferred", "conferring"]),
            ("negotiate", &["negotiates", "negotiated", "negotiating"]),
            (
                "travel to:travelled",
                &["travels to", "travelled to", "traveling to"],
            ),
            ("fly to:flew", &["flies to", "flew to", "flying to"]),
            ("expel", &["expels", "expelled", "expelling"]),
            ("hold drills:held", &["held drills"]),
            ("hold exercises:held", &["held exercises"]),
            ("hold joint drills:held", &["held joint drills"]),
            ("talk with", &["talks with", "talked with", "talking with"]),
            (
                "hold a summit:held",
                &["holds a summit", "held a summit", "holding a summit"],
            ),
            (
                "hold their first summit:held",
                &["hold their first summit", "held their first summit"],
            ),
            (
                "hold their summit:held",
                &["holds their summit", "held their summit"],
            ),
            (
                "send an envoy to:sent",
                &[
                    "sends an envoy to",
                    "sent an envoy to",
                    "sending an envoy to",
                ],
            ),
            (
                "send a special envoy to:sent",
                &[
                    "sends a special envoy to",
                    "sent a special envoy to",
                    "sending a special envoy to",
                ],
            ),
            (
                "send his envoy to:sent",
                &[
                    "sends his envoy to",
                    "sent his envoy to",
                    "sending his envoy to",
                ],
            ),
            (
                "send her envoy to:sent",
                &[
                    "sends her envoy to",
                    "sent her envoy to",
                    "sending her envoy to",
                ],
            ),
            (
                "send its envoy to:sent",
                &[
                    "sends its envoy to",
                    "sent its envoy to",
                    "sending its envoy to",
                ],
            ),
            (
                "send a delegation to:sent",
                &[
                    "sends a delegation to",
                    "sent a delegation to",
                    "sending a delegation to",
                ],
            ),
            (
                "send a high-level delegation to:sent",
                &[
                    "sends a high-level delegation to",
                    "sent a high-level delegation to",
                    "sending a high-level delegation to",
                ],
            ),
            (
                "send his special envoy to:sent",
                &[
                    "sends his special envoy to",
                    "sent his special envoy to",
                    "sending his special envoy to",
                ],
            ),
            (
                "send her special envoy to:sent",
                &[
                    "sends her special envoy to",
                    "sent her special envoy to",
                    "sending her special envoy to",
                ],
            ),
            (
                "dispatch an envoy to",
                &[
                    "dispatches an envoy to",
                    "dispatched an envoy to",
                    "dispatching an envoy to",
                ],
            ),
            (
                "dispatch a special envoy to",
                &[
                    "dispatches a special envoy to",
                    "dispatched a special envoy to",
                    "dispatching a special envoy to",
                ],
            ),
            (
                "dispatch his envoy to",
                &[
                    "dispatches his envoy to",
                    "dispatched his envoy to",
                    "dispatching his envoy to",
                ],
            ),
            (
                "dispatch her envoy to",
                &[
                    "dispatches her envoy to",
                    "dispatched her envoy to",
                    "dispatching her envoy to",
                ],
            ),
            (
                "dispatch its envoy to",
                &[
                    "dispatches its envoy to",
                    "dispatched its envoy to",
                    "dispatching its envoy to",
                ],
            ),
            (
                "dispatch a delegation to",
                &[
                    "dispatches a delegation to",
                    "dispatched a delegation to",
                    "dispatching a delegation to",
                ],
            ),
            (
                "dispatch a high-level delegation to",
                &[
                    "dispatches a high-level delegation to",
                    "dispatched a high-level delegation to",
                    "dispatching a high-level delegation to",
                ],
            ),
            (
                "dispatch his special envoy to",
                &[
                    "dispatches his special envoy to",
                    "dispatched his special envoy to",
                    "dispatching his special envoy to",
                ],
            ),
            (
                "dispatch her special envoy to",
                &[
                    "dispatches her special envoy to",
                    "dispatched her special envoy to",
                    "dispatching her special envoy to",
                ],
            ),
            (
                "shake hands with:shook",
                &[
                    "shakes hands with",
                    "shook hands with",
                    "shaking hands with",
                ],
            ),
            (
                "exchange views with",
                &[
                    "exchanges views with",
                    "exchanged views with",
                    "exchanging views with",
                ],
            ),
            (
                "exchange views:exchanged",
                &["exchanges views", "exchanged views", "exchanging views"],
            ),
            ("sanction", &["sanctions", "sanctioned", "sanctioning"]),
            ("blacklist", &["blacklists", "blacklisted", "blacklisting"]),
            ("vote", &["votes", "voted", "voting"]),
            ("adopt", &["adopts", "adopted", "adopting"]),
            ("pass", &["passes", "passed", "passing"]),
            ("approve", &["approves", "approved", "approving"]),
            ("reject", &["rejects", "rejected", "rejecting"]),
            ("veto", &["vetoes", "vetoed", "vetoing"]),
            ("abstain", &["abstains", "abstained", "abstaining"]),
            ("elect", &["elects", "elected", "electing"]),
            ("endorse", &["endorses", "endorsed", "endorsing"]),
            ("renew:renewed", &["renews", "renewed", "renewing"]),
            ("extend", &["extends", "extended", "extending"]),
            ("condemn", &["condemns", "condemned", "condemning"]),
            ("appoint", &["appoints", "appointed", "appointing"]),
            ("block", &["blocks", "blocked", "blocking"]),
        ];
        let mut shipped = Vec::new();
        for (_, text) in EMBEDDED_TYPES {
            let doc: toml::Value = toml::from_str(text).unwrap();
            for list in ["verbs", "place_verbs"] {
                let verbs = doc["event_type"].get(list).and_then(|v| v.as_array());
                for v in verbs.into_iter().flatten() {
                    shipped.push(v.as_str().unwrap().to_string());
                }
            }
        }
        assert!(shipped.len() >= 25, "{shipped:?}");
        for verb in &shipped {
            let Some((_, forms)) = expected.iter().find(|(v, _)| v == verb) else {
                panic!("shipped verb {verb:?} has no expected forms in this test");
            };
            let got = inflect(verb);
            for form in *forms {
                assert!(
                    got.contains(&form.to_string()),
                    "{verb}: {form} not in {got:?}"
                );
            }
        }
    }

    #[test]
    fn embedded_types_load_and_find_their_phrases() {
        let t = EventTypes::embedded().unwrap();
        assert!(t.types.iter().any(|t| t.id == "bilateral_meeting"));
        assert!(t.types.iter().any(|t| t.id == "un_vote"));
        assert!(t.types.len() >= 5);
        let f = fold("Wang Yi MET Putin; they will hold talks, not a phone call.");
        let found: Vec<&str> = t.find(&f).iter().map(|h| t.phrase_text(&f, h)).collect();
        for phrase in ["met", "will", "hold talks", "talks", "phone", "phone call"] {
            assert!(found.contains(&phrase), "{phrase} not in {found:?}");
        }
    }

    #[test]
    fn a_bad_event_type_is_refused_with_file_and_line() {
        let modality = (
            "m".to_string(),
            "planned = []\ncancelled = []\n".to_string(),
        );
        let e = EventTypes::from_sources(
            vec![("x.toml".into(), "[event_type]\nid = \"x\"\ndescription = \"d\"\nshape = \"triangle\"\ntriggers = [\"a\"]\n".into())],
            modality.clone(),
        )
        .unwrap_err()
        .to_string();
        assert!(e.starts_with("x.toml:4:"), "{e}");
        let e = EventTypes::from_sources(
            vec![("y.toml".into(), "[event_type]\nid = \"y\"\ndescription = \"d\"\nshape = \"organization\"\ntriggers = [\"a\"]\n".into())],
            modality,
        )
        .unwrap_err()
        .to_string();
        assert!(
            e.starts_with("y.toml:4:") && e.contains("no organizations"),
            "{e}"
        );
    }
}
