-- Tenant hardening (issue 9): custom domains and slugs cannot be squatted.

-- A custom domain is unique among verified pages only: an unverified claim never
-- blocks the domain's real owner, and the page that proves it by DNS wins it.
ALTER TABLE status_pages DROP CONSTRAINT status_pages_custom_domain_key;
CREATE UNIQUE INDEX status_pages_verified_domain_key ON status_pages (custom_domain)
    WHERE domain_verified_at IS NOT NULL;
CREATE INDEX status_pages_custom_domain_idx ON status_pages (custom_domain);

-- The slug of a deleted or renamed page stays its project's until reserved_until,
-- so no other project can take over the embeds, badges and feeds published under it.
CREATE TABLE slug_reservations (
    slug           text        PRIMARY KEY,
    project_id     uuid        NOT NULL REFERENCES projects (id) ON DELETE CASCADE,
    reserved_until timestamptz NOT NULL
);
