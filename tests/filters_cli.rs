//! Filters that are checked, through the real binary: a sink's `types`, `countries` and
//! `actors` are checked against the event types and the gazetteer (with the config's
//! file:line and the nearest name), and so are `events --type`/`--country` and
//! `stories --feed`.

mod common;

use common::Workspace;

const FEED: &str = "[[feeds]]\nid = \"alpha\"\nurl = \"http://127.0.0.1:9/feed.xml\"\n";

fn sink(filter: &str) -> String {
    format!("{FEED}\n[[sinks]]\nid = \"desk\"\nkind = \"slack\"\nurl = \"http://127.0.0.1:9/hook\"\n{filter}\n")
}

/// `tidings check` on a config with `filter` on its sink: whether it passed, and stderr.
fn check(filter: &str) -> (bool, String) {
    let ws = Workspace::new(&sink(filter));
    let out = ws.run(&["check"]);
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stderr).to_string(),
    )
}

#[test]
fn check_refuses_sink_filters_that_can_never_match() {
    let (ok, err) = check("types = [\"un_vote\", \"bilateral_meting\"]");
    assert!(!ok);
    // Line 9 of the config, column 21: the second of the sink's types.
    assert!(err.contains("tidings.toml:9:21:"), "{err}");
    assert!(
        err.contains(
            "unknown event type \"bilateral_meting\" (did you mean \"bilateral_meeting\"?)"
        ),
        "{err}"
    );

    let (ok, err) = check("countries = [\"RUS\", \"XXX\"]");
    assert!(!ok);
    assert!(err.contains("unknown country code \"XXX\""), "{err}");

    let (ok, err) = check("actors = [\"Vladimir Poutine\"]");
    assert!(!ok);
    assert!(err.contains("did you mean \"Vladimir Putin\""), "{err}");

    let (ok, err) = check(
        "types = [\"bilateral_meeting\"]\ncountries = [\"rus\"]\nactors = [\"vladimir putin\"]",
    );
    assert!(ok, "{err}");

    // The daemon refuses to start on such a config, before it opens the store.
    let ws = Workspace::new(&sink("types = [\"bilateral_meting\"]"));
    let out = ws.run(&["run", "--once"]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success());
    assert!(err.contains("did you mean \"bilateral_meeting\""), "{err}");
    assert!(
        !ws.data_dir().join("store").exists(),
        "the store was created"
    );
}

#[test]
fn cli_filters_name_unknown_values_with_the_nearest() {
    let ws = Workspace::new(FEED);
    let fails = |args: &[&str], wanted: &str| {
        let out = ws.run(args);
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(!out.status.success(), "{args:?} succeeded");
        assert!(err.contains(wanted), "{args:?}: {err}");
        assert!(out.stdout.is_empty(), "{args:?} printed a table");
    };
    fails(
        &["events", "--type", "bilateral_meting"],
        "did you mean \"bilateral_meeting\"",
    );
    fails(
        &["events", "--country", "XXX"],
        "unknown country code \"XXX\"",
    );
    fails(&["events", "--country", "Russia"], "did you mean \"RUS\"");
    fails(&["stories", "--feed", "alpah"], "did you mean \"alpha\"");
    // Known values list (an empty store: nothing yet, but no error).
    assert!(ws
        .run(&["events", "--type", "un_vote", "--country", "rus"])
        .status
        .success());
    assert!(ws.run(&["stories", "--feed", "alpha"]).status.success());
}
