"""Teams conversation references: where Baton reaches each person on Teams (SQL only)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import sqlalchemy as sa

from store.models import TeamsConversationRow, TeamsPendingFileRow

T = TeamsConversationRow.__table__  # type: ignore[attr-defined]
F = TeamsPendingFileRow.__table__  # type: ignore[attr-defined]
FILE_DAYS = 1  # a file nobody accepted is dropped after this


@dataclass(frozen=True)
class ConversationRef:
    """A person's 1:1 conversation with Baton: its id, the service URL and tenant to send through."""

    person: str
    conversation_id: str
    service_url: str
    tenant_id: str
    user_id: str
    aad_object_id: str | None = None


def save(engine: sa.Engine, ref: ConversationRef, now: datetime) -> None:
    """Keep (or replace) a person's conversation reference."""
    values = {"conversation_id": ref.conversation_id, "service_url": ref.service_url,
              "tenant_id": ref.tenant_id, "user_id": ref.user_id, "aad_object_id": ref.aad_object_id,
              "updated_at": now}
    with engine.begin() as c:
        done = c.execute(sa.update(T).where(T.c.person == ref.person).values(**values)).rowcount
        if not done:
            try:
                with c.begin_nested():
                    c.execute(sa.insert(T).values(person=ref.person, **values))
            except sa.exc.IntegrityError:  # another instance saved it first: ours is as new
                c.execute(sa.update(T).where(T.c.person == ref.person).values(**values))


def _ref(row: sa.Row[tuple[object, ...]] | None) -> ConversationRef | None:
    if row is None:
        return None
    m = row._mapping
    return ConversationRef(person=m["person"], conversation_id=m["conversation_id"],
                           service_url=m["service_url"], tenant_id=m["tenant_id"], user_id=m["user_id"],
                           aad_object_id=m["aad_object_id"])


def of_person(engine: sa.Engine, person: str) -> ConversationRef | None:
    """A person's conversation reference, if Baton has one."""
    with engine.connect() as c:
        return _ref(c.execute(sa.select(T).where(T.c.person == person)).first())


def of_user(engine: sa.Engine, user_id: str) -> ConversationRef | None:
    """The reference kept for a Teams user id (to know who a Teams user is without a lookup)."""
    with engine.connect() as c:
        return _ref(c.execute(sa.select(T).where(T.c.user_id == user_id)).first())


def forget(engine: sa.Engine, person: str) -> None:
    """Drop a person's reference (they removed the app)."""
    with engine.begin() as c:
        c.execute(sa.delete(T).where(T.c.person == person))


@dataclass(frozen=True)
class PendingFile:
    """A file waiting for its reader's consent."""

    token: str
    person: str
    conversation_id: str
    filename: str
    content: str


def hold_file(engine: sa.Engine, f: PendingFile, now: datetime) -> None:
    """Keep a file until its reader accepts or declines it; files older than a day are dropped."""
    from datetime import timedelta

    with engine.begin() as c:
        c.execute(sa.delete(F).where(F.c.created_at < now - timedelta(days=FILE_DAYS)))
        c.execute(sa.insert(F).values(token=f.token, person=f.person, conversation_id=f.conversation_id,
                                      filename=f.filename, content=f.content, created_at=now))


def held_file(engine: sa.Engine, token: str, person: str) -> PendingFile | None:
    """The file waiting under ``token`` for ``person`` (None: no such file for them). It stays
    until :func:`drop_file`: an export leaves the database only once its upload succeeded."""
    with engine.connect() as c:
        row = c.execute(sa.select(F).where(F.c.token == token, F.c.person == person)).first()
    if row is None:
        return None
    m = row._mapping
    return PendingFile(m["token"], m["person"], m["conversation_id"], m["filename"], m["content"])


def drop_file(engine: sa.Engine, token: str) -> bool:
    """Remove a held file (uploaded, or declined); False when another request removed it first."""
    with engine.begin() as c:
        return bool(c.execute(sa.delete(F).where(F.c.token == token)).rowcount)


# ---- the app removed from a team or the whole tenant -------------------------------------------
REMOVED, ADDED = "teams_removed", "teams_added"  # install_event kinds (Slack's are its own)


def scope_key(place: str) -> str:
    """The install_event key of a Teams tenant, team or channel id (a digest: ids run long)."""
    import hashlib

    return "t:" + hashlib.sha256(place.encode()).hexdigest()[:30]


def record_scope(engine: sa.Engine, kind: str, places: list[str], now: datetime) -> None:
    """Record that the app was removed from (or added back to) each of ``places``."""
    from datetime import UTC

    from store.models import InstallEventRow

    E = InstallEventRow.__table__  # type: ignore[attr-defined]
    at = now.astimezone(UTC).replace(tzinfo=None)
    with engine.begin() as c:
        for place in dict.fromkeys(p for p in places if p):
            c.execute(sa.insert(E).values(kind=kind, team_id=scope_key(place), at=at))


def removed_from(engine: sa.Engine, places: list[str]) -> bool:
    """Whether the app's latest Teams install event for any of ``places`` is a removal."""
    from store.models import InstallEventRow

    E = InstallEventRow.__table__  # type: ignore[attr-defined]
    keys = [scope_key(p) for p in places if p]
    if not keys:
        return False
    latest = sa.select(E.c.team_id, sa.func.max(E.c.id).label("last")).where(
        E.c.team_id.in_(keys), E.c.kind.in_((REMOVED, ADDED))).group_by(E.c.team_id).subquery()
    with engine.connect() as c:
        kinds = c.execute(sa.select(E.c.kind).join(latest, E.c.id == latest.c.last)).scalars().all()
    return REMOVED in kinds


# ---- where Teams reaches each place ------------------------------------------------------------
def _places() -> sa.Table:
    from store.models import TeamsServiceUrlRow

    table: sa.Table = TeamsServiceUrlRow.__table__  # type: ignore[attr-defined]
    return table


def keep_service_urls(engine: sa.Engine, places: dict[str, str], now: datetime) -> None:
    """Keep the serviceUrl Teams gave for each place (a tenant, team or channel id)."""
    S = _places()
    with engine.begin() as c:
        for place, url in places.items():
            if not place:
                continue
            done = c.execute(sa.update(S).where(S.c.place == place[:255])
                             .values(service_url=url, updated_at=now)).rowcount
            if not done:
                try:
                    with c.begin_nested():
                        c.execute(sa.insert(S).values(place=place[:255], service_url=url, updated_at=now))
                except sa.exc.IntegrityError:  # another instance kept it first
                    c.execute(sa.update(S).where(S.c.place == place[:255])
                              .values(service_url=url, updated_at=now))


def service_url_of(engine: sa.Engine, *places: str) -> str | None:
    """The serviceUrl kept for the first of ``places`` Teams has given one for."""
    S = _places()
    wanted = [p[:255] for p in places if p]
    if not wanted:
        return None
    with engine.connect() as c:
        found = dict(c.execute(sa.select(S.c.place, S.c.service_url).where(S.c.place.in_(wanted))).all())
    return next((str(found[p]) for p in wanted if p in found), None)


def moved(engine: sa.Engine, user_id: str, service_url: str) -> None:
    """A person's activities now come through ``service_url``: send their chat there too."""
    with engine.begin() as c:
        c.execute(sa.update(T).where(T.c.user_id == user_id, T.c.service_url != service_url)
                  .values(service_url=service_url))


def learn_user_id(engine: sa.Engine, person: str, user_id: str) -> None:
    """Fill in a person's Teams user id (29:...) where Baton opened the chat itself."""
    with engine.begin() as c:
        c.execute(sa.update(T).where(T.c.person == person, T.c.user_id == "").values(user_id=user_id))
