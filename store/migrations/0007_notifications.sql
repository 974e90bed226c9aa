-- Alerting (issue 11): channels, the transactional outbox, deliveries and their attempts.

-- Tags let a channel's routing rule pick probes by label ("trunks", "customer-a").
ALTER TABLE probes ADD COLUMN tags text[] NOT NULL DEFAULT '{}'
    CHECK (cardinality(tags) <= 20);

-- A channel: a plugin kind, its public configuration, its secrets (encrypted with the
-- settings key, never returned) and its routing rules.
CREATE TABLE notify_channels (
    id         uuid        PRIMARY KEY DEFAULT gen_random_uuid(),
    project_id uuid        NOT NULL REFERENCES projects (id) ON DELETE CASCADE,
    name       text        NOT NULL CHECK (length(name) BETWEEN 1 AND 200),
    kind       text        NOT NULL CHECK (kind IN (
        'webhook', 'slack', 'teams', 'pagerduty', 'email', 'pushover'
    )),
    config     jsonb       NOT NULL DEFAULT '{}',
    secret     bytea       NOT NULL,
    rules      jsonb       NOT NULL DEFAULT '{}',
    paused_at  timestamptz,
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX notify_channels_project_idx ON notify_channels (project_id);

-- The outbox: one row per health transition, written in the transition's own
-- transaction (store/transitions.py), fanned out to deliveries by the router.
CREATE TABLE notify_events (
    id            bigint      GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    project_id    uuid        NOT NULL REFERENCES projects (id) ON DELETE CASCADE,
    probe_id      uuid        NOT NULL REFERENCES probes (id) ON DELETE CASCADE,
    transition_id bigint      NOT NULL,
    incident_id   uuid,
    at            timestamptz NOT NULL,
    from_state    text        NOT NULL,
    to_state      text        NOT NULL,
    cause         text        NOT NULL,
    reasons       jsonb       NOT NULL DEFAULT '[]',
    routed_at     timestamptz
);
CREATE INDEX notify_events_unrouted_idx ON notify_events (id) WHERE routed_at IS NULL;

-- What the router remembers per channel and probe: the state the channel was last told
-- (so a recovery is only sent after a bad state was), the open alert's dedup key, flap
-- damping and reminders.
CREATE TABLE notify_channel_probes (
    channel_id       uuid        NOT NULL REFERENCES notify_channels (id) ON DELETE CASCADE,
    probe_id         uuid        NOT NULL REFERENCES probes (id) ON DELETE CASCADE,
    told_state       text,
    alert_key        text,
    flapping_since   timestamptz,
    last_change_at   timestamptz,
    reminders_sent   integer     NOT NULL DEFAULT 0,
    next_reminder_at timestamptz,
    PRIMARY KEY (channel_id, probe_id)
);
CREATE INDEX notify_channel_probes_due_idx ON notify_channel_probes (next_reminder_at)
    WHERE next_reminder_at IS NOT NULL;
CREATE INDEX notify_channel_probes_flapping_idx ON notify_channel_probes (last_change_at)
    WHERE flapping_since IS NOT NULL;

-- A page's health as last sent in Crisp's status:health:changed event.
CREATE TABLE notify_page_health (
    page_id    uuid        PRIMARY KEY REFERENCES status_pages (id) ON DELETE CASCADE,
    health     text        NOT NULL,
    changed_at timestamptz NOT NULL
);

-- One notice for one channel. id is the idempotency key on every attempt; seq orders
-- the deliveries of one (channel, order_key), order_key being the probe or the page.
CREATE TABLE notify_deliveries (
    id              uuid        PRIMARY KEY DEFAULT gen_random_uuid(),
    seq             bigint      GENERATED ALWAYS AS IDENTITY UNIQUE,
    project_id      uuid        NOT NULL REFERENCES projects (id) ON DELETE CASCADE,
    channel_id      uuid        NOT NULL REFERENCES notify_channels (id) ON DELETE CASCADE,
    event_id        bigint      REFERENCES notify_events (id) ON DELETE SET NULL,
    order_key       text        NOT NULL,
    kind            text        NOT NULL,
    payload         jsonb       NOT NULL,
    state           text        NOT NULL DEFAULT 'pending'
                                CHECK (state IN ('pending', 'sending', 'delivered', 'dead')),
    attempts        integer     NOT NULL DEFAULT 0,
    next_attempt_at timestamptz NOT NULL DEFAULT now(),
    lease_until     timestamptz,
    last_error      text,
    created_at      timestamptz NOT NULL DEFAULT now(),
    delivered_at    timestamptz
);
CREATE INDEX notify_deliveries_open_idx ON notify_deliveries (channel_id, order_key, seq)
    WHERE state IN ('pending', 'sending');
CREATE INDEX notify_deliveries_due_idx ON notify_deliveries (next_attempt_at)
    WHERE state IN ('pending', 'sending');
CREATE INDEX notify_deliveries_channel_idx ON notify_deliveries (channel_id, seq DESC);

CREATE TABLE notify_attempts (
    id           bigint           GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    delivery_id  uuid             NOT NULL REFERENCES notify_deliveries (id) ON DELETE CASCADE,
    attempt      integer          NOT NULL,
    started_at   timestamptz      NOT NULL,
    latency_ms   double precision NOT NULL,
    status_code  integer,
    outcome      text             NOT NULL CHECK (outcome IN ('delivered', 'failed', 'dead')),
    error        text
);
CREATE INDEX notify_attempts_delivery_idx ON notify_attempts (delivery_id, attempt);
