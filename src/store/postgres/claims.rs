//! Feeds shared between daemons by claiming.
//!
//! A daemon works a host's feeds only while it holds the host, so a host's politeness
//! limits (concurrency, spacing, Retry-After pauses) stay with one process and hold
//! across daemons as they do within one. Each round, a daemon:
//!
//! 1. says it is alive for another lease (`daemons.alive_until`): the hosts it holds are
//!    its own while it is alive, so a round writes one row whatever their number;
//! 2. takes free hosts — never held, or held by a daemon no longer alive — up to its
//!    share (the hosts with feeds, `hosts.feeds > 0`, over the live daemons, rounded
//!    up), with
//!    `FOR UPDATE SKIP LOCKED`, so two daemons never take one host; a daemon over its
//!    share (another joined) drains hosts down to it — no new poll starts on a draining
//!    host, which goes back once its polls have finished — so a daemon that joins gets
//!    work and two daemons never poll one host at once;
//! 3. claims the due feeds of its hosts, each for one poll and under a lease, again
//!    with `SKIP LOCKED`.
//!
//! [`PgStore::finish_feed_poll`] ends a poll's claim and sets the feed's next due time.
//! A daemon that dies keeps nothing: once its `alive_until` and its feeds' leases have
//! passed, the next daemon to claim takes its hosts and their feeds. Times are the database's clock, so the daemons' clocks need not
//! agree.

use std::time::Duration;

use chrono::{DateTime, Utc};
use sqlx::Row;

use super::{PgError, PgStore};

/// One feed claimed for one poll.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FeedClaim {
    pub feed: String,
    pub host: String,
    /// When the feed was due.
    pub due: DateTime<Utc>,
}

/// Who holds a feed now, for `feeds` listings.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FeedHolder {
    pub feed: String,
    pub host: String,
    /// The daemon that holds the feed's host, while its lease runs.
    pub holder: Option<String>,
    /// The daemon polling the feed now, while the poll's lease runs.
    pub polling: Option<String>,
    pub next_due: DateTime<Utc>,
    /// Finished polls, and the daemon that made the last one.
    pub polls: i64,
    pub last_polled_by: Option<String>,
}

fn seconds(d: Duration) -> f64 {
    d.as_secs_f64()
}

impl PgStore {
    /// Makes the configured feeds (id, host) the claimable ones: new feeds are due at
    /// once, a feed that moved host follows it, feeds no longer configured are
    /// disabled (their history stays).
    pub fn register_feeds(&self, feeds: &[(String, String)]) -> Result<(), PgError> {
        let ids: Vec<String> = feeds.iter().map(|(id, _)| id.clone()).collect();
        let hosts: Vec<String> = feeds.iter().map(|(_, host)| host.clone()).collect();
        self.run(move |pool| async move {
            let mut tx = pool.begin().await.map_err(PgError::query("registering feeds"))?;
            sqlx::query(
                "INSERT INTO hosts (host) SELECT DISTINCT unnest($1::text[]) ON CONFLICT DO NOTHING",
            )
            .bind(&hosts)
            .execute(&mut *tx)
            .await
            .map_err(PgError::query("registering hosts"))?;
            sqlx::query(
                "INSERT INTO feeds (id, host) SELECT * FROM unnest($1::text[], $2::text[]) \
                 ON CONFLICT (id) DO UPDATE SET host = excluded.host, enabled = true",
            )
            .bind(&ids)
            .bind(&hosts)
            .execute(&mut *tx)
            .await
            .map_err(PgError::query("registering feeds"))?;
            // An anti-join, not `NOT (id = ANY($1))`: that compares each row with the
            // whole list, which at a million feeds never ends.
            sqlx::query(
                "UPDATE feeds f SET enabled = false WHERE f.enabled AND NOT EXISTS \
                 (SELECT 1 FROM unnest($1::text[]) AS c (id) WHERE c.id = f.id)",
            )
                .bind(&ids)
                .execute(&mut *tx)
                .await
                .map_err(PgError::query("disabling removed feeds"))?;
            // Each host's enabled feeds, which the rounds count hosts by; and daemons
            // gone for a day are forgotten.
            for statement in [
                "UPDATE hosts h SET feeds = coalesce(c.n, 0) FROM hosts h2 \
                 LEFT JOIN (SELECT host, count(*) AS n FROM feeds WHERE enabled GROUP BY host) c \
                   ON c.host = h2.host \
                 WHERE h.host = h2.host AND h.feeds IS DISTINCT FROM coalesce(c.n, 0)",
                "DELETE FROM daemons WHERE alive_until < now() - interval '1 day'",
            ] {
                sqlx::query(statement)
                    .execute(&mut *tx)
                    .await
                    .map_err(PgError::query("registering feeds"))?;
            }
            tx.commit().await.map_err(PgError::query("registering feeds"))
        })
    }

    /// One claiming round for `daemon` (see the module docs): returns up to `limit`
    /// due feeds, each claimed for one poll until `lease` from now.
    pub fn claim_due_feeds(
        &self,
        daemon: &str,
        lease: Duration,
        limit: usize,
    ) -> Result<Vec<FeedClaim>, PgError> {
        let daemon = daemon.to_string();
        let lease = seconds(lease);
        let limit = i64::try_from(limit).unwrap_or(i64::MAX);
        self.run(move |pool| async move {
            let what = "claiming feeds";
            let mut tx = pool.begin().await.map_err(PgError::query(what))?;
            // Alive for another lease: this keeps every host it holds.
            sqlx::query(
                "INSERT INTO daemons (id, alive_until) \
                 VALUES ($1, now() + $2 * interval '1 second') \
                 ON CONFLICT (id) DO UPDATE SET seen_at = now(), alive_until = excluded.alive_until",
            )
            .bind(&daemon)
            .bind(lease)
            .execute(&mut *tx)
            .await
            .map_err(PgError::query(what))?;
            // This daemon's share of the hosts with feeds, and the hosts it holds (not
            // counting those it is giving up).
            let row = sqlx::query(
                "SELECT \
                   (SELECT count(*) FROM hosts WHERE feeds > 0) AS hosts, \
                   (SELECT count(*) FROM daemons WHERE alive_until >= now()) AS live, \
                   (SELECT count(*) FROM hosts WHERE holder = $1 AND NOT draining) AS held",
            )
            .bind(&daemon)
            .fetch_one(&mut *tx)
            .await
            .map_err(PgError::query(what))?;
            let (hosts, live, held): (i64, i64, i64) = (row.get(0), row.get(1), row.get(2));
            let share = (hosts + live.max(1) - 1) / live.max(1);
            if held > share {
                // Over the share (a daemon joined): drain hosts down to it. No new poll
                // starts on a draining host; it goes once its polls have finished.
                sqlx::query(
                    "UPDATE hosts SET draining = true WHERE host IN ( \
                       SELECT host FROM hosts WHERE holder = $1 AND NOT draining \
                       ORDER BY host DESC LIMIT $2 FOR UPDATE SKIP LOCKED)",
                )
                .bind(&daemon)
                .bind(held - share)
                .execute(&mut *tx)
                .await
                .map_err(PgError::query(what))?;
            } else if held < share {
                // Under the share: keep hosts it was draining, then take free ones —
                // never held, or held by a daemon no longer alive.
                let kept = sqlx::query(
                    "UPDATE hosts SET draining = false WHERE host IN ( \
                       SELECT host FROM hosts WHERE holder = $1 AND draining \
                       ORDER BY host LIMIT $2 FOR UPDATE SKIP LOCKED)",
                )
                .bind(&daemon)
                .bind(share - held)
                .execute(&mut *tx)
                .await
                .map_err(PgError::query(what))?
                .rows_affected() as i64;
                if held + kept < share {
                    sqlx::query(
                        "UPDATE hosts SET holder = $1, draining = false WHERE host IN ( \
                           SELECT h.host FROM hosts h LEFT JOIN daemons d ON d.id = h.holder \
                           WHERE h.feeds > 0 \
                             AND (h.holder IS NULL OR d.id IS NULL OR d.alive_until < now()) \
                           ORDER BY h.host LIMIT $2 FOR UPDATE OF h SKIP LOCKED)",
                    )
                    .bind(&daemon)
                    .bind(share - held - kept)
                    .execute(&mut *tx)
                    .await
                    .map_err(PgError::query(what))?;
                }
            }
            // Drained hosts with no poll of ours left go back.
            sqlx::query(
                "UPDATE hosts h SET holder = NULL, draining = false \
                 WHERE h.holder = $1 AND h.draining \
                   AND NOT EXISTS (SELECT 1 FROM feeds f WHERE f.host = h.host \
                     AND f.claimed_by = $1 AND f.lease_until >= now())",
            )
            .bind(&daemon)
            .execute(&mut *tx)
            .await
            .map_err(PgError::query(what))?;
            let rows = sqlx::query(
                "UPDATE feeds f SET claimed_by = $1, lease_until = now() + $2 * interval '1 second' \
                 WHERE f.id IN ( \
                   SELECT d.id FROM feeds d JOIN hosts h ON h.host = d.host \
                   WHERE h.holder = $1 AND NOT h.draining \
                     AND d.enabled AND d.next_due <= now() \
                     AND (d.claimed_by IS NULL OR d.lease_until < now()) \
                   ORDER BY d.next_due, d.id LIMIT $3 FOR UPDATE OF d SKIP LOCKED) \
                 RETURNING f.id, f.host, f.next_due",
            )
            .bind(&daemon)
            .bind(lease)
            .bind(limit)
            .fetch_all(&mut *tx)
            .await
            .map_err(PgError::query(what))?;
            tx.commit().await.map_err(PgError::query(what))?;
            let mut claims: Vec<FeedClaim> = rows
                .iter()
                .map(|r| FeedClaim {
                    feed: r.get(0),
                    host: r.get(1),
                    due: r.get(2),
                })
                .collect();
            claims.sort_by(|a, b| a.due.cmp(&b.due).then_with(|| a.feed.cmp(&b.feed)));
            Ok(claims)
        })
    }

    /// Ends `daemon`'s claim on `feed` after its poll, which set the next due time.
    /// False when the claim was no longer `daemon`'s (its lease ran out and another
    /// daemon took the feed): the poll's result stands, the schedule is the other's.
    pub fn finish_feed_poll(
        &self,
        daemon: &str,
        feed: &str,
        next_due: DateTime<Utc>,
    ) -> Result<bool, PgError> {
        let (daemon, feed) = (daemon.to_string(), feed.to_string());
        self.run(move |pool| async move {
            let done = sqlx::query(
                "UPDATE feeds SET claimed_by = NULL, lease_until = NULL, next_due = $3, \
                   polls = polls + 1, last_polled_by = $1 \
                 WHERE id = $2 AND claimed_by = $1",
            )
            .bind(&daemon)
            .bind(&feed)
            .bind(next_due)
            .execute(&pool)
            .await
            .map_err(PgError::query("finishing a feed's poll"))?;
            Ok(done.rows_affected() == 1)
        })
    }

    /// Makes `feed` due at `at` (a poll asked for through the API, a feed whose URL
    /// changed): whichever daemon holds its host polls it then. False for a feed that is
    /// not registered.
    pub fn set_feed_due(&self, feed: &str, at: DateTime<Utc>) -> Result<bool, PgError> {
        let feed = feed.to_string();
        self.run(move |pool| async move {
            let done = sqlx::query("UPDATE feeds SET next_due = $2 WHERE id = $1")
                .bind(&feed)
                .bind(at)
                .execute(&pool)
                .await
                .map_err(PgError::query("making a feed due"))?;
            Ok(done.rows_affected() == 1)
        })
    }

    /// A daemon that stops: its hosts and unfinished claims go back at once (the next
    /// round of another daemon takes them), and it no longer counts as live.
    pub fn release_daemon(&self, daemon: &str) -> Result<(), PgError> {
        let daemon = daemon.to_string();
        self.run(move |pool| async move {
            let what = "releasing a daemon's claims";
            let mut tx = pool.begin().await.map_err(PgError::query(what))?;
            for statement in [
                "UPDATE feeds SET claimed_by = NULL, lease_until = NULL WHERE claimed_by = $1",
                "UPDATE hosts SET holder = NULL, draining = false WHERE holder = $1",
                "DELETE FROM daemons WHERE id = $1",
            ] {
                sqlx::query(statement)
                    .bind(&daemon)
                    .execute(&mut *tx)
                    .await
                    .map_err(PgError::query(what))?;
            }
            tx.commit().await.map_err(PgError::query(what))
        })
    }

    /// Every feed with the daemon that holds it, by feed id.
    pub fn feed_holders(&self) -> Result<Vec<FeedHolder>, PgError> {
        self.run(|pool| async move {
            let rows = sqlx::query(
                "SELECT f.id, f.host, \
                   CASE WHEN d.alive_until >= now() THEN h.holder END, \
                   CASE WHEN f.lease_until >= now() THEN f.claimed_by END, \
                   f.next_due, f.polls, f.last_polled_by \
                 FROM feeds f JOIN hosts h ON h.host = f.host \
                 LEFT JOIN daemons d ON d.id = h.holder \
                 WHERE f.enabled ORDER BY f.id",
            )
            .fetch_all(&pool)
            .await
            .map_err(PgError::query("listing feed holders"))?;
            Ok(rows
                .iter()
                .map(|r| FeedHolder {
                    feed: r.get(0),
                    host: r.get(1),
                    holder: r.get(2),
                    polling: r.get(3),
                    next_due: r.get(4),
                    polls: r.get(5),
                    last_polled_by: r.get(6),
                })
                .collect())
        })
    }
}
