//! The per-sentence pass and its candidates: splitting a field of the story into
//! [`Sentence`]s with their mentions, actors and cues; carrying the [`Context`] from one
//! sentence to the next (the protagonist, the last organ, the recent officials); turning
//! what a shape rule found ([`Finding`]) into a [`Candidate`] with its modality, date,
//! place and matched words; and converting a candidate to the public [`Detection`], in
//! one place.

use std::ops::Range;

use chrono::NaiveDate;

use super::actors::{self, distinct_countries, Actor, ActorKind};
use super::dates::DateMention;
use super::event_types::{CueHit, EventType, Shape};
use super::gazetteer::{CountryForm, Gazetteer, Mention, Target};
use super::text::{self, Folded};
use super::{modality, Detection, Detector};
use crate::model::{DateBasis, DatedBy, EventActor, Evidence, Field, Modality};

/// What the previous sentences left for the next ones.
#[derive(Default)]
pub(super) struct Context {
    /// The last UN organ named (for "the council voted").
    pub last_organization: Option<usize>,
    /// The last official named, for sentences that refer back ("He met Lavrov").
    pub protagonist: Option<Actor>,
    /// The officials of the last two states named, most recent first (for "the two
    /// sides met").
    pub recent: Vec<Actor>,
}

impl Context {
    /// Takes in what sentence `s` names: its last UN organ, its first official (who
    /// becomes the protagonist) and its officials (who become the recent ones).
    pub fn update(&mut self, gazetteer: &Gazetteer, s: &Sentence) {
        let is_un = |org: usize| gazetteer.organizations[org].vote_body.is_some();
        if let Some(o) = s
            .actors
            .iter()
            .rev()
            .find_map(|a| a.organization.filter(|o| is_un(*o)))
        {
            self.last_organization = Some(o);
        }
        if let Some(a) = s
            .actors
            .iter()
            .find(|a| matches!(a.kind, ActorKind::Named | ActorKind::Role))
        {
            let mut a = a.clone();
            a.name_hint = Some(s.original[a.span.clone()].to_string());
            self.protagonist = Some(a);
        }
        for a in s
            .actors
            .iter()
            .filter(|a| matches!(a.kind, ActorKind::Named | ActorKind::Role))
        {
            let mut a = a.clone();
            a.name_hint = Some(s.original[a.span.clone()].to_string());
            self.recent.retain(|r| r.country != a.country);
            self.recent.insert(0, a);
            self.recent.truncate(2);
        }
    }
}

/// One field of the story (title or text), folded and searched once for all its
/// sentences.
pub(super) struct Passage<'a> {
    field: Field,
    body: &'a str,
    folded: Folded,
    mentions: Vec<Mention<'a>>,
    cues: Vec<CueHit<'a>>,
}

impl<'a> Passage<'a> {
    pub fn new(detector: &'a Detector, field: Field, body: &'a str) -> Passage<'a> {
        let folded = text::fold(body);
        let mentions = detector.gazetteer.find(body, &folded);
        let cues = detector.types.find(&folded);
        Passage {
            field,
            body,
            folded,
            mentions,
            cues,
        }
    }

    /// The field's text.
    pub fn body(&self) -> &'a str {
        self.body
    }

    /// The officials this field names in full (two words or more: "Mahinda Rajapaksa",
    /// not "Rajapaksa").
    pub fn named_in_full(&self, gazetteer: &Gazetteer, into: &mut Vec<usize>) {
        for m in &self.mentions {
            if !self.body[m.span.clone()].contains(' ') {
                continue;
            }
            for t in m.targets {
                if let Target::Official(o) = *t {
                    if !into.contains(&o) && gazetteer.officials[o].name.contains(' ') {
                        into.push(o);
                    }
                }
            }
        }
    }

    /// Adds the family names of the officials the story names in full (`named`) as
    /// mentions of them ("Zardari will leave Beijing" after "President Asif Ali
    /// Zardari").
    pub fn add_family_names(
        &mut self,
        gazetteer: &'a Gazetteer,
        named: &[usize],
        published: Option<NaiveDate>,
    ) {
        let more = gazetteer.family_name_mentions(
            named,
            published,
            self.body,
            &self.folded,
            &self.mentions,
        );
        if !more.is_empty() {
            self.mentions.extend(more);
            self.mentions.sort_by_key(|m| m.span.start);
        }
    }

    /// The sentences of the field, in order (the title is one sentence), each with its
    /// mentions, cues and actors on `published`.
    pub fn sentences<'p>(
        &'p self,
        gazetteer: &'p Gazetteer,
        published: Option<NaiveDate>,
    ) -> impl Iterator<Item = Sentence<'p>> + 'p {
        let ranges = if self.field == Field::Title {
            std::iter::once(0..self.body.len()).collect()
        } else {
            text::sentences(self.body)
        };
        let (mentions, cues, folded) = (&self.mentions, &self.cues, &self.folded);
        // Mentions and cues are sorted by start: walk them alongside the sentences.
        let (mut next_mention, mut next_cue) = (0, 0);
        ranges.into_iter().map(move |range| {
            let folded_span = folded.folded_offset(range.start)..folded.folded_offset(range.end);
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
            Sentence {
                field: self.field,
                original: self.body,
                span: range,
                folded,
                actors: actors::resolve(gazetteer, self.body, folded, sentence_mentions, published),
                cues: sentence_cues,
                mentions: sentence_mentions,
                folded_span,
                published,
            }
        })
    }
}

/// One sentence, ready for the rules.
pub(super) struct Sentence<'a> {
    pub field: Field,
    /// The whole field the sentence is in.
    pub original: &'a str,
    /// The sentence's byte span in `original`.
    pub span: Range<usize>,
    /// The whole field, folded.
    pub folded: &'a Folded,
    pub folded_span: Range<usize>,
    pub actors: Vec<Actor>,
    pub cues: Vec<&'a CueHit<'a>>,
    /// The gazetteer mentions of the sentence, actors or not ("an African tour").
    pub mentions: &'a [Mention<'a>],
    /// The story's publication date, which dates and offices are read against; `None`
    /// for an undated story (no date is resolved, no role names a person).
    pub published: Option<NaiveDate>,
}

/// What a shape rule found in a sentence, before modality, date and place.
pub(super) struct Finding<'s> {
    /// The phrase that triggered the rule (for organisations: the organ's decision word).
    pub trigger: &'s CueHit<'s>,
    pub participants: Vec<Actor>,
    /// The organ's code, for organisational events.
    pub organization: Option<String>,
    pub rule: String,
    pub confidence: f32,
    /// Words the rule matched besides the trigger and the participants: the organ's name.
    pub also_matched: Vec<String>,
}

impl<'s> Finding<'s> {
    /// An event between states (no organisation).
    pub fn of_states(
        trigger: &'s CueHit<'s>,
        participants: Vec<Actor>,
        rule: String,
        confidence: f32,
    ) -> Finding<'s> {
        Finding {
            trigger,
            participants,
            organization: None,
            rule,
            confidence,
            also_matched: Vec::new(),
        }
    }
}

/// An event a shape rule found in one sentence, with its modality, date and place: what
/// becomes a [`Detection`].
#[derive(Debug, Clone)]
pub struct Candidate<'d> {
    /// Index of the event type in the detector's [`super::event_types::EventTypes`].
    pub type_index: usize,
    pub participants: Vec<Actor>,
    /// Sorted, distinct ISO alpha-3 codes of the participants' states.
    pub countries: Vec<String>,
    /// The organ's code, for organisational events.
    pub organization: Option<String>,
    /// The trigger hit (folded span of the field's text, and its cues).
    pub trigger: CueHit<'d>,
    /// The name of the rule that found the event: "bilateral: named + role".
    pub rule: String,
    pub modality: Modality,
    pub date: Option<DateMention>,
    /// Where the event takes place, in the story's words.
    pub place: Option<String>,
    pub field: Field,
    /// The sentence's byte span in its field.
    pub sentence: Range<usize>,
    /// The words that matched, in order: the trigger, the organ's name, the modality cue,
    /// the participants.
    pub matched: Vec<String>,
    /// The rule's confidence, before the headline's discount.
    pub confidence: f32,
    /// The day the sentence's dates and offices were read against (none: undated).
    pub published: Option<NaiveDate>,
}

impl Candidate<'_> {
    /// What identifies the event within its type, as [`Detection::key`].
    pub fn key(&self) -> String {
        match &self.organization {
            Some(o) if self.countries.is_empty() => o.clone(),
            _ => self.countries.join("-"),
        }
    }
}

impl Detector {
    /// Turns what the rule of type `ti` found in `s` into a candidate: modality and date
    /// ([`modality`]), place and matched words.
    pub(super) fn candidate<'s>(
        &self,
        ti: usize,
        t: &EventType,
        s: &Sentence<'s>,
        found: Finding<'s>,
    ) -> Candidate<'s> {
        let trigger = found.trigger;
        let mut matched = vec![s.folded.text[trigger.start..trigger.end].to_string()];
        matched.extend(found.also_matched);
        let timing = modality::timing(ti, t, s, trigger, &self.lexicon);
        if let Some(h) = timing.cue {
            matched.push(s.folded.text[h.start..h.end].to_string());
        }
        let mut countries: Vec<String> = distinct_countries(&found.participants)
            .into_iter()
            .map(|c| self.gazetteer.countries[c].code.clone())
            .collect();
        countries.sort();
        let place = place(t, s, trigger, &found.participants);
        matched.extend(found.participants.iter().map(|a| actor_text(a, s.original)));
        Candidate {
            type_index: ti,
            participants: found.participants,
            countries,
            organization: found.organization,
            trigger: trigger.clone(),
            rule: found.rule,
            modality: timing.modality,
            date: timing.date,
            place,
            field: s.field,
            sentence: s.span.clone(),
            matched,
            confidence: found.confidence,
            published: s.published,
        }
    }

    /// The detection a candidate found in `body` (the text of its field) makes: its actors
    /// as the gazetteer names them, its confidence (a headline's a little lower) and its
    /// evidence.
    pub(super) fn detection(&self, c: Candidate, body: &str) -> Detection {
        let actors: Vec<EventActor> = c
            .participants
            .iter()
            .map(|a| EventActor {
                name: a
                    .official
                    .map(|o| self.gazetteer.officials[o].name.clone())
                    .or_else(|| a.name_in_text.clone()),
                country: a.country.map(|c| self.gazetteer.countries[c].code.clone()),
                role: if a.target {
                    Some("target".to_string())
                } else {
                    a.role.map(|r| r.as_str().to_string())
                },
                text: actor_text(a, body),
            })
            .collect();
        let mut confidence = c.confidence;
        if c.field == Field::Title {
            confidence -= 0.05;
        }
        // The text names someone for an office they did not hold that day.
        if c.participants.iter().any(|a| a.off_term) {
            confidence -= OFF_TERM_PENALTY;
        }
        let sentence_text = &body[c.sentence.clone()];
        let start = body[..c.sentence.start].chars().count();
        Detection {
            event_type: self.types.types[c.type_index].id.clone(),
            actors,
            countries: c.countries,
            organization: c.organization,
            location: c.place,
            date: c.date.map(|d| d.span),
            modality: c.modality,
            confidence: confidence.clamp(0.05, 0.99),
            evidence: Evidence {
                field: c.field,
                sentence: sentence_text.to_string(),
                start,
                end: start + sentence_text.chars().count(),
                rule: c.rule,
                matched: c.matched,
                resolved_against: c.published.map(|date| DatedBy {
                    date,
                    basis: DateBasis::Published,
                }),
            },
        }
    }
}

/// How much less sure an event is when the text names an official for an office they
/// did not hold on the story's date.
pub const OFF_TERM_PENALTY: f32 = 0.1;

/// An actor's words: its own span of `body`, or, for an actor carried from an earlier
/// sentence (or the title), the words it brought (its span belongs to the text it was
/// found in).
fn actor_text(a: &Actor, body: &str) -> String {
    match &a.name_hint {
        Some(words) => words.clone(),
        None => body.get(a.span.clone()).unwrap_or_default().to_string(),
    }
}

/// Where: a participant that is a place after the trigger ("visited Beijing"), else the
/// place named nearest the trigger, preferring one after it ("met … in Moscow"). None for
/// organisational events.
fn place(t: &EventType, s: &Sentence, trigger: &CueHit, participants: &[Actor]) -> Option<String> {
    let is_capital = |a: &&Actor| {
        matches!(a.kind, ActorKind::Place | ActorKind::State)
            && a.form != Some(CountryForm::Metonym)
    };
    participants
        .iter()
        .filter(is_capital)
        // Only actors of this sentence: a carried one's span is in another text; and
        // the state acted against is a party, not a place.
        .find(|a| a.name_hint.is_none() && !a.target && a.folded.start >= trigger.start)
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
        .map(str::to_string)
}
