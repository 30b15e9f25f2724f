"""Streaming, resumable export of every task matching a query, as JSON or NDJSON.

No Textual here: ``tasktui export`` and the app's export dialog both drive
:class:`Exporter`.

Guarantees
----------
* **Each matching task exactly once.** Pages are read with the server's keyset
  cursor (``next_token``) and written whole; the checkpoint only ever points at the
  end of a page that was written completely.
* **A half-written export never looks finished.** Tasks go to ``FILE.partial`` in the
  same directory; only when the last page is written is it flushed to disk and
  renamed over ``FILE`` (``os.replace``, atomic on one file system).
* **Resumable.** After every page (at most every ``CHECKPOINT_INTERVAL`` seconds, and
  whenever the export stops), ``FILE.checkpoint.json`` records the filters (as given and
  as resolved), the ``next_token`` of the next page to fetch, how many tasks were written
  and the byte offset of the end of the last complete record; it is replaced atomically
  and fsynced (:func:`tasktui.files.write_atomic`). It counts only bytes that are on
  disk: every write is checked to have taken all its bytes
  (:func:`tasktui.files.write_all`; a full disk or a file-size limit makes writes come
  back short), and the partial file is fsynced before the checkpoint that counts it.
  Resuming truncates the partial file to that offset (a torn record never survives)
  and continues from the token. The JSON array format stays valid because the
  separator is written *before* each record and the closing bracket only at the end.
* **Consistency.** At the start of an export the upper bound of the date range is
  fixed to ``min(user's end, the start instant)`` (the *snapshot*, stored in the
  checkpoint). The list is newest first with keyset paging, so tasks created while the
  export runs are outside the range: they neither shift pages nor appear half-way,
  and a resume fetches exactly the same set. (With ``--date-field completed`` the bound
  is on ``completed_at``, so tasks completed during the export are left out too.)
  Tasks whose *status* changes during the export are exported as they are when their
  page is read; if the change moves them out of the filter, they are left out.
* **Flat memory.** One page (≤ 100 tasks) is held at a time, plus the ids of the
  previous page (to drop a duplicate at a page boundary should a server repeat one).
* **The API key never appears** in the output or the checkpoint (the checkpoint holds
  the server URL without any user-info part, never credentials).
* **Safe to print.** Task text is data: what a terminal may act on is escaped
  (:func:`terminal_safe`, in :mod:`tasktui.export.format`).

The package: ``errors`` (the ExportError family), ``format`` (ExportFormat, framing,
terminal_safe), ``checkpoint`` (Checkpoint and the files of an unfinished export),
``progress`` (ExportProgress, ExportResult) and ``exporter`` (Exporter). Import from
here.
"""

from __future__ import annotations

from tasktui.export.checkpoint import (
    CHECKPOINT_INTERVAL,
    CHECKPOINT_KIND,
    CHECKPOINT_SUFFIX,
    CHECKPOINT_VERSION,
    PARTIAL_SUFFIX,
    Checkpoint,
    UnfinishedExportError,
    checkpoint_path,
    describe_spec_difference,
    fingerprint,
    partial_path,
    public_url,
    query_from_dict,
    query_to_dict,
    read_checkpoint,
    snapshot_query,
)
from tasktui.export.errors import (
    ExportBusyError,
    ExportError,
    ExportIOError,
    ExportUsageError,
    OutputExistsError,
    ResumeMismatchError,
)
from tasktui.export.exporter import EXPORT_PARALLEL, Exporter, validate_output_path
from tasktui.export.format import ExportFormat, terminal_safe
from tasktui.export.progress import ExportProgress, ExportResult, ProgressCallback, clock

__all__ = [
    "CHECKPOINT_INTERVAL",
    "CHECKPOINT_KIND",
    "CHECKPOINT_SUFFIX",
    "CHECKPOINT_VERSION",
    "EXPORT_PARALLEL",
    "PARTIAL_SUFFIX",
    "Checkpoint",
    "ExportBusyError",
    "ExportError",
    "ExportFormat",
    "ExportIOError",
    "ExportProgress",
    "ExportResult",
    "ExportUsageError",
    "Exporter",
    "OutputExistsError",
    "ProgressCallback",
    "ResumeMismatchError",
    "UnfinishedExportError",
    "checkpoint_path",
    "clock",
    "describe_spec_difference",
    "fingerprint",
    "partial_path",
    "public_url",
    "query_from_dict",
    "query_to_dict",
    "read_checkpoint",
    "snapshot_query",
    "terminal_safe",
    "validate_output_path",
]
