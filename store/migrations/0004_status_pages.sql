-- Public status pages: a project's customer-facing view of some of its probes.
-- Components name probes for customers; removing one never touches the probe.

CREATE TABLE status_pages (
    id              uuid        PRIMARY KEY DEFAULT gen_random_uuid(),
    project_id      uuid        NOT NULL REFERENCES projects (id) ON DELETE CASCADE,
    slug            text        NOT NULL UNIQUE CHECK (slug ~ '^[a-z0-9][a-z0-9-]{0,62}$'),
    name            text        NOT NULL CHECK (length(name) BETWEEN 1 AND 200),
    description     text        NOT NULL DEFAULT '',
    time_zone       text        NOT NULL DEFAULT 'UTC',
    bar_days        integer     NOT NULL DEFAULT 90 CHECK (bar_days BETWEEN 7 AND 90),
    degraded_is_up  boolean     NOT NULL DEFAULT false,
    primary_color   text        NOT NULL DEFAULT '#0b5cad' CHECK (primary_color ~ '^#[0-9a-f]{6}$'),
    frame_ancestors text[]      NOT NULL DEFAULT '{}',
    refresh_s       integer     NOT NULL DEFAULT 60 CHECK (refresh_s BETWEEN 5 AND 3600),
    custom_domain   text        UNIQUE,
    domain_token    text        NOT NULL,
    domain_verified_at timestamptz,
    created_at      timestamptz NOT NULL DEFAULT now(),
    updated_at      timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX status_pages_project_idx ON status_pages (project_id);

-- Branding images, validated (SVG sanitized) before they are stored.
CREATE TABLE status_page_images (
    page_id    uuid        NOT NULL REFERENCES status_pages (id) ON DELETE CASCADE,
    slot       text        NOT NULL CHECK (slot IN ('header_logo', 'footer_logo', 'background')),
    media_type text        NOT NULL,
    data       bytea       NOT NULL,
    sha256     text        NOT NULL,
    PRIMARY KEY (page_id, slot)
);

-- public_id names a component in public URLs and JSON without revealing the probe.
CREATE TABLE status_page_components (
    id          uuid    PRIMARY KEY DEFAULT gen_random_uuid(),
    page_id     uuid    NOT NULL REFERENCES status_pages (id) ON DELETE CASCADE,
    probe_id    uuid    NOT NULL REFERENCES probes (id) ON DELETE CASCADE,
    public_id   text    NOT NULL UNIQUE,
    position    integer NOT NULL,
    name        text    NOT NULL CHECK (length(name) BETWEEN 1 AND 200),
    description text    NOT NULL DEFAULT '',
    group_name  text    CHECK (length(group_name) BETWEEN 1 AND 200),
    UNIQUE (page_id, position)
);
CREATE INDEX status_page_components_probe_idx ON status_page_components (probe_id);

CREATE TABLE status_page_announcements (
    id         uuid        PRIMARY KEY DEFAULT gen_random_uuid(),
    page_id    uuid        NOT NULL REFERENCES status_pages (id) ON DELETE CASCADE,
    public_id  text        NOT NULL UNIQUE,
    title      text        NOT NULL CHECK (length(title) BETWEEN 1 AND 200),
    body       text        NOT NULL DEFAULT '' CHECK (length(body) <= 10000),
    starts_at  timestamptz NOT NULL DEFAULT now(),
    ends_at    timestamptz CHECK (ends_at > starts_at),
    created_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX status_page_announcements_page_idx ON status_page_announcements (page_id, starts_at);

-- A window planned for one page lives and dies with it. NOT VALID keeps windows
-- stored before pages existed (their page_id names no page, so they show nowhere).
ALTER TABLE maintenance_windows
    ADD CONSTRAINT maintenance_windows_page_fk
    FOREIGN KEY (page_id) REFERENCES status_pages (id) ON DELETE CASCADE NOT VALID;
