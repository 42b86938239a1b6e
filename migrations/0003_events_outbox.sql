-- Events and the outbox, shared by every daemon.
--
-- An event is one JSON record (the model's `Event`: actors, sources, evidence inside),
-- with the columns merge lookups and listings read. The merge of a detection into an
-- event runs under an advisory lock on (type, key), so two daemons that detect one
-- meeting at once make one event. An alert is written with its event, in the story's
-- transaction, under a stable id; daemons claim due alerts for delivery with
-- `FOR UPDATE SKIP LOCKED` and a lease, so a daemon that dies mid-delivery leaves its
-- alerts to another, which may send them again under the same id, never lose them.

CREATE SEQUENCE event_ids;
CREATE SEQUENCE alert_ids;

CREATE TABLE events (
    id          bigint PRIMARY KEY,
    event_type  text NOT NULL,
    key         text NOT NULL,
    anchor      date NOT NULL,
    modality    text NOT NULL,
    countries   text[] NOT NULL,
    record      jsonb NOT NULL
);
CREATE INDEX events_by_key ON events (event_type, key, anchor);
CREATE INDEX events_by_anchor ON events (anchor DESC, id DESC);
CREATE INDEX events_by_country ON events USING gin (countries);

CREATE TABLE alerts (
    id            bigint PRIMARY KEY,
    sink          text NOT NULL,
    event         bigint NOT NULL,
    dead          boolean NOT NULL DEFAULT false,
    dead_since    timestamptz,
    next_attempt  timestamptz NOT NULL,
    claimed_by    text,
    lease_until   timestamptz,
    record        jsonb NOT NULL
);
CREATE INDEX alerts_due ON alerts (next_attempt, id) WHERE NOT dead;
CREATE INDEX alerts_dead ON alerts (dead_since DESC, id DESC) WHERE dead;
