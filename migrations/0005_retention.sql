-- Retention (the backend-neutral policy of `store::retention`, executed in SQL): which
-- stages a story has been through, the times pruning selects by, and the index that
-- tells whether an event cites a story.

ALTER TABLE stories
    ADD COLUMN identity_dropped boolean NOT NULL DEFAULT false,
    ADD COLUMN text_dropped boolean NOT NULL DEFAULT false;
CREATE INDEX stories_by_first_seen ON stories (first_seen, id);
CREATE INDEX events_by_sources ON events USING gin ((record -> 'sources') jsonb_path_ops);
