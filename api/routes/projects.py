"""Projects: created by the admin with a first write key; a key reads its own project."""

from __future__ import annotations

from dataclasses import asdict

from fastapi import APIRouter, Depends

from api.schemas.keys import KeyCreated
from api.schemas.projects import ProjectCreate, ProjectCreated, ProjectOut, ProjectUpdate
from api.security.auth import Principal, Reader, Writer, issue_api_key, require_admin
from api.services import audit
from api.services.snapshots import settings
from api.state import State
from store import keys, projects
from store.pool import AsyncConn

router = APIRouter(prefix="/v1", tags=["projects"])


async def create_project_with_key(
    conn: AsyncConn, name: str
) -> tuple[projects.Project, keys.ApiKey, str]:
    """A new project and its first write key (with the key's plaintext token)."""
    project = await projects.create_project(conn, name)
    key, token = await issue_api_key(conn, project.id, "initial", "write")
    return project, key, token


@router.post(
    "/projects", status_code=201, response_model=ProjectCreated,
    dependencies=[Depends(require_admin)],
)  # fmt: skip
async def create_project(body: ProjectCreate, st: State) -> ProjectCreated:
    """Create a project (admin token); its first write key is shown once."""
    async with st.transaction() as conn:
        project, key, token = await create_project_with_key(conn, body.name)
        admin = Principal(project_id=project.id, scope="write", actor="admin token")
        await audit.record(conn, admin, "create", "project", project.id, after=settings(project))
        await audit.record(conn, admin, "create", "api_key", key.id, after=settings(key))
    return ProjectCreated(
        project=ProjectOut.model_validate(asdict(project)),
        key=KeyCreated.model_validate({**asdict(key), "token": token}),
    )


@router.get("/project", response_model=ProjectOut)
async def get_project(principal: Reader, st: State) -> projects.Project:
    """The project the calling key belongs to."""
    async with st.transaction() as conn:
        return await projects.get_project(conn, principal.project_id)


@router.patch("/project", response_model=ProjectOut)
async def update_project(body: ProjectUpdate, principal: Writer, st: State) -> projects.Project:
    """Change the calling key's project's retention (days; fields left out stay)."""
    async with st.transaction() as conn:
        before = await projects.get_project(conn, principal.project_id)
        project = await projects.set_retention(
            conn,
            principal.project_id,
            raw_days=body.raw_retention_days,
            rollup_days=body.rollup_retention_days,
        )
        await audit.record(
            conn, principal, "update", "project", project.id,
            before=settings(before), after=settings(project),
        )  # fmt: skip
    return project
