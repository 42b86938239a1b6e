//! The library's modules depend on each other one way. This test reads every `crate::`
//! path in `src/` (comments aside), builds the graph of top-level modules, and fails on
//! an import cycle, or on a module that reaches up past its layer (the layers of
//! ARCHITECTURE.md, bottom first). The binary (`main.rs`, `cli/`) sits on top and reaches
//! the library as `tidings::`.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

/// The layering, bottom first. A module may use modules of its own layer (without a
/// cycle) or of any layer below.
const LAYERS: &[&[&str]] = &[
    // records and diagnostics
    &["model", "diagnostics", "http", "metrics", "telemetry"],
    &["config"],
    // the pure stages, the fetcher, and tools over them
    &[
        "parser",
        "normalise",
        "dedup",
        "detect",
        "merge",
        "scheduler",
        "fetcher",
        "eval",
        "feedlist",
    ],
    &["store"],
    &["alerts", "poll", "views", "web", "api"],
    &["daemon"],
    &["bin"],
];

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).expect("read src/") {
        let path = entry.expect("dir entry").path();
        if path.is_dir() {
            rust_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

/// The top-level module a file belongs to: `src/store/ingest.rs` → `store`.
fn module_of(src: &Path, file: &Path) -> String {
    let rel = file.strip_prefix(src).expect("file under src/");
    let first = rel.components().next().expect("a component");
    let name = first.as_os_str().to_string_lossy();
    let name = name.trim_end_matches(".rs").to_string();
    match name.as_str() {
        "main" | "cli" => "bin".into(),
        _ => name,
    }
}

/// Modules named by `prefix::NAME` in `code`, with line comments removed.
fn referenced(code: &str, prefix: &str) -> BTreeSet<String> {
    let mut found = BTreeSet::new();
    for line in code.lines() {
        let line = match line.find("//") {
            Some(i) => &line[..i],
            None => line,
        };
        let mut rest = line;
        while let Some(i) = rest.find(prefix) {
            let before_ok = i == 0 || {
                let b = rest.as_bytes()[i - 1];
                !(b.is_ascii_alphanumeric() || b == b'_')
            };
            rest = &rest[i + prefix.len()..];
            let name: String = rest
                .chars()
                .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
                .collect();
            if before_ok && !name.is_empty() {
                found.insert(name);
            }
        }
    }
    found
}

/// Edges module → modules it uses, from the sources in `src`.
fn graph(src: &Path) -> BTreeMap<String, BTreeSet<String>> {
    let mut files = Vec::new();
    rust_files(src, &mut files);
    let modules: BTreeSet<String> = files
        .iter()
        .map(|f| module_of(src, f))
        .filter(|m| m != "lib")
        .collect();
    let mut edges: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for file in &files {
        let from = module_of(src, file);
        if from == "lib" {
            continue; // the crate root only declares the modules
        }
        let code = std::fs::read_to_string(file).expect("read source");
        let prefix = if from == "bin" {
            "tidings::"
        } else {
            "crate::"
        };
        let entry = edges.entry(from.clone()).or_default();
        for to in referenced(&code, prefix) {
            if to != from && modules.contains(&to) && to != "bin" {
                entry.insert(to);
            }
        }
    }
    edges
}

/// A cycle through `start`, if there is one: the path start → … → start.
fn cycle_through(edges: &BTreeMap<String, BTreeSet<String>>, start: &str) -> Option<Vec<String>> {
    fn walk(
        edges: &BTreeMap<String, BTreeSet<String>>,
        start: &str,
        at: &str,
        path: &mut Vec<String>,
        seen: &mut BTreeSet<String>,
    ) -> bool {
        for next in edges.get(at).into_iter().flatten() {
            if next == start {
                path.push(next.clone());
                return true;
            }
            if seen.insert(next.clone()) {
                path.push(next.clone());
                if walk(edges, start, next, path, seen) {
                    return true;
                }
                path.pop();
            }
        }
        false
    }
    let mut path = vec![start.to_string()];
    let mut seen = BTreeSet::new();
    walk(edges, start, start, &mut path, &mut seen).then_some(path)
}

fn layer_of(module: &str) -> Option<usize> {
    LAYERS.iter().position(|l| l.contains(&module))
}

fn problems(edges: &BTreeMap<String, BTreeSet<String>>) -> Vec<String> {
    let mut out = Vec::new();
    let mut reported = BTreeSet::new();
    for module in edges.keys() {
        if let Some(cycle) = cycle_through(edges, module) {
            let mut key: Vec<String> = cycle[..cycle.len() - 1].to_vec();
            key.sort();
            if reported.insert(key) {
                out.push(format!("import cycle: {}", cycle.join(" → ")));
            }
        }
        let Some(from) = layer_of(module) else {
            out.push(format!(
                "module `{module}` is in no layer: add it to LAYERS here and to ARCHITECTURE.md"
            ));
            continue;
        };
        for to in &edges[module] {
            match layer_of(to) {
                Some(l) if l > from => out.push(format!(
                    "`{module}` (layer {from}) uses `{to}` (layer {l}), which sits above it"
                )),
                _ => {}
            }
        }
    }
    out
}

#[test]
fn modules_depend_on_each_other_one_way() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let edges = graph(&src);
    assert!(edges.len() > 10, "found only {} modules", edges.len());
    let found = problems(&edges);
    assert!(found.is_empty(), "{}", found.join("\n"));
}

#[test]
fn the_checker_finds_a_cycle_and_a_reach_upward() {
    let dir = tempfile::tempdir().unwrap();
    let src = dir.path();
    std::fs::create_dir(src.join("store")).unwrap();
    std::fs::write(
        src.join("model.rs"),
        "use crate::config::X; // crate::daemon\n",
    )
    .unwrap();
    std::fs::write(src.join("config.rs"), "pub fn f() { crate::model::g() }\n").unwrap();
    std::fs::write(src.join("store/mod.rs"), "use crate::alerts::routing;\n").unwrap();
    std::fs::write(src.join("alerts.rs"), "use crate::store::Store;\n").unwrap();
    std::fs::write(
        src.join("daemon.rs"),
        "//! uses crate::model only in prose\n",
    )
    .unwrap();
    let edges = graph(src);
    assert!(edges["daemon"].is_empty(), "comments are not imports");
    let found = problems(&edges).join("\n");
    assert!(
        found.contains("import cycle: alerts → store → alerts"),
        "{found}"
    );
    assert!(
        found.contains("import cycle: config → model → config"),
        "{found}"
    );
    assert!(
        found.contains("`model` (layer 0) uses `config` (layer 1)"),
        "{found}"
    );
    assert!(
        found.contains("`store` (layer 3) uses `alerts` (layer 4)"),
        "{found}"
    );
}

/// Only `store/` knows the databases (sled, and PostgreSQL through sqlx), so the rest
/// of the crate does not care which backend runs.
#[test]
fn nothing_outside_the_store_names_sled_or_sqlx() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut files = Vec::new();
    rust_files(&src, &mut files);
    let mut found = Vec::new();
    for file in files {
        if module_of(&src, &file) == "store" {
            continue;
        }
        let code = std::fs::read_to_string(&file).expect("read source");
        for (n, line) in code.lines().enumerate() {
            let code_part = line.split("//").next().unwrap_or("");
            if code_part.contains("sled::") || code_part.contains("sqlx::") {
                found.push(format!("{}:{}: {}", file.display(), n + 1, line.trim()));
            }
        }
    }
    assert!(
        found.is_empty(),
        "sled or sqlx outside store/:\n{}",
        found.join("\n")
    );
}
