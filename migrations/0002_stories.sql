-- Stories and the dedup index, shared by every daemon.
--
-- A story is one JSON record (the model's `Story`: sources and revisions inside), with
-- the columns listings and retention read. Each dedup key has its own table, whose
-- primary key makes a key lead to one story only; the near-duplicate index is the LSH
-- band keys of each story's MinHash signature with its publication time, read by the
-- same decision code as sled's (`dedup::find_match`).

CREATE SEQUENCE story_ids;

CREATE TABLE stories (
    id          bigint PRIMARY KEY,
    feed        text NOT NULL,
    published   timestamptz NOT NULL,
    first_seen  timestamptz NOT NULL,
    signature   bytea,
    record      jsonb NOT NULL
);
CREATE INDEX stories_by_time ON stories (published DESC, id DESC);
CREATE INDEX stories_by_feed ON stories (feed, published DESC, id DESC);

CREATE TABLE story_guids (
    feed   text NOT NULL,
    guid   text NOT NULL,
    story  bigint NOT NULL REFERENCES stories (id) ON DELETE CASCADE,
    PRIMARY KEY (feed, guid)
);

CREATE TABLE story_urls (
    url    text PRIMARY KEY,
    story  bigint NOT NULL REFERENCES stories (id) ON DELETE CASCADE
);

CREATE TABLE story_hashes (
    hash   bytea PRIMARY KEY,
    story  bigint NOT NULL REFERENCES stories (id) ON DELETE CASCADE
);

CREATE TABLE story_bands (
    band       smallint NOT NULL,
    key        bigint NOT NULL,
    published  timestamptz NOT NULL,
    story      bigint NOT NULL REFERENCES stories (id) ON DELETE CASCADE
);
CREATE INDEX story_bands_by_key ON story_bands (band, key, published);
CREATE INDEX story_bands_by_story ON story_bands (story);
