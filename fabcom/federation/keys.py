"""Keys of local actors, generated on first need and kept in ``ActorKey``: one RSA-2048
keypair per organization and one for the instance's application actor (they sign HTTP
Signatures), and one Ed25519 keypair per organization, published as a FEP-521a
``Multikey`` (``publicKeyMultibase``: base58btc of the multicodec ``0xed01`` + the raw
key, ``z6Mk…``). fabcom does not sign with Ed25519 yet (no RFC 9421)."""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ed25519, rsa
from tortoise.exceptions import IntegrityError

from fabcom.federation import config
from fabcom.federation.models import ActorKey

APPLICATION = "application"
ED25519_MULTICODEC = b"\xed\x01"
_BASE58 = "123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz"


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


@dataclass(frozen=True)
class Multikey:
    """A local actor's Ed25519 public key as FEP-521a publishes it."""

    key_id: str
    controller: str
    public_key_multibase: str

    def document(self) -> dict[str, str]:
        return {
            "id": self.key_id,
            "type": "Multikey",
            "controller": self.controller,
            "publicKeyMultibase": self.public_key_multibase,
        }


def base58btc(data: bytes) -> str:
    """Bitcoin's base58 alphabet; each leading zero byte is a leading ``1``."""
    number = int.from_bytes(data, "big")
    digits = []
    while number:
        number, rest = divmod(number, 58)
        digits.append(_BASE58[rest])
    zeros = len(data) - len(data.lstrip(b"\0"))
    return "1" * zeros + "".join(reversed(digits))


def ed25519_multibase(public_key: ed25519.Ed25519PublicKey) -> str:
    """``publicKeyMultibase`` of an Ed25519 key: ``z`` (base58btc) + base58(0xed01 + raw key)."""
    raw = public_key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    return "z" + base58btc(ED25519_MULTICODEC + raw)


def generate_ed25519_keypair() -> tuple[str, str]:
    """A fresh Ed25519 keypair as (private PEM, public multibase)."""
    private = ed25519.Ed25519PrivateKey.generate()
    private_pem = private.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    ).decode()
    return private_pem, ed25519_multibase(private.public_key())


async def _key_row(owner: str, *, ed25519_key: bool = False) -> ActorKey:
    row = await ActorKey.get_or_none(owner=owner)
    if row is None:
        private_pem, public_pem = generate_keypair()
        ed_private, ed_public = generate_ed25519_keypair() if ed25519_key else ("", "")
        try:
            return await ActorKey.create(
                owner=owner,
                private_key_pem=private_pem,
                public_key_pem=public_pem,
                ed25519_private_key_pem=ed_private,
                ed25519_public_multibase=ed_public,
            )
        except IntegrityError:  # another process generated it first: use theirs
            row = await ActorKey.get(owner=owner)
    if ed25519_key and not row.ed25519_public_multibase:
        # A key from before Ed25519: add one, unless another process just did (then use theirs).
        ed_private, ed_public = generate_ed25519_keypair()
        await ActorKey.filter(id=row.id, ed25519_public_multibase="").update(
            ed25519_private_key_pem=ed_private, ed25519_public_multibase=ed_public
        )
        await row.refresh_from_db()
    return row


async def organization_key(organization_id: int, slug: str) -> SigningKey:
    row = await _key_row(f"org:{organization_id}")
    return SigningKey(f"{config.org_actor_uri(slug)}#main-key", row.private_key_pem, row.public_key_pem)


async def organization_keys(organization_id: int, slug: str) -> tuple[SigningKey, Multikey]:
    """The organization's RSA signing key and its Ed25519 ``Multikey`` (what its actor
    document publishes)."""
    row = await _key_row(f"org:{organization_id}", ed25519_key=True)
    uri = config.org_actor_uri(slug)
    return (
        SigningKey(f"{uri}#main-key", row.private_key_pem, row.public_key_pem),
        Multikey(f"{uri}#ed25519-key", uri, row.ed25519_public_multibase),
    )


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
