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
pub mod decide;
pub mod event_types;
pub mod gazetteer;
pub mod logistic;
pub mod text;

use std::collections::HashSet;
use std::ops::Range;

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

use actors::{Actor, ActorKind};
use decide::DecisionModel;
use event_types::{Cue, CueHit, EventType, EventTypes, Shape};
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
    /// Decides which candidates are events, and how sure; `None` keeps every candidate
    /// the rules propose, with the rules' confidence.
    pub decision: Option<DecisionModel>,
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
            decision: Some(DecisionModel::embedded()?),
        })
    }

    /// Rules only: every candidate they propose is a detection.
    pub fn new(gazetteer: Gazetteer, types: EventTypes) -> Detector {
        Detector {
            gazetteer,
            types,
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
            decision: Some(decision),
        })
    }

    /// Finds every event in the article, at most one per type, key and modality: the
    /// rules' candidates ([`Detector::propose`]) that the decision layer accepts, with
    /// its calibrated confidence.
    pub fn detect(&self, article: &Article) -> Vec<Detection> {
        let candidates = self.propose(article);
        match &self.decision {
            Some(model) => model.decide(article.title, candidates),
            None => candidates,
        }
    }

    /// The rules' candidate events in the article, at most one per type, key and
    /// modality, with the rules' confidence.
    pub fn propose(&self, article: &Article) -> Vec<Detection> {
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

    /// Applies one event type's rule to one sentence.
    fn apply(
        &self,
        ti: usize,
        t: &EventType,
        s: &Sentence,
        ctx: &Context,
        published: NaiveDate,
    ) -> Vec<Detection> {
        let has = |f: &dyn Fn(&Cue) -> bool| s.cues.iter().any(|h| h.cues.iter().any(f));
        let triggers = self.triggers(ti, s);
        let Some(&trigger) = triggers.first() else {
            return Vec::new();
        };
        if t.has_requirements && !has(&|c| *c == Cue::Require(ti)) {
            return Vec::new();
        }
        let excluded = has(&|c| *c == Cue::Exclude(ti));
        match t.shape {
            Shape::Organization => {
                if excluded {
                    return Vec::new();
                }
                // Each organ named in the sentence with a decision word near it: "debated
                // the resolution that fell at the Security Council on a veto" is a Security
                // Council vote even when the General Assembly is named first.
                let decisions: Vec<&CueHit> = s
                    .cues
                    .iter()
                    .copied()
                    .filter(|h| {
                        h.cues.contains(&Cue::Require(ti)) || h.cues.contains(&Cue::Trigger(ti))
                    })
                    .collect();
                let mut chosen: Vec<(Option<usize>, String, &str, f32, &CueHit)> = Vec::new();
                for a in &s.actors {
                    let Some(o) = a.organization else { continue };
                    let Some(h) = decisions.iter().copied().min_by_key(|h| distance(a, h)) else {
                        continue;
                    };
                    // The organ nearest its decision word wins it.
                    let nearest = s
                        .actors
                        .iter()
                        .filter(|b| b.organization.is_some())
                        .min_by_key(|b| distance(b, h));
                    if nearest.is_some_and(|b| b.organization != Some(o))
                        && distance(a, h) > ORG_NEAR
                    {
                        continue;
                    }
                    if self.organization_counts(t, o) {
                        let code = self.body_code(o);
                        if chosen.iter().all(|c| c.1 != code) {
                            chosen.push((
                                Some(o),
                                code,
                                "organization: named",
                                t.confidence + 0.1,
                                h,
                            ));
                        }
                    } else if let Some(body) = s
                        .cues
                        .iter()
                        .filter(|_| {
                            // Only the UN as a whole, acting right there: "the United Nations
                            // voted to impose sanctions".
                            self.gazetteer.organizations[o].kind == "un"
                                && h.start >= a.folded.end
                                && distance(a, h) <= ORG_NEAR / 3
                        })
                        .find_map(|c| {
                            c.cues.iter().find_map(|x| match x {
                                Cue::BodyHint(i, k) if *i == ti => t.body_hints.get(*k).cloned(),
                                _ => None,
                            })
                        })
                    {
                        // "The United Nations voted to impose sanctions": the Security Council.
                        if chosen.iter().all(|c| c.1 != body) {
                            chosen.push((
                                Some(o),
                                body,
                                "organization: named, organ from context",
                                t.confidence - 0.05,
                                h,
                            ));
                        }
                    }
                }
                if chosen.is_empty() {
                    // "The council voted 13-0": a phrase that refers back to the last organ
                    // of its kind; or a tally ("99 votes in favour, 52 against") that can
                    // only be the last organ named.
                    let back = s
                        .cues
                        .iter()
                        .find(|h| h.cues.contains(&Cue::BackReference(ti)));
                    let org = match back {
                        Some(h) => {
                            let phrase = &s.folded.text[h.start..h.end];
                            let head = phrase.rsplit(' ').next().unwrap_or(phrase);
                            ctx.last_organization.filter(|&o| {
                                self.organization_counts(t, o) && self.org_named(o, head)
                            })
                        }
                        None if has(&|c| *c == Cue::Tally(ti)) => ctx
                            .last_organization
                            .filter(|&o| self.organization_counts(t, o)),
                        None => None,
                    };
                    let Some(o) = org else { return Vec::new() };
                    let rule = if back.is_some() {
                        "organization: back-reference"
                    } else {
                        "organization: tally"
                    };
                    chosen.push((
                        Some(o),
                        self.body_code(o),
                        rule,
                        t.confidence - 0.05,
                        trigger,
                    ));
                }
                chosen
                    .into_iter()
                    .map(|(org, code, rule, conf, hit)| {
                        let name = org
                            .map(|o| self.gazetteer.organizations[o].name.clone())
                            .unwrap_or_default();
                        self.detection(
                            ti,
                            t,
                            s,
                            hit,
                            &[],
                            Some(code),
                            rule.to_string(),
                            conf,
                            published,
                            vec![name],
                        )
                    })
                    .collect()
            }
            Shape::Bilateral => {
                if excluded {
                    return Vec::new();
                }
                // Every trigger of the sentence: "His visit to Moscow came after Biden
                // visited Ukraine" states two meetings.
                let mut out: Vec<Detection> = Vec::new();
                for trigger in triggers {
                    for (pair, rule, conf) in self.bilateral(t, s, ctx, trigger) {
                        let d = self.detection(
                            ti,
                            t,
                            s,
                            trigger,
                            &pair,
                            None,
                            rule,
                            conf,
                            published,
                            Vec::new(),
                        );
                        if !out
                            .iter()
                            .any(|o| o.key() == d.key() && o.modality == d.modality)
                        {
                            out.push(d);
                        }
                    }
                }
                out
            }
            Shape::Multilateral | Shape::StateAction => {
                if excluded {
                    return Vec::new();
                }
                let actors: Vec<Actor> = s
                    .actors
                    .iter()
                    .filter(|a| {
                        matches!(
                            a.kind,
                            ActorKind::Named | ActorKind::Role | ActorKind::State
                        ) && near(a, trigger, NEAR_STRONG)
                    })
                    .cloned()
                    .collect();
                let n = distinct_countries(&actors).len();
                let needed = if t.shape == Shape::Multilateral { 2 } else { 1 };
                if n < needed {
                    return Vec::new();
                }
                let rule = format!("{}: {n} states", shape_name(t.shape));
                vec![self.detection(
                    ti,
                    t,
                    s,
                    trigger,
                    &actors,
                    None,
                    rule,
                    t.confidence,
                    published,
                    Vec::new(),
                )]
            }
        }
    }

    /// The triggers of type `ti` in the sentence, in order: triggers, place triggers, and
    /// object triggers ("received") when an official follows within a few words.
    fn triggers<'s>(&self, ti: usize, s: &'s Sentence) -> Vec<&'s CueHit<'s>> {
        s.cues
            .iter()
            .copied()
            .filter(|h| {
                // One look at the hit's cues (this runs for every type and every hit).
                let (mut trigger, mut object_trigger) = (false, false);
                for c in h.cues {
                    match *c {
                        Cue::Trigger(i) | Cue::PlaceTrigger(i) if i == ti => trigger = true,
                        Cue::ObjectTrigger(i) if i == ti => object_trigger = true,
                        _ => {}
                    }
                }
                trigger && !meets_a_goal(&s.folded.text[h.start..s.folded_span.end])
                    || object_trigger
                        && s.actors.iter().any(|a| {
                            matches!(a.kind, ActorKind::Named | ActorKind::Role)
                                && a.folded.start >= h.end
                                && a.folded.start <= h.end + 14
                        })
            })
            .collect()
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
        let is_past =
            |w: &str| w.ends_with("ed") || matches!(w, "met" | "held" | "sat" | "flew" | "took");
        // The trigger in the past tense, or (for organisations) any decision word in it:
        // "unanimously adopted".
        let past_tense = is_past(&first_word(trigger))
            || t.shape == Shape::Organization
                && s.cues
                    .iter()
                    .any(|h| h.cues.contains(&Cue::Require(ti)) && is_past(&first_word(h)));
        // Body text in the present tense is an itinerary: "the president visits Kuwait".
        let itinerary = s.field == Field::Text
            && matches!(
                first_word(trigger).as_str(),
                "meets"
                    | "visits"
                    | "travels"
                    | "flies"
                    | "hosts"
                    | "receives"
                    | "welcomes"
                    | "holds"
                    | "tours"
                    | "heads"
            );
        // A meeting verb in the past tense ("when they met in August") happened, whatever
        // was planned before it.
        let met = t.shape != Shape::Organization && is_past(&first_word(trigger));
        let cue = |want_cancelled: bool| {
            let (before, after) = match (want_cancelled, past_tense) {
                (true, _) => (CUE_BEFORE, CUE_AFTER + 20),
                (false, false) => (CUE_BEFORE, CUE_AFTER),
                (false, true) if met => (0, 0),
                (false, true) => (CUE_BEFORE, 0),
            };
            s.cues.iter().find(|h| {
                h.end + before >= trigger.start
                    && h.start <= trigger.end + after
                    // "a press conference with Bush, where he said that he is preparing
                    // to …": a cue in a clause of its own is about something else.
                    && !s
                        .folded
                        .text
                        .get(trigger.end..h.start)
                        .is_some_and(|between| between.contains(" that "))
                    && h.cues.iter().any(|c| match c {
                        Cue::Cancelled(None) => want_cancelled,
                        Cue::Cancelled(Some(i)) => want_cancelled && *i == ti,
                        Cue::Planned(None) => !want_cancelled,
                        Cue::Planned(Some(i)) => !want_cancelled && *i == ti,
                        _ => false,
                    })
            })
        };
        let mut modality = match (cue(true), cue(false)) {
            (Some(h), _) => {
                matched.push(s.folded.text[h.start..h.end].to_string());
                Modality::Cancelled
            }
            (None, Some(h)) => {
                matched.push(s.folded.text[h.start..h.end].to_string());
                Modality::Planned
            }
            _ if itinerary => Modality::Planned,
            _ => Modality::Occurred,
        };
        let sentence_folded = &s.folded.text[s.folded_span.clone()];
        let dates = dates::find_dates(sentence_folded, published, modality == Modality::Planned);
        let trigger_at = trigger.start - s.folded_span.start;
        let date = dates
            .iter()
            .min_by_key(|d| d.start.abs_diff(trigger_at))
            .cloned();
        // A future date makes an event planned, unless the trigger is in the past tense.
        if let Some(d) = &date {
            if modality == Modality::Occurred && d.future && !past_tense {
                modality = Modality::Planned;
            }
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
            date: date.map(|d| d.span),
            modality,
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

    /// The first capitalised word that is no gazetteer mention (and not an ordinary
    /// sentence opener, a title or a region) before folded offset `until` in the sentence.
    fn unknown_name_before<'s>(&self, s: &Sentence<'s>, until: usize) -> Option<&'s str> {
        const OPENERS: &[&str] = &[
            "The",
            "He",
            "She",
            "They",
            "After",
            "Before",
            "During",
            "While",
            "In",
            "On",
            "At",
            "His",
            "Her",
            "Their",
            "It",
            "This",
            "That",
            "Mr",
            "Mrs",
            "Ms",
            "Dr",
            "And",
            "But",
            "Both",
            "Later",
            "Earlier",
            "Meanwhile",
            "Also",
            "When",
            "As",
            "A",
            "An",
            "Last",
            "Next",
            "On",
            "From",
            "With",
            "Speaking",
            "Today",
            "Yesterday",
            "President",
            "Prime",
            "Minister",
            "Secretary",
            "Foreign",
            "Chancellor",
            "King",
            "Premier",
            // Regions: capitalised, but nobody's name ("an African tour").
            "Africa",
            "African",
            "Europe",
            "European",
            "Asia",
            "Asian",
            "Arab",
            "Gulf",
            "Latin",
            "Middle",
            "East",
            "Western",
            "Eastern",
            "Pacific",
            "Caribbean",
            "Balkan",
            "Baltic",
            "Nordic",
        ];
        let end = s
            .folded
            .original(s.folded_span.start..until.max(s.folded_span.start))
            .end
            .min(s.span.end);
        let mut pos = s.span.start;
        for word in
            s.original[s.span.start..end].split(|c: char| !(c.is_alphanumeric() || c == '\''))
        {
            let at = pos;
            pos += word.len() + 1;
            if !word.chars().next().is_some_and(char::is_uppercase) || OPENERS.contains(&word) {
                continue;
            }
            let covered = s
                .mentions
                .iter()
                .any(|m| m.span.start <= at && at < m.span.end);
            if !covered {
                return Some(word);
            }
        }
        None
    }

    /// The last word of a named official's name: "Hill" for Christopher Hill.
    fn surname_of(&self, a: &Actor) -> Option<&str> {
        let o = &self.gazetteer.officials[a.official?];
        o.name.rsplit(' ').next()
    }

    /// The key an organisation's decisions are filed under: its UN vote body, or its code.
    fn body_code(&self, org: usize) -> String {
        let o = &self.gazetteer.organizations[org];
        o.vote_body.clone().unwrap_or_else(|| o.code.clone())
    }

    /// Whether an organisation's name or an alias contains `word` ("council").
    fn org_named(&self, org: usize, word: &str) -> bool {
        let o = &self.gazetteer.organizations[org];
        std::iter::once(&o.name)
            .chain(&o.aliases)
            .any(|n| text::fold(n).text.split(' ').any(|w| w == word))
    }

    fn organization_counts(&self, t: &EventType, org: usize) -> bool {
        let o = &self.gazetteer.organizations[org];
        t.organizations
            .iter()
            .any(|want| Some(want) == o.vote_body.as_ref() || *want == o.code)
    }

    /// The pairs of states of a bilateral event in this sentence: two states near the
    /// trigger; or a visitor and each place after a place trigger ("toured Kenya and
    /// Ghana"); or one state here and the previous sentences' protagonist when the
    /// sentence refers back to them ("He met Lavrov").
    fn bilateral(
        &self,
        t: &EventType,
        s: &Sentence,
        ctx: &Context,
        trigger: &CueHit,
    ) -> Vec<(Vec<Actor>, String, f32)> {
        let ti = self
            .types
            .types
            .iter()
            .position(|x| x.id == t.id)
            .unwrap_or(0);
        // "Israeli-Palestinian peace talks", "a Lebanese-Syrian commission will meet": the
        // two states joined by a hyphen just before the trigger are its parties.
        if let Some(pair) = hyphenated_pair(s, trigger) {
            return vec![(
                pair,
                "bilateral: hyphenated pair".to_string(),
                t.confidence - 0.05,
            )];
        }
        // Three or more states among the officials of the sentence: a multilateral
        // meeting, unless two of them are said to meet apart.
        let officials: Vec<Actor> = s
            .actors
            .iter()
            .filter(|a| matches!(a.kind, ActorKind::Named | ActorKind::Role))
            .cloned()
            .collect();
        if distinct_countries(&officials).len() >= 3
            && !trigger.cues.contains(&Cue::PlaceTrigger(ti))
        {
            return Vec::new();
        }
        // "The UN chief met the Ukrainian president": a meeting with an organisation.
        let subject = s.actors.iter().rev().find(|a| {
            a.folded.end <= trigger.start && !matches!(a.kind, ActorKind::Place | ActorKind::Topic)
        });
        if subject.is_some_and(|a| a.kind == ActorKind::Organization) {
            return Vec::new();
        }
        let mut side: Vec<Actor> = Vec::new();
        let push = |a: &Actor, side: &mut Vec<Actor>| {
            if a.country.is_some() && side.iter().all(|c| c.country != a.country) {
                side.push(a.clone());
            }
        };
        for a in s.actors.iter().filter(|a| {
            matches!(a.kind, ActorKind::Named | ActorKind::Role) && near(a, trigger, NEAR_STRONG)
        }) {
            push(a, &mut side);
        }
        for a in s
            .actors
            .iter()
            // "the Singapore summit", "the Geneva talks": a place, not a party.
            .filter(|a| {
                a.kind == ActorKind::State
                    && near(a, trigger, NEAR_STATE)
                    && a.folded.end + 1 != trigger.start
                    // "China condemned the meeting": a state reacting to it.
                    && !reacts(&s.folded.text[a.folded.end..s.folded_span.end])
            })
        {
            push(a, &mut side);
        }
        // The protagonist stands in when the words before the trigger refer back to them
        // ("He will visit", "During his visit"), and only when nobody else (a name the
        // gazetteer does not know: "Hill, ending his trip, flies to Seoul") could be the
        // subject — unless that name is the surname of an official named before ("Hill"
        // after "Christopher Hill").
        let protagonist = match self.unknown_name_before(s, trigger.start) {
            None => ctx
                .protagonist
                .as_ref()
                .filter(|_| refers_back(&s.folded.text[s.folded_span.start..trigger.start])),
            Some(word) => ctx
                .protagonist
                .iter()
                .chain(&ctx.recent)
                .find(|p| self.surname_of(p) == Some(word)),
        };
        let mut confidence = t.confidence;

        // Visits: a visitor and every place named after a place trigger.
        if trigger.cues.contains(&Cue::PlaceTrigger(ti)) {
            let p = trigger;
            let official = |a: &&Actor| matches!(a.kind, ActorKind::Named | ActorKind::Role);
            let visitor = side
                .iter()
                .filter(official)
                .find(|a| a.folded.start < p.start)
                .or_else(|| {
                    // "a visit to Moscow by Chinese President Xi Jinping", in the same clause
                    // (not "arrived in London, and was met by the Chinese ambassador").
                    side.iter().filter(official).find(|a| {
                        a.folded.start > p.end
                            && s.folded.text[..a.folded.start].trim_end().ends_with(" by")
                            && !s.folded.text[p.end..a.folded.start].contains([',', ';'])
                    })
                })
                .or(protagonist)
                .cloned();
            // "visits British personnel": the visitor's own people, not a host.
            let own_people = |v: &Actor| {
                s.actors.iter().any(|a| {
                    a.folded.start > p.end && a.folded.start <= p.end + 12 && a.country == v.country
                })
            };
            if let Some(visitor) = visitor.filter(|v| !own_people(v)) {
                // The places right after the trigger, and the list they start ("Kuwait,
                // Bahrain and Egypt").
                let mut hosts: Vec<&Actor> = Vec::new();
                // The first place must follow the trigger closely ("visited Kenya", "a trip
                // to Moscow"), not sit in a later phrase ("visited a facility in Iraq").
                let mut reach = p.end + 60;
                for a in s.actors.iter().filter(|a| a.folded.start >= p.start) {
                    if a.folded.start > reach {
                        break;
                    }
                    if a.folded.start >= visitor.folded.start
                        && a.folded.start <= visitor.folded.end
                    {
                        continue;
                    }
                    // "visited a naval base in Iraq", "a visit to troops in Iraq": a visit to
                    // a site in the country, not to its government.
                    if hosts.is_empty()
                        && names_a_site(s.folded.text.get(p.end..a.folded.start).unwrap_or(""))
                    {
                        break;
                    }
                    if matches!(a.kind, ActorKind::Place | ActorKind::State)
                        && a.country != visitor.country
                    {
                        hosts.push(a);
                        reach = a.folded.end + 25;
                    }
                }
                // "… is in South Africa on an official visit": the place just before.
                if hosts.is_empty() {
                    if let Some(h) = s.actors.iter().rev().find(|a| {
                        a.kind == ActorKind::Place
                            && a.folded.end <= p.start
                            && a.folded.end + 24 >= p.start
                            && a.country != visitor.country
                    }) {
                        hosts.push(h);
                    }
                }
                if !hosts.is_empty() {
                    let mut out = Vec::new();
                    let mut seen = Vec::new();
                    for h in hosts {
                        if seen.contains(&h.country) {
                            continue;
                        }
                        seen.push(h.country);
                        let conf = confidence
                            + if visitor.kind == ActorKind::Named {
                                0.05
                            } else {
                                0.0
                            };
                        out.push((
                            vec![visitor.clone(), h.clone()],
                            format!("bilateral: {} visits place", kind_name(visitor.kind)),
                            conf,
                        ));
                    }
                    return out;
                }
            }
        }
        // A place trigger alone ("arrived in") needs a visitor and a place.
        if !trigger.cues.contains(&Cue::Trigger(ti))
            && !trigger.cues.contains(&Cue::ObjectTrigger(ti))
        {
            return Vec::new();
        }
        let mut rule: Vec<&str> = side.iter().map(|a| kind_name(a.kind)).collect();
        if side.len() == 1 {
            // Only for an official met by the sentence's subject: "He met Lavrov", "The
            // president received the Iranian envoy".
            let sentence = &s.folded.text[s.folded_span.clone()];
            let subject_refers_back = starts_with_reference(sentence);
            let official = matches!(side[0].kind, ActorKind::Named | ActorKind::Role);
            // "They" stands for a group ("Iranian officials"), never for one person.
            let fits = |p: &Actor| !sentence.starts_with("they ") || is_group(p);
            if let Some(p) = protagonist.filter(|p| {
                p.country != side[0].country && subject_refers_back && official && fits(p)
            }) {
                side.push(p.clone());
                rule.push("previous sentence");
                confidence -= 0.15;
            }
        }
        // "The two sides met for four hours": the last two states named.
        // A state named here as the venue does not stop it: "at a summit in Egypt, the
        // first meeting between the two sides".
        if side.len() < 2
            && side.iter().all(|a| a.kind == ActorKind::State)
            && ctx.recent.len() == 2
            && names_both_sides(&s.folded.text[s.folded_span.clone()])
        {
            side = ctx.recent.clone();
            rule.extend(["previous sentence", "previous sentence"]);
            confidence -= 0.2;
        }
        if side.len() != 2 {
            return Vec::new();
        }
        confidence += match (side[0].kind, side[1].kind) {
            (ActorKind::Named, ActorKind::Named) => 0.15,
            (ActorKind::Named | ActorKind::Role, ActorKind::Named | ActorKind::Role) => 0.05,
            _ => -0.1,
        };
        vec![(side, format!("bilateral: {}", rule.join(" + ")), confidence)]
    }
}

/// How far (bytes of folded text) a second organ may stand from its decision word.
const ORG_NEAR: usize = 60;

fn distance(a: &Actor, h: &CueHit) -> usize {
    if a.folded.end <= h.start {
        h.start - a.folded.end
    } else {
        a.folded.start.saturating_sub(h.end)
    }
}

/// How far before and after a trigger a modality cue may stand (bytes of folded text).
const CUE_BEFORE: usize = 60;
const CUE_AFTER: usize = 40;

/// How far (bytes of folded text) from the trigger an official may stand.
const NEAR_STRONG: usize = 140;
/// How far a bare state name ("Greece and Turkey held talks") may stand.
const NEAR_STATE: usize = 60;

fn near(a: &Actor, trigger: &CueHit, limit: usize) -> bool {
    let gap = if a.folded.end <= trigger.start {
        trigger.start - a.folded.end
    } else {
        a.folded.start.saturating_sub(trigger.end)
    };
    gap <= limit
}

/// The two states of a hyphenated pair that qualifies the trigger: "Israeli-Palestinian
/// peace talks", "the US-China trade negotiations", "a Lebanese-Syrian military commission
/// will meet". At most three words may stand between the pair and the trigger.
fn hyphenated_pair(s: &Sentence, trigger: &CueHit) -> Option<Vec<Actor>> {
    let country = |m: &Mention| {
        m.targets.iter().find_map(|t| match *t {
            gazetteer::Target::Country(c, form) => Some((c, form)),
            _ => None,
        })
    };
    let text = &s.folded.text;
    s.mentions.windows(2).find_map(|w| {
        let (a, b) = (&w[0], &w[1]);
        let ((ca, fa), (cb, fb)) = (country(a)?, country(b)?);
        let between = text.get(b.folded.end..trigger.start)?;
        let joined = &text[a.folded.end..b.folded.start] == "-"
            && !text[..a.folded.start].ends_with('-')
            && !text[b.folded.end..].starts_with('-');
        let close = between.starts_with(' ')
            && between.split_whitespace().count() <= 3
            && !between.contains(|c: char| !(c.is_alphanumeric() || c == ' '));
        (ca != cb && joined && close).then(|| {
            [(a, ca, fa), (b, cb, fb)]
                .into_iter()
                .map(|(m, c, form)| Actor {
                    kind: ActorKind::State,
                    country: Some(c),
                    official: None,
                    role: None,
                    organization: None,
                    folded: m.folded.clone(),
                    span: m.span.clone(),
                    name_hint: None,
                    form: Some(form),
                })
                .collect()
        })
    })
}

/// Whether "meet" starts a phrase about a goal rather than people: "meet land reform
/// promises", "met the conditions", "meeting its targets".
fn meets_a_goal(from_trigger: &str) -> bool {
    const GOALS: &[&str] = &[
        "promise",
        "promises",
        "demand",
        "demands",
        "target",
        "targets",
        "goal",
        "goals",
        "need",
        "needs",
        "deadline",
        "deadlines",
        "criteria",
        "condition",
        "conditions",
        "requirement",
        "requirements",
        "standard",
        "standards",
        "obligation",
        "obligations",
        "expectations",
        "commitments",
        "costs",
        "challenge",
        "challenges",
    ];
    let mut words = from_trigger
        .split(|c: char| !(c.is_alphanumeric() || c == '-'))
        .filter(|w| !w.is_empty());
    if !matches!(words.next(), Some("meet" | "meets" | "met" | "meeting")) {
        return false;
    }
    // The object: up to four words, stopping at a preposition that introduces people.
    words
        .take(4)
        .take_while(|w| !matches!(*w, "with" | "by" | "and" | "in" | "at" | "on"))
        .any(|w| GOALS.contains(&w))
}

/// Whether the words after a state make it someone reacting to an event rather than
/// taking part: "China condemned the meeting", "Tokyo has protested against the visit".
/// Only objections: a state that welcomes someone may well be the host.
fn reacts(after_state: &str) -> bool {
    const REACTIONS: &[&str] = &[
        "condemned",
        "condemns",
        "criticised",
        "criticized",
        "criticises",
        "criticizes",
        "denounced",
        "denounces",
        "protested",
        "protests",
        "slammed",
        "objected",
        "objects",
        "deplored",
    ];
    after_state
        .split(|c: char| !c.is_alphanumeric())
        .filter(|w| !w.is_empty())
        .take(3)
        .any(|w| REACTIONS.contains(&w))
}

/// Whether the words between a visit and a place name a site that is not the host
/// government: troops, a base, an embassy, a conference.
fn names_a_site(between: &str) -> bool {
    const SITES: &[&str] = &[
        "troops",
        "soldiers",
        "forces",
        "base",
        "bases",
        "facility",
        "facilities",
        "project",
        "projects",
        "embassy",
        "consulate",
        "site",
        "sites",
        "plant",
        "factory",
        "school",
        "hospital",
        "camp",
        "camps",
        "museum",
        "memorial",
        "shrine",
        "headquarters",
        "conference",
        "summit",
        "university",
        "family",
        "relatives",
    ];
    between
        .split(|c: char| !c.is_alphanumeric())
        .any(|w| SITES.contains(&w))
}

/// Whether a sentence speaks of both parties at once: "the two sides", "the two leaders".
fn names_both_sides(sentence: &str) -> bool {
    [
        "the two sides",
        "both sides",
        "the two leaders",
        "the two men",
        "the two ministers",
        "the two presidents",
        "the two countries",
    ]
    .iter()
    .any(|p| sentence.contains(p))
}

/// Whether an actor is a group of people ("Iranian officials", "the Chinese delegation")
/// rather than one person.
fn is_group(a: &Actor) -> bool {
    if a.kind == ActorKind::Named {
        return false;
    }
    let words = a.name_hint.as_deref().unwrap_or_default().to_lowercase();
    let last = words.rsplit(' ').next().unwrap_or_default();
    last.ends_with('s')
        || matches!(
            last,
            "delegation" | "government" | "team" | "side" | "administration" | "cabinet"
        )
}

/// Whether a sentence's subject refers back: it opens with "he", "she", "they", or "the"
/// and a title ("The president …").
fn starts_with_reference(sentence: &str) -> bool {
    let mut words = sentence
        .split(|c: char| !c.is_alphanumeric())
        .filter(|w| !w.is_empty());
    match (words.next(), words.next()) {
        (Some("he" | "she" | "they"), _) => true,
        (Some("the"), Some(w)) => matches!(
            w,
            "president"
                | "prime"
                | "minister"
                | "secretary"
                | "chancellor"
                | "king"
                | "premier"
                | "leader"
                | "two"
                | "foreign"
                | "envoy"
                | "diplomat"
                | "delegation"
                | "visitor"
                | "visiting"
        ),
        (Some("both"), Some("sides" | "leaders" | "men" | "ministers")) => true,
        _ => false,
    }
}

/// Whether a sentence refers back to someone named before: a pronoun or a title alone.
fn refers_back(sentence: &str) -> bool {
    const ALONE: &[&str] = &[
        "he",
        "she",
        "they",
        "his",
        "her",
        "him",
        "counterpart",
        "counterparts",
    ];
    // "The trip", "the visit": the journey of the official named before.
    const AFTER_THE: &[&str] = &[
        "trip",
        "visit",
        "tour",
        "president",
        "prime",
        "minister",
        "secretary",
        "chancellor",
        "king",
        "premier",
        "leader",
        "two",
        "foreign",
        "envoy",
        "diplomat",
        "delegation",
        "visitor",
        "visiting",
    ];
    let mut previous = "";
    for word in sentence
        .split(|c: char| !c.is_alphanumeric())
        .filter(|w| !w.is_empty())
    {
        if ALONE.contains(&word)
            || previous == "the" && AFTER_THE.contains(&word)
            || previous == "both" && word == "sides"
        {
            return true;
        }
        previous = word;
    }
    false
}

fn kind_name(k: ActorKind) -> &'static str {
    match k {
        ActorKind::Named => "named",
        ActorKind::Role => "role",
        ActorKind::State => "state",
        ActorKind::Place => "place",
        ActorKind::Topic => "topic",
        ActorKind::Organization => "organization",
    }
}

fn shape_name(s: Shape) -> &'static str {
    match s {
        Shape::Bilateral => "bilateral",
        Shape::Multilateral => "multilateral",
        Shape::StateAction => "state action",
        Shape::Organization => "organization",
    }
}

fn distinct_countries(actors: &[Actor]) -> Vec<usize> {
    let mut out: Vec<usize> = Vec::new();
    for a in actors {
        if let Some(c) = a.country {
            if !out.contains(&c) {
                out.push(c);
            }
        }
    }
    out
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
