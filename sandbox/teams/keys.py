"""The stand-in's signing key: Bot Connector tokens minted locally, and the JWKS that checks them."""

from __future__ import annotations

import json
import secrets
import time
from dataclasses import dataclass, field
from typing import Any

import jwt
from cryptography.hazmat.primitives.asymmetric import rsa
from jwt.algorithms import RSAAlgorithm

BOT_ISSUER = "https://api.botframework.com"  # the issuer of Bot Connector tokens
ENDORSED = ("msteams", "webchat", "directline", "emulator", "skype")


@dataclass
class SigningKey:
    """An RSA key with a key id, as the Bot Connector's OpenID metadata publishes it."""

    kid: str = field(default_factory=lambda: secrets.token_hex(8))
    private: rsa.RSAPrivateKey = field(
        default_factory=lambda: rsa.generate_private_key(public_exponent=65537, key_size=2048))
    endorsements: tuple[str, ...] = ENDORSED

    def jwk(self) -> dict[str, Any]:
        """The public half, as one entry of a JWKS."""
        out: dict[str, Any] = json.loads(RSAAlgorithm.to_jwk(self.private.public_key()))
        # as Microsoft's keys: one key endorsed for many of the Bot Service's channels, so the
        # key alone does not say an activity came from Teams (Baton checks channelId too)
        return {**out, "kid": self.kid, "use": "sig", "alg": "RS256", "endorsements": list(self.endorsements)}

    def mint(self, *, audience: str, service_url: str, issuer: str = BOT_ISSUER,
             lifetime: float = 3600, now: float | None = None, **extra: Any) -> str:
        """A Bot Connector token for ``audience`` (the bot's app id) and ``service_url``."""
        at = time.time() if now is None else now
        claims = {"iss": issuer, "aud": audience, "serviceurl": service_url,
                  "nbf": int(at) - 5, "iat": int(at) - 5, "exp": int(at + lifetime), **extra}
        return jwt.encode(claims, self.private, algorithm="RS256", headers={"kid": self.kid})
