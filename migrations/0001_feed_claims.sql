-- Feeds shared by claiming (issue: several daemons on one PostgreSQL).
--
-- A daemon works a host's feeds only while it holds that host's lease: the per-host
-- politeness limits (concurrency, spacing, Retry-After pauses) are then kept by one
-- process, as with one daemon. A feed is claimed for one poll; the claim ends when the
-- poll is finished or when its lease runs out (the daemon died).

CREATE TABLE daemons (
    id          text PRIMARY KEY,
    started_at  timestamptz NOT NULL DEFAULT now(),
    seen_at     timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE hosts (
    host         text PRIMARY KEY,
    holder       text,
    lease_until  timestamptz
);

CREATE TABLE feeds (
    id           text PRIMARY KEY,
    host         text NOT NULL REFERENCES hosts (host),
    enabled      boolean NOT NULL DEFAULT true,
    next_due     timestamptz NOT NULL DEFAULT now(),
    claimed_by   text,
    lease_until  timestamptz,
    polls        bigint NOT NULL DEFAULT 0,
    last_polled_by text
);

CREATE INDEX feeds_due ON feeds (host, next_due) WHERE enabled;
