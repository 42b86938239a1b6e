//! Which sinks hear of an event: each sink's filters applied to the event as it stands.

use crate::config::{SinkConfig, SinkFilter};
use crate::model::{AlertReason, Event};

/// Ids of the sinks in `sinks` that want `event` for `reason`.
pub fn route(sinks: &[SinkConfig], event: &Event, reason: &AlertReason) -> Vec<String> {
    sinks
        .iter()
        .filter(|s| matches!(reason, AlertReason::New) || s.on_update)
        .filter(|s| wants(&s.filter, event))
        .map(|s| s.id.clone())
        .collect()
}

/// Whether an event passes a sink's filter.
pub fn wants(f: &SinkFilter, event: &Event) -> bool {
    (f.types.is_empty() || f.types.contains(&event.event_type))
        && (f.countries.is_empty() || f.countries.iter().any(|c| event.countries.contains(c)))
        && (f.actors.is_empty()
            || f.actors.iter().any(|wanted| {
                event.actors.iter().any(|a| {
                    a.name
                        .as_deref()
                        .is_some_and(|n| n.eq_ignore_ascii_case(wanted))
                })
            }))
        && event.confidence >= f.min_confidence
        && (f.modality.is_empty() || f.modality.contains(&event.modality))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::Modality;
    use crate::model::SinkKind;

    fn event() -> Event {
        serde_json::from_value(serde_json::json!({
            "id": 7, "type": "bilateral_meeting", "key": "CHN-RUS",
            "countries": ["CHN", "RUS"], "organization": null,
            "actors": [{"name": "Vladimir Putin", "country": "RUS", "role": "president", "text": "Putin"}],
            "location": "Moscow", "date": "2023-02-22", "modality": "occurred",
            "confidence": 0.8, "anchor": "2023-02-22",
            "first_seen": "2023-02-22T10:00:00Z", "updated": "2023-02-22T10:00:00Z",
            "revisions": 0, "sources": []
        }))
        .unwrap()
    }

    fn sink(id: &str, filter: SinkFilter, on_update: bool) -> SinkConfig {
        SinkConfig {
            id: id.into(),
            kind: SinkKind::Slack,
            url: "http://127.0.0.1/hook".parse().unwrap(),
            secret: None,
            token: None,
            topic: None,
            filter,
            on_update,
        }
    }

    #[test]
    fn filters_on_type_country_actor_confidence_and_modality() {
        let e = event();
        let sinks = vec![
            sink("all", SinkFilter::default(), true),
            sink(
                "votes",
                SinkFilter {
                    types: vec!["un_vote".into()],
                    ..Default::default()
                },
                true,
            ),
            sink(
                "russia",
                SinkFilter {
                    countries: vec!["RUS".into()],
                    actors: vec!["vladimir putin".into()],
                    ..Default::default()
                },
                true,
            ),
            sink(
                "sure",
                SinkFilter {
                    min_confidence: 0.9,
                    ..Default::default()
                },
                true,
            ),
            sink(
                "plans",
                SinkFilter {
                    modality: vec![Modality::Planned],
                    ..Default::default()
                },
                true,
            ),
            sink("new-only", SinkFilter::default(), false),
        ];
        assert_eq!(
            route(&sinks, &e, &AlertReason::New),
            vec!["all", "russia", "new-only"]
        );
        assert_eq!(
            route(
                &sinks,
                &e,
                &AlertReason::Updated {
                    from: Modality::Planned
                }
            ),
            vec!["all", "russia"]
        );
    }
}
