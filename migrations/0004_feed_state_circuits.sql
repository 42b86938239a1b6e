-- What the daemons remember between polls and deliveries: each feed's polling state
-- (validators, status, errors, next poll), each sink's circuit breaker, and counters
-- kept over the store's lifetime.

CREATE TABLE feed_states (
    id     text PRIMARY KEY,
    state  jsonb NOT NULL
);

CREATE TABLE sink_circuits (
    sink    text PRIMARY KEY,
    record  jsonb NOT NULL
);

CREATE TABLE counters (
    name   text PRIMARY KEY,
    value  bigint NOT NULL
);
INSERT INTO counters (name, value) VALUES ('alerts_delivered', 0);
