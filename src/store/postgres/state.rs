//! What the daemons remember between polls and deliveries, in the shared database:
//! each feed's polling state, each sink's circuit breaker, the story listings and the
//! outbox's sizes — the reads the CLI and the API make.

use sqlx::Row;

use super::{PgError, PgStore};
use crate::model::{FeedState, SinkCircuit, Story};
use crate::store::{OutboxCounts, StoryQuery};

fn decode<T: serde::de::DeserializeOwned>(
    table: &'static str,
    id: String,
    record: serde_json::Value,
) -> Result<T, PgError> {
    serde_json::from_value(record).map_err(|source| PgError::Decode { table, id, source })
}

impl PgStore {
    pub fn feed_state(&self, feed: &str) -> Result<Option<FeedState>, PgError> {
        let feed = feed.to_string();
        self.run(move |pool| async move {
            let row = sqlx::query("SELECT state FROM feed_states WHERE id = $1")
                .bind(&feed)
                .fetch_optional(&pool)
                .await
                .map_err(PgError::query("reading a feed's state"))?;
            row.map(|r| decode("feed_states", feed.clone(), r.get(0)))
                .transpose()
        })
    }

    pub fn put_feed_state(&self, state: &FeedState) -> Result<(), PgError> {
        let state = state.clone();
        self.run(move |pool| async move {
            sqlx::query(
                "INSERT INTO feed_states (id, state) VALUES ($1, $2) \
                 ON CONFLICT (id) DO UPDATE SET state = excluded.state",
            )
            .bind(&state.id)
            .bind(sqlx::types::Json(&state))
            .execute(&pool)
            .await
            .map_err(PgError::query("saving a feed's state"))?;
            Ok(())
        })
    }

    /// Every feed the store has state for, in id order.
    pub fn feed_states(&self) -> Result<Vec<FeedState>, PgError> {
        self.run(|pool| async move {
            sqlx::query("SELECT id, state FROM feed_states ORDER BY id")
                .fetch_all(&pool)
                .await
                .map_err(PgError::query("listing feed states"))?
                .into_iter()
                .map(|r| decode("feed_states", r.get(0), r.get(1)))
                .collect()
        })
    }

    /// Saves one sink's breaker after a state change.
    pub fn save_sink_circuit(&self, circuit: &SinkCircuit) -> Result<(), PgError> {
        let circuit = circuit.clone();
        self.run(move |pool| async move {
            sqlx::query(
                "INSERT INTO sink_circuits (sink, record) VALUES ($1, $2) \
                 ON CONFLICT (sink) DO UPDATE SET record = excluded.record",
            )
            .bind(&circuit.sink)
            .bind(sqlx::types::Json(&circuit))
            .execute(&pool)
            .await
            .map_err(PgError::query("saving a sink's breaker"))?;
            Ok(())
        })
    }

    /// Every saved breaker, by sink id.
    pub fn sink_circuits(&self) -> Result<Vec<SinkCircuit>, PgError> {
        self.run(|pool| async move {
            sqlx::query("SELECT sink, record FROM sink_circuits ORDER BY sink")
                .fetch_all(&pool)
                .await
                .map_err(PgError::query("listing sink breakers"))?
                .into_iter()
                .map(|r| decode("sink_circuits", r.get(0), r.get(1)))
                .collect()
        })
    }

    /// Stories newest first (by publication time), filtered by `query`.
    pub fn stories(&self, query: &StoryQuery) -> Result<Vec<Story>, PgError> {
        let query = query.clone();
        self.run(move |pool| async move {
            let limit = query
                .limit
                .map_or(i64::MAX, |l| i64::try_from(l).unwrap_or(i64::MAX));
            sqlx::query(
                "SELECT s.id, s.record FROM stories s \
                 WHERE ($1::text IS NULL OR s.record -> 'sources' @> \
                     jsonb_build_array(jsonb_build_object('feed', $1::text))) \
                   AND ($2::timestamptz IS NULL OR s.published >= $2) \
                 ORDER BY s.published DESC, s.id DESC LIMIT $3",
            )
            .bind(query.feed.as_deref())
            .bind(query.since)
            .bind(limit)
            .fetch_all(&pool)
            .await
            .map_err(PgError::query("listing stories"))?
            .into_iter()
            .map(|r| decode("stories", r.get::<i64, _>(0).to_string(), r.get(1)))
            .collect()
        })
    }

    /// Number of stories with at least one copy from `feed` (their identity pruned or
    /// not, as with sled).
    pub fn feed_story_count(&self, feed: &str) -> Result<u64, PgError> {
        let feed = feed.to_string();
        self.run(move |pool| async move {
            let n: i64 = sqlx::query_scalar(
                "SELECT count(*) FROM stories \
                 WHERE record -> 'sources' @> jsonb_build_array(jsonb_build_object('feed', $1::text))",
            )
            .bind(&feed)
                    .fetch_one(&pool)
                    .await
                    .map_err(PgError::query("counting a feed's stories"))?;
            Ok(u64::try_from(n).unwrap_or(0))
        })
    }

    /// Sizes of the outbox: pending, dead, and delivered over the store's lifetime.
    pub fn outbox_counts(&self) -> Result<OutboxCounts, PgError> {
        self.run(|pool| async move {
            let row = sqlx::query(
                "SELECT (SELECT count(*) FROM alerts WHERE NOT dead), \
                        (SELECT count(*) FROM alerts WHERE dead), \
                        (SELECT value FROM counters WHERE name = 'alerts_delivered')",
            )
            .fetch_one(&pool)
            .await
            .map_err(PgError::query("counting the outbox"))?;
            let count = |i: usize| usize::try_from(row.get::<i64, _>(i)).unwrap_or(0);
            Ok(OutboxCounts {
                pending: count(0),
                dead: count(1),
                delivered: u64::try_from(row.get::<i64, _>(2)).unwrap_or(0),
            })
        })
    }
}
