from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError

from accounts.demo import ensure_demo_accounts
from consultation import demo


class Command(BaseCommand):
    help = (
        "Create the demo accounts and consultations (idempotent; new passwords printed once). "
        "Refuses to run when DEBUG is off, unless --force is given: it creates a superuser "
        "and prints its password."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--participants",
            type=int,
            default=3000,
            help="generated participants in the closed consultation (default 3000)",
        )
        parser.add_argument(
            "--force",
            action="store_true",
            help=(
                "seed even though DEBUG is off, e.g. on a public demonstration server "
                "(it creates a superuser with a known password)"
            ),
        )

    def handle(self, *args, participants, force, **options):
        if not settings.DEBUG and not force:
            # Demo accounts with printed passwords, a superuser among them, have no place
            # on a production site; `make run` sets DEBUG=true, a real deployment does not.
            raise CommandError(
                "DEBUG is off: this looks like a production site, and seed_demo would create "
                "a superuser and print its password. Nothing was created. Run it with "
                "DEBUG=true, or add --force if you really want demo data here."
            )
        report = ensure_demo_accounts()
        User = get_user_model()
        lines = demo.seed(
            closed_participants=participants,
            organiser=User.objects.get(email="organisatrice@demo.agora.test"),
            moderator=User.objects.get(email="moderateur@demo.agora.test"),
            citizen=User.objects.get(email="citoyenne@demo.agora.test"),
            staff=User.objects.get(email="admin@demo.agora.test"),
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
