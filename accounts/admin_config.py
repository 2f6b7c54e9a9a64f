from django.contrib.admin.apps import AdminConfig as DjangoAdminConfig


class AdminConfig(DjangoAdminConfig):
    """django.contrib.admin with our site: one login (allauth's), staff powers past MFA
    (accounts/admin_site.py)."""

    default_site = "accounts.admin_site.AgoraAdminSite"
