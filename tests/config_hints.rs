//! Config hints and counts a person can act on, through the real binary: a duration
//! written as a number, intervals under the polite minimum, singular nouns, and one
//! definition of "failing" for `tidings feeds` and `/metrics`.

mod common;

use std::time::Duration;

use common::{http_get, terminate, wait_for, Workspace};

#[test]
fn a_bare_number_for_a_duration_gets_the_written_form() {
    let ws =
        Workspace::new("[[feeds]]\nid = \"a\"\nurl = \"https://news.example/rss\"\ninterval = 5\n");
    let out = ws.run(&["check"]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success());
    assert!(err.contains("tidings.toml:4:12:"), "{err}");
    assert!(
        err.contains("a duration needs its unit, as a string: write e.g. \"5s\" or \"5m\""),
        "{err}"
    );
}

#[test]
fn check_warns_under_the_polite_interval_and_counts_in_the_singular() {
    let ws = Workspace::new(
        "[[feeds]]\nid = \"a\"\nurl = \"https://news.example/rss\"\ninterval = \"30s\"\n",
    );
    let out = ws.run(&["check"]);
    let (stdout, stderr) = (
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr),
    );
    assert!(out.status.success(), "{stderr}");
    assert!(stdout.contains("ok — 1 feed;"), "{stdout}");
    assert!(
        stderr.contains("feed \"a\": interval is 30s, under the polite minimum of 1m"),
        "{stderr}"
    );
    // The default interval is polite: no warning.
    let ws = Workspace::new("[[feeds]]\nid = \"a\"\nurl = \"https://news.example/rss\"\n");
    let out = ws.run(&["check"]);
    assert!(String::from_utf8_lossy(&out.stderr).is_empty());
}

#[test]
fn feeds_and_the_failing_metric_agree() {
    // Nothing listens on the discard port: every poll fails at once.
    let ws = Workspace::new(
        "[daemon]\ndefault_interval = \"1s\"\nmin_interval = \"1s\"\nmax_backoff = \"1s\"\n\
         failing_after = 3\njitter = 0.0\n\n\
         [[feeds]]\nid = \"down\"\nurl = \"http://127.0.0.1:9/rss\"\n",
    );
    let mut daemon = ws.spawn_daemon(&[]);
    let base = ws.wait_ready(Duration::from_secs(30));
    let failing_metric = || {
        let (_, body) = http_get(&format!("{base}/metrics")).unwrap();
        body.lines()
            .find(|l| l.starts_with("tidings_feeds_failing "))
            .and_then(|l| l.split_whitespace().nth(1))
            .and_then(|v| v.parse::<f64>().ok())
            .unwrap()
    };
    let health = || {
        let feeds: serde_json::Value = serde_json::from_str(&ws.ok(&["feeds", "--json"])).unwrap();
        common::feed_row(&feeds, "down")["health"]
            .as_str()
            .unwrap()
            .to_string()
    };
    // The metric is read first: once it counts the feed as failing, `feeds` (read after)
    // must show it failing too; while `feeds` shows it retrying, the metric must not
    // have counted it.
    let mut seen_retrying = false;
    wait_for(
        Duration::from_secs(30),
        "the feed to show as failing",
        || {
            let metric = failing_metric();
            let health = health();
            if metric == 1.0 {
                assert_eq!(
                    health, "failing",
                    "the metric counts a feed `feeds` shows {health}"
                );
            }
            seen_retrying |= health == "retrying";
            health == "failing" && failing_metric() == 1.0
        },
    );
    assert!(seen_retrying, "the feed never showed as retrying first");
    assert!(terminate(&mut daemon, Duration::from_secs(20)));
}

#[test]
fn a_first_run_without_network_says_so_in_one_line_per_feed_and_a_summary() {
    // Nothing listens on the discard port: as with no network, nothing answers.
    let mut config = String::new();
    for i in 0..3 {
        config.push_str(&format!(
            "[[feeds]]\nid = \"f{i}\"\nurl = \"http://127.0.0.1:9/f{i}.xml\"\n"
        ));
    }
    let ws = Workspace::new(&config);
    let out = ws.run(&["run", "--once"]);
    let log = String::from_utf8_lossy(&out.stderr);
    let failed: Vec<&str> = log.lines().filter(|l| l.contains("poll failed")).collect();
    assert_eq!(failed.len(), 3, "{log}");
    for line in failed {
        assert!(line.contains("poll failed: connection refused"), "{line}");
        assert!(
            !line.contains("status=0") && line.matches("127.0.0.1:9").count() == 0,
            "{line}"
        );
        assert!(line.len() < 200, "{} characters: {line}", line.len());
    }
    assert!(
        log.contains("first round: 3 feeds: 0 ok, 3 unreachable — no network?"),
        "{log}"
    );
}
