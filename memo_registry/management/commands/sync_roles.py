from django.core.management.base import BaseCommand

from memo_registry.roles import ROLES, sync_roles


class Command(BaseCommand):
    help = "Create or update the groups 查阅, 编辑 and 管理员 with their permissions."

    def handle(self, *args, **options):
        sync_roles()
        self.stdout.write("已同步角色：" + "、".join(ROLES))
