//! The converted gazetteer data is what its tool makes of the public source:
//! `tools/gazetteer_from_countryinfo.py` run on `../shared/data/CountryInfo/` writes exactly
//! the committed `config/gazetteer/officials_countryinfo.toml`, so nobody edits it by hand
//! and a change to the tool is seen in the data.

mod common;

use std::path::Path;
use std::process::Command;

#[test]
fn the_converted_officials_are_the_tools_output_on_the_source() {
    let Some(shared) =
        common::shared_dir_or_skip("the_converted_officials_are_the_tools_output_on_the_source")
    else {
        return;
    };
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let out = tempfile::tempdir().unwrap();
    let written = out.path().join("officials_countryinfo.toml");
    let run = Command::new("python3")
        .arg(root.join("tools/gazetteer_from_countryinfo.py"))
        .arg("--countryinfo")
        .arg(shared.join("data/CountryInfo/CountryInfo.120116.txt"))
        .arg("--out")
        .arg(&written)
        .output()
        .expect("python3 runs (the tool needs Python 3.11 or later)");
    assert!(
        run.status.success(),
        "{}",
        String::from_utf8_lossy(&run.stderr)
    );
    let fresh = std::fs::read_to_string(&written).unwrap();
    let committed =
        std::fs::read_to_string(root.join("config/gazetteer/officials_countryinfo.toml")).unwrap();
    assert!(
        fresh == committed,
        "config/gazetteer/officials_countryinfo.toml differs from the tool's output: rerun \
         python3 tools/gazetteer_from_countryinfo.py"
    );
    // What the summary reports is what was written.
    let summary = String::from_utf8_lossy(&run.stdout);
    let officials = fresh.matches("[[official]]").count();
    assert!(
        summary.contains(&format!("officials written: {officials}")),
        "{summary}"
    );
}
