//! The English word lists of the shape rules and the modality choice, as data:
//! `config/lexicon/english.toml`, embedded, read and checked once when the detector is
//! built. Each list is matched exactly as it is written (the rules fold the text, not the
//! list), so the loader refuses an entry that could never match.

use serde::Deserialize;

use super::text;
use crate::diagnostics::{invalid_at, parse_toml, ConfigError};

/// The embedded lexicon, as (file name, text).
pub const EMBEDDED: (&str, &str) = (
    "english.toml",
    include_str!("../../config/lexicon/english.toml"),
);

/// Words matched one at a time, exactly.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WordList {
    words: Vec<String>,
}

impl WordList {
    /// Whether `word` is one of the list's words.
    pub fn contains(&self, word: &str) -> bool {
        self.words.iter().any(|w| w == word)
    }

    pub fn words(&self) -> impl Iterator<Item = &str> {
        self.words.iter().map(String::as_str)
    }
}

/// Phrases found anywhere in a text.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PhraseList {
    phrases: Vec<String>,
}

impl PhraseList {
    /// Whether one of the phrases occurs in `text`.
    pub fn found_in(&self, text: &str) -> bool {
        self.phrases.iter().any(|p| text.contains(p.as_str()))
    }

    pub fn phrases(&self) -> impl Iterator<Item = &str> {
        self.phrases.iter().map(String::as_str)
    }
}

/// Every list; see the comments of `config/lexicon/english.toml` for what each does.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Lexicon {
    pub meet_forms: WordList,
    pub goals: WordList,
    pub goal_object_stops: WordList,
    pub receptions: WordList,
    pub reactions: WordList,
    pub sites: WordList,
    pub gatherings: WordList,
    pub both_sides: PhraseList,
    pub group_heads: WordList,
    pub subject_pronouns: WordList,
    pub titles: WordList,
    pub journeys: WordList,
    pub subjects_after_both: WordList,
    pub back_references: WordList,
    pub references_after_both: WordList,
    pub sentence_openers: WordList,
    pub honorifics: WordList,
    pub regions: WordList,
    pub organisation_prepositions: WordList,
    pub apart_before: WordList,
    pub apart: WordList,
    pub itinerary_verbs: WordList,
    pub noun_markers: WordList,
    pub irregular_pasts: WordList,
    pub journey_pasts: WordList,
    pub attempts: PhraseList,
    pub family_name_first: WordList,
    pub norm_citations: WordList,
    pub emissaries: WordList,
}

/// One list of the lexicon, for checking.
struct List<'l> {
    /// Its table in the file.
    table: &'static str,
    form: Form,
    entries: Vec<&'l str>,
}

/// How a list's entries must be written to be matched.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Form {
    /// One word of folded text: lower case, no diacritics.
    FoldedWord,
    /// A phrase of folded text.
    FoldedPhrase,
    /// One word as it stands capitalised in the original text.
    CapitalisedWord,
    /// A country's ISO 3166-1 alpha-3 code, as the gazetteer writes it.
    CountryCode,
}

impl Lexicon {
    pub fn embedded() -> Result<Lexicon, ConfigError> {
        Lexicon::from_source(
            &format!("<embedded config/lexicon/{}>", EMBEDDED.0),
            EMBEDDED.1,
        )
    }

    /// Reads a lexicon from `text` (from `origin`, for messages) and checks every list.
    pub fn from_source(origin: &str, text: &str) -> Result<Lexicon, ConfigError> {
        let lexicon: Lexicon = parse_toml(text, origin)?;
        for List {
            table,
            form,
            entries,
        } in lexicon.lists()
        {
            let at = |needle: &str| {
                let header = text.find(&format!("[{table}]")).unwrap_or(0);
                let pos = text[header..].find(needle).map_or(header, |p| header + p);
                pos..pos
            };
            if entries.is_empty() {
                return Err(invalid_at(
                    text,
                    origin,
                    at(""),
                    format!("the list [{table}] is empty"),
                ));
            }
            for entry in entries {
                if let Some(problem) = form.problem(entry) {
                    return Err(invalid_at(
                        text,
                        origin,
                        at(&format!("\"{entry}\"")),
                        format!("[{table}]: {entry:?} {problem}, so it would never match"),
                    ));
                }
            }
        }
        Ok(lexicon)
    }

    /// Every list: its table, how its entries are matched, and the entries.
    fn lists(&self) -> Vec<List<'_>> {
        fn words<'l>(table: &'static str, form: Form, list: &'l WordList) -> List<'l> {
            List {
                table,
                form,
                entries: list.words().collect(),
            }
        }
        vec![
            words("meet_forms", Form::FoldedWord, &self.meet_forms),
            words("goals", Form::FoldedWord, &self.goals),
            words(
                "goal_object_stops",
                Form::FoldedWord,
                &self.goal_object_stops,
            ),
            words("receptions", Form::FoldedWord, &self.receptions),
            words("reactions", Form::FoldedWord, &self.reactions),
            words("sites", Form::FoldedWord, &self.sites),
            words("gatherings", Form::FoldedWord, &self.gatherings),
            List {
                table: "both_sides",
                form: Form::FoldedPhrase,
                entries: self.both_sides.phrases().collect(),
            },
            words("group_heads", Form::FoldedWord, &self.group_heads),
            words("subject_pronouns", Form::FoldedWord, &self.subject_pronouns),
            words("titles", Form::FoldedWord, &self.titles),
            words("journeys", Form::FoldedWord, &self.journeys),
            words(
                "subjects_after_both",
                Form::FoldedWord,
                &self.subjects_after_both,
            ),
            words("back_references", Form::FoldedWord, &self.back_references),
            words(
                "references_after_both",
                Form::FoldedWord,
                &self.references_after_both,
            ),
            words(
                "sentence_openers",
                Form::CapitalisedWord,
                &self.sentence_openers,
            ),
            words("honorifics", Form::CapitalisedWord, &self.honorifics),
            words("regions", Form::CapitalisedWord, &self.regions),
            words(
                "organisation_prepositions",
                Form::FoldedWord,
                &self.organisation_prepositions,
            ),
            words("apart_before", Form::FoldedWord, &self.apart_before),
            words("apart", Form::FoldedWord, &self.apart),
            words("itinerary_verbs", Form::FoldedWord, &self.itinerary_verbs),
            words("noun_markers", Form::FoldedWord, &self.noun_markers),
            words("irregular_pasts", Form::FoldedWord, &self.irregular_pasts),
            words("journey_pasts", Form::FoldedWord, &self.journey_pasts),
            List {
                table: "attempts",
                form: Form::FoldedPhrase,
                entries: self.attempts.phrases().collect(),
            },
            words(
                "family_name_first",
                Form::CountryCode,
                &self.family_name_first,
            ),
            words("norm_citations", Form::FoldedWord, &self.norm_citations),
            words("emissaries", Form::FoldedWord, &self.emissaries),
        ]
    }
}

impl Form {
    /// Why `entry` cannot match when written so, if it cannot.
    fn problem(self, entry: &str) -> Option<&'static str> {
        let one_word = !entry.is_empty() && !entry.contains(char::is_whitespace);
        match self {
            Form::FoldedWord | Form::FoldedPhrase if text::fold(entry).text != entry => {
                Some("is not in folded form (lower case, no diacritics)")
            }
            Form::FoldedWord if !one_word => Some("is not one word"),
            Form::FoldedPhrase if entry.trim().is_empty() => Some("is empty"),
            Form::CapitalisedWord if !one_word => Some("is not one word"),
            Form::CapitalisedWord if !entry.starts_with(char::is_uppercase) => {
                Some("is not capitalised")
            }
            Form::CountryCode
                if entry.len() != 3 || !entry.chars().all(|c| c.is_ascii_uppercase()) =>
            {
                Some("is not a three-letter country code")
            }
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_embedded_lexicon_loads_and_no_list_is_empty() {
        let lexicon = Lexicon::embedded().unwrap();
        let lists = lexicon.lists();
        assert_eq!(lists.len(), 29, "every table is listed");
        for list in lists {
            assert!(!list.entries.is_empty(), "[{}] is empty", list.table);
        }
        // What each list does is tested beside its rule: rules/mod.rs (meet_forms, goals,
        // goal_object_stops, receptions), rules/bilateral.rs (reactions, sites, gatherings … regions, organisation_prepositions, apart_before, apart), modality.rs
        // (itinerary_verbs, noun_markers, irregular_pasts, journey_pasts, attempts, family_name_first: by surname),
        // rules/organization.rs (norm_citations), rules/bilateral.rs (emissaries).
    }

    #[test]
    fn a_bad_list_is_refused_with_file_and_line() {
        let good = EMBEDDED.1;
        let err = |text: &str| {
            Lexicon::from_source("x.toml", text)
                .unwrap_err()
                .to_string()
        };
        let e = err(&good.replace(
            "words = [\"trip\", \"visit\", \"tour\"]",
            "words = [\"trip\", \"Visit\", \"tour\"]",
        ));
        let line = good[..good.find("\"trip\", \"visit\"").unwrap()]
            .matches('\n')
            .count()
            + 1;
        assert!(e.starts_with(&format!("x.toml:{line}:")), "{e}");
        assert!(e.contains("[journeys]") && e.contains("folded"), "{e}");
        let e = err(&good.replace("words = [\"trip\", \"visit\", \"tour\"]", "words = []"));
        assert!(e.contains("[journeys] is empty"), "{e}");
        let e = err(&good.replace("\"Nordic\",", "\"nordic\","));
        assert!(e.contains("not capitalised"), "{e}");
        let e = err(&good.replace("[journeys]", "[journey]"));
        assert!(e.starts_with("x.toml:"), "{e}");
        let e = err(&good.replace("\"took\"", "\"took it\""));
        assert!(e.contains("not one word"), "{e}");
        let e = err(&good.replace("\"KOR\"", "\"Korea\""));
        assert!(
            e.contains("[family_name_first]") && e.contains("country code"),
            "{e}"
        );
    }
}
