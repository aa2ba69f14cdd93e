"""``manage.py create_api_key NAME --scope S [--scope S …] [--expires YYYY-MM-DD]``:
create a client system's API key and print it, once."""

import datetime

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from memo_registry.clients.models import SCOPES, ClientKey, validate_scopes


class Command(BaseCommand):
    help = "为对接系统创建接口密钥（只显示一次）。"

    def add_arguments(self, parser):
        parser.add_argument("name", help="对接系统名称")
        parser.add_argument(
            "--scope",
            action="append",
            required=True,
            help="权限范围，可重复：" + "、".join(SCOPES),
        )
        parser.add_argument("--expires", help="有效期至（含当天，YYYY-MM-DD）；不填为长期有效")

    def handle(self, *args, name, scope, expires, **options):
        scopes = list(dict.fromkeys(scope))
        try:
            validate_scopes(scopes)
        except ValidationError as error:
            raise CommandError(error.messages[0]) from None
        expiry = None
        if expires:
            try:
                day = datetime.date.fromisoformat(expires)
            except ValueError:
                raise CommandError(
                    f"--expires “{expires}”不是有效的日期（应如 2027-12-31）。"
                ) from None
            # Valid through that day, Asia/Shanghai.
            expiry = timezone.make_aware(datetime.datetime.combine(day, datetime.time.max))
            if expiry < timezone.now():
                raise CommandError(f"--expires {expires} 已经过去。")
        if not name.strip() or len(name) > 50:
            raise CommandError("对接系统名称不能为空，最多 50 个字。")
        api_key, key = ClientKey.objects.create_key(
            name=name.strip(), scopes=scopes, expiry_date=expiry
        )
        self.stdout.write(f"已为“{api_key.name}”创建接口密钥（权限范围：{'、'.join(scopes)}）。")
        self.stdout.write("密钥只显示这一次，请交给对接系统妥善保存：")
        self.stdout.write(key)
