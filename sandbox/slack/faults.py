"""Fault injection: fail_next / hang_next rules and how requests take them."""

from __future__ import annotations

import threading
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from sandbox.slack.state import StandInState, _ApiError, _is_user_id, _opt_str


@dataclass
class _FailRule:
    """A pending fail_next rule."""

    method: str
    status: int
    error: str | None
    retry_after: int
    remaining: int
    channel: str | None


@dataclass
class _HangRule:
    """A pending hang_next rule."""

    method: str
    seconds: float | None
    remaining: int
    channel: str | None


class FaultsMixin(StandInState):
    """Make chosen calls fail or hang, optionally only for one channel."""

    def fail_next(
        self,
        method: str,
        *,
        status: int = 429,
        error: str | None = None,
        retry_after: int = 1,
        times: int = 1,
        channel: str | None = None,
    ) -> None:
        """Make the next `times` calls to method fail.

        status 429 answers HTTP 429 with Retry-After; 200 answers ``{"ok": false, "error":
        error}``; any other status answers that HTTP status.  With ``channel`` only calls
        naming that channel (or, for a user id, that user's DM) are failed.
        """
        if not 200 <= status <= 599:
            raise ValueError(f"unsupported HTTP status {status}")
        if times < 1 or retry_after < 0:
            raise ValueError("times must be >= 1 and retry_after >= 0")
        with self._lock:
            self._fail_rules.append(_FailRule(method, status, error, int(retry_after), times, channel))

    def hang_next(
        self,
        method: str,
        *,
        seconds: float | None = None,
        times: int = 1,
        channel: str | None = None,
    ) -> None:
        """Hold the next `times` calls to method for `seconds` (None: until release_hung/stop).

        A held call is then answered normally, so a client that timed out meanwhile may
        still have had its effect -- as with the real Slack.
        """
        if times < 1:
            raise ValueError("times must be >= 1")
        with self._lock:
            self._hang_rules.append(_HangRule(method, seconds, times, channel))

    def release_hung(self) -> None:
        """Let every currently held call proceed."""
        with self._lock:
            self._release.set()
            self._release = threading.Event()

    def _channel_keys(self, params: Mapping[str, Any]) -> set[str]:
        raw = _opt_str(params.get("channel") or params.get("channel_id"))
        if raw is None:
            return set()
        keys = {raw}
        if _is_user_id(raw):
            keys.add(self.dm_channel_for(raw))
        return keys

    def _take_rule(self, rules: list[Any], method: str, keys: set[str]) -> Any:
        for rule in rules:
            if rule.method == method and (rule.channel is None or rule.channel in keys):
                rule.remaining -= 1
                if rule.remaining <= 0:
                    rules.remove(rule)
                return rule
        return None

    def _hang_if_asked(self, method: str, keys: set[str]) -> bool:
        """Hold the request if a hang rule matches; False when the server stopped meanwhile."""
        with self._lock:
            rule: _HangRule | None = self._take_rule(self._hang_rules, method, keys)
            if rule is None:
                return True
            release = self._release
            self._hung += 1
            self._cond.notify_all()
        try:
            release.wait(rule.seconds)
        finally:
            with self._lock:
                self._hung -= 1
                self._cond.notify_all()
        return not self._stopping.is_set()

    def _apply_fail_rule(self, method: str, keys: set[str]) -> None:
        rule: _FailRule | None = self._take_rule(self._fail_rules, method, keys)
        if rule is None:
            return
        if rule.status == 429:
            raise _ApiError(
                rule.error or "ratelimited",
                http_status=429,
                headers={"Retry-After": str(rule.retry_after)},
            )
        if rule.status == 200:
            raise _ApiError(rule.error or "fatal_error")
        raise _ApiError(rule.error or "internal_error", http_status=rule.status)
