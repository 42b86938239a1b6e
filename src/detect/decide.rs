//! The decision layer: which of the rules' candidates are events, and how sure.
//!
//! The rules propose candidate events with their evidence; this layer describes each
//! candidate by sparse features (the rule, the trigger, the words around the trigger and
//! between the parties, the kind of each party, their distance, title or body, modality
//! cues, negation, quotation, "phone", "letter", "summit"…), scores them with a logistic
//! regression trained from labelled articles ([`super::logistic`]), calibrates the score
//! on held-out folds (Platt scaling), and keeps the candidates whose calibrated
//! probability reaches the model's threshold. That probability is the event's
//! `confidence`: among detections at 0.8, about eight in ten are right.
//!
//! The weights are data (`config/model/decision.json`, embedded; `[detection] model`
//! names another file), written by `tidings train`. A type the model was not trained on
//! keeps the rules' verdict and confidence.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::fmt::{Arguments, Write};
use std::path::Path;

use serde::{Deserialize, Serialize};

use super::candidates::OFF_TERM_PENALTY;
use super::logistic::{self, Example, FitSettings, Platt};
use super::{Detection, Proposal};
use crate::diagnostics::{parse_json, ConfigError};
use crate::model::Field;

/// The shipped model, trained by `tidings train` on the project's training articles.
pub const EMBEDDED_MODEL: &str = include_str!("../../config/model/decision.json");

/// Name of the shipped model in messages.
pub const EMBEDDED_MODEL_NAME: &str = "<embedded config/model/decision.json>";

/// Version of the model file's layout.
pub const MODEL_VERSION: u32 = 1;

/// A trained decision model, as stored in its data file.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DecisionModel {
    pub version: u32,
    /// Event types the model decides; others keep the rules' verdict.
    pub types: BTreeSet<String>,
    pub bias: f64,
    /// Feature name → weight; features not listed weigh nothing.
    pub weights: BTreeMap<String, f64>,
    /// Maps the raw score to a calibrated probability.
    pub calibration: Platt,
    /// Candidates whose calibrated probability is below this are dropped.
    pub threshold: f64,
    /// How the model was made: what it was trained on, with which settings.
    #[serde(default)]
    pub trained: TrainingRecord,
}

/// Where a model came from, kept in its file.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct TrainingRecord {
    /// The labelled articles, as given to `tidings train`.
    pub articles: String,
    pub article_count: usize,
    pub candidates: usize,
    pub correct_candidates: usize,
    pub l2: f64,
    pub folds: usize,
}

/// One candidate for training: its features and whether it is a labelled event.
#[derive(Debug, Clone, PartialEq)]
pub struct LabelledCandidate {
    /// Which article it came from (folds split by article).
    pub article: usize,
    pub event_type: String,
    pub features: Vec<String>,
    pub correct: bool,
}

/// How to train.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct TrainSettings {
    pub l2: f64,
    /// Folds used to calibrate and to choose the threshold on held-out scores.
    pub folds: usize,
    /// Features seen in fewer candidates than this are left out.
    pub min_count: usize,
}

impl Default for TrainSettings {
    fn default() -> Self {
        TrainSettings {
            // Chosen by 5-fold cross-validation on the training corpus. F1 is the same
            // from 0.05 to 2 (meeting 0.823, UN vote 0.696): the model keeps what the
            // rules propose and calibrates it. Expected calibration error of the held-out
            // confidences: 0.012, 0.008, 0.020, 0.027, 0.027 at 0.05, 0.2, 0.5, 1, 2.
            l2: 0.2,
            folds: 5,
            min_count: 2,
        }
    }
}

impl DecisionModel {
    /// The shipped model.
    pub fn embedded() -> Result<DecisionModel, ConfigError> {
        DecisionModel::parse(EMBEDDED_MODEL, EMBEDDED_MODEL_NAME)
    }

    /// A model file.
    pub fn load(path: &Path) -> Result<DecisionModel, ConfigError> {
        let text = std::fs::read_to_string(path).map_err(|source| ConfigError::Read {
            path: path.to_owned(),
            source,
        })?;
        DecisionModel::parse(&text, &path.display().to_string())
    }

    /// A model from its JSON text; `origin` names it in errors.
    pub fn parse(text: &str, origin: &str) -> Result<DecisionModel, ConfigError> {
        let model: DecisionModel = parse_json(text, origin)?;
        if model.version != MODEL_VERSION {
            return Err(ConfigError::Invalid {
                file: origin.to_string(),
                line: 1,
                column: 1,
                message: format!(
                    "decision model version {} is not the version this tidings reads ({MODEL_VERSION}); retrain it with `tidings train`",
                    model.version
                ),
            });
        }
        Ok(model)
    }

    /// The model as its data file holds it (pretty JSON, features sorted).
    pub fn to_json(&self) -> String {
        let mut text = serde_json::to_string_pretty(self).expect("a model serialises");
        text.push('\n');
        text
    }

    /// The raw score (log-odds) of a candidate's features.
    pub fn score(&self, features: &[String]) -> f64 {
        self.bias
            + features
                .iter()
                .filter_map(|f| self.weights.get(f))
                .sum::<f64>()
    }

    /// The calibrated probability that a candidate is an event.
    pub fn probability(&self, features: &[String]) -> f64 {
        self.calibration.probability(self.score(features))
    }

    /// [`DecisionModel::score`] of the proposal's [`features`], without making them: each
    /// feature's name is written into one buffer and looked up in the weights. The same
    /// weights are added in the same order (of the feature names) as `score` adds them,
    /// so the two agree to the bit.
    pub fn score_proposal(&self, p: &Proposal, title: &str) -> f64 {
        let mut name = String::with_capacity(64);
        let mut found: Vec<(&str, f64)> = Vec::with_capacity(64);
        each_feature(p, title, &mut |feature| {
            name.clear();
            name.write_fmt(feature)
                .expect("writing to a String cannot fail");
            if let Some((key, &weight)) = self.weights.get_key_value(name.as_str()) {
                found.push((key.as_str(), weight));
            }
        });
        found.sort_unstable_by(|a, b| a.0.cmp(b.0));
        found.dedup_by(|a, b| a.0 == b.0);
        self.bias + found.iter().map(|&(_, w)| w).sum::<f64>()
    }

    /// Keeps the candidates the model accepts, with their calibrated probability as
    /// confidence; candidates of types the model does not decide pass unchanged.
    pub fn decide(&self, title: &str, proposals: Vec<Proposal>) -> Vec<Detection> {
        proposals
            .into_iter()
            .filter_map(|p| {
                if !self.types.contains(&p.detection.event_type) {
                    return Some(p.detection);
                }
                let probability = self.calibration.probability(self.score_proposal(&p, title));
                let mut d = p.detection;
                (probability >= self.threshold).then(|| {
                    // The model decides; an official named for an office they did not
                    // hold that day keeps the event, with the doubt in its confidence.
                    let penalty = if p.off_term {
                        f64::from(OFF_TERM_PENALTY)
                    } else {
                        0.0
                    };
                    d.confidence = round_confidence((probability - penalty).max(0.01));
                    d
                })
            })
            .collect()
    }
}

/// A confidence rounded to what it means: two decimals.
pub fn round_confidence(p: f64) -> f32 {
    ((p * 100.0).round() / 100.0) as f32
}

/// The words of an already lower-cased text (letters and digits; apostrophes end a
/// word), borrowed.
fn words_of(lower: &str) -> impl DoubleEndedIterator<Item = &str> {
    lower
        .split(|c: char| !c.is_alphanumeric())
        .filter(|w| !w.is_empty())
}

/// Words that change what a sentence says about a meeting, whatever the type; sorted,
/// for [`is_marker`].
const MARKERS: &[&str] = &[
    "adopted",
    "agreed",
    "ambassador",
    "and",
    "between",
    "call",
    "called",
    "canceled",
    "cancelled",
    "could",
    "delegation",
    "denied",
    "expected",
    "former",
    "invitation",
    "invited",
    "letter",
    "may",
    "meet",
    "meeting",
    "message",
    "met",
    "might",
    "minister",
    "never",
    "no",
    "not",
    "officials",
    "passed",
    "phone",
    "plan",
    "planned",
    "plans",
    "postponed",
    "president",
    "refused",
    "resolution",
    "said",
    "sanctions",
    "signed",
    "summit",
    "talks",
    "telephone",
    "to",
    "told",
    "trip",
    "urged",
    "veto",
    "vetoed",
    "visit",
    "visited",
    "visiting",
    "vote",
    "voted",
    "will",
    "with",
    "would",
];

/// Whether a lower-cased word is one of the [`MARKERS`].
fn is_marker(word: &str) -> bool {
    MARKERS.binary_search(&word).is_ok()
}

/// The features of one candidate. Every feature is binary; its name says what it is.
/// Sorted, each once.
pub fn features(p: &Proposal, title: &str) -> Vec<String> {
    let mut out: Vec<String> = Vec::with_capacity(64);
    each_feature(p, title, &mut |feature| out.push(feature.to_string()));
    out.sort();
    out.dedup();
    out
}

/// Writes the name of each of the candidate's [`features`] to `emit`, in no particular
/// order and perhaps more than once: what [`features`] collects and
/// [`DecisionModel::score_proposal`] looks up.
fn each_feature(p: &Proposal, title: &str, emit: &mut dyn FnMut(Arguments)) {
    let d = &p.detection;
    let t = &d.event_type;
    emit(format_args!(
        "support={t}|{}",
        match p.support {
            0 | 1 => "1",
            2 => "2",
            _ => "3+",
        }
    ));
    emit(format_args!(
        "states={}",
        match p.states_in_sentence {
            0..=2 => "2",
            3 => "3",
            _ => "4+",
        }
    ));
    let rule = &d.evidence.rule;
    emit(format_args!("type={t}"));
    emit(format_args!("rule={t}|{rule}"));
    // The rule's family ("bilateral", "organization", …) generalises across its variants.
    if let Some((family, _)) = rule.split_once(':') {
        emit(format_args!("family={t}|{family}"));
    }
    emit(format_args!(
        "field={t}|{}",
        match d.evidence.field {
            Field::Title => "title",
            Field::Text => "text",
        }
    ));
    emit(format_args!("modality={t}|{}", d.modality.as_str()));
    emit(format_args!("date={}", d.date.is_some()));
    emit(format_args!("place={}", d.location.is_some()));
    let actor_texts: Vec<&str> = d.actors.iter().map(|a| a.text.as_str()).collect();
    let mut matched = d.evidence.matched.iter();
    if let Some(trigger) = matched.next() {
        let trigger = trigger.to_lowercase();
        emit(format_args!("trigger={t}|{trigger}"));
        for w in words_of(&trigger) {
            emit(format_args!("trigger_word={w}"));
        }
    }
    for cue in matched.filter(|m| !actor_texts.contains(&m.as_str())) {
        emit(format_args!("cue={}", cue.to_lowercase()));
    }
    // The parties: what kind each is, and the pair.
    let kinds: Vec<&str> = d
        .actors
        .iter()
        .map(|a| match (&a.name, &a.role) {
            (Some(_), _) => "named",
            (None, Some(_)) => "role",
            (None, None) if a.country.is_some() => "state",
            _ => "other",
        })
        .collect();
    for (a, kind) in d.actors.iter().zip(&kinds) {
        emit(format_args!("party={kind}"));
        if let Some(role) = &a.role {
            emit(format_args!("role={role}"));
        }
    }
    let mut pair = kinds.clone();
    pair.sort();
    emit(format_args!("parties={t}|{}", pair.join("+")));
    emit(format_args!("party_count={}", d.actors.len().min(4)));
    if d.organization.is_some() {
        emit(format_args!("organization={t}|{}", d.key()));
    }
    // The sentence: its words near the trigger and between the parties.
    let sentence = &d.evidence.sentence;
    let lower = sentence.to_lowercase();
    let mut word_count = 0;
    for w in words_of(&lower) {
        word_count += 1;
        if is_marker(w) {
            emit(format_args!("says={w}"));
        }
    }
    if sentence.contains('"') || sentence.contains('“') || sentence.contains('”') {
        emit(format_args!("quoted"));
    }
    if lower.contains("n't") {
        emit(format_args!("says=not"));
    }
    let length = match word_count {
        0..=12 => "short",
        13..=30 => "medium",
        _ => "long",
    };
    emit(format_args!("length={length}"));
    let actors_lower: Vec<String> = actor_texts.iter().map(|a| a.to_lowercase()).collect();
    if let Some(trigger) = d.evidence.matched.first() {
        if let Some(at) = lower.find(&trigger.to_lowercase()) {
            let mut before = words_of(&lower[..at]).rev().peekable();
            if before.peek().is_none() {
                emit(format_args!("trigger_first"));
            }
            for w in before.take(3) {
                emit(format_args!("before_trigger={w}"));
            }
            for w in words_of(&lower[at + trigger.len()..]).take(3) {
                emit(format_args!("after_trigger={w}"));
            }
            let nearest = actor_texts
                .iter()
                .zip(&actors_lower)
                .filter_map(|(a, a_lower)| lower.find(a_lower.as_str()).map(|p| (p, a.len())))
                .map(|(p, len)| {
                    if p + len <= at {
                        at - (p + len)
                    } else {
                        p.saturating_sub(at + trigger.len())
                    }
                })
                .min();
            if let Some(gap) = nearest {
                emit(format_args!(
                    "trigger_gap={}",
                    match gap {
                        0..=10 => "0-10",
                        11..=40 => "11-40",
                        41..=100 => "41-100",
                        _ => "101+",
                    }
                ));
            }
        }
    }
    let positions: Vec<Option<usize>> = actors_lower
        .iter()
        .map(|a| lower.find(a.as_str()))
        .collect();
    if let [Some(a), Some(b), ..] = positions[..] {
        let (first, second, first_len) = if a <= b {
            (a, b, actor_texts[0].len())
        } else {
            (b, a, actor_texts[1].len())
        };
        let gap = second.saturating_sub(first + first_len);
        emit(format_args!(
            "gap={}",
            match gap {
                0..=5 => "0-5",
                6..=30 => "6-30",
                31..=80 => "31-80",
                _ => "81+",
            }
        ));
        if first + first_len <= second {
            for w in words_of(&lower[first + first_len..second]).take(12) {
                emit(format_args!("between={w}"));
            }
        }
    } else if positions.iter().any(Option::is_none) {
        emit(format_args!("party_outside_sentence"));
    }
    // The title: does it name the parties too?
    let title_lower = title.to_lowercase();
    let in_title = actors_lower
        .iter()
        .filter(|a| title_lower.contains(a.as_str()))
        .count();
    emit(format_args!("in_title={}", in_title.min(2)));
}

/// Fits a model on labelled candidates: features seen in at least `min_count`
/// candidates; calibration and threshold from `folds`-fold held-out scores (by
/// article); final weights on all of them. `missed` is the number of labelled events no
/// candidate found: they count against recall when the threshold is chosen.
pub fn train(
    candidates: &[LabelledCandidate],
    missed: usize,
    settings: TrainSettings,
    record: TrainingRecord,
) -> DecisionModel {
    let types: BTreeSet<String> = candidates.iter().map(|c| c.event_type.clone()).collect();
    let articles: BTreeSet<usize> = candidates.iter().map(|c| c.article).collect();
    let folds = settings.folds.max(2).min(articles.len().max(2));
    let fold_of = |article: usize| article % folds;
    let all: Vec<&LabelledCandidate> = candidates.iter().collect();
    let final_model = fit_raw(&all, settings);
    let mut held_out: Vec<(f64, bool)> = Vec::with_capacity(candidates.len());
    for k in 0..folds {
        let fit_on: Vec<&LabelledCandidate> = candidates
            .iter()
            .filter(|c| fold_of(c.article) != k)
            .collect();
        let raw = fit_raw(&fit_on, settings);
        // Each fold's model has its own bias, higher where the other folds were more
        // often right, that is where the fold left out is more often wrong: left in, it
        // would turn the calibration upside down. The features' part is what is
        // calibrated, on the final model's bias.
        for c in candidates.iter().filter(|c| fold_of(c.article) == k) {
            held_out.push((
                raw.score(&c.features) - raw.bias + final_model.bias,
                c.correct,
            ));
        }
    }
    let calibration = Platt::fit(&held_out);
    let threshold = best_threshold(
        &held_out
            .iter()
            .map(|&(s, y)| (calibration.probability(s), y))
            .collect::<Vec<_>>(),
        missed,
    );
    let raw = final_model;
    DecisionModel {
        version: MODEL_VERSION,
        types,
        bias: raw.bias,
        weights: raw.weights,
        calibration,
        threshold,
        trained: TrainingRecord {
            candidates: candidates.len(),
            correct_candidates: candidates.iter().filter(|c| c.correct).count(),
            l2: settings.l2,
            folds,
            ..record
        },
    }
}

/// A fitted, uncalibrated model over named features.
struct RawModel {
    bias: f64,
    weights: BTreeMap<String, f64>,
}

impl RawModel {
    fn score(&self, features: &[String]) -> f64 {
        self.bias
            + features
                .iter()
                .filter_map(|f| self.weights.get(f))
                .sum::<f64>()
    }
}

fn fit_raw(candidates: &[&LabelledCandidate], settings: TrainSettings) -> RawModel {
    let mut counts: HashMap<&str, usize> = HashMap::new();
    for c in candidates {
        for f in &c.features {
            *counts.entry(f.as_str()).or_default() += 1;
        }
    }
    let mut names: Vec<&str> = counts
        .iter()
        .filter(|(_, n)| **n >= settings.min_count)
        .map(|(f, _)| *f)
        .collect();
    names.sort_unstable();
    let index: HashMap<&str, u32> = names
        .iter()
        .enumerate()
        .map(|(i, f)| (*f, i as u32))
        .collect();
    let examples: Vec<Example> = candidates
        .iter()
        .map(|c| Example {
            features: c
                .features
                .iter()
                .filter_map(|f| index.get(f.as_str()).map(|&i| (i, 1.0)))
                .collect(),
            label: c.correct,
            weight: 1.0,
        })
        .collect();
    let fitted = logistic::fit(
        &examples,
        names.len(),
        FitSettings {
            l2: settings.l2,
            ..FitSettings::default()
        },
    );
    RawModel {
        bias: fitted.bias,
        weights: names
            .iter()
            .zip(&fitted.weights)
            .filter(|(_, w)| w.abs() >= 1e-4)
            .map(|(f, w)| (f.to_string(), (w * 1e4).round() / 1e4))
            .collect(),
    }
}

/// The probability threshold with the best F1 over held-out (probability, correct)
/// pairs, with `missed` events no candidate found counted as misses. Ties go to the
/// lower threshold (recall matters more to analysts than a few false alarms).
pub fn best_threshold(scored: &[(f64, bool)], missed: usize) -> f64 {
    let mut sorted: Vec<(f64, bool)> = scored.to_vec();
    sorted.sort_by(|a, b| b.0.total_cmp(&a.0));
    let positives = sorted.iter().filter(|(_, y)| *y).count();
    let (mut tp, mut fp) = (0usize, 0usize);
    let mut best = (0.0f64, 0.5f64);
    for (i, &(p, y)) in sorted.iter().enumerate() {
        if y {
            tp += 1;
        } else {
            fp += 1;
        }
        // Only between distinct probabilities can a threshold separate candidates.
        if sorted.get(i + 1).is_some_and(|next| next.0 == p) {
            continue;
        }
        let fn_ = positives - tp + missed;
        let f1 = 2.0 * tp as f64 / (2 * tp + fp + fn_).max(1) as f64;
        if f1 > best.0 {
            best = (f1, p);
        }
    }
    (best.1 * 1000.0).floor() / 1000.0
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{EventActor, Evidence, Modality};

    fn proposal(detection: Detection) -> Proposal {
        Proposal {
            detection,
            support: 1,
            states_in_sentence: 2,
            off_term: false,
        }
    }

    fn detection(
        sentence: &str,
        rule: &str,
        matched: &[&str],
        actors: &[(&str, &str)],
    ) -> Detection {
        Detection {
            event_type: "bilateral_meeting".into(),
            actors: actors
                .iter()
                .map(|(text, country)| EventActor {
                    name: None,
                    country: Some(country.to_string()),
                    role: None,
                    text: text.to_string(),
                })
                .collect(),
            countries: actors.iter().map(|(_, c)| c.to_string()).collect(),
            organization: None,
            location: None,
            date: None,
            modality: Modality::Occurred,
            confidence: 0.7,
            evidence: Evidence {
                resolved_against: None,
                field: Field::Text,
                sentence: sentence.into(),
                start: 0,
                end: sentence.chars().count(),
                rule: rule.into(),
                matched: matched.iter().map(|m| m.to_string()).collect(),
            },
        }
    }

    #[test]
    fn features_name_the_rule_trigger_parties_and_the_words_between() {
        let d = detection(
            "China and Russia held talks by phone on Monday.",
            "bilateral: state + state",
            &["talks", "China", "Russia"],
            &[("China", "CHN"), ("Russia", "RUS")],
        );
        let f = features(&proposal(d), "China, Russia talk");
        for expected in [
            "rule=bilateral_meeting|bilateral: state + state",
            "family=bilateral_meeting|bilateral",
            "trigger=bilateral_meeting|talks",
            "parties=bilateral_meeting|state+state",
            "between=and",
            "gap=0-5",
            "says=phone",
            "after_trigger=by",
            "before_trigger=held",
            "in_title=2",
            "support=bilateral_meeting|1",
            "states=2",
        ] {
            assert!(f.contains(&expected.to_string()), "{expected} not in {f:?}");
        }
    }

    /// Every proposal of the fixture articles, and of the shared corpus when it is there
    /// (`../shared/corpus/`), with its article's title.
    fn real_proposals() -> Vec<(Proposal, String)> {
        let detector = super::super::Detector::embedded().unwrap().rules_only();
        let mut files = vec![concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/tests/fixtures/detect/articles.jsonl"
        )
        .to_string()];
        for set in ["train", "dev"] {
            let path = format!(
                "{}/../shared/corpus/{set}/articles.jsonl",
                env!("CARGO_MANIFEST_DIR")
            );
            if Path::new(&path).exists() {
                files.push(path);
            }
        }
        /// The fields of an article line that detection reads.
        #[derive(Deserialize)]
        struct ArticleLine {
            date: chrono::NaiveDate,
            #[serde(default)]
            title: String,
            text: String,
        }
        let mut out = Vec::new();
        for file in files {
            for line in std::fs::read_to_string(file).unwrap().lines() {
                let a: ArticleLine = serde_json::from_str(line).unwrap();
                let article = super::super::Article {
                    title: &a.title,
                    text: &a.text,
                    published: a.date,
                };
                for p in detector.propose(&article) {
                    out.push((p, a.title.clone()));
                }
            }
        }
        out
    }

    #[test]
    fn scoring_a_proposal_agrees_with_scoring_its_features() {
        let proposals = real_proposals();
        assert!(proposals.len() > 20, "{}", proposals.len());
        let shipped = DecisionModel::embedded().unwrap();
        // A model that weighs every feature of these proposals, each differently, so a
        // feature missed, added or counted twice changes the score.
        let mut every = shipped.clone();
        for (p, title) in &proposals {
            for f in features(p, title) {
                let n = every.weights.len() as f64;
                every.weights.entry(f).or_insert(0.01 + n * 1e-3);
            }
        }
        for model in [&shipped, &every] {
            for (p, title) in &proposals {
                let f = features(p, title);
                assert!(f.windows(2).all(|w| w[0] < w[1]), "{f:?}");
                assert_eq!(
                    model.score_proposal(p, title).to_bits(),
                    model.score(&f).to_bits(),
                    "{f:?}"
                );
            }
        }
    }

    #[test]
    fn the_markers_are_sorted_for_their_binary_search() {
        assert!(MARKERS.windows(2).all(|w| w[0] < w[1]));
        assert!(is_marker("phone") && is_marker("with") && !is_marker("phoned"));
    }

    #[test]
    fn the_threshold_maximises_f1_and_counts_unfound_events() {
        let scored = [
            (0.9, true),
            (0.8, true),
            (0.6, false),
            (0.4, true),
            (0.2, false),
        ];
        // Keeping the top two: tp 2, fp 0, fn 1 → F1 0.8; keeping four: tp 3, fp 1 → 0.857.
        assert_eq!(best_threshold(&scored, 0), 0.4);
        // Many events no candidate found do not change the ranking's best cut here.
        assert_eq!(best_threshold(&scored, 10), 0.4);
        assert_eq!(best_threshold(&[(0.7, false), (0.3, false)], 0), 0.5);
    }

    #[test]
    fn a_trained_model_separates_what_its_labels_separate_and_round_trips() {
        // Phone calls are labelled no meeting, talks in a capital are.
        let mut candidates = Vec::new();
        for i in 0..40 {
            let phone = i % 2 == 0;
            let d = detection(
                if phone {
                    "The two presidents spoke by phone about trade."
                } else {
                    "The two presidents held talks in Beijing about trade."
                },
                "bilateral: named + named",
                &[if phone { "spoke" } else { "talks" }],
                &[("China", "CHN"), ("Russia", "RUS")],
            );
            candidates.push(LabelledCandidate {
                article: i,
                event_type: d.event_type.clone(),
                features: features(&proposal(d.clone()), ""),
                correct: !phone,
            });
        }
        let model = train(
            &candidates,
            0,
            TrainSettings::default(),
            TrainingRecord::default(),
        );
        let talks = &candidates[1].features;
        let phone = &candidates[0].features;
        assert!(
            model.probability(talks) > 0.8,
            "{}",
            model.probability(talks)
        );
        assert!(
            model.probability(phone) < 0.2,
            "{}",
            model.probability(phone)
        );
        assert!(model.threshold > model.probability(phone));
        let again = DecisionModel::parse(&model.to_json(), "m.json").unwrap();
        assert_eq!(again.types, model.types);
        assert_eq!(again.threshold, model.threshold);
        assert!((again.probability(talks) - model.probability(talks)).abs() < 1e-9);
        // A type the model never saw passes through with the rules' confidence.
        let mut other = detection(
            "Troops withdrew.",
            "state action: 1 states",
            &["withdrew"],
            &[],
        );
        other.event_type = "ceasefire".into();
        let kept = model.decide("", vec![proposal(other.clone())]);
        assert_eq!(kept, vec![other]);
    }

    #[test]
    fn a_model_file_from_another_version_is_refused_with_its_name() {
        let e = DecisionModel::parse(
            r#"{"version": 99, "types": [], "bias": 0, "weights": {}, "calibration": {"a": 1, "b": 0}, "threshold": 0.5}"#,
            "m.json",
        )
        .unwrap_err()
        .to_string();
        assert!(e.starts_with("m.json:1:1:") && e.contains("retrain"), "{e}");
        let e = DecisionModel::parse("{\"version\": 1,\n\"bias\": \"x\"}", "m.json")
            .unwrap_err()
            .to_string();
        assert!(e.starts_with("m.json:2:"), "{e}");
    }

    #[test]
    fn the_shipped_model_loads() {
        let m = DecisionModel::embedded().unwrap();
        assert!(m.types.contains("bilateral_meeting"));
        assert!(m.threshold > 0.0 && m.threshold < 1.0);
    }

    #[test]
    fn confidence_is_rounded_to_two_decimals() {
        assert_eq!(round_confidence(0.949_999), 0.95);
        assert_eq!(
            serde_json::to_string(&round_confidence(0.95)).unwrap(),
            "0.95"
        );
    }
}
