"""``callprobe db migrate``: bring the database's schema forward to this code's, as a
one-off job before new API replicas start (with ``CALLPROBE_MIGRATE_ON_START=false``)
or by hand. A schema newer than this code is refused, never touched."""

from __future__ import annotations

from api.cli.terminal import console
from api.settings import get_settings
from store import cluster
from store.migrate import available, migrate_database


def migrate() -> None:
    """Apply pending migrations to CALLPROBE_DATABASE_URL (else the embedded cluster)."""
    settings = get_settings()
    url = settings.database_url or cluster.start(settings.pg_root, settings.db_port)
    applied = set(migrate_database(url))
    shipped = available()
    for migration in shipped:
        if migration.version in applied:
            console.print(f"applied {migration.version:04d}_{migration.name}")
    newest = shipped[-1].version if shipped else 0
    verdict = "migrated to" if applied else "already at"
    console.print(f"schema {verdict} {newest:04d}")
