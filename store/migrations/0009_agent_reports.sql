-- What an agent says of itself when it leases (issue 12): its software version and how
-- many results wait in its spool, for the console's fleet view; and an index to count
-- the runs each agent completed lately (its runs per minute).
ALTER TABLE agents ADD COLUMN version text CHECK (length(version) <= 64);
ALTER TABLE agents ADD COLUMN spool_backlog integer CHECK (spool_backlog >= 0);

CREATE INDEX runs_agent_idx ON runs (leased_by, leased_at) WHERE leased_by IS NOT NULL;
