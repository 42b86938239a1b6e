-- The web view's reads and the listings by feed.
--
-- The web view's reads (`store/postgres/web_reads.rs`): events of one type newest
-- first over a day range, and the distinct types, read from an index in the order sled
-- keeps its `idx_event_type` (type ‖ day ‖ id). Listings by day use `events_by_anchor`,
-- by country the GIN index `events_by_country` (`countries @> ARRAY[code]`).

CREATE INDEX events_by_type ON events (event_type, anchor DESC, id DESC);

-- A feed's stories are those with a copy from it, whether or not their identity keys
-- (the GUID rows) have been pruned, as sled's `idx_feed` and `feed_counts` keep them:
-- `record -> 'sources' @> '[{"feed": …}]'`, answered by this index.
CREATE INDEX stories_by_sources ON stories USING gin ((record -> 'sources') jsonb_path_ops);
