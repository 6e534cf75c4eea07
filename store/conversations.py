"""Teams conversation references: where Baton reaches each person on Teams (SQL only)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import sqlalchemy as sa

from store.models import TeamsConversationRow

T = TeamsConversationRow.__table__  # type: ignore[attr-defined]


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
