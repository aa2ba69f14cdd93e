"""A memorandum as JSON: the one shape ``/api/memos/`` answers and the json export writes.

It lives here, among the services, rather than in ``memo_registry.api``:
the export (``memo_registry.services.export``, called by ``export_memos`` and
the list page's export) needs it too, and the services never import the API
(import-linter's contract in pyproject.toml).  The API imports it from here
and adds only what belongs to one answer (the lookup's ``match``).

The help texts are what ``/api/schema/`` says of each field.  The memos
should come from ``Memorandum.objects.with_relations()``: every field is
then read from what it prefetched, with no query per memo.
"""

from rest_framework import serializers

from measures.models import BasisStatus, LegalBasis, Measure
from memos.models import Memorandum


class LegalBasisSerializer(serializers.ModelSerializer):
    """One legal basis (实施依据) of a measure."""

    level = serializers.ChoiceField(
        choices=LegalBasis.Level.choices,
        read_only=True,
        help_text="依据的层级：" + "、".join(LegalBasis.Level.values) + "。",
    )
    title = serializers.CharField(read_only=True, help_text="文件名称（《……》）或文号。")
    article = serializers.CharField(read_only=True, help_text="条款，如“第十三条”；未写时为空。")

    class Meta:
        model = LegalBasis
        fields = ["level", "title", "article"]
        read_only_fields = fields


BASIS_STATUS_HELP = (
    "实施依据状态：sufficient（至少一项为法律、行政法规、地方性法规或党中央国务院政策文件）、"
    "insufficient（有依据，但都不是上述层级）、missing（未录入实施依据）。"
)


class MeasureSerializer(serializers.ModelSerializer):
    text = serializers.CharField(read_only=True, help_text="措施全文。")
    divisions = serializers.SlugRelatedField(
        many=True, read_only=True, slug_field="name", help_text="负责该措施的责任处室名称。"
    )
    legal_basis = LegalBasisSerializer(
        many=True, read_only=True, help_text="实施依据，按录入顺序；未录入时为空列表。"
    )
    basis_status = serializers.ChoiceField(
        choices=BasisStatus.values, read_only=True, help_text=BASIS_STATUS_HELP
    )

    class Meta:
        model = Measure
        fields = ["text", "divisions", "legal_basis", "basis_status"]
        read_only_fields = fields


def basis_fields(measure: Measure) -> dict:
    """``legal_basis`` and ``basis_status`` of a measure, for answers built by
    hand (the subject API): the same values as in a memo's measures."""
    data = MeasureSerializer(measure).data
    return {"legal_basis": data["legal_basis"], "basis_status": data["basis_status"]}


class MemoSerializer(serializers.ModelSerializer):
    """One memorandum of a responsibility list, with its measures in order."""

    initiating_departments = serializers.SlugRelatedField(
        many=True, read_only=True, slug_field="name", help_text="发起部门名称，按文件中的顺序。"
    )
    target_subject = serializers.CharField(
        source="target_subject.definition", read_only=True, help_text="奖惩对象（行为）的定义原文。"
    )
    target_label = serializers.CharField(
        source="target_subject.label", read_only=True, help_text="奖惩对象简称（名单名称）。"
    )
    implementing_department = serializers.CharField(
        source="implementing_department.name", read_only=True, help_text="实施部门名称。"
    )
    list = serializers.CharField(
        source="responsibility_list.doc_number", read_only=True, help_text="所属责任清单的文号。"
    )
    measures = MeasureSerializer(
        many=True, read_only=True, help_text="奖惩措施，按清单中的顺序；无相关职能时为空。"
    )

    class Meta:
        model = Memorandum
        fields = [
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
        ]
        read_only_fields = fields
