//! Detection quality: precision, recall and F1 per event type against labelled articles,
//! and modality accuracy on matched events.
//!
//! Scoring follows the corpus convention: a detection matches a label on its type plus
//! its key — the sorted country pair for meetings (any country list for other types), the
//! UN body for UN votes — counted once per article and key; modality is scored on matched
//! keys.

use std::collections::{BTreeMap, BTreeSet};

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

use crate::detect::decide::{
    self, DecisionModel, LabelledCandidate, TrainSettings, TrainingRecord,
};
use crate::detect::{Article, Detection, Detector};
use crate::model::Modality;

/// One line of `tidings detect --jsonl` input, read field by field so that a bad line
/// says which field is wrong, and the rest of the batch goes on. `date` may be missing or
/// null: the story is then undated ([`Detector::detect_undated`]).
#[derive(Debug, Clone, PartialEq)]
pub struct BatchInput {
    pub id: String,
    pub date: Option<NaiveDate>,
    pub title: String,
    pub text: String,
}

/// Why a line of batch input is not an article.
#[derive(Debug, thiserror::Error, PartialEq)]
pub enum BatchInputError {
    #[error("not UTF-8 (invalid byte at offset {offset})")]
    NotUtf8 { offset: usize },
    #[error("blank line: no article")]
    Blank,
    #[error("not a JSON object: {0}")]
    NotJson(String),
    #[error("field `{field}`: {problem}")]
    Field {
        field: &'static str,
        problem: String,
    },
}

impl BatchInput {
    /// Reads one line (without its newline).
    pub fn from_line(line: &[u8]) -> Result<BatchInput, BatchInputError> {
        let line = std::str::from_utf8(line).map_err(|e| BatchInputError::NotUtf8 {
            offset: e.valid_up_to(),
        })?;
        if line.trim().is_empty() {
            return Err(BatchInputError::Blank);
        }
        let value: serde_json::Value =
            serde_json::from_str(line).map_err(|e| BatchInputError::NotJson(e.to_string()))?;
        let object = value
            .as_object()
            .ok_or_else(|| BatchInputError::NotJson(format!("a JSON {}", json_kind(&value))))?;
        let field = |name: &'static str, problem: String| BatchInputError::Field {
            field: name,
            problem,
        };
        // A string field; `None` when missing or null.
        let text_of = |name: &'static str| match object.get(name) {
            None | Some(serde_json::Value::Null) => Ok(None),
            Some(serde_json::Value::String(s)) => Ok(Some(s.clone())),
            Some(other) => Err(field(
                name,
                format!("expected a string, found a JSON {}", json_kind(other)),
            )),
        };
        let id = text_of("id")?.ok_or_else(|| field("id", "missing".into()))?;
        let text = text_of("text")?.ok_or_else(|| field("text", "missing".into()))?;
        let title = text_of("title")?.unwrap_or_default();
        let date = match text_of("date")? {
            None => None,
            Some(d) => Some(
                NaiveDate::parse_from_str(d.trim(), "%Y-%m-%d").map_err(|_| {
                    field(
                        "date",
                        format!("{d:?} is not a date in YYYY-MM-DD form (e.g. 2023-02-22)"),
                    )
                })?,
            ),
        };
        Ok(BatchInput {
            id,
            date,
            title,
            text,
        })
    }

    /// The `id` of a line that is not a valid article, when it has a readable one.
    pub fn id_of(line: &[u8]) -> Option<String> {
        let value: serde_json::Value = serde_json::from_slice(line).ok()?;
        value.get("id")?.as_str().map(str::to_string)
    }
}

/// "a string", "a number", … for messages.
fn json_kind(v: &serde_json::Value) -> &'static str {
    match v {
        serde_json::Value::Null => "null",
        serde_json::Value::Bool(_) => "boolean",
        serde_json::Value::Number(_) => "number",
        serde_json::Value::String(_) => "string",
        serde_json::Value::Array(_) => "array",
        serde_json::Value::Object(_) => "object",
    }
}

/// One input line of the batch format: `{"id","date","title","text"}`.
#[derive(Debug, Clone, Deserialize, Serialize)]
pub struct BatchArticle {
    pub id: String,
    pub date: NaiveDate,
    #[serde(default)]
    pub title: String,
    pub text: String,
}

/// One output line of the batch format: `{"id","events":[...]}`.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct BatchResult {
    pub id: String,
    pub events: Vec<Detection>,
}

/// One labelled event.
#[derive(Debug, Clone, Deserialize)]
pub struct LabelEvent {
    #[serde(rename = "type")]
    pub event_type: String,
    #[serde(default)]
    pub countries: Vec<String>,
    pub body: Option<String>,
    pub modality: Modality,
    #[serde(default)]
    pub evidence: String,
}

impl LabelEvent {
    pub fn key(&self) -> String {
        match &self.body {
            Some(b) => b.clone(),
            None => {
                let mut c = self.countries.clone();
                c.sort();
                c.join("-")
            }
        }
    }
}

/// One line of a labels file.
#[derive(Debug, Clone, Deserialize)]
pub struct Labels {
    pub id: String,
    pub events: Vec<LabelEvent>,
    #[serde(default)]
    pub notes: String,
}

/// Scores of one event type.
#[derive(Debug, Clone, Default, Serialize, PartialEq)]
pub struct TypeScore {
    pub true_positives: usize,
    pub false_positives: usize,
    pub false_negatives: usize,
    pub precision: f64,
    pub recall: f64,
    pub f1: f64,
    pub modality_correct: usize,
    pub modality_total: usize,
    pub modality_accuracy: f64,
}

/// A miss, a false alarm or a wrong modality, for the `--errors` view.
#[derive(Debug, Clone, Serialize)]
pub struct EvalError {
    pub article: String,
    pub kind: &'static str,
    pub event_type: String,
    pub key: String,
    pub detail: String,
}

#[derive(Debug, Clone, Default, Serialize)]
pub struct Report {
    pub articles: usize,
    /// Detections of types the labels do not cover, by type: reported, not scored.
    pub unscored: BTreeMap<String, usize>,
    pub types: BTreeMap<String, TypeScore>,
    pub modality_accuracy: f64,
    pub reliability: Reliability,
    pub errors: Vec<EvalError>,
}

/// Events of one article by (type, key): their modalities and the events themselves.
type Keyed<T> = BTreeMap<(String, String), (BTreeSet<Modality>, Vec<T>)>;

/// Runs the detector over `articles` and scores it against `labels` (matched by id).
pub fn evaluate(detector: &Detector, articles: &[BatchArticle], labels: &[Labels]) -> Report {
    evaluate_with(detector, articles, labels, &|| {})
}

/// [`evaluate`], calling `tick` after each article (for a progress bar).
pub fn evaluate_with(
    detector: &Detector,
    articles: &[BatchArticle],
    labels: &[Labels],
    tick: Tick,
) -> Report {
    let detections: Vec<Vec<Detection>> = articles
        .iter()
        .map(|a| {
            let found = detector.detect(&article(a));
            tick();
            found
        })
        .collect();
    score(articles, labels, &detections)
}

/// Called once per article processed, for a progress bar.
pub type Tick<'a> = &'a dyn Fn();

/// The detector's view of a batch article.
pub fn article(a: &BatchArticle) -> Article<'_> {
    Article {
        title: &a.title,
        text: &a.text,
        published: a.date,
    }
}

/// Scores `detections` (one list per article, in the order of `articles`) against
/// `labels` (matched by id).
pub fn score(
    articles: &[BatchArticle],
    labels: &[Labels],
    detections: &[Vec<Detection>],
) -> Report {
    let by_id: BTreeMap<&str, &Labels> = labels.iter().map(|l| (l.id.as_str(), l)).collect();
    let mut report = Report {
        articles: articles.len(),
        ..Default::default()
    };
    // Only types the labels cover are scored: the others were never labelled.
    let labelled: BTreeSet<&str> = labels
        .iter()
        .flat_map(|l| l.events.iter().map(|e| e.event_type.as_str()))
        .collect();
    let (mut mod_ok, mut mod_all) = (0, 0);
    let mut confidences: Vec<(f64, bool)> = Vec::new();
    for (a, detections) in articles.iter().zip(detections) {
        let empty = Labels {
            id: a.id.clone(),
            events: Vec::new(),
            notes: String::new(),
        };
        let gold = by_id.get(a.id.as_str()).copied().unwrap_or(&empty);

        let mut predicted: Keyed<&Detection> = BTreeMap::new();
        for d in detections {
            if !labelled.contains(d.event_type.as_str()) {
                *report.unscored.entry(d.event_type.clone()).or_default() += 1;
                continue;
            }
            let e = predicted
                .entry((d.event_type.clone(), d.key()))
                .or_default();
            e.0.insert(d.modality);
            e.1.push(d);
        }
        let mut expected: Keyed<&LabelEvent> = BTreeMap::new();
        for l in &gold.events {
            let e = expected.entry((l.event_type.clone(), l.key())).or_default();
            e.0.insert(l.modality);
            e.1.push(l);
        }
        for (key, (_, dets)) in &predicted {
            let correct = expected.contains_key(key);
            for d in dets {
                confidences.push((f64::from(d.confidence), correct));
            }
        }
        for (key, (mods, dets)) in &predicted {
            let score = report.types.entry(key.0.clone()).or_default();
            match expected.get(key) {
                Some((gold_mods, _)) => {
                    score.true_positives += 1;
                    for m in gold_mods {
                        score.modality_total += 1;
                        mod_all += 1;
                        if mods.contains(m) {
                            score.modality_correct += 1;
                            mod_ok += 1;
                        }
                    }
                    if mods != gold_mods {
                        report.errors.push(EvalError {
                            article: a.id.clone(),
                            kind: "modality",
                            event_type: key.0.clone(),
                            key: key.1.clone(),
                            detail: format!(
                                "labelled {:?}, detected {:?}: {}",
                                gold_mods.iter().map(|m| m.as_str()).collect::<Vec<_>>(),
                                mods.iter().map(|m| m.as_str()).collect::<Vec<_>>(),
                                dets[0].evidence.sentence
                            ),
                        });
                    }
                }
                None => {
                    score.false_positives += 1;
                    let d = dets[0];
                    report.errors.push(EvalError {
                        article: a.id.clone(),
                        kind: "false alarm",
                        event_type: key.0.clone(),
                        key: key.1.clone(),
                        detail: format!(
                            "[{}] {} | matched {:?}",
                            d.evidence.rule, d.evidence.sentence, d.evidence.matched
                        ),
                    });
                }
            }
        }
        for (key, (_, labels)) in &expected {
            if !predicted.contains_key(key) {
                report
                    .types
                    .entry(key.0.clone())
                    .or_default()
                    .false_negatives += 1;
                report.errors.push(EvalError {
                    article: a.id.clone(),
                    kind: "miss",
                    event_type: key.0.clone(),
                    key: key.1.clone(),
                    detail: format!(
                        "{} — evidence: {}",
                        labels[0].modality.as_str(),
                        labels[0].evidence
                    ),
                });
            }
        }
    }
    for s in report.types.values_mut() {
        s.precision = ratio(s.true_positives, s.true_positives + s.false_positives);
        s.recall = ratio(s.true_positives, s.true_positives + s.false_negatives);
        s.f1 = if s.precision + s.recall > 0.0 {
            2.0 * s.precision * s.recall / (s.precision + s.recall)
        } else {
            0.0
        };
        s.modality_accuracy = ratio(s.modality_correct, s.modality_total);
    }
    report.modality_accuracy = ratio(mod_ok, mod_all);
    report.reliability = Reliability::of(&confidences);
    report
}

/// How well confidences match outcomes: detections grouped by confidence band, the
/// share of each band that was right, and the expected calibration error (the bands'
/// gaps between mean confidence and share right, weighted by size).
#[derive(Debug, Clone, Default, Serialize, PartialEq)]
pub struct Reliability {
    pub bands: Vec<Band>,
    pub expected_calibration_error: f64,
}

/// One confidence band of a [`Reliability`] table.
#[derive(Debug, Clone, Default, Serialize, PartialEq)]
pub struct Band {
    /// The band is `[low, high)`, the last one closed.
    pub low: f64,
    pub high: f64,
    pub detections: usize,
    pub correct: usize,
    pub mean_confidence: f64,
    pub share_correct: f64,
}

impl Reliability {
    /// Ten bands of 0.1 over (confidence, correct) pairs.
    pub fn of(scored: &[(f64, bool)]) -> Reliability {
        let mut bands: Vec<Band> = (0..10)
            .map(|i| Band {
                low: i as f64 / 10.0,
                high: (i + 1) as f64 / 10.0,
                ..Band::default()
            })
            .collect();
        let mut sums = [0.0f64; 10];
        for &(p, correct) in scored {
            let i = ((p * 10.0).floor() as usize).min(9);
            bands[i].detections += 1;
            bands[i].correct += usize::from(correct);
            sums[i] += p;
        }
        let total = scored.len();
        let mut ece = 0.0;
        for (b, sum) in bands.iter_mut().zip(sums) {
            if b.detections > 0 {
                b.mean_confidence = sum / b.detections as f64;
                b.share_correct = b.correct as f64 / b.detections as f64;
                ece += b.detections as f64 / total as f64
                    * (b.mean_confidence - b.share_correct).abs();
            }
        }
        Reliability {
            bands: bands.into_iter().filter(|b| b.detections > 0).collect(),
            expected_calibration_error: ece,
        }
    }
}

/// Every candidate the rules propose in `articles`, for the types `labels` cover, with
/// its features and whether its type and key are labelled in its article; and how many
/// labelled events no candidate found.
pub fn labelled_candidates(
    proposer: &Detector,
    articles: &[BatchArticle],
    labels: &[Labels],
) -> (Vec<LabelledCandidate>, usize) {
    labelled_candidates_with(proposer, articles, labels, &|| {})
}

/// [`labelled_candidates`], calling `tick` after each article.
fn labelled_candidates_with(
    proposer: &Detector,
    articles: &[BatchArticle],
    labels: &[Labels],
    tick: Tick,
) -> (Vec<LabelledCandidate>, usize) {
    let by_id: BTreeMap<&str, &Labels> = labels.iter().map(|l| (l.id.as_str(), l)).collect();
    let labelled: BTreeSet<&str> = labels
        .iter()
        .flat_map(|l| l.events.iter().map(|e| e.event_type.as_str()))
        .collect();
    let mut out = Vec::new();
    let mut missed = 0;
    for (i, a) in articles.iter().enumerate() {
        let gold: BTreeSet<(String, String)> = by_id
            .get(a.id.as_str())
            .map(|l| {
                l.events
                    .iter()
                    .map(|e| (e.event_type.clone(), e.key()))
                    .collect()
            })
            .unwrap_or_default();
        let mut found = BTreeSet::new();
        for p in proposer.propose(&article(a)) {
            let d = &p.detection;
            if !labelled.contains(d.event_type.as_str()) {
                continue;
            }
            let key = (d.event_type.clone(), d.key());
            let correct = gold.contains(&key);
            found.insert(key);
            out.push(LabelledCandidate {
                article: i,
                event_type: d.event_type.clone(),
                features: decide::features(&p, &a.title),
                correct,
            });
        }
        missed += gold.difference(&found).count();
        tick();
    }
    (out, missed)
}

/// Trains a decision model on labelled articles (the rules of `proposer` propose).
pub fn train(
    proposer: &Detector,
    articles: &[BatchArticle],
    labels: &[Labels],
    settings: TrainSettings,
    source: &str,
) -> DecisionModel {
    train_with(proposer, articles, labels, settings, source, &|| {})
}

/// [`train`], calling `tick` after each article's candidates are proposed.
pub fn train_with(
    proposer: &Detector,
    articles: &[BatchArticle],
    labels: &[Labels],
    settings: TrainSettings,
    source: &str,
    tick: Tick,
) -> DecisionModel {
    let (candidates, missed) = labelled_candidates_with(proposer, articles, labels, tick);
    decide::train(
        &candidates,
        missed,
        settings,
        TrainingRecord {
            articles: source.to_string(),
            article_count: articles.len(),
            ..TrainingRecord::default()
        },
    )
}

/// K-fold cross-validation by article: for each fold, a model trained on the others
/// decides the fold's candidates; the report scores every article once, held out.
pub fn cross_validate(
    proposer: &Detector,
    articles: &[BatchArticle],
    labels: &[Labels],
    folds: usize,
    settings: TrainSettings,
) -> Report {
    cross_validate_with(proposer, articles, labels, folds, settings, &|| {})
}

/// [`cross_validate`], calling `tick` once per article trained on or decided: `folds`
/// times the number of articles in all.
pub fn cross_validate_with(
    proposer: &Detector,
    articles: &[BatchArticle],
    labels: &[Labels],
    folds: usize,
    settings: TrainSettings,
    tick: Tick,
) -> Report {
    let folds = folds.max(2);
    let mut detections: Vec<Vec<Detection>> = vec![Vec::new(); articles.len()];
    for k in 0..folds {
        let (train_articles, train_labels): (Vec<BatchArticle>, Vec<Labels>) = {
            let ids: BTreeSet<&str> = articles
                .iter()
                .enumerate()
                .filter(|(i, _)| i % folds != k)
                .map(|(_, a)| a.id.as_str())
                .collect();
            (
                articles
                    .iter()
                    .filter(|a| ids.contains(a.id.as_str()))
                    .cloned()
                    .collect(),
                labels
                    .iter()
                    .filter(|l| ids.contains(l.id.as_str()))
                    .cloned()
                    .collect(),
            )
        };
        let model = train_with(
            proposer,
            &train_articles,
            &train_labels,
            settings,
            "fold",
            tick,
        );
        for (i, a) in articles.iter().enumerate().filter(|(i, _)| i % folds == k) {
            detections[i] = model.decide(&a.title, proposer.propose(&article(a)));
            tick();
        }
    }
    score(articles, labels, &detections)
}

fn ratio(a: usize, b: usize) -> f64 {
    if b == 0 {
        0.0
    } else {
        a as f64 / b as f64
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_batch_line_is_read_field_by_field() {
        let ok = BatchInput::from_line(br#"{"id":"x","date":"2023-02-22","text":"t"}"#).unwrap();
        assert_eq!(ok.date, Some("2023-02-22".parse().unwrap()));
        assert_eq!(ok.title, "");
        for undated in [
            &br#"{"id":"x","text":"t"}"#[..],
            br#"{"id":"x","date":null,"title":null,"text":"t"}"#,
        ] {
            assert_eq!(BatchInput::from_line(undated).unwrap().date, None);
        }
        let field = |line: &[u8]| match BatchInput::from_line(line) {
            Err(BatchInputError::Field { field, .. }) => field,
            other => panic!("{other:?}"),
        };
        assert_eq!(
            field(br#"{"id":"x","date":"22/02/2023","text":"t"}"#),
            "date"
        );
        assert_eq!(field(br#"{"id":"x","date":20230222,"text":"t"}"#), "date");
        assert_eq!(field(br#"{"date":"2023-02-22","text":"t"}"#), "id");
        assert_eq!(field(br#"{"id":"x","text":["t"]}"#), "text");
        assert_eq!(field(br#"{"id":"x","title":3,"text":"t"}"#), "title");
        assert_eq!(BatchInput::from_line(b"   "), Err(BatchInputError::Blank));
        assert_eq!(
            BatchInput::from_line(b"{\"id\":\"\xff\"}"),
            Err(BatchInputError::NotUtf8 { offset: 7 })
        );
        assert!(matches!(
            BatchInput::from_line(b"[1]"),
            Err(BatchInputError::NotJson(_))
        ));
        assert_eq!(
            BatchInput::id_of(br#"{"id":"x","date":1}"#).as_deref(),
            Some("x")
        );
    }
}
