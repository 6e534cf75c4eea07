"""Entra's answers read as Microsoft documents them, and where Baton may send its credentials."""

from __future__ import annotations

import pytest

from handlers.teams.credentials import CredentialError, authority_of, explain


def test_an_aadsts_code_is_read_from_error_codes_or_the_description() -> None:
    """Entra's error body carries ``error_codes``; a description starting ``AADSTSnnn:`` is enough."""
    by_codes = explain({"error": "invalid_client", "error_codes": [7000222], "error_description":
                        "AADSTS7000222: The provided client secret keys ... are expired."})
    by_text = explain({"error": "invalid_client",
                       "error_description": "AADSTS7000215: Invalid client secret"})
    assert (by_codes.code, by_codes.auth) == ("AADSTS7000222", True) and "expired" in by_codes.problem
    assert by_text.code == "AADSTS7000215" and "MICROSOFT_APP_PASSWORD" in by_text.fix


def test_an_unknown_aadsts_code_is_still_named() -> None:
    err = explain({"error": "invalid_request", "error_codes": [50011],
                   "error_description": "AADSTS50011: ..."})
    assert err.code == "AADSTS50011" and err.auth and "MICROSOFT_APP_ID" in err.fix


def test_credentials_go_only_to_https_or_a_local_stand_in() -> None:
    """MSAL's authority is always https; plain http only to this machine (the stand-ins)."""
    assert authority_of("https://login.microsoftonline.com/{tenant}/oauth2/v2.0/token", "t1") == \
        "https://login.microsoftonline.com/t1"
    assert authority_of("http://127.0.0.1:4010/{tenant}/oauth2/v2.0/token", "t1") == "https://127.0.0.1:4010/t1"
    with pytest.raises(CredentialError, match="not https"):
        authority_of("http://login.example.org/{tenant}/oauth2/v2.0/token", "t1")
