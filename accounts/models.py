from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser, BaseUserManager, PermissionsMixin
from django.db import models, transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class UserManager(BaseUserManager["User"]):
    use_in_migrations = True

    def _create_user(self, email, password, **extra_fields):
        if not email:
            raise ValueError("An e-mail address is required.")
        user = self.model(email=self.normalize_email(email).lower(), **extra_fields)
        user.set_password(password)
        user.save(using=self._db)
        return user

    def create_user(self, email, password=None, **extra_fields):
        extra_fields.setdefault("is_staff", False)
        extra_fields.setdefault("is_superuser", False)
        return self._create_user(email, password, **extra_fields)

    def create_superuser(self, email, password=None, **extra_fields):
        extra_fields.setdefault("is_staff", True)
        extra_fields.setdefault("is_superuser", True)
        if not extra_fields["is_staff"] or not extra_fields["is_superuser"]:
            raise ValueError("A superuser must have is_staff and is_superuser set.")
        return self._create_user(email, password, **extra_fields)


class User(AbstractBaseUser, PermissionsMixin):
    """An Agora account. The e-mail address is the login; the display name is public."""

    email = models.EmailField(_("e-mail address"), unique=True)
    display_name = models.CharField(
        _("display name"),
        max_length=60,
        help_text=_("Shown next to your contributions. A pseudonym is fine."),
    )
    preferred_language = models.CharField(
        _("preferred language"),
        max_length=8,
        choices=settings.LANGUAGES,
        default=settings.LANGUAGE_CODE,
    )
    # Global roles for now; per-consultation memberships arrive with consultations.
    is_organiser = models.BooleanField(_("organiser"), default=False)
    is_moderator = models.BooleanField(_("moderator"), default=False)
    # Set when an identity provider (FranceConnect-style OIDC) vouched for this person.
    identity_verified_at = models.DateTimeField(_("identity verified at"), null=True, blank=True)
    identity_provider = models.CharField(_("identity provider"), max_length=100, blank=True)

    is_staff = models.BooleanField(_("staff status"), default=False)
    is_active = models.BooleanField(_("active"), default=True)
    date_joined = models.DateTimeField(_("date joined"), default=timezone.now)
    # Set whenever the password changes, by any path: API tokens created before it stop
    # working (accounts.tokens), as sessions do (Django's session auth hash).
    credentials_changed_at = models.DateTimeField(
        _("credentials changed at"), null=True, blank=True, editable=False
    )

    objects = UserManager()
    # Django's: the new password, kept by set_password() until the next save (save() below).
    _password: str | None

    EMAIL_FIELD = "email"
    USERNAME_FIELD = "email"
    REQUIRED_FIELDS = ["display_name"]

    class Meta:
        verbose_name = _("user")
        verbose_name_plural = _("users")

    def __str__(self):
        return self.display_name or self.email

    def save(self, *args, **kwargs):
        """Save; when the password changed or the account was deactivated — whatever did
        it: allauth, the admin, a shell — end what the old credentials opened: tokens
        (by ``credentials_changed_at``) and live connections (after commit)."""
        update_fields = kwargs.get("update_fields")
        # set_password() leaves the new password in _password until saved; a hash upgrade
        # at login does not (Django clears it), and is no change of credentials.
        password_changed = (
            self.pk is not None
            and self._password is not None
            and (update_fields is None or "password" in update_fields)
        )
        deactivated = (
            self.pk is not None
            and not self.is_active
            and (update_fields is None or "is_active" in update_fields)
            and type(self).objects.filter(pk=self.pk, is_active=True).exists()
        )
        if password_changed:
            self.credentials_changed_at = timezone.now()
            if update_fields is not None:
                kwargs["update_fields"] = {*update_fields, "credentials_changed_at"}
        super().save(*args, **kwargs)
        if password_changed or deactivated:
            from realtime.broadcast import disconnect_user

            user_id = self.pk
            # 4408: suspended, the page stops; 4401: signed out, the page reconnects and
            # the server decides again who it is (anonymous, for an old session).
            code = 4408 if deactivated else 4401
            transaction.on_commit(lambda: disconnect_user(user_id, code), robust=True)

    def get_short_name(self):
        return self.display_name

    def get_full_name(self):
        return self.display_name

    @property
    def is_identity_verified(self) -> bool:
        return self.identity_verified_at is not None


class ApiToken(models.Model):
    """A personal API token for scripts. Only its SHA-256 is stored; shown once."""

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="api_tokens")
    name = models.CharField(_("name"), max_length=80)
    prefix = models.CharField(max_length=12, editable=False)
    digest = models.CharField(max_length=64, unique=True, editable=False)
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    last_used_at = models.DateTimeField(null=True, blank=True)

    # Set on the tokens the tokens page lists (accounts.api_tokens_views): a password change
    # outlived it. Declared for mypy, no column.
    ended: bool

    class Meta:
        ordering = ["-created_at"]
        verbose_name = _("API token")
        verbose_name_plural = _("API tokens")

    def __str__(self):
        return f"{self.name} ({self.prefix}…)"
