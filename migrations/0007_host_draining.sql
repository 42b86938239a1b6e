-- A daemon over its share of the hosts (another daemon joined) drains the hosts it gives
-- up: it claims no new feed of a draining host, and lets the host go once its polls
-- there have finished, so that two daemons never poll one host at the same time.
ALTER TABLE hosts ADD COLUMN draining boolean NOT NULL DEFAULT false;
