-- Claims that cost one row per daemon per round, whatever the number of hosts, and hosts
-- handed over without two daemons polling one at the same time.
--
-- A daemon is alive until `alive_until`, which each of its claiming rounds moves on by
-- its lease; the hosts it holds are its own while it is alive (no per-host renewal).
-- `hosts.feeds` counts each host's enabled feeds, kept by the feeds' registration, so a
-- round counts the hosts with feeds without reading the feeds. A daemon over its share
-- (another joined) drains the hosts it gives up: it claims no new feed of a draining
-- host, and lets the host go once its polls there have finished.
ALTER TABLE daemons ADD COLUMN alive_until timestamptz NOT NULL DEFAULT now();
ALTER TABLE hosts ADD COLUMN draining boolean NOT NULL DEFAULT false;
ALTER TABLE hosts ADD COLUMN feeds integer NOT NULL DEFAULT 0;
ALTER TABLE hosts DROP COLUMN lease_until;
CREATE INDEX hosts_by_holder ON hosts (holder) WHERE holder IS NOT NULL;
CREATE INDEX feeds_by_due ON feeds (next_due) WHERE enabled;
UPDATE hosts h SET feeds = (SELECT count(*) FROM feeds f WHERE f.host = h.host AND f.enabled);
