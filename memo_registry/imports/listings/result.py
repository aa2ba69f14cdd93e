"""What a listing import tells its user, and the ImportBatch record that keeps it."""

from dataclasses import dataclass, field

from django.utils import timezone

from memo_registry.audit.models import ImportBatch


@dataclass
class SubjectImportResult:
    """The counts and warnings of one import, as the command prints them."""

    rows: int = 0
    subjects_created: int = 0
    subjects_updated: int = 0
    listings_created: int = 0
    listings_updated: int = 0
    listings_unchanged: int = 0
    batch: ImportBatch | None = None
    warnings: list = field(default_factory=list)

    def as_counts(self) -> dict:
        return {
            "rows": self.rows,
            "subjects_created": self.subjects_created,
            "subjects_updated": self.subjects_updated,
            "listings_created": self.listings_created,
            "listings_updated": self.listings_updated,
            "listings_unchanged": self.listings_unchanged,
        }


def start_batch(file_name: str, sha256: str, user, source: str) -> ImportBatch:
    return ImportBatch.objects.create(
        kind=ImportBatch.Kind.SUBJECTS, file_name=file_name, sha256=sha256, user=user, source=source
    )


def finish_batch(batch: ImportBatch, result: SubjectImportResult) -> None:
    result.listings_unchanged = max(
        result.rows - result.listings_created - result.listings_updated, 0
    )
    batch.counts = result.as_counts()
    batch.finished_at = timezone.now()
    batch.save(update_fields=["counts", "finished_at"])
    result.batch = batch
