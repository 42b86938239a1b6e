//! Following the events as the daemons write them (`tidings events --follow` on a shared
//! database): the transaction that writes an event change also sends a notice on the
//! `tidings_events` channel (`pg_notify`), which PostgreSQL delivers to every listener
//! when, and only if, the transaction commits. A follower listens on the channel and
//! reads each changed event by id, so it hears of the changes of every daemon, not only
//! of the one whose stream it would have followed.
//!
//! A notice is `ID new`, `ID updated FROM-MODALITY` or `ID corroborated`. Notices sent
//! while a follower is not connected are not replayed, as with a daemon's stream.

use sqlx::postgres::PgListener;
use sqlx::Row;

use super::events::modality_text;
use super::ingest::db_id;
use super::{PgError, PgStore};
use crate::model::{Event, EventChange};

/// The channel event changes are announced on.
pub(super) const EVENTS_CHANNEL: &str = "tidings_events";

/// The notice for `change`.
pub(super) fn payload(change: &EventChange) -> String {
    match change {
        EventChange::New(id) => format!("{id} new"),
        EventChange::Updated { id, from } => format!("{id} updated {}", modality_text(*from)),
        EventChange::Corroborated(id) => format!("{id} corroborated"),
    }
}

/// The change a notice announces; `None` for a notice this version does not know.
fn parse(payload: &str) -> Option<EventChange> {
    let mut words = payload.split(' ');
    let id = words.next()?.parse().ok()?;
    match (words.next()?, words.next()) {
        ("new", None) => Some(EventChange::New(id)),
        ("corroborated", None) => Some(EventChange::Corroborated(id)),
        ("updated", Some(from)) => Some(EventChange::Updated {
            id,
            from: from.parse().ok()?,
        }),
        _ => None,
    }
}

impl PgStore {
    /// Listens for event changes: calls `on_ready` once listening, then `on_change` with
    /// each change and the event as it stands, until `on_change` returns false or the
    /// connection fails for good (the listener reconnects by itself after a dropped
    /// connection; changes made meanwhile are missed).
    pub fn follow_events(
        &self,
        on_ready: impl FnOnce() + Send,
        mut on_change: impl FnMut(EventChange, Event) -> bool + Send,
    ) -> Result<(), PgError> {
        self.run_borrowing(move |pool| async move {
            let what = "following event changes";
            let mut listener = PgListener::connect_with(&pool)
                .await
                .map_err(PgError::query(what))?;
            listener
                .listen(EVENTS_CHANNEL)
                .await
                .map_err(PgError::query(what))?;
            on_ready();
            loop {
                let notice = listener.recv().await.map_err(PgError::query(what))?;
                let Some(change) = parse(notice.payload()) else {
                    continue;
                };
                let row = sqlx::query("SELECT record FROM events WHERE id = $1")
                    .bind(db_id(change.id()))
                    .fetch_optional(&pool)
                    .await
                    .map_err(PgError::query(what))?;
                // Pruned meanwhile: nothing to show.
                let Some(row) = row else {
                    continue;
                };
                let event: Event =
                    serde_json::from_value(row.get(0)).map_err(|source| PgError::Decode {
                        table: "events",
                        id: change.id().to_string(),
                        source,
                    })?;
                if !on_change(change, event) {
                    return Ok(());
                }
            }
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::Modality;

    #[test]
    fn a_notice_reads_back_as_the_change_it_announced() {
        for change in [
            EventChange::New(7),
            EventChange::Corroborated(12),
            EventChange::Updated {
                id: 3,
                from: Modality::Planned,
            },
        ] {
            assert_eq!(parse(&payload(&change)), Some(change));
        }
        assert_eq!(parse("7 renamed"), None);
        assert_eq!(parse("x new"), None);
        assert_eq!(parse("7 updated sideways"), None);
    }
}
