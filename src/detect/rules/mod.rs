//! The shape rules: for each event type, whether a sentence states the event and who
//! takes part in it. The trigger search and the distances are shared; each shape has its
//! own file.

mod bilateral;
mod organization;
mod state_action;

use super::actors::{Actor, ActorKind};
use super::candidates::{Candidate, Context, Sentence};
use super::event_types::{Cue, CueHit, EventType, Shape};
use super::lexicon::Lexicon;
use super::{modality, Detector};

impl Detector {
    /// Applies one event type's rule to one sentence.
    pub(super) fn apply<'s>(
        &self,
        ti: usize,
        t: &EventType,
        s: &Sentence<'s>,
        ctx: &Context,
    ) -> Vec<Candidate<'s>> {
        let triggers = self.triggers(ti, s);
        let Some(&trigger) = triggers.first() else {
            return Vec::new();
        };
        if t.has_requirements && !has_cue(s, &|c| *c == Cue::Require(ti)) {
            return Vec::new();
        }
        if has_cue(s, &|c| *c == Cue::Exclude(ti)) {
            return Vec::new();
        }
        let mut found = match t.shape {
            Shape::Organization => self.organization_rule(ti, t, s, ctx, trigger),
            Shape::Bilateral => self.bilateral_rule(ti, t, s, ctx, triggers),
            Shape::Multilateral | Shape::StateAction => self.state_action_rule(ti, t, s, trigger),
        };
        // "Iran is ready for negotiations", "urged Tehran to continue talks": a stance
        // toward the event, not the event.
        found.retain(|c| !modality::under_stance(s, &c.trigger));
        found
    }

    /// The triggers of type `ti` in the sentence, in order: triggers, place triggers, and
    /// object triggers ("received") when an official follows within a few words.
    fn triggers<'s>(&self, ti: usize, s: &Sentence<'s>) -> Vec<&'s CueHit<'s>> {
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
                trigger && !meets_a_goal(&self.lexicon, &s.folded.text[h.start..s.folded_span.end])
                    || object_trigger
                        && (s.actors.iter().any(|a| {
                            matches!(a.kind, ActorKind::Named | ActorKind::Role)
                                && a.folded.start >= h.end
                                && a.folded.start <= h.end + 14
                        }) || received_by_an_official(s, h))
            })
            .collect()
    }
}

/// Whether an object trigger in the passive has an official as its agent: "was received
/// at the Miraflores palace by President Chavez", "were welcomed by the Saudi king".
fn received_by_an_official(s: &Sentence, h: &CueHit) -> bool {
    let before = s.folded.text[s.folded_span.start..h.start].trim_end();
    let passive = [
        "was",
        "were",
        "is",
        "are",
        "has been",
        "have been",
        "had been",
        "being",
    ]
    .iter()
    .any(|aux| {
        before
            .strip_suffix(aux)
            .is_some_and(|rest| rest.ends_with(' '))
    });
    if !passive {
        return false;
    }
    let after = &s.folded.text[h.end..s.folded_span.end];
    let Some(by) = after.find(" by ").filter(|&at| at <= PASSIVE_AGENT_WITHIN) else {
        return false;
    };
    if after[..by].contains([',', ';']) {
        return false;
    }
    let agent = h.end + by + " by ".len();
    s.actors.iter().any(|a| {
        matches!(a.kind, ActorKind::Named | ActorKind::Role)
            && a.folded.start >= agent
            && a.folded.start <= agent + "the ".len()
    })
}

/// How far after a passive object trigger its "by" may stand (bytes of folded text).
const PASSIVE_AGENT_WITHIN: usize = 50;

/// Whether any phrase of the sentence is a cue that `f` accepts.
fn has_cue(s: &Sentence, f: &dyn Fn(&Cue) -> bool) -> bool {
    s.cues.iter().any(|h| h.cues.iter().any(f))
}

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

/// Whether "meet" starts a phrase about a goal or a reception rather than people: "meet
/// land reform promises", "met the conditions", "meeting its targets", "met with
/// criticism".
fn meets_a_goal(lex: &Lexicon, from_trigger: &str) -> bool {
    let mut words = from_trigger
        .split(|c: char| !(c.is_alphanumeric() || c == '-'))
        .filter(|w| !w.is_empty());
    if !words.next().is_some_and(|w| lex.meet_forms.contains(w)) {
        return false;
    }
    // "has been met with celebration": a reception, not people.
    let mut after = words.clone();
    if after.next() == Some("with") && after.take(2).any(|w| lex.receptions.contains(w)) {
        return true;
    }
    // The object: up to four words, stopping at a preposition that introduces people.
    words
        .take(4)
        .take_while(|w| !lex.goal_object_stops.contains(w))
        .any(|w| lex.goals.contains(w))
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn meet_with_a_goal_is_no_meeting() {
        let lex = Lexicon::embedded().unwrap();
        for goal in lex.goals.words() {
            assert!(meets_a_goal(&lex, &format!("met the {goal}")), "{goal}");
        }
        for form in lex.meet_forms.words() {
            assert!(meets_a_goal(&lex, &format!("{form} its targets")), "{form}");
            assert!(
                !meets_a_goal(&lex, &format!("{form} the president")),
                "{form}"
            );
        }
        assert!(!meets_a_goal(&lex, "greeted its targets"));
        for reception in lex.receptions.words() {
            assert!(
                meets_a_goal(&lex, &format!("met with {reception}")),
                "{reception}"
            );
            assert!(meets_a_goal(
                &lex,
                &format!("met with widespread {reception}")
            ));
        }
        assert!(!meets_a_goal(&lex, "met with the president"));
        for stop in lex.goal_object_stops.words() {
            assert!(
                !meets_a_goal(&lex, &format!("met {stop} the targets")),
                "{stop}"
            );
        }
    }
}
