//! Lenient feed dates, installed in feed-rs through `Builder::timestamp_parser`.
//!
//! RFC 3339 and RFC 2822 are tried first (what nearly every feed sends, so the common
//! case costs one parse); then the shapes real feeds carry: a weekday or a zone name
//! too many (`Tue, 21 Apr 2020 12:43:01 +0000 GMT`), long month names, `UTC`, a
//! single-digit hour, an offset without a colon, and a date and time with no zone
//! (`2020-04-21 12:43:01`, read as UTC).

use chrono::{DateTime, NaiveDate, NaiveDateTime, Utc};

/// Reads a feed date; `None` when no shape fits.
pub(crate) fn parse_timestamp(text: &str) -> Option<DateTime<Utc>> {
    let text = text.trim();
    if text.is_empty() || text.len() > 100 {
        return None;
    }
    DateTime::parse_from_rfc3339(text)
        .or_else(|_| DateTime::parse_from_rfc2822(text))
        .map(|t| t.with_timezone(&Utc))
        .ok()
        .or_else(|| lenient(text))
}

fn lenient(text: &str) -> Option<DateTime<Utc>> {
    // ISO-like shapes: offsets without a colon, a space for the `T`, no zone at all.
    for format in [
        "%Y-%m-%dT%H:%M:%S%.f%z",
        "%Y-%m-%d %H:%M:%S%.f%z",
        "%Y-%m-%d %H:%M:%S%.f %z",
    ] {
        if let Ok(t) = DateTime::parse_from_str(text, format) {
            return Some(t.with_timezone(&Utc));
        }
    }
    for format in [
        "%Y-%m-%dT%H:%M:%S%.f",
        "%Y-%m-%d %H:%M:%S%.f",
        "%Y-%m-%dT%H:%M",
        "%Y-%m-%d %H:%M",
    ] {
        if let Ok(t) = NaiveDateTime::parse_from_str(text, format) {
            return Some(t.and_utc());
        }
    }
    if let Ok(d) = NaiveDate::parse_from_str(text, "%Y-%m-%d") {
        return d.and_hms_opt(0, 0, 0).map(|t| t.and_utc());
    }
    // RFC 2822-like shapes, cleaned word by word.
    let mut words: Vec<String> = text
        .split_whitespace()
        .map(|w| w.trim_end_matches(',').to_string())
        .collect();
    if words
        .first()
        .is_some_and(|w| w.chars().all(char::is_alphabetic))
    {
        words.remove(0); // the weekday, often wrong or in another spelling
    }
    if words.len() >= 5 {
        let zone_at = 4;
        // A numeric offset followed by a zone name: the name is redundant.
        if words.len() > 5 && is_offset(&words[zone_at]) {
            words.truncate(5);
        }
        if words[zone_at].eq_ignore_ascii_case("UTC") || words[zone_at] == "Z" {
            words[zone_at] = "+0000".into();
        }
    }
    if words.len() >= 2 && words[1].len() > 3 && words[1].is_char_boundary(3) {
        words[1].truncate(3); // a long month name
    }
    if let Some(time) = words.get_mut(3) {
        if time.find(':') == Some(1) {
            time.insert(0, '0');
        }
    }
    let cleaned = words.join(" ");
    DateTime::parse_from_rfc2822(&cleaned)
        .or_else(|_| DateTime::parse_from_str(&cleaned, "%d %b %Y %H:%M:%S %z"))
        .or_else(|_| DateTime::parse_from_str(&cleaned, "%d %b %Y %H:%M %z"))
        .map(|t| t.with_timezone(&Utc))
        .ok()
        .or_else(|| {
            NaiveDateTime::parse_from_str(&cleaned, "%d %b %Y %H:%M:%S")
                .ok()
                .map(|t| t.and_utc())
        })
}

fn is_offset(w: &str) -> bool {
    w.len() == 5 && w.starts_with(['+', '-']) && w[1..].bytes().all(|b| b.is_ascii_digit())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(s: &str) -> Option<DateTime<Utc>> {
        Some(s.parse().unwrap())
    }

    #[test]
    fn standard_and_lenient_shapes_are_read() {
        let t = at("2020-04-21T12:43:01Z");
        assert_eq!(parse_timestamp("2020-04-21T12:43:01Z"), t);
        assert_eq!(parse_timestamp("Tue, 21 Apr 2020 12:43:01 GMT"), t);
        assert_eq!(parse_timestamp("2020-04-21 12:43:01"), t);
        assert_eq!(parse_timestamp("Tue, 21 Apr 2020 12:43:01 +0000 GMT"), t);
        assert_eq!(parse_timestamp("Tuesday, 21 April 2020 12:43:01 UTC"), t);
        assert_eq!(parse_timestamp("21 April 2020 14:43:01 +0200"), t);
        assert_eq!(parse_timestamp("2020-04-21T14:43:01+0200"), t);
        assert_eq!(parse_timestamp("Tue, 21 Apr 2020 2:43:01 -1000"), t);
        assert_eq!(parse_timestamp("2020-04-21"), at("2020-04-21T00:00:00Z"));
    }

    #[test]
    fn nonsense_is_no_date() {
        for s in [
            "",
            "yesterday",
            "Tue, 99 Foo 2020",
            "2020-13-45 99:99:99",
            "é, ééééé 1",
        ] {
            assert_eq!(parse_timestamp(s), None, "{s}");
        }
    }
}
