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
        let rule = format!("{}: {n} states", shape_name(t.shape));
        let found = Finding::of_states(trigger, actors, rule, t.confidence);
        vec![self.candidate(ti, t, s, found)]
    }
}
