from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand

from accounts.demo import ensure_demo_accounts
from consultation import demo


class Command(BaseCommand):
    help = "Create the demo accounts and consultations (idempotent; new passwords printed once)."

    def add_arguments(self, parser):
        parser.add_argument(
            "--participants",
            type=int,
            default=3000,
            help="generated participants in the closed consultation (default 3000)",
        )

    def handle(self, *args, participants, **options):
        report = ensure_demo_accounts()
        User = get_user_model()
        lines = demo.seed(
            closed_participants=participants,
            organiser=User.objects.get(email="organisatrice@demo.agora.test"),
            moderator=User.objects.get(email="moderateur@demo.agora.test"),
        )
        self.stdout.write("Demo consultations:")
        for line in lines:
            self.stdout.write(f"  {line}")
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
