//! Secrets are references in the config, read only by the commands that need them: an
//! analyst lists stories and events without the webhook secret; `check --secrets`, the
//! daemon and `alerts test` read them and name the config line when one is missing.

mod common;

use common::Workspace;

const UNSET: &str = "TIDINGS_TEST_SECRET_NOBODY_SETS";

fn config() -> String {
    format!(
        "[[sinks]]\nid = \"hook\"\nkind = \"webhook\"\nurl = \"http://127.0.0.1:9/hook\"\n\
         secret_env = \"{UNSET}\"\n"
    )
}

#[test]
fn read_commands_work_without_the_secrets() {
    let ws = Workspace::new(&config());
    for args in [
        vec!["stories"],
        vec!["events"],
        vec!["feeds"],
        vec!["alerts"],
        vec!["check"],
    ] {
        let mut cmd = ws.command(&args);
        cmd.env_remove(UNSET);
        let out = cmd.output().unwrap();
        assert!(
            out.status.success(),
            "tidings {args:?} needs no secret: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
}

#[test]
fn commands_that_send_or_check_secrets_name_the_missing_one() {
    let ws = Workspace::new(&config());
    let path = ws.config().display().to_string();
    let expected =
        format!("{path}:5:14: sink \"hook\": environment variable {UNSET} is not set or empty");
    for args in [
        vec!["check", "--secrets"],
        vec!["run", "--once"],
        vec!["alerts", "test", "hook"],
    ] {
        let mut cmd = ws.command(&args);
        cmd.env_remove(UNSET);
        let out = cmd.output().unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(!out.status.success(), "tidings {args:?} must fail");
        assert!(stderr.contains(&expected), "tidings {args:?}: {stderr}");
    }
}

#[test]
fn check_secrets_reports_what_resolved_without_printing_it() {
    let ws = Workspace::new(&config());
    let key = "whsec_dGlkaW5ncy10ZXN0LXNpZ25pbmcta2V5LTMyYnl0ZXM=";
    let mut cmd = ws.command(&["check", "--secrets"]);
    cmd.env(UNSET, key);
    let out = cmd.output().unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        stdout.contains(&format!(
            "secrets: 1 resolved: sink hook (environment variable {UNSET})"
        )),
        "{stdout}"
    );
    assert!(!stdout.contains("dGlkaW5n"), "the value is never printed");
    // A value that is there but is no signing secret is refused, naming the variable.
    let mut cmd = ws.command(&["check", "--secrets"]);
    cmd.env(UNSET, "not-a-whsec");
    let out = cmd.output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success());
    assert!(
        stderr.contains(&format!(
            "sink \"hook\": bad signing secret in environment variable {UNSET}"
        )),
        "{stderr}"
    );
    assert!(!stderr.contains("not-a-whsec"), "{stderr}");
}
