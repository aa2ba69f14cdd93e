"""JSON API about flagged subjects: one subject today, and a batch check.

Signed-in users who may view subjects (session, or HTTP Basic for other systems);
people's identity numbers are masked unless the user may see them in full.
"""

from django.core.exceptions import ValidationError
from django.utils import timezone
from drf_spectacular.utils import (
    OpenApiParameter,
    OpenApiResponse,
    extend_schema,
    inline_serializer,
)
from rest_framework import serializers
from rest_framework.permissions import BasePermission
from rest_framework.response import Response
from rest_framework.views import APIView

from memo_registry.audit.models import AccessRecord
from memo_registry.services import access
from memo_registry.services.batch_check import MAX_CODES, check_codes
from memo_registry.services.lookup import SubjectStatus, status_for
from subjects.codes import parse_code
from subjects.models import Subject


class CanViewSubjects(BasePermission):
    """Signed-in users who may view subjects (the roles 查阅, 编辑, 管理员)."""

    message = "需要登录并具有查看主体的权限。"

    def has_permission(self, request, view):
        return bool(
            request.user
            and request.user.is_authenticated
            and request.user.has_perm("subjects.view_subject")
        )


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


class ApplicableMeasureSerializer(serializers.Serializer):
    doc_number = serializers.CharField()
    memo_title = serializers.CharField()
    order = serializers.IntegerField()
    text = serializers.CharField()
    divisions = serializers.ListField(child=serializers.CharField())
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
    on = serializers.DateField(help_text="以哪一天计算（今天）")
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


_ERROR = inline_serializer("Error", {"detail": serializers.CharField()})


_DETAIL_RESPONSES = {
    200: SubjectStatusSerializer,
    400: OpenApiResponse(_ERROR, description="代码无效（长度、字符或校验位）"),
    401: OpenApiResponse(_ERROR, description="未登录"),
    403: OpenApiResponse(_ERROR, description="非工作人员"),
    404: OpenApiResponse(_ERROR, description="登记簿中没有这个主体"),
    429: OpenApiResponse(_ERROR, description="超出每日身份证号码查询上限"),
}


def _answer_one(request, raw: str, action: str) -> Response:
    """The subject answer for one code, recorded as a look-up."""
    parsed, error = _parse(raw)
    asked = [access.asked(raw)]
    if parsed is None:
        access.record(request, AccessRecord.Channel.API, action, asked, counted=False)
        return Response({"detail": error}, status=400)
    subject = Subject.objects.filter(code=parsed.value).first()
    if error and (subject is None or not subject.checksum_exception):
        # A failing check character is accepted only for a pilot code an
        # administrator registered as an exception; a typo says nothing
        # about listings.
        access.record(request, AccessRecord.Channel.API, action, asked, counted=False)
        return Response({"detail": error}, status=400)
    refused = access.refusal(request.user, asked)
    if refused:
        access.record(request, AccessRecord.Channel.API, action, asked, refused=refused)
        return Response({"detail": refused}, status=429)
    if subject is None:
        access.record(request, AccessRecord.Channel.API, action, asked)
        return Response({"detail": f"登记簿中没有主体 {parsed.value}。"}, status=404)
    on = timezone.localdate()
    status = status_for(subject, on)
    access.record(request, AccessRecord.Channel.API, action, asked, listed=int(status.listed))
    return Response(SubjectStatusSerializer(status_payload(status, request.user, on)).data)


class SubjectDetailAPI(APIView):
    permission_classes = [CanViewSubjects]

    @extend_schema(
        summary="一个企业今天适用的措施（按统一社会信用代码）",
        description=(
            "统一社会信用代码是公开信息，可放在路径中。身份证号码不得放在网址里"
            "（会留在各级日志中）：请用 POST /api/subjects/lookup/，此处对身份证号码答 400。"
        ),
        parameters=[
            OpenApiParameter("code", str, OpenApiParameter.PATH, description="统一社会信用代码")
        ],
        responses=_DETAIL_RESPONSES,
    )
    def get(self, request, code: str):
        if access.asked(code).is_identity:
            return Response(
                {
                    "detail": "身份证号码不能放在网址里：请改用 POST /api/subjects/lookup/，"
                    '请求体为 {"code": "…"}。'
                },
                status=400,
            )
        return _answer_one(request, code, "接口查询")


class LookupRequestSerializer(serializers.Serializer):
    code = serializers.CharField(
        max_length=64, trim_whitespace=False, help_text="统一社会信用代码或身份证号码"
    )


class SubjectLookupAPI(APIView):
    permission_classes = [CanViewSubjects]

    @extend_schema(
        summary="一个主体今天适用的措施（代码放在请求体中）",
        request=LookupRequestSerializer,
        responses=_DETAIL_RESPONSES,
    )
    def post(self, request):
        payload = LookupRequestSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        return _answer_one(request, payload.validated_data["code"], "接口查询")


def _parse(code: str):
    """(parsed code or None, the strict check's error message or None)."""
    try:
        return parse_code(code), None
    except ValidationError as strict:
        try:
            return parse_code(code, allow_bad_checksum=True), strict.messages[0]
        except ValidationError:
            return None, strict.messages[0]


class CheckRequestSerializer(serializers.Serializer):
    codes = serializers.ListField(
        child=serializers.CharField(allow_blank=True, max_length=64, trim_whitespace=False),
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
            400: OpenApiResponse(description="请求格式不对"),
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
            return Response({"detail": refused}, status=429)
        on = timezone.localdate()
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
