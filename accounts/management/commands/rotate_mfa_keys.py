from allauth.mfa.models import Authenticator
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction

from accounts import mfa


class Command(BaseCommand):
    help = (
        "Re-encrypt every TOTP and recovery-code secret under the first MFA key (the first of "
        "MFA_ENCRYPTION_KEYS, else the key derived from SECRET_KEY). Run it after rotating a "
        "key, before removing the old one (docs/security.md)."
    )

    def handle(self, *args, **options):
        ids = Authenticator.objects.filter(type__in=mfa.SEALED_TYPES).values_list("pk", flat=True)
        resealed, unreadable = 0, []
        for pk in list(ids):
            try:
                resealed += _reseal(pk)
            except mfa.UnreadableSecret:
                unreadable.append(pk)
        if unreadable:
            raise CommandError(
                f"{len(unreadable)} authenticator(s) cannot be decrypted with any configured key "
                f"(ids {', '.join(map(str, unreadable))}); their owners cannot sign in with "
                "them. Put the missing key back (MFA_ENCRYPTION_KEYS or SECRET_KEY_FALLBACKS) "
                "and run this again, or delete these authenticators in the admin so that their "
                f"owners set two-factor authentication up again. {resealed} re-encrypted."
            )
        self.stdout.write(f"{resealed} authenticator(s) re-encrypted under the first key.")


@transaction.atomic
def _reseal(pk: int) -> int:
    # Locked like allauth's RecoveryCodes.validate_code locks it: without the lock, a
    # recovery code used meanwhile would be marked used, then unmarked by our older copy.
    authenticator = Authenticator.objects.select_for_update().filter(pk=pk).first()
    if authenticator is None:
        return 0  # deleted meanwhile
    authenticator.data = mfa.reseal_secrets(authenticator.data)
    authenticator.save(update_fields=["data"])
    return 1
