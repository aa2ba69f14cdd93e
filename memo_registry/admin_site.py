"""The admin site, which staff reach only with a password and a TOTP code.

等保 2.0 asks for two authentication factors for administrators, so every
user who can reach the admin (``is_staff``) must have verified the session
with a code from an authenticator app (django-otp) before any admin page
answers.  The site's own pages keep signing in with a password alone.

``RegistryAdminConfig`` replaces ``django.contrib.admin`` in INSTALLED_APPS
and names ``RegistryAdminSite`` as its ``default_site``: the way Django
documents for changing the default site, so ``admin.site`` stays the object
every module registers with (``@admin.register``) and no module has to know.
Checking in ``has_permission`` rather than in a middleware keeps the rule
where the admin itself decides who may see each page (every view, the
index, the navigation), with no URL prefix to keep in step.
"""

import axes.apps
from django.contrib import admin
from django.contrib.admin.apps import AdminConfig
from django.contrib.auth import REDIRECT_FIELD_NAME
from django.http import HttpResponseRedirect
from django.urls import reverse


class AxesConfig(axes.apps.AppConfig):
    """django-axes as the admin lists it: its models' names come from
    locale/zh_Hans (axes ships no Chinese)."""

    verbose_name = "登录限制"


class RegistryAdminConfig(AdminConfig):
    default_site = "memo_registry.admin_site.RegistryAdminSite"


class RegistryAdminSite(admin.AdminSite):
    def has_permission(self, request):
        # A request without django-otp's middleware has no is_verified():
        # refuse rather than fall back to the password alone.
        is_verified = getattr(request.user, "is_verified", None)
        return super().has_permission(request) and bool(is_verified and is_verified())

    def login(self, request, extra_context=None):
        # Every admin page sends a visitor it refuses here.  Staff who have
        # signed in with their password go on to the second factor instead
        # of seeing the password form again; a POST still signs in (another
        # account, say) as usual.
        if request.method == "GET" and super().has_permission(request):
            from memo_registry.web.accounts import second_factor_url

            after = request.GET.get(REDIRECT_FIELD_NAME) or reverse(
                "admin:index", current_app=self.name
            )
            return HttpResponseRedirect(second_factor_url(request.user, after))
        return super().login(request, extra_context)
