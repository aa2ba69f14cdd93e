"""JSON API of the work lists (处室待办), feedback and statistics: the same
data as ``/work/`` and ``/stats/`` (memo_registry.services.work, .stats), and
the same rules for feedback (Feedback.clean(), through
memo_registry.services.feedback).

Signed-in staff (session or HTTP Basic).  A user sees and closes the items
of the divisions they belong to; administrators, any division's.  The work
lists and feedback are a person's (their divisions, their name on the
report): a request with an API key is refused with 403, no scope gives them.
Statistics are the bureau's internal work data: people who may open
``/stats/``, and keys holding ``stats:read``.

Dates are ``YYYY-MM-DD`` as the schema's ``format: date`` says, and a
query parameter given empty or twice is refused, not read as left out.
"""

from django.core.exceptions import PermissionDenied as ModelPermissionDenied
from django.shortcuts import get_object_or_404
from django.utils import timezone
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import exceptions, generics, serializers, status
from rest_framework.permissions import BasePermission
from rest_framework.response import Response
from rest_framework.utils import html
from rest_framework.views import APIView

from measures.models import Division, Feedback
from memo_registry.api.auth import KeyScopes
from memo_registry.api.errors import ErrorResponseSerializer
from memo_registry.api.params import StrictCharField, check_params
from memo_registry.clients.models import Check, ClientKey
from memo_registry.services import feedback as feedback_service
from memo_registry.services import stats as stats_service
from memo_registry.services import work, work_tally
from memo_registry.services.lookup import ISO_DAY

OUTCOMES = [(value, label) for value, label in Feedback.Outcome.choices]


class IsStaffReader(BasePermission):
    """Signed-in users who may view subjects (the roles 查阅, 编辑, 管理员)."""

    message = "需要登录并具有查看主体的权限。"

    def has_permission(self, request, view):
        user = request.user
        return bool(user and user.is_authenticated and user.has_perm("subjects.view_subject"))


class IsPerson(BasePermission):
    """Not a client system: the work lists and feedback are a person's
    (the divisions they belong to; their name on the report)."""

    message = (
        "处室待办和实施反馈按人员所在处室办理，接口密钥不能使用："
        "请以工作人员账号登录（会话或 HTTP Basic）。"
    )

    def has_permission(self, request, view):
        return not isinstance(request.auth, ClientKey)


_ERROR = ErrorResponseSerializer
_NOT_SIGNED_IN = OpenApiResponse(_ERROR, description="未登录")


class EmptyIsGiven:
    """A query parameter given empty (``?to=``) is checked as the value "",
    not read as left out (DRF's way for a field that is not required)."""

    def get_value(self, dictionary):
        if html.is_html_input(dictionary) and dictionary.get(self.field_name) == "":
            return ""
        return super().get_value(dictionary)


class QueryCharField(EmptyIsGiven, serializers.CharField):
    pass


class QueryChoiceField(EmptyIsGiven, serializers.ChoiceField):
    pass


class DayField(EmptyIsGiven, serializers.DateField):
    """A date as the schema's ``format: date`` says: ``YYYY-MM-DD``, nothing
    DRF or Python would also read ("2024-1-5", "20240105", "2024-W02-1")."""

    def to_internal_value(self, value):
        if not isinstance(value, str) or not ISO_DAY.fullmatch(value):
            self.fail("invalid", format="YYYY-MM-DD")
        return super().to_internal_value(value)


class FeedbackSerializer(serializers.ModelSerializer):
    outcome = serializers.ChoiceField(
        choices=OUTCOMES,
        help_text="applied（已实施）、not_applicable（不适用：无相关业务）、"
        "not_occurred（已移出名单前未发生）",
    )
    note = serializers.CharField(source="action", help_text="实施情况")
    recorded_by = serializers.SerializerMethodField()

    class Meta:
        model = Feedback
        fields = ["id", "outcome", "done_on", "document_number", "note", "recorded_by"]
        read_only_fields = fields

    def get_recorded_by(self, feedback) -> str | None:
        return feedback.recorded_by.get_username() if feedback.recorded_by else None


class ItemSubjectSerializer(serializers.Serializer):
    key = serializers.IntegerField(help_text="主体页面 /subjects/<key>/ 的 key")
    name = serializers.CharField()
    code = serializers.CharField(help_text="自然人的身份证号码对无权限者遮蔽（前6后4位）")


class ItemMeasureSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    text = serializers.CharField()


class WorkItemSerializer(serializers.Serializer):
    subject = ItemSubjectSerializer()
    list = serializers.CharField(help_text="名单类别（奖惩对象简称）")
    listed_on = serializers.DateField()
    doc_number = serializers.CharField(help_text="备忘录文号")
    measure = ItemMeasureSerializer()
    division = serializers.CharField(help_text="责任处室")
    opened_on = serializers.DateField(help_text="开始日期：列入日期与备忘录生效日期中较晚者")
    due_on = serializers.DateField(help_text="反馈期限（工作日计）")
    state = serializers.ChoiceField(choices=[*work.STATES.items()])
    feedback = FeedbackSerializer(allow_null=True)


class WorkQuerySerializer(serializers.Serializer):
    division = QueryCharField(
        required=False,
        help_text="处室名称；默认为本人所在处室。没有这个处室时为空列表；"
        "有这个处室而本人不是其人员（管理员除外）时答 403",
    )
    state = QueryChoiceField(
        choices=[*work.STATES.items()], required=False, help_text="默认为 open 和 overdue"
    )
    list = QueryCharField(required=False, help_text="名单类别（奖惩对象简称）")
    listed_from = DayField(required=False, help_text="列入日期不早于此日")
    listed_to = DayField(required=False, help_text="列入日期不晚于此日；不能早于 listed_from")

    def validate(self, attrs):
        start, end = attrs.get("listed_from"), attrs.get("listed_to")
        if start and end and start > end:
            raise serializers.ValidationError({"listed_to": ["不能早于 listed_from。"]})
        return attrs


WORK_PARAMS = ("division", "state", "list", "listed_from", "listed_to", "page")


def _division_ids(user, name: str | None):
    """The divisions asked for, or the user's own; None: every division."""
    any_division = user.has_perm("measures.record_any_division")
    if name:
        division = Division.objects.filter(name=name.strip()).first()
        if division is None:
            return []  # like any filter that matches nothing
        if not any_division and not division.members.filter(pk=user.pk).exists():
            raise exceptions.PermissionDenied(f"您不是“{division.name}”的人员，不能查看其待办。")
        return [division.pk]
    own = list(work.member_divisions(user).values_list("pk", flat=True))
    return own if own or not any_division else None


@extend_schema(
    summary="处室待办事项",
    description=(
        "与 /work/ 页面相同：本人所在处室（或 division 指定的处室）的事项，已超期的在前，"
        "其余按反馈期限排列，每页 50 项。不属于任何处室的用户得到空列表。"
    ),
    parameters=[WorkQuerySerializer],
    responses={
        200: WorkItemSerializer(many=True),
        400: OpenApiResponse(_ERROR, description="参数有误：state 不在可选值中、日期格式不对等"),
        401: _NOT_SIGNED_IN,
        403: OpenApiResponse(
            _ERROR,
            description="非工作人员；使用接口密钥（待办按人员所在处室，密钥没有）；"
            "不是 division 所指处室的人员",
        ),
    },
)
class WorkListAPI(generics.GenericAPIView):
    permission_classes = [IsStaffReader, IsPerson]
    serializer_class = WorkItemSerializer

    def get(self, request):
        check_params(request, single=WORK_PARAMS)
        params = WorkQuerySerializer(data=request.query_params)
        params.is_valid(raise_exception=True)
        data = params.validated_data
        today = timezone.localdate()
        ids = _division_ids(request.user, data.get("division"))
        states = [data["state"]] if data.get("state") else [work.OPEN, work.OVERDUE]
        items = work_tally.Tallied(
            ids,
            today,
            states,
            label=data.get("list"),
            listed_from=data.get("listed_from"),
            listed_to=data.get("listed_to"),
        )
        page = self.paginate_queryset(items)
        rows = work.with_due(page, today)
        reports = Feedback.objects.select_related("recorded_by").in_bulk(
            [row.feedback_id for row in rows if row.feedback_id]
        )
        return self.get_paginated_response(
            [_item(row, request.user, reports.get(row.feedback_id)) for row in rows]
        )


def _item(row, user, report) -> dict:
    return {
        "subject": {
            "key": row.subject_id,
            "name": row.subject.name,
            "code": row.subject.code_for(user),
        },
        "list": row.target_subject.label,
        "listed_on": row.listed_on,
        "doc_number": row.doc_number,
        "measure": {"id": row.item_measure, "text": row.measure_text},
        "division": row.division_name,
        "opened_on": row.opened_on,
        "due_on": row.due_on,
        "state": row.state,
        "feedback": FeedbackSerializer(report).data if report else None,
    }


class FeedbackInputSerializer(serializers.Serializer):
    subject = serializers.IntegerField(help_text="主体的 key（/subjects/<key>/）")
    measure = serializers.IntegerField(help_text="措施 id")
    division = StrictCharField(max_length=100, help_text="反馈处室名称")
    outcome = serializers.ChoiceField(choices=OUTCOMES, default=Feedback.Outcome.APPLIED)
    done_on = DayField(help_text="实施日期；不能晚于今天，不能早于列入日期")
    document_number = StrictCharField(required=False, allow_blank=True, max_length=100)
    note = StrictCharField(required=False, allow_blank=True, max_length=2000, help_text="实施情况")


def _not_found(data, missing) -> exceptions.NotFound:
    """The 404 naming each of the report's subject, measure and division that
    does not exist (a client can look them up again; a rule not met is a 400)."""
    texts = {
        "subject": f"没有 key 为 {data['subject']} 的主体",
        "measure": f"没有 id 为 {data['measure']} 的措施",
        "division": f"没有名为“{data['division'][:50]}”的处室",
    }
    return exceptions.NotFound("；".join(texts[name] for name in missing) + "。")


_FIELDS = {"action": "note"}


@extend_schema(
    summary="录入实施反馈",
    description=(
        "与 /work/ 页面、主体页面和管理后台同一规则：处室须为该措施的责任处室，"
        "措施在实施日期适用于该主体，日期不晚于今天、不早于列入日期；"
        "录入人须为该处室人员（管理员可为任何处室录入）。"
    ),
    request=FeedbackInputSerializer,
    responses={
        201: FeedbackSerializer,
        400: OpenApiResponse(_ERROR, description="格式不对或规则不满足：各字段的说明"),
        401: _NOT_SIGNED_IN,
        403: OpenApiResponse(
            _ERROR, description="不是该处室的人员；非工作人员；使用接口密钥（反馈须由人员录入）"
        ),
        404: OpenApiResponse(
            _ERROR, description="没有 subject 所指的主体、measure 所指的措施或 division 所指的处室"
        ),
    },
)
class FeedbackCreateAPI(APIView):
    permission_classes = [IsStaffReader, IsPerson]

    def post(self, request):
        given = FeedbackInputSerializer(data=request.data)
        given.is_valid(raise_exception=True)
        data = given.validated_data
        try:
            report = feedback_service.record_from(
                request.user, {**data, "division": data["division"].strip()}, division_by="name"
            )
        except feedback_service.Gone as gone:
            raise _not_found(data, gone.missing) from None
        except feedback_service.Refused as refused:
            if refused.not_member:
                raise exceptions.PermissionDenied(refused.messages[0]) from None
            raise serializers.ValidationError(
                {_FIELDS.get(name, name): texts for name, texts in refused.message_dict.items()}
            ) from None
        return Response(FeedbackSerializer(report).data, status=status.HTTP_201_CREATED)


@extend_schema(
    summary="撤回实施反馈",
    description="撤回后反馈仍留档（含历史），该事项重新待反馈。只有该处室人员或管理员可以撤回。",
    responses={
        204: None,
        401: _NOT_SIGNED_IN,
        403: OpenApiResponse(
            _ERROR, description="不是该处室的人员；非工作人员；使用接口密钥（反馈须由人员撤回）"
        ),
        404: OpenApiResponse(_ERROR, description="没有这条反馈"),
    },
)
class FeedbackWithdrawAPI(APIView):
    permission_classes = [IsStaffReader, IsPerson]

    def delete(self, request, pk):
        report = get_object_or_404(Feedback.objects.select_related("division"), pk=pk)
        try:
            feedback_service.withdraw(report, request.user)
        except ModelPermissionDenied as refused:
            raise exceptions.PermissionDenied(str(refused)) from None
        return Response(status=status.HTTP_204_NO_CONTENT)


class StatsQuerySerializer(serializers.Serializer):
    # "from" is a Python keyword: the field is named in __init__.
    to = DayField(required=False, help_text="截止日期，默认今天；不能早于开始日期")

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["from"] = DayField(
            required=False,
            help_text="开始日期，默认为截止日期当年的1月1日；不能晚于截止日期（省略截止日期时为今天）",
        )


class StatsRowSerializer(serializers.Serializer):
    name = serializers.CharField()
    opened = serializers.IntegerField()
    done_on_time = serializers.IntegerField()
    done_late = serializers.IntegerField()
    open = serializers.IntegerField()
    overdue = serializers.IntegerField()
    on_time_rate = serializers.FloatField(
        allow_null=True, help_text="按期率（%），无到期事项为 null"
    )


class ListingMonthSerializer(serializers.Serializer):
    list = serializers.CharField()
    month = serializers.CharField(help_text="YYYY-MM")
    count = serializers.IntegerField()


class CheckCountsSerializer(serializers.Serializer):
    decision = serializers.ChoiceField(
        choices=Check.Decision.values, help_text="核查结论：punish 惩戒、reward 激励、none 无"
    )
    undecided = serializers.IntegerField(help_text="对接系统尚未反馈办理结果")
    approved = serializers.IntegerField(help_text="准予")
    approved_with_conditions = serializers.IntegerField(help_text="附条件准予")
    refused = serializers.IntegerField(help_text="不予")
    not_decided = serializers.IntegerField(help_text="未作决定")
    total = serializers.IntegerField(help_text="合计")


class StatsSerializer(serializers.Serializer):
    period_from = serializers.DateField()
    period_to = serializers.DateField()
    listings = ListingMonthSerializer(many=True)
    divisions = StatsRowSerializer(many=True)
    memos = StatsRowSerializer(many=True)
    checks = CheckCountsSerializer(
        many=True,
        help_text="期间内（按北京时间的日期）的嵌入式核查：每个核查结论一行（punish、reward、none），"
        "按对接系统反馈的办理结果计数",
    )


class MayReadStats(BasePermission):
    """People who may open /stats/ (measures.view_feedback); a request with
    a key passes here and is judged by its scopes (KeyScopes)."""

    message = "需要登录并具有查看统计的权限。"

    def has_permission(self, request, view):
        if isinstance(request.auth, ClientKey):
            return True
        user = request.user
        return bool(user and user.is_authenticated and user.has_perm("measures.view_feedback"))


@extend_schema(
    summary="统计",
    description=(
        "与 /stats/ 页面及其导出相同：期间内新增名单记录（按名单和月份），各处室、各备忘录的"
        "按期反馈情况，嵌入式核查（按核查结论和办理结果）。对接系统的接口密钥需有 stats:read。"
    ),
    parameters=[StatsQuerySerializer],
    responses={
        200: StatsSerializer,
        400: OpenApiResponse(_ERROR, description="日期格式不对，或截止日期早于开始日期"),
        401: _NOT_SIGNED_IN,
        403: OpenApiResponse(
            _ERROR, description="接口密钥没有 stats:read 权限范围，或人员没有查看统计的权限"
        ),
    },
)
class StatsAPI(APIView):
    # Statistics are the bureau's internal work data: a key needs stats:read.
    permission_classes = [KeyScopes, MayReadStats]
    required_scopes = ("stats:read",)

    def get(self, request):
        check_params(request, single=("from", "to"))
        params = StatsQuerySerializer(data=request.query_params)
        params.is_valid(raise_exception=True)
        today = timezone.localdate()
        start, end = stats_service.period(
            params.validated_data.get("from"), params.validated_data.get("to"), today
        )
        if start > end:
            raise serializers.ValidationError({"to": [stats_service.REVERSED]})
        stats = stats_service.compute(start, end, today)
        return Response(
            {
                "period_from": start,
                "period_to": end,
                "listings": [
                    {**row, "month": row["month"].strftime("%Y-%m")} for row in stats.listings
                ],
                "divisions": [row.as_dict() for row in stats.divisions],
                "memos": [row.as_dict() for row in stats.memos],
                "checks": [row.as_dict() for row in stats.checks],
            }
        )
