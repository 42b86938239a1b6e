//! Names a user gives in filters, checked against what the detector knows: event type
//! ids, the gazetteer's country codes and officials. A typo gets the nearest known name
//! ("did you mean bilateral_meeting?") instead of a filter that silently never matches.
//! Used for sinks' filters (by `check`, at start and on reload) and for the CLI's
//! `events --type` and `--country`.

use crate::config::{ConfigError, SinkConfig};
use crate::detect::Detector;
pub use crate::diagnostics::nearest;

/// A name the detector does not know.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("unknown {what} {value:?}{}", suggestion.as_ref().map(|s| format!(" (did you mean {s:?}?)")).unwrap_or_default())]
pub struct UnknownName {
    /// "event type", "country code", "official".
    pub what: &'static str,
    pub value: String,
    pub suggestion: Option<String>,
}

/// One of a sink filter's lists: its values, their places, and the check of a value.
type FilterList<'a> = (
    &'a Vec<String>,
    &'a Vec<crate::config::Place>,
    &'a dyn Fn(&str) -> Result<(), UnknownName>,
);

impl Detector {
    /// Whether `id` is one of the loaded event types.
    pub fn check_event_type(&self, id: &str) -> Result<(), UnknownName> {
        let ids = || self.types.types.iter().map(|t| t.id.as_str());
        if ids().any(|t| t == id) {
            return Ok(());
        }
        Err(UnknownName {
            what: "event type",
            value: id.to_string(),
            suggestion: nearest(id, ids()).map(str::to_string),
        })
    }

    /// Whether `code` (ISO 3166-1 alpha-3, any case) is a country of the gazetteer.
    pub fn check_country(&self, code: &str) -> Result<(), UnknownName> {
        let upper = code.to_ascii_uppercase();
        if self.gazetteer.country_by_code(&upper).is_some() {
            return Ok(());
        }
        let g = &self.gazetteer;
        // A country's name or adjective written for its code ("Russia") points to it.
        let by_name = g.countries.iter().find(|c| {
            c.name.eq_ignore_ascii_case(code)
                || c.names
                    .iter()
                    .chain(&c.adjectives)
                    .any(|n| n.eq_ignore_ascii_case(code))
        });
        let suggestion = by_name.map(|c| c.code.clone()).or_else(|| {
            nearest(&upper, g.countries.iter().map(|c| c.code.as_str())).map(str::to_string)
        });
        Err(UnknownName {
            what: "country code",
            value: code.to_string(),
            suggestion,
        })
    }

    /// Whether `name` is an official of the gazetteer, by name or alias (any case).
    pub fn check_official(&self, name: &str) -> Result<(), UnknownName> {
        let g = &self.gazetteer;
        let names = || {
            g.officials
                .iter()
                .flat_map(|o| std::iter::once(&o.name).chain(&o.aliases))
                .map(String::as_str)
        };
        if names().any(|n| n.eq_ignore_ascii_case(name)) {
            return Ok(());
        }
        Err(UnknownName {
            what: "official",
            value: name.to_string(),
            suggestion: nearest(name, names()).map(str::to_string),
        })
    }

    /// Checks every sink's `types`, `countries` and `actors` against the detector's
    /// data; the first unknown value is an error at its place in the config file.
    pub fn check_sink_filters(&self, sinks: &[SinkConfig]) -> Result<(), ConfigError> {
        for sink in sinks {
            let f = &sink.filter;
            let p = &sink.filter_places;
            let lists: [FilterList; 3] = [
                (&f.types, &p.types, &|v| self.check_event_type(v)),
                (&f.countries, &p.countries, &|v| self.check_country(v)),
                (&f.actors, &p.actors, &|v| self.check_official(v)),
            ];
            for (values, places, check) in lists {
                for (i, value) in values.iter().enumerate() {
                    if let Err(e) = check(value) {
                        let place = places.get(i).cloned().unwrap_or_default();
                        return Err(place.error(format!("sink {:?}: {e}", sink.id)));
                    }
                }
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_nearest_name_is_a_typo_away_or_none() {
        let types = ["bilateral_meeting", "un_vote", "sanctions"];
        assert_eq!(
            nearest("bilateral_meting", types),
            Some("bilateral_meeting")
        );
        assert_eq!(nearest("UN_VOTE", types), Some("un_vote"));
        assert_eq!(nearest("earthquake", types), None);
        assert_eq!(
            nearest("Vladimir Poutine", ["Vladimir Putin", "Xi Jinping"]),
            Some("Vladimir Putin")
        );
    }

    #[test]
    fn unknown_names_suggest_the_nearest() {
        let d = Detector::embedded().unwrap();
        assert!(d.check_event_type("bilateral_meeting").is_ok());
        let e = d.check_event_type("bilateral_meting").unwrap_err();
        assert_eq!(e.suggestion.as_deref(), Some("bilateral_meeting"));
        assert_eq!(
            e.to_string(),
            "unknown event type \"bilateral_meting\" (did you mean \"bilateral_meeting\"?)"
        );
        assert!(d.check_country("rus").is_ok());
        assert!(d.check_country("XXX").is_err());
        assert_eq!(
            d.check_country("Russia").unwrap_err().suggestion.as_deref(),
            Some("RUS")
        );
        assert!(d.check_official("vladimir putin").is_ok());
        assert_eq!(
            d.check_official("Vladimir Poutine")
                .unwrap_err()
                .suggestion
                .as_deref(),
            Some("Vladimir Putin")
        );
    }
}
