from django.conf import settings
from django.core.management.base import BaseCommand

from memo_registry.imports.memos.uploads import purge_stale_uploads, upload_dir


class Command(BaseCommand):
    help = (
        "删除管理后台导入时上传、预览后超过 IMPORT_UPLOAD_MAX_AGE 秒（默认一小时）仍未确认的文件"
        "（IMPORT_TMP_DIR）。由 cron 定期运行，例如每小时一次。"
    )

    def handle(self, *args, **options):
        deleted = purge_stale_uploads()
        minutes = settings.IMPORT_UPLOAD_MAX_AGE // 60
        self.stdout.write(
            f"已删除 {deleted} 个超过 {minutes} 分钟未确认的导入文件（{upload_dir()}）。"
        )
