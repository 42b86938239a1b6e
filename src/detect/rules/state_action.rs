//! The state-action and multilateral rules: enough states (one, or two for
//! multilateral) near the trigger.

use super::{near, shape_name, NEAR_STRONG};
use crate::detect::actors::{distinct_countries, Actor, ActorKind};
use crate::detect::candidates::{Candidate, Finding, Sentence};
use crate::detect::event_types::{CueHit, EventType, Shape};
use crate::detect::Detector;

impl Detector {
    /// The event of type `ti` in the sentence, if enough states stand near the trigger.
    pub(super) fn state_action_rule<'s>(
        &self,
        ti: usize,
        t: &EventType,
        s: &Sentence<'s>,
        trigger: &'s CueHit<'s>,
    ) -> Vec<Candidate<'s>> {
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
        let mut actors = actors;
        let mut rule = format!("{}: {n} states", shape_name(t.shape));
        // "imposed sanctions on Russia": the state acted against is the target, a party
        // of the event in its own role.
        if t.shape == Shape::StateAction {
            if let Some(target) = target_of(s, trigger, &actors) {
                actors.push(target);
                rule.push_str(" + target");
            }
        }
        let found = Finding::of_states(trigger, actors, rule, t.confidence);
        vec![self.candidate(ti, t, s, found)]
    }
}

/// The state an action is taken against: named right after the trigger behind "on",
/// "against" or "targeting" ("sanctions on Russia", "an embargo against the Iranian
/// government"), of a state that is not among those acting.
fn target_of(s: &Sentence, trigger: &CueHit, acting: &[Actor]) -> Option<Actor> {
    let text = &s.folded.text;
    s.actors
        .iter()
        .filter(|a| a.folded.start >= trigger.end && a.country.is_some())
        .filter(|a| acting.iter().all(|b| b.country != a.country))
        .find(|a| {
            let between = text[trigger.end..a.folded.start].trim();
            let between = between.strip_suffix(" the").unwrap_or(between);
            matches!(between, "on" | "against" | "targeting")
        })
        .map(|a| Actor {
            kind: ActorKind::State,
            target: true,
            ..a.clone()
        })
}
