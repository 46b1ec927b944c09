"""Linking a file's columns to the rules' fields: automatically from the titles and the
content, or explicitly.

A title matches a field when, after normalisation (case, accents, punctuation, spacing), it
is one of the field's spellings; else when its words are a spelling's words, in any order,
with CamelCase and snake_case split, numbers and qualifiers such as "Billing" or "Main"
left out; else when it is a close misspelling of one, word by word. A sample of each column's
values then confirms the match, refuses it when the values contradict the field, or maps a
column whose title says nothing known but whose values are unmistakable. Each field takes
one column: better matches first, so an exact title is never blocked by a guess.
"""
from __future__ import annotations

import difflib
import re
import unicodedata
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field

from .components import Field
from .errors import UsageError

FUZZY_THRESHOLD = 0.84
"""Lowest similarity for a title to match a spelling it is not."""
FUZZY_MARGIN = 0.06
"""Two fields closer than this to the best score compete: the match is left to the user."""
MAX_SIMILAR_LENGTH = 60
"""Longer titles are no misspelling of a field's title (and comparing them would cost much)."""
WORD_SIMILARITY = 0.75
"""Lowest similarity of a misspelt word to the word it stands for."""
CONTRADICTED = 0.5
"""Below this share of values that look right, the content contradicts a title's match."""
REFUSING_VALUES = 3
"""Fewer distinct values than this never refuse a match (a few bad values are the lines' errors)."""
REFUSING_EXACT_VALUES = 5
EXACT_CONTRADICTED = 0.2
"""A field's own title is refused only on more and clearer evidence."""
CONFIRMED = 0.8
"""From this share of values that look right, the content confirms a title's match."""
ALONE = 0.9
"""From this share of distinctive values (and at least ``ALONE_VALUES``), content alone maps a column."""
ALONE_VALUES = 3
SAMPLE_ROWS = 200
"""Data rows whose values are looked at."""

EXACT, SYNONYM, WORDS, FUZZY, CONTENT = "exact", "synonym", "words", "similar", "content"
EXPLICIT, REMEMBERED = "explicit", "remembered"
RANKS = {EXPLICIT: 0, REMEMBERED: 1, EXACT: 2, SYNONYM: 3, WORDS: 4, FUZZY: 5, CONTENT: 6}
"""Which kind of match takes a field first when two columns want it."""

STOP_WORDS = frozenset("a an the of for and or to de du des d la le les l en et pour par au aux y el los las del "
                       "der die das dem den von vom und fur zu il lo di da".split())
"""Words that say nothing of a column, in the languages of the exports (English, French, German, Spanish, Italian)."""
QUALIFIERS = frozenset("billing bill mailing invoicing invoice main primary principal principale principaux default "
                       "facturation person po postal required obligatoire optional facultatif address adresse "
                       "customer client company societe entreprise external".split())
"""Words that qualify a field without changing it: "Billing City" is a city, "Person1Email" an email.
Left out only when the title matches no spelling with them."""

_NOT_WORD = re.compile(r"[\W_]+")
_CASE_OR_DIGIT_CHANGE = re.compile(
    r"(?<=[a-z])(?=[A-Z])|(?<=[A-Z])(?=[A-Z][a-z])|(?<=[^\W\d_])(?=\d)|(?<=\d)(?=[^\W\d_])")


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


def _stem(word: str) -> str:
    """A word without its plural "s" ("Phone Numbers" is "phone number")."""
    return word[:-1] if len(word) > 3 and word.endswith("s") and not word.endswith("ss") else word


def words(title: str) -> frozenset[str]:
    """The words of a title that say what it is: CamelCase, snake_case and numbers split,
    normalised, plurals singular, without stop words."""
    spaced = _CASE_OR_DIGIT_CHANGE.sub(" ", title)
    return frozenset(_stem(w) for w in normalise(spaced).split() if w not in STOP_WORDS)


@dataclass
class ColumnMatch:
    """What one column of the file is linked to."""

    index: int
    title: str
    field: str | None
    how: str = ""
    score: float = 0.0
    note: str = ""
    content: str = ""
    """What the values said: "confirmed" the match, or "" when not looked at or not telling."""
    group: int | None = None
    """The number of the group of repeated columns this one belongs to (Person2Email: 2), if any."""

    @property
    def doubtful(self) -> bool:
        return self.how in (FUZZY, CONTENT) or bool(self.note)

    def as_dict(self) -> dict[str, object]:
        """How the report shows it."""
        entry: dict[str, object] = {"column": self.title, "field": self.field, "how": self.how or None}
        if self.how == FUZZY:
            entry["score"] = round(self.score, 2)
        if self.content:
            entry["content"] = self.content
        if self.group is not None:
            entry["group"] = self.group
        if self.note:
            entry["note"] = self.note
        return entry


@dataclass
class ColumnMapping:
    """The links of every column, and the fields no column fills."""

    columns: list[ColumnMatch]
    unmapped_fields: list[str]
    remembered_from: str = ""
    """The past import whose choices came back, if any (see ``etl.history.remembered_mapping``)."""

    def field_columns(self) -> dict[str, int]:
        """field -> column index."""
        return {m.field: m.index for m in self.columns if m.field and m.group is None}

    def groups(self) -> list[dict[str, int]]:
        """The numbered groups of repeated columns, each as field -> column index, by number."""
        numbers = sorted({m.group for m in self.columns if m.field and m.group is not None})
        return [{m.field: m.index for m in self.columns if m.field and m.group == n} for n in numbers]

    def titles(self) -> dict[str, str]:
        """field -> the file's own column title."""
        return {m.field: m.title for m in self.columns if m.field and m.group is None}

    def as_file(self) -> dict[str, str]:
        """The mapping as written by ``etl map --save``: column title -> field ("" to ignore); the
        numbered groups are left to be found again."""
        return {m.title: m.field or "" for m in self.columns if m.group is None}

    def chosen(self) -> list[str]:
        """The titles of the columns the user linked or ignored, now or in a remembered import."""
        return [m.title for m in self.columns if m.how in (EXPLICIT, REMEMBERED) and m.group is None]

    def guesses(self) -> list[ColumnMatch]:
        """The columns linked by anything but their exact title or the user's word."""
        return [m for m in self.columns if m.field and m.how not in (EXACT, EXPLICIT, REMEMBERED) and m.group is None]

    def ignored(self) -> list[ColumnMatch]:
        return [m for m in self.columns if not m.field]


@dataclass
class _Knowledge:
    """The fields' spellings, indexed for every kind of title match."""

    fields: Mapping[str, Field]
    spellings: dict[str, tuple[str, str]] = field(default_factory=dict)
    """normalised spelling -> (field, EXACT or SYNONYM)."""
    by_words: dict[frozenset[str], set[str]] = field(default_factory=dict)
    """a spelling's words -> the fields spelt so."""
    false_friends: dict[frozenset[str], set[str]] = field(default_factory=dict)

    @classmethod
    def of(cls, fields: Sequence[Field]) -> _Knowledge:
        known = cls({f.name: f for f in fields})
        for f in fields:
            for spelling, how in [(f.name, EXACT), *((label, EXACT) for label in f.labels.values()),
                                  *((synonym, SYNONYM) for synonym in f.synonyms)]:
                known.spellings.setdefault(normalise(spelling), (f.name, how))
                if key := words(spelling):
                    known.by_words.setdefault(key, set()).add(f.name)
            for friend in f.false_friends:
                known.false_friends.setdefault(words(friend), set()).add(f.name)
        return known


def _title_candidates(title: str, known: _Knowledge) -> tuple[list[tuple[str, str, float]], str]:
    """The fields a title may mean, best first, as (field, how, score); or none and why."""
    key = normalise(title)
    if not key:
        return [], ""
    title_words = words(title)
    barred = known.false_friends.get(title_words, set())
    if key in known.spellings and known.spellings[key][0] not in barred:
        field_name, how = known.spellings[key]
        return [(field_name, how, 1.0)], ""
    found = _by_words(title_words, known, barred)
    if found:
        return found, ""
    if barred:
        return [], (f"not taken as {', '.join(sorted(barred))}: "
                    "this title means something else, in some exports at least")
    return _similar(key, title_words, known)


def _by_words(title_words: frozenset[str], known: _Knowledge, barred: set[str]) -> list[tuple[str, str, float]]:
    """Fields whose spelling has the title's words, less qualifiers and numbering: the spelling with
    the most words first; fewer words left over score higher, a number other than 1 least."""
    best: dict[str, float] = {}
    size = 0
    for spelling_words, names in known.by_words.items():
        left = title_words - spelling_words
        if len(spelling_words) < size or not spelling_words <= title_words or \
                not all(w in QUALIFIERS or w.isdigit() for w in left):
            continue
        score = 1.0 - sum(0.02 if w == "1" else 0.1 if w.isdigit() else 0.05 for w in left)
        if len(spelling_words) > size:
            best, size = {}, len(spelling_words)
        for name in names - barred:
            best[name] = max(score, best.get(name, 0.0))
    return sorted(((name, WORDS, score) for name, score in best.items()), key=lambda c: -c[2])


def _words_pair_up(title_words: frozenset[str], spelling_words: frozenset[str]) -> bool:
    """Whether each word of a title is a word of the spelling or a misspelling of one."""
    extra, missing = sorted(title_words - spelling_words), sorted(spelling_words - title_words)
    if len(extra) != len(missing):
        return False
    return all(difflib.SequenceMatcher(None, a, b).ratio() >= WORD_SIMILARITY for a, b in zip(extra, missing))


def _similar(key: str, title_words: frozenset[str], known: _Knowledge) -> tuple[list[tuple[str, str, float]], str]:
    """Fields whose spelling the title is a close misspelling of, or none with a note when fields compete."""
    best: dict[str, float] = {}
    if len(key) > MAX_SIMILAR_LENGTH:
        return [], ""
    for spelling, (field_name, _) in known.spellings.items():
        matcher = difflib.SequenceMatcher(None, key, spelling)
        if matcher.real_quick_ratio() < FUZZY_THRESHOLD or matcher.quick_ratio() < FUZZY_THRESHOLD:
            continue  # upper bounds of the ratio, much cheaper
        score = matcher.ratio()
        if score >= FUZZY_THRESHOLD and score > best.get(field_name, 0.0) and \
                _words_pair_up(title_words, words(spelling)):
            best[field_name] = score
    ranked = sorted(best.items(), key=lambda item: -item[1])
    if not ranked:
        return [], ""
    if len(ranked) > 1 and ranked[0][1] - ranked[1][1] < FUZZY_MARGIN:
        rivals = ", ".join(name for name, _ in ranked[:2])
        return [], f"close to several fields ({rivals}): map it explicitly"
    return [(ranked[0][0], FUZZY, ranked[0][1])], ""


def _share(values: Sequence[str], f: Field) -> float:
    """The share of the values that look like the field's."""
    assert f.content is not None
    return sum(map(f.content.accepts, values)) / len(values)


def _by_content(match: ColumnMatch, candidates: list[tuple[str, str, float]], values: Sequence[str],
                known: _Knowledge) -> None:
    """Choose among the title's candidates, the best title first and, among equals, the one whose
    values fit; refuse a match its values contradict."""
    kept, refused = [], []
    for name, how, score in candidates:
        f = known.fields[name]
        share = _share(values, f) if f.content is not None and values else None
        exact = how == EXACT
        if share is not None and len(values) >= (REFUSING_EXACT_VALUES if exact else REFUSING_VALUES) and \
                share < (EXACT_CONTRADICTED if exact else CONTRADICTED):
            refused.append(f"its values are not {f.content.name} (e.g. {_example(values, f)!r})")
        else:
            kept.append((score, share is not None and share >= CONFIRMED, name, how))
    if kept:
        score, confirmed, match.field, match.how = max(kept, key=lambda k: k[:2])
        match.score, match.content = score, "confirmed" if confirmed else ""
    else:
        match.note = f"the title suggests {', '.join(c[0] for c in candidates)} but " + "; ".join(refused)


def _fits_mostly(values: Sequence[str], f: Field) -> bool:
    """Whether the values may reach the share ``ALONE``: stops at the first values too many that do
    not fit (a column of anything else costs a few checks, not one per value)."""
    assert f.content is not None
    allowed = len(values) - ALONE * len(values)
    misses = 0
    for value in values:
        if not f.content.accepts(value):
            misses += 1
            if misses > allowed:
                return False
    return True


def _example(values: Sequence[str], f: Field) -> str:
    assert f.content is not None
    return next(v for v in values if not f.content.accepts(v))[:40]


def _content_alone(match: ColumnMatch, values: Sequence[str], known: _Knowledge) -> None:
    """Link a column whose title says nothing known to the one field its values unmistakably belong to."""
    if len(values) < ALONE_VALUES:
        return
    fitting = [(share, name) for name, f in known.fields.items() if f.content is not None and f.content.alone
               and _fits_mostly(values, f) and (share := _share(values, f)) >= ALONE]
    if len(fitting) == 1:
        match.score, match.field = fitting[0]
        match.how = CONTENT


def _assign(matches: list[ColumnMatch], known: _Knowledge) -> None:
    """One column per field, the best match first; then drop the columns whose needed field has none."""
    taken: dict[str, ColumnMatch] = {}
    for match in sorted((m for m in matches if m.field), key=lambda m: (RANKS[m.how], -m.score, m.index)):
        assert match.field is not None
        if match.field in taken:
            match.note = f"{match.field} is already taken by column {taken[match.field].title!r}"
            match.field, match.how, match.content = None, "", ""
        else:
            taken[match.field] = match
    for match in matches:
        needs = known.fields[match.field].needs if match.field else None
        if needs and needs not in taken:
            match.note = f"no column for {needs}, which {match.field} needs: left out"
            match.field, match.how, match.content = None, "", ""


def _not_copies(matches: list[ColumnMatch], known: _Knowledge, sample: Sample) -> None:
    """Unlink a column whose values mostly repeat, row by row, those of the column of a field it must
    differ from: a contact's "Contact Name" that holds the customers' names is not a person's name."""
    column_of = {m.field: m for m in matches if m.field}
    for match in matches:
        if not match.field or match.how == EXPLICIT or not sample.cells:
            continue
        for other in known.fields[match.field].differs_from:
            twin = column_of.get(other)
            if twin is not None and sample.same_share(match.index, twin.index) >= CONTRADICTED:
                match.note = f"its values are those of column {twin.title!r} ({other}), not {match.field}"
                match.field, match.how, match.content = None, "", ""
                break


def _number(title: str) -> int | None:
    """The one number in a title's words (Person2Email: 2), or None."""
    numbers = [w for w in words(title) if w.isdigit()]
    return int(numbers[0]) if len(numbers) == 1 and len(numbers[0]) <= 2 else None


def _group_repeats(matches: list[ColumnMatch], known: _Knowledge) -> None:
    """Make groups of the numbered columns of repeating fields that the line's own columns left over:
    with "EmailAddress" mapped, "Person1Email" and "Person2Email" are the emails of groups 1 and 2."""
    primary = {m.field: _number(m.title) for m in matches if m.field}
    members: dict[int, dict[str, ColumnMatch]] = {}
    for match in matches:
        number = _number(match.title)
        if match.field or number is None:
            continue
        title_words = words(match.title) - {str(number)}
        for name, how, score in _by_words(title_words, known, set()):
            if known.fields[name].repeats and name in primary and primary[name] != number:
                members.setdefault(number, {}).setdefault(name, match)
                break
    for number, group in members.items():
        for name, match in group.items():
            match.field, match.how, match.group, match.note = name, WORDS, number, ""


@dataclass
class Sample:
    """The first rows' values, stripped: each column's cells in row order, and its distinct non-empty values."""

    cells: list[list[str]]
    distinct: list[list[str]]

    @classmethod
    def of(cls, rows: Iterable[tuple[int, Sequence[str]]], width: int) -> Sample:
        cells: list[list[str]] = [[] for _ in range(width)]
        for _, row in rows:
            for column, cell in zip(cells, row):
                column.append(cell.strip() if isinstance(cell, str) else "")
        return cls(cells, [list(dict.fromkeys(filter(None, column))) for column in cells])

    def values(self, index: int) -> list[str]:
        return self.distinct[index] if index < len(self.distinct) else []

    def same_share(self, a: int, b: int) -> float:
        """The share of the rows with a value in column ``a`` where column ``b`` holds the same value, or
        one of the two starts with the other's two words or more ("Lemaire Conseil" and "Lemaire Conseil SARL")."""
        pairs = [(normalise(x), normalise(y)) for x, y in zip(self.cells[a], self.cells[b]) if x]
        return sum(_same(x, y) for x, y in pairs) / len(pairs) if pairs else 0.0


def _same(x: str, y: str) -> bool:
    shorter, longer = sorted((x, y), key=len)
    return x == y or (" " in shorter and longer.startswith(shorter + " "))


NO_SAMPLE = Sample([], [])


def propose(header: Sequence[str], fields: Sequence[Field], sample: Sample = NO_SAMPLE,
            explicit: Mapping[str, str | None] | None = None,
            remembered: tuple[Mapping[str, str], str] = ({}, "")) -> ColumnMapping:
    """The mapping of ``header`` to ``fields``: the user's ``explicit`` one (see :func:`explicit_links`),
    then the choices ``remembered`` from a past import with a close header (title -> field, and where
    from) where they differ from today's, completed automatically from the titles and the ``sample``
    of the first rows' values."""
    known = _Knowledge.of(fields)
    links = explicit_links(header, explicit or {}, fields)
    automatic = _proposal(header, known, sample, links, {})
    chosen = {m.title: m.field or "" for m in automatic.columns if m.group is None}
    differing = {title: name for title, name in remembered[0].items()
                 if title not in links and title in chosen and chosen[title] != name
                 and (not name or name in known.fields)}
    if not differing:
        return automatic
    mapping = _proposal(header, known, sample, links, differing)
    mapping.remembered_from = remembered[1]
    return mapping


def _proposal(header: Sequence[str], known: _Knowledge, sample: Sample, links: Mapping[str, str],
              remembered: Mapping[str, str]) -> ColumnMapping:
    forced = set(links.values()) | set(remembered.values())
    matches = []
    for index, title in enumerate(header):
        if title in links:
            matches.append(ColumnMatch(index, title, links[title] or None, EXPLICIT, 1.0))
            continue
        if title in remembered:
            name = remembered[title] or None
            matches.append(ColumnMatch(index, title, name, REMEMBERED, 1.0,
                                       "" if name else "ignored, as in the remembered mapping"))
            continue
        values = sample.values(index)
        candidates, note = _title_candidates(title, known)
        candidates = [c for c in candidates if c[0] not in forced]
        match = ColumnMatch(index, title, None, note=note)
        if candidates:
            _by_content(match, candidates, values, known)
        elif not note:
            _content_alone(match, values, known)
        matches.append(match)
    _assign(matches, known)
    _not_copies(matches, known, sample)
    _group_repeats(matches, known)
    return ColumnMapping(matches, [name for name in known.fields if name not in {m.field for m in matches}])


def closest(name: str, valid: Iterable[str]) -> str:
    """", did you mean X?" for the valid name closest to a mistyped one, or ""."""
    found = difflib.get_close_matches(name, list(valid), n=1, cutoff=0.6)
    return f"; did you mean {found[0]!r}?" if found else ""


def explicit_links(header: Sequence[str], explicit: Mapping[str, str | None],
                   fields: Sequence[Field]) -> dict[str, str]:
    """A user's mapping as column title -> field ("" ignores the column), checked against the file and the fields.

    ``explicit`` maps column title -> field, or field -> column title (told apart by its keys).
    """
    names = [f.name for f in fields]
    by_name = {alias: f.name for f in fields for alias in (f.name, *f.aliases)}
    titles = set(header)
    if explicit and all(k in by_name for k in explicit) and not any(k in titles for k in explicit):
        explicit = {column: field for field, column in explicit.items() if column}
    for title, field_name in explicit.items():
        if title not in titles:
            raise UsageError(f"the mapping names column {title!r}, which is not in the file{closest(title, titles)}")
        if field_name and field_name not in by_name:
            raise UsageError(f"the mapping links column {title!r} to unknown field {field_name!r}"
                             f"{closest(field_name, by_name)} (the fields: {', '.join(names)})")
    return {title: by_name[field_name] if field_name else "" for title, field_name in explicit.items()}


def load_mapping_file(path) -> dict[str, str | None]:
    """Read a mapping file: TOML or JSON, a flat table of strings."""
    from .table_files import read_table_file

    data = read_table_file(path)
    if "columns" in data and isinstance(data["columns"], dict):
        data = data["columns"]
    bad = [k for k, v in data.items() if v is not None and not isinstance(v, str)]
    if bad:
        raise UsageError(f"{path}: mapping values must be field names or column titles (see {bad[0]!r})")
    return dict(data)
