"""A 管理员 manages accounts, but only a superuser grants superuser status or
permissions, or touches a superuser's account."""

import pytest
from django.contrib.auth.models import Group, Permission
from django.urls import reverse

pytestmark = pytest.mark.django_db


@pytest.fixture
def admin_client(client, administrator, otp_login):
    """A member of 管理员 (auth.change_user, auth.change_group), signed in to the admin."""
    otp_login(client, administrator)
    return client


@pytest.fixture
def root(django_user_model):
    return django_user_model.objects.create_superuser("root", "root@example.cn", "pw-Root-2018!")


def _user_form(user, **changes) -> dict:
    """The user change form as the browser posts it, with ``changes``."""
    data = {
        "username": user.username,
        "first_name": user.first_name,
        "last_name": user.last_name,
        "email": user.email,
        "is_active": "on",
        "is_staff": "on",
        "groups": [group.pk for group in user.groups.all()],
        "date_joined_0": "2024-01-01",
        "date_joined_1": "08:00:00",
        "_save": "保存",
    }
    data.update(changes)
    return {key: value for key, value in data.items() if value is not None}


def _change_url(user) -> str:
    return reverse("admin:auth_user_change", args=[user.pk])


def test_an_administrator_cannot_make_itself_superuser(admin_client, administrator):
    grant = Permission.objects.get(codename="add_permission")
    response = admin_client.post(
        _change_url(administrator),
        _user_form(administrator, is_superuser="on", user_permissions=[grant.pk]),
    )
    assert response.status_code == 302  # the rest of the form is saved
    administrator.refresh_from_db()
    assert not administrator.is_superuser
    assert not administrator.user_permissions.exists()
    assert administrator.groups.filter(name="管理员").exists()


def test_an_administrator_cannot_make_another_user_superuser(admin_client, editor):
    admin_client.post(_change_url(editor), _user_form(editor, is_superuser="on"))
    editor.refresh_from_db()
    assert not editor.is_superuser


def test_an_administrator_sees_superuser_status_and_permissions_read_only(
    admin_client, administrator
):
    page = admin_client.get(_change_url(administrator))
    assert page.status_code == 200
    form = page.context["adminform"].form
    assert "is_superuser" not in form.fields
    assert "user_permissions" not in form.fields
    assert 'name="is_superuser"' not in page.content.decode()
    # Everything else an administrator manages is still there.
    assert {"is_active", "is_staff", "groups"} <= set(form.fields)


def test_an_administrator_still_manages_other_accounts(admin_client, clerk):
    response = admin_client.post(
        _change_url(clerk), _user_form(clerk, email="clerk@example.cn", is_staff=None)
    )
    assert response.status_code == 302
    clerk.refresh_from_db()
    assert clerk.email == "clerk@example.cn"


def test_an_administrator_cannot_edit_the_groups_permissions(admin_client):
    group = Group.objects.get(name="编辑")
    before = set(group.permissions.values_list("pk", flat=True))
    everything = list(Permission.objects.values_list("pk", flat=True))
    url = reverse("admin:auth_group_change", args=[group.pk])
    page = admin_client.get(url)
    assert "permissions" not in page.context["adminform"].form.fields
    admin_client.post(url, {"name": "编辑", "permissions": everything, "_save": "保存"})
    assert set(group.permissions.values_list("pk", flat=True)) == before


def test_an_administrator_cannot_create_a_group_with_permissions(admin_client):
    everything = list(Permission.objects.values_list("pk", flat=True))
    admin_client.post(
        reverse("admin:auth_group_add"),
        {"name": "全部权限", "permissions": everything, "_save": "保存"},
    )
    group = Group.objects.filter(name="全部权限").first()
    assert group is None or not group.permissions.exists()


def test_an_administrator_cannot_edit_a_superuser(admin_client, root):
    response = admin_client.post(
        _change_url(root), _user_form(root, is_staff=None, email="evil@example.cn")
    )
    assert response.status_code == 403
    root.refresh_from_db()
    assert root.is_staff and root.email == "root@example.cn"


def test_an_administrator_cannot_reset_a_superusers_password(admin_client, root):
    url = reverse("admin:auth_user_password_change", args=[root.pk])
    response = admin_client.post(
        url,
        {"usable_password": "true", "password1": "Taken-Over-2024", "password2": "Taken-Over-2024"},
    )
    assert response.status_code == 403
    root.refresh_from_db()
    assert root.check_password("pw-Root-2018!")


def test_an_administrator_cannot_delete_a_superuser(admin_client, root):
    url = reverse("admin:auth_user_delete", args=[root.pk])
    assert admin_client.post(url, {"post": "yes"}).status_code == 403
    changelist = reverse("admin:auth_user_changelist")
    admin_client.post(
        changelist, {"action": "delete_selected", "_selected_action": [root.pk], "post": "yes"}
    )
    assert type(root).objects.filter(pk=root.pk, is_superuser=True).exists()


def test_a_superuser_still_grants_everything(client, otp_login, root, editor):
    otp_login(client, root)
    grant = Permission.objects.get(codename="add_permission")
    response = client.post(
        _change_url(editor), _user_form(editor, is_superuser="on", user_permissions=[grant.pk])
    )
    assert response.status_code == 302
    editor.refresh_from_db()
    assert editor.is_superuser
    assert list(editor.user_permissions.all()) == [grant]
    group = Group.objects.get(name="查阅")
    client.post(
        reverse("admin:auth_group_change", args=[group.pk]),
        {"name": "查阅", "permissions": [grant.pk], "_save": "保存"},
    )
    assert list(group.permissions.all()) == [grant]
