"""The memo admin's import keeps its uploads to itself: its own folder, its own
names, a confirm step that takes only a name it issued to the same user, and
no preview left behind for more than an hour."""

import os
import stat
import tempfile
import time
from pathlib import Path

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command
from django.urls import reverse

from memo_registry.audit.models import ImportBatch
from memo_registry.imports.memos.uploads import FORGED, issue_upload
from memos.models import Memorandum
from tests.data.builders import current_list, dump_everything, seed_rows, write_csv

pytestmark = pytest.mark.django_db

IMPORT_URL = reverse("admin:memos_memorandum_import")
PROCESS_URL = reverse("admin:memos_memorandum_process_import")
HOUR = 60 * 60


@pytest.fixture
def upload_dir(settings, tmp_path):
    """A folder of uploads for this test alone (others' previews are not ours to purge)."""
    settings.IMPORT_TMP_DIR = str(tmp_path / "uploads")
    return Path(settings.IMPORT_TMP_DIR)


@pytest.fixture
def registry(db):
    return current_list()


@pytest.fixture
def seed_csv(tmp_path) -> bytes:
    return write_csv(tmp_path / "seed.csv", seed_rows()).read_bytes()


def _signed_in(client, user, otp_login):
    otp_login(client, user)
    return client


def _preview(client, data: bytes, registry):
    upload = SimpleUploadedFile("seed.csv", data)
    response = client.post(
        IMPORT_URL,
        {
            "resource": "0",
            "format": "0",
            "import_file": upload,
            "responsibility_list": registry.pk,
        },
    )
    assert response.status_code == 200
    assert "confirm_form" in response.context, response.content.decode()[:2000]
    return response


def client_for(user, otp_login):
    from django.test import Client

    return _signed_in(Client(), user, otp_login)


def _confirm_data(preview) -> dict:
    form = preview.context["confirm_form"]
    return {name: form.initial.get(name, "") for name in form.fields}


def _messages(response) -> list[str]:
    return [str(message) for message in response.wsgi_request._messages]


def _uploads(folder: Path) -> list[Path]:
    return sorted(folder.iterdir()) if folder.exists() else []


def test_forged_import_file_name_cannot_touch_another_file(
    client, editor, otp_login, registry, seed_csv, upload_dir
):
    # A file of the system temp folder that an import would accept: the old
    # confirm step parsed it, imported its ten memos and deleted it.
    victim = tempfile.NamedTemporaryFile(dir=tempfile.gettempdir(), suffix=".csv", delete=False)
    victim.write(seed_csv)
    victim.close()
    try:
        _signed_in(client, editor, otp_login)
        before = dump_everything()
        response = client.post(
            PROCESS_URL,
            {
                "import_file_name": os.path.basename(victim.name),
                "original_file_name": "seed.csv",
                "format": "0",
                "resource": "0",
                "responsibility_list": registry.pk,
            },
        )
        assert response.status_code == 302
        assert response["Location"] == IMPORT_URL
        assert FORGED in _messages(response)
        assert Path(victim.name).read_bytes() == seed_csv  # still there, untouched
        assert dump_everything() == before
        assert not Memorandum.objects.exists()
    finally:
        os.unlink(victim.name)


@pytest.mark.parametrize(
    "forged",
    [
        "../../etc/hostname",
        "/etc/hostname",
        "0123456789abcdef0123456789abcdef.upload",  # a name of the right shape, unsigned
        "",
    ],
)
def test_a_confirm_naming_no_issued_upload_is_refused(
    client, editor, otp_login, registry, upload_dir, forged
):
    _signed_in(client, editor, otp_login)
    before = dump_everything()
    response = client.post(
        PROCESS_URL,
        {
            "import_file_name": forged,
            "original_file_name": "x.csv",
            "format": "0",
            "resource": "0",
            "responsibility_list": registry.pk,
        },
    )
    assert response.status_code == 302
    assert _messages(response)  # the reason, in Chinese
    assert dump_everything() == before


def test_an_upload_issued_to_another_user_is_refused(
    client, editor, administrator, otp_login, registry, seed_csv, upload_dir
):
    _signed_in(client, administrator, otp_login)
    preview = _preview(client, seed_csv, registry)
    data = _confirm_data(preview)
    [upload] = _uploads(upload_dir)

    other = client_for(editor, otp_login)
    before = dump_everything()
    # The administrator's token as the page gave it, the same token made
    # again by the server, and the bare name of the file.
    tokens = (data["import_file_name"], issue_upload(upload.name, administrator), upload.name)
    for name in tokens:
        response = other.post(PROCESS_URL, data | {"import_file_name": name})
        assert response.status_code == 302
        assert FORGED in _messages(response)
        assert dump_everything() == before
        assert upload.exists()

    # The administrator it was issued to can still confirm it.
    done = client.post(PROCESS_URL, data)
    assert done.status_code == 302
    assert Memorandum.objects.count() == 10
    assert ImportBatch.objects.get().user == administrator
    assert not upload.exists()


def test_uploads_live_in_a_private_folder_under_random_names(
    client, editor, otp_login, registry, seed_csv, upload_dir
):
    _signed_in(client, editor, otp_login)
    preview = _preview(client, seed_csv, registry)
    assert stat.S_IMODE(upload_dir.stat().st_mode) == 0o700
    [upload] = _uploads(upload_dir)
    assert upload.read_bytes() == seed_csv
    assert stat.S_IMODE(upload.stat().st_mode) == 0o600
    token = _confirm_data(preview)["import_file_name"]
    assert token != upload.name and upload.name not in preview.content.decode()

    done = client.post(PROCESS_URL, _confirm_data(preview))
    assert done.status_code == 302
    assert Memorandum.objects.count() == 10
    assert _uploads(upload_dir) == []  # deleted once imported


def test_a_file_the_preview_refuses_is_not_kept(client, editor, otp_login, registry, upload_dir):
    _signed_in(client, editor, otp_login)
    upload = SimpleUploadedFile("bad.csv", "序号,文号\nx,y\n".encode())
    response = client.post(
        IMPORT_URL,
        {"resource": "0", "format": "0", "import_file": upload, "responsibility_list": registry.pk},
    )
    assert response.status_code == 200
    assert "confirm_form" not in response.context
    assert _uploads(upload_dir) == []


def test_stale_previews_are_purged_after_an_hour(
    client, editor, otp_login, registry, seed_csv, upload_dir
):
    _signed_in(client, editor, otp_login)
    stale_preview = _preview(client, seed_csv, registry)
    [stale] = _uploads(upload_dir)
    an_hour_ago = time.time() - HOUR - 60
    os.utime(stale, (an_hour_ago, an_hour_ago))
    unrelated = upload_dir / "notes.txt"  # not a name the storage makes: never touched
    unrelated.write_text("x")
    os.utime(unrelated, (an_hour_ago, an_hour_ago))

    fresh_preview = _preview(client, seed_csv, registry)  # a new import purges
    assert not stale.exists()
    [fresh] = [path for path in _uploads(upload_dir) if path.suffix == ".upload"]
    assert unrelated.exists()

    # The stale preview's confirm step says the file is gone; nothing is written.
    before = dump_everything()
    response = client.post(PROCESS_URL, _confirm_data(stale_preview))
    assert response.status_code == 302
    assert "上传的文件已失效，未写入任何数据；请重新上传。" in _messages(response)
    assert dump_everything() == before

    # The management command does the same for a cron job.
    os.utime(fresh, (an_hour_ago, an_hour_ago))
    call_command("purge_import_uploads", stdout=open(os.devnull, "w"))
    assert not fresh.exists()
    assert unrelated.exists()
    assert client.post(PROCESS_URL, _confirm_data(fresh_preview)).status_code == 302
    assert not Memorandum.objects.exists()


def test_a_preview_younger_than_an_hour_is_kept(
    client, editor, otp_login, registry, seed_csv, upload_dir
):
    _signed_in(client, editor, otp_login)
    preview = _preview(client, seed_csv, registry)
    [upload] = _uploads(upload_dir)
    recent = time.time() - HOUR + 300
    os.utime(upload, (recent, recent))
    call_command("purge_import_uploads", stdout=open(os.devnull, "w"))
    assert upload.exists()
    assert client.post(PROCESS_URL, _confirm_data(preview)).status_code == 302
    assert Memorandum.objects.count() == 10


def test_a_confirm_older_than_an_hour_is_refused_even_if_the_file_remains(
    client, editor, otp_login, registry, seed_csv, upload_dir, settings
):
    _signed_in(client, editor, otp_login)
    preview = _preview(client, seed_csv, registry)
    [upload] = _uploads(upload_dir)
    settings.IMPORT_UPLOAD_MAX_AGE = -1  # the token is older than the limit
    response = client.post(PROCESS_URL, _confirm_data(preview))
    assert "预览已超过一小时" in " ".join(_messages(response))
    assert upload.exists()  # left to the purge
    assert not Memorandum.objects.exists()


def test_a_folder_owned_by_someone_else_or_a_link_is_not_used(settings, tmp_path):
    from django.core.exceptions import ImproperlyConfigured

    from memo_registry.imports.memos.uploads import upload_dir

    target = tmp_path / "elsewhere"
    target.mkdir()
    link = tmp_path / "link"
    link.symlink_to(target)
    settings.IMPORT_TMP_DIR = str(link)
    with pytest.raises(ImproperlyConfigured):
        upload_dir()
    wide = tmp_path / "wide"
    wide.mkdir(mode=0o777)
    wide.chmod(0o777)
    settings.IMPORT_TMP_DIR = str(wide)
    assert stat.S_IMODE(upload_dir().stat().st_mode) == 0o700
