//! Which alerts a change to an event raises: whether the change deserves one at all
//! ([`alert_reason`]: a new event, or a significant update), and which sinks hear of it
//! (each sink's filters applied to the event as it stands). The store asks
//! [`route_change`] through its ingest hooks and writes what it answers with the event.

use crate::config::{SinkConfig, SinkFilter};
use crate::model::{AlertReason, Event, EventChange, Modality};

/// Why `change` to `event` (the event as it will be stored) deserves an alert, if it
/// does: a new event; an update that changed the modality to occurred or cancelled
/// (planned → occurred, → cancelled). Another report of a known event, or an update of
/// its date alone, raises none.
pub fn alert_reason(change: &EventChange, event: &Event) -> Option<AlertReason> {
    match *change {
        EventChange::New(_) => Some(AlertReason::New),
        EventChange::Updated { from, .. } => {
            let significant = event.modality != from
                && matches!(event.modality, Modality::Occurred | Modality::Cancelled);
            significant.then_some(AlertReason::Updated { from })
        }
        EventChange::Corroborated(_) => None,
    }
}

/// The alerts `change` to `event` raises: its reason and the ids of the sinks in `sinks`
/// that want it (perhaps none), or `None` when the change deserves no alert.
pub fn route_change(
    sinks: &[SinkConfig],
    change: &EventChange,
    event: &Event,
) -> Option<(AlertReason, Vec<String>)> {
    let reason = alert_reason(change, event)?;
    Some((reason, route(sinks, event, &reason)))
}

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
        && (f.feeds.is_empty() || event.sources.iter().any(|s| f.feeds.contains(&s.feed)))
}

#[cfg(test)]
mod tests {
    use super::*;
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
            filter_places: Default::default(),
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

    #[test]
    fn new_events_and_updates_to_occurred_or_cancelled_deserve_an_alert() {
        let mut e = event();
        let (id, planned) = (e.id, Modality::Planned);
        assert_eq!(
            alert_reason(&EventChange::New(id), &e),
            Some(AlertReason::New)
        );
        assert_eq!(alert_reason(&EventChange::Corroborated(id), &e), None);
        let from = |from| EventChange::Updated { id, from };
        // Planned → occurred; an update of an occurred event's date alone is no news.
        assert_eq!(
            alert_reason(&from(planned), &e),
            Some(AlertReason::Updated { from: planned })
        );
        assert_eq!(alert_reason(&from(Modality::Occurred), &e), None);
        e.modality = Modality::Cancelled;
        assert_eq!(
            alert_reason(&from(planned), &e),
            Some(AlertReason::Updated { from: planned })
        );
        assert_eq!(
            alert_reason(&from(Modality::Occurred), &e),
            Some(AlertReason::Updated {
                from: Modality::Occurred
            })
        );
        // Still planned (a new date), or back from cancelled to planned: no alert.
        e.modality = Modality::Planned;
        assert_eq!(alert_reason(&from(planned), &e), None);
        assert_eq!(alert_reason(&from(Modality::Cancelled), &e), None);
    }

    #[test]
    fn a_change_is_routed_to_the_sinks_that_want_it_only_when_it_deserves_an_alert() {
        let e = event();
        let sinks = vec![
            sink("all", SinkFilter::default(), true),
            sink("new-only", SinkFilter::default(), false),
        ];
        assert_eq!(
            route_change(&sinks, &EventChange::New(e.id), &e),
            Some((AlertReason::New, vec!["all".into(), "new-only".into()]))
        );
        let update = EventChange::Updated {
            id: e.id,
            from: Modality::Planned,
        };
        assert_eq!(
            route_change(&sinks, &update, &e),
            Some((
                AlertReason::Updated {
                    from: Modality::Planned
                },
                vec!["all".into()]
            ))
        );
        assert_eq!(
            route_change(&sinks, &EventChange::Corroborated(e.id), &e),
            None
        );
    }

    /// Moved from the store's outbox tests with the rule it checks: the store writes the
    /// alerts this routing asks for, in the event's transaction.
    #[test]
    fn alerts_are_written_with_their_event_and_only_for_significant_changes() {
        use crate::model::{Candidate, Story};
        use crate::store::test_support::{meeting, meeting_story as story};
        use crate::store::{AlertState, IngestHooks, Store};

        let sinks = vec![
            sink("desk", SinkFilter::default(), true),
            sink("phone", SinkFilter::default(), true),
        ];
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(dir.path()).unwrap();
        let ingest = |c: &Candidate, modality: Modality| {
            let detect = move |_: &Story| vec![meeting(modality)];
            let route = |change: &EventChange, event: &Event| route_change(&sinks, change, event);
            store
                .ingest_detecting(
                    c,
                    &IngestHooks {
                        detect: &detect,
                        route: &route,
                    },
                )
                .unwrap()
        };
        let planned = ingest(
            &story("1", "Lavrov to visit Beijing", "2023-03-05T09:00:00Z"),
            Modality::Planned,
        );
        assert_eq!(planned.alerts.len(), 2, "one alert per sink");
        let pending = store.list_alerts(AlertState::Pending, 10).unwrap();
        assert_eq!(pending.len(), 2);
        assert!(pending.iter().all(|a| a.reason == AlertReason::New));
        assert_eq!(pending[0].event.modality, Modality::Planned);

        // Another report of the plan: corroboration, no alert.
        let again = ingest(
            &story("2", "Lavrov heads to Beijing", "2023-03-06T09:00:00Z"),
            Modality::Planned,
        );
        assert!(matches!(again.events[..], [EventChange::Corroborated(_)]));
        assert!(again.alerts.is_empty());

        // The plan happened: an update alert per sink, carrying the new modality.
        let happened = ingest(
            &story("3", "Lavrov meets Wang", "2023-03-07T15:00:00Z"),
            Modality::Occurred,
        );
        assert_eq!(happened.alerts.len(), 2);
        let update = store.alert(happened.alerts[0]).unwrap().unwrap();
        assert_eq!(
            update.reason,
            AlertReason::Updated {
                from: Modality::Planned
            }
        );
        assert_eq!(update.event.modality, Modality::Occurred);
        assert_eq!(store.outbox_counts().unwrap().pending, 4);
    }
}
