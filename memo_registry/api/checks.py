"""The embedded check (嵌入式核查) for other systems: ``POST /api/checks/`` and
``POST /api/checks/<id>/outcome/``.

Only a client system whose key holds ``checks:write``.  The answer and the
check are made by ``memo_registry.services.checks``; the code is refused as
the subject API refuses it (``resolve_code``: 400 with the check-character
message, 429 past the limits on identity numbers), and every check is
recorded in 查询记录 for the system.
"""

from django.utils import timezone
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import serializers
from rest_framework.exceptions import NotFound
from rest_framework.response import Response
from rest_framework.views import APIView

from memo_registry.api.auth import SystemWithScope
from memo_registry.api.errors import ErrorResponseSerializer
from memo_registry.api.params import CodeField, StrictCharField
from memo_registry.api.subjects import ListingSerializer, resolve_code, status_payload
from memo_registry.audit.models import AccessRecord
from memo_registry.clients.models import Check
from memo_registry.services import access
from memo_registry.services.checks import record_outcome, run_check
from memo_registry.services.memo_json import BASIS_STATUS_HELP


class EmbeddedCheckRequestSerializer(serializers.Serializer):
    code = CodeField(
        max_length=64, trim_whitespace=False, help_text="申请人的统一社会信用代码或身份证号码"
    )
    matter_code = StrictCharField(max_length=100, help_text="事项编码")
    matter_name = StrictCharField(max_length=200, help_text="事项名称")
    department = StrictCharField(max_length=100, help_text="调用部门（办理该事项的部门）")


class EmbeddedCheckMeasureSerializer(serializers.Serializer):
    doc_number = serializers.CharField(help_text="备忘录文号")
    memo_title = serializers.CharField()
    kind = serializers.ChoiceField(choices=["reward", "punishment"])
    order = serializers.IntegerField()
    text = serializers.CharField(help_text="措施全文")
    divisions = serializers.ListField(child=serializers.CharField(), help_text="责任处室")
    legal_basis = serializers.ListField(child=serializers.DictField(), help_text="实施依据")
    basis_status = serializers.CharField(help_text=BASIS_STATUS_HELP)


class CheckedSubjectSerializer(serializers.Serializer):
    name = serializers.CharField()
    listings = ListingSerializer(many=True)


class EmbeddedCheckAnswerSerializer(serializers.Serializer):
    id = serializers.IntegerField(help_text="核查编号，报告办理结果时用")
    checked_at = serializers.DateTimeField()
    code = serializers.CharField(
        help_text="自然人的身份证号码对无完整身份权限的密钥遮蔽（前6后4位）"
    )
    subject = CheckedSubjectSerializer(allow_null=True, help_text="登记簿中没有该主体时为 null")
    decision = serializers.ChoiceField(
        choices=Check.Decision.values,
        help_text="punish：今天有惩戒措施适用；否则 reward：有激励措施适用；否则 none",
    )
    measures = EmbeddedCheckMeasureSerializer(many=True, help_text="今天适用的措施，按清单顺序")


class OutcomeRequestSerializer(serializers.Serializer):
    outcome = serializers.ChoiceField(
        choices=Check.Outcome.values,
        help_text="approved 准予、approved_with_conditions 附条件准予、refused 不予、not_decided 未作决定",
    )
    note = StrictCharField(max_length=500, required=False, allow_blank=True, default="")


class OutcomeAnswerSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    outcome = serializers.CharField()
    note = serializers.CharField()
    outcome_at = serializers.DateTimeField()


_DATETIME = serializers.DateTimeField()


def _errors(**descriptions) -> dict:
    return {
        int(code.removeprefix("s")): OpenApiResponse(ErrorResponseSerializer, description=text)
        for code, text in descriptions.items()
    }


class CheckAPI(APIView):
    permission_classes = [SystemWithScope]
    required_scopes = ("checks:write",)

    @extend_schema(
        summary="嵌入式核查：办理事项时核查申请人",
        description=(
            "审批、许可等系统在作出决定时调用：回答申请人今天是否有惩戒或激励措施适用及其措施，"
            "并保存本次核查。需要具有 checks:write 的接口密钥。"
        ),
        request=EmbeddedCheckRequestSerializer,
        responses={
            201: EmbeddedCheckAnswerSerializer,
            **_errors(
                s400="请求格式不对，或代码无效（长度、字符或校验位；答复指出应有的校验位）",
                s403="没有接口密钥，或密钥没有 checks:write",
                s429="超出该密钥的请求频率，或每日身份证号码核查上限",
            ),
        },
    )
    def post(self, request):
        payload = EmbeddedCheckRequestSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        data = payload.validated_data
        parsed, asked, subject = resolve_code(request, data["code"], "嵌入式核查")
        check, status = run_check(
            parsed,
            subject,
            request.auth,
            matter_code=data["matter_code"],
            matter_name=data["matter_name"],
            department=data["department"],
            keep_with=lambda status: access.record(
                request,
                AccessRecord.Channel.API,
                "嵌入式核查",
                asked,
                listed=int(status.listed) if status else 0,
            ),
        )
        # Written out in the serializer's shape (EmbeddedCheckAnswerSerializer,
        # the schema's), not passed through it: the measures are already kept
        # as JSON and the listings' values are JSON as they are, and the check
        # is the path a system calls at every decision.
        answer = {
            "id": check.pk,
            "checked_at": _DATETIME.to_representation(check.checked_at),
            "code": check.code_for(request.user),
            "subject": None,
            "decision": check.decision,
            "measures": check.measures,
        }
        if status is not None:
            on = timezone.localdate(check.checked_at)
            payload = status_payload(status, request.user, on)
            answer["subject"] = {"name": subject.name, "listings": payload["listings"]}
        return Response(answer, status=201)


class CheckOutcomeAPI(APIView):
    permission_classes = [SystemWithScope]
    required_scopes = ("checks:write",)

    @extend_schema(
        summary="报告嵌入式核查后的办理结果",
        description="只能报告本系统（同一对接系统名称的密钥）所做的核查；再次报告以最后一次为准。",
        request=OutcomeRequestSerializer,
        responses={
            200: OutcomeAnswerSerializer,
            **_errors(
                s400="办理结果不是可选值之一，或说明超过 500 字",
                s403="没有接口密钥，或密钥没有 checks:write",
                s404="没有该核查，或它不是本系统所做",
            ),
        },
    )
    def post(self, request, pk: int):
        check = Check.objects.filter(pk=pk, client_name=request.auth.name).first()
        if check is None:
            raise NotFound("没有该核查，或它不是本系统所做。")
        payload = OutcomeRequestSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        record_outcome(check, payload.validated_data["outcome"], payload.validated_data["note"])
        return Response(
            OutcomeAnswerSerializer(
                {
                    "id": check.pk,
                    "outcome": check.outcome,
                    "note": check.outcome_note,
                    "outcome_at": check.outcome_at,
                }
            ).data
        )
