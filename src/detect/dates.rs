//! Resolving date expressions against a story's publication date: "on Wednesday",
//! "yesterday", "last week", "later this week", "next month", "22 February",
//! "Feb. 22, 2023".
//!
//! Works on folded (lower-case) sentence text. A weekday alone is read as the most recent
//! such day on or before publication for things that happened, and the next such day on
//! or after it for things planned.

use crate::model::DateSpan;
use chrono::{Datelike, Duration, NaiveDate, Weekday};

/// Whether a word names a month or a weekday ("August", "Tuesday"): a date, not a name.
pub fn is_calendar_word(word: &str) -> bool {
    let w = word.to_lowercase();
    MONTHS.iter().any(|(m, _)| *m == w) || WEEKDAYS.iter().any(|(d, _)| *d == w)
}

/// A date expression found in a text (folded byte span) and its resolution.
#[derive(Debug, Clone, PartialEq)]
pub struct DateMention {
    pub start: usize,
    pub end: usize,
    pub span: DateSpan,
    /// Whether the expression itself points to the future ("next week", "tomorrow").
    pub future: bool,
}

const WEEKDAYS: [(&str, Weekday); 7] = [
    ("monday", Weekday::Mon),
    ("tuesday", Weekday::Tue),
    ("wednesday", Weekday::Wed),
    ("thursday", Weekday::Thu),
    ("friday", Weekday::Fri),
    ("saturday", Weekday::Sat),
    ("sunday", Weekday::Sun),
];

const MONTHS: [(&str, u32); 21] = [
    ("january", 1),
    ("february", 2),
    ("march", 3),
    ("april", 4),
    ("may", 5),
    ("june", 6),
    ("july", 7),
    ("august", 8),
    ("september", 9),
    ("october", 10),
    ("november", 11),
    ("december", 12),
    ("jan", 1),
    ("feb", 2),
    ("mar", 3),
    ("apr", 4),
    ("aug", 8),
    ("sept", 9),
    ("oct", 10),
    ("nov", 11),
    ("dec", 12),
];

/// Finds and resolves date expressions in folded `text`, published on `published`.
/// `planned` says how to read a bare weekday.
pub fn find_dates(text: &str, published: NaiveDate, planned: bool) -> Vec<DateMention> {
    let words = words(text);
    let mut out = Vec::new();
    let mut i = 0;
    while i < words.len() {
        if let Some((m, used)) = at(text, &words, i, published, planned) {
            out.push(m);
            i += used;
        } else {
            i += 1;
        }
    }
    out
}

/// Word byte ranges (letters and digits) of a folded text.
fn words(text: &str) -> Vec<(usize, usize)> {
    let mut out = Vec::new();
    let mut start = None;
    for (i, c) in text.char_indices() {
        if c.is_alphanumeric() {
            start.get_or_insert(i);
        } else if let Some(s) = start.take() {
            out.push((s, i));
        }
    }
    if let Some(s) = start {
        out.push((s, text.len()));
    }
    out
}

fn week_of(d: NaiveDate) -> (NaiveDate, NaiveDate) {
    let monday = d - Duration::days(d.weekday().num_days_from_monday() as i64);
    (monday, monday + Duration::days(6))
}

fn month_bounds(year: i32, month: u32) -> Option<(NaiveDate, NaiveDate)> {
    let first = NaiveDate::from_ymd_opt(year, month, 1)?;
    let next = if month == 12 {
        NaiveDate::from_ymd_opt(year + 1, 1, 1)?
    } else {
        NaiveDate::from_ymd_opt(year, month + 1, 1)?
    };
    Some((first, next - Duration::days(1)))
}

fn month_named(w: &str) -> Option<u32> {
    MONTHS.iter().find(|(n, _)| *n == w).map(|(_, m)| *m)
}

fn day_number(w: &str) -> Option<u32> {
    // Only a word that starts with an ASCII digit can parse (words hold no sign): most
    // words are turned away here, before their letters are trimmed.
    if !w.as_bytes().first().is_some_and(u8::is_ascii_digit) {
        return None;
    }
    let digits = w.trim_end_matches(|c: char| c.is_alphabetic());
    let suffix = &w[digits.len()..];
    if !matches!(suffix, "" | "st" | "nd" | "rd" | "th") {
        return None;
    }
    digits.parse().ok().filter(|d| (1..=31).contains(d))
}

fn year_number(w: &str) -> Option<i32> {
    w.parse().ok().filter(|y| (1900..=2100).contains(y))
}

/// Picks the year for a day and month without one: the publication year, moved by one
/// when that puts a past event far in the future or a planned one far in the past.
fn guess_year(month: u32, day: u32, published: NaiveDate, planned: bool) -> Option<NaiveDate> {
    let d = NaiveDate::from_ymd_opt(published.year(), month, day)?;
    if planned && d < published - Duration::days(180) {
        NaiveDate::from_ymd_opt(published.year() + 1, month, day)
    } else if !planned && d > published + Duration::days(60) {
        NaiveDate::from_ymd_opt(published.year() - 1, month, day)
    } else {
        Some(d)
    }
}

fn at(
    text: &str,
    words: &[(usize, usize)],
    i: usize,
    published: NaiveDate,
    planned: bool,
) -> Option<(DateMention, usize)> {
    let w = |k: usize| words.get(k).map(|(s, e)| &text[*s..*e]);
    let mention = |start_word: usize, end_word: usize, span: DateSpan, future: bool| DateMention {
        start: words[start_word].0,
        end: words[end_word].1,
        span,
        future,
    };
    let word = w(i)?;
    match word {
        "today" | "tonight" => return Some((mention(i, i, DateSpan::day(published), false), 1)),
        "yesterday" => {
            return Some((
                mention(i, i, DateSpan::day(published - Duration::days(1)), false),
                1,
            ))
        }
        "tomorrow" => {
            return Some((
                mention(i, i, DateSpan::day(published + Duration::days(1)), true),
                1,
            ))
        }
        "last" | "next" | "this" | "later" | "earlier" => {
            let (mut k, mut qualifier) = (i + 1, word);
            if (word == "later" || word == "earlier") && w(k) == Some("this") {
                k += 1;
                qualifier = "this";
            } else if word == "later" || word == "earlier" {
                return None;
            }
            let unit = w(k)?;
            let (mon, sun) = week_of(published);
            if let Some((_, wd)) = WEEKDAYS.iter().find(|(n, _)| *n == unit) {
                let base = mon + Duration::days(wd.num_days_from_monday() as i64);
                let (day, future) = match qualifier {
                    "last" => (
                        if base < published {
                            base
                        } else {
                            base - Duration::days(7)
                        },
                        false,
                    ),
                    "next" => (
                        if base > published {
                            base
                        } else {
                            base + Duration::days(7)
                        },
                        true,
                    ),
                    _ => (base, base > published),
                };
                return Some((mention(i, k, DateSpan::day(day), future), k - i + 1));
            }
            let span = match (qualifier, word, unit) {
                ("last", _, "week") => (mon - Duration::days(7), sun - Duration::days(7), false),
                ("next", _, "week") => (mon + Duration::days(7), sun + Duration::days(7), true),
                (_, "later", "week") => ((published + Duration::days(1)).min(sun), sun, true),
                (_, "earlier", "week") => (mon, published, false),
                ("this", _, "week") => (mon, sun, false),
                ("last", _, "month") | ("next", _, "month") | ("this", _, "month") => {
                    let (y, m) = (published.year(), published.month());
                    let (y, m) = match qualifier {
                        "last" => {
                            if m == 1 {
                                (y - 1, 12)
                            } else {
                                (y, m - 1)
                            }
                        }
                        "next" => {
                            if m == 12 {
                                (y + 1, 1)
                            } else {
                                (y, m + 1)
                            }
                        }
                        _ => (y, m),
                    };
                    let (a, b) = month_bounds(y, m)?;
                    let (a, b) = match word {
                        "later" => ((published + Duration::days(1)).min(b), b),
                        "earlier" => (a, published),
                        _ => (a, b),
                    };
                    (a, b, qualifier == "next" || word == "later")
                }
                ("last", _, "year") => {
                    let y = published.year() - 1;
                    (
                        NaiveDate::from_ymd_opt(y, 1, 1)?,
                        NaiveDate::from_ymd_opt(y, 12, 31)?,
                        false,
                    )
                }
                ("next", _, "year") => {
                    let y = published.year() + 1;
                    (
                        NaiveDate::from_ymd_opt(y, 1, 1)?,
                        NaiveDate::from_ymd_opt(y, 12, 31)?,
                        true,
                    )
                }
                ("last", _, "weekend") | ("next", _, "weekend") | ("this", _, "weekend") => {
                    let sat = mon + Duration::days(5);
                    let shift = match qualifier {
                        "last" => -7,
                        "next" => 7,
                        _ => 0,
                    };
                    (
                        sat + Duration::days(shift),
                        sun + Duration::days(shift),
                        qualifier == "next",
                    )
                }
                _ => return None,
            };
            return Some((
                mention(
                    i,
                    k,
                    DateSpan {
                        start: span.0,
                        end: span.1,
                    },
                    span.2,
                ),
                k - i + 1,
            ));
        }
        _ => {}
    }
    if let Some((_, wd)) = WEEKDAYS.iter().find(|(n, _)| *n == word) {
        let back = (7 + published.weekday().num_days_from_monday() as i64
            - wd.num_days_from_monday() as i64)
            % 7;
        let past = published - Duration::days(back);
        let day = if planned && back != 0 {
            past + Duration::days(7)
        } else {
            past
        };
        return Some((mention(i, i, DateSpan::day(day), day > published), 1));
    }
    // "22 February [2023]"
    if let (Some(day), Some(month)) = (day_number(word), w(i + 1).and_then(month_named)) {
        let (date, used) = match w(i + 2).and_then(year_number) {
            Some(y) => (NaiveDate::from_ymd_opt(y, month, day)?, 3),
            None => (guess_year(month, day, published, planned)?, 2),
        };
        return Some((
            mention(i, i + used - 1, DateSpan::day(date), date > published),
            used,
        ));
    }
    // "February 22[, 2023]" — "may" only with a day after it.
    if let (Some(month), Some(day)) = (month_named(word), w(i + 1).and_then(day_number)) {
        let (date, used) = match w(i + 2).and_then(year_number) {
            Some(y) => (NaiveDate::from_ymd_opt(y, month, day)?, 3),
            None => (guess_year(month, day, published, planned)?, 2),
        };
        return Some((
            mention(i, i + used - 1, DateSpan::day(date), date > published),
            used,
        ));
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(s: &str) -> NaiveDate {
        s.parse().unwrap()
    }

    fn first(text: &str, planned: bool) -> String {
        // 2023-02-22 was a Wednesday.
        find_dates(text, d("2023-02-22"), planned)
            .first()
            .map(|m| m.span.to_string())
            .unwrap_or_default()
    }

    #[test]
    fn months_and_weekdays_are_calendar_words() {
        assert!(is_calendar_word("August") && is_calendar_word("Tuesday"));
        assert!(!is_calendar_word("Mitchell"));
    }

    #[test]
    fn weekdays_resolve_backwards_for_past_and_forwards_for_plans() {
        assert_eq!(first("met on wednesday", false), "2023-02-22");
        assert_eq!(first("met on monday", false), "2023-02-20");
        assert_eq!(first("will meet on friday", true), "2023-02-24");
        assert_eq!(first("will meet on monday", true), "2023-02-27");
        assert_eq!(first("last friday", false), "2023-02-17");
        assert_eq!(first("next tuesday", true), "2023-02-28");
    }

    #[test]
    fn relative_words_and_weeks() {
        assert_eq!(first("yesterday", false), "2023-02-21");
        assert_eq!(first("tomorrow", true), "2023-02-23");
        assert_eq!(first("later this week", true), "2023-02-23/2023-02-26");
        assert_eq!(first("last week", false), "2023-02-13/2023-02-19");
        assert_eq!(first("next week", true), "2023-02-27/2023-03-05");
        assert_eq!(first("next month", true), "2023-03-01/2023-03-31");
        assert_eq!(first("earlier this month", false), "2023-02-01/2023-02-22");
    }

    #[test]
    fn calendar_dates_with_and_without_year() {
        assert_eq!(first("on 22 february", false), "2023-02-22");
        assert_eq!(first("on feb. 18", false), "2023-02-18");
        assert_eq!(first("on march 3, 2021", false), "2021-03-03");
        assert_eq!(first("on the 24th of", false), "");
        // A past event dated in December is last December.
        assert_eq!(first("on december 12", false), "2022-12-12");
        // "may" is a month only with a day.
        assert_eq!(first("talks may resume", true), "");
        assert_eq!(first("on may 9", true), "2023-05-09");
    }
}
