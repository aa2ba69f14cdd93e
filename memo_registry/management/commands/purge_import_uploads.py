from django.conf import settings

from memo_registry.imports.memos.uploads import purge_stale_uploads, upload_dir
from memo_registry.management.purging import PurgeCommand


class Command(PurgeCommand):
    help = (
        "删除管理后台导入时上传、预览后超过 IMPORT_UPLOAD_MAX_AGE 秒（默认一小时）仍未确认的文件"
        "（IMPORT_TMP_DIR）。由 cron 定期运行，例如每小时一次。"
    )

    def purge(self) -> int:
        return purge_stale_uploads()

    def report(self, deleted: int) -> str:
        minutes = settings.IMPORT_UPLOAD_MAX_AGE // 60
        return f"已删除 {deleted} 个超过 {minutes} 分钟未确认的导入文件（{upload_dir()}）。"
