"""The read-only JSON API and its OpenAPI schema."""

import datetime
import io
import json

import jsonschema
import pytest
import yaml
from django.core.management import call_command

from memos.models import Memorandum
from tests.document_2018 import ITEMS, LIST_DOC_NUMBER, YW
from tests.factories import MemorandumFactory, ResponsibilityListFactory

pytestmark = pytest.mark.django_db

MEMO_FIELDS = {
    "id",
    "seq",
    "doc_number",
    "title",
    "kind",
    "initiating_departments",
    "target_subject",
    "target_label",
    "implementing_department",
    "no_function",
    "no_function_note",
    "status",
    "repealed_on",
    "list",
    "measures",
}


def seqs(response):
    return [memo["seq"] for memo in response.json()["results"]]


# --- /api/memos/ ---------------------------------------------------------------


def test_memos_come_in_the_page_envelope_ordered_by_seq(client, list_2018):
    response = client.get("/api/memos/")
    assert response.status_code == 200
    body = response.json()
    assert set(body) == {"count", "next", "previous", "results"}
    assert body["count"] == 10
    assert body["next"] is None and body["previous"] is None
    assert seqs(response) == list(range(1, 11))


@pytest.mark.parametrize("item", ITEMS, ids=lambda item: f"item{item.seq}")
def test_each_memo_reads_as_the_document(client, list_2018, item):
    memo = next(m for m in client.get("/api/memos/").json()["results"] if m["seq"] == item.seq)
    assert set(memo) == MEMO_FIELDS
    assert memo["doc_number"] == item.doc_number
    assert memo["title"] == item.title
    assert memo["kind"] == item.kind
    assert memo["initiating_departments"] == item.departments
    assert memo["target_subject"] == item.definition
    assert memo["target_label"] == item.label
    assert memo["implementing_department"] == "全市质监部门"
    assert memo["no_function"] is bool(item.no_function_note)
    assert memo["no_function_note"] == item.no_function_note
    assert memo["measures"] == [
        # The 2018 document names no legal basis (issue 15).
        {"text": text, "divisions": divisions, "legal_basis": [], "basis_status": "missing"}
        for text, divisions in item.measures
    ]
    assert memo["status"] == "in_force" and memo["repealed_on"] is None
    assert memo["list"] == LIST_DOC_NUMBER


def test_the_json_export_writes_each_memo_exactly_as_the_api_answers_it(client, list_2018):
    # A repealed memo too: its date is the one field the 2018 list leaves empty.
    Memorandum.objects.filter(seq=4).update(
        status=Memorandum.Status.REPEALED, repealed_on=datetime.date(2020, 3, 1)
    )
    out = io.StringIO()
    call_command("export_memos", "--format", "json", stdout=out)
    exported = json.loads(out.getvalue())
    assert [record["seq"] for record in exported] == list(range(1, 11))
    assert exported[3]["repealed_on"] == "2020-03-01"
    for record in exported:
        assert record == client.get(f"/api/memos/{record['id']}/").json()
    # The list page's export of the same view writes the same records.
    page = client.get("/export.json", {"include_repealed": "true"})
    assert json.loads(page.content) == exported


def test_the_answer_is_utf8_json_without_escapes(client, list_2018):
    response = client.get("/api/memos/")
    assert response["Content-Type"] == "application/json"
    assert "失信被执行人".encode() in response.content
    assert b"\\u" not in response.content


def test_the_api_filters_by_kind(client, list_2018):
    assert seqs(client.get("/api/memos/", {"kind": "reward"})) == [1, 2, 3]


def test_the_api_filters_by_department_and_division_names(client, list_2018):
    assert seqs(client.get("/api/memos/", {"department": "武汉海关"})) == [3, 9]
    assert seqs(client.get("/api/memos/", {"division": "行政审批处"})) == [4]


def test_the_api_searches_like_the_page(client, list_2018):
    assert seqs(client.get("/api/memos/", {"search": "sxbzxr"})) == [5]
    assert seqs(client.get("/api/memos/", {"search": "发改财金(2016)141号"})) == [5]
    assert seqs(client.get("/api/memos/", {"search": "\x00海关"})) == [3, 9]


def test_unknown_department_or_division_names_give_empty_results(client, list_2018):
    for params in [{"department": "不存在的局"}, {"division": "不存在的处"}]:
        response = client.get("/api/memos/", params)
        assert response.status_code == 200
        assert response.json()["count"] == 0


def test_an_unknown_kind_is_a_400_with_a_message(client, list_2018):
    response = client.get("/api/memos/", {"kind": "bogus"})
    assert response.status_code == 400
    body = response.json()
    assert body["type"] == "validation_error"
    assert [error["attr"] for error in body["errors"]] == ["kind"]
    assert body["errors"][0]["detail"]


def test_an_unknown_list_is_a_404_with_a_message(client, list_2018):
    # The schema cannot list the lists there are: one that is not there is a
    # resource not found, as documented (schemathesis: no 400 for a valid string).
    response = client.get("/api/memos/", {"list": "不存在〔2099〕1号"})
    assert response.status_code == 404
    assert response.json() == {
        "type": "client_error",
        "errors": [
            {
                "code": "not_found",
                "detail": "没有文号为“不存在〔2099〕1号”的责任清单。",
                "attr": None,
            }
        ],
    }


def test_a_list_is_chosen_by_its_doc_number_in_any_bracket_style(client, list_2018):
    old = ResponsibilityListFactory(doc_number="旧监管〔2015〕3号")
    MemorandumFactory(responsibility_list=old, seq=1, title="旧备忘录")
    response = client.get("/api/memos/", {"list": "旧监管(2015)3号"})
    assert [memo["title"] for memo in response.json()["results"]] == ["旧备忘录"]
    assert seqs(client.get("/api/memos/", {"list": LIST_DOC_NUMBER})) == list(range(1, 11))


def test_repealed_memos_are_left_out_unless_asked_for(client, list_2018):
    Memorandum.objects.filter(seq=2).update(
        status=Memorandum.Status.REPEALED, repealed_on=datetime.date(2021, 3, 1)
    )
    assert 2 not in seqs(client.get("/api/memos/"))
    memos = client.get("/api/memos/", {"include_repealed": "true"}).json()["results"]
    repealed = next(memo for memo in memos if memo["seq"] == 2)
    assert repealed["status"] == "repealed"
    assert repealed["repealed_on"] == "2021-03-01"


def test_a_page_past_the_end_is_a_404(client, list_2018):
    response = client.get("/api/memos/", {"page": 999})
    assert response.status_code == 404
    assert response.json()["errors"][0]["code"] == "not_found"


def test_no_current_list_gives_no_memos(client, db):
    assert client.get("/api/memos/").json()["count"] == 0


# --- /api/memos/<id>/ ----------------------------------------------------------


def test_one_memo_by_id(client, list_2018):
    memo = Memorandum.objects.get(seq=7)
    body = client.get(f"/api/memos/{memo.pk}/").json()
    assert body["seq"] == 7
    assert [measure["divisions"] for measure in body["measures"]] == [[YW]] * 3


def test_a_repealed_memo_is_still_there_by_id(client, list_2018):
    memo = Memorandum.objects.get(seq=2)
    Memorandum.objects.filter(pk=memo.pk).update(
        status=Memorandum.Status.REPEALED, repealed_on=datetime.date(2021, 3, 1)
    )
    assert client.get(f"/api/memos/{memo.pk}/").json()["status"] == "repealed"


@pytest.mark.parametrize("pk", ["999999", "99999999999999999999999"])
def test_an_unknown_memo_is_a_404(client, list_2018, pk):
    response = client.get(f"/api/memos/{pk}/")
    assert response.status_code == 404
    assert response.json()["errors"][0]["code"] == "not_found"


# --- /api/lookup/ ------------------------------------------------------------------


def test_the_lookup_answers_for_a_judgment_debtor(client, list_2018):
    body = client.get("/api/lookup/", {"q": "失信被执行人"}).json()
    assert body["query"] == "失信被执行人"
    assert body["list"] == LIST_DOC_NUMBER
    assert body["count"] == 1
    (memo,) = body["results"]
    assert memo["seq"] == 5
    assert memo["match"] == "label"
    assert memo["no_function"] is True
    assert memo["no_function_note"] == "我市质监部门无相关职能"
    assert memo["measures"] == []


def test_the_lookup_answers_for_a_serious_quality_offender(client, list_2018):
    body = client.get("/api/lookup/", {"q": "严重质量违法失信"}).json()
    (memo,) = body["results"]
    assert memo["seq"] == 7
    assert memo["measures"] == [
        {"text": text, "divisions": divisions, "legal_basis": [], "basis_status": "missing"}
        for text, divisions in ITEMS[6].measures
    ]


def test_the_lookup_gives_the_best_match_first(client, list_2018):
    body = client.get("/api/lookup/", {"q": "失信企业"}).json()
    assert body["results"][0]["seq"] == 4
    assert body["results"][0]["match"] == "label"
    assert {memo["match"] for memo in body["results"][1:]} <= {"label_contains", "definition"}


def test_a_lookup_that_matches_nothing_is_an_empty_answer(client, list_2018):
    body = client.get("/api/lookup/", {"q": "不存在的名单"}).json()
    assert body == {
        "query": "不存在的名单",
        "list": LIST_DOC_NUMBER,
        "count": 0,
        "results": [],
    }


def test_a_lookup_without_q_is_a_400(client, list_2018):
    response = client.get("/api/lookup/")
    assert response.status_code == 400
    assert [error["attr"] for error in response.json()["errors"]] == ["q"]


@pytest.mark.parametrize("q", ["", "   ", "\x00", "\x19"])
def test_a_lookup_of_no_word_finds_nothing(client, list_2018, q):
    # Schema-valid (any string): schemathesis found ?q=%19 answered 400.
    response = client.get("/api/lookup/", {"q": q})
    assert response.status_code == 200
    assert response.json()["count"] == 0


def test_a_long_lookup_word_is_cut_not_refused(client, list_2018):
    body = client.get("/api/lookup/", {"q": "失" * 10_000}).json()
    assert body["query"] == "失" * 100


# --- the schema ----------------------------------------------------------------------


@pytest.fixture(scope="module")
def schema(django_db_blocker):
    out = io.StringIO()
    with django_db_blocker.unblock():
        call_command("spectacular", "--validate", "--fail-on-warn", stdout=out)
    return yaml.safe_load(out.getvalue())


def parameters(schema, path):
    return {param["name"]: param for param in schema["paths"][path]["get"]["parameters"]}


def test_the_schema_validates_without_warnings(schema):
    assert schema["openapi"].startswith("3.")


def test_the_schema_is_served(client, db):
    response = client.get("/api/schema/")
    assert response.status_code == 200
    assert "/api/memos/" in yaml.safe_load(response.content)["paths"]


def test_the_schema_documents_every_memo_filter(schema):
    params = parameters(schema, "/api/memos/")
    assert set(params) == {
        "search",
        "kind",
        "department",
        "division",
        "list",
        "include_repealed",
        "basis_status",
        "page",
    }
    assert params["kind"]["schema"]["enum"] == ["punishment", "reward"]
    assert params["include_repealed"]["schema"]["type"] == "boolean"
    for name, param in params.items():
        assert param.get("description"), name


def test_the_schema_documents_the_lookup_parameter_as_required(schema):
    params = parameters(schema, "/api/lookup/")
    assert set(params) == {"q"}
    assert params["q"]["required"] is True


@pytest.mark.parametrize(
    ("path", "codes"),
    [
        ("/api/memos/", {"200", "400", "404"}),
        ("/api/memos/{id}/", {"200", "404"}),
        ("/api/lookup/", {"200", "400"}),
    ],
)
def test_the_schema_documents_every_response(schema, path, codes):
    # Besides each operation's own: a body that is no JSON (400), an unknown
    # ?format= (404), a key without memos:read (403), a bad key (401), a wrong
    # method, Accept or body type, a body over its budget, the per-key rate,
    # and a server error, all in the one error shape.
    codes = codes | {"400", "404"}
    common = {"401", "403", "405", "406", "413", "415", "429", "500"}
    responses = schema["paths"][path]["get"]["responses"]
    assert set(responses) == codes | common
    for code in set(responses) - {"200"}:
        assert responses[code]["content"]["application/json"]["schema"] == {
            "$ref": "#/components/schemas/ErrorResponse"
        }


def test_the_schema_describes_a_memo_s_fields(schema):
    memo = schema["components"]["schemas"]["Memo"]
    assert set(memo["properties"]) == MEMO_FIELDS
    assert schema["components"]["schemas"]["PaginatedMemoList"]["required"] == ["count", "results"]


def as_json_schema(node):
    """An OpenAPI 3.0 schema as JSON Schema: ``nullable`` becomes a ``null`` type."""
    if isinstance(node, list):
        return [as_json_schema(item) for item in node]
    if not isinstance(node, dict):
        return node
    node = {key: as_json_schema(value) for key, value in node.items()}
    if node.pop("nullable", False):
        if "type" in node:
            node["type"] = [node["type"], "null"]
        else:
            node = {"anyOf": [node, {"type": "null"}]}
    if "$ref" in node:
        node["$ref"] = node["$ref"].replace("#/components/schemas/", "#/$defs/")
    return node


@pytest.mark.parametrize(
    ("url", "path", "code"),
    [
        ("/api/memos/", "/api/memos/", "200"),
        ("/api/memos/?kind=reward&search=海关", "/api/memos/", "200"),
        ("/api/memos/?kind=bogus", "/api/memos/", "400"),
        ("/api/memos/?list=nope", "/api/memos/", "404"),
        ("/api/memos/?page=999", "/api/memos/", "404"),
        ("/api/memos/{id}/", "/api/memos/{id}/", "200"),
        ("/api/memos/999999/", "/api/memos/{id}/", "404"),
        ("/api/lookup/?q=失信企业", "/api/lookup/", "200"),
        ("/api/lookup/?q=失信被执行人", "/api/lookup/", "200"),
        ("/api/lookup/", "/api/lookup/", "400"),
    ],
)
def test_answers_have_the_documented_shape(client, list_2018, schema, url, path, code):
    memo = Memorandum.objects.get(seq=9)
    response = client.get(url.replace("{id}", str(memo.pk)))
    assert str(response.status_code) == code
    documented = schema["paths"][path]["get"]["responses"][code]
    body_schema = as_json_schema(documented["content"]["application/json"]["schema"])
    body_schema["$defs"] = as_json_schema(schema["components"]["schemas"])
    jsonschema.validate(response.json(), body_schema)


ODD_VALUES = [
    "",
    " ",
    "\x00",
    "\x1b[0m",
    "%00",
    "\ufffd",
    "😀",
    "' OR 1=1 --",
    "<script>",
    "0",
    "-1",
    "1e400",
    "99999999999999999999999",
    "true",
    "x" * 5000,
    "失" * 5000,
]


@pytest.mark.parametrize("path", ["/api/memos/", "/api/lookup/"])
def test_odd_values_of_every_documented_parameter_get_a_documented_answer(
    client, list_2018, schema, path
):
    documented = set(schema["paths"][path]["get"]["responses"])
    for name in parameters(schema, path):
        for value in ODD_VALUES:
            response = client.get(path, {name: value})
            assert str(response.status_code) in documented, (name, value, response.status_code)
            response.json()
        response = client.get(path, {name: ["a", "b"]})
        assert str(response.status_code) in documented, (name, "repeated")
