"""files.getUploadURLExternal / files.completeUploadExternal, the upload URLs and file downloads."""

from __future__ import annotations

import mimetypes
import time
from dataclasses import replace

from sandbox.slack.http import HttpServerMixin, _Reply
from sandbox.slack.records import JSONDict, Message, UploadedFile
from sandbox.slack.state import _ApiError, _opt_str

UPLOAD_URL = "upload_url"
"""Pseudo-method naming POSTs to a file upload URL (in ``calls``, ``fail_next``, ``hang_next``)."""


class FilesMixin(HttpServerMixin):
    """Two-step external file uploads and the bytes they leave behind."""

    @property
    def files(self) -> dict[str, UploadedFile]:
        """Files by id (announced, uploaded or completed)."""
        with self._lock:
            return dict(self._files)

    def _file_json(self, f: UploadedFile) -> JSONDict:
        return {
            "id": f.id,
            "name": f.filename,
            "title": f.title or f.filename,
            "mimetype": mimetypes.guess_type(f.filename)[0] or "application/octet-stream",
            "filetype": f.filename.rsplit(".", 1)[-1] if "." in f.filename else "binary",
            "size": len(f.content) if f.content is not None else f.length,
            "user": self.bot_user_id,
            "channels": list(f.channels),
            "url_private": f"{self.base_url}files/{f.id}",
            "permalink": f"{self.base_url}files/{f.id}",
        }

    def _files_get_upload_url(self, p: JSONDict) -> JSONDict:
        filename = _opt_str(p.get("filename"))
        try:
            length = int(str(p.get("length")))
        except (TypeError, ValueError) as exc:
            raise _ApiError("invalid_arguments", messages=["length must be an integer"]) from exc
        if filename is None or length < 0:
            raise _ApiError("invalid_arguments", messages=["filename and length are required"])
        file_id = self._next_id("F")
        self._files[file_id] = UploadedFile(
            id=file_id,
            filename=filename,
            length=length,
            alt_txt=_opt_str(p.get("alt_txt")),
            snippet_type=_opt_str(p.get("snippet_type")),
        )
        return {"upload_url": f"{self.base_url}upload/{file_id}", "file_id": file_id}

    def _files_complete_upload(self, p: JSONDict) -> JSONDict:
        items = p.get("files")
        if not isinstance(items, list) or not items:
            raise _ApiError("invalid_arguments", messages=["files must be a non-empty list"])
        chosen: list[UploadedFile] = []
        for item in items:
            stored = self._files.get(str(item.get("id"))) if isinstance(item, dict) else None
            if stored is None or stored.content is None:
                raise _ApiError("file_not_found")
            title = _opt_str(item.get("title")) or stored.title or stored.filename
            chosen.append(replace(stored, title=title))
        raw_channels: list[str] = []
        if _opt_str(p.get("channel_id")):
            raw_channels.append(str(p["channel_id"]))
        raw_channels += [c.strip() for c in str(p.get("channels") or "").split(",") if c.strip()]
        channels = tuple(dict.fromkeys(self._resolve_channel(c) for c in raw_channels))
        thread_ts = _opt_str(p.get("thread_ts"))
        comment = str(p.get("initial_comment") or "")
        done = [replace(f, channels=channels, completed=True) for f in chosen]
        for f in done:
            self._files[f.id] = f
        for channel in channels:
            msg = Message(
                channel=channel,
                ts=self._next_ts(),
                user=self.bot_user_id,
                text=comment,
                thread_ts=thread_ts,
                files=tuple(f.id for f in done),
                bot_id=self.bot_id,
                source="files.completeUploadExternal",
            )
            self._conversations.setdefault(channel, []).append(msg)
        return {"files": [self._file_json(f) for f in done]}

    def _handle_upload(self, file_id: str, body: bytes) -> _Reply | None:
        at = time.time()
        if not self._hang_if_asked(UPLOAD_URL, set()):
            return None
        with self._lock:
            params: JSONDict = {"file_id": file_id, "length": len(body)}
            try:
                self._apply_fail_rule(UPLOAD_URL, set())
                stored = self._files.get(file_id)
                if stored is None or stored.completed:
                    raise _ApiError("file_not_found", http_status=404)
                self._files[file_id] = replace(stored, content=bytes(body))
            except _ApiError as exc:
                self._record(UPLOAD_URL, params, at, None, exc.http_status, exc.body())
                return _Reply.json(exc.body(), exc.http_status, exc.headers)
            self._record(UPLOAD_URL, params, at, None, 200, {"ok": True})
        return _Reply(200, f"OK - {len(body)}".encode(), "text/plain; charset=utf-8")

    def _handle_file_download(self, file_id: str) -> _Reply:
        with self._lock:
            stored = self._files.get(file_id)
        if stored is None or stored.content is None:
            return _Reply(404, b"file_not_found", "text/plain; charset=utf-8")
        mimetype = mimetypes.guess_type(stored.filename)[0] or "application/octet-stream"
        return _Reply(200, stored.content, mimetype)
