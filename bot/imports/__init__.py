"""Imports of other departments' records from CSV files (SPEC §5): one module per kind, one engine."""

from bot.imports import permits, residence, social_insurance, students, talents
from bot.imports.engine import FileRefused, Kind, Report, import_file

# In SPEC §5's order, which is the order of `residence-bot import --help`.
KINDS: dict[str, Kind] = {
    kind.name: kind for kind in (social_insurance.KIND, residence.KIND, permits.KIND, talents.KIND, students.KIND)
}

__all__ = ["KINDS", "FileRefused", "Kind", "Report", "import_file"]
