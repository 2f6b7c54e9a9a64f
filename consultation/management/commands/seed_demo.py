from django.core.management.base import BaseCommand

from accounts.demo import ensure_demo_accounts


class Command(BaseCommand):
    help = "Create the demo accounts (idempotent; new passwords are printed once)."

    def handle(self, *args, **options):
        report = ensure_demo_accounts()
        self.stdout.write("Demo accounts:")
        for email, password in report:
            if password:
                self.stdout.write(f"  {email:34} password: {password}")
            else:
                self.stdout.write(f"  {email:34} (exists; password shown when it was created)")
        self.stdout.write(
            "  Organiser, moderator and admin pages ask these accounts to set up "
            "two-factor authentication (any TOTP app) first."
        )
