-- Judging at scale (issue 13): one queue shared by every API replica, and per location
-- the verdict judging keeps between passes with the moment silence would change it.

-- A (probe, location) with results not judged yet; location '' asks for the whole probe
-- (its configuration changed). Ingest marks pairs in the transaction that stores the
-- results; a judging loop leases a batch (SKIP LOCKED) and deletes each mark in the
-- transaction that writes its judgement, unless it was marked again meanwhile (then
-- marked_at moved and leased_until was cleared). No foreign key: marks are the hot
-- path, and judging drops the marks of a probe that no longer exists.
CREATE TABLE judging_queue (
    probe_id     uuid        NOT NULL,
    location     text        NOT NULL,
    marked_at    timestamptz NOT NULL DEFAULT clock_timestamp(),
    leased_until timestamptz,
    PRIMARY KEY (probe_id, location)
) WITH (autovacuum_vacuum_scale_factor = 0, autovacuum_vacuum_threshold = 2000);

CREATE INDEX judging_queue_order ON judging_queue (marked_at);

-- A location's verdict from its recent results alone (before silence is judged), the
-- span of those results, and due_at: when time alone changes it (stale, push dead, or
-- its oldest result leaving the history window); NULL when nothing will.
CREATE TABLE location_verdicts (
    probe_id  uuid        NOT NULL REFERENCES probes (id) ON DELETE CASCADE,
    location  text        NOT NULL,
    state     text        NOT NULL CHECK (state IN ('healthy', 'degraded', 'unhealthy', 'unknown')),
    reasons   jsonb       NOT NULL,
    newest_at timestamptz NOT NULL,
    oldest_at timestamptz NOT NULL,
    due_at    timestamptz,
    PRIMARY KEY (probe_id, location)
);

CREATE INDEX location_verdicts_due ON location_verdicts (due_at) WHERE due_at IS NOT NULL;

-- A new probe, or a configuration edit (enabled, interval, policy, options, thresholds,
-- locations), marks the whole probe, whatever path made it: routes, console, CLI or SQL.
CREATE FUNCTION judging_mark_probe() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    probe uuid;
BEGIN
    IF TG_TABLE_NAME = 'probes' THEN
        probe := NEW.id;
    ELSIF TG_OP = 'DELETE' THEN
        probe := OLD.probe_id;
    ELSE
        probe := NEW.probe_id;
    END IF;
    INSERT INTO judging_queue AS q (probe_id, location) VALUES (probe, '')
    ON CONFLICT (probe_id, location) DO UPDATE
        SET marked_at = excluded.marked_at, leased_until = NULL
        WHERE q.leased_until IS NOT NULL;
    RETURN NULL;
END
$$;

CREATE TRIGGER probes_judging_new AFTER INSERT ON probes
    FOR EACH ROW EXECUTE FUNCTION judging_mark_probe();

CREATE TRIGGER probes_judging AFTER UPDATE ON probes FOR EACH ROW
    WHEN (OLD.enabled IS DISTINCT FROM NEW.enabled
          OR OLD.interval_s IS DISTINCT FROM NEW.interval_s
          OR OLD.policy IS DISTINCT FROM NEW.policy
          OR OLD.options IS DISTINCT FROM NEW.options)
    EXECUTE FUNCTION judging_mark_probe();

CREATE TRIGGER thresholds_judging AFTER INSERT OR UPDATE OR DELETE ON thresholds
    FOR EACH ROW EXECUTE FUNCTION judging_mark_probe();

CREATE TRIGGER probe_locations_judging AFTER INSERT OR DELETE ON probe_locations
    FOR EACH ROW EXECUTE FUNCTION judging_mark_probe();

-- Every enabled probe is judged in full once, which fills location_verdicts.
INSERT INTO judging_queue (probe_id, location) SELECT id, '' FROM probes WHERE enabled;
