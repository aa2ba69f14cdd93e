"""E-mail each division member a digest of their new and overdue work items.

New: items that came in (an import, a memo taking effect) since the member
last opened /work/; overdue: past their feedback deadline.  Nobody with
nothing new or overdue, or without an e-mail address, gets a message.
Settings: EMAIL_URL (console output when unset), DEFAULT_FROM_EMAIL.
"""

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.mail import send_mail
from django.core.management.base import BaseCommand
from django.db.models import Q
from django.template.loader import render_to_string
from django.utils import timezone

from measures.models import WorkSeen
from memo_registry.services import work

LISTED = 30  # items named in a message; the rest are counted


class Command(BaseCommand):
    help = "把各处室人员的新增和超期待办事项发送到其电子邮箱。"

    def add_arguments(self, parser):
        parser.add_argument("--dry-run", action="store_true", help="只显示将发送给谁，不发送。")

    def handle(self, *args, dry_run=False, **options):
        today = timezone.localdate()
        seen = dict(WorkSeen.objects.values_list("user_id", "seen_at"))
        users = (
            get_user_model()
            .objects.filter(is_active=True, divisions__isnull=False)
            .exclude(email="")
            .distinct()
            .order_by("username")
        )
        sent = 0
        for user in users:
            ids = list(work.member_divisions(user).values_list("pk", flat=True))
            active = work.with_details(work.items(ids, today)).filter(
                state__in=[work.OPEN, work.OVERDUE]
            )
            since = seen.get(user.pk)
            new = active.none()
            if since is not None:
                new = active.filter(
                    Q(import_batch__started_at__gt=since)
                    | Q(memo_effective_on__gt=timezone.localdate(since))
                )
            overdue = active.filter(state=work.OVERDUE)
            counts = {"new": new.count(), "overdue": overdue.count()}
            if not any(counts.values()):
                continue
            context = {
                "user": user,
                "counts": counts,
                "new": work.with_due(work.ordered(new)[:LISTED], today),
                "overdue": work.with_due(work.ordered(overdue)[:LISTED], today),
                "listed": LISTED,
                "today": today,
            }
            body = render_to_string("work/digest.txt", context)
            subject = f"处室待办：新增 {counts['new']} 项，已超期 {counts['overdue']} 项"
            if dry_run:
                self.stdout.write(f"{user.get_username()} <{user.email}>：{subject}")
                continue
            send_mail(subject, body, settings.DEFAULT_FROM_EMAIL, [user.email])
            sent += 1
        self.stdout.write(f"已发送 {sent} 封待办提醒邮件。")
