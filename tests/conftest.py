import pytest
from django.core.management import call_command

FIXTURE_2018 = "fixtures/responsibility_list_2018.json"


@pytest.fixture
def list_2018(db):
    """The 2018 responsibility list, loaded from the project's fixture."""
    from memos.models import ResponsibilityList

    call_command("loaddata", FIXTURE_2018, verbosity=0)
    return ResponsibilityList.objects.get(doc_number="武质技监管〔2018〕22号")


def _member(django_user_model, username, group, **extra):
    from django.contrib.auth.models import Group

    user = django_user_model.objects.create_user(username, password="pw-Registry-2018", **extra)
    if group:
        user.groups.add(Group.objects.get(name=group))
    return user


@pytest.fixture
def clerk(db, django_user_model):
    """A member of 查阅: reads memoranda and subjects."""
    return _member(django_user_model, "clerk", "查阅")


@pytest.fixture
def editor(db, django_user_model):
    """A member of 编辑: also edits memoranda and imports lists (admin access)."""
    return _member(django_user_model, "editor", "编辑", is_staff=True)


@pytest.fixture
def administrator(db, django_user_model):
    """A member of 管理员: also users, lists, subjects and full identity numbers."""
    return _member(django_user_model, "administrator", "管理员", is_staff=True)


@pytest.fixture
def clerk_client(client, clerk):
    client.force_login(clerk)
    return client


def _otp_login(client, user):
    """Sign ``user`` in with the password and a TOTP code, as the admin asks of staff.

    Gives the user a confirmed TOTP device (once) and marks the session
    verified with it, as django_otp.login does after a correct code.
    """
    from django_otp import DEVICE_ID_SESSION_KEY
    from django_otp.plugins.otp_totp.models import TOTPDevice

    device = TOTPDevice.objects.filter(user=user, confirmed=True).first()
    if device is None:
        device = TOTPDevice.objects.create(user=user, name="测试设备", confirmed=True)
    client.force_login(user)
    session = client.session
    session[DEVICE_ID_SESSION_KEY] = device.persistent_id
    session.save()
    return client


@pytest.fixture
def otp_login(db):
    """``otp_login(client, user)``: signed in with both factors (staff need it for /admin/)."""
    return _otp_login


@pytest.fixture
def as_editor(client, editor):
    """The test client signed in (password only, as the site's pages ask) as 编辑."""
    client.force_login(editor)
    return client


@pytest.fixture
def upload_dir(settings, tmp_path):
    """IMPORT_TMP_DIR in the test's own folder (uploads kept between preview and confirm)."""
    from pathlib import Path

    settings.IMPORT_TMP_DIR = str(tmp_path / "uploads")
    return Path(settings.IMPORT_TMP_DIR)
