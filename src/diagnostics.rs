//! Diagnostics for the files a user writes: the config and the data files it names
//! (gazetteer, event types, modality cues). Every error says which file, and where in it,
//! as `file:line:column: message`.
//!
//! This module sits in the bottom layer with [`crate::model`]: it imports nothing from
//! the crate, so the config and the detector's data loaders share one error shape.

use std::ops::Range;
use std::path::PathBuf;

/// Why a configuration was refused.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("cannot read config file {path}: {source}")]
    Read {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("{file}:{line}:{column}: {message}")]
    Invalid {
        file: String,
        line: usize,
        column: usize,
        message: String,
    },
}

/// Parses a TOML document into `T`, reporting errors as `origin:line:column: message`.
/// Used for the config and for the data files it references (gazetteer, event types).
pub fn parse_toml<T: serde::de::DeserializeOwned>(
    text: &str,
    origin: &str,
) -> Result<T, ConfigError> {
    toml::from_str(text).map_err(|e| {
        invalid_at(
            text,
            origin,
            e.span().unwrap_or(0..0),
            e.message().trim().to_string(),
        )
    })
}

/// Parses a JSON document into `T`, reporting errors as `origin:line:column: message`.
/// Used for data files written by tidings itself (the decision model).
pub fn parse_json<T: serde::de::DeserializeOwned>(
    text: &str,
    origin: &str,
) -> Result<T, ConfigError> {
    serde_json::from_str(text).map_err(|e| {
        let message = e.to_string();
        // serde_json appends " at line L column C"; the location goes in front instead.
        let message = match message.rsplit_once(" at line ") {
            Some((m, _)) => m.to_string(),
            None => message,
        };
        ConfigError::Invalid {
            file: origin.to_string(),
            line: e.line().max(1),
            column: e.column().max(1),
            message,
        }
    })
}

/// An error at byte range `span` of `text` (from `origin`).
pub fn invalid_at(text: &str, origin: &str, span: Range<usize>, message: String) -> ConfigError {
    let (line, column) = line_column(text, span.start);
    ConfigError::Invalid {
        file: origin.to_string(),
        line,
        column,
        message,
    }
}

/// 1-based line and column of byte offset `pos` in `text`.
pub fn line_column(text: &str, pos: usize) -> (usize, usize) {
    let pos = pos.min(text.len());
    let before = &text[..pos];
    let line = before.matches('\n').count() + 1;
    let column = before
        .rsplit('\n')
        .next()
        .map(|l| l.chars().count())
        .unwrap_or(0)
        + 1;
    (line, column)
}

/// The known name nearest to `wanted` (case-insensitive edit distance, a swap of two
/// neighbouring letters counting as one edit), if one is near
/// enough to be a typo of it: at most a third of its length, and at least 1, edits away.
pub fn nearest<'a>(wanted: &str, known: impl IntoIterator<Item = &'a str>) -> Option<&'a str> {
    let wanted = wanted.to_lowercase();
    let limit = (wanted.chars().count() / 3).max(1);
    known
        .into_iter()
        .map(|k| (strsim::osa_distance(&wanted, &k.to_lowercase()), k))
        .filter(|(d, _)| *d <= limit)
        .min_by_key(|(d, _)| *d)
        .map(|(_, k)| k)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn line_and_column_are_one_based_and_count_characters() {
        let text = "a = 1\nbé = x\n";
        assert_eq!(line_column(text, 0), (1, 1));
        assert_eq!(line_column(text, 6), (2, 1));
        // "bé = " is 6 bytes but 5 characters: the column counts characters.
        assert_eq!(line_column(text, 12), (2, 6));
        assert_eq!(line_column(text, 999), (3, 1));
    }

    #[test]
    fn a_toml_error_names_its_file_and_line() {
        #[derive(serde::Deserialize, Debug)]
        #[allow(dead_code)]
        struct T {
            n: u32,
        }
        let e = parse_toml::<T>("# c\nn = \"x\"\n", "data/t.toml").unwrap_err();
        assert!(e.to_string().starts_with("data/t.toml:2:"), "{e}");
    }
}
