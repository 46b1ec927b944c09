"""Linking a file's columns to the rules' fields: automatically from the titles, or explicitly.

Titles are compared after normalisation (case, accents, punctuation, spacing); a title
that is no known spelling may still match by similarity, but never when two fields
compete for it.
"""
from __future__ import annotations

import difflib
import re
import unicodedata
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from .components import Field
from .errors import UsageError

FUZZY_THRESHOLD = 0.84
"""Lowest similarity for a title to match a spelling it is not."""
FUZZY_MARGIN = 0.06
"""Two fields closer than this to the best score compete: the match is left to the user."""

EXACT, SYNONYM, FUZZY, EXPLICIT = "exact", "synonym", "similar", "explicit"

_NOT_WORD = re.compile(r"[\W_]+")


def _latin_letters() -> dict[int, str]:
    """Accented Latin letters -> their bare letters (é -> e), for a fast ``str.translate``."""
    table = {}
    for code in range(0xC0, 0x250):
        bare = "".join(c for c in unicodedata.normalize("NFKD", chr(code)) if not unicodedata.combining(c))
        if bare != chr(code) and bare.isascii():
            table[code] = bare
    return table


_LATIN = _latin_letters()


def normalise(title: str) -> str:
    """Lower case, no accents, words separated by single spaces."""
    if not title.isascii():
        title = title.translate(_LATIN)
        if not title.isascii():
            decomposed = unicodedata.normalize("NFKD", title)
            title = "".join(c for c in decomposed if not unicodedata.combining(c))
    return _NOT_WORD.sub(" ", title.casefold()).strip()


@dataclass
class ColumnMatch:
    """What one column of the file is linked to."""

    index: int
    title: str
    field: str | None
    how: str = ""
    score: float = 0.0
    note: str = ""

    @property
    def doubtful(self) -> bool:
        return self.how == FUZZY or bool(self.note)


@dataclass
class ColumnMapping:
    """The links of every column, and the fields no column fills."""

    columns: list[ColumnMatch]
    unmapped_fields: list[str]

    def field_columns(self) -> dict[str, int]:
        """field -> column index."""
        return {m.field: m.index for m in self.columns if m.field}

    def titles(self) -> dict[str, str]:
        """field -> the file's own column title."""
        return {m.field: m.title for m in self.columns if m.field}

    def as_file(self) -> dict[str, str]:
        """The mapping as written by ``etl map --save``: column title -> field ("" to ignore)."""
        return {m.title: m.field or "" for m in self.columns}


def _spellings(fields: Sequence[Field]) -> dict[str, tuple[str, str]]:
    """normalised spelling -> (field, how)."""
    known: dict[str, tuple[str, str]] = {}
    for f in fields:
        for spelling in (f.name, *f.labels.values()):
            known.setdefault(normalise(spelling), (f.name, EXACT))
        for spelling in f.synonyms:
            known.setdefault(normalise(spelling), (f.name, SYNONYM))
    return known


def _similar(title: str, known: Mapping[str, tuple[str, str]]) -> tuple[str | None, float, str]:
    """Best field by similarity, or None with a note when fields compete."""
    best: dict[str, float] = {}
    for spelling, (field_name, _) in known.items():
        score = difflib.SequenceMatcher(None, title, spelling).ratio()
        if score > best.get(field_name, 0.0):
            best[field_name] = score
    ranked = sorted(best.items(), key=lambda item: -item[1])
    if not ranked or ranked[0][1] < FUZZY_THRESHOLD:
        return None, 0.0, ""
    if len(ranked) > 1 and ranked[1][1] >= FUZZY_THRESHOLD and ranked[0][1] - ranked[1][1] < FUZZY_MARGIN:
        rivals = ", ".join(name for name, score in ranked[:2])
        return None, ranked[0][1], f"close to several fields ({rivals}): map it explicitly"
    return ranked[0][0], ranked[0][1], ""


def propose(header: Sequence[str], fields: Sequence[Field]) -> ColumnMapping:
    """The automatic mapping of ``header`` to ``fields``."""
    known = _spellings(fields)
    matches: list[ColumnMatch] = []
    taken: dict[str, ColumnMatch] = {}
    for index, title in enumerate(header):
        key = normalise(title)
        if key in known:
            field_name, how = known[key]
            match = ColumnMatch(index, title, field_name, how, 1.0)
        elif key:
            field_name, score, note = _similar(key, known)
            match = ColumnMatch(index, title, field_name, FUZZY if field_name else "", score, note)
        else:
            match = ColumnMatch(index, title, None)
        if match.field in taken:
            match.note = f"{match.field} is already taken by column {taken[match.field].title!r}"
            match.field, match.how = None, ""
        elif match.field:
            taken[match.field] = match
        matches.append(match)
    return ColumnMapping(matches, [f.name for f in fields if f.name not in taken])


def apply_explicit(mapping: ColumnMapping, explicit: Mapping[str, str | None], fields: Sequence[Field]) -> ColumnMapping:
    """Override or complete ``mapping`` with a user's mapping.

    ``explicit`` maps column title -> field, or field -> column title (told apart by
    its keys); an empty field ignores the column.
    """
    names = {f.name for f in fields}
    titles = {m.title: m for m in mapping.columns}
    if explicit and all(k in names for k in explicit) and not any(k in titles for k in explicit):
        explicit = {column: field for field, column in explicit.items() if column}
    for title, field_name in explicit.items():
        if title not in titles:
            raise UsageError(f"the mapping names column {title!r}, which is not in the file")
        if field_name and field_name not in names:
            raise UsageError(f"the mapping links column {title!r} to unknown field {field_name!r}")
        for match in mapping.columns:
            if field_name and match.field == field_name:
                match.field, match.how = None, ""
        match = titles[title]
        match.field, match.how, match.score, match.note = (field_name or None), EXPLICIT, 1.0, ""
    used = {m.field for m in mapping.columns if m.field}
    mapping.unmapped_fields = [f.name for f in fields if f.name not in used]
    return mapping


def load_mapping_file(path) -> dict[str, str | None]:
    """Read a mapping file: TOML or JSON, a flat table of strings."""
    from .settings import read_table_file

    data = read_table_file(path)
    if "columns" in data and isinstance(data["columns"], dict):
        data = data["columns"]
    bad = [k for k, v in data.items() if v is not None and not isinstance(v, str)]
    if bad:
        raise UsageError(f"{path}: mapping values must be field names or column titles (see {bad[0]!r})")
    return dict(data)
