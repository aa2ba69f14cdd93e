"""``GET /api/changes/?after=<cursor>``: the change feed for other systems.

What changed — listings added, changed, lifted, removed; memos and measures
added, changed, repealed, removed — in the order it happened, paged, each
entry with its cursor; ``next`` is the cursor to ask with next time.  How the
feed keeps "exactly once": ``memo_registry/services/changes.py``.  Needs
``subjects:read`` (a key) or the right to view subjects (staff); people's
identity numbers are masked unless the caller may see them in full.
"""

from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import serializers
from rest_framework.response import Response
from rest_framework.views import APIView

from memo_registry.api.errors import ErrorResponseSerializer
from memo_registry.api.params import check_params
from memo_registry.api.subjects import CanViewSubjects
from memo_registry.audit.models import AccessRecord
from memo_registry.services import access
from memo_registry.services.changes import (
    MAX_LIMIT,
    BadCursor,
    cursor_of,
    page_after,
    parse_cursor,
)

KINDS = [
    f"{what}.{how}"
    for what, hows in (
        ("listing", ("added", "changed", "lifted", "removed")),
        ("memo", ("added", "changed", "repealed", "removed")),
        ("measure", ("added", "changed", "removed")),
    )
    for how in hows
]


class ChangeSerializer(serializers.Serializer):
    cursor = serializers.CharField(help_text="本条的游标")
    at = serializers.DateTimeField(help_text="变更时间")
    kind = serializers.ChoiceField(choices=KINDS)
    id = serializers.IntegerField(help_text="名单记录、备忘录或措施的编号")
    object = serializers.DictField(
        allow_null=True,
        help_text=(
            "对象现在的状态：名单记录为 code、name、list_label、listed_on、expires_on、lifted_on；"
            "备忘录为 doc_number、title、kind、status、repealed_on、list；措施为 memo_id、"
            "doc_number、order、text。对象已删除时为 null。"
        ),
    )


class ChangePageSerializer(serializers.Serializer):
    results = ChangeSerializer(many=True)
    next = serializers.CharField(help_text="下次请求用的 after；没有新变更时与本次相同")
    more = serializers.BooleanField(help_text="是否还有下一页（立即再请求）")


def _object(kind: str, obj, user) -> dict | None:
    if obj is None:
        return None
    if kind == "listing":
        return {
            "code": obj.subject.code_for(user),
            "name": obj.subject.name,
            "list_label": obj.target_subject.label,
            "listed_on": obj.listed_on.isoformat(),
            "expires_on": obj.expires_on.isoformat() if obj.expires_on else None,
            "lifted_on": obj.lifted_on.isoformat() if obj.lifted_on else None,
        }
    if kind == "memo":
        return {
            "doc_number": obj.doc_number,
            "title": obj.title,
            "kind": obj.kind,
            "status": obj.status,
            "repealed_on": obj.repealed_on.isoformat() if obj.repealed_on else None,
            "list": obj.responsibility_list.doc_number,
        }
    return {
        "memo_id": obj.memo_id,
        "doc_number": obj.memo.doc_number,
        "order": obj.order,
        "text": obj.text,
    }


class ChangeFeedAPI(APIView):
    permission_classes = [CanViewSubjects]

    @extend_schema(
        summary="变更订阅：自某游标以来的变更",
        description=(
            "按发生顺序返回名单记录（列入、变更、移出、删除）、备忘录和措施（新增、变更、废止、删除）"
            "的变更。不带 after 从头开始；每次用上次返回的 next 继续，每条变更恰好出现一次。"
            "一次导入的每条名单记录各为一条 listing.added / listing.changed。"
        ),
        parameters=[
            OpenApiParameter(
                "after",
                {"type": "string", "pattern": r"^[0-9]{1,18}\.[0-9]{1,18}$"},
                description="上次返回的 next（如 0.125）；不填从头开始",
            ),
            OpenApiParameter(
                "limit",
                {"type": "integer", "minimum": 1, "maximum": MAX_LIMIT},
                description=f"每页条数，1–{MAX_LIMIT}，默认 100",
            ),
        ],
        responses={
            200: ChangePageSerializer,
            400: OpenApiResponse(ErrorResponseSerializer, description="游标或 limit 无效"),
        },
    )
    def get(self, request):
        check_params(request, single=("after", "limit"))
        try:
            after = parse_cursor(request.query_params.get("after"))
        except BadCursor as error:
            raise serializers.ValidationError({"after": [str(error)]}) from None
        limit = serializers.IntegerField(min_value=1, max_value=MAX_LIMIT)
        try:
            limit = limit.run_validation(request.query_params.get("limit", 100))
        except serializers.ValidationError as error:
            raise serializers.ValidationError({"limit": error.detail}) from None
        page = page_after(after, limit, request.query_params.get("after"))
        results = [
            {
                "cursor": cursor_of(change),
                "at": change.at,
                "kind": change.kind,
                "id": change.object_id,
                "object": _object(change.kind.split(".")[0], obj, request.user),
            }
            for change, obj in page.entries
        ]
        listed = sum(1 for change, _ in page.entries if change.kind.startswith("listing."))
        access.record(request, AccessRecord.Channel.API, "变更订阅", [], listed=listed)
        return Response(
            ChangePageSerializer({"results": results, "next": page.next, "more": page.more}).data
        )
