"""What the purge commands share: run one purge, say what it deleted."""

from django.core.management.base import BaseCommand


class PurgeCommand(BaseCommand):
    """A command cron runs to delete what is past its keeping time."""

    def purge(self) -> int:
        """Delete, and answer how many were deleted."""
        raise NotImplementedError

    def report(self, deleted: int) -> str:
        raise NotImplementedError

    def handle(self, *args, **options):
        self.stdout.write(self.report(self.purge()))
