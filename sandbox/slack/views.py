"""views.open / views.push / views.update / views.publish, trigger ids and modal stacks."""

from __future__ import annotations

import copy
import json
import secrets
import time
from dataclasses import dataclass
from typing import Any

from sandbox.slack.records import JSONDict, View
from sandbox.slack.state import StandInState, _ApiError, _is_user_id, _opt_str, _truthy

MAX_VIEW_BLOCKS = 100
MAX_MODAL_STACK = 3


@dataclass
class _Trigger:
    """An issued trigger_id."""

    user: str
    issued_at: float
    used: bool = False


class ViewsMixin(StandInState):
    """Modal stacks (at most MAX_MODAL_STACK deep) and App Home views."""

    @property
    def home_views(self) -> dict[str, View]:
        """User id -> published App Home view."""
        with self._lock:
            return {user: copy.deepcopy(self._views[vid]) for user, vid in self._homes.items()}

    def home_view(self, user: str) -> View | None:
        """The App Home view published for user, or None."""
        with self._lock:
            vid = self._homes.get(user)
            return copy.deepcopy(self._views[vid]) if vid else None

    @property
    def modal_stacks(self) -> dict[str, list[View]]:
        """User id -> open modal stack, root first."""
        with self._lock:
            return {u: [copy.deepcopy(self._views[v]) for v in ids] for u, ids in self._modals.items()}

    def modal_stack(self, user: str) -> list[View]:
        """The open modal stack for user, root first ([] when none)."""
        with self._lock:
            return [copy.deepcopy(self._views[v]) for v in self._modals.get(user, [])]

    def view(self, view_id: str) -> View | None:
        """A live view (modal or home) by id, or None."""
        with self._lock:
            found = self._views.get(view_id)
            return copy.deepcopy(found) if found else None

    def new_trigger_id(self, user: str) -> str:
        """Issue a single-use trigger_id for user (expires after trigger_ttl by the clock)."""
        with self._lock:
            trigger = f"{next(self._id_counter)}.{secrets.randbelow(10**10)}.{secrets.token_hex(6)}"
            self._triggers[trigger] = _Trigger(user=user, issued_at=self._clock())
            return trigger

    def pop_modal(self, user: str) -> View | None:
        """Close the top modal of user's stack (as the Back/Cancel button does); returns it."""
        with self._lock:
            stack = self._modals.get(user)
            if not stack:
                return None
            view = self._views.pop(stack.pop())
            if not stack:
                del self._modals[user]
            self._cond.notify_all()
            return view

    def clear_modals(self, user: str) -> list[View]:
        """Close user's whole modal stack; returns the closed views, root first."""
        with self._lock:
            closed = [self._views.pop(v) for v in self._modals.pop(user, [])]
            self._cond.notify_all()
            return closed

    def _check_view(self, raw: Any, expected_type: str) -> JSONDict:
        view = raw
        if isinstance(view, str):
            try:
                view = json.loads(view)
            except json.JSONDecodeError as exc:
                raise _ApiError("invalid_arguments", messages=["view is not valid JSON"]) from exc
        if not isinstance(view, dict):
            raise _ApiError("invalid_arguments", messages=["missing required field: view"])
        if view.get("type") != expected_type:
            raise _ApiError("invalid_arguments", messages=[f"view type must be {expected_type}"])
        if expected_type == "modal" and not isinstance(view.get("title"), dict):
            raise _ApiError("invalid_arguments", messages=["missing required field: title"])
        self._check_blocks(view.get("blocks") or [], MAX_VIEW_BLOCKS, "invalid_arguments")
        return copy.deepcopy(view)

    def _check_external_id(self, spec: JSONDict, *, exclude: str | None = None) -> None:
        external_id = spec.get("external_id")
        if not external_id:
            return
        for view in self._views.values():
            if view.external_id == external_id and view.id != exclude:
                raise _ApiError("duplicate_external_id")

    def _exchange_trigger(self, trigger_id: Any) -> str:
        key = _opt_str(trigger_id)
        if key is None:
            raise _ApiError("invalid_arguments", messages=["missing required field: trigger_id"])
        trigger = self._triggers.get(key)
        if trigger is None:
            raise _ApiError("invalid_arguments", messages=["invalid `trigger_id`"])
        if trigger.used:
            raise _ApiError("exchanged_trigger_id")
        if self._trigger_ttl is not None and self._clock() - trigger.issued_at > self._trigger_ttl:
            raise _ApiError("expired_trigger_id")
        trigger.used = True
        return trigger.user

    def _build_view(
        self,
        spec: JSONDict,
        *,
        user: str | None,
        view_id: str | None = None,
        root_view_id: str | None = None,
        previous_view_id: str | None = None,
    ) -> View:
        vid = view_id or self._next_id("V")
        payload: JSONDict = {
            "id": vid,
            "team_id": self.team_id,
            "type": spec["type"],
            "blocks": spec.get("blocks") or [],
            "private_metadata": spec.get("private_metadata") or "",
            "callback_id": spec.get("callback_id") or "",
            "external_id": spec.get("external_id") or "",
            "state": {"values": {}},
            "hash": f"{int(time.time())}.{secrets.token_hex(4)}",
            "clear_on_close": _truthy(spec.get("clear_on_close", False)),
            "notify_on_close": _truthy(spec.get("notify_on_close", False)),
            "root_view_id": root_view_id or vid,
            "previous_view_id": previous_view_id,
            "app_id": self.app_id,
            "app_installed_team_id": self.team_id,
            "bot_id": self.bot_id,
        }
        for key in ("title", "close", "submit"):
            if key in spec:
                payload[key] = spec[key]
        return View(id=vid, type=str(spec["type"]), user=user, payload=payload)

    def _views_open(self, p: JSONDict) -> JSONDict:
        spec = self._check_view(p.get("view"), "modal")
        self._check_external_id(spec)
        user = self._exchange_trigger(p.get("trigger_id"))
        for old in self._modals.pop(user, []):
            self._views.pop(old, None)
        view = self._build_view(spec, user=user)
        self._views[view.id] = view
        self._modals[user] = [view.id]
        return {"view": copy.deepcopy(view.payload)}

    def _views_push(self, p: JSONDict) -> JSONDict:
        spec = self._check_view(p.get("view"), "modal")
        self._check_external_id(spec)
        user = self._exchange_trigger(p.get("trigger_id"))
        stack = self._modals.get(user)
        if not stack:
            raise _ApiError("not_found", messages=["no open modal to push onto"])
        if len(stack) >= MAX_MODAL_STACK:
            raise _ApiError("push_limit_reached")
        view = self._build_view(spec, user=user, root_view_id=stack[0], previous_view_id=stack[-1])
        self._views[view.id] = view
        stack.append(view.id)
        return {"view": copy.deepcopy(view.payload)}

    def _views_update(self, p: JSONDict) -> JSONDict:
        view_id, external_id = _opt_str(p.get("view_id")), _opt_str(p.get("external_id"))
        if view_id is None and external_id is None:
            raise _ApiError("invalid_arguments", messages=["view_id or external_id is required"])
        if view_id is not None:
            target = self._views.get(view_id)
        else:
            target = next((v for v in self._views.values() if v.external_id == external_id), None)
        if target is None:
            raise _ApiError("not_found")
        spec = self._check_view(p.get("view"), target.type)
        wanted_hash = _opt_str(p.get("hash"))
        if wanted_hash is not None and wanted_hash != target.hash:
            raise _ApiError("hash_conflict")
        self._check_external_id(spec, exclude=target.id)
        updated = self._build_view(
            spec,
            user=target.user,
            view_id=target.id,
            root_view_id=target.payload.get("root_view_id"),
            previous_view_id=target.payload.get("previous_view_id"),
        )
        self._views[target.id] = updated
        return {"view": copy.deepcopy(updated.payload)}

    def _views_publish(self, p: JSONDict) -> JSONDict:
        user = _opt_str(p.get("user_id"))
        if user is None or not _is_user_id(user):
            raise _ApiError("invalid_arguments", messages=["user_id must be a user id"])
        spec = self._check_view(p.get("view"), "home")
        existing_id = self._homes.get(user)
        wanted_hash = _opt_str(p.get("hash"))
        if existing_id and wanted_hash is not None and wanted_hash != self._views[existing_id].hash:
            raise _ApiError("hash_conflict")
        self._check_external_id(spec, exclude=existing_id)
        view = self._build_view(spec, user=user, view_id=existing_id)
        self._views[view.id] = view
        self._homes[user] = view.id
        return {"view": copy.deepcopy(view.payload)}
