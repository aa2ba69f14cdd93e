from django.conf import settings
from django.core.management.base import BaseCommand

from memo_registry.services.access import purge


class Command(BaseCommand):
    help = (
        "删除超过保存期限（ACCESS_RECORD_RETENTION_DAYS，至少 183 天）的查询记录。"
        "由 cron 每天运行一次。"
    )

    def handle(self, *args, **options):
        deleted = purge()
        self.stdout.write(
            f"已删除 {deleted} 条超过 {settings.ACCESS_RECORD_RETENTION_DAYS} 天的查询记录。"
        )
