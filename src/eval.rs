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

use crate::detect::{Article, Detection, Detector};
use crate::model::Modality;

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
    pub errors: Vec<EvalError>,
}

/// Events of one article by (type, key): their modalities and the events themselves.
type Keyed<T> = BTreeMap<(String, String), (BTreeSet<Modality>, Vec<T>)>;

/// Runs the detector over `articles` and scores it against `labels` (matched by id).
pub fn evaluate(detector: &Detector, articles: &[BatchArticle], labels: &[Labels]) -> Report {
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
    for a in articles {
        let detections = detector.detect(&Article {
            title: &a.title,
            text: &a.text,
            published: a.date,
        });
        let empty = Labels {
            id: a.id.clone(),
            events: Vec::new(),
            notes: String::new(),
        };
        let gold = by_id.get(a.id.as_str()).copied().unwrap_or(&empty);

        let mut predicted: Keyed<&Detection> = BTreeMap::new();
        for d in &detections {
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
    report
}

fn ratio(a: usize, b: usize) -> f64 {
    if b == 0 {
        0.0
    } else {
        a as f64 / b as f64
    }
}
