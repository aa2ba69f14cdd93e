"""The read-only JSON API: memos of a list, one memo, and the lookup's answer.

The same filters as the list page (``memo_registry.services.memos.MemoFilterSet``),
the same lookup as ``/lookup/`` (``memo_registry.services.lookup``) and the same
memo JSON as the json export (``memo_registry.services.memo_json``); this module
only shapes the answers and documents them for ``/api/schema/``.

Errors, in the API's one shape (memo_registry/api/errors.py): an unknown
``kind``, a parameter given twice or a boolean other than true/false answers
400 naming the parameter (memo_registry/api/params.py); a missing ``q`` of the
lookup answers 400, a ``q`` that is nothing but control characters or spaces
finds nothing (200, no results); a ``list`` no responsibility list has, an
unknown memo id or a page past the end answers 404.  Unknown department or
division names are not errors: no memo matches them.  A request with an API
key needs the scope ``memos:read``.
"""

from django_filters import BooleanFilter
from django_filters.rest_framework import DjangoFilterBackend
from drf_spectacular.utils import (
    OpenApiExample,
    OpenApiResponse,
    extend_schema,
)
from rest_framework import generics, serializers
from rest_framework.exceptions import NotFound
from rest_framework.permissions import AllowAny
from rest_framework.response import Response
from rest_framework.views import APIView

from memo_registry.api.auth import KeyScopes
from memo_registry.api.errors import ErrorResponseSerializer
from memo_registry.api.params import check_params
from memo_registry.services.lookup import MATCH_LABELS, measures_for_listing
from memo_registry.services.memo_json import MemoSerializer
from memo_registry.services.memos import MemoFilterSet, current_list
from memo_registry.services.search import MAX_QUERY_LENGTH, clean_query
from memos.models import Memorandum


class LookupResultSerializer(MemoSerializer):
    """A memo in the lookup's answer, with how it matched the query."""

    match = serializers.ChoiceField(
        source="lookup_match",
        choices=list(MATCH_LABELS.items()),
        read_only=True,
        help_text="匹配方式，由好到次："
        + "、".join(f"{key}（{label}）" for key, label in MATCH_LABELS.items())
        + "。",
    )

    class Meta(MemoSerializer.Meta):
        fields = [*MemoSerializer.Meta.fields, "match"]
        read_only_fields = fields


class LookupAnswerSerializer(serializers.Serializer):
    query = serializers.CharField(help_text="实际查询的词：去掉控制字符和多余空格，截断到 100 字。")
    list = serializers.CharField(
        allow_null=True, help_text="所查责任清单（现行清单）的文号；没有现行清单时为 null。"
    )
    count = serializers.IntegerField(help_text="匹配的备忘录数。")
    results = LookupResultSerializer(many=True, help_text="匹配的备忘录，最相符的在前。")


class QueryTextField(serializers.CharField):
    """Text from a query string, cleaned like the pages clean it (control characters dropped)."""

    def to_internal_value(self, data):
        return clean_query(super().to_internal_value(data))


class LookupQuerySerializer(serializers.Serializer):
    q = QueryTextField(
        allow_blank=True,
        help_text=(
            "名单名称或其中的词（如“失信被执行人”“海关失信”），或名单名称的拼音首字母（sxbzxr）。"
            f"控制字符被去掉，超过 {MAX_QUERY_LENGTH} 个字符的部分不用。"
        ),
    )


NOT_FOUND = OpenApiResponse(ErrorResponseSerializer, description="没有该备忘录，或页码超出范围。")
# Every parameter of the list takes one value; its booleans take true or false.
MEMO_PARAMS = (*MemoFilterSet.base_filters, "page")
MEMO_BOOLEANS = tuple(
    name for name, field in MemoFilterSet.base_filters.items() if isinstance(field, BooleanFilter)
)


@extend_schema(
    summary="责任清单中的备忘录",
    description=(
        "按序号排列的备忘录，默认为现行清单中现行有效的备忘录，每页 50 项。"
        "筛选条件与清单页面相同，可以组合使用。"
    ),
    responses={
        200: MemoSerializer(many=True),
        400: OpenApiResponse(
            ErrorResponseSerializer,
            description="参数无效：未知的 kind 或 basis_status，参数重复，或 include_repealed 不是 true/false。",
            examples=[
                OpenApiExample(
                    "未知类型",
                    value={
                        "type": "validation_error",
                        "errors": [
                            {
                                "code": "invalid_choice",
                                "detail": "选择一个有效的选项。 x 不在可用的选项中。",
                                "attr": "kind",
                            }
                        ],
                    },
                )
            ],
        ),
        404: OpenApiResponse(
            ErrorResponseSerializer, description="没有该文号的责任清单，或页码超出范围。"
        ),
    },
)
class MemoListAPI(generics.ListAPIView):
    serializer_class = MemoSerializer
    queryset = Memorandum.objects.with_relations()
    filter_backends = [DjangoFilterBackend]
    filterset_class = MemoFilterSet
    # Public: AllowAny tells the schema that no credentials are needed.
    permission_classes = [AllowAny, KeyScopes]
    required_scopes = ("memos:read",)

    def list(self, request, *args, **kwargs):
        check_params(request, single=MEMO_PARAMS, booleans=MEMO_BOOLEANS)
        return super().list(request, *args, **kwargs)

    def filter_queryset(self, queryset):
        try:
            return super().filter_queryset(queryset)
        except serializers.ValidationError as error:
            # A list that does not exist is a resource that is not there.
            if isinstance(error.detail, dict) and "list" in error.detail:
                raise NotFound(str(error.detail["list"][0])) from None
            raise


@extend_schema(
    summary="一项备忘录",
    description="任意清单、任意状态（含已废止）的备忘录。",
    responses={200: MemoSerializer, 404: NOT_FOUND},
)
class MemoDetailAPI(generics.RetrieveAPIView):
    serializer_class = MemoSerializer
    queryset = Memorandum.objects.with_relations()
    # Public: AllowAny tells the schema that no credentials are needed.
    permission_classes = [AllowAny, KeyScopes]
    required_scopes = ("memos:read",)


@extend_schema(
    summary="主体被列入某名单后，应采取哪些措施",
    description=(
        "与 /lookup/ 页面同一回答：现行清单中现行有效、奖惩对象与查询词相符的备忘录，"
        "各带措施和责任处室；本局无相关职能的备忘录 no_function 为 true，"
        "no_function_note 为清单中的说明。没有匹配时 results 为空。"
    ),
    parameters=[LookupQuerySerializer],
    responses={
        200: LookupAnswerSerializer,
        400: OpenApiResponse(ErrorResponseSerializer, description="缺少 q、q 为空，或 q 重复。"),
    },
)
class LookupAPI(APIView):
    # Public: AllowAny tells the schema that no credentials are needed.
    permission_classes = [AllowAny, KeyScopes]
    required_scopes = ("memos:read",)

    def get(self, request):
        check_params(request, single=("q",))
        params = LookupQuerySerializer(data=request.query_params)
        params.is_valid(raise_exception=True)
        responsibility_list = current_list(request)
        answer = measures_for_listing(params.validated_data["q"], responsibility_list)
        for match in answer.matches:
            match.memo.lookup_match = match.match
        return Response(
            LookupAnswerSerializer(
                {
                    "query": answer.query,
                    "list": responsibility_list.doc_number if responsibility_list else None,
                    "count": answer.count,
                    "results": answer.memos,
                }
            ).data
        )
