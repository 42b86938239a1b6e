//! Event detection: finds the configured event types in a story's title and text.
//!
//! The flow, for the title and then each sentence of the text:
//!
//! ```text
//! sentence ─► mentions ─► actors ─► per-type shape rule ─► candidate ─► modality/date/place ─► detection
//! ```
//!
//! 1. **sentence** ([`text`], `candidates`): the field is folded (case, diacritics) once,
//!    searched once for gazetteer mentions and lexicon cues, and split into sentences;
//!    each sentence gets its share of both.
//! 2. **mentions → actors** ([`gazetteer`], [`actors`]): adjacent mentions become
//!    actors (officials in office on the story's date, roles, states, places, topics,
//!    organisations).
//! 3. **shape rule** (`rules`): for each event type whose trigger ([`event_types`]) is in
//!    the sentence and no exclusion is, the rule of its shape (bilateral, organisation,
//!    state action or multilateral) says who takes part, using the actors and what the
//!    previous sentences left (the protagonist, the last organ, the recent officials).
//!    The rules' English word lists are data (`config/lexicon/english.toml`, `lexicon`).
//! 4. **candidate** (`candidates`): what a rule found becomes a [`Candidate`], with its
//!    modality (occurred, planned, cancelled) and date (`modality`, [`dates`]), its place
//!    and the words that matched.
//! 5. **detection**: each candidate is converted to a [`Detection`] in one place; an
//!    article keeps at most one per type, key and modality, preferring the body's
//!    evidence to the headline's.
//!
//! Every detection keeps its evidence: the sentence, its character span, the rule and the
//! words that matched. The detector does no I/O: it is built once from the gazetteer, the
//! event types and the embedded lexicon, then called on text.

pub mod actors;
mod candidates;
pub mod dates;
pub mod decide;
pub mod event_types;
pub mod filters;
pub mod gazetteer;
mod lexicon;
pub mod logistic;
mod modality;
mod rules;
pub mod text;

use std::collections::{HashMap, HashSet};

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

use candidates::{Context, Passage};
use decide::DecisionModel;
use event_types::EventTypes;
use gazetteer::Gazetteer;
use lexicon::Lexicon;

use crate::diagnostics::ConfigError;
use crate::model::{DateSpan, EventActor, Evidence, Field, Modality};

pub use candidates::Candidate;

/// An event found in one story.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Detection {
    #[serde(rename = "type")]
    pub event_type: String,
    pub actors: Vec<EventActor>,
    /// Sorted, distinct ISO alpha-3 codes of the state actors.
    pub countries: Vec<String>,
    /// For organisational events: `UNGA`, `UNSC`, `UNHRC`, `UN_OTHER`, or the organisation's code.
    pub organization: Option<String>,
    pub location: Option<String>,
    pub date: Option<DateSpan>,
    pub modality: Modality,
    #[serde(serialize_with = "crate::model::confidence_two_decimals")]
    pub confidence: f32,
    pub evidence: Evidence,
}

impl Detection {
    /// What identifies the event within its type: the countries, or the organisation.
    pub fn key(&self) -> String {
        match &self.organization {
            Some(o) if self.countries.is_empty() => o.clone(),
            _ => self.countries.join("-"),
        }
    }
}

/// A candidate event the rules propose, with what the decision layer needs to know of
/// its context besides its evidence.
#[derive(Debug, Clone, PartialEq)]
pub struct Proposal {
    pub detection: Detection,
    /// How many sentences of the story (title included) proposed its type and key.
    pub support: usize,
    /// How many states the sentence of its evidence names.
    pub states_in_sentence: usize,
    /// The text names an official for an office they did not hold on the story's date.
    pub off_term: bool,
}

/// A story as the detector sees it.
#[derive(Debug, Clone, Copy)]
pub struct Article<'a> {
    pub title: &'a str,
    pub text: &'a str,
    pub published: NaiveDate,
}

/// The detector: a gazetteer, the event types and the rules' word lists, compiled.
#[derive(Debug)]
pub struct Detector {
    pub gazetteer: Gazetteer,
    pub types: EventTypes,
    /// The English words of the shape rules and the modality choice (always the embedded
    /// `config/lexicon/english.toml`).
    lexicon: Lexicon,
    /// Decides which candidates are events, and how sure; `None` keeps every candidate
    /// the rules propose, with the rules' confidence.
    pub decision: Option<DecisionModel>,
}

impl Detector {
    /// The detector built from the embedded gazetteer and event types.
    pub fn embedded() -> Result<Detector, ConfigError> {
        Ok(Detector {
            gazetteer: Gazetteer::embedded()?,
            types: EventTypes::embedded()?,
            lexicon: Lexicon::embedded()?,
            decision: Some(DecisionModel::embedded()?),
        })
    }

    /// Rules only: every candidate they propose is a detection.
    pub fn new(gazetteer: Gazetteer, types: EventTypes) -> Detector {
        Detector {
            gazetteer,
            types,
            // Embedded at build time and checked by its unit test: it cannot fail here.
            lexicon: Lexicon::embedded().expect("the embedded lexicon is valid"),
            decision: None,
        }
    }

    /// The same detector without its decision layer (to propose candidates for training).
    pub fn rules_only(mut self) -> Detector {
        self.decision = None;
        self
    }

    /// The detector the config asks for: files it names, embedded defaults otherwise.
    pub fn from_settings(
        settings: &crate::config::DetectionSettings,
    ) -> Result<Detector, ConfigError> {
        let gazetteer = match &settings.gazetteer {
            Some(dir) => Gazetteer::load_dir(dir)?,
            None => Gazetteer::embedded()?,
        };
        let types = match (&settings.event_types, &settings.modality) {
            (None, None) => EventTypes::embedded()?,
            (files, modality) => {
                // The config refuses a modality file without event types.
                let files = files.clone().unwrap_or_default();
                let modality = match modality {
                    Some(m) => m.clone(),
                    None => files
                        .first()
                        .and_then(|f| f.parent())
                        .map(|d| d.join("modality.toml"))
                        .unwrap_or_default(),
                };
                EventTypes::load(&files, &modality)?
            }
        };
        let decision = match &settings.model {
            Some(path) => DecisionModel::load(path)?,
            None => DecisionModel::embedded()?,
        };
        Ok(Detector {
            gazetteer,
            types,
            lexicon: Lexicon::embedded()?,
            decision: Some(decision),
        })
    }

    /// Finds every event in the article, at most one per type, key and modality: the
    /// rules' candidates ([`Detector::propose`]) that the decision layer accepts, with
    /// its calibrated confidence.
    pub fn detect(&self, article: &Article) -> Vec<Detection> {
        self.detect_on(article.title, article.text, Some(article.published))
    }

    /// [`Detector::detect`] for a story whose publication date is unknown: read against
    /// no date, so no date in it is resolved ("on Monday"), a role alone ("the US
    /// president") names no person, and officials named are taken at their word, with no
    /// term of office checked. The evidence says no date was used.
    pub fn detect_undated(&self, title: &str, text: &str) -> Vec<Detection> {
        self.detect_on(title, text, None)
    }

    fn detect_on(&self, title: &str, text: &str, published: Option<NaiveDate>) -> Vec<Detection> {
        let proposals = self.propose_on(title, text, published);
        match &self.decision {
            Some(model) => model.decide(title, proposals),
            None => proposals.into_iter().map(|p| p.detection).collect(),
        }
    }

    /// The rules' candidate events in the article, at most one per type, key and
    /// modality, with the rules' confidence and what the decision layer needs to know
    /// of their context.
    pub fn propose(&self, article: &Article) -> Vec<Proposal> {
        self.propose_on(article.title, article.text, Some(article.published))
    }

    fn propose_on(&self, title: &str, text: &str, published: Option<NaiveDate>) -> Vec<Proposal> {
        let mut out: Vec<Proposal> = Vec::new();
        let mut seen: HashSet<(String, String, Modality)> = HashSet::new();
        // The sentences that proposed each type and key, any rule, any modality.
        let mut support: HashMap<(String, String), HashSet<(bool, usize)>> = HashMap::new();
        let mut context = Context::default();
        let mut passages: Vec<(Field, Passage)> = [(Field::Title, title), (Field::Text, text)]
            .into_iter()
            .filter(|(_, body)| !body.trim().is_empty())
            .map(|(field, body)| (field, Passage::new(self, field, body)))
            .collect();
        // An official the story names in full may be named by family name alone,
        // anywhere in it ("Zardari arrives in Beijing" over "President Asif Ali Zardari …").
        let mut named = Vec::new();
        for (_, passage) in &passages {
            passage.named_in_full(&self.gazetteer, &mut named);
        }
        if !named.is_empty() {
            for (_, passage) in &mut passages {
                passage.add_family_names(&self.gazetteer, &named, published);
            }
        }
        for (field, passage) in &passages {
            let field = *field;
            let body = passage.body();
            for sentence in passage.sentences(&self.gazetteer, published) {
                // Counted only for a sentence that proposes something.
                let mut states_cache: Option<usize> = None;
                let mut states = || {
                    *states_cache
                        .get_or_insert_with(|| actors::distinct_countries(&sentence.actors).len())
                };
                for (i, t) in self.types.types.iter().enumerate() {
                    for candidate in self.apply(i, t, &sentence, &context) {
                        let off_term = candidate.participants.iter().any(|a| a.off_term);
                        let d = self.detection(candidate, body);
                        support
                            .entry((d.event_type.clone(), d.key()))
                            .or_default()
                            .insert((field == Field::Title, sentence.span.start));
                        if seen.insert((d.event_type.clone(), d.key(), d.modality)) {
                            out.push(Proposal {
                                detection: d,
                                support: 0,
                                states_in_sentence: states(),
                                off_term,
                            });
                        } else if let Some(prev) = out.iter_mut().find(|p| {
                            p.detection.event_type == d.event_type
                                && p.detection.key() == d.key()
                                && p.detection.modality == d.modality
                        }) {
                            // The body says more than the headline: prefer its evidence.
                            if prev.detection.evidence.field == Field::Title
                                && d.evidence.field == Field::Text
                            {
                                prev.detection = d;
                                prev.states_in_sentence = states();
                                prev.off_term = off_term;
                            } else if prev.detection.date.is_none() && d.date.is_some() {
                                prev.detection.date = d.date;
                            }
                        }
                    }
                }
                context.update(&self.gazetteer, &sentence);
            }
        }
        // "Blair flies to Washington" over "Blair flies tomorrow to meet Bush": a headline
        // sums up its story, so a meeting the headline alone reads as occurred, and the
        // body states only with another modality, is the body's.
        out.retain(|p| {
            let d = &p.detection;
            if d.evidence.field != Field::Title || d.modality != Modality::Occurred {
                return true;
            }
            let key = d.key();
            !seen
                .iter()
                .any(|(ty, k, m)| *ty == d.event_type && *k == key && *m != Modality::Occurred)
        });
        for p in &mut out {
            p.support = support
                .get(&(p.detection.event_type.clone(), p.detection.key()))
                .map_or(1, HashSet::len);
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn detector() -> Detector {
        Detector::new(gazetteer::tests::small(), EventTypes::embedded().unwrap())
    }

    /// What a test looks at in a detection.
    #[derive(Debug, PartialEq)]
    struct Found {
        event_type: String,
        key: String,
        modality: Modality,
        date: Option<String>,
    }

    fn found(text: &str) -> Vec<Found> {
        detector()
            .detect(&Article {
                title: "",
                text,
                published: "2023-02-22".parse().unwrap(),
            })
            .into_iter()
            .map(|d| Found {
                event_type: d.event_type.clone(),
                key: d.key(),
                modality: d.modality,
                date: d.date.map(|x| x.to_string()),
            })
            .collect()
    }

    fn event(event_type: &str, key: &str, modality: Modality, date: Option<&str>) -> Found {
        Found {
            event_type: event_type.into(),
            key: key.into(),
            modality,
            date: date.map(Into::into),
        }
    }

    fn meeting(key: &str, modality: Modality, date: Option<&str>) -> Found {
        event("bilateral_meeting", key, modality, date)
    }

    /// Found by fuzzing: officials carried from the title into a body sentence that
    /// starts with multi-byte characters made the evidence slice the body at the title's
    /// offsets, inside a character.
    #[test]
    fn actors_carried_from_the_title_keep_their_own_words() {
        let detector = Detector::embedded().unwrap();
        let found = detector.detect(&Article {
            title: "Putin h Xi",
            text: "\u{fffd}\u{fffd}The two sides talks",
            published: "2023-02-22".parse().unwrap(),
        });
        let texts: Vec<&str> = found
            .iter()
            .flat_map(|d| d.actors.iter().map(|a| a.text.as_str()))
            .collect();
        assert!(
            texts.contains(&"Putin") && texts.contains(&"Xi"),
            "{found:?}"
        );
    }

    #[test]
    fn a_named_official_meeting_a_titled_one_is_a_bilateral_meeting() {
        assert_eq!(
            found(
                "China's top diplomat met Russian President Vladimir Putin in Moscow on Wednesday."
            ),
            [meeting("CHN-RUS", Modality::Occurred, Some("2023-02-22"))]
        );
    }

    #[test]
    fn planned_cancelled_and_phone_calls() {
        assert_eq!(
            found("Putin will meet the Iranian foreign minister on Friday."),
            [meeting("IRN-RUS", Modality::Planned, Some("2023-02-24"))]
        );
        assert_eq!(
            found("Putin's meeting with the Iranian foreign minister was called off."),
            [meeting("IRN-RUS", Modality::Cancelled, None)]
        );
        assert!(found("Putin spoke to the Iranian foreign minister in a phone call.").is_empty());
        assert!(found("Putin held talks with the Iranian foreign minister by phone.").is_empty());
    }

    #[test]
    fn a_tour_is_one_meeting_per_host_and_pronouns_refer_back() {
        let got = found("Putin arrived on Monday. He will visit Iran, Turkey and China next week.");
        let keys: Vec<&str> = got.iter().map(|g| g.key.as_str()).collect();
        assert_eq!(keys, ["IRN-RUS", "RUS-TUR", "CHN-RUS"]);
        assert!(got.iter().all(|g| g.modality == Modality::Planned));
    }

    #[test]
    fn a_former_official_or_a_topic_country_is_no_participant() {
        assert!(found("Former President Putin met the Iranian foreign minister.").is_empty());
        assert!(found("The Iranian foreign minister held talks on Turkey.").is_empty());
        assert!(found("Russian hackers met Iranian activists.").is_empty());
    }

    #[test]
    fn un_votes_name_their_organ_directly_or_by_reference() {
        let got = found("The General Assembly will vote later this week on a resolution.");
        assert_eq!(
            got,
            [event(
                "un_vote",
                "UNGA",
                Modality::Planned,
                Some("2023-02-23/2023-02-26")
            )]
        );
        let got = found("The General Assembly met on Monday. The assembly adopted the resolution by 141 votes to 7.");
        assert_eq!(got, [event("un_vote", "UNGA", Modality::Occurred, None)]);
        assert!(found("The state's General Assembly passed the bill on Monday.").is_empty());
    }

    #[test]
    fn evidence_quotes_the_sentence_with_character_offsets() {
        let text = "Café talk. Erdoğan met Putin in Ankara.";
        let d = &detector().detect(&Article {
            title: "",
            text,
            published: "2023-02-22".parse().unwrap(),
        })[0];
        let chars: Vec<char> = text.chars().collect();
        let quoted: String = chars[d.evidence.start..d.evidence.end].iter().collect();
        assert_eq!(quoted, "Erdoğan met Putin in Ankara.");
        assert_eq!(d.evidence.sentence, quoted);
        assert_eq!(d.location.as_deref(), Some("Ankara"));
        assert!(d
            .actors
            .iter()
            .any(|a| a.name.as_deref() == Some("Recep Tayyip Erdoğan")));
    }

    #[test]
    fn arbitrary_text_never_panics() {
        // A deterministic stream of awkward characters: multi-byte letters, quotes,
        // dots, dashes, digits, and gazetteer words.
        const PIECES: &[&str] = &[
            "Putin",
            " met ",
            "’s ",
            "Ğ",
            "é",
            ".",
            ". ",
            "\u{201d}",
            "\"",
            "-",
            "—",
            "U.S.",
            " will ",
            "on ",
            "Monday",
            "22",
            " February",
            "\n\n",
            "Iran",
            "ian",
            " ",
            "ß",
            "ı",
            "İ",
            "\u{a0}",
            "General Assembly",
            " vote",
            "𝔘",
            "'",
        ];
        let d = detector();
        let mut state: u64 = 0x2545_f491_4f6c_dd1d;
        for _ in 0..300 {
            let mut text = String::new();
            for _ in 0..40 {
                state ^= state << 13;
                state ^= state >> 7;
                state ^= state << 17;
                text.push_str(PIECES[(state % PIECES.len() as u64) as usize]);
            }
            for det in d.detect(&Article {
                title: &text,
                text: &text,
                published: "2023-02-22".parse().unwrap(),
            }) {
                assert!(det.evidence.start <= det.evidence.end);
            }
        }
    }
}
