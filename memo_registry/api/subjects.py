"""JSON API about flagged subjects: one subject today, and a batch check.

Signed-in users who may view subjects (session or HTTP Basic), and other
systems with an API key holding ``subjects:read`` (memo_registry/api/auth.py);
people's identity numbers are masked unless the user may see them in full.
"""

from django.utils import timezone
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import (
    OpenApiParameter,
    OpenApiResponse,
    extend_schema,
    inline_serializer,
)
from rest_framework import serializers
from rest_framework.exceptions import NotFound
from rest_framework.permissions import BasePermission
from rest_framework.response import Response
from rest_framework.utils import html
from rest_framework.views import APIView

from measures.models import BasisStatus
from memo_registry.api.errors import ErrorResponseSerializer, LimitReached, code_error
from memo_registry.api.params import CREDIT_CODE_FORMAT, CodeField, StrictCharField, check_params
from memo_registry.audit.models import AccessRecord
from memo_registry.services import access
from memo_registry.services.batch_check import MAX_CODES, check_codes
from memo_registry.services.listing_life import life_fields, with_life
from memo_registry.services.lookup import SubjectStatus, day_written, status_for
from memo_registry.services.memo_json import BASIS_STATUS_HELP, LegalBasisSerializer, basis_fields
from subjects.codes import parse_leniently
from subjects.models import EndReason, Severity, Subject


class CanViewSubjects(BasePermission):
    """Signed-in users who may view subjects (the roles 查阅, 编辑, 管理员)."""

    message = "需要登录并具有查看主体的权限。"

    def has_permission(self, request, view):
        return bool(
            request.user
            and request.user.is_authenticated
            and request.user.has_perm("subjects.view_subject")
        )


class ObjectionSerializer(serializers.Serializer):
    received_on = serializers.DateField(help_text="收到异议的日期。")
    decided_on = serializers.DateField(allow_null=True, help_text="决定日期；未决定时为 null。")
    upheld = serializers.BooleanField(allow_null=True, help_text="异议是否成立；未决定时为 null。")
    note = serializers.CharField()


class RepairSerializer(serializers.Serializer):
    applied_on = serializers.DateField(help_text="修复申请日期。")
    decided_on = serializers.DateField(allow_null=True, help_text="决定日期；未决定时为 null。")
    result = serializers.CharField(help_text="准予修复、不予修复；未决定时为空。")
    note = serializers.CharField()


class ListingSerializer(serializers.Serializer):
    doc_number = serializers.CharField(allow_null=True, help_text="列入依据对应的现行备忘录文号")
    doc_numbers = serializers.ListField(child=serializers.CharField())
    list_label = serializers.CharField(help_text="名单类别（奖惩对象简称）")
    source = serializers.CharField()
    basis = serializers.CharField()
    listed_on = serializers.DateField()
    expires_on = serializers.DateField(allow_null=True)
    lifted_on = serializers.DateField(allow_null=True)
    lift_reason = serializers.CharField()
    in_force = serializers.BooleanField()
    # The listing's life (issue 15); in the subject answer only.
    decision_number = serializers.CharField(required=False, help_text="认定文书号；未录入时为空。")
    decision_authority = serializers.CharField(required=False, help_text="认定机关（即 source）。")
    decided_on = serializers.DateField(required=False, allow_null=True, help_text="认定日期。")
    severity = serializers.ChoiceField(
        choices=[("", "未录入"), *Severity.choices],
        required=False,
        help_text="失信程度：轻微、一般或严重；未录入时为空。",
    )
    notified_on = serializers.DateField(required=False, allow_null=True, help_text="告知日期。")
    decision_suspended = serializers.BooleanField(
        required=False, help_text="认定决定是否暂停执行；暂停期间不带来措施。"
    )
    publication_end = serializers.DateField(
        required=False,
        allow_null=True,
        help_text="公示截止日期：录入的，或按失信程度的公示期限计算；都没有时为 null。",
    )
    end_reason = serializers.ChoiceField(
        choices=[("", "未移出"), *EndReason.choices],
        required=False,
        help_text="移出类型：期满、信用修复、撤销或更正；未移出时为空。",
    )
    objection_pending = serializers.BooleanField(required=False, help_text="是否有未决定的异议。")
    objections = ObjectionSerializer(many=True, required=False)
    repairs = RepairSerializer(many=True, required=False)


class ApplicableMeasureSerializer(serializers.Serializer):
    doc_number = serializers.CharField()
    memo_title = serializers.CharField()
    order = serializers.IntegerField()
    text = serializers.CharField()
    divisions = serializers.ListField(child=serializers.CharField())
    legal_basis = LegalBasisSerializer(many=True, help_text="实施依据；未录入时为空列表。")
    basis_status = serializers.ChoiceField(choices=BasisStatus.values, help_text=BASIS_STATUS_HELP)
    done = serializers.BooleanField()


class NoFunctionSerializer(serializers.Serializer):
    doc_number = serializers.CharField()
    memo_title = serializers.CharField()
    no_function_note = serializers.CharField()


class SubjectStatusSerializer(serializers.Serializer):
    code = serializers.CharField(help_text="自然人的身份证号码对无权限者遮蔽（前6后4位）")
    kind = serializers.ChoiceField(choices=Subject.Kind.choices)
    name = serializers.CharField()
    checksum_exception = serializers.BooleanField()
    on = serializers.DateField(help_text="以哪一天计算：今天，或请求中 on 所指的某一天")
    listed = serializers.BooleanField(help_text="当天是否有有效的名单记录")
    listings = ListingSerializer(many=True)
    measures = ApplicableMeasureSerializer(many=True)
    no_function = NoFunctionSerializer(many=True)


def status_payload(status: SubjectStatus, user, on) -> dict:
    subject = status.subject
    memos_by_target: dict[int, list] = {}
    for item in status.measures:
        memos_by_target.setdefault(item.memo.target_subject_id, [])
        if item.memo.doc_number not in memos_by_target[item.memo.target_subject_id]:
            memos_by_target[item.memo.target_subject_id].append(item.memo.doc_number)
    for memo in status.no_function_memos:
        memos_by_target.setdefault(memo.target_subject_id, []).append(memo.doc_number)
    listings = []
    for listing in status.listings:
        numbers = memos_by_target.get(listing.target_subject_id, []) if listing.in_force else []
        listings.append(
            {
                "doc_number": numbers[0] if numbers else None,
                "doc_numbers": numbers,
                "list_label": listing.target_subject.label,
                "source": listing.source,
                "basis": listing.basis,
                "listed_on": listing.listed_on,
                "expires_on": listing.expires_on,
                "lifted_on": listing.lifted_on,
                "lift_reason": listing.lift_reason,
                "in_force": listing.in_force,
                # Prepared by with_life (the subject answer), not for a batch.
                **(life_fields(listing) if hasattr(listing, "publication_periods") else {}),
            }
        )
    return {
        "code": subject.code_for(user),
        "kind": subject.kind,
        "name": subject.name,
        "checksum_exception": subject.checksum_exception,
        "on": on,
        "listed": status.listed,
        "listings": listings,
        "measures": [
            {
                "doc_number": item.memo.doc_number,
                "memo_title": item.memo.title,
                "order": item.measure.order,
                "text": item.measure.text,
                "divisions": [division.name for division in item.divisions],
                **basis_fields(item.measure),
                "done": item.done,
            }
            for item in status.measures
        ],
        "no_function": [
            {
                "doc_number": memo.doc_number,
                "memo_title": memo.title,
                "no_function_note": memo.no_function_note,
            }
            for memo in status.no_function_memos
        ],
    }


# Every error in the API's one shape (memo_registry/api/errors.py).
_ERROR = ErrorResponseSerializer


_DETAIL_RESPONSES = {
    200: SubjectStatusSerializer,
    400: OpenApiResponse(
        _ERROR, description="代码无效（长度、字符或校验位），或 on 不是有效日期、晚于今天"
    ),
    401: OpenApiResponse(_ERROR, description="未登录"),
    403: OpenApiResponse(_ERROR, description="非工作人员"),
    404: OpenApiResponse(_ERROR, description="登记簿中没有这个主体"),
    429: OpenApiResponse(_ERROR, description="超出每日身份证号码查询上限"),
}


def resolve_code(request, raw: str, action: str):
    """(parsed code, what was asked, the subject or None) for one code, or
    the error answered: 400 for a code refused (with the check-character
    message), 429 past the limits on identity numbers; each recorded."""
    parsed, error = parse_leniently(raw)
    asked = [access.asked(raw)]
    if parsed is None:
        access.record(request, AccessRecord.Channel.API, action, asked, counted=False)
        raise code_error(error)
    subject = Subject.objects.filter(code=parsed.value).first()
    if error and (subject is None or not subject.checksum_exception):
        # A failing check character is accepted only for a pilot code an
        # administrator registered as an exception; a typo says nothing
        # about listings.
        access.record(request, AccessRecord.Channel.API, action, asked, counted=False)
        raise code_error(error)
    refused = access.refusal(request.user, asked)
    if refused:
        access.record(request, AccessRecord.Channel.API, action, asked, refused=refused)
        raise LimitReached(refused)
    return parsed, asked, subject


class DayField(serializers.DateField):
    """``on``: a day written ``YYYY-MM-DD`` (the schema's ``format: date``),
    not after today.  Given empty (``?on=``, ``"on": ""``) it is refused like
    any other text that is not a date; left out, it is today."""

    def get_value(self, dictionary):
        # DRF reads an empty query value of a field that is not required
        # as "not given"; the schema says a date, so it is refused instead.
        if html.is_html_input(dictionary) and dictionary.get(self.field_name) == "":
            return ""
        return super().get_value(dictionary)

    def to_internal_value(self, value):
        try:
            return day_written(
                value if isinstance(value, str) else str(value), timezone.localdate()
            )
        except ValueError as error:
            raise serializers.ValidationError(str(error), code="invalid") from None


class OnDaySerializer(serializers.Serializer):
    """``on``: what applied on that day (listings and memos in force then), for
    disputes about past decisions; today when left out."""

    on = DayField(
        required=False,
        help_text=(
            "按哪一天回答（YYYY-MM-DD）：当天有效的名单记录和备忘录；省略则为今天。"
            "不能晚于今天：以后某一天适用什么尚不可知，晚于今天的日期答 400。"
        ),
    )

    def day(self):
        return self.validated_data.get("on") or timezone.localdate()


_ON_PARAMETER = OpenApiParameter(
    "on",
    OpenApiTypes.DATE,
    OpenApiParameter.QUERY,
    required=False,
    description=OnDaySerializer().fields["on"].help_text,
)


def _answer_one(request, raw: str, action: str, on) -> Response:
    """The subject answer for one code on the day ``on``, recorded as a look-up."""
    if on != timezone.localdate():
        action = f"{action}（{on}）"
    parsed, asked, subject = resolve_code(request, raw, action)
    if subject is None:
        access.record(request, AccessRecord.Channel.API, action, asked)
        raise NotFound(f"登记簿中没有主体 {parsed.value}。")
    status = status_for(subject, on)
    with_life(status.listings)
    access.record(request, AccessRecord.Channel.API, action, asked, listed=int(status.listed))
    return Response(SubjectStatusSerializer(status_payload(status, request.user, on)).data)


class SubjectDetailAPI(APIView):
    permission_classes = [CanViewSubjects]

    @extend_schema(
        summary="一个企业今天（或 on 那天）适用的措施（按统一社会信用代码）",
        description=(
            "统一社会信用代码是公开信息，可放在路径中。身份证号码不得放在网址里"
            "（会留在各级日志中）：请用 POST /api/subjects/lookup/，此处对身份证号码答 400。"
        ),
        parameters=[
            OpenApiParameter(
                "code",
                {"type": "string", "format": CREDIT_CODE_FORMAT},
                OpenApiParameter.PATH,
                description="统一社会信用代码（18 位，校验位须正确）",
            ),
            _ON_PARAMETER,
        ],
        responses=_DETAIL_RESPONSES,
    )
    def get(self, request, code: str):
        if access.asked(code).is_identity:
            raise code_error(
                "身份证号码不能放在网址里：请改用 POST /api/subjects/lookup/，"
                '请求体为 {"code": "…"}。'
            )
        check_params(request, single=("on",))
        day = OnDaySerializer(data=request.query_params)
        day.is_valid(raise_exception=True)
        return _answer_one(request, code, "接口查询", day.day())


class LookupRequestSerializer(OnDaySerializer):
    code = CodeField(max_length=64, trim_whitespace=False, help_text="统一社会信用代码或身份证号码")


class SubjectLookupAPI(APIView):
    permission_classes = [CanViewSubjects]

    @extend_schema(
        summary="一个主体今天（或 on 那天）适用的措施（代码放在请求体中）",
        request=LookupRequestSerializer,
        responses=_DETAIL_RESPONSES,
    )
    def post(self, request):
        payload = LookupRequestSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        return _answer_one(request, payload.validated_data["code"], "接口查询", payload.day())


class CheckRequestSerializer(OnDaySerializer):
    codes = serializers.ListField(
        child=StrictCharField(allow_blank=True, max_length=64, trim_whitespace=False),
        max_length=MAX_CODES,
        help_text=f"要比对的代码，最多 {MAX_CODES} 个",
    )


class CheckResultSerializer(serializers.Serializer):
    input = serializers.CharField()
    valid = serializers.BooleanField()
    error = serializers.CharField(allow_null=True)
    code = serializers.CharField(allow_null=True)
    known = serializers.BooleanField(help_text="登记簿中是否有这个主体")
    listed = serializers.BooleanField()
    name = serializers.CharField(allow_null=True)
    lists = serializers.ListField(child=serializers.CharField())
    memos = serializers.ListField(child=serializers.CharField())
    measures = ApplicableMeasureSerializer(many=True)


class SubjectCheckAPI(APIView):
    permission_classes = [CanViewSubjects]

    @extend_schema(
        summary="批量比对：这些代码是否在名单上、适用哪些措施",
        request=CheckRequestSerializer,
        responses={
            200: inline_serializer(
                "CheckResponse",
                {"on": serializers.DateField(), "results": CheckResultSerializer(many=True)},
            ),
            400: OpenApiResponse(_ERROR, description="请求格式不对，或 on 不是有效日期、晚于今天"),
            401: OpenApiResponse(_ERROR, description="未登录"),
            403: OpenApiResponse(_ERROR, description="非工作人员"),
            429: OpenApiResponse(_ERROR, description="超出每日身份证号码查询上限"),
        },
    )
    def post(self, request):
        payload = CheckRequestSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        codes = payload.validated_data["codes"]
        asked = [access.asked(code) for code in codes]
        refused = access.refusal(request.user, asked)
        if refused:
            access.record(
                request, AccessRecord.Channel.BATCH, "接口批量比对", asked, refused=refused
            )
            raise LimitReached(refused)
        on = payload.day()
        checked = check_codes(codes, on)
        access.record(
            request,
            AccessRecord.Channel.BATCH,
            "接口批量比对",
            asked,
            listed=sum(result.listed for result in checked),
        )
        results = []
        for result in checked:
            status = result.status
            results.append(
                {
                    "input": result.raw,
                    "valid": result.error is None,
                    "error": result.error,
                    "code": result.subject.code_for(request.user)
                    if result.subject
                    else result.code,
                    "known": result.subject is not None,
                    "listed": result.listed,
                    "name": result.subject.name if result.subject else None,
                    "lists": list(dict.fromkeys(li.target_subject.label for li in status.in_force))
                    if status
                    else [],
                    "memos": [memo.doc_number for memo in status.memos] if status else [],
                    "measures": status_payload(status, request.user, on)["measures"]
                    if status
                    else [],
                }
            )
        return Response({"on": on, "results": CheckResultSerializer(results, many=True).data})
