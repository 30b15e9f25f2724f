"""The ExportError family: every refusal and failure of an export, each ``str()`` a
sentence an operator understands. (:class:`~tasktui.export.checkpoint.UnfinishedExportError`
lives with the checkpoint it carries.)"""

from __future__ import annotations

__all__ = [
    "ExportBusyError",
    "ExportError",
    "ExportIOError",
    "ExportUsageError",
    "OutputExistsError",
    "ResumeMismatchError",
]


class ExportError(Exception):
    """The export could not be done; ``str()`` is a sentence an operator understands."""


class ExportUsageError(ExportError):
    """Bad input: the output path, the resume request or the format is not usable.
    Nothing was written."""


class OutputExistsError(ExportUsageError):
    """The output file exists and overwriting was not asked for."""


class ResumeMismatchError(ExportUsageError):
    """``--resume`` with filters (or format, or server) other than the checkpoint's."""


class ExportBusyError(ExportUsageError):
    """Another export is writing the same partial file right now."""


class ExportIOError(ExportError):
    """Writing the output failed (disk full, permissions changed, ...). What was written
    up to the last complete page is kept, with its checkpoint."""
