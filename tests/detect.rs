//! Detection end to end: the seed article of the brief, the labelled fixtures in
//! `tests/fixtures/detect/` (thresholds that only go up), and the `detect` command's
//! single and batch modes through the real binary.

mod common;

use std::process::Command;

use serde_json::Value;

use common::BIN;
use tidings::detect::{Article, Detector};
use tidings::eval::{evaluate, BatchArticle, Labels};
use tidings::model::Modality;

fn read_jsonl<T: serde::de::DeserializeOwned>(path: &str) -> Vec<T> {
    let text = std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{path}: {e}"));
    text.lines()
        .filter(|l| !l.trim().is_empty())
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

/// Scores on the project's own labelled fixtures. These thresholds only go up: raise
/// them when the detector improves, never lower them.
#[test]
fn fixture_scores_stay_above_their_thresholds() {
    let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/detect");
    let articles: Vec<BatchArticle> = read_jsonl(&format!("{dir}/articles.jsonl"));
    let labels: Vec<Labels> = read_jsonl(&format!("{dir}/labels.jsonl"));
    let report = evaluate(&Detector::embedded().unwrap(), &articles, &labels);
    let meeting = &report.types["bilateral_meeting"];
    let vote = &report.types["un_vote"];
    eprintln!(
        "fixtures: meeting P {:.4} R {:.4} F1 {:.4}; un_vote P {:.4} R {:.4} F1 {:.4}; modality {:.4}",
        meeting.precision, meeting.recall, meeting.f1, vote.precision, vote.recall, vote.f1, report.modality_accuracy
    );
    assert!(
        meeting.f1 >= FIXTURE_MEETING_F1,
        "bilateral_meeting F1 {:.3} < {FIXTURE_MEETING_F1}",
        meeting.f1
    );
    assert!(
        vote.f1 >= FIXTURE_VOTE_F1,
        "un_vote F1 {:.3} < {FIXTURE_VOTE_F1}",
        vote.f1
    );
    assert!(
        report.modality_accuracy >= FIXTURE_MODALITY,
        "modality accuracy {:.3} < {FIXTURE_MODALITY}",
        report.modality_accuracy
    );
}

const FIXTURE_MEETING_F1: f64 = 0.855;
const FIXTURE_VOTE_F1: f64 = 0.96;
const FIXTURE_MODALITY: f64 = 0.85;

/// The article tidings began from must yield the events the brief lists.
#[test]
fn the_seed_article_yields_the_briefs_events() {
    let Some(shared) = common::shared_dir_or_skip("the_seed_article_yields_the_briefs_events")
    else {
        return;
    };
    let text =
        std::fs::read_to_string(shared.join("seeds/dw-2023-02-22-russia-china-ties.txt")).unwrap();
    let events = Detector::embedded().unwrap().detect(&Article {
        title: "Russia, China underline close relations amid war in Ukraine",
        text: &text,
        published: "2023-02-22".parse().unwrap(),
    });
    let has = |t: &str, key: &str, m: Modality| {
        events
            .iter()
            .find(|e| e.event_type == t && e.key() == key && e.modality == m)
    };
    for e in &events {
        eprintln!(
            "{} {} {} {:?} — {}",
            e.event_type,
            e.key(),
            e.modality.as_str(),
            e.date,
            e.evidence.sentence
        );
    }
    let wang_putin = has("bilateral_meeting", "CHN-RUS", Modality::Occurred)
        .expect("China–Russia meeting, occurred");
    assert_eq!(
        wang_putin.date.map(|d| d.to_string()).as_deref(),
        Some("2023-02-22"),
        "\"on Wednesday\" is the publication day"
    );
    assert_eq!(wang_putin.location.as_deref(), Some("Moscow"));
    assert!(wang_putin
        .actors
        .iter()
        .any(|a| a.name.as_deref() == Some("Wang Yi")));
    assert!(wang_putin
        .actors
        .iter()
        .any(|a| a.name.as_deref() == Some("Vladimir Putin")));
    has("bilateral_meeting", "UKR-USA", Modality::Occurred)
        .expect("Biden's visit to Ukraine, occurred");
    has("bilateral_meeting", "CHN-RUS", Modality::Planned).expect("Xi's planned visit to Moscow");
    let vote =
        has("un_vote", "UNGA", Modality::Planned).expect("the General Assembly vote, planned");
    assert_eq!(
        vote.date.map(|d| d.to_string()).as_deref(),
        Some("2023-02-23/2023-02-26"),
        "later this week"
    );
}

#[test]
fn detect_prints_what_it_found_and_why() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("story.txt");
    std::fs::write(
        &file,
        "China's top diplomat Wang Yi met Russian President Vladimir Putin in Moscow on Wednesday.",
    )
    .unwrap();
    let out = Command::new(BIN)
        .args([
            "detect",
            file.to_str().unwrap(),
            "--published",
            "2023-02-22",
        ])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(
        text.contains("bilateral_meeting  CHN–RUS  occurred  date 2023-02-22  location Moscow"),
        "{text}"
    );
    assert!(text.contains("actor: Wang Yi (CHN"), "{text}");
    assert!(text.contains("rule: bilateral: named + named"), "{text}");

    let out = Command::new(BIN)
        .args([
            "detect",
            file.to_str().unwrap(),
            "--published",
            "2023-02-22",
            "--json",
        ])
        .output()
        .unwrap();
    let json: Value = serde_json::from_slice(&out.stdout).unwrap();
    let e = &json[0];
    assert_eq!(e["type"], "bilateral_meeting");
    assert_eq!(e["countries"], serde_json::json!(["CHN", "RUS"]));
    assert_eq!(e["modality"], "occurred");
    assert_eq!(e["evidence"]["start"], 0);
    assert!(e["confidence"].as_f64().unwrap() > 0.5);
}

#[test]
fn batch_mode_answers_every_line_in_order_and_reports_bad_ones() {
    let input = [
        r#"{"id":"a","date":"2023-02-22","title":"","text":"The UN General Assembly will vote on Thursday on a resolution."}"#,
        r#"{"id":"b","date":"2023-02-22","text":"Nothing happened today."}"#,
        r#"{"id":"c","date":"not a date","text":"x"}"#,
        r#"{"id":"d","date":"2023-02-22","title":"Blinken meets Wang","text":"U.S. Secretary of State Antony Blinken met China's top diplomat Wang Yi in Munich on Saturday."}"#,
    ]
    .join("\n");
    let out = common::run_with_stdin(&["detect", "--jsonl", "-"], &input);
    assert!(
        !out.status.success(),
        "a bad line makes the exit status non-zero"
    );
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("-:3:"), "{stderr}");
    let stdout = String::from_utf8(out.stdout).unwrap();
    let lines: Vec<Value> = stdout
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let ids: Vec<&str> = lines.iter().map(|l| l["id"].as_str().unwrap()).collect();
    assert_eq!(ids, ["a", "b", "c", "d"]);
    // Confidence is written as what it means: at most two decimals.
    for found in stdout.split("\"confidence\":").skip(1) {
        let number: String = found
            .chars()
            .take_while(|c| c.is_ascii_digit() || *c == '.')
            .collect();
        let decimals = number.split('.').nth(1).map_or(0, str::len);
        assert!(decimals <= 2, "confidence written as {number}");
    }
    assert!(stdout.contains("\"confidence\":"), "{stdout}");
    assert_eq!(lines[0]["events"][0]["type"], "un_vote");
    assert_eq!(lines[0]["events"][0]["organization"], "UNGA");
    assert_eq!(lines[0]["events"][0]["modality"], "planned");
    assert_eq!(lines[0]["events"][0]["date"], "2023-02-23");
    assert_eq!(lines[1]["events"], serde_json::json!([]));
    assert!(lines[2]["error"].as_str().unwrap().contains("-:3:"));
    assert_eq!(
        lines[3]["events"][0]["countries"],
        serde_json::json!(["CHN", "USA"])
    );
}

/// Event types are data: a new type in a copied config folder is found by `detect`, with
/// no recompilation, and a broken one is refused by `check` with its file and line.
#[test]
fn a_new_event_type_is_a_new_file() {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("config");
    let dir = tempfile::tempdir().unwrap();
    let events = dir.path().join("events");
    std::fs::create_dir(&events).unwrap();
    for f in ["bilateral_meeting.toml", "un_vote.toml", "modality.toml"] {
        std::fs::copy(root.join("events").join(f), events.join(f)).unwrap();
    }
    std::fs::write(
        events.join("election_observation.toml"),
        "[event_type]\nid = \"election_observation\"\ndescription = \"Observers sent to watch an election\"\n\
         shape = \"state_action\"\ntriggers = [\"election observers\", \"observation mission\"]\n\
         require_any = [\"send\", \"sends\", \"sent\", \"deploy\", \"deployed\"]\n",
    )
    .unwrap();
    let config = dir.path().join("tidings.toml");
    std::fs::write(
        &config,
        format!(
            "[detection]\ngazetteer = \"{}\"\nevent_types = [\"events/bilateral_meeting.toml\", \"events/un_vote.toml\", \"events/election_observation.toml\"]\n",
            root.join("gazetteer").display()
        ),
    )
    .unwrap();
    let story = dir.path().join("story.txt");
    std::fs::write(
        &story,
        "Kenya and Tanzania sent election observers to Uganda on Monday.",
    )
    .unwrap();
    let out = Command::new(BIN)
        .args([
            "--config",
            config.to_str().unwrap(),
            "detect",
            story.to_str().unwrap(),
            "--published",
            "2021-01-11",
            "--json",
        ])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let json: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(json[0]["type"], "election_observation", "{json}");
    assert_eq!(json[0]["countries"], serde_json::json!(["KEN", "TZA"]));

    let check = Command::new(BIN)
        .args(["--config", config.to_str().unwrap(), "check"])
        .output()
        .unwrap();
    assert!(check.status.success());
    assert!(String::from_utf8_lossy(&check.stdout).contains("election_observation"));

    // A typo in the new file is refused with its file and line, by check and by run.
    std::fs::write(
        events.join("election_observation.toml"),
        "[event_type]\nid = \"x\"\ndescription = \"d\"\nshap = \"state_action\"\n",
    )
    .unwrap();
    for args in [vec!["check"], vec!["run", "--once"]] {
        let out = Command::new(BIN)
            .args([
                "--config",
                config.to_str().unwrap(),
                "--data-dir",
                dir.path().join("data").to_str().unwrap(),
            ])
            .args(&args)
            .output()
            .unwrap();
        assert!(!out.status.success());
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(
            stderr.contains("election_observation.toml:4:1"),
            "{args:?}: {stderr}"
        );
    }
    assert!(
        !dir.path().join("data").exists(),
        "nothing is created for a refused config"
    );
}

/// (publication date, text, expected (key, modality) of each meeting)
type WrittenCase = (
    &'static str,
    &'static str,
    &'static [(&'static str, Modality)],
);

/// One sentence or two, written for these tests, and the meetings they state: each case
/// pins one rule of the detector (see the comments). Keys are sorted country pairs.
#[test]
fn meeting_rules_hold_on_written_cases() {
    use Modality::{Occurred as O, Planned as P};
    let cases: &[WrittenCase] = &[
        // A country after "in the" is a place, not a third party.
        (
            "2007-11-27",
            "Ehud Olmert and Mahmoud Abbas resumed their talks in the United States on Tuesday.",
            &[("ISR-PSE", O)],
        ),
        // A visit to a site in a country is no visit to its government.
        (
            "2015-06-01",
            "Japanese Prime Minister Shinzo Abe visited a naval base in Djibouti on Sunday.",
            &[],
        ),
        // Arrivals are visits ...
        (
            "2019-09-02",
            "Chinese Foreign Minister Wang Yi arrived in Jakarta on Monday.",
            &[("CHN-IDN", O)],
        ),
        // ... but being somewhere says nothing about two officials named near it.
        (
            "2019-05-01",
            "Russian President Vladimir Putin was in Sochi when Chinese President Xi Jinping spoke.",
            &[],
        ),
        // An ambassador summoned to a ministry meets its officials.
        (
            "2020-01-14",
            "The British ambassador was summoned to the Iranian foreign ministry on Tuesday.",
            &[("GBR-IRN", O)],
        ),
        // Two states joined by a hyphen before the trigger are its parties.
        (
            "2019-05-01",
            "The Indian-Pakistani border commission will meet next month.",
            &[("IND-PAK", P)],
        ),
        // "The trip" refers back to the official named before, and lists its stops.
        (
            "2007-10-17",
            "Brazilian President Luiz Inácio Lula da Silva began a state visit to Angola on Monday. \
             The trip, his third to Africa, is part of a tour that includes Mozambique and \
             Namibia.",
            &[("AGO-BRA", O), ("BRA-MOZ", O), ("BRA-NAM", O)],
        ),
        // "The two leaders" are the last two states' officials, even when a venue state is
        // named beside them.
        (
            "2011-11-10",
            "Indian Prime Minister Manmohan Singh spoke about trade on Thursday. The Pakistani \
             prime minister spoke later. The two leaders met at a summit held in Addu, Maldives, \
             the first meeting between the two sides in a year.",
            &[("IND-PAK", O)],
        ),
        // "They" is a group, never the one official named before.
        (
            "2005-03-17",
            "The Irish foreign minister praised the campaigners. They met President George W. Bush \
             on Thursday.",
            &[],
        ),
        // A government protested against is no party to the talks.
        (
            "2005-05-01",
            "Farmers held talks with President Luiz Inácio Lula da Silva and protested against the \
             US government.",
            &[],
        ),
        // A meeting verb in the past tense happened, whatever was planned before it; a cue
        // in a clause of its own is about something else.
        (
            "2007-11-01",
            "George W. Bush told Hu Jintao that he planned to attend the games when they met in \
             Sydney in September.",
            &[("CHN-USA", O)],
        ),
        (
            "2006-05-26",
            "At a news conference with President George W. Bush, Prime Minister Tony Blair said \
             that he is preparing new proposals.",
            &[("GBR-USA", O)],
        ),
        // A state objecting to a meeting does not take part in it.
        (
            "2007-09-24",
            "China condemned a meeting between German Chancellor Angela Merkel and the Dalai Lama.",
            &[],
        ),
        // Meeting a goal is no meeting.
        (
            "2005-05-01",
            "Protesters demanded that President Luiz Inácio Lula da Silva meet his promises on land \
             reform, and criticised President George W. Bush.",
            &[],
        ),
        // A surname alone refers to the official named before with that name.
        (
            "2007-01-22",
            "US envoy Christopher Hill met North Korean officials in Beijing on Monday. Hill flies \
             to Seoul on Wednesday.",
            &[("PRK-USA", O), ("KOR-USA", P)],
        ),
        // Heirs to the throne on official visits, by the dates of their title.
        (
            "2017-10-09",
            "Crown Prince Frederik of Denmark began an official visit to Japan on Monday.",
            &[("DNK-JPN", O)],
        ),
        // Being barred from a country is no visit.
        (
            "2009-05-01",
            "New Zealand barred the Fijian military ruler from visiting Auckland.",
            &[],
        ),
    ];
    let detector = Detector::embedded().unwrap();
    let mut failures = Vec::new();
    for (date, text, want) in cases {
        let mut got: Vec<(String, Modality)> = detector
            .detect(&Article {
                title: "",
                text,
                published: date.parse().unwrap(),
            })
            .into_iter()
            .filter(|d| d.event_type == "bilateral_meeting")
            .map(|d| (d.key(), d.modality))
            .collect();
        got.sort();
        let mut want: Vec<(String, Modality)> =
            want.iter().map(|(k, m)| (k.to_string(), *m)).collect();
        want.sort();
        if got != want {
            failures.push(format!("{text}\n  want {want:?}\n  got  {got:?}"));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

/// The shipped decision model, trained on `../shared/corpus/train/` only, scored on
/// `../shared/corpus/dev/` (never used to fit it). These thresholds only go up (the
/// calibration error's only goes down): change them when detection improves, never to
/// let a regression through. (The meeting threshold was 0.855 for one commit: the rules
/// were fitted to dev before training data existed, and a rule change chosen on train —
/// coordinated nationalities, +5 meetings found on train, 5-fold F1 0.573 → 0.622 —
/// costs one dev false alarm; it stands at what the shipped detector scores.)
#[test]
fn trained_on_train_scored_on_dev_stays_above_its_thresholds() {
    let Some(shared) =
        common::shared_dir_or_skip("trained_on_train_scored_on_dev_stays_above_its_thresholds")
    else {
        return;
    };
    let detector = Detector::embedded().unwrap();
    let model = detector
        .decision
        .as_ref()
        .expect("the shipped detector has a model");
    assert!(
        model
            .trained
            .articles
            .ends_with("corpus/train/articles.jsonl"),
        "the shipped model is trained on train/ only: {}",
        model.trained.articles
    );
    let dev = shared.join("corpus/dev");
    let articles: Vec<BatchArticle> = read_jsonl(&dev.join("articles.jsonl").display().to_string());
    let labels: Vec<Labels> = read_jsonl(&dev.join("labels.jsonl").display().to_string());
    let report = evaluate(&detector, &articles, &labels);
    let meeting = &report.types["bilateral_meeting"];
    let vote = &report.types["un_vote"];
    let ece = report.reliability.expected_calibration_error;
    eprintln!(
        "dev: meeting P {:.4} R {:.4} F1 {:.4}; un_vote F1 {:.4}; modality {:.4}; ECE {ece:.4}",
        meeting.precision, meeting.recall, meeting.f1, vote.f1, report.modality_accuracy
    );
    assert!(
        meeting.f1 >= DEV_MEETING_F1,
        "bilateral_meeting F1 {:.3}",
        meeting.f1
    );
    assert!(vote.f1 >= DEV_VOTE_F1, "un_vote F1 {:.3}", vote.f1);
    assert!(
        report.modality_accuracy >= DEV_MODALITY,
        "modality accuracy {:.3}",
        report.modality_accuracy
    );
    assert!(ece <= DEV_MAX_ECE, "expected calibration error {ece:.3}");
}

const DEV_MEETING_F1: f64 = 0.874;
const DEV_VOTE_F1: f64 = 0.909;
const DEV_MODALITY: f64 = 0.899;
const DEV_MAX_ECE: f64 = 0.03;

/// `tidings train` fits a model the `[detection] model` setting then uses, and
/// `eval --folds` cross-validates, through the real binary.
#[test]
fn train_writes_a_model_that_the_config_uses_and_eval_cross_validates() {
    let dir = tempfile::tempdir().unwrap();
    let fixtures = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/detect");
    let model = dir.path().join("model.json");
    let out = Command::new(BIN)
        .args(["train", "--articles"])
        .arg(format!("{fixtures}/articles.jsonl"))
        .arg("--labels")
        .arg(format!("{fixtures}/labels.jsonl"))
        .arg("--out")
        .arg(&model)
        .env_remove("TIDINGS_CONFIG")
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(stdout.contains("trained on 66 articles"), "{stdout}");
    let written: Value = serde_json::from_str(&std::fs::read_to_string(&model).unwrap()).unwrap();
    assert_eq!(written["version"], 1);
    assert!(written["weights"].as_object().unwrap().len() > 10);

    let config = dir.path().join("tidings.toml");
    std::fs::write(&config, "[detection]\nmodel = \"model.json\"\n").unwrap();
    let out = Command::new(BIN)
        .arg("--config")
        .arg(&config)
        .args(["eval", "--articles"])
        .arg(format!("{fixtures}/articles.jsonl"))
        .arg("--labels")
        .arg(format!("{fixtures}/labels.jsonl"))
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(stdout.contains("expected calibration error"), "{stdout}");

    // A broken model file is refused with its name and line.
    std::fs::write(
        dir.path().join("model.json"),
        "{\n  \"version\": 1,\n  oops\n}",
    )
    .unwrap();
    let out = Command::new(BIN)
        .arg("--config")
        .arg(&config)
        .arg("check")
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success());
    assert!(stderr.contains("model.json:3:"), "{stderr}");

    let out = Command::new(BIN)
        .args(["eval", "--folds", "3", "--articles"])
        .arg(format!("{fixtures}/articles.jsonl"))
        .arg("--labels")
        .arg(format!("{fixtures}/labels.jsonl"))
        .env_remove("TIDINGS_CONFIG")
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        stdout.contains("bilateral_meeting") && stdout.contains("66 articles"),
        "{stdout}"
    );
}

/// The ways English states a meeting, a visit or a UN vote, written for this test (not
/// taken from any corpus), with what each sentence states: `tests/fixtures/detect/
/// constructions.jsonl`. Every case must give exactly its expected events, except the
/// few marked `known_miss` with the reason; a known miss that starts passing is reported
/// so its mark can go.
#[test]
fn written_constructions_give_exactly_their_events() {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/fixtures/detect/constructions.jsonl"
    );
    let cases: Vec<Value> = read_jsonl(path);
    let input: Vec<String> = cases
        .iter()
        .map(|c| {
            serde_json::json!({"id": c["id"], "date": c["date"], "title": c["title"], "text": c["text"]})
                .to_string()
        })
        .collect();
    let out = common::run_with_stdin(&["detect", "--jsonl", "-"], &input.join("\n"));
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let stdout = String::from_utf8(out.stdout).unwrap();
    let answers: Vec<Value> = stdout
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(answers.len(), cases.len());
    let mut wrong = Vec::new();
    let mut fixed = Vec::new();
    for (case, answer) in cases.iter().zip(&answers) {
        let mut got: Vec<String> = answer["events"]
            .as_array()
            .unwrap()
            .iter()
            .filter_map(|e| {
                let key = match e["type"].as_str()? {
                    "bilateral_meeting" => e["countries"]
                        .as_array()?
                        .iter()
                        .filter_map(Value::as_str)
                        .collect::<Vec<_>>()
                        .join("-"),
                    "un_vote" => e["organization"].as_str()?.to_string(),
                    _ => return None,
                };
                Some(format!("{key} {}", e["modality"].as_str()?))
            })
            .collect();
        got.sort();
        got.dedup();
        let want: Vec<String> = case["expect"]
            .as_array()
            .unwrap()
            .iter()
            .map(|v| v.as_str().unwrap().to_string())
            .collect();
        let id = case["id"].as_str().unwrap();
        match (got == want, case.get("known_miss").is_some()) {
            (false, false) => wrong.push(format!(
                "{id}: {}\n    expected {want:?}, found {got:?}",
                case["text"]
            )),
            (true, true) => fixed.push(id.to_string()),
            _ => {}
        }
    }
    if !fixed.is_empty() {
        eprintln!("known misses that now pass (remove their known_miss): {fixed:?}");
    }
    assert!(
        wrong.is_empty(),
        "{} of {} written cases differ:\n{}",
        wrong.len(),
        cases.len(),
        wrong.join("\n")
    );
}
