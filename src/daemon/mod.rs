//! The daemon: keeps every configured feed on its own schedule until told to stop,
//! serves the HTTP endpoint, delivers alerts, and reloads its config on request.
//!
//! One coordinator loop owns the schedule (each feed's next-poll time). When a feed is
//! due it spawns a poll task ([`crate::poll::poll_feed`]); a global semaphore caps how
//! many fetches run at once. A feed never has two polls in flight. Beside it run the
//! HTTP endpoint ([`crate::api`]) and the alert delivery worker
//! ([`crate::alerts::worker`]).
//!
//! The live config is shared through a `watch` channel: a reload validates the new file
//! and its detector data first, and only then replaces feeds, event types and sinks.
//! A config that fails validation is refused and the old one stays.
//!
//! With a store several daemons share (PostgreSQL), the schedule is the database's:
//! instead of its own due times, the coordinator runs claiming rounds ([`claiming`])
//! and polls the feeds each round gives it; `run --once` still polls every feed itself.
//!
//! On shutdown no new polls start, polls in flight get `shutdown_grace` to finish, the
//! rest are abandoned (their feed state is untouched, so they are simply polled again),
//! the worker finishes its round (undelivered alerts stay in the outbox), and the store
//! is flushed.

use std::collections::{HashMap, HashSet};
use std::future::Future;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use chrono::{DateTime, Utc};
use tokio::sync::{broadcast, mpsc, watch, Notify, Semaphore};
use tokio::task::JoinSet;
use tracing::{error, info, warn};

mod claiming;

use crate::alerts::credentials::{CredentialErrors, Credentials};
use crate::alerts::worker::Worker;
use crate::api::{self, ApiState};
use crate::config::{Config, ConfigError, FeedConfig, SecretError, StoreSettings, EMBEDDED_NAME};
use crate::detect::Detector;
use crate::fetcher::{FetchError, Fetcher};
use crate::metrics::{Metrics, TypeLabels};
use crate::model::{EventChange, FeedState};
use crate::poll::{poll_feed, PollResult};
use crate::scheduler;
use crate::store::{Store, StoreError};
use crate::views::{self, EventNotice};

#[derive(Debug, thiserror::Error)]
pub enum DaemonError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(transparent)]
    Http(#[from] FetchError),
    #[error(transparent)]
    Config(#[from] ConfigError),
    #[error("cannot bind the HTTP endpoint to {addr}: {source}")]
    Bind {
        addr: std::net::SocketAddr,
        #[source]
        source: std::io::Error,
    },
    #[error(transparent)]
    Alerts(#[from] crate::alerts::deliver::ClientError),
    #[error(transparent)]
    Secret(#[from] SecretError),
    #[error(transparent)]
    Credentials(#[from] CredentialErrors),
    #[error("a background task failed: {0}")]
    Task(#[source] tokio::task::JoinError),
}

/// How long the daemon runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RunMode {
    /// Until the shutdown future completes.
    Forever,
    /// Poll every feed once, deliver the alerts that are due, then return. No endpoint.
    Once,
}

/// Where a running daemon tells CLI commands how to reach it: `daemon.json` in the data
/// directory, holding `{"pid": …, "api": "http://127.0.0.1:PORT"}`.
pub const DAEMON_FILE: &str = "daemon.json";

/// What a running daemon writes to [`DAEMON_FILE`].
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
pub struct DaemonInfo {
    pub pid: u32,
    /// Base URL of the HTTP endpoint.
    pub api: String,
}

/// What every poll task needs; `config` and `detector` are replaced on reload.
struct Shared {
    store: Arc<Store>,
    metrics: Arc<Metrics>,
    events: broadcast::Sender<EventNotice>,
    outbox: Arc<Notify>,
    permits: Arc<Semaphore>,
    /// The event stream is fed from the database (several daemons share it), not by
    /// this daemon's polls.
    relayed: bool,
    /// Slots for the CPU-bound part of a poll (parse, dedup, detect, store): two per core,
    /// so that a core whose poll waits for the store's writer lock has another to parse.
    cpu: Semaphore,
    hosts: HostGates,
}

/// Politeness per host: at most `per_host_concurrency` requests in flight, starts at
/// least `per_host_spacing` apart, and none before a `Retry-After` the host sent.
#[derive(Default)]
struct HostGates {
    hosts: std::sync::Mutex<HashMap<String, Arc<HostGate>>>,
}

struct HostGate {
    permits: Semaphore,
    /// When the next request to the host may start.
    next_start: tokio::sync::Mutex<tokio::time::Instant>,
}

impl HostGates {
    fn gate(&self, host: &str, concurrency: usize) -> Arc<HostGate> {
        let mut hosts = self.hosts.lock().unwrap_or_else(|p| p.into_inner());
        Arc::clone(hosts.entry(host.to_string()).or_insert_with(|| {
            Arc::new(HostGate {
                permits: Semaphore::new(concurrency),
                next_start: tokio::sync::Mutex::new(tokio::time::Instant::now()),
            })
        }))
    }
}

impl HostGate {
    /// Waits for this host's turn; the permit is held for the whole request.
    async fn enter(
        &self,
        spacing: std::time::Duration,
    ) -> Option<tokio::sync::SemaphorePermit<'_>> {
        let permit = self.permits.acquire().await.ok()?;
        let mut next = self.next_start.lock().await;
        let now = tokio::time::Instant::now();
        if *next > now {
            tokio::time::sleep_until(*next).await;
        }
        *next = tokio::time::Instant::now().max(*next) + spacing;
        Some(permit)
    }

    /// The host asked for a pause (429/503 with Retry-After): no request starts before it.
    async fn pause(&self, wait: std::time::Duration) {
        let mut next = self.next_start.lock().await;
        let until = tokio::time::Instant::now() + wait;
        if until > *next {
            *next = until;
        }
    }
}

/// Runs the daemon until `shutdown` completes (or, in [`RunMode::Once`], until every
/// feed was polled once). Each message on `reloads` reloads the config from where it
/// came from. `data_dir` is where the daemon tells CLI commands its API address.
pub async fn run(
    config: Config,
    store: Arc<Store>,
    data_dir: &Path,
    mode: RunMode,
    shutdown: impl Future<Output = ()>,
    mut reloads: mpsc::UnboundedReceiver<()>,
) -> Result<(), DaemonError> {
    // Secrets are read now, not when the config was parsed: a daemon that cannot read
    // them refuses to start, and says which and where.
    let api_token = config.api.token.as_ref().map(|r| r.resolve()).transpose()?;
    let credentials = Credentials::resolve(&config.sinks)?;
    let mut fetcher = Arc::new(Fetcher::new(&config.http)?);
    let mut detector = Arc::new(Detector::from_settings(&config.detection)?);
    detector.check_sink_filters(&config.sinks)?;
    let metrics = Arc::new(Metrics::new());
    metrics.feeds.set(config.feeds.len() as i64);
    let shared = Arc::new(Shared {
        store: Arc::clone(&store),
        metrics: Arc::clone(&metrics),
        events: broadcast::channel(1024).0,
        outbox: Arc::new(Notify::new()),
        permits: Arc::new(Semaphore::new(config.daemon.max_concurrent_fetches)),
        relayed: store.claimant().is_some() && mode == RunMode::Forever,
        cpu: Semaphore::new(std::thread::available_parallelism().map_or(2, |n| n.get() * 2)),
        hosts: HostGates::default(),
    });
    let (credentials_tx, credentials_rx) = watch::channel(Arc::new(credentials));
    let (config_tx, config_rx) = watch::channel(Arc::new(config));
    let (stop_tx, stop_rx) = watch::channel(false);
    let ready = Arc::new(AtomicBool::new(false));
    // Reload requests from the API (`tidings feeds add` and friends), beside SIGHUP.
    let (api_reload_tx, mut api_reload_rx) = mpsc::unbounded_channel::<()>();
    // Feeds to poll now, asked through the API (`tidings feeds poll ID`).
    let (poll_now_tx, mut poll_now_rx) = mpsc::unbounded_channel::<String>();
    let worker = Worker::new(
        Arc::clone(&store),
        Arc::clone(&metrics),
        config_rx.clone(),
        credentials_rx,
        Arc::clone(&shared.outbox),
    )?;

    // The endpoint and the worker run for the daemon's lifetime.
    // Each task returns its name when done, so a slow shutdown names what held it up.
    let mut background: JoinSet<&'static str> = JoinSet::new();
    let mut daemon_file: Option<PathBuf> = None;
    let mut worker = Some(worker);
    if mode == RunMode::Forever {
        let addr = config_rx.borrow().api.listen;
        let listener = api::bind(addr)
            .await
            .map_err(|source| DaemonError::Bind { addr, source })?;
        let bound = listener
            .local_addr()
            .map_err(|source| DaemonError::Bind { addr, source })?;
        let state = ApiState {
            store: Arc::clone(&store),
            metrics: Arc::clone(&metrics),
            config: config_rx.clone(),
            events: shared.events.clone(),
            ready: Arc::clone(&ready),
            outbox: Arc::clone(&shared.outbox),
            reload: api_reload_tx.clone(),
            poll_now: poll_now_tx.clone(),
            token: api_token.map(Arc::new),
            stopping: stop_rx.clone(),
            access: Arc::new(api::access::AccessPolicy::new(
                bound,
                &config_rx.borrow().api.allowed_hosts,
            )),
        };
        let limits = api::server::ConnectionLimits::from_settings(&config_rx.borrow().api);
        let mut stop = stop_rx.clone();
        background.spawn(async move {
            let shutdown = async move {
                let _ = stop.wait_for(|s| *s).await;
            };
            api::server::serve(listener, api::router(state), limits, shutdown).await;
            ENDPOINT
        });
        daemon_file = write_daemon_file(data_dir, bound);
        if shared.relayed {
            relay_events(Arc::clone(&store), shared.events.clone(), stop_rx.clone());
        }
        info!(address = %bound, "HTTP endpoint listening");
        {
            let store = Arc::clone(&store);
            let config = config_rx.clone();
            let stop = stop_rx.clone();
            background.spawn(async move {
                prune_loop(store, config, stop).await;
                PRUNING
            });
        }
        if let Some(w) = worker.take() {
            let stop = stop_rx.clone();
            background.spawn(async move {
                if let Err(e) = w.run(stop).await {
                    error!(error = %e, "alert delivery stopped: store error");
                }
                DELIVERY
            });
        }
    }

    // Several daemons on one store: the database keeps the schedule (not for --once,
    // which polls every feed itself).
    let claiming = match (&config_rx.borrow().store, store.claimant(), mode) {
        (StoreSettings::Postgres { lease, .. }, Some(_), RunMode::Forever) => {
            Some(claiming::Claiming::new(Arc::clone(&store), *lease))
        }
        _ => None,
    };
    if let Some(c) = &claiming {
        let feeds = config_rx.borrow().feeds.clone();
        c.register(&feeds).await?;
        info!(
            daemon = store.claimant().unwrap_or_default(),
            lease_secs = c.lease.as_secs_f64(),
            "feeds shared with the other daemons on this database by claiming"
        );
    }
    let mut next_claim = tokio::time::Instant::now();
    // The last claiming round filled all the room there was.
    let mut backlog = false;

    let now = Utc::now();
    let mut due = scheduler::DueQueue::default();
    // Feeds failing when the daemon last stopped count as failing until polled again.
    let mut failing: HashSet<String> = HashSet::new();
    let failing_after = config_rx.borrow().daemon.failing_after;
    for feed in &config_rx.borrow().feeds {
        let state = store.feed_state(&feed.id)?;
        if claiming.is_none() {
            if let Some(first) = first_due(mode, state.as_ref(), now, feed) {
                due.insert(feed.id.clone(), first);
            }
        }
        if state.is_some_and(|s| views::is_failing(&s, failing_after)) {
            failing.insert(feed.id.clone());
        }
    }
    metrics.feeds_failing.set(failing.len() as i64);
    // The feeds due at once: when each has been polled, one summary line.
    let mut first_round: Option<(HashSet<String>, Vec<FirstPoll>)> = {
        let pending: HashSet<String> = config_rx
            .borrow()
            .feeds
            .iter()
            .filter(|f| due.due_at(&f.id).is_some_and(|t| t <= now))
            .map(|f| f.id.clone())
            .collect();
        (!pending.is_empty()).then(|| (pending, Vec::new()))
    };
    {
        let config = config_rx.borrow();
        info!(feeds = config.feeds.len(), sinks = config.sinks.len(), config = %config.origin, store = %store.path().map_or_else(|| store.backend_name().to_string(), |p| p.display().to_string()), "daemon started");
        for w in config.warnings() {
            warn!("{w}");
        }
    }
    ready.store(true, Ordering::SeqCst);
    notify_systemd(&[sd_notify::NotifyState::Ready]);

    let mut in_flight: HashSet<String> = HashSet::new();
    let mut tasks: JoinSet<(String, Result<TaskEnd, StoreError>)> = JoinSet::new();
    let mut reloading: JoinSet<Result<Reloaded, DaemonError>> = JoinSet::new();
    let mut reload_again = false;
    tokio::pin!(shutdown);

    let outcome: Result<(), DaemonError> = loop {
        let config = config_rx.borrow().clone();
        let now = Utc::now();
        for id in due.take_due(now) {
            let Some(feed) = config.feed(&id) else {
                continue;
            };
            if in_flight.contains(&feed.id) {
                continue;
            }
            in_flight.insert(feed.id.clone());
            tasks.spawn(poll_task(
                feed.clone(),
                None,
                Arc::clone(&config),
                Arc::clone(&fetcher),
                Arc::clone(&detector),
                Arc::clone(&shared),
            ));
        }
        if let Some(c) = claiming
            .as_ref()
            .filter(|_| tokio::time::Instant::now() >= next_claim)
        {
            // Room for twice as many polls as may fetch at once: the rest wait at their
            // host's gate. A round with no room still renews this daemon's hosts.
            let room = (config.daemon.max_concurrent_fetches * 2).saturating_sub(in_flight.len());
            match c.claim(room).await {
                Ok(claims) => {
                    // A full round means more may be due: claim again as polls finish.
                    backlog = room > 0 && claims.len() >= room;
                    for claim in claims {
                        if in_flight.contains(&claim.feed) {
                            continue;
                        }
                        let Some(feed) = config.feed(&claim.feed) else {
                            warn!(feed = %claim.feed, "claimed a feed this daemon's config does not have (daemons on one database should share one config); handing it back");
                            let later = FeedState {
                                next_poll: Some(Utc::now() + chrono::Duration::minutes(5)),
                                ..FeedState::default()
                            };
                            if let Err(e) = c.finish(claim.feed.clone(), &later).await {
                                warn!(feed = %claim.feed, error = %e, "cannot hand the feed back");
                            }
                            continue;
                        };
                        in_flight.insert(feed.id.clone());
                        tasks.spawn(poll_task(
                            feed.clone(),
                            // The host it was claimed under (moves followed).
                            Some(claim.host),
                            Arc::clone(&config),
                            Arc::clone(&fetcher),
                            Arc::clone(&detector),
                            Arc::clone(&shared),
                        ));
                    }
                }
                // The database may be back at the next round; the leases allow for it.
                Err(e) => {
                    error!(error = %e, "claiming feeds failed; trying again at the next round")
                }
            }
            next_claim = tokio::time::Instant::now() + c.every;
        }
        if mode == RunMode::Once && due.is_empty() && tasks.is_empty() {
            break Ok(());
        }
        let sleep_until = due.next();
        let claim_at = claiming.as_ref().map(|_| next_claim);
        let sleep = async {
            let local = async {
                match sleep_until {
                    Some(t) => {
                        tokio::time::sleep((t - Utc::now()).to_std().unwrap_or_default()).await
                    }
                    None => std::future::pending().await,
                }
            };
            match claim_at {
                Some(at) => tokio::select! {
                    _ = local => {}
                    _ = tokio::time::sleep_until(at) => {}
                },
                None => local.await,
            }
        };
        tokio::select! {
            _ = &mut shutdown => {
                info!(in_flight = tasks.len(), "shutting down");
                break Ok(());
            }
            Some(id) = poll_now_rx.recv() => {
                // Due now; a poll in flight already is one.
                if config.feed(&id).is_some() && !in_flight.contains(&id) {
                    info!(feed = %id, "poll asked for through the API");
                    match &claiming {
                        // Whichever daemon holds the feed's host polls it.
                        Some(c) => {
                            if let Err(e) = c.set_due(id.clone(), Utc::now()).await {
                                warn!(feed = %id, error = %e, "cannot make the feed due");
                            }
                            next_claim = tokio::time::Instant::now();
                        }
                        None => due.insert(id, Utc::now()),
                    }
                }
            }
            Some(()) = async {
                tokio::select! {
                    r = reloads.recv() => r,
                    r = api_reload_rx.recv() => r,
                }
            } => {
                // Reading the files and compiling the gazetteer and phrase matcher take
                // CPU time: off the runtime, while polls go on. Requests that arrive
                // meanwhile make one more reload once this one is done.
                if reloading.is_empty() {
                    let current = Arc::clone(&config);
                    reloading.spawn_blocking(move || reload(&current));
                } else {
                    reload_again = true;
                }
            }
            Some(loaded) = reloading.join_next(), if !reloading.is_empty() => {
                let loaded = loaded.unwrap_or_else(|e| Err(DaemonError::Task(e)));
                if std::mem::take(&mut reload_again) {
                    let current = Arc::clone(&config);
                    reloading.spawn_blocking(move || reload(&current));
                }
                match loaded {
                    Ok((new_config, new_detector, new_credentials)) => {
                        let new_config = Arc::new(new_config);
                        if let Some(c) = &claiming {
                            if let Err(e) = c.register(&new_config.feeds).await {
                                error!(error = %e, "cannot register the reloaded feeds; keeping the running config");
                                metrics.reload("error");
                                continue;
                            }
                            for feed in &new_config.feeds {
                                if config.feed(&feed.id).is_some_and(|old| old.url != feed.url) {
                                    if let Err(e) = c.set_due(feed.id.clone(), Utc::now()).await {
                                        warn!(feed = %feed.id, error = %e, "cannot make the moved feed due");
                                    }
                                }
                            }
                        }
                        for feed in new_config.feeds.iter().filter(|_| claiming.is_none()) {
                            let changed = config.feed(&feed.id).is_some_and(|old| old.url != feed.url);
                            if (changed || !due.contains(&feed.id)) && !in_flight.contains(&feed.id) {
                                let state = store.feed_state(&feed.id)?;
                                if let Some(first) = first_due(mode, state.as_ref(), Utc::now(), feed) {
                                    due.insert(feed.id.clone(), first);
                                }
                            }
                        }
                        due.retain(|id| new_config.feed(id).is_some());
                        failing.retain(|id| new_config.feed(id).is_some());
                        if new_config.http != config.http {
                            fetcher = Arc::new(Fetcher::new(&new_config.http)?);
                        }
                        detector = Arc::new(new_detector);
                        metrics.feeds.set(new_config.feeds.len() as i64);
                        metrics.feeds_failing.set(failing.len() as i64);
                        metrics.reload("ok");
                        info!(feeds = new_config.feeds.len(), sinks = new_config.sinks.len(), event_types = detector.types.types.len(), "config reloaded");
                        // Secrets first, so the worker never sees a sink without them.
                        credentials_tx.send_replace(Arc::new(new_credentials));
                        config_tx.send_replace(new_config);
                        // Sinks may have changed: let the worker look again.
                        shared.outbox.notify_one();
                    }
                    Err(e) => {
                        metrics.reload("error");
                        error!(error = %e, "config reload refused; keeping the running config");
                    }
                }
            }
            Some(joined) = tasks.join_next(), if !tasks.is_empty() => {
                let (feed_id, result) = match joined {
                    Ok(r) => r,
                    Err(e) => {
                        error!(error = %e, "poll task failed");
                        continue;
                    }
                };
                in_flight.remove(&feed_id);
                if backlog {
                    // With feeds waiting, claim again once half the room is free, not
                    // only at the next round: rounds would otherwise cap the polls.
                    let room = (config.daemon.max_concurrent_fetches * 2).saturating_sub(in_flight.len());
                    if room >= config.daemon.max_concurrent_fetches.div_ceil(2).max(1) {
                        next_claim = tokio::time::Instant::now();
                    }
                }
                let state = match result {
                    Ok(TaskEnd::Polled(state)) => *state,
                    Ok(TaskEnd::Stopped) => continue,
                    Err(e) => {
                        // The store failed: stop rather than poll on without saving.
                        error!(feed = %feed_id, error = %e, "store error; stopping");
                        tasks.shutdown().await;
                        break Err(e.into());
                    }
                };
                if let Some((pending, outcomes)) = &mut first_round {
                    if pending.remove(&feed_id) {
                        outcomes.push(FirstPoll::of(&state));
                        if pending.is_empty() {
                            info!("first round: {}", first_round_summary(outcomes));
                            first_round = None;
                        }
                    }
                }
                let current = config_rx.borrow().clone();
                // As `tidings feeds` shows it: failing after `failing_after` in a row.
                if views::is_failing(&state, current.daemon.failing_after) {
                    failing.insert(feed_id.clone());
                } else {
                    failing.remove(&feed_id);
                }
                metrics.feeds_failing.set(failing.len() as i64);
                if let Some(c) = &claiming {
                    match c.finish(feed_id.clone(), &state).await {
                        Ok(true) => {}
                        Ok(false) => warn!(feed = %feed_id, "the feed's claim ran out during its poll and another daemon took it; its next poll is that daemon's"),
                        Err(e) => error!(feed = %feed_id, error = %e, "cannot hand the feed back; its lease runs out and it is polled again"),
                    }
                } else if mode == RunMode::Forever && current.feed(&feed_id).is_some() && state.disabled.is_none() {
                    due.insert(feed_id, state.next_poll.unwrap_or_else(Utc::now));
                }
            }
            _ = sleep => {}
        }
    };

    ready.store(false, Ordering::SeqCst);
    notify_systemd(&[sd_notify::NotifyState::Stopping]);
    let grace = config_rx.borrow().daemon.shutdown_grace;

    // Graceful end: let polls in flight finish within the grace period.
    let deadline = tokio::time::sleep(grace);
    tokio::pin!(deadline);
    while !tasks.is_empty() {
        tokio::select! {
            _ = &mut deadline => {
                warn!(abandoned = tasks.len(), "grace period over; abandoning polls in flight (they will be repeated)");
                tasks.shutdown().await;
                break;
            }
            Some(_) = tasks.join_next() => {}
        }
    }
    if let Some(c) = &claiming {
        // What this daemon held goes to the others at their next round.
        match c.release().await {
            Ok(()) => info!("claims released"),
            Err(e) => {
                warn!(error = %e, "cannot release this daemon's claims; they pass on when their lease runs out")
            }
        }
    }
    if let (RunMode::Once, Some(w), true) = (mode, worker.take(), outcome.is_ok()) {
        // One delivery round for what this run found; failures wait for the next run.
        w.deliver_due().await?;
    }
    let _ = stop_tx.send(true);
    let mut running: Vec<&'static str> = Vec::new();
    if mode == RunMode::Forever {
        running.extend([ENDPOINT, DELIVERY, PRUNING]);
    }
    let background_done = async {
        while let Some(done) = background.join_next().await {
            if let Ok(name) = done {
                running.retain(|r| *r != name);
            }
        }
    };
    if tokio::time::timeout(grace, background_done).await.is_err() {
        for task in &running {
            match *task {
                DELIVERY => warn!("alert delivery did not finish within the grace period; undelivered alerts stay in the outbox"),
                PRUNING => warn!("pruning did not stop within the grace period (it resumes where it stopped at the next start)"),
                _ => warn!("the HTTP endpoint did not close within the grace period (a client held a connection open)"),
            }
        }
    }
    if let Some(path) = daemon_file {
        let _ = std::fs::remove_file(path);
    }
    store.flush()?;
    info!(
        stories = store.story_count().unwrap_or_default(),
        "daemon stopped; store flushed"
    );
    outcome
}

/// With a store several daemons share, the event stream (API, web view) carries every
/// daemon's changes as the database announces them, not only this daemon's: a thread
/// of its own listens until the daemon stops (it is not waited for: the process ends
/// with it), and listens again a second after the database connection fails.
fn relay_events(
    store: Arc<Store>,
    events: broadcast::Sender<EventNotice>,
    stop: watch::Receiver<bool>,
) {
    let spawned = std::thread::Builder::new()
        .name("tidings-event-relay".into())
        .spawn(move || {
            while !*stop.borrow() {
                let followed = store.follow_events(
                    || info!("event stream: relaying every daemon's changes from the database"),
                    |change, event| {
                        // No subscriber is not an error.
                        let _ = events.send(EventNotice::of(&change, event));
                        !*stop.borrow()
                    },
                );
                if let Err(e) = followed {
                    warn!(error = %e, "event stream: lost the database's announcements; listening again in 1 s");
                    std::thread::sleep(std::time::Duration::from_secs(1));
                }
            }
        });
    if let Err(e) = spawned {
        error!(error = %e, "cannot start the event relay; the event stream stays empty");
    }
}

/// The daemon's background tasks, by name (for a shutdown that takes too long).
const ENDPOINT: &str = "HTTP endpoint";
const DELIVERY: &str = "alert delivery";
const PRUNING: &str = "pruning";

/// Prunes the store by `[retention]`, at start and then every `prune_every`, on the
/// blocking pool, a batch at a time (each batch holds the writer lock briefly, see
/// `store::prune`), until the daemon stops.
async fn prune_loop(
    store: Arc<Store>,
    config: watch::Receiver<Arc<Config>>,
    mut stop: watch::Receiver<bool>,
) {
    loop {
        let retention = config.borrow().retention.clone();
        let store_ = Arc::clone(&store);
        let stopping = stop.clone();
        let started = std::time::Instant::now();
        info!("pruning by [retention]");
        let pruned = tokio::task::spawn_blocking(move || {
            let cut = crate::store::retention::Cutoffs::at(&retention, Utc::now());
            store_.prune_while(&cut, retention.batch, false, &|| !*stopping.borrow())
        })
        .await;
        match pruned {
            Ok(Ok(report)) if !report.is_empty() => info!(
                signatures = report.signatures,
                identities = report.identities,
                texts = report.texts,
                text_bytes = report.text_bytes,
                stories = report.stories,
                cited_kept = report.cited_kept,
                events = report.events,
                dead_alerts = report.dead_alerts,
                batches = report.batches,
                elapsed_ms = started.elapsed().as_millis() as u64,
                "pruned"
            ),
            Ok(Ok(_)) => info!("pruned: nothing was due"),
            Ok(Err(e)) => error!(error = %e, "pruning failed; retrying at the next cycle"),
            Err(e) => error!(error = %e, "pruning task failed"),
        }
        let every = config.borrow().retention.prune_every;
        tokio::select! {
            _ = tokio::time::sleep(every) => {}
            _ = stop.wait_for(|s| *s) => return,
        }
        if *stop.borrow() {
            return;
        }
    }
}

/// When to poll a feed first; `None` for a feed disabled at its current config URL.
fn first_due(
    mode: RunMode,
    state: Option<&FeedState>,
    now: DateTime<Utc>,
    feed: &FeedConfig,
) -> Option<DateTime<Utc>> {
    if let Some(s) = state {
        let same_url = s.config_url.is_empty() || s.config_url == feed.url.as_str();
        if s.disabled.is_some() && same_url {
            return None;
        }
    }
    let interval = state
        .and_then(|s| s.interval_secs)
        .map(std::time::Duration::from_secs)
        .unwrap_or(feed.interval);
    Some(match mode {
        RunMode::Once => now,
        RunMode::Forever => scheduler::first_poll(state, now, interval),
    })
}

/// A config loaded again, with its detector and its sinks' secrets.
type Reloaded = (Config, Detector, Credentials);

/// Loads the config again from where the running one came from, with its detector data
/// and its sinks' secrets. Blocking: reads files and compiles the detector.
fn reload(current: &Config) -> Result<Reloaded, DaemonError> {
    let config = if current.origin == EMBEDDED_NAME {
        Config::embedded_default()?
    } else {
        Config::load(Path::new(&current.origin))?
    };
    let detector = Detector::from_settings(&config.detection)?;
    detector.check_sink_filters(&config.sinks)?;
    let credentials = Credentials::resolve(&config.sinks)?;
    if config.api != current.api {
        warn!("api settings changed: they take effect after a restart");
    }
    if config.data_dir != current.data_dir {
        warn!("data_dir changed: it takes effect after a restart");
    }
    Ok((config, detector, credentials))
}

/// Tells systemd (when it started us with `Type=notify`) how the daemon is doing.
fn notify_systemd(state: &[sd_notify::NotifyState]) {
    if let Err(e) = sd_notify::notify(false, state) {
        warn!(error = %e, "cannot notify systemd");
    }
}

fn write_daemon_file(data_dir: &Path, bound: std::net::SocketAddr) -> Option<PathBuf> {
    let path = data_dir.join(DAEMON_FILE);
    let info = DaemonInfo {
        pid: std::process::id(),
        api: format!("http://{bound}"),
    };
    let text = serde_json::to_string(&info).ok()?;
    // Write then rename, so a reader never sees half a file.
    let tmp = path.with_extension("json.tmp");
    match std::fs::write(&tmp, text).and_then(|_| std::fs::rename(&tmp, &path)) {
        Ok(()) => Some(path),
        Err(e) => {
            warn!(path = %path.display(), error = %e, "cannot write the daemon file; CLI commands cannot reach this daemon");
            None
        }
    }
}

/// Polls `feed` at `host` (when `None`, the host of its stored URL), within the host's
/// politeness limits and a global slot.
async fn poll_task(
    feed: FeedConfig,
    host: Option<String>,
    config: Arc<Config>,
    fetcher: Arc<Fetcher>,
    detector: Arc<Detector>,
    shared: Arc<Shared>,
) -> (String, Result<TaskEnd, StoreError>) {
    // The host's turn first, then a global slot: waiting on a busy host holds no global
    // slot that another host's feed could use.
    let host = host.unwrap_or_else(|| poll_host(&shared.store, &feed));
    let gate = shared.hosts.gate(&host, config.daemon.per_host_concurrency);
    let Some(_host_permit) = gate.enter(config.daemon.per_host_spacing).await else {
        return (feed.id.clone(), Ok(TaskEnd::Stopped));
    };
    let Ok(_permit) = shared.permits.acquire().await else {
        return (feed.id.clone(), Ok(TaskEnd::Stopped));
    };
    let started = std::time::Instant::now();
    // Boxed: a task waiting for its turn then holds a small future, not the poll's.
    let result = Box::pin(poll_feed(
        &feed,
        &config,
        &fetcher,
        &shared.store,
        &detector,
        &shared.cpu,
    ))
    .await;
    if let Ok((
        PollResult::Failed {
            retry_after: Some(wait),
            ..
        },
        _,
    )) = &result
    {
        gate.pause(*wait).await;
    }
    let elapsed = started.elapsed();
    shared.metrics.poll_duration.observe(elapsed.as_secs_f64());
    let duration_ms = elapsed.as_millis() as u64;
    let result = result.map(|(outcome, state)| {
        let next = state.next_poll.map(|t| t.to_rfc3339()).unwrap_or_default();
        match outcome {
            PollResult::Ingested {
                status,
                bytes,
                counts,
                changes,
            } => {
                shared.metrics.poll("ok");
                shared.metrics.stories.inc_by(counts.new as u64);
                shared.metrics.duplicates.inc_by(counts.duplicates as u64);
                shared.metrics.alerts.inc_by(counts.alerts as u64);
                publish(&shared, &changes);
                if counts.alerts > 0 {
                    shared.outbox.notify_one();
                }
                info!(
                    feed = %feed.id, url = %feed.url, status, bytes,
                    entries = counts.entries, new = counts.new, duplicates = counts.duplicates,
                    revised = counts.revised, events_new = counts.events_new, events_updated = counts.events_updated,
                    alerts = counts.alerts, duration_ms, next_poll = %next, "poll"
                )
            }
            PollResult::NotModified => {
                shared.metrics.poll("not_modified");
                info!(
                    feed = %feed.id, url = %feed.url, status = 304, bytes = 0, new = 0, duplicates = 0,
                    duration_ms, next_poll = %next, "poll: not modified"
                )
            }
            PollResult::Failed { status, error, .. } => {
                shared.metrics.poll("error");
                // One short line: the reason without the URL repeated, the status only
                // when the server gave one.
                let reason = short_reason(&error);
                match status {
                    Some(status) => warn!(
                        feed = %feed.id, status, failures = state.consecutive_failures,
                        next_poll = %next, "poll failed: {reason}"
                    ),
                    None => warn!(
                        feed = %feed.id, failures = state.consecutive_failures,
                        next_poll = %next, "poll failed: {reason}"
                    ),
                }
            }
        }
        TaskEnd::Polled(Box::new(state))
    });
    (feed.id, result)
}

/// A poll error in a few words: "connection refused", "DNS lookup failed", "timed out",
/// or the error with the request URL (logged beside it already) taken out.
fn short_reason(error: &str) -> String {
    let lower = error.to_ascii_lowercase();
    let known = [
        ("dns error", "DNS lookup failed"),
        ("failed to lookup address", "DNS lookup failed"),
        ("connection refused", "connection refused"),
        ("network is unreachable", "network unreachable"),
        ("no route to host", "no route to host"),
        ("timed out", "timed out"),
        ("certificate", "TLS certificate rejected"),
    ];
    if let Some((_, short)) = known.iter().find(|(needle, _)| lower.contains(needle)) {
        return (*short).to_string();
    }
    // "error sending request for url (https://…): …" → "error sending request: …".
    let mut out = error.to_string();
    while let Some(start) = out.find(" for url (") {
        let Some(end) = out[start..].find(')') else {
            break;
        };
        out.replace_range(start..start + end + 1, "");
    }
    out
}

/// What a feed's first poll of this run came to, for the summary after the first round.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum FirstPoll {
    Ok,
    /// No answer: DNS, connection, timeout.
    Unreachable,
    /// An HTTP error status.
    HttpError,
    /// An answer that could not be used (not a feed, too large…).
    Unreadable,
}

impl FirstPoll {
    fn of(state: &FeedState) -> FirstPoll {
        if state.consecutive_failures == 0 {
            return FirstPoll::Ok;
        }
        if state.last_status.is_some_and(|s| s >= 400) {
            return FirstPoll::HttpError;
        }
        let error = state
            .last_error
            .as_deref()
            .unwrap_or("")
            .to_ascii_lowercase();
        if ["connection failed", "timed out", "dns error", "connect"]
            .iter()
            .any(|w| error.contains(w))
        {
            FirstPoll::Unreachable
        } else {
            FirstPoll::Unreadable
        }
    }
}

/// The line after the first round: "22 feeds: 0 ok, 22 unreachable — no network?".
fn first_round_summary(outcomes: &[FirstPoll]) -> String {
    let n = |k: FirstPoll| outcomes.iter().filter(|o| **o == k).count();
    let (ok, unreachable, http, unreadable) = (
        n(FirstPoll::Ok),
        n(FirstPoll::Unreachable),
        n(FirstPoll::HttpError),
        n(FirstPoll::Unreadable),
    );
    let mut parts = vec![format!("{ok} ok")];
    if unreachable > 0 {
        parts.push(format!("{unreachable} unreachable"));
    }
    if http > 0 {
        parts.push(format!("{http} answered with an HTTP error"));
    }
    if unreadable > 0 {
        parts.push(format!("{unreadable} unreadable"));
    }
    let total = outcomes.len();
    let mut line = format!(
        "{total} {}: {}",
        if total == 1 { "feed" } else { "feeds" },
        parts.join(", ")
    );
    if total > 0 && unreachable == total {
        line.push_str(" — no network?");
    }
    line
}

/// How a poll task ended.
enum TaskEnd {
    /// The feed was polled; its new state.
    Polled(Box<FeedState>),
    /// The daemon began to stop before the poll could start: nothing was done.
    Stopped,
}

/// The host a feed is polled at: its stored URL (which follows permanent redirects),
/// else the config's.
fn poll_host(store: &Store, feed: &FeedConfig) -> String {
    let stored = store
        .feed_state(&feed.id)
        .ok()
        .flatten()
        .and_then(|s| url::Url::parse(&s.url).ok());
    stored
        .as_ref()
        .unwrap_or(&feed.url)
        .host_str()
        .unwrap_or("")
        .to_string()
}

/// Counts new and updated events and sends them to the event stream.
fn publish(shared: &Shared, changes: &[EventChange]) {
    for change in changes {
        let event = match shared.store.event(change.id()) {
            Ok(Some(e)) => e,
            Ok(None) => continue,
            Err(e) => {
                warn!(event = change.id(), error = %e, "cannot read a stored event for the stream");
                continue;
            }
        };
        let labels = TypeLabels {
            r#type: event.event_type.clone(),
        };
        match change {
            EventChange::New(_) => {
                shared.metrics.events.get_or_create(&labels).inc();
            }
            EventChange::Updated { .. } => {
                shared.metrics.event_updates.get_or_create(&labels).inc();
            }
            EventChange::Corroborated(_) => {}
        }
        // No subscriber is not an error. With a shared store the database relays
        // every daemon's changes, this one's included (`relay_events`).
        if !shared.relayed {
            let _ = shared.events.send(EventNotice::of(change, event));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_poll_error_in_a_few_words() {
        assert_eq!(
            short_reason("connection failed: error sending request for url (https://x.example/f): client error (Connect): dns error: failed to lookup address information: Name or service not known"),
            "DNS lookup failed"
        );
        assert_eq!(
            short_reason("connection failed: error sending request for url (http://127.0.0.1:9/rss): client error (Connect): tcp connect error: Connection refused (os error 111)"),
            "connection refused"
        );
        assert_eq!(
            short_reason("error decoding response body for url (https://a.example/x): eof"),
            "error decoding response body: eof"
        );
        assert_eq!(short_reason("HTTP 503"), "HTTP 503");
    }

    #[test]
    fn the_first_round_is_summed_up_in_one_line() {
        use FirstPoll::*;
        assert_eq!(
            first_round_summary(&[Unreachable; 22]),
            "22 feeds: 0 ok, 22 unreachable — no network?"
        );
        assert_eq!(
            first_round_summary(&[Ok, Ok, HttpError, Unreadable]),
            "4 feeds: 2 ok, 1 answered with an HTTP error, 1 unreadable"
        );
        assert_eq!(first_round_summary(&[Ok]), "1 feed: 1 ok");
        let mut state = FeedState {
            consecutive_failures: 1,
            last_error: Some("connection failed: refused".into()),
            ..FeedState::default()
        };
        assert_eq!(FirstPoll::of(&state), Unreachable);
        state.last_status = Some(503);
        assert_eq!(FirstPoll::of(&state), HttpError);
        state.consecutive_failures = 0;
        assert_eq!(FirstPoll::of(&state), Ok);
    }
}
