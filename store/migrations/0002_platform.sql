-- The platform: tenants, keys, probes and their schedule, health history, rollups.
-- Every tenant-owned row carries project_id so each query can scope by it.

ALTER TABLE call_results
    ADD COLUMN kind        text NOT NULL DEFAULT 'sip_call',
    ADD COLUMN probe_id    uuid,
    ADD COLUMN location    text,
    ADD COLUMN status_code integer,
    ADD COLUMN latency_ms  double precision,
    ADD COLUMN load_cpu    double precision,
    ADD COLUMN load_ram    double precision,
    ADD COLUMN project_id  uuid;

ALTER TABLE call_results DROP CONSTRAINT call_results_outcome_check;
ALTER TABLE call_results ADD CONSTRAINT call_results_outcome_check CHECK (outcome IN (
    'ok', 'no_audio', 'sip_error', 'setup_timeout', 'register_failed',
    'invalid_input', 'engine_error', 'failed', 'timeout'
));

CREATE INDEX call_results_probe_id_started_at_idx
    ON call_results (probe_id, started_at DESC) WHERE probe_id IS NOT NULL;

CREATE TABLE projects (
    id         uuid        PRIMARY KEY DEFAULT gen_random_uuid(),
    name       text        NOT NULL CHECK (length(name) BETWEEN 1 AND 200),
    created_at timestamptz NOT NULL DEFAULT now()
);

-- Only a SHA-256 of each token is kept; prefix identifies a key in listings.
CREATE TABLE api_keys (
    id         uuid        PRIMARY KEY DEFAULT gen_random_uuid(),
    project_id uuid        NOT NULL REFERENCES projects (id) ON DELETE CASCADE,
    name       text        NOT NULL,
    scope      text        NOT NULL CHECK (scope IN ('read', 'write')),
    prefix     text        NOT NULL,
    token_hash bytea       NOT NULL UNIQUE,
    created_at timestamptz NOT NULL DEFAULT now(),
    revoked_at timestamptz
);
CREATE INDEX api_keys_project_idx ON api_keys (project_id);

CREATE TABLE locations (
    id         uuid        PRIMARY KEY DEFAULT gen_random_uuid(),
    project_id uuid        NOT NULL REFERENCES projects (id) ON DELETE CASCADE,
    name       text        NOT NULL CHECK (name ~ '^[a-z0-9][a-z0-9_-]{0,62}$'),
    created_at timestamptz NOT NULL DEFAULT now(),
    UNIQUE (project_id, name)
);

-- An agent's token is a credential like an API key, limited to leasing and posting.
CREATE TABLE agents (
    id          uuid        PRIMARY KEY DEFAULT gen_random_uuid(),
    project_id  uuid        NOT NULL REFERENCES projects (id) ON DELETE CASCADE,
    location_id uuid        NOT NULL REFERENCES locations (id) ON DELETE CASCADE,
    name        text        NOT NULL,
    prefix      text        NOT NULL,
    token_hash  bytea       NOT NULL UNIQUE,
    created_at  timestamptz NOT NULL DEFAULT now(),
    last_seen   timestamptz,
    revoked_at  timestamptz
);
CREATE INDEX agents_project_idx ON agents (project_id);

CREATE TABLE probes (
    id          uuid        PRIMARY KEY DEFAULT gen_random_uuid(),
    project_id  uuid        NOT NULL REFERENCES projects (id) ON DELETE CASCADE,
    name        text        NOT NULL CHECK (length(name) BETWEEN 1 AND 200),
    kind        text        NOT NULL CHECK (kind IN (
        'sip_call', 'sip_options', 'sip_register', 'http', 'tcp', 'icmp', 'push'
    )),
    target      text        NOT NULL DEFAULT '',
    replicas    text[]      NOT NULL DEFAULT '{}',
    interval_s  integer     NOT NULL CHECK (interval_s BETWEEN 5 AND 86400),
    timeout_s   double precision NOT NULL CHECK (timeout_s > 0 AND timeout_s <= 600),
    enabled     boolean     NOT NULL DEFAULT true,
    options     jsonb       NOT NULL DEFAULT '{}',
    -- Write-only secrets (SIP password, HTTP auth), encrypted with the settings key.
    secret      bytea,
    policy      jsonb       NOT NULL DEFAULT '{}',
    push_token_hash bytea   UNIQUE,
    created_at  timestamptz NOT NULL DEFAULT now(),
    updated_at  timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX probes_project_idx ON probes (project_id);

CREATE TABLE probe_locations (
    probe_id    uuid NOT NULL REFERENCES probes (id) ON DELETE CASCADE,
    location_id uuid NOT NULL REFERENCES locations (id) ON DELETE CASCADE,
    PRIMARY KEY (probe_id, location_id)
);

CREATE TABLE thresholds (
    id          uuid        PRIMARY KEY DEFAULT gen_random_uuid(),
    project_id  uuid        NOT NULL REFERENCES projects (id) ON DELETE CASCADE,
    probe_id    uuid        NOT NULL REFERENCES probes (id) ON DELETE CASCADE,
    metric      text        NOT NULL,
    warning     double precision,
    critical    double precision,
    created_at  timestamptz NOT NULL DEFAULT now(),
    UNIQUE (probe_id, metric)
);

-- One row per (probe, location, target): when its next run is due. Leasing
-- advances next_due and inserts the run in the same transaction.
CREATE TABLE schedules (
    probe_id    uuid        NOT NULL REFERENCES probes (id) ON DELETE CASCADE,
    location_id uuid        NOT NULL REFERENCES locations (id) ON DELETE CASCADE,
    target      text        NOT NULL,
    next_due    timestamptz NOT NULL,
    PRIMARY KEY (probe_id, location_id, target)
);
CREATE INDEX schedules_due_idx ON schedules (location_id, next_due);

CREATE TABLE runs (
    run_id        uuid        PRIMARY KEY DEFAULT gen_random_uuid(),
    project_id    uuid        NOT NULL REFERENCES projects (id) ON DELETE CASCADE,
    probe_id      uuid        NOT NULL REFERENCES probes (id) ON DELETE CASCADE,
    location_id   uuid        NOT NULL REFERENCES locations (id) ON DELETE CASCADE,
    target        text        NOT NULL,
    due_at        timestamptz NOT NULL,
    leased_at     timestamptz NOT NULL,
    leased_by     uuid        REFERENCES agents (id) ON DELETE SET NULL,
    lease_expires timestamptz NOT NULL,
    attempts      integer     NOT NULL DEFAULT 1,
    completed_at  timestamptz,
    UNIQUE (probe_id, location_id, target, due_at)
);
CREATE INDEX runs_open_idx ON runs (location_id, lease_expires) WHERE completed_at IS NULL;
CREATE INDEX runs_probe_idx ON runs (probe_id, due_at DESC);

-- Current health per probe (location NULL = the probe as a whole, after quorum).
CREATE TABLE probe_health (
    probe_id   uuid        NOT NULL REFERENCES probes (id) ON DELETE CASCADE,
    location   text        NOT NULL DEFAULT '',
    state      text        NOT NULL CHECK (state IN ('healthy', 'degraded', 'unhealthy', 'unknown')),
    since      timestamptz NOT NULL,
    reasons    jsonb       NOT NULL DEFAULT '[]',
    evaluated_at timestamptz NOT NULL,
    PRIMARY KEY (probe_id, location)
);

CREATE TABLE health_transitions (
    id         bigint      GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    project_id uuid        NOT NULL REFERENCES projects (id) ON DELETE CASCADE,
    probe_id   uuid        NOT NULL REFERENCES probes (id) ON DELETE CASCADE,
    at         timestamptz NOT NULL,
    from_state text        NOT NULL,
    to_state   text        NOT NULL,
    reasons    jsonb       NOT NULL DEFAULT '[]'
);
CREATE INDEX health_transitions_probe_at_idx ON health_transitions (probe_id, at);

CREATE TABLE incidents (
    id          uuid        PRIMARY KEY DEFAULT gen_random_uuid(),
    project_id  uuid        NOT NULL REFERENCES projects (id) ON DELETE CASCADE,
    probe_id    uuid        NOT NULL REFERENCES probes (id) ON DELETE CASCADE,
    opened_at   timestamptz NOT NULL,
    resolved_at timestamptz,
    worst_state text        NOT NULL,
    cause       text        NOT NULL
);
CREATE UNIQUE INDEX incidents_one_open_idx ON incidents (probe_id) WHERE resolved_at IS NULL;
CREATE INDEX incidents_project_idx ON incidents (project_id, opened_at DESC);

CREATE TABLE maintenance_windows (
    id         uuid        PRIMARY KEY DEFAULT gen_random_uuid(),
    project_id uuid        NOT NULL REFERENCES projects (id) ON DELETE CASCADE,
    probe_id   uuid        REFERENCES probes (id) ON DELETE CASCADE,
    page_id    uuid,
    title      text        NOT NULL,
    starts_at  timestamptz NOT NULL,
    ends_at    timestamptz NOT NULL CHECK (ends_at > starts_at),
    created_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX maintenance_project_idx ON maintenance_windows (project_id, starts_at);

-- Additive hourly rollup of results per probe and location: counts and sums
-- only, so a late or out-of-order result is one more increment to its own hour.
CREATE TABLE result_rollup_hourly (
    probe_id     uuid             NOT NULL REFERENCES probes (id) ON DELETE CASCADE,
    location     text             NOT NULL,
    bucket       timestamptz      NOT NULL,
    runs         integer          NOT NULL DEFAULT 0,
    ok_runs      integer          NOT NULL DEFAULT 0,
    mos_sum      double precision NOT NULL DEFAULT 0,
    mos_n        integer          NOT NULL DEFAULT 0,
    jitter_sum   double precision NOT NULL DEFAULT 0,
    jitter_n     integer          NOT NULL DEFAULT 0,
    loss_sum     double precision NOT NULL DEFAULT 0,
    loss_n       integer          NOT NULL DEFAULT 0,
    pdd_sum      double precision NOT NULL DEFAULT 0,
    pdd_n        integer          NOT NULL DEFAULT 0,
    latency_sum  double precision NOT NULL DEFAULT 0,
    latency_n    integer          NOT NULL DEFAULT 0,
    PRIMARY KEY (probe_id, location, bucket)
);

-- Seconds spent in each state per probe and UTC hour, rebuilt for the hours a
-- transition touches, so 90-day uptime reads 2,160 rows per probe.
CREATE TABLE health_rollup_hourly (
    probe_id     uuid        NOT NULL REFERENCES probes (id) ON DELETE CASCADE,
    bucket       timestamptz NOT NULL,
    healthy_s    double precision NOT NULL DEFAULT 0,
    degraded_s   double precision NOT NULL DEFAULT 0,
    unhealthy_s  double precision NOT NULL DEFAULT 0,
    unknown_s    double precision NOT NULL DEFAULT 0,
    PRIMARY KEY (probe_id, bucket)
);
