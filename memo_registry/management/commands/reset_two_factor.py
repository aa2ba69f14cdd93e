from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction
from django_otp import devices_for_user


class Command(BaseCommand):
    help = (
        "Delete a user's two-factor devices (a lost or replaced phone): the user "
        "enrols again at /accounts/two-factor/ the next time the admin asks for a code."
    )

    def add_arguments(self, parser):
        parser.add_argument("username")

    def handle(self, *args, username, **options):
        user_model = get_user_model()
        try:
            user = user_model.objects.get(**{user_model.USERNAME_FIELD: username})
        except user_model.DoesNotExist:
            raise CommandError(f"没有用户名为 {username} 的用户。") from None
        with transaction.atomic():
            # Confirmed and half-enrolled devices alike, of every plugin.  A
            # session verified with a deleted device stops counting as
            # verified on its next request (django-otp's middleware).
            devices = list(devices_for_user(user, confirmed=None))
            for device in devices:
                device.delete()
        if devices:
            self.stdout.write(
                f"已删除用户 {username} 的 {len(devices)} 个两步验证设备"
                f"（{'、'.join(device.name for device in devices)}）。"
                "该用户下次进入管理后台时须重新绑定身份验证器。"
            )
        else:
            self.stdout.write(f"用户 {username} 没有两步验证设备，无需重置。")
