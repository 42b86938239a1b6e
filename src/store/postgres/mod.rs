//! The PostgreSQL backend, for several daemons on one database.
//!
//! sled allows one process per store; a newsroom that needs more daemons (for more
//! feeds, or for availability) shares one PostgreSQL database between them. This module
//! connects to it (sqlx's pool, rustls), applies the versioned migrations in
//! `migrations/` at start, and gives the store's callers the same synchronous calls as
//! the sled backend.
//!
//! The store's callers run on blocking threads or briefly on the daemon's workers, as
//! they do with sled. The backend owns a small runtime of its own for the database I/O:
//! each call hands its query to that runtime and waits on a channel for the answer, so
//! it works from any thread, inside the daemon's runtime or not (the CLI), without
//! entering a second runtime on a worker.
//!
//! The parts: connection and migrations (here), the claiming of feeds by host
//! ([`claims`]), the ingestion of stories with dedup and event merge across daemons
//! (`ingest.rs`, `events.rs`), the announcements of event changes and following them
//! (`follow.rs`), the outbox claimed for delivery (`outbox.rs`), feed states and
//! listings (`state.rs`), retention (`prune.rs`), the web view's reads
//! (`web_reads.rs`), and the maintenance calls — stats, the consistency check, export
//! and import in sled's JSONL format (`maintenance.rs`).

pub mod claims;
mod events;
mod follow;
mod ingest;
mod maintenance;
mod outbox;
mod prune;
mod state;
mod web_reads;

use std::future::Future;
use std::time::Duration;

use sqlx::postgres::{PgPool, PgPoolOptions};

/// The migrations in `migrations/`, embedded in the binary and applied in order at
/// connect; each is applied once (sqlx keeps the applied versions and their checksums).
static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("./migrations");

/// What went wrong talking to PostgreSQL. Connection strings are shown without their
/// password.
#[derive(Debug, thiserror::Error)]
pub enum PgError {
    #[error("cannot connect to PostgreSQL at {target}: {source}")]
    Connect {
        target: String,
        #[source]
        source: sqlx::Error,
    },
    #[error("cannot apply the database migrations: {0}")]
    Migrate(#[source] sqlx::migrate::MigrateError),
    #[error("PostgreSQL error while {what}: {source}")]
    Query {
        what: &'static str,
        #[source]
        source: sqlx::Error,
    },
    /// A stored record does not decode.
    #[error("corrupt record in {table} with id {id}: {source}")]
    Decode {
        table: &'static str,
        id: String,
        #[source]
        source: serde_json::Error,
    },
    #[error("cannot start the PostgreSQL runtime: {0}")]
    Runtime(#[source] std::io::Error),
    #[error("the PostgreSQL call stopped before it answered")]
    Lost,
    /// An import into a database that already holds records, without `force`.
    #[error("the PostgreSQL database at {target} already holds feeds, stories, events or alerts: import into an empty database (or pass --force to merge into it)")]
    NotEmpty { target: String },
}

impl PgError {
    /// A transaction to run again: a unique key taken by a write the locks did not
    /// order (SQLSTATE 23505), a deadlock (40P01) or a serialization failure (40001).
    pub(crate) fn is_retryable(&self) -> bool {
        matches!(self, PgError::Query { source: sqlx::Error::Database(e), .. }
            if matches!(e.code().as_deref(), Some("23505" | "40P01" | "40001")))
    }

    /// Wraps a query error with what the store was doing.
    pub(crate) fn query(what: &'static str) -> impl FnOnce(sqlx::Error) -> PgError {
        move |source| PgError::Query { what, source }
    }
}

/// A connection pool on one database, with its own I/O runtime.
pub struct PgStore {
    runtime: Option<tokio::runtime::Runtime>,
    pool: PgPool,
    /// The name this process claims feeds and alerts under: host, process id and a
    /// random suffix (`newsroom-2/4121/9f3a`), unique among the daemons on a database.
    claimant: String,
    /// The database's URL without its password, for messages and `store stats`.
    target: String,
}

impl PgStore {
    /// Connects to `url` (a `postgres://` URL) with up to `max_connections` connections,
    /// and applies the migrations the database does not have yet.
    pub fn connect(url: &str, max_connections: u32) -> Result<PgStore, PgError> {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .thread_name("tidings-postgres")
            .enable_all()
            .build()
            .map_err(PgError::Runtime)?;
        let target = redacted(url);
        let shown = target.clone();
        let url = url.to_string();
        let pool = on(&runtime, async move {
            let pool = PgPoolOptions::new()
                .max_connections(max_connections.max(1))
                .acquire_timeout(Duration::from_secs(10))
                .connect(&url)
                .await
                .map_err(|source| PgError::Connect { target, source })?;
            MIGRATOR.run(&pool).await.map_err(PgError::Migrate)?;
            Ok(pool)
        })?;
        Ok(PgStore {
            runtime: Some(runtime),
            pool,
            claimant: claimant_name(),
            target: shown,
        })
    }

    /// The name this process claims feeds and alerts under, as `tidings feeds` shows it.
    pub fn claimant(&self) -> &str {
        &self.claimant
    }

    /// Runs `query` on the pool, on the backend's runtime, and waits for its answer.
    pub(crate) fn run<T, F, Fut>(&self, query: F) -> Result<T, PgError>
    where
        T: Send + 'static,
        F: FnOnce(PgPool) -> Fut,
        Fut: Future<Output = Result<T, PgError>> + Send + 'static,
    {
        let runtime = self.runtime.as_ref().ok_or(PgError::Lost)?;
        on(runtime, query(self.pool.clone()))
    }
}

impl PgStore {
    /// Runs the future `make` builds on the pool, on a thread of its own that waits on
    /// the backend's runtime: for calls that borrow the caller's data, such as the
    /// ingest hooks, which cannot move to the runtime's tasks.
    pub(crate) fn run_borrowing<T, F, Fut>(&self, make: F) -> Result<T, PgError>
    where
        T: Send,
        F: FnOnce(PgPool) -> Fut + Send,
        Fut: Future<Output = Result<T, PgError>>,
    {
        let runtime = self.runtime.as_ref().ok_or(PgError::Lost)?;
        let pool = self.pool.clone();
        std::thread::scope(|scope| {
            scope
                .spawn(move || runtime.block_on(make(pool)))
                .join()
                .map_err(|_| PgError::Lost)?
        })
    }
}

impl Drop for PgStore {
    fn drop(&mut self) {
        // Dropping a runtime waits for its tasks, which is not allowed on a runtime's
        // worker (the daemon may drop the store there): let them end in the background.
        if let Some(runtime) = self.runtime.take() {
            runtime.shutdown_background();
        }
    }
}

/// Runs `future` on `runtime` from any thread and waits for its result.
fn on<T: Send + 'static>(
    runtime: &tokio::runtime::Runtime,
    future: impl Future<Output = Result<T, PgError>> + Send + 'static,
) -> Result<T, PgError> {
    let (answer, answered) = std::sync::mpsc::sync_channel(1);
    runtime.spawn(async move {
        let _ = answer.send(future.await);
    });
    answered.recv().map_err(|_| PgError::Lost)?
}

/// This process's claimant name: the host's name, the process id, and four random hex
/// digits (a process id can come again after a restart; the suffix tells the two apart).
fn claimant_name() -> String {
    let mut buf = [0u8; 256];
    // SAFETY: gethostname writes at most `buf.len()` bytes into the buffer it is given.
    let named = unsafe { libc::gethostname(buf.as_mut_ptr().cast(), buf.len()) } == 0;
    let host = if named {
        let end = buf.iter().position(|&b| b == 0).unwrap_or(buf.len());
        String::from_utf8_lossy(&buf[..end]).into_owned()
    } else {
        String::new()
    };
    let host = if host.is_empty() { "tidings" } else { &host };
    format!("{host}/{}/{:04x}", std::process::id(), fastrand::u16(..))
}

/// `url` with its password replaced, for messages.
fn redacted(url: &str) -> String {
    match url::Url::parse(url) {
        Ok(mut parsed) => {
            if parsed.password().is_some() {
                let _ = parsed.set_password(Some("***"));
            }
            parsed.to_string()
        }
        Err(_) => "(an unreadable URL)".to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn messages_never_show_the_password() {
        assert_eq!(
            redacted("postgres://tidings:s3cret@db.example:5432/tidings"),
            "postgres://tidings:***@db.example:5432/tidings"
        );
        assert_eq!(
            redacted("postgres://tidings@127.0.0.1/tidings"),
            "postgres://tidings@127.0.0.1/tidings"
        );
        assert!(!redacted("not a url with s3cret").contains("s3cret"));
    }

    #[test]
    fn an_unreachable_server_is_a_clear_error_not_a_hang() {
        // Port 1 on loopback: refused at once.
        let Err(e) = PgStore::connect("postgres://tidings:pw@127.0.0.1:1/tidings", 1) else {
            panic!("connected to nothing");
        };
        let message = e.to_string();
        assert!(
            message.starts_with(
                "cannot connect to PostgreSQL at postgres://tidings:***@127.0.0.1:1/tidings"
            ),
            "{message}"
        );
    }
}
