//! Retention in the shared database: the decisions of [`crate::store::retention`] (the
//! same [`Cutoffs`] as sled's), executed as SQL in batches, each batch one short
//! transaction, so pruning never holds the daemons' writes up for long.
//!
//! The stages run in the policy's order: signatures past the near-duplicate horizon
//! (the signature and its band keys), identities (the GUID, URL, content-hash and band
//! keys), texts (text and revisions cleared; title, URL and sources stay), stories no
//! event cites, then events by their last update and dead alerts by when they died. A
//! story an event cites is never removed. Rows are taken with `FOR UPDATE SKIP
//! LOCKED`: a story a daemon is writing is pruned at the next round.

use sqlx::{PgPool, Row};

use super::{PgError, PgStore};
use crate::store::retention::Cutoffs;
use crate::store::PruneReport;

/// Whether an event cites story `s.id` (the GIN index on the events' sources answers).
const CITED: &str = "EXISTS (SELECT 1 FROM events e \
     WHERE e.record -> 'sources' @> jsonb_build_array(jsonb_build_object('story', s.id)))";

impl PgStore {
    /// Prunes what `cut` says is due, `batch` rows per transaction; with `dry_run`,
    /// counts what would go and changes nothing.
    pub fn prune(
        &self,
        cut: &Cutoffs,
        batch: usize,
        dry_run: bool,
    ) -> Result<PruneReport, PgError> {
        let cut = *cut;
        let batch = i64::try_from(batch.max(1)).unwrap_or(i64::MAX);
        self.run(move |pool| async move {
            let mut report = PruneReport::default();
            if dry_run {
                count_due(&pool, &cut, &mut report).await?;
            } else {
                prune_due(&pool, &cut, batch, &mut report).await?;
            }
            Ok(report)
        })
    }
}

/// One stage's selection of stories: `first_seen` at or before the cutoff, and the
/// stage's own condition.
fn stage(condition: &str) -> String {
    format!("SELECT s.id FROM stories s WHERE s.first_seen <= $1 AND {condition}")
}

const SIGNATURE: &str = "s.signature IS NOT NULL";
const IDENTITY: &str = "NOT s.identity_dropped";
const TEXT: &str = "NOT s.text_dropped";

fn removable() -> String {
    format!("s.identity_dropped AND s.text_dropped AND NOT {CITED}")
}

fn cited_old() -> String {
    format!("s.identity_dropped AND s.text_dropped AND {CITED}")
}

async fn count(
    pool: &PgPool,
    select: &str,
    cut: chrono::DateTime<chrono::Utc>,
) -> Result<u64, PgError> {
    let n: i64 = sqlx::query_scalar(sqlx::AssertSqlSafe(format!(
        "SELECT count(*) FROM ({select}) AS due"
    )))
    .bind(cut)
    .fetch_one(pool)
    .await
    .map_err(PgError::query("counting what pruning would remove"))?;
    Ok(u64::try_from(n).unwrap_or(0))
}

async fn count_due(pool: &PgPool, cut: &Cutoffs, report: &mut PruneReport) -> Result<(), PgError> {
    if let Some(c) = cut.signatures {
        report.signatures = count(pool, &stage(SIGNATURE), c).await?;
    }
    if let Some(c) = cut.identity {
        report.identities = count(pool, &stage(IDENTITY), c).await?;
    }
    if let Some(c) = cut.text {
        report.texts = count(pool, &stage(TEXT), c).await?;
    }
    if let (Some(c), Some(i), Some(t)) = (cut.stories, cut.identity, cut.text) {
        // A dry run counts the stories whose every stage would be due now.
        let c = c.min(i).min(t);
        report.stories = count(
            pool,
            &format!("SELECT s.id FROM stories s WHERE s.first_seen <= $1 AND NOT {CITED}"),
            c,
        )
        .await?;
        report.cited_kept = count(
            pool,
            &format!("SELECT s.id FROM stories s WHERE s.first_seen <= $1 AND {CITED}"),
            c,
        )
        .await?;
    }
    if let Some(c) = cut.events {
        report.events = count(
            pool,
            "SELECT id FROM events WHERE (record ->> 'updated')::timestamptz <= $1",
            c,
        )
        .await?;
    }
    if let Some(c) = cut.dead_alerts {
        report.dead_alerts = count(
            pool,
            "SELECT id FROM alerts WHERE dead AND dead_since <= $1",
            c,
        )
        .await?;
    }
    Ok(())
}

/// Runs `statement` (which binds the cutoff as $1 and the batch size as $2 and returns
/// one row per record it handled, with a count of keys or bytes in column 0) until a
/// batch handles nothing. Returns the records and the sum of column 0.
async fn in_batches(
    pool: &PgPool,
    statement: &str,
    cut: chrono::DateTime<chrono::Utc>,
    batch: i64,
    report: &mut PruneReport,
) -> Result<(u64, u64), PgError> {
    let (mut records, mut sum) = (0u64, 0u64);
    loop {
        let rows = sqlx::query(sqlx::AssertSqlSafe(statement.to_string()))
            .bind(cut)
            .bind(batch)
            .fetch_all(pool)
            .await
            .map_err(PgError::query("pruning"))?;
        if rows.is_empty() {
            return Ok((records, sum));
        }
        report.batches += 1;
        records += rows.len() as u64;
        for row in &rows {
            let n: i64 = row.try_get(0).map_err(PgError::query("pruning"))?;
            sum += u64::try_from(n).unwrap_or(0);
        }
    }
}

async fn prune_due(
    pool: &PgPool,
    cut: &Cutoffs,
    batch: i64,
    report: &mut PruneReport,
) -> Result<(), PgError> {
    let pick = |condition: &str| {
        format!(
            "SELECT s.id FROM stories s WHERE s.first_seen <= $1 AND {condition} \
             ORDER BY s.first_seen, s.id LIMIT $2 FOR UPDATE SKIP LOCKED"
        )
    };
    if let Some(c) = cut.signatures {
        let statement = format!(
            "WITH due AS ({}), \
                  bands AS (DELETE FROM story_bands b USING due WHERE b.story = due.id RETURNING b.story) \
             UPDATE stories s SET signature = NULL FROM due WHERE s.id = due.id \
             RETURNING (SELECT count(*) FROM bands WHERE bands.story = s.id)",
            pick(SIGNATURE)
        );
        report.signatures += in_batches(pool, &statement, c, batch, report).await?.0;
    }
    if let Some(c) = cut.identity {
        let statement = format!(
            "WITH due AS ({}), \
                  g AS (DELETE FROM story_guids k USING due WHERE k.story = due.id RETURNING k.story), \
                  u AS (DELETE FROM story_urls k USING due WHERE k.story = due.id RETURNING k.story), \
                  h AS (DELETE FROM story_hashes k USING due WHERE k.story = due.id RETURNING k.story), \
                  b AS (DELETE FROM story_bands k USING due WHERE k.story = due.id RETURNING k.story) \
             UPDATE stories s SET identity_dropped = true, signature = NULL FROM due \
             WHERE s.id = due.id \
             RETURNING (SELECT count(*) FROM g WHERE g.story = s.id) \
                     + (SELECT count(*) FROM u WHERE u.story = s.id) \
                     + (SELECT count(*) FROM h WHERE h.story = s.id)",
            pick(IDENTITY)
        );
        let (stories, keys) = in_batches(pool, &statement, c, batch, report).await?;
        report.identities += stories;
        report.identity_keys += keys;
    }
    if let Some(c) = cut.text {
        let statement = format!(
            "WITH due AS ({}) \
             UPDATE stories s SET text_dropped = true, \
               record = s.record || jsonb_build_object('text', '', 'revisions', jsonb_build_array()) \
             FROM due WHERE s.id = due.id \
             RETURNING (octet_length((SELECT t.record::text FROM stories t WHERE t.id = s.id)) \
                     - octet_length(s.record::text))::bigint",
            pick(TEXT)
        );
        let (texts, bytes) = in_batches(pool, &statement, c, batch, report).await?;
        report.texts += texts;
        report.text_bytes += bytes;
    }
    if let Some(c) = cut.stories {
        let statement = format!(
            "WITH due AS ({}) DELETE FROM stories s USING due WHERE s.id = due.id RETURNING 0::bigint",
            pick(&removable())
        );
        report.stories += in_batches(pool, &statement, c, batch, report).await?.0;
        // Old enough to go, but an event cites them: kept, without their text.
        report.cited_kept += count(pool, &stage(&cited_old()), c).await?;
    }
    if let Some(c) = cut.events {
        let statement = "DELETE FROM events WHERE id IN (SELECT id FROM events \
             WHERE (record ->> 'updated')::timestamptz <= $1 \
             ORDER BY id LIMIT $2 FOR UPDATE SKIP LOCKED) RETURNING 0::bigint";
        report.events += in_batches(pool, statement, c, batch, report).await?.0;
    }
    if let Some(c) = cut.dead_alerts {
        let statement = "DELETE FROM alerts WHERE id IN (SELECT id FROM alerts \
             WHERE dead AND dead_since <= $1 ORDER BY id LIMIT $2 FOR UPDATE SKIP LOCKED) \
             RETURNING 0::bigint";
        report.dead_alerts += in_batches(pool, statement, c, batch, report).await?.0;
    }
    Ok(())
}
