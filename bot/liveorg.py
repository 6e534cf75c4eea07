"""The org a running Baton uses, swapped whole when its file changes (on SIGHUP, or when a cheap
poll of the file's mtime, size and inode sees a change). A file that does not load is refused with
the messages ``baton org check`` gives and the last good org keeps running."""

from __future__ import annotations

import logging
import os
import threading
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from bot.org import Org, load_org
from bot.policy import PolicyError

log = logging.getLogger("baton.org")
Signature = tuple[int, int, int] | None  # mtime_ns, size, inode; None when the file is unreadable


@dataclass(frozen=True)
class Reloaded:
    """What one reload did: a new org is in use, or why the file was refused (the old one runs)."""

    changed: bool
    problem: str | None = None


def signature(path: Path, stat: Callable[[Path], os.stat_result] = os.stat) -> Signature:
    """The file's mtime, size and inode (None when it cannot be read): cheap to take every poll."""
    try:
        st = stat(path)  # follows symlinks: a Kubernetes ConfigMap swaps a link, not the file
    except OSError:
        return None
    return (st.st_mtime_ns, st.st_size, st.st_ino)


class LiveOrg:
    """Holds the current :class:`Org`; readers take ``current`` (one reference, swapped in one
    assignment, so a reader sees the old org or the new one, never a mixture)."""

    def __init__(self, org: Org, path: Path | None = None, *, region: str | None = None,
                 stat: Callable[[Path], os.stat_result] = os.stat,
                 seen: Signature | None = None) -> None:
        """``path`` is the org file ``org`` came from (None: nothing to reload); ``seen`` the
        file's signature when it was read (default: now)."""
        self._org = org
        self._path = path
        self._region = region
        self._stat = stat
        self._lock = threading.Lock()
        self._seen = seen if seen is not None or path is None else signature(path, stat)
        self._wanted = threading.Event()
        self.generation = 0  # goes up by one at each swap (caches key on it)
        self.listeners: list[Callable[[Reloaded], None]] = []  # told after each reload

    @property
    def current(self) -> Org:
        """The org in use now."""
        return self._org

    @property
    def seen(self) -> Signature:
        """The signature of the file as last read (good or refused)."""
        return self._seen

    def reload(self) -> Reloaded:
        """Read the file again: swap it in if it loads, else keep the current org and say why."""
        result = self._reload()
        for listener in self.listeners:
            listener(result)
        return result

    def _reload(self) -> Reloaded:
        if self._path is None:
            return Reloaded(False)
        with self._lock:
            self._seen = signature(self._path, self._stat)
            try:
                org = load_org(self._path)
            except PolicyError as exc:
                problem = str(exc)
                log.warning("org_file_refused", extra={"problem": problem, "kept": "the last good org"})
                return Reloaded(False, problem)
            if self._region:
                org = org.model_copy(update={"region": self._region.upper()})
            if org == self._org:
                return Reloaded(False)
            self._org = org
            self.generation += 1
        log.info("org_file_reloaded", extra={"teams": len(org.teams), "generation": self.generation})
        for warning in org.problems():
            log.warning("org_file_warning", extra={"problem": warning})
        return Reloaded(True)

    def check(self) -> Reloaded | None:
        """Reload if the file changed since it was last read; None when it did not."""
        if self._path is None or signature(self._path, self._stat) == self._seen:
            return None
        return self.reload()

    def request(self) -> None:
        """Ask the watcher to reload now (safe from a signal handler: it only sets a flag)."""
        self._wanted.set()

    def watch(self, seconds: float, stop: threading.Event) -> threading.Thread:
        """A daemon thread that checks the file every ``seconds`` (0: only when asked) and
        reloads at once when :meth:`request` is called, until ``stop`` is set."""
        def loop() -> None:
            try:
                self.check()  # the file may have changed since it was read (or a SIGHUP was missed)
            except Exception:
                log.exception("org_file_reload_failed")
            while not stop.is_set():
                asked = self._wanted.wait(seconds or None)
                if stop.is_set():
                    return
                self._wanted.clear()
                try:
                    self.reload() if asked else self.check()
                except Exception:  # never let a reload kill the watcher
                    log.exception("org_file_reload_failed")

        thread = threading.Thread(target=loop, name="baton-org-watch", daemon=True)
        thread.start()
        return thread


def current(org: Org | LiveOrg) -> Org:
    """The org in use now, whether given fixed or live."""
    return org.current if isinstance(org, LiveOrg) else org


def on_sighup(live: LiveOrg) -> None:
    """Reload the org file on SIGHUP (main thread only; the reload runs in the watcher)."""
    import signal

    signal.signal(signal.SIGHUP, lambda _sig, _frame: live.request())
