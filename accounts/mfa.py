"""TOTP and recovery-code secrets encrypted at rest (decision 0022).

allauth keeps an authenticator's secrets in ``mfa.Authenticator.data`` (the TOTP ``secret``,
the recovery codes' ``seed``, and ``migrated_codes`` for codes imported from another app) and
passes each one through the MFA adapter's ``encrypt`` / ``decrypt``. Ours seals them with
Fernet (AES-128-CBC + HMAC-SHA256) and writes ``fernet:<token>``, so a sealed value is
recognisable and a legacy clear one (base32 or hex, never a colon) still reads until
migration ``accounts.0003`` or ``manage.py rotate_mfa_keys`` seals it.

Keys, in order (the first encrypts, every one decrypts, through ``MultiFernet``):
``MFA_ENCRYPTION_KEYS`` when set, then a key derived with HKDF-SHA256 from ``SECRET_KEY``,
then one from each of ``SECRET_KEY_FALLBACKS``. Rotating ``SECRET_KEY`` the Django way
(the old one moved to the fallbacks) keeps every secret readable; ``rotate_mfa_keys`` then
re-encrypts them under the first key, after which the old key may go.

A value no key opens raises ``UnreadableSecret``: never treated as "no secret" nor as a
wrong code, so a lost key cannot turn into a login without the second factor. The MFA
forms below turn it into a clear refusal and an error in the log.
"""

import base64
import contextlib
import functools
import logging
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from allauth.mfa.adapter import DefaultMFAAdapter
from allauth.mfa.base import forms as allauth_forms
from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from django import forms
from django.conf import settings
from django.utils.encoding import force_bytes
from django.utils.translation import gettext_lazy as _

logger = logging.getLogger(__name__)

PREFIX = "fernet:"
# The authenticator types whose data holds secrets (WebAuthn stores public keys only).
SEALED_TYPES = ("totp", "recovery_codes")

# Fixed, public inputs of the derivation: they only separate this key from every other
# use of SECRET_KEY. Changing them makes every sealed secret unreadable.
_HKDF_SALT = b"agora.accounts.mfa"
_HKDF_INFO = b"fernet key for TOTP and recovery-code secrets, v1"


class UnreadableSecret(Exception):
    """A sealed MFA secret that no configured key decrypts (a key was removed too early)."""


@functools.lru_cache(maxsize=16)
def derive_key(secret_key: str | bytes) -> bytes:
    """The Fernet key derived from a Django ``SECRET_KEY`` (or one of its fallbacks)."""
    hkdf = HKDF(algorithm=hashes.SHA256(), length=32, salt=_HKDF_SALT, info=_HKDF_INFO)
    return base64.urlsafe_b64encode(hkdf.derive(force_bytes(secret_key)))


def keys() -> list[bytes]:
    """Every key that may open a secret, the one that seals new secrets first."""
    explicit = [force_bytes(key) for key in settings.MFA_ENCRYPTION_KEYS]
    derived = [derive_key(s) for s in [settings.SECRET_KEY, *settings.SECRET_KEY_FALLBACKS]]
    return list(dict.fromkeys([*explicit, *derived]))  # dropping repeats, keeping the order


@functools.lru_cache(maxsize=16)
def _multi_fernet(key_list: tuple[bytes, ...]) -> MultiFernet:
    return MultiFernet([Fernet(key) for key in key_list])


def _fernet() -> MultiFernet:
    return _multi_fernet(tuple(keys()))


def is_sealed(value: str) -> bool:
    return value.startswith(PREFIX)


def encrypt(text: str) -> str:
    return PREFIX + _fernet().encrypt(text.encode()).decode("ascii")


def decrypt(value: str) -> str:
    if not is_sealed(value):
        return value  # a legacy clear secret, until it is sealed (see the module docstring)
    with _unreadable_when_no_key_fits():
        return _fernet().decrypt(value.removeprefix(PREFIX).encode("ascii")).decode()


def reseal(value: str) -> str:
    """``value`` encrypted under the first key, whether it was clear or sealed under any key."""
    if not is_sealed(value):
        return encrypt(value)
    with _unreadable_when_no_key_fits():
        return PREFIX + _fernet().rotate(value.removeprefix(PREFIX).encode("ascii")).decode()


@contextlib.contextmanager
def _unreadable_when_no_key_fits():
    try:
        yield
    except InvalidToken:
        raise UnreadableSecret(
            "An MFA secret cannot be decrypted with any configured key (MFA_ENCRYPTION_KEYS, "
            "SECRET_KEY, SECRET_KEY_FALLBACKS): was a key removed before "
            "`manage.py rotate_mfa_keys` had re-encrypted everything?"
        ) from None


def _map_secrets(data: dict[str, Any], transform: Callable[[str], str]) -> dict[str, Any]:
    data = dict(data)
    for field in ("secret", "seed"):
        if isinstance(data.get(field), str):
            data[field] = transform(data[field])
    if data.get("migrated_codes") is not None:
        data["migrated_codes"] = [transform(code) for code in data["migrated_codes"]]
    return data


def seal_clear_secrets(data: dict[str, Any]) -> dict[str, Any]:
    """An authenticator's data with its clear secrets encrypted; sealed ones left as they are."""
    return _map_secrets(data, lambda value: value if is_sealed(value) else encrypt(value))


def reseal_secrets(data: dict[str, Any]) -> dict[str, Any]:
    """An authenticator's data with every secret re-encrypted under the first key."""
    return _map_secrets(data, reseal)


def open_secrets(data: dict[str, Any]) -> dict[str, Any]:
    """An authenticator's data in clear (only to undo migration 0003)."""
    return _map_secrets(data, decrypt)


class MFAAdapter(DefaultMFAAdapter):
    def encrypt(self, text: str) -> str:
        return encrypt(text)

    def decrypt(self, encrypted_text: str) -> str:
        return decrypt(encrypted_text)


UNAVAILABLE = _(
    "Two-factor authentication cannot be checked at the moment: the site’s operators have "
    "been alerted. Please try again later."
)


if TYPE_CHECKING:
    from allauth.mfa.base.forms import AuthenticateForm as _CodeForm  # what this mixes into
else:
    _CodeForm = object


class _RefuseUnreadable(_CodeForm):
    """Answer an unreadable secret with a refusal the person understands, and tell the
    operators (an error in the log), instead of a server error page."""

    def clean_code(self) -> str:
        try:
            return super().clean_code()
        except UnreadableSecret:
            logger.exception("refused an MFA code for user %s: unreadable secret", self.user.pk)
            raise forms.ValidationError(UNAVAILABLE, code="mfa_unavailable") from None


class AuthenticateForm(_RefuseUnreadable, allauth_forms.AuthenticateForm):
    pass


class ReauthenticateForm(_RefuseUnreadable, allauth_forms.ReauthenticateForm):
    pass
