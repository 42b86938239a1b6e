//! An evidence sentence in its context: the story's text around it, and inside it the
//! words that made the detection. Pure: the pages escape every piece it returns.

use crate::model::Evidence;

/// Characters of context shown on each side of the sentence.
pub const CONTEXT_CHARS: usize = 240;

/// The pieces of an evidence sentence in context, in order, all plain text.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct InContext {
    /// The text before the sentence (with a leading "…" when cut).
    pub before: String,
    /// The sentence, in parts: `true` for a matched word.
    pub sentence: Vec<(String, bool)>,
    /// The text after the sentence (with a trailing "…" when cut).
    pub after: String,
}

/// Places `evidence` in `field_text` (the story's title or text it was read from). The
/// offsets are characters; if they do not point at the sentence (the story was revised
/// since), the sentence is looked for, and failing that shown alone.
pub fn in_context(field_text: &str, evidence: &Evidence, radius: usize) -> InContext {
    let chars: Vec<char> = field_text.chars().collect();
    let sentence: Vec<char> = evidence.sentence.chars().collect();
    let at_offsets = evidence.end <= chars.len()
        && evidence.start <= evidence.end
        && chars[evidence.start..evidence.end] == sentence[..];
    let start = if at_offsets {
        Some(evidence.start)
    } else {
        field_text
            .find(&evidence.sentence)
            .map(|byte| field_text[..byte].chars().count())
    };
    let (before, after) = match start {
        Some(start) => {
            let end = start + sentence.len();
            let from = start.saturating_sub(radius);
            let to = (end + radius).min(chars.len());
            let mut before: String = chars[from..start].iter().collect();
            if from > 0 {
                before.insert(0, '…');
            }
            let mut after: String = chars[end..to].iter().collect();
            if to < chars.len() {
                after.push('…');
            }
            (before, after)
        }
        None => (String::new(), String::new()),
    };
    InContext {
        before,
        sentence: split_matches(&evidence.sentence, &evidence.matched),
        after,
    }
}

/// `sentence` cut into parts, the first occurrence of each matched word marked.
fn split_matches(sentence: &str, matched: &[String]) -> Vec<(String, bool)> {
    let mut spans: Vec<(usize, usize)> = matched
        .iter()
        .filter(|m| !m.trim().is_empty())
        .filter_map(|m| sentence.find(m.as_str()).map(|i| (i, i + m.len())))
        .collect();
    spans.sort();
    let mut parts = Vec::new();
    let mut at = 0;
    for (s, e) in spans {
        if s < at {
            continue; // overlaps a span already marked
        }
        if s > at {
            parts.push((sentence[at..s].to_string(), false));
        }
        parts.push((sentence[s..e].to_string(), true));
        at = e;
    }
    if at < sentence.len() || parts.is_empty() {
        parts.push((sentence[at..].to_string(), false));
    }
    parts
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::Field;

    fn evidence(sentence: &str, start: usize, matched: &[&str]) -> Evidence {
        Evidence {
            field: Field::Text,
            sentence: sentence.into(),
            start,
            end: start + sentence.chars().count(),
            rule: "r".into(),
            matched: matched.iter().map(|m| m.to_string()).collect(),
            resolved_against: None,
        }
    }

    #[test]
    fn the_sentence_is_found_by_its_character_offsets_and_cut_around() {
        let text = "Élysée said. Macron met Scholz in Berlin. Later, more.";
        let ev = evidence("Macron met Scholz in Berlin.", 13, &["met", "Scholz"]);
        let c = in_context(text, &ev, 100);
        assert_eq!(c.before, "Élysée said. ");
        assert_eq!(c.after, " Later, more.");
        assert_eq!(
            c.sentence,
            [
                ("Macron ".to_string(), false),
                ("met".to_string(), true),
                (" ".to_string(), false),
                ("Scholz".to_string(), true),
                (" in Berlin.".to_string(), false)
            ]
        );
        let short = in_context(text, &ev, 4);
        assert_eq!(short.before, "…id. ");
        assert_eq!(short.after, " Lat…");
    }

    #[test]
    fn stale_offsets_fall_back_to_a_search_then_to_the_sentence_alone() {
        let ev = evidence("They met.", 40, &[]);
        let c = in_context("Revised: they talked. They met. End", &ev, 100);
        assert_eq!(c.before, "Revised: they talked. ");
        assert_eq!(c.after, " End");
        let gone = in_context("Nothing here", &ev, 100);
        assert_eq!(gone.before, "");
        assert_eq!(gone.sentence, [("They met.".to_string(), false)]);
        // Offsets past the end never panic.
        let ev = evidence("x", 1000, &["x", "", "missing"]);
        assert_eq!(in_context("x", &ev, 5).sentence, [("x".to_string(), true)]);
    }
}
