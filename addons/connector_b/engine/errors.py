"""Errors of the import engine: a file or profile that cannot be imported at all, and a refused cell value.

``ImportFileError`` stops the whole import (empty file, binary garbage, wrong sheet, missing header, unknown
column): the wizard shows its Russian ``message`` as it is, and ``code`` is stable for the API and tests.
``CellError`` is one value that cannot be read; the row is rejected with its text, the import goes on.
"""

from __future__ import annotations


class ImportFileError(Exception):
    """The file (or the profile applied to it) cannot be imported: nothing of it is taken.

    ``code`` is a stable machine code (``empty_file``, ``binary_file``, ``unknown_sheet`` …), ``message`` a
    Russian sentence for the manager. Never a traceback: the engine turns every reader failure into one.
    """

    def __init__(self, code: str, message: str):
        super().__init__(message)
        self.code = code
        self.message = message

    def __str__(self) -> str:
        return self.message


class ProfileError(ImportFileError):
    """The profile itself is wrong (unknown kind, field or setting): fix the profile, not the file."""

    def __init__(self, message: str, code: str = "bad_profile"):
        super().__init__(code, message)


class CellError(ValueError):
    """One cell value that cannot be read (``message`` Russian, without the column: the caller adds it)."""

    def __init__(self, message: str):
        super().__init__(message)
        self.message = message

    def __str__(self) -> str:
        return self.message
