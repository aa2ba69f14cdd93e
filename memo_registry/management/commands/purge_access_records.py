from django.conf import settings

from memo_registry.management.purging import PurgeCommand
from memo_registry.services.access import purge


class Command(PurgeCommand):
    help = "删除超过保存期限（ACCESS_RECORD_RETENTION_DAYS，至少 183 天）的查询记录。由 cron 每天运行一次。"

    def purge(self) -> int:
        return purge()

    def report(self, deleted: int) -> str:
        days = settings.ACCESS_RECORD_RETENTION_DAYS
        return f"已删除 {deleted} 条超过 {days} 天的查询记录。"
