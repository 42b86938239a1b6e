//! The organisation rule: a decision word ("voted", "adopted") and the organ that took
//! it, named in the sentence, credited to a parent with a hint of the organ ("the United
//! Nations voted to impose sanctions"), or referred back to ("the council voted 13-0").

use super::has_cue;
use crate::detect::actors::{Actor, ActorKind};
use crate::detect::candidates::{Candidate, Context, Finding, Sentence};
use crate::detect::event_types::{Cue, CueHit, EventType};
use crate::detect::{text, Detector};

/// Whether an organ's mention is where something is sent ("to the Security Council"), or
/// what others are elected to ("five new non-permanent members of the Security Council"):
/// not the organ that decides.
fn addressed_to(s: &Sentence, a: &Actor) -> bool {
    let before =
        s.folded.text[s.folded_span.start..a.folded.start.max(s.folded_span.start)].trim_end();
    let before = before.strip_suffix(" the").unwrap_or(before);
    before.ends_with(" to")
        || before == "to"
        || before.ends_with(" members of")
        || before.ends_with(" seat on")
        || before.ends_with(" seats on")
}

/// Whether `decision`, before the organ's mention, is a state's rejection of the organ's
/// work: "Lebanon's government rejected a UN Security Council report".
fn rejects_its_work(s: &Sentence, organ: &Actor, decision: &CueHit) -> bool {
    let word = &s.folded.text[decision.start..decision.end];
    let between = &s.folded.text[decision.end..organ.folded.start];
    matches!(word, "reject" | "rejects" | "rejected" | "rejecting")
        && between.split_whitespace().count() <= 2
        && !between.contains([',', ';'])
        && s.actors.iter().any(|b| {
            b.folded.end <= decision.start
                && b.country.is_some()
                && matches!(
                    b.kind,
                    ActorKind::State | ActorKind::Named | ActorKind::Role
                )
        })
}

/// An organ the rule credits with a decision.
struct OrganChoice<'s> {
    /// Index into the gazetteer's organisations.
    organization: usize,
    /// The key its decisions are filed under: its UN vote body, or its code.
    code: String,
    rule: &'static str,
    confidence: f32,
    /// The decision word it took (for a back-reference or a tally: the trigger).
    decision: &'s CueHit<'s>,
}

/// How many words before "resolution(s)" a citation word may stand ("in violation of UN
/// Security Council resolutions").
const CITATION_WORDS: usize = 6;

impl Detector {
    /// Whether a decision word is "resolution(s)" cited as a rule in force: "complied
    /// with UN resolutions", "in violation of Security Council resolutions", "under
    /// resolution 1701".
    fn cited_as_a_norm(&self, s: &Sentence, h: &CueHit) -> bool {
        if !s.folded.text[h.start..h.end].starts_with("resolution") {
            return false;
        }
        let before = &s.folded.text[s.folded_span.start..h.start];
        let clause = before.rsplit([',', ';']).next().unwrap_or(before);
        clause
            .split(|c: char| !c.is_alphanumeric())
            .filter(|w| !w.is_empty())
            .rev()
            .take(CITATION_WORDS)
            .any(|w| self.lexicon.norm_citations.contains(w))
    }

    /// The organisational events of type `ti` in the sentence, one per organ.
    pub(super) fn organization_rule<'s>(
        &self,
        ti: usize,
        t: &EventType,
        s: &Sentence<'s>,
        ctx: &Context,
        trigger: &'s CueHit<'s>,
    ) -> Vec<Candidate<'s>> {
        // Each organ named in the sentence with a decision word near it: "debated
        // the resolution that fell at the Security Council on a veto" is a Security
        // Council vote even when the General Assembly is named first.
        let decisions: Vec<&CueHit> = s
            .cues
            .iter()
            .copied()
            .filter(|h| h.cues.contains(&Cue::Require(ti)) || h.cues.contains(&Cue::Trigger(ti)))
            // "not in compliance with the resolutions of the Security Council": a
            // resolution cited as a rule in force is no decision the text reports.
            .filter(|h| !self.cited_as_a_norm(s, h))
            .collect();
        let mut chosen: Vec<OrganChoice> = Vec::new();
        for a in &s.actors {
            let Some(o) = a.organization else { continue };
            // "the New Jersey General Assembly", "Russia's Security Council": a national
            // body of the same name.
            if self.named_for_a_place(s, a) {
                continue;
            }
            // "a resolution by the IAEA to report Iran to the Security Council": the
            // organ a matter is sent to is not the one that decided.
            if addressed_to(s, a) {
                continue;
            }
            let Some(h) = decisions.iter().copied().min_by_key(|h| distance(a, h)) else {
                continue;
            };
            // "Lebanon's government rejected a UN Security Council report": a state
            // rejecting the organ's work, not the organ deciding.
            if h.end <= a.folded.start && rejects_its_work(s, a, h) {
                continue;
            }
            // The organ nearest its decision word wins it.
            let nearest = s
                .actors
                .iter()
                .filter(|b| b.organization.is_some())
                .min_by_key(|b| distance(b, h));
            if nearest.is_some_and(|b| b.organization != Some(o)) && distance(a, h) > ORG_NEAR {
                continue;
            }
            if self.organization_counts(t, o) {
                let code = self.body_code(o);
                if chosen.iter().all(|c| c.code != code) {
                    chosen.push(OrganChoice {
                        organization: o,
                        code,
                        rule: "organization: named",
                        confidence: t.confidence + 0.1,
                        decision: h,
                    });
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
                if chosen.iter().all(|c| c.code != body) {
                    chosen.push(OrganChoice {
                        organization: o,
                        code: body,
                        rule: "organization: named, organ from context",
                        confidence: t.confidence - 0.05,
                        decision: h,
                    });
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
            let tally = || {
                has_cue(s, &|c| *c == Cue::Tally(ti))
                    .then_some(ctx.last_organization)
                    .flatten()
                    .filter(|&o| self.organization_counts(t, o))
            };
            // "Russia has vetoed four resolutions on Syria": only the Security Council's
            // resolutions can be vetoed.
            let veto = || {
                vetoes_a_resolution(s)
                    .then(|| self.security_council())
                    .flatten()
                    .filter(|&o| self.organization_counts(t, o))
            };
            let (org, rule) = match back {
                Some(h) => {
                    let phrase = &s.folded.text[h.start..h.end];
                    let head = phrase.rsplit(' ').next().unwrap_or(phrase);
                    let o = ctx
                        .last_organization
                        .filter(|&o| self.organization_counts(t, o) && self.org_named(o, head));
                    (o, "organization: back-reference")
                }
                None => match tally() {
                    Some(o) => (Some(o), "organization: tally"),
                    None => (veto(), "organization: veto"),
                },
            };
            let Some(o) = org else {
                return Vec::new();
            };
            chosen.push(OrganChoice {
                organization: o,
                code: self.body_code(o),
                rule,
                confidence: t.confidence - 0.05,
                decision: trigger,
            });
        }
        chosen
            .into_iter()
            .map(|c| {
                let found = Finding {
                    trigger: c.decision,
                    participants: Vec::new(),
                    organization: Some(c.code),
                    rule: c.rule.to_string(),
                    confidence: c.confidence,
                    also_matched: vec![self.gazetteer.organizations[c.organization].name.clone()],
                };
                self.candidate(ti, t, s, found)
            })
            .collect()
    }

    /// The Security Council among the gazetteer's organisations.
    fn security_council(&self) -> Option<usize> {
        self.gazetteer
            .organizations
            .iter()
            .position(|o| o.vote_body.as_deref() == Some(COUNCIL) && o.code == COUNCIL)
    }

    /// The key an organisation's decisions are filed under: its UN vote body, or its code.
    fn body_code(&self, org: usize) -> String {
        let o = &self.gazetteer.organizations[org];
        o.vote_body.clone().unwrap_or_else(|| o.code.clone())
    }

    /// Whether the capitalised word right before an organ's name makes it another body
    /// of that name: "New Jersey General Assembly", "Russian Security Council" — but not
    /// "United Nations' General Assembly", "Monday's Security Council vote".
    fn named_for_a_place(&self, s: &Sentence, a: &Actor) -> bool {
        let before = s.original[s.span.start..a.span.start.max(s.span.start)].trim_end();
        let mut words = before.rsplit(char::is_whitespace);
        let mut word = words.next().unwrap_or("");
        if matches!(word, "'s" | "’s" | "'" | "’") {
            word = words.next().unwrap_or("");
        }
        let word = word
            .trim_end_matches("'s")
            .trim_end_matches("’s")
            .trim_end_matches(['\'', '’']);
        // A headline capitalises every word.
        s.field == crate::model::Field::Text
            && word.starts_with(char::is_uppercase)
            && word
                .chars()
                .all(|c| c.is_alphabetic() || c == '.' || c == '-')
            && !matches!(word, "UN" | "U.N." | "U.N" | "Nations" | "The" | "A" | "An")
            && !self.lexicon.sentence_openers.contains(word)
            && !crate::detect::dates::is_calendar_word(word)
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
}

/// The Security Council's code, as a UN vote body and an organisation.
const COUNCIL: &str = "UNSC";

/// Whether the sentence states a veto of a resolution or a draft ("the US veto of the 2011
/// resolution", "Russia has vetoed four resolutions"), which only the Security Council's
/// permanent members can cast.
fn vetoes_a_resolution(s: &Sentence) -> bool {
    let text = &s.folded.text[s.folded_span.clone()];
    let vetoed = text
        .split(|c: char| !c.is_alphanumeric())
        .any(|w| matches!(w, "veto" | "vetoed" | "vetoes" | "vetoing"));
    vetoed && ["resolution", "draft"].iter().any(|w| text.contains(w))
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

#[cfg(test)]
mod tests {
    use crate::detect::{gazetteer, Article, Detector, EventTypes};

    fn bodies(text: &str) -> Vec<String> {
        let d = Detector::new(gazetteer::tests::small(), EventTypes::embedded().unwrap());
        d.detect(&Article {
            title: "",
            text,
            published: "2008-01-26".parse().unwrap(),
        })
        .into_iter()
        .filter_map(|d| d.organization)
        .collect()
    }

    #[test]
    fn a_resolution_cited_as_a_rule_in_force_is_no_vote() {
        let lex = crate::detect::lexicon::Lexicon::embedded().unwrap();
        for w in lex.norm_citations.words() {
            assert!(
                bodies(&format!(
                    "Iran acted {w} the resolutions of the General Assembly."
                ))
                .is_empty(),
                "{w}"
            );
        }
        assert!(bodies(
            "Israel has held the land in violation of UN General Assembly resolutions since 1967."
        )
        .is_empty());
        // Resolutions the organ passed, and one cited in a clause of its own.
        assert_eq!(
            bodies("The General Assembly has passed three resolutions on the crisis since 2006."),
            ["UNGA"]
        );
        assert_eq!(
            bodies("Under pressure, the General Assembly adopted two resolutions on Friday."),
            ["UNGA"]
        );
    }
}
