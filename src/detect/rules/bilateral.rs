//! The bilateral rule: exactly two states meeting. Two officials (or governments) near
//! the trigger; a visitor and each place after a place trigger; a hyphenated pair ("US-China
//! talks"); or one side here and the other carried from the sentences before ("He met
//! Lavrov", "the two sides met").

use super::{kind_name, near, NEAR_STATE, NEAR_STRONG};
use crate::detect::actors::{distinct_countries, Actor, ActorKind};
use crate::detect::candidates::{Candidate, Context, Finding, Sentence};
use crate::detect::event_types::{Cue, CueHit, EventType};
use crate::detect::gazetteer::{self, CountryForm, Mention};
use crate::detect::lexicon::Lexicon;
use crate::detect::Detector;

impl Detector {
    /// The bilateral events of type `ti` in the sentence: one per pair of states and
    /// modality, from every trigger.
    pub(super) fn bilateral_rule<'s>(
        &self,
        ti: usize,
        t: &EventType,
        s: &Sentence<'s>,
        ctx: &Context,
        triggers: Vec<&'s CueHit<'s>>,
    ) -> Vec<Candidate<'s>> {
        // Every trigger of the sentence: "His visit to Moscow came after Biden
        // visited Ukraine" states two meetings.
        let mut out: Vec<Candidate> = Vec::new();
        for trigger in triggers {
            for found in self.bilateral(t, s, ctx, trigger) {
                let c = self.candidate(ti, t, s, found);
                if !out
                    .iter()
                    .any(|o| o.key() == c.key() && o.modality == c.modality)
                {
                    out.push(c);
                }
            }
        }
        out
    }

    /// The first capitalised word that is no gazetteer mention (and not an ordinary
    /// sentence opener, a title or a region) before folded offset `until` in the sentence.
    fn unknown_name_before<'s>(&self, s: &Sentence<'s>, until: usize) -> Option<&'s str> {
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
            if !word.chars().next().is_some_and(char::is_uppercase)
                || self.lexicon.sentence_openers.contains(word)
                || self.lexicon.regions.contains(word)
                // "Mr Howard": the surname after the honorific is the name.
                || self.lexicon.honorifics.contains(word)
                || crate::detect::dates::is_calendar_word(word)
            {
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

    /// Whether the word right after a place trigger is a region ("a trip to Asia").
    fn to_a_region(&self, s: &Sentence, trigger: &CueHit) -> bool {
        let after = s.folded.original(trigger.end..trigger.end).start;
        s.original
            .get(after..s.span.end)
            .and_then(|rest| rest.split_whitespace().next())
            .is_some_and(|w| {
                self.lexicon
                    .regions
                    .contains(w.trim_end_matches(|c: char| !c.is_alphanumeric()))
            })
    }

    /// Whether `word` is the family name of a named official: the last word of the name
    /// ("Hill" for Christopher Hill), or the first where names put it first ("Ban" for
    /// Ban Ki-moon).
    fn is_surname_of(&self, a: &Actor, word: &str) -> bool {
        let name = match a.official {
            Some(o) => self.gazetteer.officials[o].name.as_str(),
            // "US Energy Secretary Sam Bodman" … "Bodman said".
            None => match a.name_in_text.as_deref() {
                Some(name) => name,
                None => return false,
            },
        };
        let family_first = a.country.is_some_and(|c| {
            self.lexicon
                .family_name_first
                .contains(&self.gazetteer.countries[c].code)
        });
        name.rsplit(' ').next() == Some(word)
            || family_first && name.contains(' ') && name.split(' ').next() == Some(word)
    }

    /// The pairs of states of a bilateral event in this sentence: two states near the
    /// trigger; or a visitor and each place after a place trigger ("toured Kenya and
    /// Ghana"); or one state here and the previous sentences' protagonist when the
    /// sentence refers back to them ("He met Lavrov").
    fn bilateral<'s>(
        &self,
        t: &EventType,
        s: &Sentence,
        ctx: &Context,
        trigger: &'s CueHit<'s>,
    ) -> Vec<Finding<'s>> {
        let ti = self
            .types
            .types
            .iter()
            .position(|x| x.id == t.id)
            .unwrap_or(0);
        // "Israeli-Palestinian peace talks", "a Lebanese-Syrian commission will meet": the
        // two states joined by a hyphen just before the trigger are its parties.
        if let Some(pair) = hyphenated_pair(s, trigger) {
            return vec![Finding::of_states(
                trigger,
                pair,
                "bilateral: hyphenated pair".to_string(),
                t.confidence - 0.05,
            )];
        }
        // "a trip to Asia to deal with the crisis afflicting Haiti": a trip whose
        // destination is a region; a country named later is no host and no party.
        if trigger.cues.contains(&Cue::PlaceTrigger(ti)) && self.to_a_region(s, trigger) {
            return Vec::new();
        }
        // Three or more states among the officials of the sentence: a multilateral
        // meeting, unless two of them are said to meet apart.
        // "…, a US official said": the source of a report after the event is no party
        // to it.
        let officials: Vec<Actor> = s
            .actors
            .iter()
            .filter(|a| matches!(a.kind, ActorKind::Named | ActorKind::Role))
            .filter(|a| !(a.folded.start > trigger.end && reports_it(s, a)))
            .cloned()
            .collect();
        if distinct_countries(&officials).len() >= 3
            && !trigger.cues.contains(&Cue::PlaceTrigger(ti))
        {
            return self.each_meets_one(t, s, trigger, &officials);
        }
        // "The UN chief met the Ukrainian president": a meeting with an organisation.
        let subject = s.actors.iter().rev().find(|a| {
            a.folded.end <= trigger.start && !matches!(a.kind, ActorKind::Place | ActorKind::Topic)
        });
        // "… will travel to Vietnam for the APEC summit, where he is expected to meet Hu":
        // an organisation behind a preposition is no subject — unless the trigger is its
        // own meeting ("during the UN Security Council meeting").
        let behind_a_preposition = |a: &Actor| {
            if a.folded.end + 1 >= trigger.start {
                return false;
            }
            let before = s.folded.text[s.folded_span.start..a.folded.start].trim_end();
            let before = before.strip_suffix(" the").unwrap_or(before);
            before
                .rsplit(' ')
                .next()
                .is_some_and(|w| self.lexicon.organisation_prepositions.contains(w))
        };
        if subject.is_some_and(|a| a.kind == ActorKind::Organization && !behind_a_preposition(a)) {
            return Vec::new();
        }
        // "Qatar hosted talks between Sudan and rebel groups": the parties are those after
        // "between"; the state before the trigger hosts or mediates.
        // Not "held talks between Monday and Wednesday".
        let between_after = s.folded.text[trigger.end..s.folded_span.end]
            .strip_prefix(" between ")
            .and_then(|rest| {
                rest.split([' ', ',', '.'])
                    .find(|w| !w.is_empty() && *w != "the")
            })
            .is_some_and(|w| {
                !crate::detect::dates::is_calendar_word(w)
                    && !w.starts_with(|c: char| c.is_ascii_digit())
            });
        let mut side: Vec<Actor> = Vec::new();
        let push = |a: &Actor, side: &mut Vec<Actor>| {
            if between_after && a.folded.end <= trigger.start {
                return;
            }
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
            // "the Singapore summit", "the Geneva talks": a place, not a party — unless
            // the state opens the sentence or a clause: "Russia expels …", "On Tuesday,
            // Poland expelled …" (its subject).
            .filter(|a| {
                a.kind == ActorKind::State
                    && near(a, trigger, NEAR_STATE)
                    && (a.folded.end + 1 != trigger.start
                        || opens_a_clause(&s.folded.text[s.folded_span.start..a.folded.start])
                        // "Japan and South Korea held their first summit": the last of
                        // two states that open the clause.
                        || s.actors.iter().any(|b| {
                            b.kind == ActorKind::State
                                && b.folded.end < a.folded.start
                                && s.folded.text[b.folded.end..a.folded.start].trim() == "and"
                                && opens_a_clause(
                                    &s.folded.text[s.folded_span.start..b.folded.start],
                                )
                        }))
                    // "China condemned the meeting": a state reacting to it.
                    && !reacts(&self.lexicon, &s.folded.text[a.folded.end..s.folded_span.end])
            })
        {
            push(a, &mut side);
        }
        // The protagonist stands in when the words before the trigger refer back to them
        // ("He will visit", "During his visit"), and only when nobody else (a name the
        // gazetteer does not know: "Hill, ending his trip, flies to Seoul") could be the
        // subject — unless that name is the surname of an official named before ("Hill"
        // after "Christopher Hill").
        let unknown_name = self.unknown_name_before(s, trigger.start);
        let protagonist = match unknown_name {
            None => ctx.protagonist.as_ref().filter(|_| {
                refers_back(
                    &self.lexicon,
                    &s.folded.text[s.folded_span.start..trigger.start],
                )
            }),
            Some(word) => ctx
                .protagonist
                .iter()
                .chain(&ctx.recent)
                .find(|p| self.is_surname_of(p, word)),
        };
        // "Rice did have a discussion with Walid Moallem, the foreign minister of Syria,
        // to alleviate Iraq's problems": the official named before by surname is the
        // subject; the official after the trigger the other side.
        let by_surname = protagonist.filter(|_| unknown_name.is_some());
        let mut confidence = t.confidence;

        // Visits: a visitor and every place named after a place trigger.
        if trigger.cues.contains(&Cue::PlaceTrigger(ti)) {
            let p = trigger;
            let official = |a: &&Actor| matches!(a.kind, ActorKind::Named | ActorKind::Role);
            let visitor = side
                .iter()
                .filter(official)
                // "Yadlin was quoted as saying that missiles had arrived in Iran": a
                // clause with a subject of its own between them.
                .find(|a| {
                    a.folded.start < p.start
                        && !other_subject_between(
                            &self.lexicon,
                            &s.folded.text[a.folded.end.min(p.start)..p.start],
                        )
                })
                .or_else(|| {
                    // "a visit to Moscow by Chinese President Xi Jinping", in the same clause
                    // (not "arrived in London, and was met by the Chinese ambassador").
                    // "the official visit of Chinese President Xi Jinping to Russia"
                    // too; and "visiting US Secretary of State Condoleezza Rice".
                    side.iter().filter(official).find(|a| {
                        // "a visit to Beijing by the French president".
                        let before = s.folded.text[..a.folded.start].trim_end();
                        let before = before.strip_suffix(" the").unwrap_or(before);
                        a.folded.start > p.end
                            && (before.ends_with(" by")
                                || before.ends_with(" of")
                                || a.folded.start <= p.end + 1
                                    && visiting(&s.folded.text[p.start..p.end]))
                            && !s.folded.text[p.end..a.folded.start].contains([',', ';'])
                    })
                })
                // "After his visit to Moscow, the German foreign minister said …": the
                // subject after a fronted phrase is who "his" stands for.
                .or_else(|| cataphoric_visitor(s, p))
                .or(protagonist)
                // "Japan dispatched a special envoy to Pyongyang": the state that sends
                // an emissary is the visiting side.
                .or_else(|| {
                    let sends = s.folded.text[p.start..p.end]
                        .split(' ')
                        .any(|w| self.lexicon.emissaries.contains(w));
                    side.iter().find(|a| {
                        sends
                            && a.kind == ActorKind::State
                            && a.folded.start < p.start
                            && !other_subject_between(
                                &self.lexicon,
                                &s.folded.text[a.folded.end.min(p.start)..p.start],
                            )
                    })
                })
                .cloned();
            // "Bush was quoted as saying that Rice will travel to Egypt": the trip is
            // the other subject's, so neither is Bush's meeting with another state.
            let trip_of_another_subject = visitor.is_none()
                && side.iter().filter(official).any(|a| {
                    a.folded.start < p.start
                        && other_subject_between(
                            &self.lexicon,
                            &s.folded.text[a.folded.end.min(p.start)..p.start],
                        )
                });
            if trip_of_another_subject {
                return Vec::new();
            }
            // "visits British personnel": the visitor's own people, not a host.
            let own_people = |v: &Actor| {
                s.actors.iter().any(|a| {
                    a.folded.start > p.end
                        && a.folded.start <= p.end + 12
                        && a.country == v.country
                        // The visitor named after the trigger is not its own people.
                        && a.folded != v.folded
                })
            };
            if let Some(visitor) = visitor.filter(|v| !own_people(v)) {
                // The places right after the trigger, and the list they start ("Kuwait,
                // Bahrain and Egypt").
                let mut hosts: Vec<&Actor> = Vec::new();
                // The first place must follow the trigger closely ("visited Kenya", "a trip
                // to Moscow"), not sit in a later phrase ("visited a facility in Iraq").
                let mut reach = p.end + 60;
                // "Visiting US Secretary of State Condoleezza Rice was heckled … in
                // Sydney": the visit's place may come anywhere after the visitor.
                if visiting(&s.folded.text[p.start..p.end]) && visitor.folded.start <= p.end + 1 {
                    reach = s.folded_span.end;
                }
                // A bare "trip" names its host only before it ("Kan's China trip"): in
                // "During his trip, Bush will meet officials from Iraq" the place after it
                // is no host.
                let bare_trip = &s.folded.text[p.start..p.end] == "trip";
                for a in s
                    .actors
                    .iter()
                    .filter(|a| a.folded.start >= p.start && !bare_trip)
                {
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
                        && names_a_site(
                            &self.lexicon,
                            s.folded.text.get(p.end..a.folded.start).unwrap_or(""),
                        )
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
                // "his first US visit", "Singh's China trip": a state named right before
                // the journey, after whose it is.
                if hosts.is_empty() {
                    if let Some(h) = s.actors.iter().find(|a| {
                        a.kind == ActorKind::State
                            && a.folded.end + 1 == p.start
                            && a.country != visitor.country
                            && possessed_journey(
                                &self.lexicon,
                                &s.folded.text[s.folded_span.start..a.folded.start],
                                &s.folded.text[p.start..p.end],
                            )
                    }) {
                        hosts.push(h);
                    }
                }
                // "… is in South Africa on an official visit": the place just before.
                if hosts.is_empty() && !bare_trip {
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
                        // "will travel to Moscow … for talks with Russian President
                        // Vladimir Putin": the host's official named after the trip is
                        // the party; the place stays the event's location.
                        let host_official = s.actors.iter().find(|a| {
                            matches!(a.kind, ActorKind::Named | ActorKind::Role)
                                && a.country == h.country
                                && a.folded.start > h.folded.end
                        });
                        // "will travel to Singapore for the APEC summit": a trip to a
                        // gathering, not to the host's government.
                        if host_official.is_none()
                            && for_a_gathering(
                                &self.lexicon,
                                &s.folded.text[h.folded.end..s.folded_span.end],
                            )
                        {
                            continue;
                        }
                        let h = host_official.unwrap_or(h);
                        let conf = confidence
                            + if visitor.kind == ActorKind::Named {
                                0.05
                            } else {
                                0.0
                            };
                        out.push(Finding::of_states(
                            trigger,
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
        // "He will not talk with Syria or Iran": alternatives, each with the subject.
        if let Some(found) = self.alternatives(s, trigger, &side, protagonist, confidence) {
            return found;
        }
        if let Some(subject) = by_surname {
            let object = side.iter().find(|a| {
                matches!(a.kind, ActorKind::Named | ActorKind::Role)
                    && a.folded.start >= trigger.end
                    && a.country != subject.country
            });
            if let Some(object) = object {
                return vec![Finding::of_states(
                    trigger,
                    vec![subject.clone(), object.clone()],
                    format!("bilateral: surname + {}", kind_name(object.kind)),
                    confidence - 0.05,
                )];
            }
        }
        let mut rule: Vec<&str> = side.iter().map(|a| kind_name(a.kind)).collect();
        if side.len() == 1 {
            // Only for an official met by the sentence's subject: "He met Lavrov", "The
            // president received the Iranian envoy".
            let sentence = &s.folded.text[s.folded_span.clone()];
            let subject_refers_back = starts_with_reference(&self.lexicon, sentence);
            let official = matches!(side[0].kind, ActorKind::Named | ActorKind::Role);
            // "They" stands for a group ("Iranian officials"), never for one person.
            let fits = |p: &Actor| !sentence.starts_with("they ") || is_group(&self.lexicon, p);
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
            && names_both_sides(&self.lexicon, &s.folded.text[s.folded_span.clone()])
        {
            side = ctx.recent.clone();
            rule.extend(["previous sentence", "previous sentence"]);
            confidence -= 0.2;
        }
        if side.len() > 2 {
            side.retain(|a| !(a.folded.start > trigger.end && reports_it(s, a)));
        }
        // "On Monday Smith will meet with Condoleezza Rice … to discuss Afghanistan, where
        // Australia …": with more than two states near the trigger, the official who is
        // its subject (in its clause) and the first official of another state after it.
        if side.len() > 2 {
            let official = |a: &&Actor| matches!(a.kind, ActorKind::Named | ActorKind::Role);
            let subject = side.iter().filter(official).rev().find(|a| {
                a.folded.end <= trigger.start
                    && !s.folded.text[a.folded.end..trigger.start].contains([',', ';'])
            });
            let object = subject.and_then(|subject| {
                side.iter()
                    .filter(official)
                    .find(|a| a.folded.start >= trigger.end && a.country != subject.country)
            });
            if let (Some(subject), Some(object)) = (subject, object) {
                side = vec![subject.clone(), object.clone()];
                rule = vec![kind_name(side[0].kind), kind_name(side[1].kind)];
            }
        }
        if side.len() != 2 {
            return Vec::new();
        }
        // "Further meetings with UN envoys from France and the United States": a list
        // after "with" is one side, met by someone the sentence does not name.
        if !rule.contains(&"previous sentence") && listed_after_with(s, trigger, &side) {
            return Vec::new();
        }
        confidence += match (side[0].kind, side[1].kind) {
            (ActorKind::Named, ActorKind::Named) => 0.15,
            (ActorKind::Named | ActorKind::Role, ActorKind::Named | ActorKind::Role) => 0.05,
            _ => -0.1,
        };
        vec![Finding::of_states(
            trigger,
            side,
            format!("bilateral: {}", rule.join(" + ")),
            confidence,
        )]
    }
}

/// Whether the words between an official and a trigger open a clause with a subject of
/// its own: "… as saying that BM-25 missiles had arrived in", "… over the fact that the
/// victims had ignored an advisory against travelling to" — but not "… said that he
/// would travel to".
fn other_subject_between(lex: &Lexicon, between: &str) -> bool {
    let Some(at) = between.rfind(" that ") else {
        return false;
    };
    let next = between[at + 6..]
        .split(|c: char| !c.is_alphanumeric())
        .find(|w| !w.is_empty());
    next.is_some_and(|w| !lex.subject_pronouns.contains(w))
}

/// Whether both parties follow the trigger as one list after "with": "meetings with
/// envoys from France and the United States", "talks with Israeli and Palestinian
/// negotiators".
fn listed_after_with(s: &Sentence, trigger: &CueHit, side: &[Actor]) -> bool {
    let [a, b] = side else { return false };
    let (first, second) = if a.folded.start <= b.folded.start {
        (a, b)
    } else {
        (b, a)
    };
    if first.folded.start < trigger.start || first.folded.end > second.folded.start {
        return false;
    }
    let Some(lead) = s.folded.text.get(trigger.start..first.folded.start) else {
        return false;
    };
    let Some(gap) = s.folded.text.get(first.folded.end..second.folded.start) else {
        return false;
    };
    let gap = gap.trim();
    let gap = gap.strip_suffix(" the").unwrap_or(gap).trim();
    lead.split(|c: char| !c.is_alphanumeric())
        .any(|w| w == "with")
        && !lead.contains([',', ';'])
        // Two items make a list only with "and": after a comma alone the second is the
        // sentence's subject ("At a news conference with President Bush, Prime
        // Minister Blair said").
        && matches!(gap, "and" | ", and")
}

impl Detector {
    /// "Ambassadors from the United States, Australia and Britain have all met with
    /// Fijian officers", "Rice met separately with Israeli and Palestinian negotiators":
    /// with three or more states, one meeting per state of the list on one side of the
    /// trigger with the one state on the other, when the sentence says they met apart.
    fn each_meets_one<'s>(
        &self,
        t: &EventType,
        s: &Sentence,
        trigger: &'s CueHit<'s>,
        officials: &[Actor],
    ) -> Vec<Finding<'s>> {
        let before_trigger = &s.folded.text[s.folded_span.start..trigger.start];
        let last_words: Vec<&str> = before_trigger
            .rsplit(|c: char| !c.is_alphanumeric())
            .filter(|w| !w.is_empty())
            .take(3)
            .collect();
        let apart = last_words
            .iter()
            .any(|w| self.lexicon.apart_before.contains(w))
            || s.folded.text[s.folded_span.clone()]
                .split(|c: char| !c.is_alphanumeric())
                .any(|w| self.lexicon.apart.contains(w));
        if !apart {
            return Vec::new();
        }
        let before: Vec<&Actor> = officials
            .iter()
            .filter(|a| a.folded.end <= trigger.start)
            .collect();
        let after: Vec<&Actor> = officials
            .iter()
            .filter(|a| a.folded.start >= trigger.end)
            .collect();
        let countries = |side: &[&Actor]| {
            let mut out: Vec<usize> = side.iter().filter_map(|a| a.country).collect();
            out.sort_unstable();
            out.dedup();
            out.len()
        };
        let (list, one) = match (countries(&before), countries(&after)) {
            (n, 1) if n >= 2 => (before, after[0]),
            (1, n) if n >= 2 => (after, before[0]),
            _ => return Vec::new(),
        };
        let mut out = Vec::new();
        let mut seen = Vec::new();
        for a in list {
            if a.country == one.country || seen.contains(&a.country) {
                continue;
            }
            seen.push(a.country);
            out.push(Finding::of_states(
                trigger,
                vec![a.clone(), one.clone()],
                "bilateral: each of a list + one".to_string(),
                t.confidence - 0.1,
            ));
        }
        out
    }

    /// "He will not talk with Syria or Iran": two states after the trigger joined by
    /// "or" are alternatives; each is paired with the subject (an official before the
    /// trigger, or the one the sentence refers back to).
    fn alternatives<'s>(
        &self,
        s: &Sentence,
        trigger: &'s CueHit<'s>,
        side: &[Actor],
        protagonist: Option<&Actor>,
        confidence: f32,
    ) -> Option<Vec<Finding<'s>>> {
        let after: Vec<&Actor> = side
            .iter()
            .filter(|a| a.folded.start >= trigger.end)
            .collect();
        let [a, b] = after[..] else { return None };
        let gap = s.folded.text.get(a.folded.end..b.folded.start)?.trim();
        if !matches!(gap, "or" | "nor" | "or with") {
            return None;
        }
        let subject = s
            .actors
            .iter()
            .rev()
            .find(|x| {
                matches!(x.kind, ActorKind::Named | ActorKind::Role)
                    && x.folded.end <= trigger.start
            })
            .or(protagonist)?;
        let found: Vec<Finding> = [a, b]
            .into_iter()
            .filter(|x| x.country != subject.country)
            .map(|x| {
                Finding::of_states(
                    trigger,
                    vec![subject.clone(), x.clone()],
                    format!("bilateral: {} + alternative", kind_name(subject.kind)),
                    confidence - 0.1,
                )
            })
            .collect();
        (!found.is_empty()).then_some(found)
    }
}

/// The two states of a hyphenated pair that qualifies the trigger: "Israeli-Palestinian
/// peace talks", "the US-China trade negotiations", "a Lebanese-Syrian military commission
/// will meet". At most three words may stand between the pair and the trigger.
/// Whether a trigger is the adjective "visiting" ("visiting US Secretary of State …").
fn visiting(trigger: &str) -> bool {
    trigger == "visiting"
}

/// Whether what stands before a word in its sentence leaves it opening the sentence or a
/// clause: nothing, or a comma ("On Tuesday, Poland expelled").
fn opens_a_clause(before: &str) -> bool {
    let before = before.trim_end();
    before.is_empty() || before.ends_with(',')
}

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
        let state = |m: &Mention, c: usize, form: CountryForm| Actor {
            kind: ActorKind::State,
            country: Some(c),
            official: None,
            role: None,
            organization: None,
            folded: m.folded.clone(),
            span: m.span.clone(),
            name_hint: None,
            form: Some(form),
            name_in_text: None,
            off_term: false,
            target: false,
        };
        (ca != cb && joined && close).then(|| vec![state(a, ca, fa), state(b, cb, fb)])
    })
}

/// Whether the words after a state make it someone reacting to an event rather than
/// taking part: "China condemned the meeting", "Tokyo has protested against the visit".
/// Only objections: a state that welcomes someone may well be the host.
fn reacts(lex: &Lexicon, after_state: &str) -> bool {
    after_state
        .split(|c: char| !c.is_alphanumeric())
        .filter(|w| !w.is_empty())
        .take(3)
        .any(|w| lex.reactions.contains(w))
}

/// Whether the words between a visit and a place name a site that is not the host
/// government: troops, a base, an embassy, a conference.
fn names_a_site(lex: &Lexicon, between: &str) -> bool {
    between
        .split(|c: char| !c.is_alphanumeric())
        .any(|w| lex.sites.contains(w))
}

/// The official who opens the main clause after a fronted phrase holding the trigger
/// with "his", "her", "a" or "an": "After his visit to Moscow, the German foreign
/// minister said …", "During her trip to Kenya, Rice met …", "On a state visit to Japan,
/// Hu called …".
fn cataphoric_visitor<'a>(s: &'a Sentence, trigger: &CueHit) -> Option<&'a Actor> {
    let opening = &s.folded.text[s.folded_span.start..trigger.start];
    let mut words = opening.split_whitespace().peekable();
    if words.peek() == Some(&"ahead") {
        words.next();
        if words.next() != Some("of") {
            return None;
        }
    } else {
        // "While on a visit to Japan, …", "While in Japan on his first visit, …".
        if words.peek() == Some(&"while") {
            words.next();
        }
        if !words
            .next()
            .is_some_and(|w| matches!(w, "after" | "before" | "during" | "following" | "on" | "in"))
        {
            return None;
        }
    }
    // "his" or "her", or "a"/"an": "In a recent visit to Armenia, Chirac …", "On a
    // state visit to Japan, Hu …" (not "the": "During the visit, Putin said" may be
    // the host speaking).
    if !words
        .next()
        .is_some_and(|w| matches!(w, "his" | "her" | "a" | "an"))
        || words.count() > 2
    {
        return None;
    }
    let after = &s.folded.text[trigger.end..s.folded_span.end];
    let comma = after.find(',').filter(|&at| at <= 60)?;
    let clause = trigger.end + comma + 1;
    s.actors.iter().find(|a| {
        matches!(a.kind, ActorKind::Named | ActorKind::Role)
            && a.folded.start >= clause
            && s.folded.text[clause..a.folded.start]
                .split_whitespace()
                .all(|w| w == "the")
    })
}

/// Whether a journey noun after a state is someone's trip there: the words before the
/// state end in a possessive ("his", "her", "their", "Singh's") and at most two
/// modifiers ("his first US visit", "Obama's three-day India trip").
fn possessed_journey(lex: &Lexicon, before_state: &str, trigger: &str) -> bool {
    if !lex.journeys.contains(trigger) {
        return false;
    }
    let words: Vec<&str> = before_state.split_whitespace().rev().take(3).collect();
    words.iter().enumerate().any(|(i, w)| {
        (matches!(*w, "his" | "her" | "their") || w.ends_with("'s"))
            && words[..i]
                .iter()
                .all(|m| m.chars().all(|c| c.is_alphanumeric() || c == '-'))
    })
}

/// Whether an actor is the source of a report after a comma: "…, a US official said",
/// "…, Chinese diplomats told reporters".
fn reports_it(s: &Sentence, a: &Actor) -> bool {
    let before = s.folded.text[s.folded_span.start..a.folded.start].trim_end();
    let before = ["a", "an", "the", "one", "another", "two", "senior"]
        .iter()
        .find_map(|w| before.strip_suffix(w).filter(|b| b.ends_with([' ', ','])))
        .unwrap_or(before)
        .trim_end();
    let after = &s.folded.text[a.folded.end..s.folded_span.end];
    let after = after
        .strip_prefix(" official")
        .map_or(after, |rest| rest.strip_prefix('s').unwrap_or(rest));
    before.ends_with(',')
        && [" said", " says", " told", " added", " reported", " stated"]
            .iter()
            .any(|w| after.starts_with(w))
}

/// Whether the words after a visit's place say the trip is for a gathering there: "for
/// the APEC summit", "to attend the funeral of …" (at most four words to the gathering).
fn for_a_gathering(lex: &Lexicon, after_place: &str) -> bool {
    let mut words = after_place
        .split(|c: char| !(c.is_alphanumeric() || c == '-'))
        .filter(|w| !w.is_empty())
        .peekable();
    match words.next() {
        Some("for") => {}
        Some("to") if words.next_if_eq(&"attend").is_some() => {}
        _ => return false,
    }
    words
        .take(5)
        .take_while(|w| !matches!(*w, "with" | "and"))
        .any(|w| lex.gatherings.contains(w))
}

/// Whether a sentence speaks of both parties at once: "the two sides", "the two leaders".
fn names_both_sides(lex: &Lexicon, sentence: &str) -> bool {
    lex.both_sides.found_in(sentence)
}

/// Whether an actor is a group of people ("Iranian officials", "the Chinese delegation")
/// rather than one person.
fn is_group(lex: &Lexicon, a: &Actor) -> bool {
    if a.kind == ActorKind::Named {
        return false;
    }
    let words = a.name_hint.as_deref().unwrap_or_default().to_lowercase();
    let last = words.rsplit(' ').next().unwrap_or_default();
    last.ends_with('s') || lex.group_heads.contains(last)
}

/// Whether a sentence's subject refers back: it opens with "he", "she", "they", or "the"
/// and a title ("The president …"), or "both" and a group ("Both leaders …").
fn starts_with_reference(lex: &Lexicon, sentence: &str) -> bool {
    let opens = |clause: &str| {
        let mut words = clause
            .split(|c: char| !c.is_alphanumeric())
            .filter(|w| !w.is_empty());
        match (words.next(), words.next()) {
            (Some(first), _) if lex.subject_pronouns.contains(first) => true,
            (Some("the"), Some(w)) => lex.titles.contains(w),
            (Some("both"), Some(w)) => lex.subjects_after_both.contains(w),
            _ => false,
        }
    };
    if opens(sentence) {
        return true;
    }
    // After a fronted phrase: "Speaking in Brasilia, Brazil, he claimed …", "In Moscow
    // on Monday, she met …" — the first clause after the phrase's commas.
    let first = sentence.split_whitespace().next().unwrap_or("");
    let fronted = first.len() > 4 && first.ends_with("ing")
        || matches!(
            first,
            "in" | "on" | "at" | "after" | "before" | "during" | "while"
        );
    fronted && sentence.split(", ").skip(1).take(FRONTED_COMMAS).any(opens)
}

/// How many commas a fronted phrase may hold before the subject that follows it
/// ("Speaking in Brasilia, Brazil, he …").
const FRONTED_COMMAS: usize = 3;

/// Whether a sentence refers back to someone named before: a pronoun or a title alone.
fn refers_back(lex: &Lexicon, sentence: &str) -> bool {
    let mut previous = "";
    for word in sentence
        .split(|c: char| !c.is_alphanumeric())
        .filter(|w| !w.is_empty())
    {
        if lex.back_references.contains(word)
            // "The trip", "the visit": the journey of the official named before.
            || previous == "the" && (lex.journeys.contains(word) || lex.titles.contains(word))
            || previous == "both" && lex.references_after_both.contains(word)
        {
            return true;
        }
        previous = word;
    }
    false
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::detect::candidates::Passage;
    use crate::detect::EventTypes;
    use crate::model::Field;

    fn lexicon() -> Lexicon {
        Lexicon::embedded().unwrap()
    }

    #[test]
    fn a_state_opening_its_clause_is_a_subject() {
        assert!(opens_a_clause("") && opens_a_clause("on tuesday, "));
        assert!(!opens_a_clause("leaders gathered for the "));
        assert!(!opens_a_clause("including syria and "));
    }

    #[test]
    fn reactions_and_sites_are_no_parties() {
        let lex = lexicon();
        for w in lex.reactions.words() {
            assert!(reacts(&lex, &format!(" has {w} the meeting")), "{w}");
            assert!(!reacts(&lex, &format!(" and the others later {w}")), "{w}");
        }
        assert!(!reacts(&lex, " welcomed the visit"));
        for w in lex.sites.words() {
            assert!(names_a_site(&lex, &format!(" a {w} in ")), "{w}");
        }
        assert!(!names_a_site(&lex, " the capital of "));
    }

    #[test]
    fn both_sides_and_groups() {
        let lex = lexicon();
        for p in lex.both_sides.phrases() {
            assert!(names_both_sides(&lex, &format!("later {p} met")), "{p}");
        }
        assert!(!names_both_sides(&lex, "the two cities"));
        let actor = |kind, words: &str| Actor {
            kind,
            country: None,
            official: None,
            role: None,
            organization: None,
            folded: 0..0,
            span: 0..0,
            name_hint: Some(words.to_string()),
            form: None,
            name_in_text: None,
            off_term: false,
            target: false,
        };
        for w in lex.group_heads.words() {
            let group = format!("the Chinese {}", w.to_uppercase());
            assert!(is_group(&lex, &actor(ActorKind::Role, &group)), "{w}");
            assert!(!is_group(&lex, &actor(ActorKind::Named, &group)), "{w}");
        }
        assert!(is_group(&lex, &actor(ActorKind::Role, "Iranian officials")));
        assert!(!is_group(
            &lex,
            &actor(ActorKind::Role, "the Iranian envoy")
        ));
    }

    #[test]
    fn a_journey_after_a_possessive_is_its_owners() {
        let lex = lexicon();
        for w in lex.journeys.words() {
            assert!(possessed_journey(&lex, "he said his first", w), "{w}");
            assert!(possessed_journey(&lex, "manmohan singh's", w), "{w}");
            assert!(possessed_journey(&lex, "obama's three-day", w), "{w}");
            assert!(!possessed_journey(&lex, "the", w), "{w}");
            assert!(
                !possessed_journey(&lex, "his visit was a success, the", w),
                "{w}"
            );
        }
        assert!(!possessed_journey(&lex, "his", "summit"));
    }

    #[test]
    fn envoy_verbs_are_place_triggers_that_name_an_emissary() {
        let lex = lexicon();
        let types = EventTypes::embedded().unwrap();
        let ti = types
            .types
            .iter()
            .position(|t| t.id == "bilateral_meeting")
            .unwrap();
        for text in [
            "japan sent an envoy to pyongyang",
            "japan dispatched a special envoy to pyongyang",
            "japan sends a delegation to pyongyang",
        ] {
            let folded = crate::detect::text::fold(text);
            let hits = types.find(&folded);
            let place = hits
                .iter()
                .find(|h| h.cues.contains(&Cue::PlaceTrigger(ti)))
                .unwrap_or_else(|| panic!("no place trigger in {text}"));
            assert!(
                types
                    .phrase_text(&folded, place)
                    .split(' ')
                    .any(|w| lex.emissaries.contains(w)),
                "{text}"
            );
        }
    }

    #[test]
    fn a_subject_after_a_fronted_phrase_refers_back() {
        let lex = lexicon();
        for w in lex.subject_pronouns.words() {
            assert!(
                starts_with_reference(
                    &lex,
                    &format!(
                        "speaking in brasilia, brazil, {w} claimed support after meeting chavez"
                    )
                ),
                "{w}"
            );
            assert!(
                starts_with_reference(&lex, &format!("in moscow on monday, {w} met lavrov")),
                "{w}"
            );
            // Not fronted: the subject is the name that opens the sentence.
            assert!(
                !starts_with_reference(&lex, &format!("lavrov met chavez, {w} said")),
                "{w}"
            );
        }
    }

    #[test]
    fn sentences_that_refer_back() {
        let lex = lexicon();
        for w in lex.subject_pronouns.words() {
            assert!(
                starts_with_reference(&lex, &format!("{w} met lavrov")),
                "{w}"
            );
        }
        for w in lex.titles.words() {
            assert!(starts_with_reference(&lex, &format!("the {w} met")), "{w}");
            assert!(refers_back(&lex, &format!("later, the {w} ")), "{w}");
        }
        for w in lex.subjects_after_both.words() {
            assert!(starts_with_reference(&lex, &format!("both {w} met")), "{w}");
        }
        assert!(!starts_with_reference(&lex, "the trip began"));
        assert!(!starts_with_reference(&lex, "putin met lavrov"));
        for w in lex.journeys.words() {
            assert!(refers_back(&lex, &format!("during the {w}, ")), "{w}");
        }
        for w in lex.back_references.words() {
            assert!(refers_back(&lex, &format!("on monday {w} ")), "{w}");
        }
        for w in lex.references_after_both.words() {
            assert!(refers_back(&lex, &format!("later both {w} ")), "{w}");
        }
        assert!(!refers_back(&lex, "on monday putin "));
    }

    #[test]
    fn openers_and_regions_are_nobodys_name() {
        let d = Detector::new(gazetteer::tests::small(), EventTypes::embedded().unwrap());
        let first_unknown = |text: &str| {
            let passage = Passage::new(&d, Field::Text, text);
            let s = passage
                .sentences(&d.gazetteer, Some("2023-02-22".parse().unwrap()))
                .next()
                .unwrap();
            d.unknown_name_before(&s, s.folded_span.end)
                .map(str::to_string)
        };
        assert_eq!(first_unknown("Zorblat met Putin."), Some("Zorblat".into()));
        for w in d
            .lexicon
            .sentence_openers
            .words()
            .chain(d.lexicon.regions.words())
        {
            assert_eq!(
                first_unknown(&format!("{w} met Zorblat.")),
                Some("Zorblat".into()),
                "{w}"
            );
        }
    }
}
