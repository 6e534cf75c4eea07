"""Baton's settings and org file checked against a live Slack workspace through the Web API
(``baton doctor``), and work e-mails resolved to Slack user ids (``baton org build``)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from bot.doctor import Finding
from bot.org import Org
from bot.orgbuild import NotResolved

REQUIRED_SCOPES: tuple[str, ...] = ("commands", "chat:write", "im:write", "users:read", "files:write")
"""The bot scopes Baton needs: manifest.yml's list (tests/unit/test_manifest.py keeps them equal)."""

CHANNEL_SCOPES = ("channels:read", "groups:read")  # optional: only the doctor's channel check needs them

REINSTALL = ("reinstall the app (api.slack.com/apps > your app > OAuth & Permissions > Reinstall) "
             "and put the new Bot User OAuth Token (xoxb-...) in SLACK_BOT_TOKEN")


class TokenRefused(Exception):
    """Slack refused the token itself (or did not answer): no per-person check can run."""

    def __init__(self, finding: Finding) -> None:
        super().__init__(finding.problem)
        self.finding = finding


@dataclass
class WorkspaceCheck:
    """What ``check_workspace`` found, with the people and channels that failed their check."""

    findings: list[Finding] = field(default_factory=list)
    bad_users: set[str] = field(default_factory=set)
    bad_channels: set[str] = field(default_factory=set)


def _error(exc: SlackApiError) -> str:
    return str(exc.response.get("error") or "unknown_error")


def _token_finding(code: str, api_url: str) -> Finding:
    if code in ("invalid_auth", "not_authed"):
        return Finding("token", "SLACK_BOT_TOKEN", f"Slack does not accept this token ({code})",
                       "copy the Bot User OAuth Token (xoxb-...) from api.slack.com/apps > your app > "
                       "OAuth & Permissions into SLACK_BOT_TOKEN")
    if code in ("token_revoked", "account_inactive", "token_expired", "app_uninstalled"):
        return Finding("token", "SLACK_BOT_TOKEN",
                       f"the token no longer works ({code}): the app was uninstalled or the token revoked",
                       REINSTALL)
    if code == "unreachable":
        return Finding("token", "SLACK_API_URL", f"Slack's Web API did not answer at {api_url}",
                       "check SLACK_API_URL (default https://slack.com/api/) and this host's "
                       "network or proxy")
    return Finding("token", "SLACK_BOT_TOKEN", f"Slack refused auth.test ({code})",
                   "check SLACK_BOT_TOKEN; " + REINSTALL)


def check_token(client: WebClient) -> list[Finding]:
    """auth.test: the token works, is a bot token, and carries every scope Baton needs (Slack
    returns the granted ones in the X-OAuth-Scopes header). TokenRefused if it does not work."""
    try:
        resp = client.auth_test()
    except SlackApiError as exc:
        raise TokenRefused(_token_finding(_error(exc), client.base_url)) from None
    except OSError:
        raise TokenRefused(_token_finding("unreachable", client.base_url)) from None
    if not resp.get("bot_id"):
        raise TokenRefused(Finding(
            "token", "SLACK_BOT_TOKEN", "this is not a bot token (auth.test names no bot)",
            "use the Bot User OAuth Token (xoxb-...), not a user (xoxp-) or app-level (xapp-) token"))
    headers = {str(k).lower(): str(v) for k, v in (resp.headers or {}).items()}
    granted = {s.strip() for s in headers.get("x-oauth-scopes", "").split(",") if s.strip()}
    return [
        Finding("scopes", scope, "the token lacks this scope, which Baton needs",
                f"add {scope} under OAuth & Permissions > Bot Token Scopes (manifest.yml lists them all), "
                "then " + REINSTALL)
        for scope in REQUIRED_SCOPES if scope not in granted
    ]


def _about(who: str, where: list[str]) -> str:
    return f"{who} ({', '.join(where)})"


def check_people(client: WebClient, people: dict[str, list[str]], out: WorkspaceCheck) -> None:
    """users.info for each person: they exist in this workspace, are active, a full member, not a bot."""
    for user, where in people.items():
        subject = _about(user, where)
        try:
            info: dict[str, Any] = client.users_info(user=user)["user"]
        except SlackApiError as exc:
            code = _error(exc)
            out.bad_users.add(user)
            if code in ("user_not_found", "users_not_found"):
                out.findings.append(Finding(
                    "person", subject, "no such user in this workspace",
                    "check the id in the org file (their Slack profile > ... > Copy member ID)"))
            else:
                out.findings.append(Finding("person", subject, f"Slack did not answer users.info ({code})",
                                            "run baton doctor again; if it persists, check the token"))
            continue
        problem = None
        if info.get("deleted"):
            problem = "the account is deactivated"
        elif info.get("is_bot"):
            problem = "this is a bot, not a person"
        elif info.get("is_restricted") or info.get("is_ultra_restricted"):
            problem = "this is a guest account; guests cannot be given cases"
        if problem:
            out.bad_users.add(user)
            out.findings.append(Finding("person", subject, problem,
                                        "replace the id in the org file with a full member's "
                                        "(or reactivate the account)"))


def check_channels(client: WebClient, channels: dict[str, list[str]], out: WorkspaceCheck) -> None:
    """conversations.info for each channel: it exists, is not archived, and Baton is in it."""
    for channel, where in channels.items():
        subject = _about(channel, where)
        try:
            info: dict[str, Any] = client.conversations_info(channel=channel)["channel"]
        except SlackApiError as exc:
            code = _error(exc)
            if code == "missing_scope":
                out.findings.append(Finding(
                    "channel", f"{len(channels)} channels", "not checked: the token cannot look at channels "
                    f"(it lacks {exc.response.get('needed') or 'channels:read'})",
                    "add channels:read and groups:read to the app (optional: only this check uses "
                    "them) and reinstall, or check by hand that Baton is in each", blocking=False))
                return
            out.bad_channels.add(channel)
            if code == "channel_not_found":
                out.findings.append(Finding(
                    "channel", subject, "no such channel, or a private channel Baton is not in",
                    "check the id in the org file (channel details, at the bottom); in a private "
                    "channel type /invite @Baton"))
            else:
                out.findings.append(Finding("channel", subject,
                                            f"Slack did not answer conversations.info ({code})",
                                            "run baton doctor again"))
            continue
        name = f"#{info.get('name') or channel}"
        if info.get("is_archived"):
            out.bad_channels.add(channel)
            out.findings.append(Finding("channel", subject, f"{name} is archived",
                                        "unarchive it, or put the team's current channel in the org file"))
        elif not info.get("is_member"):
            out.bad_channels.add(channel)
            out.findings.append(Finding("channel", subject, f"Baton is not in {name}",
                                        f"in {name} type /invite @Baton"))


def check_workspace(client: WebClient, org: Org) -> WorkspaceCheck:
    """Token, scopes, every person and every channel of the org file against the workspace."""
    out = WorkspaceCheck()
    try:
        out.findings += check_token(client)
    except TokenRefused as refused:
        out.findings.append(refused.finding)
        out.findings.append(Finding("person", "everyone", "not checked: the token does not work",
                                    "fix the token first, then run baton doctor again"))
        out.bad_users |= set(org.named_people())
        out.bad_channels |= set(org.channels())
        return out
    check_people(client, {u: w for u, w in org.named_people().items() if "@" not in u}, out)  # not Teams
    check_channels(client, org.channels(), out)
    return out


class EmailNotFound(NotResolved):
    """A work e-mail that resolves to no usable Slack account, with why in plain words."""


def lookup_email(client: WebClient, email: str) -> str:
    """The Slack user id of an active full member with this e-mail (users.lookupByEmail);
    EmailNotFound saying why not, TokenRefused if the token cannot look anyone up."""
    try:
        user: dict[str, Any] = client.users_lookupByEmail(email=email)["user"]
    except SlackApiError as exc:
        code = _error(exc)
        if code == "users_not_found":
            raise EmailNotFound("no Slack account has this e-mail: check the spelling, or invite "
                                "them to the workspace first") from None
        if code == "missing_scope":
            raise TokenRefused(Finding(
                "scopes", "users:read.email", "the token cannot look people up by e-mail",
                "give the app users:read.email while you build the org file and reinstall, or pass "
                "--token with a token that has it (Baton itself never needs it)")) from None
        raise TokenRefused(_token_finding(code, client.base_url)) from None
    except OSError:
        raise TokenRefused(_token_finding("unreachable", client.base_url)) from None
    if user.get("deleted"):
        raise EmailNotFound("the Slack account with this e-mail is deactivated")
    if user.get("is_bot"):
        raise EmailNotFound("this e-mail belongs to a bot")
    if user.get("is_restricted") or user.get("is_ultra_restricted"):
        raise EmailNotFound("this is a guest account; guests cannot be given cases")
    return str(user["id"])


def lookup_client(token: str, api_url: str) -> WebClient:
    """A Web API client for the checks (Slack's rate-limit retries; no request bodies logged)."""
    from handlers.slack.app import web_client

    return web_client(token, api_url)
