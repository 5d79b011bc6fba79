"""Signing keys of local actors: one RSA-2048 keypair per organization and one for the
instance's application actor, generated on first need and kept in ``ActorKey``."""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from tortoise.exceptions import IntegrityError

from fabcom.federation import config
from fabcom.federation.models import ActorKey

APPLICATION = "application"


@dataclass(frozen=True)
class SigningKey:
    """A local actor's key as a signer needs it."""

    key_id: str
    private_key_pem: str
    public_key_pem: str


def generate_keypair() -> tuple[str, str]:
    """A fresh RSA-2048 keypair as (private PEM, public PEM)."""
    private = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    private_pem = private.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    ).decode()
    public_pem = (
        private.public_key()
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
        .decode()
    )
    return private_pem, public_pem


async def _key_row(owner: str) -> ActorKey:
    row = await ActorKey.get_or_none(owner=owner)
    if row is not None:
        return row
    private_pem, public_pem = generate_keypair()
    try:
        return await ActorKey.create(owner=owner, private_key_pem=private_pem, public_key_pem=public_pem)
    except IntegrityError:  # another process generated it first: use theirs
        return await ActorKey.get(owner=owner)


async def organization_key(organization_id: int, slug: str) -> SigningKey:
    row = await _key_row(f"org:{organization_id}")
    return SigningKey(f"{config.org_actor_uri(slug)}#main-key", row.private_key_pem, row.public_key_pem)


async def application_key() -> SigningKey:
    row = await _key_row(APPLICATION)
    return SigningKey(f"{config.application_actor_uri()}#main-key", row.private_key_pem, row.public_key_pem)


@lru_cache(maxsize=256)
def load_private_key(pem: str) -> rsa.RSAPrivateKey:
    key = serialization.load_pem_private_key(pem.encode(), password=None)
    if not isinstance(key, rsa.RSAPrivateKey):
        raise ValueError("not an RSA private key")
    return key


@lru_cache(maxsize=1024)
def load_public_key(pem: str) -> rsa.RSAPublicKey:
    key = serialization.load_pem_public_key(pem.encode())
    if not isinstance(key, rsa.RSAPublicKey):
        raise ValueError("not an RSA public key")
    return key
