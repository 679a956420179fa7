"""Bulk samples and results: every line checked, then one atomic, set-based merge.

A file (CSV, Parquet or XLSX) is read into Arrow columns and each line's own fields are
checked column by column (:mod:`fangkong.testing.bulk`); the checked rows go to a temporary
staging table (binary COPY on PostgreSQL, executemany on SQLite). One join of the staging table with
tubes, persons and the round's target then resolves every line (``LEFT JOIN``: a line whose
tube or person is unknown keeps a null), and everything that needs the database (unknown tubes
and persons, tubes of another round, results for tubes never sampled, lines repeated in the
file, tubes over the size their members' places allow, results that contradict a recorded
one) is found from that one resolved table, and reported by line and field. Only a file
without a single problem is merged (INSERT ... SELECT of the new pairs only; UPDATE ... FROM),
all inside a savepoint of the caller's transaction: the file is written whole or not at all,
and importing it again changes nothing.

Results then set off, in the same transaction, what followup.py describes.

The path is written in three modules, by use case: :mod:`fangkong.testing.samples_import`
(a round's samples), :mod:`fangkong.testing.results_import` (a lab's results) and
:mod:`fangkong.testing.staging` (what both share: staging tables, the batch's savepoint and
settings, reading and checking a file's values). This module is their public face.
"""

from __future__ import annotations

from fangkong.testing.results_import import RESULT_COLUMNS, RESULT_REQUIRED, import_results
from fangkong.testing.samples_import import (
    IMPORT_ROLE,
    SAMPLE_COLUMNS,
    SAMPLE_REFS_LOCK,
    SAMPLE_REQUIRED,
    import_samples,
)
from fangkong.testing.schemas import ImportReport
from fangkong.testing.staging import CHUNK

__all__ = ["CHUNK", "IMPORT_ROLE", "RESULT_COLUMNS", "RESULT_REQUIRED", "SAMPLE_COLUMNS",
           "SAMPLE_REFS_LOCK", "SAMPLE_REQUIRED", "ImportReport", "import_results",
           "import_samples"]
