-- Operator console (issue 12): accounts, their roles per project, server-side sessions,
-- invitations, incident acknowledgements and notes, and the audit log.

-- email is stored lower-cased: one account per address. The first account made is the
-- instance's administrator (it may create projects, as the admin token may).
CREATE TABLE users (
    id              uuid        PRIMARY KEY DEFAULT gen_random_uuid(),
    email           text        NOT NULL UNIQUE CHECK (email = lower(email)
                                                       AND length(email) BETWEEN 3 AND 254),
    password_hash   text        NOT NULL,
    is_admin        boolean     NOT NULL DEFAULT false,
    failed_logins   integer     NOT NULL DEFAULT 0,
    locked_until    timestamptz,
    created_at      timestamptz NOT NULL DEFAULT now(),
    password_set_at timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE memberships (
    user_id    uuid        NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    project_id uuid        NOT NULL REFERENCES projects (id) ON DELETE CASCADE,
    role       text        NOT NULL CHECK (role IN ('owner', 'editor', 'viewer')),
    created_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (user_id, project_id)
);
CREATE INDEX memberships_project_idx ON memberships (project_id);

-- Only a SHA-256 of the session cookie is kept. A session ends at expires_at (absolute)
-- or after the idle limit since last_seen_at, whichever comes first.
CREATE TABLE sessions (
    token_hash   bytea       PRIMARY KEY,
    user_id      uuid        NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    csrf_token   text        NOT NULL,
    created_at   timestamptz NOT NULL DEFAULT now(),
    last_seen_at timestamptz NOT NULL DEFAULT now(),
    expires_at   timestamptz NOT NULL
);
CREATE INDEX sessions_user_idx ON sessions (user_id);

-- A one-time link that makes its bearer a member (with a new or an existing account).
CREATE TABLE invitations (
    token_hash bytea       PRIMARY KEY,
    project_id uuid        NOT NULL REFERENCES projects (id) ON DELETE CASCADE,
    role       text        NOT NULL CHECK (role IN ('owner', 'editor', 'viewer')),
    email      text        NOT NULL CHECK (email = lower(email)),
    invited_by uuid        REFERENCES users (id) ON DELETE SET NULL,
    created_at timestamptz NOT NULL DEFAULT now(),
    expires_at timestamptz NOT NULL,
    used_at    timestamptz
);
CREATE INDEX invitations_project_idx ON invitations (project_id);

ALTER TABLE incidents ADD COLUMN acknowledged_at timestamptz;
ALTER TABLE incidents ADD COLUMN acknowledged_by text;

CREATE TABLE incident_notes (
    id          uuid        PRIMARY KEY DEFAULT gen_random_uuid(),
    incident_id uuid        NOT NULL REFERENCES incidents (id) ON DELETE CASCADE,
    author      text        NOT NULL,
    body        text        NOT NULL CHECK (length(body) BETWEEN 1 AND 10000),
    created_at  timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX incident_notes_incident_idx ON incident_notes (incident_id, created_at);

-- Every change made through the console or the API: who (a user or an API key, by
-- name, kept when they are gone), what, when, and the settings before and after.
CREATE TABLE audit_log (
    id          bigint      GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    project_id  uuid        REFERENCES projects (id) ON DELETE CASCADE,
    at          timestamptz NOT NULL DEFAULT now(),
    actor       text        NOT NULL,
    via         text        NOT NULL CHECK (via IN ('console', 'api', 'cli')),
    action      text        NOT NULL,
    target_type text        NOT NULL,
    target_id   text,
    before      jsonb,
    after       jsonb
);
CREATE INDEX audit_log_project_idx ON audit_log (project_id, id DESC);
