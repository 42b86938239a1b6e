//! Event detection: finds the configured event types in a story's title and text.
//!
//! For each sentence: gazetteer mentions become actors ([`actors`]); the lexicon finds
//! triggers, exclusions and modality cues ([`event_types`]); each event type's shape rule
//! decides whether the sentence states an event and with which countries or organisation;
//! modality comes from the cues and the resolved date ([`dates`]). Every detection keeps
//! its evidence: the sentence, its character span, the rule and the words that matched.
//!
//! The detector does no I/O: it is built once from the gazetteer and the event types,
//! then called on text.

pub mod actors;
pub mod dates;
pub mod event_types;
pub mod gazetteer;
mod modality;
mod rules;
pub mod text;

use std::collections::HashSet;
use std::ops::Range;

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

use actors::{distinct_countries, Actor, ActorKind};
use event_types::{CueHit, EventType, EventTypes, Shape};
use gazetteer::{Gazetteer, Mention};
use text::Folded;

use crate::diagnostics::ConfigError;
use crate::model::{DateSpan, EventActor, Evidence, Field, Modality};

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

/// A story as the detector sees it.
#[derive(Debug, Clone, Copy)]
pub struct Article<'a> {
    pub title: &'a str,
    pub text: &'a str,
    pub published: NaiveDate,
}

/// The detector: a gazetteer and the event types, compiled.
#[derive(Debug)]
pub struct Detector {
    pub gazetteer: Gazetteer,
    pub types: EventTypes,
}

/// What the previous sentences left for the next ones.
#[derive(Default)]
struct Context {
    /// The last UN organ named (for "the council voted").
    last_organization: Option<usize>,
    /// The last official named, for sentences that refer back ("He met Lavrov").
    protagonist: Option<Actor>,
    /// The officials of the last two states named, most recent first (for "the two
    /// sides met").
    recent: Vec<Actor>,
}

/// One sentence, ready for the rules.
struct Sentence<'a> {
    field: Field,
    original: &'a str,
    span: Range<usize>,
    folded: &'a Folded,
    folded_span: Range<usize>,
    actors: Vec<Actor>,
    cues: Vec<&'a CueHit<'a>>,
    /// The gazetteer mentions of the sentence, actors or not ("an African tour").
    mentions: &'a [Mention<'a>],
}

impl Detector {
    /// The detector built from the embedded gazetteer and event types.
    pub fn embedded() -> Result<Detector, ConfigError> {
        Ok(Detector {
            gazetteer: Gazetteer::embedded()?,
            types: EventTypes::embedded()?,
        })
    }

    pub fn new(gazetteer: Gazetteer, types: EventTypes) -> Detector {
        Detector { gazetteer, types }
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
        Ok(Detector { gazetteer, types })
    }

    /// Finds every event in the article, at most one per type, key and modality.
    pub fn detect(&self, article: &Article) -> Vec<Detection> {
        let mut out: Vec<Detection> = Vec::new();
        let mut seen: HashSet<(String, String, Modality)> = HashSet::new();
        let mut context = Context::default();
        for (field, body) in [(Field::Title, article.title), (Field::Text, article.text)] {
            if body.trim().is_empty() {
                continue;
            }
            let folded = text::fold(body);
            let mentions = self.gazetteer.find(body, &folded);
            let cues = self.types.find(&folded);
            let ranges = if field == Field::Title {
                std::iter::once(0..body.len()).collect()
            } else {
                text::sentences(body)
            };
            // Mentions and cues are sorted by start: walk them alongside the sentences.
            let (mut next_mention, mut next_cue) = (0, 0);
            for range in ranges {
                let folded_span =
                    folded.folded_offset(range.start)..folded.folded_offset(range.end);
                while next_mention < mentions.len()
                    && mentions[next_mention].folded.start < folded_span.start
                {
                    next_mention += 1;
                }
                let first_mention = next_mention;
                while next_mention < mentions.len()
                    && mentions[next_mention].folded.end <= folded_span.end
                {
                    next_mention += 1;
                }
                while next_cue < cues.len() && cues[next_cue].start < folded_span.start {
                    next_cue += 1;
                }
                let sentence_cues: Vec<&CueHit> = cues[next_cue..]
                    .iter()
                    .take_while(|c| c.start < folded_span.end)
                    .filter(|c| c.end <= folded_span.end)
                    .collect();
                let sentence_mentions: &[Mention] = &mentions[first_mention..next_mention];
                let sentence = Sentence {
                    field,
                    original: body,
                    span: range.clone(),
                    folded: &folded,
                    actors: actors::resolve(
                        &self.gazetteer,
                        body,
                        &folded,
                        sentence_mentions,
                        article.published,
                    ),
                    cues: sentence_cues,
                    mentions: sentence_mentions,
                    folded_span,
                };
                for (i, t) in self.types.types.iter().enumerate() {
                    for d in self.apply(i, t, &sentence, &context, article.published) {
                        if seen.insert((d.event_type.clone(), d.key(), d.modality)) {
                            out.push(d);
                        } else if let Some(prev) = out.iter_mut().find(|p| {
                            p.event_type == d.event_type
                                && p.key() == d.key()
                                && p.modality == d.modality
                        }) {
                            // The body says more than the headline: prefer its evidence.
                            if prev.evidence.field == Field::Title
                                && d.evidence.field == Field::Text
                            {
                                *prev = d;
                            } else if prev.date.is_none() && d.date.is_some() {
                                prev.date = d.date;
                            }
                        }
                    }
                }
                if let Some(o) = sentence
                    .actors
                    .iter()
                    .rev()
                    .find_map(|a| a.organization.filter(|o| self.is_un(*o)))
                {
                    context.last_organization = Some(o);
                }
                if let Some(a) = sentence
                    .actors
                    .iter()
                    .find(|a| matches!(a.kind, ActorKind::Named | ActorKind::Role))
                {
                    let mut a = a.clone();
                    a.name_hint = Some(body[a.span.clone()].to_string());
                    context.protagonist = Some(a);
                }
                for a in sentence
                    .actors
                    .iter()
                    .filter(|a| matches!(a.kind, ActorKind::Named | ActorKind::Role))
                {
                    let mut a = a.clone();
                    a.name_hint = Some(body[a.span.clone()].to_string());
                    context.recent.retain(|r| r.country != a.country);
                    context.recent.insert(0, a);
                    context.recent.truncate(2);
                }
            }
        }
        out
    }

    fn is_un(&self, org: usize) -> bool {
        self.gazetteer.organizations[org].vote_body.is_some()
    }

    /// Builds one detection: modality from the cues and the date, the nearest date, the
    /// location, the actors and the evidence.
    #[allow(clippy::too_many_arguments)]
    fn detection(
        &self,
        ti: usize,
        t: &EventType,
        s: &Sentence,
        trigger: &CueHit,
        participants: &[Actor],
        organization: Option<String>,
        rule: String,
        mut confidence: f32,
        published: NaiveDate,
        extra: Vec<String>,
    ) -> Detection {
        let mut matched = vec![s.folded.text[trigger.start..trigger.end].to_string()];
        matched.extend(extra);
        let timing = modality::timing(ti, t, s, trigger, published);
        if let Some(h) = timing.cue {
            matched.push(s.folded.text[h.start..h.end].to_string());
        }
        let mut countries: Vec<String> = distinct_countries(participants)
            .into_iter()
            .map(|c| self.gazetteer.countries[c].code.clone())
            .collect();
        countries.sort();
        // Where: a participant that is a place after the trigger ("visited Beijing"), else the
        // place named nearest the trigger, preferring one after it ("met … in Moscow").
        let is_capital = |a: &&Actor| {
            matches!(a.kind, ActorKind::Place | ActorKind::State)
                && a.form != Some(gazetteer::CountryForm::Metonym)
        };
        let location = participants
            .iter()
            .filter(is_capital)
            // Only actors of this sentence: a carried one's span is in another text.
            .find(|a| a.name_hint.is_none() && a.folded.start >= trigger.start)
            .or_else(|| {
                s.actors
                    .iter()
                    .filter(|a| a.kind == ActorKind::Place)
                    .min_by_key(|a| {
                        if a.folded.start >= trigger.end {
                            a.folded.start - trigger.end
                        } else {
                            2 * (trigger.start - a.folded.end.min(trigger.start)) + 1
                        }
                    })
            })
            .filter(|_| t.shape != Shape::Organization)
            .and_then(|a| s.original.get(a.span.clone()))
            .map(str::to_string);
        let actors: Vec<EventActor> = participants
            .iter()
            .map(|a| {
                // An actor carried from an earlier sentence (or the title) brings its own
                // words; its span belongs to the text it was found in.
                let text = match &a.name_hint {
                    Some(words) => words.clone(),
                    None => s
                        .original
                        .get(a.span.clone())
                        .unwrap_or_default()
                        .to_string(),
                };
                matched.push(text.clone());
                EventActor {
                    name: a.official.map(|o| self.gazetteer.officials[o].name.clone()),
                    country: a.country.map(|c| self.gazetteer.countries[c].code.clone()),
                    role: a.role.map(|r| r.as_str().to_string()),
                    text,
                }
            })
            .collect();
        if s.field == Field::Title {
            confidence -= 0.05;
        }
        let sentence_text = &s.original[s.span.clone()];
        let start = s.original[..s.span.start].chars().count();
        Detection {
            event_type: t.id.clone(),
            actors,
            countries,
            organization,
            location,
            date: timing.date.map(|d| d.span),
            modality: timing.modality,
            confidence: confidence.clamp(0.05, 0.99),
            evidence: Evidence {
                field: s.field,
                sentence: sentence_text.to_string(),
                start,
                end: start + sentence_text.chars().count(),
                rule,
                matched,
            },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn detector() -> Detector {
        Detector::new(gazetteer::tests::small(), EventTypes::embedded().unwrap())
    }

    fn found(text: &str) -> Vec<(String, String, Modality, Option<String>)> {
        detector()
            .detect(&Article {
                title: "",
                text,
                published: "2023-02-22".parse().unwrap(),
            })
            .into_iter()
            .map(|d| {
                (
                    d.event_type.clone(),
                    d.key(),
                    d.modality,
                    d.date.map(|x| x.to_string()),
                )
            })
            .collect()
    }

    fn meeting(
        key: &str,
        m: Modality,
        date: Option<&str>,
    ) -> (String, String, Modality, Option<String>) {
        (
            "bilateral_meeting".into(),
            key.into(),
            m,
            date.map(Into::into),
        )
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
        let keys: Vec<&str> = got.iter().map(|g| g.1.as_str()).collect();
        assert_eq!(keys, ["IRN-RUS", "RUS-TUR", "CHN-RUS"]);
        assert!(got.iter().all(|g| g.2 == Modality::Planned));
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
            [(
                "un_vote".into(),
                "UNGA".into(),
                Modality::Planned,
                Some("2023-02-23/2023-02-26".into())
            )]
        );
        let got = found("The General Assembly met on Monday. The assembly adopted the resolution by 141 votes to 7.");
        assert_eq!(
            got,
            [("un_vote".into(), "UNGA".into(), Modality::Occurred, None)]
        );
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
