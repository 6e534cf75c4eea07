"""Settings from the environment (and a .env file), read once by every command."""

from __future__ import annotations

from datetime import date
from pathlib import Path

from pydantic import Field, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    """Everything Baton reads from its environment; see the README's settings table."""

    model_config = SettingsConfigDict(env_file=".env", extra="ignore", populate_by_name=True)

    database_url: str = Field(default="sqlite:///baton.db", alias="DATABASE_URL")
    org_file: Path | None = Field(default=None, alias="BATON_ORG")
    region: str | None = Field(default=None, alias="BATON_REGION")
    timezone: str = Field(default="Europe/London", alias="BATON_TIMEZONE")
    working_hours: str = Field(default="09:00-17:00", alias="BATON_WORKING_HOURS")
    sweep_seconds: int = Field(default=60, alias="BATON_SWEEP_SECONDS")
    org_poll_seconds: float = Field(default=5.0, ge=0, alias="BATON_ORG_POLL_SECONDS")
    weekly_digest: str = Field(default="mon 09:00", alias="BATON_WEEKLY_DIGEST")
    log_format: str = Field(default="auto", alias="BATON_LOG_FORMAT")  # json, text, auto (text on a terminal)
    log_level: str = Field(default="INFO", alias="BATON_LOG_LEVEL")
    slack_bot_token: str | None = Field(default=None, alias="SLACK_BOT_TOKEN")
    slack_signing_secret: str | None = Field(default=None, alias="SLACK_SIGNING_SECRET")
    slack_app_token: str | None = Field(default=None, alias="SLACK_APP_TOKEN")
    slack_api_url: str = Field(default="https://slack.com/api/", alias="SLACK_API_URL")
    # /metrics on its own HOST:PORT (say 127.0.0.1:9100), off the public port; empty: on the public port
    metrics_bind: str | None = Field(default=None, alias="BATON_METRICS_BIND")
    # Microsoft Teams (a single-tenant Azure Bot): see README, Run on Microsoft Teams
    microsoft_app_id: str | None = Field(default=None, alias="MICROSOFT_APP_ID")
    microsoft_app_password: str | None = Field(default=None, alias="MICROSOFT_APP_PASSWORD")
    microsoft_app_tenant_id: str | None = Field(default=None, alias="MICROSOFT_APP_TENANT_ID")
    # a certificate instead of the secret (Microsoft's advice): a PEM with key and certificate, or a .pfx
    microsoft_app_certificate: Path | None = Field(default=None, alias="MICROSOFT_APP_CERTIFICATE")
    microsoft_app_certificate_password: str | None = Field(default=None,
                                                           alias="MICROSOFT_APP_CERTIFICATE_PASSWORD")
    microsoft_app_secret_expires: date | None = Field(default=None, alias="MICROSOFT_APP_SECRET_EXPIRES")
    microsoft_graph_url: str = Field(default="https://graph.microsoft.com/v1.0", alias="MICROSOFT_GRAPH_URL")
    teams_openid_metadata: str = Field(
        default="https://login.botframework.com/v1/.well-known/openidconfiguration",
        alias="TEAMS_OPENID_METADATA")
    teams_token_url: str = Field(default="https://login.microsoftonline.com/{tenant}/oauth2/v2.0/token",
                                 alias="TEAMS_TOKEN_URL")
    # only until Teams has sent an activity from the tenant (its serviceUrl is kept and used after):
    # Microsoft's documented global address, which routes to the tenant's region
    teams_service_url: str = Field(default="https://smba.trafficmanager.net/teams/",
                                   alias="TEAMS_SERVICE_URL")
    # Development only: accept activities without checking their token. Refused at start unless
    # every Teams address is on this machine and no app password is set (see handlers/teams/auth.py).
    teams_dev_no_auth: bool = Field(default=False, alias="BATON_TEAMS_DEV_INSECURE_NO_AUTH")

    @field_validator("org_file", "region", "slack_bot_token", "slack_signing_secret",
                     "slack_app_token", "microsoft_app_id", "microsoft_app_password",
                     "microsoft_app_tenant_id", "microsoft_app_certificate",
                     "microsoft_app_certificate_password", "microsoft_app_secret_expires", "metrics_bind",
                     mode="before")
    @classmethod
    def _empty_is_unset(cls, value: object) -> object:
        return None if value == "" else value


def get_settings() -> Settings:
    """Settings as the environment gives them now."""
    return Settings()
