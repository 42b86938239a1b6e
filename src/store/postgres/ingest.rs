//! Stories offered to the shared database: the dedup decision and the write in one
//! transaction, correct when several daemons offer copies of one story at once.
//!
//! Each offer takes, in a fixed order, a transaction-scoped advisory lock on every key
//! it could match or write: its (feed, GUID), canonical URL, content hash and LSH band
//! keys. Two copies of one story share at least one such key — near-duplicates share a
//! band key with the probability the LSH gives, and that is the only way the decision
//! finds them at all — so the second waits for the first, then sees its story. The
//! looks are one round trip ([`Prefetched`]), decided by the sled backend's code
//! ([`dedup::find_match`]), and the story, its index rows or its new source commit
//! together. The primary keys of the index tables keep a key on one story even if the
//! locks were ever bypassed.

use std::hash::Hasher;

use chrono::{DateTime, Duration, Utc};
use siphasher::sip::SipHasher13;
use sqlx::{PgConnection, Row};

use super::{PgError, PgStore};
use crate::dedup::{self, BandMember, DedupIndex, Fingerprint, Signature, SIGNATURE_LEN};
use crate::model::{Candidate, IngestOutcome, MatchKind, Story, StoryId};
use crate::store::{story_changes, IngestHooks, Ingested};

impl PgStore {
    /// Offers one candidate: stores it as a new story, or records it on the story it
    /// duplicates (see the module docs).
    pub fn ingest(&self, candidate: &Candidate) -> Result<IngestOutcome, PgError> {
        Ok(self
            .ingest_detecting(candidate, &IngestHooks::NONE)?
            .outcome)
    }

    /// Like [`PgStore::ingest`], and when the candidate is a new story, runs the
    /// detector on it, merges the detections into events and writes the alerts the
    /// route hook asks for — all in the story's transaction.
    pub fn ingest_detecting(
        &self,
        candidate: &Candidate,
        hooks: &IngestHooks,
    ) -> Result<Ingested, PgError> {
        let mut one = self.ingest_batch(std::slice::from_ref(candidate), hooks)?;
        one.pop().ok_or(PgError::Lost)
    }

    /// Offers the entries of one poll, in order, each in a transaction of its own, and
    /// returns what became of each.
    pub fn ingest_batch(
        &self,
        candidates: &[Candidate],
        hooks: &IngestHooks,
    ) -> Result<Vec<Ingested>, PgError> {
        self.run_borrowing(|pool| async move {
            let mut out = Vec::with_capacity(candidates.len());
            for candidate in candidates {
                let fp = Fingerprint::of(candidate);
                // A unique key taken by a write the locks did not order (they always
                // should), or a deadlock the database broke, runs the offer again: it
                // then finds that story, a copy, not an error.
                let mut attempt = 0;
                out.push(loop {
                    attempt += 1;
                    match offer(&pool, candidate, &fp, hooks).await {
                        Err(e) if attempt < 3 && e.is_retryable() => continue,
                        result => break result?,
                    }
                });
            }
            Ok(out)
        })
    }

    /// A stored story by id.
    pub fn story(&self, id: StoryId) -> Result<Option<Story>, PgError> {
        self.run(move |pool| async move {
            let row = sqlx::query("SELECT record FROM stories WHERE id = $1")
                .bind(db_id(id))
                .fetch_optional(&pool)
                .await
                .map_err(PgError::query("reading a story"))?;
            row.map(|r| decode(id, r.get(0))).transpose()
        })
    }

    /// How many stories are stored.
    pub fn story_count(&self) -> Result<usize, PgError> {
        self.run(|pool| async move {
            let n: i64 = sqlx::query_scalar("SELECT count(*) FROM stories")
                .fetch_one(&pool)
                .await
                .map_err(PgError::query("counting stories"))?;
            Ok(usize::try_from(n).unwrap_or(0))
        })
    }
}

/// One offer of `candidate` in one transaction: locks, looks, decision and write; for
/// a new story, its events and alerts too.
async fn offer(
    pool: &sqlx::PgPool,
    candidate: &Candidate,
    fp: &Fingerprint,
    hooks: &IngestHooks<'_>,
) -> Result<Ingested, PgError> {
    let what = "ingesting a story";
    let mut tx = pool.begin().await.map_err(PgError::query(what))?;
    // One round trip; `unnest` yields the sorted keys in order, so they are locked in
    // that order.
    lock_all(&mut tx, lock_keys(candidate, fp)).await?;
    let looks = Prefetched::read(&mut tx, candidate, fp).await?;
    let found = dedup::find_match(&looks, candidate, fp)?;
    let ingested = match found {
        None => {
            let story = insert_new(&mut tx, candidate, fp).await?;
            let detections = (hooks.detect)(&story);
            let (events, alerts) = if detections.is_empty() {
                (Vec::new(), Vec::new())
            } else {
                super::events::merge_and_alert(&mut tx, &story, &detections, hooks.route).await?
            };
            Ingested {
                outcome: IngestOutcome::New(story.id),
                events,
                alerts,
            }
        }
        Some((id, MatchKind::Guid)) => {
            let mut story = load_for_update(&mut tx, id).await?;
            let outcome = if story_changes::revise_same_copy(&mut story, candidate) {
                save(&mut tx, &story).await?;
                IngestOutcome::Revised(id)
            } else {
                IngestOutcome::Unchanged(id)
            };
            unchanged_events(outcome)
        }
        Some((id, kind)) => {
            let mut story = load_for_update(&mut tx, id).await?;
            story
                .sources
                .push(story_changes::source_of(candidate, kind));
            save(&mut tx, &story).await?;
            index_copy(&mut tx, candidate, id).await?;
            unchanged_events(IngestOutcome::Duplicate(id, kind))
        }
    };
    tx.commit().await.map_err(PgError::query(what))?;
    Ok(ingested)
}

fn unchanged_events(outcome: IngestOutcome) -> Ingested {
    Ingested {
        outcome,
        events: Vec::new(),
        alerts: Vec::new(),
    }
}

/// Takes the transaction-scoped advisory locks `keys`, in the order given.
pub(super) async fn lock_all(tx: &mut PgConnection, keys: Vec<i64>) -> Result<(), PgError> {
    sqlx::query("SELECT pg_advisory_xact_lock(k) FROM unnest($1::bigint[]) AS k")
        .bind(keys)
        .execute(&mut *tx)
        .await
        .map_err(PgError::query("taking advisory locks"))?;
    Ok(())
}

/// The advisory lock keys of every dedup key `c` could match or write, sorted (two
/// offers lock their common keys in one order, so they never deadlock) and without
/// repeats. A collision of two keys' hashes only makes two offers wait for each other.
fn lock_keys(c: &Candidate, fp: &Fingerprint) -> Vec<i64> {
    let mut keys = vec![
        lock_key(&[b"guid", c.feed.as_bytes(), c.guid.as_bytes()]),
        lock_key(&[b"hash", &fp.content_hash]),
    ];
    if let Some(url) = &c.url {
        keys.push(lock_key(&[b"url", url.as_bytes()]));
    }
    for (band, key) in fp.band_keys() {
        keys.push(lock_key(&[b"band", &[band], &key.to_be_bytes()]));
    }
    keys.sort_unstable();
    keys.dedup();
    keys
}

pub(super) fn lock_key(parts: &[&[u8]]) -> i64 {
    let mut h = SipHasher13::new_with_keys(0x7469_6469_6e67_7321, 0x6c6f_636b_6b65_7973);
    for part in parts {
        h.write_usize(part.len());
        h.write(part);
    }
    i64::from_ne_bytes(h.finish().to_ne_bytes())
}

/// The answers to every look [`dedup::find_match`] can make for one candidate, read in
/// one round trip under the locks.
struct Prefetched {
    by_guid: Option<StoryId>,
    by_url: Option<StoryId>,
    by_hash: Option<StoryId>,
    /// Band members published within the near-duplicate window of the candidate, with
    /// their signatures.
    bands: Vec<(u8, u64, BandMember, Option<Signature>)>,
}

impl Prefetched {
    async fn read(
        tx: &mut PgConnection,
        c: &Candidate,
        fp: &Fingerprint,
    ) -> Result<Prefetched, PgError> {
        let what = "looking up dedup keys";
        let row = sqlx::query(
            "SELECT \
               (SELECT story FROM story_guids WHERE feed = $1 AND guid = $2), \
               (SELECT story FROM story_urls WHERE url = $3), \
               (SELECT story FROM story_hashes WHERE hash = $4)",
        )
        .bind(&c.feed)
        .bind(&c.guid)
        .bind(c.url.as_deref())
        .bind(fp.content_hash.as_slice())
        .fetch_one(&mut *tx)
        .await
        .map_err(PgError::query(what))?;
        let story = |i: usize| row.get::<Option<i64>, _>(i).map(story_id);
        let (by_guid, by_url, by_hash) = (story(0), story(1), story(2));
        let keys = fp.band_keys();
        let bands = if keys.is_empty() {
            Vec::new()
        } else {
            let time = c.published.unwrap_or(c.seen_at);
            let window = Duration::hours(dedup::NEAR_DUPLICATE_WINDOW_HOURS);
            let band_numbers: Vec<i16> = keys.iter().map(|(b, _)| i16::from(*b)).collect();
            let band_keys: Vec<i64> = keys.iter().map(|(_, k)| db_key(*k)).collect();
            sqlx::query(
                "SELECT b.band, b.key, b.story, b.published, s.signature \
                 FROM story_bands b \
                 JOIN unnest($1::smallint[], $2::bigint[]) AS k (band, key) \
                   ON b.band = k.band AND b.key = k.key \
                 JOIN stories s ON s.id = b.story \
                 WHERE b.published BETWEEN $3 AND $4",
            )
            .bind(&band_numbers)
            .bind(&band_keys)
            .bind(time - window)
            .bind(time + window)
            .fetch_all(&mut *tx)
            .await
            .map_err(PgError::query(what))?
            .iter()
            .map(|r| {
                let band: i16 = r.get(0);
                let key: i64 = r.get(1);
                let member = BandMember {
                    id: story_id(r.get(2)),
                    published: r.get(3),
                };
                let signature = r
                    .get::<Option<Vec<u8>>, _>(4)
                    .and_then(|b| decode_signature(&b));
                (
                    band as u8,
                    u64::from_ne_bytes(key.to_ne_bytes()),
                    member,
                    signature,
                )
            })
            .collect()
        };
        Ok(Prefetched {
            by_guid,
            by_url,
            by_hash,
            bands,
        })
    }
}

impl DedupIndex for Prefetched {
    type Error = PgError;

    fn story_by_guid(&self, _: &str, _: &str) -> Result<Option<StoryId>, PgError> {
        Ok(self.by_guid)
    }

    fn story_by_url(&self, _: &str) -> Result<Option<StoryId>, PgError> {
        Ok(self.by_url)
    }

    fn story_by_content_hash(&self, _: &[u8; 32]) -> Result<Option<StoryId>, PgError> {
        Ok(self.by_hash)
    }

    fn stories_in_band(&self, band: u8, key: u64) -> Result<Vec<BandMember>, PgError> {
        Ok(self
            .bands
            .iter()
            .filter(|(b, k, _, _)| *b == band && *k == key)
            .map(|(_, _, m, _)| *m)
            .collect())
    }

    fn signature(&self, id: StoryId) -> Result<Option<(Signature, DateTime<Utc>)>, PgError> {
        Ok(self
            .bands
            .iter()
            .find(|(_, _, m, _)| m.id == id)
            .and_then(|(_, _, m, s)| s.map(|s| (s, m.published))))
    }
}

/// Writes a new story from `c` with every index row.
async fn insert_new(
    tx: &mut PgConnection,
    c: &Candidate,
    fp: &Fingerprint,
) -> Result<Story, PgError> {
    let what = "storing a new story";
    let id: i64 = sqlx::query_scalar("SELECT nextval('story_ids')")
        .fetch_one(&mut *tx)
        .await
        .map_err(PgError::query(what))?;
    let story = story_changes::new_story(story_id(id), c);
    sqlx::query(
        "INSERT INTO stories (id, feed, published, first_seen, signature, record) \
         VALUES ($1, $2, $3, $4, $5, $6)",
    )
    .bind(id)
    .bind(&story.feed)
    .bind(story.published)
    .bind(story.first_seen)
    .bind(fp.signature.as_ref().map(encode_signature))
    .bind(sqlx::types::Json(&story))
    .execute(&mut *tx)
    .await
    .map_err(PgError::query(what))?;
    sqlx::query("INSERT INTO story_hashes (hash, story) VALUES ($1, $2)")
        .bind(fp.content_hash.as_slice())
        .bind(id)
        .execute(&mut *tx)
        .await
        .map_err(PgError::query(what))?;
    let keys = fp.band_keys();
    if !keys.is_empty() {
        let band_numbers: Vec<i16> = keys.iter().map(|(b, _)| i16::from(*b)).collect();
        let band_keys: Vec<i64> = keys.iter().map(|(_, k)| db_key(*k)).collect();
        sqlx::query(
            "INSERT INTO story_bands (band, key, published, story) \
             SELECT band, key, $3, $4 FROM unnest($1::smallint[], $2::bigint[]) AS k (band, key)",
        )
        .bind(&band_numbers)
        .bind(&band_keys)
        .bind(story.published)
        .bind(id)
        .execute(&mut *tx)
        .await
        .map_err(PgError::query(what))?;
    }
    index_copy(tx, c, story.id).await?;
    Ok(story)
}

/// The keys a copy adds: its (feed, GUID), and its URL when no story has it yet.
async fn index_copy(tx: &mut PgConnection, c: &Candidate, id: StoryId) -> Result<(), PgError> {
    let what = "indexing a copy";
    sqlx::query("INSERT INTO story_guids (feed, guid, story) VALUES ($1, $2, $3)")
        .bind(&c.feed)
        .bind(&c.guid)
        .bind(db_id(id))
        .execute(&mut *tx)
        .await
        .map_err(PgError::query(what))?;
    if let Some(url) = &c.url {
        sqlx::query("INSERT INTO story_urls (url, story) VALUES ($1, $2) ON CONFLICT DO NOTHING")
            .bind(url)
            .bind(db_id(id))
            .execute(&mut *tx)
            .await
            .map_err(PgError::query(what))?;
    }
    Ok(())
}

async fn load_for_update(tx: &mut PgConnection, id: StoryId) -> Result<Story, PgError> {
    let record: serde_json::Value =
        sqlx::query_scalar("SELECT record FROM stories WHERE id = $1 FOR UPDATE")
            .bind(db_id(id))
            .fetch_one(&mut *tx)
            .await
            .map_err(PgError::query("reading a story to update"))?;
    decode(id, record)
}

async fn save(tx: &mut PgConnection, story: &Story) -> Result<(), PgError> {
    sqlx::query("UPDATE stories SET record = $2 WHERE id = $1")
        .bind(db_id(story.id))
        .bind(sqlx::types::Json(story))
        .execute(&mut *tx)
        .await
        .map_err(PgError::query("updating a story"))?;
    Ok(())
}

pub(super) fn decode(id: StoryId, record: serde_json::Value) -> Result<Story, PgError> {
    serde_json::from_value(record).map_err(|source| PgError::Decode {
        table: "stories",
        id: id.to_string(),
        source,
    })
}

/// Story ids are positive `bigint`s in the database.
pub(super) fn db_id(id: StoryId) -> i64 {
    i64::try_from(id).unwrap_or(i64::MAX)
}

pub(super) fn story_id(id: i64) -> StoryId {
    u64::try_from(id).unwrap_or(0)
}

/// A band key's 64 bits as a `bigint`.
pub(super) fn db_key(key: u64) -> i64 {
    i64::from_ne_bytes(key.to_ne_bytes())
}

pub(super) fn encode_signature(sig: &Signature) -> Vec<u8> {
    sig.iter().flat_map(|v| v.to_le_bytes()).collect()
}

pub(super) fn decode_signature(bytes: &[u8]) -> Option<Signature> {
    if bytes.len() != SIGNATURE_LEN * 4 {
        return None;
    }
    let mut sig = [0u32; SIGNATURE_LEN];
    for (v, chunk) in sig.iter_mut().zip(bytes.chunks_exact(4)) {
        *v = u32::from_le_bytes(chunk.try_into().ok()?);
    }
    Some(sig)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn signatures_round_trip_and_a_short_one_is_refused() {
        let mut sig = [0u32; SIGNATURE_LEN];
        for (i, v) in sig.iter_mut().enumerate() {
            *v = u32::MAX - i as u32 * 7;
        }
        assert_eq!(decode_signature(&encode_signature(&sig)), Some(sig));
        assert_eq!(decode_signature(&[1, 2, 3]), None);
    }

    #[test]
    fn lock_keys_are_sorted_unique_and_differ_by_kind() {
        let c = Candidate {
            feed: "f".into(),
            guid: "g".into(),
            guid_derived: false,
            url: Some("g".into()),
            raw_url: None,
            title: "t".into(),
            text: String::new(),
            published: None,
            language: None,
            seen_at: Utc::now(),
        };
        let keys = lock_keys(&c, &Fingerprint::of(&c));
        assert_eq!(
            keys.len(),
            3,
            "guid, hash and url keys, no bands for a short text"
        );
        assert!(keys.windows(2).all(|w| w[0] < w[1]));
    }
}
