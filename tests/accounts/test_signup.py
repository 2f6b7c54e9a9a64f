"""Sign-up → e-mail with a link → verify → log in; unverified people cannot take part."""

import re
import time

import pytest
from django.contrib.auth import get_user_model
from django.urls import reverse

from tests.support.accounts import PASSWORD

pytestmark = pytest.mark.django_db(transaction=True)

User = get_user_model()


def sign_up(client, email="nadia@example.org"):
    return client.post(
        reverse("account_signup"),
        {
            "email": email,
            "display_name": "Nadia",
            "password1": PASSWORD,
            "password2": PASSWORD,
        },
    )


def confirmation_path(message) -> str:
    match = re.search(r"https?://[^/\s]+(/compte/confirm-email/[^\s]+/)", message["body"])
    assert match, message["body"]
    return match.group(1)


def test_sign_up_sends_a_link_that_verifies_the_address_and_logs_in(client, mailbox, celery_worker):
    response = sign_up(client)
    assert response.status_code == 302
    assert response["Location"] == reverse("account_email_verification_sent")
    user = User.objects.get(email="nadia@example.org")
    assert user.display_name == "Nadia"
    assert not user.emailaddress_set.get().verified

    [message] = mailbox.wait_for("nadia@example.org")
    path = confirmation_path(message)
    page = client.get(path)
    assert page.status_code == 200  # confirming takes a deliberate POST, not a link scanner's GET
    assert not user.emailaddress_set.get().verified

    response = client.post(path)
    assert response.status_code == 302
    assert user.emailaddress_set.get().verified
    assert client.get(reverse("consultation:my_participation")).status_code == 200

    client.post(reverse("account_logout"))
    response = client.post(
        reverse("account_login"), {"login": "nadia@example.org", "password": PASSWORD}
    )
    assert response.status_code == 302
    assert client.get(reverse("consultation:my_participation")).status_code == 200


def test_unverified_account_cannot_log_in_before_verifying(client, mailbox, celery_worker):
    sign_up(client)
    client.post(reverse("account_logout"))
    response = client.post(
        reverse("account_login"), {"login": "nadia@example.org", "password": PASSWORD}
    )
    assert response["Location"] == reverse("account_email_verification_sent")
    assert "_auth_user_id" not in client.session


def test_unverified_account_cannot_take_part(client_for, unverified):
    client = client_for(unverified)
    response = client.get(reverse("consultation:my_participation"))
    assert response.status_code == 302
    assert response["Location"] == reverse("account_email")


def test_verified_citizen_can_take_part(client_for, citizen):
    assert client_for(citizen).get(reverse("consultation:my_participation")).status_code == 200


def test_sign_up_does_not_wait_for_the_mail_server(client, mailbox, celery_worker, slow_mail):
    """The verification mail goes through the worker: the request returns before delivery.
    The one test of that for requests (mail is instant elsewhere): a slow mail server."""
    started = time.monotonic()
    response = sign_up(client, "quick@example.org")
    elapsed = time.monotonic() - started
    assert response.status_code == 302
    assert elapsed < slow_mail, f"sign-up took {elapsed:.2f}s: it waited for the mail"
    assert mailbox.messages("quick@example.org") == []
    mailbox.wait_for("quick@example.org")


def test_sign_up_with_a_taken_address_does_not_reveal_it(client, citizen, mailbox, celery_worker):
    response = sign_up(client, citizen.email)
    # Enumeration prevention: same answer as a fresh sign-up; the owner gets a warning mail.
    assert response.status_code == 302
    assert response["Location"] == reverse("account_email_verification_sent")
    assert User.objects.filter(email=citizen.email).count() == 1
    [warning] = mailbox.wait_for(citizen.email)
    assert "confirm-email" not in warning["body"]


def test_password_reset_sends_a_working_link(client, citizen, mailbox, celery_worker):
    client.post(reverse("account_reset_password"), {"email": citizen.email})
    [message] = mailbox.wait_for(citizen.email)
    path = re.search(r"https?://[^/\s]+(/compte/password/reset/key/[^\s]+/)", message["body"])
    assert path, message["body"]
    response = client.get(path.group(1), follow=True)
    form_url = response.redirect_chain[-1][0] if response.redirect_chain else path.group(1)
    new_password = "another long passphrase 42"
    response = client.post(form_url, {"password1": new_password, "password2": new_password})
    assert response.status_code == 302
    citizen.refresh_from_db()
    assert citizen.check_password(new_password)


def test_login_failures_are_rate_limited(client, citizen):
    for _ in range(5):
        client.post(reverse("account_login"), {"login": citizen.email, "password": "wrong"})
    response = client.post(reverse("account_login"), {"login": citizen.email, "password": PASSWORD})
    assert response.status_code in (200, 429)
    assert "_auth_user_id" not in client.session


def test_changing_the_address_takes_the_mailed_link_and_retires_the_old_one(
    client, mailbox, celery_worker, citizen
):
    from allauth.account.models import EmailAddress

    client.post(reverse("account_login"), {"login": citizen.email, "password": PASSWORD})
    response = client.post(
        reverse("account_email"), {"action_add": "", "email": "camille.neuve@example.org"}
    )
    assert response.status_code == 302
    # Until the new address is confirmed, the old one stays the login.
    assert User.objects.get(pk=citizen.pk).email == "camille@example.org"
    [message] = mailbox.wait_for("camille.neuve@example.org")
    assert client.post(confirmation_path(message)).status_code == 302

    citizen.refresh_from_db()
    assert citizen.email == "camille.neuve@example.org"
    assert list(
        EmailAddress.objects.filter(user=citizen).values_list("email", "verified", "primary")
    ) == [("camille.neuve@example.org", True, True)]
    client.post(reverse("account_logout"))
    response = client.post(
        reverse("account_login"), {"login": "camille@example.org", "password": PASSWORD}
    )
    assert response.status_code == 200 and "_auth_user_id" not in client.session
    response = client.post(
        reverse("account_login"), {"login": "camille.neuve@example.org", "password": PASSWORD}
    )
    assert response.status_code == 302 and client.session["_auth_user_id"] == str(citizen.pk)


def test_sign_ups_are_rate_limited_per_address(client, settings):
    from django.conf import settings as live

    allowed = int(live.ACCOUNT_RATE_LIMITS["signup"].split("/")[0])  # "20/m/ip"
    for n in range(allowed):
        assert sign_up(client, f"person{n}@example.org").status_code == 302
        client.post(reverse("account_logout"))
    response = sign_up(client, "one.too.many@example.org")
    assert response.status_code == 429
    assert not User.objects.filter(email="one.too.many@example.org").exists()
    assert User.objects.count() == allowed


# --- Steps that only make sense inside a flow ---------------------------------------------


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("step", "data"),
    [
        ("mfa_authenticate", {"code": "123456"}),
        ("account_confirm_login_code", {"code": "ABCDEF"}),
        ("socialaccount_signup", {"email": "x@example.org", "display_name": "X"}),
    ],
)
def test_a_mid_login_step_without_a_login_under_way_leads_back_to_the_login(
    client, citizen, step, data
):
    """The MFA code, a login code and the social sign-up form each finish a login that
    another step started: asked directly, they log nobody in and lead to the login page."""
    for response in (client.get(reverse(step)), client.post(reverse(step), data)):
        assert response.status_code == 302
        assert response["Location"].split("?")[0] == reverse("account_login")
    assert "_auth_user_id" not in client.session


@pytest.mark.django_db
def test_logging_out_takes_a_post_so_no_link_logs_anyone_out(client_for, citizen):
    client = client_for(citizen)
    response = client.get(reverse("account_logout"))
    assert response.status_code == 200  # a page asking to confirm
    assert client.session["_auth_user_id"] == str(citizen.pk)
    assert client.post(reverse("account_logout")).status_code == 302
    assert "_auth_user_id" not in client.session


@pytest.mark.django_db
@pytest.mark.parametrize("old", ["login/cancelled/", "login/error/", "signup/", "connections/"])
def test_allauths_old_social_addresses_only_redirect(client, old):
    """allauth keeps /social/… as permanent redirects to /3rdparty/…, whose pages check
    who may see them; the old addresses serve nothing themselves."""
    response = client.get(f"/compte/social/{old}")
    assert response.status_code == 301
    new = response["Location"]
    assert new.startswith("/compte/3rdparty/")
    assert new.removeprefix("/compte/3rdparty/") == old.replace("connections/", "")


def test_sign_up_stands_when_the_mail_queue_is_down(client, monkeypatch, caplog):
    """The broker is away when the account is written: the person is told to check their
    mail (the account exists; "send the link again" works once the broker is back) instead
    of a server error for a sign-up that was recorded."""
    from config.celery import app

    def broker_down(*args, **kwargs):
        raise ConnectionError("the broker is down")

    monkeypatch.setattr(app, "send_task", broker_down)
    response = sign_up(client)
    assert response.status_code == 302
    assert User.objects.filter(email="nadia@example.org").exists()
    assert "could not queue an e-mail" in caplog.text
