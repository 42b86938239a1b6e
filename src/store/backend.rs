//! The store the rest of the crate uses, whichever backend holds the data: sled, the
//! embedded default ([`SledStore`]), or a PostgreSQL database shared by several daemons
//! ([`PgStore`]). Each call goes to the backend in use; nothing outside `store/` knows
//! which one that is.
//!
//! Both backends answer the calls here, the web view's reads and the maintenance calls
//! (`check`, `stats`, `export`) included. A few exist for one backend only, because the
//! other does the job another way: sled's opening sweep, its directory (`path`,
//! `import` into a directory before it is opened, `compact`) and its flush; PostgreSQL's
//! work shared between daemons (`claimant`, `register_feeds`, `claim_due_feeds`,
//! `finish_feed_poll`, `set_feed_due`, `follow_events`: [`StoreError::Unsupported`] on
//! sled, whose one daemon keeps its own schedule; `claim_due_alerts` is a plain due read
//! there) and its import into the open database (`import_into`).

use std::io::{BufRead, Write};
use std::path::Path;

use chrono::{DateTime, NaiveDate, Utc};

use super::postgres::claims::{FeedClaim, FeedHolder};
use super::postgres::PgStore;
use super::retention::Cutoffs;
use super::web_reads::EventTallies;
use super::{
    AlertState, CheckReport, EventQuery, ExportReport, ImportReport, IngestHooks, Ingested,
    OutboxCounts, PruneReport, SledStore, StoreError, StoreStats, StoryQuery, SweepReport,
};
use crate::model::{
    Alert, AlertId, Candidate, Event, EventId, FeedState, IngestOutcome, SinkCircuit, Story,
    StoryId,
};

/// The store: one backend, chosen when it is opened.
pub struct Store {
    backend: Backend,
}

enum Backend {
    // Boxed: the sled store's handles are much larger than the pool's.
    Sled(Box<SledStore>),
    Postgres(PgStore),
}

/// The opening sweep of a backend that has none (PostgreSQL commits a story with its
/// index rows in one transaction).
static NO_SWEEP: std::sync::LazyLock<SweepReport> = std::sync::LazyLock::new(SweepReport::default);

fn unsupported_on_sled(what: &'static str) -> StoreError {
    StoreError::Unsupported {
        what,
        backend: "sled",
    }
}

/// Forwards a call to the backend in use; the PostgreSQL side's errors become
/// [`StoreError::Postgres`].
macro_rules! both {
    ($self:ident, $s:ident => $sled:expr, $p:ident => $pg:expr) => {
        match &$self.backend {
            Backend::Sled($s) => $sled,
            Backend::Postgres($p) => Ok($pg?),
        }
    };
}

impl Store {
    /// Opens (or creates) the sled store at `path`.
    pub fn open(path: &Path) -> Result<Store, StoreError> {
        Ok(Store {
            backend: Backend::Sled(Box::new(SledStore::open(path)?)),
        })
    }

    /// Connects to the PostgreSQL database at `url`, applying its migrations.
    pub fn connect_postgres(url: &str, max_connections: u32) -> Result<Store, StoreError> {
        Ok(Store {
            backend: Backend::Postgres(PgStore::connect(url, max_connections)?),
        })
    }

    /// The backend's name, for logs and `store stats`.
    pub fn backend_name(&self) -> &'static str {
        match self.backend {
            Backend::Sled(_) => "sled",
            Backend::Postgres(_) => "postgres",
        }
    }

    /// The PostgreSQL backend, for what only it does (claims between daemons).
    pub fn postgres(&self) -> Option<&PgStore> {
        match &self.backend {
            Backend::Postgres(p) => Some(p),
            Backend::Sled(_) => None,
        }
    }

    // --- ingestion

    pub fn ingest(&self, candidate: &Candidate) -> Result<IngestOutcome, StoreError> {
        both!(self, s => s.ingest(candidate), p => p.ingest(candidate))
    }

    pub fn ingest_detecting(
        &self,
        candidate: &Candidate,
        hooks: &IngestHooks,
    ) -> Result<Ingested, StoreError> {
        both!(self, s => s.ingest_detecting(candidate, hooks), p => p.ingest_detecting(candidate, hooks))
    }

    pub fn ingest_batch(
        &self,
        candidates: &[Candidate],
        hooks: &IngestHooks,
    ) -> Result<Vec<Ingested>, StoreError> {
        both!(self, s => s.ingest_batch(candidates, hooks), p => p.ingest_batch(candidates, hooks))
    }

    // --- stories

    pub fn story(&self, id: StoryId) -> Result<Option<Story>, StoreError> {
        both!(self, s => s.story(id), p => p.story(id))
    }

    pub fn stories(&self, query: &StoryQuery) -> Result<Vec<Story>, StoreError> {
        both!(self, s => s.stories(query), p => p.stories(query))
    }

    pub fn story_count(&self) -> Result<usize, StoreError> {
        both!(self, s => Ok(s.story_count()), p => p.story_count())
    }

    pub fn feed_story_count(&self, feed: &str) -> Result<u64, StoreError> {
        both!(self, s => s.feed_story_count(feed), p => p.feed_story_count(feed))
    }

    // --- events

    pub fn event(&self, id: EventId) -> Result<Option<Event>, StoreError> {
        both!(self, s => s.event(id), p => p.event(id))
    }

    pub fn events(&self, q: &EventQuery) -> Result<Vec<Event>, StoreError> {
        both!(self, s => s.events(q), p => p.events(q))
    }

    pub fn event_count(&self) -> Result<usize, StoreError> {
        both!(self, s => Ok(s.event_count()), p => p.event_count())
    }

    // --- feeds

    pub fn feed_state(&self, feed: &str) -> Result<Option<FeedState>, StoreError> {
        both!(self, s => s.feed_state(feed), p => p.feed_state(feed))
    }

    pub fn put_feed_state(&self, state: &FeedState) -> Result<(), StoreError> {
        both!(self, s => s.put_feed_state(state), p => p.put_feed_state(state))
    }

    pub fn feed_states(&self) -> Result<Vec<FeedState>, StoreError> {
        both!(self, s => s.feed_states(), p => p.feed_states())
    }

    // --- the outbox

    pub fn alert(&self, id: AlertId) -> Result<Option<Alert>, StoreError> {
        match &self.backend {
            Backend::Sled(s) => s.alert(id),
            Backend::Postgres(p) => Ok(p.alert(id)?),
        }
    }

    /// Pending alerts due at `now` or earlier, soonest first, at most `limit`: a read,
    /// for listings and tests. The delivery worker claims them instead
    /// ([`Store::claim_due_alerts`]).
    pub fn due_alerts(&self, now: DateTime<Utc>, limit: usize) -> Result<Vec<Alert>, StoreError> {
        match &self.backend {
            Backend::Sled(s) => s.due_alerts(now, limit),
            Backend::Postgres(p) => Ok(p.due_alerts(now, limit)?),
        }
    }

    /// Takes up to `limit` alerts due at `now` for delivery by this process: of sinks
    /// other than the `paused` ones, and that `keep` accepts, soonest first.
    /// With several daemons (PostgreSQL) each alert is claimed for `lease`, so that no
    /// other daemon sends it meanwhile; one that this process dies holding is sent again
    /// by another under the same id when the lease runs out. Alerts claimed but not kept
    /// stay this process's until their lease ends.
    pub fn claim_due_alerts(
        &self,
        now: DateTime<Utc>,
        limit: usize,
        lease: std::time::Duration,
        paused: &[String],
        mut keep: impl FnMut(&Alert) -> bool,
    ) -> Result<Vec<Alert>, StoreError> {
        match &self.backend {
            Backend::Sled(s) => {
                s.due_alerts_where(now, limit, |a| !paused.contains(&a.sink) && keep(a))
            }
            Backend::Postgres(p) => Ok(p
                .claim_due_alerts(p.claimant(), now, lease, limit, paused)?
                .into_iter()
                .filter(|a| keep(a))
                .collect()),
        }
    }

    /// When this process's next [`Store::claim_due_alerts`] could take an alert of a
    /// sink other than the `paused` ones: the soonest due, counting an alert another
    /// daemon holds from the end of its lease.
    pub fn next_claimable_alert(
        &self,
        paused: &[String],
    ) -> Result<Option<DateTime<Utc>>, StoreError> {
        match &self.backend {
            Backend::Sled(s) => s.next_alert_due_where(|a| !paused.contains(&a.sink)),
            Backend::Postgres(p) => Ok(p.next_claimable_alert(p.claimant(), paused)?),
        }
    }

    pub fn alert_delivered(&self, alert: &Alert) -> Result<(), StoreError> {
        both!(self, s => s.alert_delivered(alert), p => p.alert_delivered(alert))
    }

    pub fn alert_retry(
        &self,
        updated: &Alert,
        previous_due: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        both!(self, s => s.alert_retry(updated, previous_due), p => p.alert_retry(updated))
    }

    pub fn alert_dead(
        &self,
        alert: &Alert,
        reason: String,
        now: DateTime<Utc>,
    ) -> Result<Alert, StoreError> {
        both!(self, s => s.alert_dead(alert, reason, now), p => p.alert_dead(alert, reason, now))
    }

    pub fn replay_alert(&self, id: AlertId, now: DateTime<Utc>) -> Result<bool, StoreError> {
        both!(self, s => s.replay_alert(id, now), p => p.replay_alert(id, now))
    }

    pub fn replay_dead_alerts(&self, now: DateTime<Utc>) -> Result<usize, StoreError> {
        both!(self, s => s.replay_dead_alerts(now), p => p.replay_dead_alerts(now))
    }

    pub fn list_alerts(&self, state: AlertState, limit: usize) -> Result<Vec<Alert>, StoreError> {
        both!(self, s => s.list_alerts(state, limit), p => p.list_alerts(state, limit))
    }

    pub fn outbox_counts(&self) -> Result<OutboxCounts, StoreError> {
        both!(self, s => s.outbox_counts(), p => p.outbox_counts())
    }

    pub fn save_sink_circuit(&self, circuit: &SinkCircuit) -> Result<(), StoreError> {
        both!(self, s => s.save_sink_circuit(circuit), p => p.save_sink_circuit(circuit))
    }

    pub fn sink_circuits(&self) -> Result<Vec<SinkCircuit>, StoreError> {
        both!(self, s => s.sink_circuits(), p => p.sink_circuits())
    }

    // --- retention and maintenance

    pub fn prune(
        &self,
        cut: &Cutoffs,
        batch: usize,
        dry_run: bool,
    ) -> Result<PruneReport, StoreError> {
        both!(self, s => s.prune(cut, batch, dry_run), p => p.prune(cut, batch, dry_run))
    }

    /// Like [`Store::prune`], stopping between batches once `go_on` says so (sled; the
    /// PostgreSQL prune runs its batches to the end).
    pub fn prune_while(
        &self,
        cut: &Cutoffs,
        batch: usize,
        dry_run: bool,
        go_on: &dyn Fn() -> bool,
    ) -> Result<PruneReport, StoreError> {
        both!(self, s => s.prune_while(cut, batch, dry_run, go_on), p => p.prune(cut, batch, dry_run))
    }

    pub fn check(&self) -> Result<CheckReport, StoreError> {
        match &self.backend {
            Backend::Sled(s) => s.check(),
            Backend::Postgres(p) => Ok(p.check()?),
        }
    }

    pub fn stats(&self, now: DateTime<Utc>) -> Result<StoreStats, StoreError> {
        match &self.backend {
            Backend::Sled(s) => s.stats(now),
            Backend::Postgres(p) => Ok(p.stats(now)?),
        }
    }

    pub fn export(&self, out: impl Write) -> Result<ExportReport, StoreError> {
        match &self.backend {
            Backend::Sled(s) => s.export(out),
            Backend::Postgres(p) => p.export(out),
        }
    }

    /// Imports an export into this PostgreSQL database, which must hold no feed state,
    /// story, event or alert unless `force`: one transaction, ids kept and the id
    /// sequences set above them. A sled store imports into its directory before it is
    /// opened ([`Store::import`]: its counters and id base are read at open), so on
    /// sled this is [`StoreError::Unsupported`].
    pub fn import_into(
        &self,
        input: impl BufRead,
        force: bool,
    ) -> Result<ImportReport, StoreError> {
        match &self.backend {
            Backend::Sled(_) => Err(StoreError::Unsupported {
                what: "import into an open store (sled imports into its directory: Store::import)",
                backend: "sled",
            }),
            Backend::Postgres(p) => p.import(input, force),
        }
    }

    /// Imports an export into the sled store at `path` (see [`SledStore::import`]).
    pub fn import(
        path: &Path,
        input: impl BufRead,
        force: bool,
    ) -> Result<ImportReport, StoreError> {
        SledStore::import(path, input, force)
    }

    /// Where the store's files are (sled); a PostgreSQL store has none.
    pub fn path(&self) -> Option<&Path> {
        match &self.backend {
            Backend::Sled(s) => Some(s.path()),
            Backend::Postgres(_) => None,
        }
    }

    /// Runs `call` on this store on a blocking thread (`task` names it in errors): a
    /// store call may wait on the disk or the database, and an async caller's threads
    /// serve polls and the API meanwhile.
    pub async fn blocking<T: Send + 'static>(
        self: &std::sync::Arc<Self>,
        task: &'static str,
        call: impl FnOnce(&Store) -> Result<T, StoreError> + Send + 'static,
    ) -> Result<T, StoreError> {
        let store = std::sync::Arc::clone(self);
        tokio::task::spawn_blocking(move || call(&store))
            .await
            .map_err(|source| StoreError::Task { task, source })?
    }

    // --- work shared between daemons (PostgreSQL)

    /// The name this process claims feeds and alerts under when several daemons share
    /// the store; `None` when the store is this process's alone (sled), whose daemon
    /// keeps its own schedule.
    pub fn claimant(&self) -> Option<&str> {
        match &self.backend {
            Backend::Sled(_) => None,
            Backend::Postgres(p) => Some(p.claimant()),
        }
    }

    /// Makes the configured feeds, as (id, host), the ones daemons claim; feeds no
    /// longer configured stop being claimed (their history stays).
    pub fn register_feeds(&self, feeds: &[(String, String)]) -> Result<(), StoreError> {
        match &self.backend {
            Backend::Sled(_) => Err(unsupported_on_sled("register_feeds")),
            Backend::Postgres(p) => Ok(p.register_feeds(feeds)?),
        }
    }

    /// One claiming round for this process: up to `limit` due feeds of the hosts it
    /// holds, each claimed for one poll until `lease` from now; the hosts it holds are
    /// renewed for `lease` too (see `store::postgres::claims`).
    pub fn claim_due_feeds(
        &self,
        lease: std::time::Duration,
        limit: usize,
    ) -> Result<Vec<FeedClaim>, StoreError> {
        match &self.backend {
            Backend::Sled(_) => Err(unsupported_on_sled("claim_due_feeds")),
            Backend::Postgres(p) => Ok(p.claim_due_feeds(p.claimant(), lease, limit)?),
        }
    }

    /// Ends this process's claim on `feed` after its poll, with the feed next due at
    /// `next_due`. False when another daemon took the feed meanwhile (this process's
    /// lease ran out).
    pub fn finish_feed_poll(
        &self,
        feed: &str,
        next_due: DateTime<Utc>,
    ) -> Result<bool, StoreError> {
        match &self.backend {
            Backend::Sled(_) => Err(unsupported_on_sled("finish_feed_poll")),
            Backend::Postgres(p) => Ok(p.finish_feed_poll(p.claimant(), feed, next_due)?),
        }
    }

    /// Makes `feed` due at `at` for whichever daemon holds its host.
    pub fn set_feed_due(&self, feed: &str, at: DateTime<Utc>) -> Result<bool, StoreError> {
        match &self.backend {
            Backend::Sled(_) => Err(unsupported_on_sled("set_feed_due")),
            Backend::Postgres(p) => Ok(p.set_feed_due(feed, at)?),
        }
    }

    /// Gives back everything this process holds (a daemon that stops), so that another
    /// daemon takes it at its next round rather than when the leases run out.
    pub fn release_claims(&self) -> Result<(), StoreError> {
        match &self.backend {
            Backend::Sled(_) => Ok(()),
            Backend::Postgres(p) => Ok(p.release_daemon(p.claimant())?),
        }
    }

    /// Follows the event changes every daemon on the database writes (see
    /// `store::postgres::follow`): `on_ready` once listening, then `on_change` per
    /// change until it returns false. On sled, the daemon's own stream is the way.
    pub fn follow_events(
        &self,
        on_ready: impl FnOnce() + Send,
        on_change: impl FnMut(crate::model::EventChange, Event) -> bool + Send,
    ) -> Result<(), StoreError> {
        match &self.backend {
            Backend::Sled(_) => Err(unsupported_on_sled("follow_events")),
            Backend::Postgres(p) => Ok(p.follow_events(on_ready, on_change)?),
        }
    }

    /// Which daemon holds each feed, by feed id; empty for a store one daemon owns.
    pub fn feed_holders(&self) -> Result<Vec<FeedHolder>, StoreError> {
        match &self.backend {
            Backend::Sled(_) => Ok(Vec::new()),
            Backend::Postgres(p) => Ok(p.feed_holders()?),
        }
    }

    /// Writes everything buffered to disk (sled); PostgreSQL commits each write.
    pub fn flush(&self) -> Result<(), StoreError> {
        match &self.backend {
            Backend::Sled(s) => s.flush(),
            Backend::Postgres(_) => Ok(()),
        }
    }

    pub fn opening_sweep(&self) -> &SweepReport {
        match &self.backend {
            Backend::Sled(s) => s.opening_sweep(),
            Backend::Postgres(_) => &NO_SWEEP,
        }
    }

    // --- the web view's reads

    pub fn events_between(
        &self,
        q: &EventQuery,
        until: Option<NaiveDate>,
        min_confidence: Option<f32>,
    ) -> Result<Vec<Event>, StoreError> {
        match &self.backend {
            Backend::Sled(s) => s.events_between(q, until, min_confidence),
            Backend::Postgres(p) => Ok(p.events_between(q, until, min_confidence)?),
        }
    }

    pub fn event_types(&self) -> Result<Vec<String>, StoreError> {
        match &self.backend {
            Backend::Sled(s) => s.event_types(),
            Backend::Postgres(p) => Ok(p.event_types()?),
        }
    }

    pub fn event_countries(&self) -> Result<Vec<String>, StoreError> {
        match &self.backend {
            Backend::Sled(s) => s.event_countries(),
            Backend::Postgres(p) => Ok(p.event_countries()?),
        }
    }

    pub fn newest_event_day(&self) -> Result<Option<NaiveDate>, StoreError> {
        match &self.backend {
            Backend::Sled(s) => s.newest_event_day(),
            Backend::Postgres(p) => Ok(p.newest_event_day()?),
        }
    }

    pub fn event_tallies(
        &self,
        from: Option<NaiveDate>,
        to: Option<NaiveDate>,
        key_type: Option<&str>,
    ) -> Result<EventTallies, StoreError> {
        match &self.backend {
            Backend::Sled(s) => s.event_tallies(from, to, key_type),
            Backend::Postgres(p) => Ok(p.event_tallies(from, to, key_type)?),
        }
    }
}
