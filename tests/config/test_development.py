"""`make run` for a developer (issue 15, point 10): the port is chosen with PORT, and the
e-mails printed to the console are readable, their links whole."""

import io
import subprocess

from django.conf import settings
from django.core.mail import EmailMultiAlternatives

from config.mail import ReadableConsoleBackend


def run_command(*arguments):
    result = subprocess.run(
        ["make", "-n", "run", *arguments],
        cwd=settings.BASE_DIR,
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    [line] = [line for line in result.stdout.splitlines() if "uvicorn" in line]
    return line


def test_make_run_serves_on_port_8000_unless_port_says_otherwise():
    assert "--port 8000 " in run_command() + " "
    assert "--port 8123 " in run_command("PORT=8123") + " "


def test_console_mail_is_printed_as_readable_text_with_its_link_whole():
    link = (
        "http://127.0.0.1:8000/comptes/confirm-email/"
        "MjU:1vQqZx:abcdefghijklmnopqrstuvwxyz0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ/"
    )
    message = EmailMultiAlternatives(
        subject="[Agora] Confirmez votre adresse électronique",
        body=f"Bonjour Élodie,\n\nPour confirmer votre adresse, ouvrez : {link}\n",
        from_email="Agora <noreply@agora.invalid>",
        to=["elodie@example.org"],
    )
    message.attach_alternative("<p>Bonjour Élodie</p>", "text/html")
    stream = io.StringIO()
    ReadableConsoleBackend(stream=stream).send_messages([message])
    printed = stream.getvalue()
    assert any(line.endswith(link) for line in printed.splitlines())  # on one line, whole
    assert "Bonjour Élodie," in printed  # not =C3=89lodie
    assert "Subject: [Agora] Confirmez votre adresse électronique" in printed
    assert "=\n" not in printed
    assert "text/html" in printed


def test_the_default_development_mailer_is_the_readable_one():
    from config.settings import _mailer_from_url

    assert _mailer_from_url("console:") == {"BACKEND": "config.mail.ReadableConsoleBackend"}
