//! `normalise::html_to_text` (html5ever's tokenizer, no layout) gives the text a full HTML
//! renderer (html2text, which tidings used before) gives on the titles, summaries and
//! contents of the real feeds in `../shared/feeds/`, when present. Stories stored by an
//! earlier version were normalised with html2text: where the text differs, a re-polled
//! entry is recorded as an edit and a copy no longer matches by content hash, so the two
//! may differ only where html2text's layout garbles the text: the borders it draws
//! around table cells, and words it runs together across an image or a figure.

mod common;

use std::path::{Path, PathBuf};

use tidings::normalise::{collapse_whitespace, html_to_text};

fn rendered_by_html2text(html: &str) -> String {
    if !html.contains(['<', '&']) {
        return collapse_whitespace(html);
    }
    let rendered = html2text::config::with_decorator(html2text::render::TrivialDecorator::new())
        .link_footnotes(false)
        .allow_width_overflow()
        .string_from_read(html.as_bytes(), usize::MAX / 4)
        .unwrap_or_else(|_| html.to_string());
    collapse_whitespace(&rendered)
}

/// The text without whitespace and without box-drawing characters (table borders).
fn letters(text: &str) -> String {
    text.chars()
        .filter(|c| !c.is_whitespace() && !('\u{2500}'..='\u{257f}').contains(c))
        .collect()
}

fn feed_files(dir: &Path, out: &mut Vec<PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        let path = entry.path();
        if path.is_dir() {
            feed_files(&path, out);
        } else if matches!(
            path.extension().and_then(|e| e.to_str()),
            Some("xml" | "rss" | "atom" | "json")
        ) && !path.to_string_lossy().ends_with(".serde.json")
        {
            out.push(path);
        }
    }
}

#[test]
fn real_feed_fragments_give_the_text_a_full_renderer_gives() {
    let Some(shared) =
        common::shared_dir_or_skip("real_feed_fragments_give_the_text_a_full_renderer_gives")
    else {
        return;
    };
    let mut files = Vec::new();
    feed_files(&shared.join("feeds"), &mut files);
    files.sort();
    let (mut fragments, mut with_markup, mut differing) = (0usize, 0usize, 0usize);
    let mut wrong = Vec::new();
    for file in &files {
        let Ok(bytes) = std::fs::read(file) else {
            continue;
        };
        let Ok(feed) = feed_rs::parser::parse(bytes.as_slice()) else {
            continue;
        };
        for entry in &feed.entries {
            let texts = entry
                .title
                .iter()
                .chain(entry.summary.iter())
                .map(|t| t.content.as_str())
                .chain(entry.content.iter().filter_map(|c| c.body.as_deref()));
            for html in texts {
                fragments += 1;
                if html.contains('<') {
                    with_markup += 1;
                }
                let ours = html_to_text(html);
                let theirs = rendered_by_html2text(html);
                if ours == theirs {
                    continue;
                }
                differing += 1;
                if letters(&ours) != letters(&theirs) {
                    wrong.push(format!(
                        "{}:\n  html:      {:.300}\n  ours:      {ours:.600}\n  html2text: {theirs:.600}",
                        file.display(),
                        html
                    ));
                }
            }
        }
    }
    eprintln!(
        "{} files, {fragments} fragments ({with_markup} with markup): {differing} differ in \
         spacing or table borders, {} in their words",
        files.len(),
        wrong.len()
    );
    assert!(fragments > 3_000, "only {fragments} fragments found");
    assert!(with_markup > 50, "only {with_markup} fragments with markup");
    assert!(
        wrong.is_empty(),
        "{} fragments differ in their words:\n{}",
        wrong.len(),
        wrong.join("\n")
    );
}
