-- Health evaluation reads the newest few results of each probe at each location:
-- one short index range per (probe, location) instead of every result of the
-- probe in the history span.
CREATE INDEX call_results_probe_location_started_idx
    ON call_results (probe_id, location, started_at DESC);
