from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path

from memo_registry.web import accounts, memos

admin.site.site_header = "联合奖惩备忘录责任清单 管理"
admin.site.site_title = "责任清单管理"
admin.site.index_title = "数据管理"

# Under /api/ a 404 or 500 is JSON in the API's error shape; pages keep HTML
# (memo_registry/api/errors.py).
handler404 = "memo_registry.api.errors.not_found"
handler500 = "memo_registry.api.errors.server_error"

urlpatterns = [
    path("admin/", admin.site.urls),
    # Sign-in for staff who are not admin users (查阅); no password-reset
    # views: the intranet has no mail, administrators reset passwords.
    path("accounts/login/", auth_views.LoginView.as_view(), name="login"),
    path("accounts/logout/", accounts.SignOutView.as_view(), name="logout"),
    path(
        "accounts/password/",
        auth_views.PasswordChangeView.as_view(success_url="/"),
        name="password_change",
    ),
    # The second factor for users who can reach the admin (memo_registry/web/accounts.py).
    path("accounts/two-factor/", accounts.enrol, name="two_factor"),
    path("accounts/two-factor/verify/", accounts.verify, name="two_factor_verify"),
    # Browsers ask for it by themselves (no more 404 in the log on every visit).
    path("favicon.ico", memos.favicon, name="favicon"),
    # The pages and the JSON API (memo_registry/web/urls.py, memo_registry/api/urls.py).
    path("api/", include("memo_registry.api.urls")),
    path("", include("memo_registry.web.urls")),
]
