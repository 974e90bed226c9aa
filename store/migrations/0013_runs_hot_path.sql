-- The runs row is written twice per result (leased, completed), the hottest write of
-- the platform (issue 13, scale). Its four foreign keys checked each lease against
-- projects, probes, locations and agents (13.6 of 49 ms for 500 runs, measured) and
-- took key-share locks on the same few hot rows from every concurrent lease. Runs are
-- only ever inserted by the lease, from the schedules and probes it has just locked
-- and joined, so the checks never refused anything; what the keys did on delete is kept
-- by the triggers below (deletes are rare: a probe, a location, an agent, a project,
-- whose probes and locations cascade to these triggers).
ALTER TABLE runs
    DROP CONSTRAINT runs_project_id_fkey,
    DROP CONSTRAINT runs_probe_id_fkey,
    DROP CONSTRAINT runs_location_id_fkey,
    DROP CONSTRAINT runs_leased_by_fkey;

-- The unique key (probe_id, location_id, target, due_at) already finds a probe's runs.
DROP INDEX runs_probe_idx;

CREATE FUNCTION runs_forget_probes() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    DELETE FROM runs WHERE probe_id IN (SELECT id FROM gone);
    RETURN NULL;
END $$;

CREATE TRIGGER probes_forget_runs AFTER DELETE ON probes
    REFERENCING OLD TABLE AS gone FOR EACH STATEMENT EXECUTE FUNCTION runs_forget_probes();

CREATE FUNCTION runs_forget_locations() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    DELETE FROM runs WHERE location_id IN (SELECT id FROM gone);
    RETURN NULL;
END $$;

CREATE TRIGGER locations_forget_runs AFTER DELETE ON locations
    REFERENCING OLD TABLE AS gone FOR EACH STATEMENT EXECUTE FUNCTION runs_forget_locations();

CREATE FUNCTION runs_forget_agents() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    UPDATE runs SET leased_by = NULL WHERE leased_by IN (SELECT id FROM gone);
    RETURN NULL;
END $$;

CREATE TRIGGER agents_forget_runs AFTER DELETE ON agents
    REFERENCING OLD TABLE AS gone FOR EACH STATEMENT EXECUTE FUNCTION runs_forget_agents();
