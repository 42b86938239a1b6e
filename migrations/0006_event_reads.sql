-- The web view's reads (`store/postgres/web_reads.rs`): events of one type newest
-- first over a day range, and the distinct types, read from an index in the order sled
-- keeps its `idx_event_type` (type ‖ day ‖ id). Listings by day use `events_by_anchor`,
-- by country the GIN index `events_by_country` (`countries @> ARRAY[code]`).

CREATE INDEX events_by_type ON events (event_type, anchor DESC, id DESC);
