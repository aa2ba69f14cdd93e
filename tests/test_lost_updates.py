"""No lost updates: an admin change form saved over a newer version is refused.

Each test drives the real admin views: a page is loaded (GET), the fields a
browser would send are read from its HTML (hidden version fields included),
someone else changes the object, and the old page is saved (POST).  Before
memo_registry.admin.concurrency the last save silently put the old values back.
"""

import datetime
import io
import threading
from html.parser import HTMLParser

import pytest
from django.contrib.admin.models import LogEntry
from django.contrib.auth.models import Group, Permission
from django.core.management import call_command
from django.db import connection
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from measures.models import Measure
from memo_registry.admin.memos import MemorandumAdmin
from memo_registry.audit.models import ImportBatch
from memo_registry.imports.listings import import_subject_rows
from memo_registry.imports.memos import read_path, run_import
from memos.models import Memorandum
from subjects.models import Listing, Subject
from tests.data.builders import HEADER, write_csv
from tests.factories import ListingFactory, SubjectFactory

pytestmark = pytest.mark.django_db

REFUSED = "您的修改未保存。请刷新页面后重新修改。"


# --- a browser, as far as a form goes ---------------------------------------------------


class _FormFields(HTMLParser):
    """The (name, value) pairs a browser submits from the form with ``form_id``."""

    def __init__(self, form_id: str):
        super().__init__(convert_charrefs=True)
        self.form_id = form_id
        self.inside = False
        self.fields: list[tuple[str, str]] = []
        self.select = None  # (name, multiple, options, selected)
        self.option = None  # (attributes, text)
        self.textarea = None  # (name, text)

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "form":
            self.inside = attrs.get("id") == self.form_id
        elif not self.inside:
            return
        elif tag == "input":
            kind = attrs.get("type", "text")
            name = attrs.get("name")
            if not name or kind in {"submit", "button", "file", "image", "reset"}:
                return
            if kind in {"checkbox", "radio"}:
                if "checked" in attrs:
                    self.fields.append((name, attrs.get("value", "on")))
                return
            self.fields.append((name, attrs.get("value", "")))
        elif tag == "select":
            self.select = (attrs.get("name"), "multiple" in attrs, [], [])
        elif tag == "option" and self.select is not None:
            self.option = (attrs, "")
        elif tag == "textarea":
            self.textarea = (attrs.get("name"), "")

    def handle_data(self, data):
        if self.option is not None:
            self.option = (self.option[0], self.option[1] + data)
        if self.textarea is not None:
            self.textarea = (self.textarea[0], self.textarea[1] + data)

    def handle_endtag(self, tag):
        if tag == "form":
            self.inside = False
        elif tag == "option" and self.option is not None:
            attrs, text = self.option
            value = attrs.get("value", text)
            self.select[2].append(value)
            if "selected" in attrs:
                self.select[3].append(value)
            self.option = None
        elif tag == "select" and self.select is not None:
            name, multiple, options, selected = self.select
            if not selected and not multiple and options:
                selected = options[:1]  # what a browser sends for a single select
            self.fields += [(name, value) for value in selected]
            self.select = None
        elif tag == "textarea" and self.textarea is not None:
            name, text = self.textarea
            # A browser drops the newline right after <textarea>.
            self.fields.append((name, text[1:] if text.startswith("\n") else text))
            self.textarea = None


def load(client, url: str, form_id: str) -> dict[str, list[str]]:
    """GET a change page; the fields its form would send, by name."""
    response = client.get(url)
    assert response.status_code == 200
    parser = _FormFields(form_id)
    parser.feed(response.content.decode())
    data: dict[str, list[str]] = {}
    for name, value in parser.fields:
        data.setdefault(name, []).append(value)
    assert data, f"no form {form_id} on {url}"
    return data


def save(client, url: str, data: dict) -> object:
    return client.post(url, {**data, "_save": "保存"})


def memo_url(memo) -> str:
    return reverse("admin:memos_memorandum_change", args=[memo.pk])


def subject_url(subject) -> str:
    return reverse("admin:subjects_subject_change", args=[subject.pk])


def listing_url(listing) -> str:
    return reverse("admin:subjects_listing_change", args=[listing.pk])


def load_memo(client, memo):
    return load(client, memo_url(memo), "memorandum_form")


def load_subject(client, subject):
    return load(client, subject_url(subject), "subject_form")


def load_listing(client, listing):
    return load(client, listing_url(listing), "listing_form")


def snapshot() -> tuple[str, int]:
    """Every row of the three apps, history included, and the admin's log."""
    out = io.StringIO()
    call_command("dumpdata", "memos", "measures", "subjects", stdout=out, indent=0, verbosity=0)
    return out.getvalue(), LogEntry.objects.count()


def when(record) -> str:
    return timezone.localtime(record.history_date).strftime("%Y-%m-%d %H:%M")


def latest_history(model, pk):
    return model.history.filter(id=pk).latest()


def assert_refused(response, message: str) -> None:
    """The form is shown again (not saved) with ``message``."""
    assert response.status_code == 200, "the stale form was saved"
    assert message in response.content.decode()


# --- people ------------------------------------------------------------------------------


def named(user, last_name: str, first_name: str):
    user.last_name, user.first_name = last_name, first_name
    user.save()
    return user


@pytest.fixture
def zhang(editor, otp_login):
    """张三 (编辑), in a browser of his own."""
    return otp_login(Client(), named(editor, "张", "三"))


@pytest.fixture
def li(administrator, otp_login):
    """李四 (管理员), in a browser of his own."""
    return otp_login(Client(), named(administrator, "李", "四"))


@pytest.fixture
def wang(django_user_model, otp_login):
    """王五, a second 管理员 (subjects and listings are theirs to edit)."""
    user = django_user_model.objects.create_user(
        "wang", password="pw-Registry-2018", is_staff=True, last_name="王", first_name="五"
    )
    user.groups.add(Group.objects.get(name="管理员"))
    return otp_login(Client(), user)


@pytest.fixture
def memo(list_2018):
    return Memorandum.objects.get(seq=2)


@pytest.fixture
def listing(memo):
    subject = SubjectFactory(name="武汉市某某质量有限公司")
    return ListingFactory(subject=subject, target_subject=memo.target_subject)


# --- memoranda and their measures ---------------------------------------------------------


def test_stale_memo_form_cannot_revert_another_admins_title(memo, zhang, li):
    stale = load_memo(li, memo)
    fresh = load_memo(zhang, memo)
    assert stale["version"] == [str(memo.version)]
    fresh["title"] = ["关于实施优秀青年志愿者守信联合激励的行动计划（修订）"]
    assert save(zhang, memo_url(memo), fresh).status_code == 302

    # 李四 marks the memo repealed on the page he loaded before 张三's change.
    stale.update(status=["repealed"], repealed_on=["2026-01-01"])
    before = snapshot()
    response = save(li, memo_url(memo), stale)

    record = latest_history(Memorandum, memo.pk)
    assert_refused(response, f"该备忘录已于 {when(record)} 由 张三 修改，{REFUSED}")
    assert snapshot() == before  # nothing written: memo, measures, history, log
    memo.refresh_from_db()
    assert memo.title == "关于实施优秀青年志愿者守信联合激励的行动计划（修订）"
    assert memo.status == Memorandum.Status.IN_FORCE
    # 李四's input is on the page again, to copy after a refresh.
    form = response.context["adminform"].form
    assert form["status"].value() == "repealed"
    assert form["repealed_on"].value() == "2026-01-01"


def test_stale_memo_form_cannot_revert_a_measure_text(memo, zhang, li):
    measure = memo.measures.get()
    stale = load_memo(li, memo)
    fresh = load_memo(zhang, memo)
    assert stale["measures-0-version"] == [str(measure.version)]
    fresh["measures-0-text"] = ["在评优评先中对优秀青年志愿者予以优先考虑。"]
    assert save(zhang, memo_url(memo), fresh).status_code == 302

    stale["title"] = ["关于实施优秀青年志愿者守信联合激励的行动计划（李四改）"]
    before = snapshot()
    response = save(li, memo_url(memo), stale)

    record = latest_history(Measure, measure.pk)
    assert_refused(response, f"该备忘录的奖惩措施已于 {when(record)} 由 张三 修改，{REFUSED}")
    # The admin saved the memo along with its measure: the top of the page says so.
    memo_record = latest_history(Memorandum, memo.pk)
    assert_refused(response, f"该备忘录已于 {when(memo_record)} 由 张三 修改，{REFUSED}")
    assert snapshot() == before
    measure.refresh_from_db()
    assert measure.text == "在评优评先中对优秀青年志愿者予以优先考虑。"
    memo.refresh_from_db()
    assert "李四改" not in memo.title


def test_a_measure_changed_without_its_memo_is_named_at_the_top_of_the_page(memo, li):
    # Any writer but the memo page (a script, say) may change a measure alone;
    # its refusal, shown above the inline table far down the page, is said at
    # the top too.
    measure = memo.measures.get()
    stale = load_memo(li, memo)
    measure.text = "在评优评先中对优秀青年志愿者予以优先考虑。"
    measure.save()
    stale["title"] = ["关于实施优秀青年志愿者守信联合激励的行动计划（李四改）"]
    response = save(li, memo_url(memo), stale)
    record = latest_history(Measure, measure.pk)  # saved outside a request: no user
    message = f"该备忘录的奖惩措施已于 {when(record)} 由 未知用户 修改，{REFUSED}"
    assert_refused(response, message)
    assert [str(m) for m in response.context["messages"]] == [message]
    memo.refresh_from_db()
    assert "李四改" not in memo.title


def test_stale_memo_form_is_refused_when_another_admin_added_a_measure(memo, zhang, li):
    stale = load_memo(li, memo)
    fresh = load_memo(zhang, memo)
    division = memo.measures.get().divisions.get()
    fresh.update(
        {
            "measures-TOTAL_FORMS": ["2"],
            "measures-1-id": [""],
            "measures-1-memo": [str(memo.pk)],
            "measures-1-order": ["2"],
            "measures-1-text": ["对优秀青年志愿者在办理相关业务时予以便利。"],
            "measures-1-divisions": [str(division.pk)],
        }
    )
    assert save(zhang, memo_url(memo), fresh).status_code == 302
    added = memo.measures.get(order=2)

    stale["measures-0-text"] = ["李四改写的措施。"]
    before = snapshot()
    response = save(li, memo_url(memo), stale)

    record = latest_history(Measure, added.pk)
    assert_refused(response, f"该备忘录的奖惩措施已于 {when(record)} 由 张三 新增，{REFUSED}")
    assert snapshot() == before


def test_stale_memo_form_is_refused_when_another_admin_deleted_a_measure(memo, zhang, li):
    measure = memo.measures.get()
    stale = load_memo(li, memo)
    fresh = load_memo(zhang, memo)
    fresh["measures-0-DELETE"] = ["on"]
    assert save(zhang, memo_url(memo), fresh).status_code == 302
    assert not memo.measures.exists()

    stale["measures-0-text"] = ["李四改写的措施。"]
    before = snapshot()
    response = save(li, memo_url(memo), stale)

    record = latest_history(Measure, measure.pk)
    assert record.history_type == "-"
    assert_refused(response, f"该备忘录的奖惩措施已于 {when(record)} 由 张三 删除，{REFUSED}")
    assert snapshot() == before
    assert not memo.measures.exists()


def test_a_fresh_memo_form_saves_normally(memo, li):
    measure = memo.measures.get()
    data = load_memo(li, memo)
    data["title"] = ["关于实施优秀青年志愿者守信联合激励的行动计划（修订）"]
    data["measures-0-text"] = ["在评优评先中对优秀青年志愿者予以优先考虑。"]
    assert save(li, memo_url(memo), data).status_code == 302
    memo.refresh_from_db()
    measure.refresh_from_db()
    assert memo.title.endswith("（修订）")
    assert measure.text == "在评优评先中对优秀青年志愿者予以优先考虑。"
    assert (memo.version, measure.version) == (2, 2)
    # The history row records the version it made: the refusal names its author.
    assert latest_history(Memorandum, memo.pk).version == 2


def test_two_sequential_edits_by_the_same_user_work(memo, li):
    for n in (1, 2):
        data = load_memo(li, memo)  # the page reloaded after each save, as the admin does
        data["title"] = [f"关于实施优秀青年志愿者守信联合激励的行动计划（第{n}次修订）"]
        data["measures-0-text"] = [f"第{n}次修订的措施。"]
        assert save(li, memo_url(memo), data).status_code == 302
    memo.refresh_from_db()
    assert memo.title.endswith("（第2次修订）")
    assert memo.measures.get().text == "第2次修订的措施。"
    assert memo.version == 3


def test_a_memo_saves_when_its_measures_are_read_only_to_the_user(
    memo, django_user_model, otp_login
):
    # Rows shown read-only post no version; they must not count as changed.
    user = django_user_model.objects.create_user("reader", password="pw-1", is_staff=True)
    user.user_permissions.set(
        Permission.objects.filter(
            codename__in=["view_memorandum", "change_memorandum", "view_measure"]
        )
    )
    client = otp_login(Client(), user)
    data = load_memo(client, memo)
    assert "measures-0-version" not in data
    data["title"] = ["关于实施优秀青年志愿者守信联合激励的行动计划（修订）"]
    assert save(client, memo_url(memo), data).status_code == 302
    memo.refresh_from_db()
    assert memo.title.endswith("（修订）")


def test_an_unchanged_stale_form_is_refused_too(memo, zhang, li):
    # Saving a page untouched writes every field it shows: the old title too.
    stale = load_memo(li, memo)
    fresh = load_memo(zhang, memo)
    fresh["title"] = ["关于实施优秀青年志愿者守信联合激励的行动计划（修订）"]
    assert save(zhang, memo_url(memo), fresh).status_code == 302
    assert_refused(save(li, memo_url(memo), stale), REFUSED)
    memo.refresh_from_db()
    assert memo.title.endswith("（修订）")


def test_a_form_without_its_version_is_refused(memo, li):
    data = load_memo(li, memo)
    del data["version"]
    data["title"] = ["关于实施优秀青年志愿者守信联合激励的行动计划（修订）"]
    assert_refused(save(li, memo_url(memo), data), REFUSED)
    memo.refresh_from_db()
    assert not memo.title.endswith("（修订）")


def test_a_revert_from_history_works_and_is_refused_when_stale(memo, zhang, li):
    data = load_memo(li, memo)
    original = memo.title
    data["title"] = ["关于实施优秀青年志愿者守信联合激励的行动计划（修订）"]
    assert save(li, memo_url(memo), data).status_code == 302
    first = memo.history.earliest()
    revert = reverse("admin:memos_memorandum_simple_history", args=[memo.pk, first.history_id])

    stale = load(li, revert, "historicalmemorandum_form")
    fresh = load(zhang, revert, "historicalmemorandum_form")
    assert save(zhang, revert, fresh).status_code == 302
    memo.refresh_from_db()
    assert (memo.title, memo.version) == (original, 3)  # reverted, and the version moved on
    assert_refused(save(li, revert, stale), f"由 张三 修改，{REFUSED}")


# --- subjects, their listings, and a listing on its own page --------------------------


def test_stale_subject_form_cannot_revert_another_admins_name(listing, wang, li):
    subject = listing.subject
    stale = load_subject(li, subject)
    fresh = load_subject(wang, subject)
    assert stale["listings-0-version"] == [str(listing.version)]
    fresh["name"] = ["武汉市某某质量股份有限公司"]
    assert save(wang, subject_url(subject), fresh).status_code == 302

    stale["listings-0-source"] = ["市市场监管局"]
    before = snapshot()
    response = save(li, subject_url(subject), stale)

    record = latest_history(Subject, subject.pk)
    assert_refused(response, f"该主体已于 {when(record)} 由 王五 修改，{REFUSED}")
    assert snapshot() == before
    subject.refresh_from_db()
    listing.refresh_from_db()
    assert (subject.name, listing.source) == ("武汉市某某质量股份有限公司", "市质监局")


def test_stale_subject_form_cannot_revert_a_listing(listing, wang, li):
    subject = listing.subject
    stale = load_subject(li, subject)
    # 王五 lifts the listing on its own page.
    fresh = load_listing(wang, listing)
    fresh.update(lifted_on=["2025-06-01"], lift_reason=["信用修复"])
    assert save(wang, listing_url(listing), fresh).status_code == 302

    stale["name"] = ["武汉市某某质量股份有限公司"]
    before = snapshot()
    response = save(li, subject_url(subject), stale)

    record = latest_history(Listing, listing.pk)
    assert_refused(response, f"该主体的名单记录已于 {when(record)} 由 王五 修改，{REFUSED}")
    assert snapshot() == before
    listing.refresh_from_db()
    assert listing.lifted_on == datetime.date(2025, 6, 1)


def test_stale_listing_form_cannot_revert_another_admins_change(listing, wang, li):
    stale = load_listing(li, listing)
    fresh = load_listing(wang, listing)
    fresh.update(lifted_on=["2025-06-01"], lift_reason=["信用修复"])
    assert save(wang, listing_url(listing), fresh).status_code == 302

    stale["source"] = ["市市场监管局"]
    before = snapshot()
    response = save(li, listing_url(listing), stale)

    record = latest_history(Listing, listing.pk)
    assert_refused(response, f"该名单记录已于 {when(record)} 由 王五 修改，{REFUSED}")
    assert snapshot() == before
    listing.refresh_from_db()
    assert (listing.lifted_on, listing.source) == (datetime.date(2025, 6, 1), "市质监局")


def test_a_fresh_listing_form_saves_normally_twice(listing, li):
    for source in ("市市场监管局", "省市场监管局"):
        data = load_listing(li, listing)
        data["source"] = [source]
        assert save(li, listing_url(listing), data).status_code == 302
    listing.refresh_from_db()
    assert (listing.source, listing.version) == ("省市场监管局", 3)


# --- the imports move the version too -------------------------------------------------


def _memo_row(memo, title: str) -> list[str]:
    measures = list(memo.measures.order_by("order"))
    return [
        str(memo.seq),
        memo.doc_number,
        title,
        "、".join(d.name for d in memo.initiating_departments.all()),
        memo.target_subject.definition,
        memo.implementing_department.name,
        "\n".join(f"{m.order}、{m.text}" for m in measures),
        "\n".join("、".join(d.name for d in m.divisions.all()) for m in measures),
    ]


def test_a_memo_import_after_the_form_was_loaded_refuses_the_stale_form(
    memo, list_2018, editor, li, tmp_path
):
    stale = load_memo(li, memo)
    named(editor, "张", "三")
    title = "关于实施优秀青年志愿者守信联合激励的行动计划（2019年修订）"
    path = write_csv(tmp_path / "清单.csv", [HEADER, _memo_row(memo, title)])
    run_import(read_path(path), list_2018, user=editor, source="admin")
    memo.refresh_from_db()
    assert memo.title == title

    stale["status"] = ["repealed"]
    stale["repealed_on"] = ["2026-01-01"]
    before = snapshot()
    response = save(li, memo_url(memo), stale)

    record = latest_history(Memorandum, memo.pk)
    assert_refused(response, f"该备忘录已于 {when(record)} 由 张三 修改，{REFUSED}")
    assert snapshot() == before
    memo.refresh_from_db()
    assert (memo.title, memo.status) == (title, Memorandum.Status.IN_FORCE)


def test_a_memo_import_that_moves_a_seq_raises_the_version(memo, list_2018, tmp_path):
    # _free_seqs moves the memo with QuerySet.update() before saving it.
    version = memo.version
    row = _memo_row(memo, memo.title)
    row[0] = "99"
    run_import(read_path(write_csv(tmp_path / "清单.csv", [HEADER, row])), list_2018)
    memo.refresh_from_db()
    assert memo.seq == 99
    assert memo.version >= version + 2


def test_a_listing_import_after_the_forms_were_loaded_refuses_the_stale_forms(
    listing, memo, editor, li
):
    subject = listing.subject
    stale_listing = load_listing(li, listing)
    stale_subject = load_subject(li, subject)
    named(editor, "张", "三")
    rows = [
        (1, ["统一社会信用代码", "名称", "列入依据", "列入日期", "有效期至", "来源"]),
        (2, [subject.code, "武汉市某某质量股份有限公司", memo.doc_number, "2024-01-01", "2030-01-01", "市质监局"]),
    ]  # fmt: skip
    result = import_subject_rows(rows, file_name="名单.csv", sha256="0" * 64, user=editor)
    assert (result.subjects_updated, result.listings_updated) == (1, 1)
    listing.refresh_from_db()
    subject.refresh_from_db()
    assert (listing.expires_on, listing.version) == (datetime.date(2030, 1, 1), 2)
    assert subject.version == 2

    # The listing import writes no history rows: the batch says who and when.
    batch = ImportBatch.objects.get()
    at = timezone.localtime(batch.finished_at).strftime("%Y-%m-%d %H:%M")
    by = "张三（批量导入“名单.csv”）"
    stale_listing["source"] = ["市市场监管局"]
    stale_subject["listings-0-source"] = ["市市场监管局"]
    before = snapshot()
    response = save(li, listing_url(listing), stale_listing)
    assert_refused(response, f"该名单记录已于 {at} 由 {by} 修改，{REFUSED}")
    response = save(li, subject_url(subject), stale_subject)
    assert_refused(response, f"该主体已于 {at} 由 {by} 修改，{REFUSED}")
    assert snapshot() == before
    listing.refresh_from_db()
    assert (listing.expires_on, listing.source) == (datetime.date(2030, 1, 1), "市质监局")


def test_a_listing_import_that_adds_a_listing_refuses_the_stale_subject_form(
    listing, memo, list_2018, li
):
    subject = listing.subject
    stale = load_subject(li, subject)
    rows = [
        (1, ["统一社会信用代码", "名称", "列入依据", "列入日期"]),
        (2, [subject.code, subject.name, memo.doc_number, "2025-03-01"]),
    ]
    result = import_subject_rows(rows, file_name="名单.csv", sha256="0" * 64)
    assert result.listings_created == 1
    stale["name"] = ["武汉市某某质量股份有限公司"]
    response = save(li, subject_url(subject), stale)
    assert_refused(response, "该主体的名单记录已于")
    assert "由 批量导入“名单.csv” 新增" in response.content.decode()
    subject.refresh_from_db()
    assert subject.name == "武汉市某某质量有限公司"


# --- two saves at the same moment -------------------------------------------------------


@pytest.mark.django_db(transaction=True)
def test_two_saves_at_the_same_moment_cannot_both_pass(list_2018, zhang, li, monkeypatch):
    # Each check reads the version after the other's: without the lock, 李四's
    # check would pass while 张三's save, already checked, is not yet committed.
    if connection.vendor != "postgresql":
        pytest.skip("SQLite lets one transaction write at a time")
    memo = Memorandum.objects.get(seq=2)
    first = load_memo(zhang, memo)
    second = load_memo(li, memo)
    first["title"] = ["关于实施优秀青年志愿者守信联合激励的行动计划（张三改）"]
    second["status"], second["repealed_on"] = ["repealed"], ["2026-01-01"]

    checked, go = threading.Event(), threading.Event()
    original = MemorandumAdmin.save_model

    def save_model(self, request, obj, form, change):
        if threading.current_thread().name == "first":
            checked.set()  # 张三's form has passed its check; his transaction is open
            go.wait(10)
        return original(self, request, obj, form, change)

    monkeypatch.setattr(MemorandumAdmin, "save_model", save_model)
    responses = {}

    def post(name, client, data):
        try:
            responses[name] = save(client, memo_url(memo), data)
        finally:
            connection.close()

    threads = [
        threading.Thread(target=post, name="first", args=("first", zhang, first)),
        threading.Thread(target=post, name="second", args=("second", li, second)),
    ]
    threads[0].start()
    assert checked.wait(10)
    threads[1].start()
    threads[1].join(1)  # 李四's check waits for 张三's transaction ...
    assert threads[1].is_alive()
    go.set()  # ... which now commits
    for thread in threads:
        thread.join(20)
    assert responses["first"].status_code == 302
    assert_refused(responses["second"], f"由 张三 修改，{REFUSED}")
    memo.refresh_from_db()
    assert memo.title.endswith("（张三改）")
    assert memo.status == Memorandum.Status.IN_FORCE
