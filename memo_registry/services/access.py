"""Look-up records (查询留痕) and the limits on checking identity numbers.

Every look-up of a flagged subject — a subject page, a search by code, an
API look-up, a batch check — is recorded with :func:`record`.  Before a
look-up that checks people's identity numbers is answered, :func:`refusal`
decides whether this user may still check them today:

* a user without subjects.view_full_identity checks at most
  ``IDENTITY_CHECKS_PER_DAY`` identity numbers a day (Asia/Shanghai), over
  all channels together;
* nor more than ``PROBE_MAX_PER_MASK`` different numbers that look the same
  masked (first 6 and last 4 characters) in a day.  The mask hides only the
  8 birth-date digits, so some 930 candidates cover every birth date from
  1920 to 2010; asking about several of them is a search for the hidden
  digits, not a check of applicants, and is refused whatever the daily
  allowance is.

A refused look-up is recorded too (``refused`` says why) and answered with
429 by the page and the API.
"""

import datetime
import hashlib
import json
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db.models import Sum
from django.utils import timezone

from memo_registry.audit.models import AccessRecord
from memo_registry.http.client_ip import client_ip
from subjects.codes import PERSON, mask, parse_code

FULL_IDENTITY = "subjects.view_full_identity"
# A batch keeps its count and SHA-256; shorter requests keep every code.
MAX_CODES_KEPT = 20


@dataclass(frozen=True)
class Asked:
    """One code as asked: canonical when it parses, else as typed."""

    code: str
    kind: str  # "org", "person" or "" (not a code at all)

    @property
    def is_identity(self) -> bool:
        return self.kind == PERSON


def asked(raw: object) -> Asked:
    try:
        parsed = parse_code(raw, allow_bad_checksum=True)
    except ValidationError:
        return Asked(str(raw if raw is not None else "")[:64], "")
    return Asked(parsed.value, parsed.kind)


def _start_of_today() -> datetime.datetime:
    today = timezone.localdate()
    return timezone.make_aware(datetime.datetime.combine(today, datetime.time.min))


def _records_of(user):
    """The look-up records of ``user``: a person's, or a client system's by its
    key (``memo_registry.api.auth.KeyUser``), which counts against the same limits."""
    api_key = getattr(user, "api_key", None)
    if api_key is not None:
        return AccessRecord.objects.filter(user=None, api_key_prefix=api_key.prefix)
    return AccessRecord.objects.filter(user=user)


def identity_checks_today(user) -> int:
    total = (
        _records_of(user)
        .filter(at__gte=_start_of_today(), refused="")
        .aggregate(total=Sum("identity_count"))["total"]
    )
    return total or 0


def refusal(user, codes: Iterable[Asked]) -> str:
    """Why ``user`` may not check ``codes`` now ("" when they may)."""
    if user.has_perm(FULL_IDENTITY):
        return ""
    identities = {item.code for item in codes if item.is_identity}
    if not identities:
        return ""
    limit = settings.IDENTITY_CHECKS_PER_DAY
    used = identity_checks_today(user)
    if used + len(identities) > limit:
        return (
            f"今天查询身份证号码的次数已达上限：每人每天最多 {limit} 个，"
            f"今天已查 {used} 个，本次 {len(identities)} 个。请明天再查，"
            "或请管理员核实需要。本次查询已记录。"
        )
    by_mask: dict[str, set[str]] = defaultdict(set)
    for code in identities | _identities_asked_today(user):
        by_mask[mask(code, PERSON)].add(code)
    probe = settings.PROBE_MAX_PER_MASK
    if any(len(numbers) > probe for numbers in by_mask.values()):
        return (
            f"同一个遮蔽号码（前6位和后4位相同）的身份证号码一天最多查 {probe} 个："
            "逐个试出生日期不是正常的比对。本次查询未执行，已记录。"
        )
    return ""


def _identities_asked_today(user) -> set[str]:
    numbers: set[str] = set()
    for codes in (
        _records_of(user)
        .filter(at__gte=_start_of_today(), refused="", identity_count__gt=0)
        .values_list("codes", flat=True)
    ):
        numbers.update(item["code"] for item in codes if item.get("kind") == PERSON)
    return numbers


def record(
    request,
    channel: str,
    action: str,
    codes: list[Asked],
    *,
    listed: int = 0,
    file_sha256: str = "",
    refused: str = "",
    counted: bool = True,
) -> AccessRecord:
    """Write the look-up record for this request.  ``counted``: the codes
    were checked against the register (a page opened by its key, or a
    mistyped code, checks nothing and does not count against the allowance).
    A request with an API key is recorded for its client system (channel
    对接系统, the system's name and the key's prefix)."""
    asker = request.user
    api_key = getattr(asker, "api_key", None)
    if api_key is not None:
        channel = AccessRecord.Channel.SYSTEM
    user = asker if asker.is_authenticated and api_key is None else None
    identities = {item.code for item in codes if item.is_identity}
    kept = codes if len(codes) <= MAX_CODES_KEPT else []
    if not kept and codes and not file_sha256:
        file_sha256 = codes_sha256(codes)
    if not kept and asker.is_authenticated and not asker.has_perm(FULL_IDENTITY):
        # The daily probe check reads back the identity numbers a limited
        # user checked (at most IDENTITY_CHECKS_PER_DAY of them).
        kept = [item for item in codes if item.is_identity]
    return AccessRecord.objects.create(
        user=user,
        username=asker.get_username() if asker.is_authenticated else "",
        api_key_prefix=api_key.prefix if api_key is not None else "",
        at=timezone.now(),
        channel=channel,
        action=action,
        codes=[
            {"code": item.code, "kind": item.kind, "shown": mask(item.code, item.kind)}
            for item in kept
        ],
        code_count=len(codes),
        identity_count=len(identities) if counted and not refused else 0,
        file_sha256=file_sha256,
        listed_count=listed,
        refused=refused[:200],
        client_ip=client_ip(request) or None,
    )


def codes_sha256(codes: list[Asked]) -> str:
    """A digest of a list of codes, for a batch posted as JSON."""
    payload = json.dumps([item.code for item in codes], ensure_ascii=False)
    return hashlib.sha256(payload.encode()).hexdigest()


def purge(before: datetime.datetime | None = None) -> int:
    """Delete records older than the retention period; the number deleted."""
    if before is None:
        before = timezone.now() - datetime.timedelta(days=settings.ACCESS_RECORD_RETENTION_DAYS)
    deleted, _ = AccessRecord.objects.filter(at__lt=before).delete()
    return deleted
