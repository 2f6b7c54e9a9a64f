"""Encrypt the TOTP and recovery-code secrets stored in clear before decision 0022."""

from django.db import migrations


def seal_clear_secrets(apps, schema_editor):
    from accounts import mfa

    Authenticator = apps.get_model("mfa", "Authenticator")
    for authenticator in Authenticator.objects.filter(type__in=mfa.SEALED_TYPES):
        sealed = mfa.seal_clear_secrets(authenticator.data)
        if sealed != authenticator.data:
            authenticator.data = sealed
            authenticator.save(update_fields=["data"])


def open_secrets(apps, schema_editor):
    # Only so that going back to a release without encryption keeps MFA logins working.
    from accounts import mfa

    Authenticator = apps.get_model("mfa", "Authenticator")
    for authenticator in Authenticator.objects.filter(type__in=mfa.SEALED_TYPES):
        authenticator.data = mfa.open_secrets(authenticator.data)
        authenticator.save(update_fields=["data"])


class Migration(migrations.Migration):
    dependencies = [
        ("accounts", "0002_apitoken"),
        ("mfa", "0003_authenticator_type_uniq"),
    ]

    operations = [migrations.RunPython(seal_clear_secrets, open_secrets)]
