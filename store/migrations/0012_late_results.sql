-- Late and clock-skewed results (issue 13, faults).
--
-- An agent cut off from the API keeps its results in its spool; meanwhile its leases
-- expire and go to another agent. Every agent a run was ever leased to may still deliver
-- its result (the first one wins): earlier_holders lists the agents it was leased to
-- before its current holder (leased_by), and first_leased_at when it was first leased,
-- where a late result's time window starts. Both are added without a default that needs
-- a table rewrite, and without backfilling: runs leased before this migration keep the
-- rule they were leased under (only leased_by counts, the window starts at leased_at).
ALTER TABLE runs
    ADD COLUMN earlier_holders uuid[] NOT NULL DEFAULT '{}',
    ADD COLUMN first_leased_at timestamptz;

-- When the API received each result, on the database's clock (NULL for results stored
-- before this migration): judging lag and late deliveries are measured from it.
ALTER TABLE call_results ADD COLUMN received_at timestamptz;
ALTER TABLE call_results ALTER COLUMN received_at SET DEFAULT now();
