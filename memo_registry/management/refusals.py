"""How the import commands refuse: one message, never a traceback."""

import contextlib

from django.core.management.base import CommandError
from django.db import DatabaseError

from memo_registry.imports.errors import ImportFailed, database_refusal
from memo_registry.lib.spreadsheet import SpreadsheetError


@contextlib.contextmanager
def as_command_error():
    """A file that cannot be read, rows refused, or the database refusing
    the write (another import holding SQLite's write lock past its timeout,
    a lost connection): each becomes a CommandError with the message the
    pages show for it; nothing was written."""
    try:
        yield
    except SpreadsheetError as error:
        raise CommandError(str(error)) from None
    except ImportFailed as error:
        raise CommandError(error.report()) from None
    except DatabaseError as error:
        raise CommandError(database_refusal(error)) from None
