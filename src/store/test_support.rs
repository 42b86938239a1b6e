//! Helpers shared by the store's unit tests.

use std::path::Path;

use super::{SledStore, StoreError};
use crate::detect::Detection;
use crate::model::{AlertReason, Candidate, EventChange, Evidence, Field, Modality};

/// Reopens a store in the same process. sled releases its file lock from a background
/// thread shortly after the last handle is dropped, so a reopen may briefly see the
/// store as in use.
pub(crate) fn reopen(path: &Path) -> Result<SledStore, StoreError> {
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(5);
    loop {
        match SledStore::open(path) {
            Err(StoreError::InUse { .. }) if std::time::Instant::now() < deadline => {
                std::thread::sleep(std::time::Duration::from_millis(20))
            }
            other => return other,
        }
    }
}

pub(crate) fn cand(feed: &str, guid: &str, url: &str, title: &str, published: &str) -> Candidate {
    Candidate {
        feed: feed.into(),
        guid: guid.into(),
        guid_derived: false,
        url: Some(url.into()),
        raw_url: Some(url.into()),
        title: title.into(),
        text: format!("{title} body"),
        published: Some(published.parse().unwrap()),
        language: None,
        seen_at: "2023-02-22T12:00:00Z".parse().unwrap(),
    }
}

/// A candidate whose text is long enough for a MinHash signature; each title has a
/// text of its own, far from the others.
pub(crate) fn long_cand(guid: &str, title: &str) -> Candidate {
    let mut c = cand(
        "a",
        guid,
        &format!("https://x/{guid}"),
        title,
        "2023-02-20T10:00:00Z",
    );
    c.text = match title {
        "Trade talks" => {
            "Officials from both ministries gathered in the capital on \
            Wednesday to discuss trade, energy and transport, and agreed to meet again \
            before the end of the year, according to a statement released afterwards."
        }
        "Budget vote" => {
            "Lawmakers narrowly approved the spending plan late on Monday \
            after a marathon session in which opposition parties forced amendments on \
            pensions, rural schools and the defence procurement programme."
        }
        _ => {
            "Dock workers walked out at the country's largest container port at dawn, \
            leaving dozens of ships waiting offshore as union leaders demanded higher \
            wages and an end to the use of temporary contracts."
        }
    }
    .into();
    c
}

/// A route hook's answer raising an alert to each of `sinks` for every new event and every
/// update. (Which changes deserve an alert is alert policy, decided and tested in
/// `alerts::routing`; the store writes what its route hook asks for.)
pub(crate) fn every_change(
    change: &EventChange,
    sinks: &[&str],
) -> Option<(AlertReason, Vec<String>)> {
    let reason = match *change {
        EventChange::New(_) => AlertReason::New,
        EventChange::Updated { from, .. } => AlertReason::Updated { from },
        EventChange::Corroborated(_) => return None,
    };
    Some((reason, sinks.iter().map(|s| s.to_string()).collect()))
}

/// A wire story about a meeting (see [`meeting`]).
pub(crate) fn meeting_story(guid: &str, title: &str, published: &str) -> Candidate {
    Candidate {
        feed: "wire".into(),
        guid: guid.into(),
        guid_derived: false,
        url: Some(format!("https://news.example/{guid}")),
        raw_url: None,
        title: title.into(),
        text: format!("{title}: a story about a meeting, number {guid}."),
        published: Some(published.parse().unwrap()),
        language: None,
        seen_at: published.parse().unwrap(),
    }
}

/// A detection of a meeting between China and Russia on 7 March 2023.
pub(crate) fn meeting(modality: Modality) -> Detection {
    Detection {
        event_type: "bilateral_meeting".into(),
        actors: Vec::new(),
        countries: vec!["CHN".into(), "RUS".into()],
        organization: None,
        location: None,
        date: Some("2023-03-07".parse().unwrap()),
        modality,
        confidence: 0.9,
        evidence: Evidence {
            resolved_against: None,
            field: Field::Text,
            sentence: "s".into(),
            start: 0,
            end: 1,
            rule: "r".into(),
            matched: Vec::new(),
        },
    }
}
