from django.core.management import call_command
from django.core.management.base import BaseCommand

from memos.models import Memorandum, ResponsibilityList

FIXTURE = "fixtures/responsibility_list_2018.json"


class Command(BaseCommand):
    help = "Load the 2018 responsibility list (武质技监管〔2018〕22号) into an empty database."

    def handle(self, *args, **options):
        if ResponsibilityList.objects.exists() or Memorandum.objects.exists():
            self.stdout.write("数据库已有数据，未加载 2018 年清单。")
            return
        call_command("loaddata", FIXTURE, verbosity=0)
        self.stdout.write(
            self.style.SUCCESS(f"已加载 2018 年清单：{Memorandum.objects.count()} 项备忘录。")
        )
