//! Modality: whether an event occurred, is planned or was cancelled, and its date.
//!
//! Cancelled beats planned beats occurred. A cue counts when it stands near the trigger
//! ("will meet", "talks were cancelled") and not in a clause of its own ("… said that
//! …"). Around a trigger in the past tense a planned cue is about something else: none
//! counts near a meeting verb, before it ("planned to attend … when they met") or after
//! it ("have met … saying they would"); near an organisation's decision, only one before
//! it does. A present-tense trigger in the body text is an itinerary ("the president
//! visits Kuwait"): planned. The date nearest the trigger is resolved against the
//! publication date ([`super::dates`]); a future one makes an event with no cue planned,
//! unless the trigger is in the past tense.

use super::candidates::Sentence;
use super::dates::{self, DateMention};
use super::event_types::{Cue, CueHit, EventType, Shape};
use super::lexicon::Lexicon;
use crate::model::{Field, Modality};

/// When a candidate event stands in time.
pub(super) struct Timing<'s> {
    pub modality: Modality,
    /// The cue next to the trigger that made the event cancelled or planned.
    pub cue: Option<&'s CueHit<'s>>,
    /// The date nearest the trigger, resolved against the publication date.
    pub date: Option<DateMention>,
}

/// The modality and the date of an event of type `ti` triggered by `trigger` in `s`.
pub(super) fn timing<'s>(
    ti: usize,
    t: &EventType,
    s: &Sentence<'s>,
    trigger: &CueHit,
    lex: &Lexicon,
) -> Timing<'s> {
    // Modality: cancelled beats planned beats occurred; a future date makes it planned.
    // Cues count near the trigger: "will meet", "talks were cancelled". After a verb in
    // the past tense ("have met … saying they would"), a planned cue is about
    // something else.
    let first_word = |h: &CueHit| {
        s.folded.text[h.start..h.end]
            .split(' ')
            .next()
            .unwrap_or("")
            .to_string()
    };
    // The trigger in the past tense, or (for organisations) any decision word in it:
    // "unanimously adopted".
    let past_tense = is_past(lex, &first_word(trigger))
        || t.shape == Shape::Organization
            && s.cues
                .iter()
                .any(|h| h.cues.contains(&Cue::Require(ti)) && is_past(lex, &first_word(h)));
    // Body text in the present tense is an itinerary: "the president visits Kuwait".
    // "with visits to Israel": a noun, not a verb.
    let word_before = s.folded.text[s.folded_span.start..trigger.start]
        .rsplit(|c: char| !c.is_alphanumeric())
        .find(|w| !w.is_empty())
        .unwrap_or("");
    let itinerary =
        is_itinerary(lex, s.field, &first_word(trigger)) && !lex.noun_markers.contains(word_before);
    // A meeting verb in the past tense ("when they met in August") happened, whatever
    // was planned before it.
    let met = t.shape != Shape::Organization && is_past(lex, &first_word(trigger));
    let cue = |want_cancelled: bool| {
        let (before, after) = match (want_cancelled, past_tense) {
            (true, _) => (CUE_BEFORE, CUE_AFTER + 20),
            (false, false) => (CUE_BEFORE, CUE_AFTER),
            (false, true) if met => (0, 0),
            (false, true) => (CUE_BEFORE, 0),
        };
        s.cues.iter().find(|h| {
            let near = h.end + before >= trigger.start && h.start <= trigger.end + after;
            // "The meeting between … and … was called off": a passive cancellation
            // after the trigger is about it, however long the subject.
            let passive = want_cancelled
                && h.start >= trigger.end
                && passive_before(&s.folded.text[s.folded_span.start..h.start]);
            (near || passive)
                // "a press conference with Bush, where he said that he is preparing
                // to …": a cue in a clause of its own is about something else.
                && !s
                    .folded
                    .text
                    .get(trigger.end..h.start)
                    .is_some_and(|between| between.contains(" that "))
                // "At the recent talks … it was announced that the program would …": a
                // cue after the trigger that opens a clause is about that clause.
                && !(h.start >= trigger.end && s.folded.text[h.start..h.end].ends_with(" that"))
                // "China and Russia blocked a resolution": a decision word of the type
                // itself is the event, not its cancellation.
                && !(want_cancelled && h.cues.contains(&Cue::Require(ti)))
                // "flew to New Delhi on Sunday to meet Singh": the purpose of a trip
                // that was made.
                && (want_cancelled || !purpose_of_a_made_trip(lex, s, h))
                // "the first Greek leader in 50 years to visit Turkey": a record set.
                && (want_cancelled || !sets_a_record(s, h))
                // "European countries tried to postpone the process": an attempt.
                && !(want_cancelled && attempted(lex, s, h))
                && h.cues.iter().any(|c| match c {
                    Cue::Cancelled(None) => want_cancelled,
                    Cue::Cancelled(Some(i)) => want_cancelled && *i == ti,
                    Cue::Planned(None) => !want_cancelled,
                    Cue::Planned(Some(i)) => !want_cancelled && *i == ti,
                    _ => false,
                })
        })
    };
    // "After the meeting, Lula and Sarkozy will present a bridge": a trigger in a fronted
    // time phrase takes the tense of the main clause that follows it.
    let main_clause_cue = || {
        let clause = main_clause_after_fronted(s, trigger)?;
        s.cues
            .iter()
            .find(|h| clause.contains(&h.start) && h.cues.iter().any(|c| plans(c, ti)))
    };
    // "Talks between the Thai and Cambodian defence ministers are scheduled for Friday": a
    // trigger that opens the sentence as its subject takes the tense of its predicate,
    // however long the subject (up to a comma or a relative clause).
    let predicate_cue = || {
        let opening = &s.folded.text[s.folded_span.start..trigger.start];
        if past_tense
            || opening.split_whitespace().count() > SUBJECT_OPENING_WORDS
            || !opening
                .split_whitespace()
                .all(|w| SUBJECT_DETERMINERS.contains(&w))
        {
            return None;
        }
        let after = &s.folded.text[trigger.end..s.folded_span.end];
        let stop = [",", ";", " which ", " that ", " who ", " said", " says"]
            .iter()
            .filter_map(|w| after.find(w))
            .min()
            .unwrap_or(after.len())
            .min(PREDICATE_WITHIN);
        s.cues.iter().find(|h| {
            h.start >= trigger.end
                && h.start < trigger.end + stop
                && h.cues.iter().any(|c| plans(c, ti))
        })
    };
    // "Pompeo cancels visit to Germany, likely to meet Lavrov again soon": a planned cue
    // between a cancellation and the trigger is the nearer, and governs.
    let cancelled = cue(true).filter(|c| {
        !(c.end <= trigger.start
            && s.cues.iter().any(|h| {
                h.start >= c.end
                    && h.start <= trigger.start
                    && h.cues.iter().any(|c| plans(c, ti))
                    && s.folded.text[c.end..h.start].contains(',')
            }))
    });
    let (mut modality, cue) = match (
        cancelled,
        cue(false).or_else(main_clause_cue).or_else(predicate_cue),
    ) {
        (Some(h), _) => (Modality::Cancelled, Some(*h)),
        (None, Some(h)) => (Modality::Planned, Some(*h)),
        _ if itinerary => (Modality::Planned, None),
        _ => (Modality::Occurred, None),
    };
    let sentence_folded = &s.folded.text[s.folded_span.clone()];
    // An undated story resolves no date: "on Monday" is no day without a week.
    let dates = match s.published {
        Some(published) => {
            dates::find_dates(sentence_folded, published, modality == Modality::Planned)
        }
        None => Vec::new(),
    };
    let trigger_at = trigger.start - s.folded_span.start;
    // "… plans to visit Moscow, officials said on Monday": the day of the report, not of
    // the event; a date the text does not give for the event is not made up.
    let date = dates
        .iter()
        .filter(|d| !dates_a_report(&sentence_folded[..d.start]))
        .min_by_key(|d| d.start.abs_diff(trigger_at))
        .cloned();
    // A future date makes an event planned, unless the trigger is in the past tense.
    if let Some(d) = &date {
        if modality == Modality::Occurred && d.future && !past_tense {
            modality = Modality::Planned;
        }
    }
    Timing {
        modality,
        cue,
        date,
    }
}

/// The main clause after a fronted time phrase that holds the trigger ("After the
/// meeting, Lula and Sarkozy will present …"), as a range of folded text: from the
/// phrase's comma to a reporting verb, "that" or the next comma.
fn main_clause_after_fronted(s: &Sentence, trigger: &CueHit) -> Option<std::ops::Range<usize>> {
    let before = &s.folded.text[s.folded_span.start..trigger.start];
    let mut words = before.split_whitespace().peekable();
    if words.peek().is_some_and(|w| FRONTED_ADVERBS.contains(w)) {
        words.next();
    }
    if !words
        .next()
        .is_some_and(|w| FRONTED_PREPOSITIONS.contains(&w))
    {
        return None;
    }
    // "after the", "during their first", "following his bilateral".
    let rest: Vec<&str> = words.collect();
    if rest.len() > 3
        || rest
            .iter()
            .any(|w| w.contains(|c: char| !c.is_alphabetic()))
    {
        return None;
    }
    let after = &s.folded.text[trigger.end..s.folded_span.end];
    let comma = after.find(',').filter(|&at| at <= FRONTED_PHRASE_AFTER)?;
    let start = trigger.end + comma + 1;
    let clause = &s.folded.text[start..s.folded_span.end];
    let end = [" said", " says", " told", " that ", ","]
        .iter()
        .filter_map(|w| clause.find(w))
        .min()
        .unwrap_or(clause.len());
    Some(start..start + end)
}

/// Whether a stance cue shortly before the trigger, in its clause, makes it a stance
/// toward the event rather than the event: "Iran is ready for negotiations", "China urged
/// Tehran to continue talks", "called on the council to meet urgently to adopt measures".
pub(super) fn under_stance(s: &Sentence, trigger: &CueHit) -> bool {
    s.cues.iter().any(|h| {
        h.end <= trigger.start
            && h.end + STANCE_BEFORE >= trigger.start
            && h.cues.contains(&Cue::Stance)
            && {
                let between = &s.folded.text[h.end..trigger.start];
                !between.contains([',', ';', ':'])
                    && !STANCE_CLAUSE_BREAKS.iter().any(|w| between.contains(w))
            }
    })
}

/// Whether the text before a cue ends in a passive auxiliary: "was", "were", "has
/// been", "will be" (then the cue's subject is what came before: "the talks … were
/// postponed").
fn passive_before(before: &str) -> bool {
    let before = before.trim_end();
    [
        "was",
        "were",
        "has been",
        "have been",
        "had been",
        "is being",
        "will be",
        "would be",
    ]
    .iter()
    .any(|aux| {
        before.ends_with(aux)
            && before[..before.len() - aux.len()]
                .chars()
                .last()
                .is_none_or(|c| !c.is_alphanumeric())
    })
}

/// Whether a date expression after `before` dates a report rather than an event: it
/// follows a reporting verb ("said on Monday", "announced Tuesday", "told reporters on
/// Friday").
fn dates_a_report(before: &str) -> bool {
    let mut words = before
        .split(|c: char| !c.is_alphanumeric())
        .filter(|w| !w.is_empty())
        .rev();
    let mut word = words.next().unwrap_or("");
    if matches!(word, "on" | "last" | "this" | "late" | "early") {
        word = words.next().unwrap_or("");
    }
    if matches!(
        word,
        "reporters" | "journalists" | "parliament" | "lawmakers"
    ) {
        word = words.next().unwrap_or("");
    }
    matches!(
        word,
        "said" | "says" | "told" | "announced" | "reported" | "confirmed" | "stated" | "added"
    )
}

/// Whether a planned cue "to …" is the purpose of a journey the same clause reports as
/// made: "flew to New Delhi on Sunday to meet Indian Prime Minister Manmohan Singh".
fn purpose_of_a_made_trip(lex: &Lexicon, s: &Sentence, h: &CueHit) -> bool {
    let Some(clause) = clause_before_infinitive(s, h) else {
        return false;
    };
    let mut words = clause.split_whitespace();
    words.any(|w| lex.journey_pasts.contains(w))
        && !clause
            .split_whitespace()
            .any(|w| matches!(w, "will" | "would" | "plans" | "planned" | "expected"))
}

/// Whether a "to …" cue completes a record the subject set: "Karamanlis became the
/// first Greek leader in 50 years to visit Turkey", "the first to meet him since 2004".
/// A record yet to be set says so elsewhere ("will become the first …").
fn sets_a_record(s: &Sentence, h: &CueHit) -> bool {
    let Some(clause) = clause_before_infinitive(s, h) else {
        return false;
    };
    let words: Vec<&str> = clause.split_whitespace().collect();
    let Some(at) = words
        .iter()
        .rposition(|w| matches!(*w, "first" | "second" | "third" | "last" | "only"))
    else {
        return false;
    };
    at > 0
        && words[at - 1] == "the"
        && words.len() - at <= RECORD_WORDS
        && at >= 2
        && matches!(
            words[at - 2],
            "is" | "was" | "became" | "becomes" | "been" | "as"
        )
}

/// How many words a record's "the first" may stand before its "to …".
const RECORD_WORDS: usize = 9;

/// For a "to …" cue, the clause before it (back to a comma or semicolon, at most
/// [`PURPOSE_AFTER_TRIP`] bytes): where a made trip or a record set stands.
fn clause_before_infinitive<'s>(s: &'s Sentence, h: &CueHit) -> Option<&'s str> {
    if !s.folded.text[h.start..h.end].starts_with("to ") {
        return None;
    }
    let from = h
        .start
        .saturating_sub(PURPOSE_AFTER_TRIP)
        .max(s.folded_span.start);
    let before = s.folded.text.get(from..h.start)?;
    Some(before.rsplit([',', ';']).next().unwrap_or(before))
}

/// Whether a cancellation cue is only attempted: "tried to postpone", "threatened to
/// cancel".
fn attempted(lex: &Lexicon, s: &Sentence, h: &CueHit) -> bool {
    let before = s.folded.text[s.folded_span.start..h.start].trim_end();
    lex.attempts.phrases().any(|p| {
        before.ends_with(p)
            && before[..before.len() - p.len()]
                .chars()
                .last()
                .is_none_or(|c| !c.is_alphanumeric())
    })
}

/// Whether a cue says that an event of type `ti` is planned.
fn plans(cue: &Cue, ti: usize) -> bool {
    matches!(cue, Cue::Planned(None)) || *cue == Cue::Planned(Some(ti))
}

/// How far before its "to …" a journey's past tense may stand.
const PURPOSE_AFTER_TRIP: usize = 80;

/// Whether a word is in the past tense: "visited", "met".
fn is_past(lex: &Lexicon, word: &str) -> bool {
    word.ends_with("ed") || lex.irregular_pasts.contains(word)
}

/// Whether a trigger starting with `first_word` in `field` is an itinerary: body text in
/// the present tense ("the president visits Kuwait").
fn is_itinerary(lex: &Lexicon, field: Field, first_word: &str) -> bool {
    field == Field::Text && lex.itinerary_verbs.contains(first_word)
}

/// How far before and after a trigger a modality cue may stand (bytes of folded text).
const CUE_BEFORE: usize = 60;
const CUE_AFTER: usize = 40;
/// Words that open a fronted time phrase holding a trigger ("After the talks, …"), and
/// an adverb that may come first ("Shortly before the meeting, …").
const FRONTED_PREPOSITIONS: [&str; 4] = ["after", "before", "during", "following"];
const FRONTED_ADVERBS: [&str; 4] = ["shortly", "soon", "immediately", "just"];
/// How far after the trigger the fronted phrase's comma may stand.
const FRONTED_PHRASE_AFTER: usize = 60;
/// How many words may open a sentence before a trigger that is its subject ("The
/// planned talks …").
const SUBJECT_OPENING_WORDS: usize = 2;
/// Words that may open a sentence before a trigger that is its subject: the trigger is
/// then a noun ("The talks", "A planned visit"), not a verb after its subject ("He met").
const SUBJECT_DETERMINERS: &[&str] = &[
    "the",
    "a",
    "an",
    "planned",
    "upcoming",
    "first",
    "new",
    "further",
    "bilateral",
    "formal",
    "official",
    "fresh",
    "direct",
    "high-level",
];
/// How far after a subject trigger its predicate's cue may stand.
const PREDICATE_WITHIN: usize = 120;
/// How far before a trigger a stance cue may stand.
const STANCE_BEFORE: usize = 60;
/// Words between a stance cue and a trigger that start another clause or predicate, so
/// the stance is about something else: "urged that …", "a draft calling for a ceasefire
/// would reach a council vote".
const STANCE_CLAUSE_BREAKS: [&str; 17] = [
    " that ", " when ", " while ", " after ", " before ", " would ", " will ", " could ",
    " should ", " can ", " may ", " might ", " must ", " is ", " are ", " was ", " were ",
];

#[cfg(test)]
mod tests {
    use super::*;
    use crate::detect::{gazetteer, Article, Detector, EventTypes};

    /// The modalities the small test gazetteer's detector gives `text` (published
    /// 2023-02-22).
    fn modalities(text: &str) -> Vec<Modality> {
        let d = Detector::new(gazetteer::tests::small(), EventTypes::embedded().unwrap());
        d.detect(&Article {
            title: "",
            text,
            published: "2023-02-22".parse().unwrap(),
        })
        .into_iter()
        .map(|d| d.modality)
        .collect()
    }

    #[test]
    fn past_tenses_and_itineraries_come_from_the_lexicon() {
        let lex = Lexicon::embedded().unwrap();
        for w in lex.irregular_pasts.words() {
            assert!(is_past(&lex, w), "{w}");
        }
        assert!(is_past(&lex, "visited") && !is_past(&lex, "visit"));
        for w in lex.itinerary_verbs.words() {
            assert!(is_itinerary(&lex, Field::Text, w), "{w}");
            assert!(!is_itinerary(&lex, Field::Title, w), "{w}");
        }
        assert!(!is_itinerary(&lex, Field::Text, "visited"));
    }

    #[test]
    fn the_day_of_a_report_is_not_the_day_of_the_event() {
        assert!(dates_a_report("moscow, officials said on "));
        assert!(dates_a_report("the ministry announced "));
        assert!(dates_a_report("lavrov told reporters on "));
        assert!(!dates_a_report("putin will meet xi on "));
        let d = Detector::new(gazetteer::tests::small(), EventTypes::embedded().unwrap());
        let found = d.detect(&Article {
            title: "",
            text: "Putin plans to meet the Iranian foreign minister in Moscow, officials said on Monday.",
            published: "2023-02-22".parse().unwrap(),
        });
        assert_eq!(found.len(), 1, "{found:?}");
        assert_eq!(found[0].modality, Modality::Planned);
        assert_eq!(found[0].date, None);
    }

    #[test]
    fn the_first_to_visit_set_a_record_that_stands() {
        let found = modalities;
        assert_eq!(
            found("Putin became the first Russian leader in ten years to visit Iran."),
            [Modality::Occurred]
        );
        assert_eq!(
            found("Putin is the first Russian president to meet the Iranian foreign minister in Tehran."),
            [Modality::Occurred]
        );
        // A record still to be set, and a plain plan.
        assert_eq!(
            found("Putin will become the first Russian leader in ten years to visit Iran."),
            [Modality::Planned]
        );
        assert_eq!(
            found("Putin hopes to be the first Russian leader to visit Iran."),
            [Modality::Planned]
        );
    }

    #[test]
    fn a_passive_cancellation_after_the_trigger_cancels_it() {
        let found = modalities;
        assert_eq!(
            found("The meeting between Russian President Vladimir Putin and the Iranian foreign minister was called off on Monday."),
            [Modality::Cancelled]
        );
        assert_eq!(
            found("Talks between Putin and the Iranian foreign minister in Moscow have been postponed."),
            [Modality::Cancelled]
        );
        // Not a passive: another subject called something off.
        assert_eq!(
            found("Putin met the Iranian foreign minister in Moscow after the protesters called off their march."),
            [Modality::Occurred]
        );
        assert!(passive_before("the meeting was") && !passive_before("the wasp"));
    }

    #[test]
    fn a_stance_toward_an_event_is_no_event() {
        let d = Detector::new(gazetteer::tests::small(), EventTypes::embedded().unwrap());
        let found = |text: &str| {
            d.detect(&Article {
                title: "",
                text,
                published: "2023-02-22".parse().unwrap(),
            })
            .len()
        };
        assert_eq!(found("Putin said Russia is ready for talks with Iran."), 0);
        assert_eq!(found("Putin urged Iran to hold talks with China."), 0);
        assert_eq!(found("Russia called on Iran to meet Chinese officials."), 0);
        // A stance in a clause of its own, or after the trigger, is about something else.
        assert_eq!(
            found("Putin met the Iranian foreign minister, and urged him to act."),
            1
        );
        assert_eq!(
            found("Putin, urging calm, met the Iranian foreign minister."),
            1
        );
        // The stance's own object ends where another predicate starts.
        assert_eq!(
            found("Putin said a draft calling for calm would be discussed when he met the Iranian foreign minister."),
            1
        );
        assert_eq!(
            found("A plan calling for peace was agreed in talks between Iran and China."),
            1
        );
    }

    #[test]
    fn a_fronted_time_phrase_takes_the_main_clauses_tense() {
        let d = Detector::new(gazetteer::tests::small(), EventTypes::embedded().unwrap());
        let modalities = |text: &str| -> Vec<Modality> {
            d.detect(&Article {
                title: "",
                text,
                published: "2023-02-22".parse().unwrap(),
            })
            .iter()
            .map(|e| e.modality)
            .collect()
        };
        assert_eq!(
            modalities(
                "After the talks between Russia and China, the two leaders will sign a treaty."
            ),
            [Modality::Planned]
        );
        // Reported speech after the phrase, or a past main clause: it happened.
        assert_eq!(
            modalities(
                "After the talks between Russia and China, the Kremlin said it will sign a treaty."
            ),
            [Modality::Occurred]
        );
        assert_eq!(
            modalities(
                "After the talks between Russia and China, the two leaders signed a treaty."
            ),
            [Modality::Occurred]
        );
    }

    #[test]
    fn a_present_tense_trigger_in_the_body_is_planned() {
        let d = Detector::new(gazetteer::tests::small(), EventTypes::embedded().unwrap());
        let modality = |title: &str, text: &str| {
            d.detect(&Article {
                title,
                text,
                published: "2023-02-22".parse().unwrap(),
            })
            .into_iter()
            .map(|d| d.modality)
            .collect::<Vec<_>>()
        };
        let s = "Putin meets the Iranian foreign minister in Moscow.";
        assert_eq!(modality("", s), [Modality::Planned]);
        assert_eq!(modality(s, ""), [Modality::Occurred]);
        let s = "Putin met the Iranian foreign minister in Moscow.";
        assert_eq!(modality("", s), [Modality::Occurred]);
        // A noun, not a verb in the present tense: what happened.
        let s = "Putin ended his tour with visits to Iran.";
        assert_eq!(modality("", s), [Modality::Occurred]);
    }
}
