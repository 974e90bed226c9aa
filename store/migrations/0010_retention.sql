-- Retention per project (issue 13): raw results are kept raw_retention_days, the hourly
-- rollups (what the status page's 90-day bars and SLA read) rollup_retention_days, at
-- least 90 so no bar ever loses its data. store/retention.py applies them.
ALTER TABLE projects
    ADD COLUMN raw_retention_days integer NOT NULL DEFAULT 30
        CHECK (raw_retention_days BETWEEN 1 AND 3650),
    ADD COLUMN rollup_retention_days integer NOT NULL DEFAULT 400
        CHECK (rollup_retention_days BETWEEN 90 AND 3650);

-- The pass deletes a project's old rows by time: these keep it from scanning the rest.
CREATE INDEX call_results_project_started_at_idx
    ON call_results (project_id, started_at) WHERE project_id IS NOT NULL;
CREATE INDEX runs_project_due_idx ON runs (project_id, due_at);
CREATE INDEX result_rollup_hourly_bucket_idx ON result_rollup_hourly (bucket);
CREATE INDEX health_rollup_hourly_bucket_idx ON health_rollup_hourly (bucket);
CREATE INDEX notify_deliveries_done_idx ON notify_deliveries (project_id, created_at)
    WHERE state IN ('delivered', 'dead');
