//! The pages' filters, read from the query string (so a view can be shared as a URL) and
//! written back into links. The events filters are the JSON API's (`type`, `country`,
//! `modality`, and `from` as its `since`) plus `min_confidence` and `to`.
//!
//! An empty value (what an HTML form sends for an empty field) means no filter; any
//! other value must parse, or the page answers 400 naming the parameter and the value.

use chrono::NaiveDate;

use crate::model::{Event, Modality};
use crate::store::EventQuery;

/// Events shown by default, and at most.
pub const DEFAULT_LIMIT: usize = 100;
pub const MAX_LIMIT: usize = 1000;

/// A query parameter that does not parse.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("bad {name} {value:?}: {reason}")]
pub struct FilterError {
    pub name: &'static str,
    pub value: String,
    pub reason: String,
}

fn bad(name: &'static str, value: &str, reason: impl Into<String>) -> FilterError {
    FilterError {
        name,
        value: value.chars().take(80).collect(),
        reason: reason.into(),
    }
}

/// The last non-empty value of `name`, if any.
pub fn single(
    params: &[(String, String)],
    name: &'static str,
) -> Result<Option<String>, FilterError> {
    let value = params
        .iter()
        .rev()
        .find(|(k, v)| k == name && !v.trim().is_empty())
        .map(|(_, v)| v.trim().to_string());
    match value {
        Some(v) if !is_name(&v) => Err(bad(
            name,
            &v,
            "use letters, digits, '_' and '-' only (at most 64)",
        )),
        other => Ok(other),
    }
}

fn raw<'a>(params: &'a [(String, String)], name: &str) -> Option<&'a str> {
    params
        .iter()
        .rev()
        .find(|(k, v)| k == name && !v.trim().is_empty())
        .map(|(_, v)| v.trim())
}

fn is_name(v: &str) -> bool {
    !v.is_empty()
        && v.len() <= 64
        && v.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-')
}

/// An ISO 3166-1 alpha-3 code (any case), upper-cased.
pub fn country_code(v: &str) -> Result<String, FilterError> {
    let v = v.trim();
    if v.len() == 3 && v.bytes().all(|b| b.is_ascii_alphabetic()) {
        Ok(v.to_ascii_uppercase())
    } else {
        Err(bad("country", v, "an ISO 3166-1 alpha-3 code such as FRA"))
    }
}

fn day(params: &[(String, String)], name: &'static str) -> Result<Option<NaiveDate>, FilterError> {
    raw(params, name)
        .map(|v| {
            v.parse::<NaiveDate>()
                .map_err(|_| bad(name, v, "a day as YYYY-MM-DD"))
        })
        .transpose()
}

/// `from` and `to`, inclusive days, either open.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct DayRange {
    pub from: Option<NaiveDate>,
    pub to: Option<NaiveDate>,
}

impl DayRange {
    pub fn parse(params: &[(String, String)]) -> Result<DayRange, FilterError> {
        let range = DayRange {
            from: day(params, "from")?,
            to: day(params, "to")?,
        };
        if let (Some(f), Some(t)) = (range.from, range.to) {
            if f > t {
                return Err(bad("from", &f.to_string(), format!("it is after to ({t})")));
            }
        }
        Ok(range)
    }
}

/// The events page's filters.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct EventFilters {
    pub event_type: Option<String>,
    pub country: Option<String>,
    pub modality: Option<Modality>,
    pub min_confidence: Option<f32>,
    pub range: DayRange,
    pub limit: usize,
}

impl EventFilters {
    pub fn parse(params: &[(String, String)]) -> Result<EventFilters, FilterError> {
        let modality = raw(params, "modality")
            .map(|v| {
                v.to_ascii_lowercase()
                    .parse::<Modality>()
                    .map_err(|e| bad("modality", v, e))
            })
            .transpose()?;
        let min_confidence = raw(params, "min_confidence")
            .map(|v| match v.parse::<f32>() {
                Ok(c) if (0.0..=1.0).contains(&c) => Ok(c),
                _ => Err(bad("min_confidence", v, "a number from 0 to 1")),
            })
            .transpose()?;
        let limit = raw(params, "limit")
            .map(|v| match v.parse::<usize>() {
                Ok(n) if (1..=MAX_LIMIT).contains(&n) => Ok(n),
                _ => Err(bad(
                    "limit",
                    v,
                    format!("a whole number from 1 to {MAX_LIMIT}"),
                )),
            })
            .transpose()?
            .unwrap_or(DEFAULT_LIMIT);
        Ok(EventFilters {
            event_type: single(params, "type")?,
            country: raw(params, "country").map(country_code).transpose()?,
            modality,
            min_confidence,
            range: DayRange::parse(params)?,
            limit,
        })
    }

    /// The store query (the API's filters).
    pub fn query(&self) -> EventQuery {
        EventQuery {
            event_type: self.event_type.clone(),
            country: self.country.clone(),
            since: self.range.from,
            modality: self.modality,
            limit: Some(self.limit),
        }
    }

    /// Whether `event` passes every filter (the limit aside).
    pub fn matches(&self, event: &Event) -> bool {
        self.query().matches(event)
            && self.range.to.is_none_or(|t| event.anchor <= t)
            && self.min_confidence.is_none_or(|m| event.confidence >= m)
    }

    /// The filters as query parameters, in a fixed order, the limit only when not the
    /// default.
    pub fn pairs(&self) -> Vec<(&'static str, String)> {
        let mut out = Vec::new();
        if let Some(t) = &self.event_type {
            out.push(("type", t.clone()));
        }
        if let Some(c) = &self.country {
            out.push(("country", c.clone()));
        }
        if let Some(m) = self.modality {
            out.push(("modality", m.as_str().to_string()));
        }
        if let Some(c) = self.min_confidence {
            out.push(("min_confidence", format!("{c}")));
        }
        if let Some(f) = self.range.from {
            out.push(("from", f.to_string()));
        }
        if let Some(t) = self.range.to {
            out.push(("to", t.to_string()));
        }
        if self.limit != DEFAULT_LIMIT {
            out.push(("limit", self.limit.to_string()));
        }
        out
    }

    /// `pairs` as a query string (without `?`), percent-encoded.
    pub fn query_string(&self) -> String {
        encode(&self.pairs())
    }
}

/// Percent-encodes query pairs.
pub fn encode(pairs: &[(&str, String)]) -> String {
    let mut s = url::form_urlencoded::Serializer::new(String::new());
    for (k, v) in pairs {
        s.append_pair(k, v);
    }
    s.finish()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn params(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn filters_round_trip_through_the_url_and_empty_fields_mean_no_filter() {
        let p = params(&[
            ("type", "bilateral_meeting"),
            ("country", "fra"),
            ("modality", "Planned"),
            ("min_confidence", "0.5"),
            ("from", "2026-01-01"),
            ("to", "2026-02-01"),
            ("limit", ""),
        ]);
        let f = EventFilters::parse(&p).unwrap();
        assert_eq!(f.country.as_deref(), Some("FRA"));
        assert_eq!(f.modality, Some(Modality::Planned));
        assert_eq!(f.limit, DEFAULT_LIMIT);
        let again = url::form_urlencoded::parse(f.query_string().as_bytes())
            .into_owned()
            .collect::<Vec<_>>();
        assert_eq!(EventFilters::parse(&again).unwrap(), f);
        assert_eq!(
            EventFilters::parse(&params(&[("type", ""), ("country", " ")])).unwrap(),
            EventFilters {
                limit: DEFAULT_LIMIT,
                ..EventFilters::default()
            }
        );
    }

    #[test]
    fn bad_values_are_refused_naming_the_parameter() {
        for (name, value) in [
            ("min_confidence", "2"),
            ("min_confidence", "high"),
            ("modality", "maybe"),
            ("from", "yesterday"),
            ("country", "France"),
            ("type", "<script>"),
            ("limit", "0"),
            ("limit", "100000"),
        ] {
            let e = EventFilters::parse(&params(&[(name, value)])).unwrap_err();
            assert_eq!(e.name, name, "{e}");
            assert!(e.to_string().contains(value), "{e}");
        }
        let e =
            DayRange::parse(&params(&[("from", "2026-02-02"), ("to", "2026-02-01")])).unwrap_err();
        assert_eq!(e.name, "from");
    }
}
