"""Deterministic customer/contact files for the benchmark (CSV and Excel).

Every customer is a pure function of ``(seed, index)``: the same customer comes out of
every file generated with the same seed, which is what lets a re-import file name
customers already in a prepared store. The lines of one customer:

* the first line: every customer column, and its first contact;
* 0-2 continuation lines: only the Customer ID and the contact columns.

A few percent of the lines are bad, each in one way: an invalid contact email, an unknown
contact position, or (on a customer's first line) a payment period that is not whole days.
Names, streets and towns carry accents; files are ``;``-separated UTF-8 (no BOM).
"""
from __future__ import annotations

import csv
import os
import random
import unicodedata
from collections.abc import Iterator
from pathlib import Path

GENERATOR_VERSION = 2
"""Part of every cached file's name: bump it when the generated data changes."""

HEADER = [
    "Customer ID", "Customer name", "Customer accounting code", "VAT number", "Address", "Postal code", "Town",
    "State / Region", "Country", "Email of the Account Manager", "Workflow's name", "Default payment period",
    "Group name", "Group ID", "Contact email", "Contact first name", "Contact Name", "Contact phone",
    "Contact reference", "Contact Position", "Main contact",
]
"""The import's header (the same as ``tests/conftest.py``)."""

GROUP_BLOCK = 50
"""Customer ``i`` may belong to the group of customer ``i - i % GROUP_BLOCK`` (never a subsidiary)."""

FIRST_NAMES = [
    "Élodie", "Hélène", "François", "Jérôme", "Zoë", "Søren", "Ana-María", "Loïc", "Noémie", "Anaïs", "Benoît",
    "Céline", "Thérèse", "José", "Björn", "Małgorzata", "Jürgen", "Inès", "Raphaël", "Gaëlle", "Sophie", "Marc",
    "Julie", "Luc", "Nadia", "Hugo", "John", "Emma", "Oliver", "Anna", "Lars", "Pierre", "Olivia", "Jack",
    "Amelia", "Camille", "Léa", "Chloé", "Théo", "Maël",
]
LAST_NAMES = [
    "Lefèvre", "Müller", "Núñez", "Gonçalves", "Østergaard", "Dąbrowski", "Bernard", "Moreau", "Girard", "Benali",
    "Roux", "Smith", "Jones", "Brown", "Fournier", "Mercier", "Hansen", "Olsen", "Blanc", "Taylor", "Wilson",
    "Davies", "Dupré", "Gauthier", "Bézier", "Chevalier", "Schröder", "Łukasiewicz", "Peña", "Ибрагимов",
    "Fàbregas", "Perrin", "Lemaître", "Garçon", "Ñúñez", "Kowalczyk", "Häkkinen", "Ó Briain", "Castañeda", "Noël",
]
TRADES = [
    "Boulangerie", "Pâtisserie", "Garage", "Transports", "Pharmacie", "Cabinet", "Imprimerie", "Menuiserie",
    "Plomberie", "Électricité", "Café", "Atelier", "Maison", "Établissements", "Société", "Hôtel", "Librairie",
    "Fromagerie", "Quincaillerie", "Brasserie", "Épicerie", "Bâtiment", "Conseil", "Nettoyage", "Informatique",
    "Optique", "Agence", "Clinique", "Ferme", "Laboratoire",
]
LEGAL_FORMS = ["", "", " SARL", " SAS", " S.A.", " GmbH", " Ltd", " & Fils", " et Associés", " AS"]
STREETS = [
    "rue de la République", "avenue de l'Opéra", "quai Saint-Antoine", "boulevard Haussmann", "Hauptstraße",
    "cours de l'Intendance", "place du Général-de-Gaulle", "chemin des Écoliers", "Königsallee", "calle Mayor",
    "rue des Frères-Lumière", "allée des Châtaigniers", "Baker Street", "Karl Johans gate", "rua Augusta",
]
TOWNS = [  # town, state, country, postal code format
    ("Besançon", "Bourgogne-Franche-Comté", "France", "25{:03d}"),
    ("Orléans", "Centre-Val de Loire", "France", "45{:03d}"),
    ("Nîmes", "Occitanie", "France", "30{:03d}"),
    ("Saint-Étienne", "Auvergne-Rhône-Alpes", "France", "42{:03d}"),
    ("Évry-Courcouronnes", "Île-de-France", "France", "91{:03d}"),
    ("Paris", "Île-de-France", "France", "75{:03d}"),
    ("Marseille", "Provence-Alpes-Côte d'Azur", "France", "13{:03d}"),
    ("Montréal", "Québec", "Canada", "H2X {:03d}"),
    ("Zürich", "Zürich", "Switzerland", "80{:02d}"),
    ("Genève", "Genève", "Switzerland", "12{:02d}"),
    ("Málaga", "Andalucía", "Spain", "290{:02d}"),
    ("São Paulo", "São Paulo", "Brazil", "01{:03d}-000"),
    ("Kraków", "Małopolskie", "Poland", "30-{:03d}"),
    ("Göteborg", "Västra Götaland", "Sweden", "41{:03d}"),
    ("München", "Bayern", "Germany", "80{:03d}"),
    ("Oslo", "", "Norway", "0{:03d}"),
    ("London", "Greater London", "United Kingdom", "NW{} 6XE"),
]
ACCOUNT_MANAGERS = [f"{n}@example.com" for n in (
    "claire.martin", "thomas.petit", "ines.garcia", "paul.durand", "lea.fontaine", "omar.haddad", "eva.novak",
    "noah.weber",
)]
WORKFLOWS = ["Standard", "Relance douce", "Relance ferme", "Grands comptes"]
PAYMENT_PERIODS = ["30", "30", "45", "60", "0", "14", "90", "45.0"]
POSITIONS = ["ACCOUNTING", "ACCOUNTING", "PAYER", "SALES", "PURCHASER", "Comptabilité", "buyer", "achats", "payeur", ""]
BAD_POSITIONS = ["CEO", "Directeur financier", "Intern", "Gérant"]
BAD_EMAILS = ["{local}@", "{local} @{domain}", "n/a", "{local}@@{domain}", "{local}.{domain}"]
BAD_PAYMENT_PERIODS = ["30 jours", "-15", "45,5", "net 30", "trente"]


def ascii_of(text: str) -> str:
    """Lower-case ASCII letters, digits, dots and dashes (for emails and domains)."""
    bare = "".join(c for c in unicodedata.normalize("NFKD", text) if not unicodedata.combining(c))
    bare = bare.replace("ø", "o").replace("Ø", "o").replace("ł", "l").replace("Ł", "l").replace("æ", "ae")
    out = "".join(c if c.isascii() and c.isalnum() else "-" for c in bare.lower())
    return "-".join(part for part in out.split("-") if part) or "x"


def customer_id(index: int) -> str:
    return f"C{index:07d}"


def _rng(seed: int, index: int, salt: int = 0) -> random.Random:
    return random.Random((seed * 1_000_003 + salt) * 10_000_019 + index)


def company_name(seed: int, index: int) -> str:
    """Mostly distinct names; a few customers share one ("Boulangerie Martin"), as in real lists."""
    rng = _rng(seed, index, 1)
    last = rng.choice(LAST_NAMES)
    if rng.random() < 0.75:
        last = f"{last}-{rng.choice(LAST_NAMES)}"
    name = f"{rng.choice(TRADES)} {last}{rng.choice(LEGAL_FORMS)}"
    if rng.random() < 0.5:
        name = f"{name} {rng.choice(TOWNS)[0]}"
    return name


def customer_lines(seed: int, index: int, version: int = 0, bad_rate: float = 0.03,
                   contacts: int | None = None) -> list[list[str]]:
    """The lines of customer ``index``; ``version`` > 0 changes some values (and which lines are bad)."""
    rng = _rng(seed, index)
    vary = _rng(seed, index, 100 + version)
    name = company_name(seed, index)
    domain = ascii_of(name) + ".example"
    cid = customer_id(index)
    town, state, country, postal = rng.choice(TOWNS)
    postal_code = postal.format(rng.randrange(1, 100))
    street = f"{rng.randrange(1, 250)} {rng.choice(STREETS)}"
    payment = rng.choice(PAYMENT_PERIODS)
    phone_prefix = f"+33 {rng.randrange(1, 6)} {rng.randrange(10, 99)} {rng.randrange(10, 99)}"
    if version and vary.random() < 0.3:  # a re-import changes some customers
        street = f"{vary.randrange(1, 250)} {vary.choice(STREETS)}"
        payment = vary.choice(PAYMENT_PERIODS)
    group_id = group_name = ""
    head = index - index % GROUP_BLOCK
    if head != index and rng.random() < 0.05:
        group_id = customer_id(head)
        group_name = company_name(seed, head) if rng.random() < 0.5 else ""
    bad = vary.random() < bad_rate * 2  # about half the customers have 2 lines: ~bad_rate of the lines
    bad_kind = vary.randrange(3) if bad else -1
    count = contacts if contacts is not None else rng.choice((1, 2, 2, 3))
    lines = []
    for k in range(count):
        first, last = rng.choice(FIRST_NAMES), rng.choice(LAST_NAMES)
        local = f"{ascii_of(first)}.{ascii_of(last)}.{index}-{k}"
        email = f"{local}@{domain}"
        position = rng.choice(POSITIONS)
        if bad and k == count - 1:
            if bad_kind == 0:
                email = vary.choice(BAD_EMAILS).format(local=local, domain=domain)
            elif bad_kind == 1:
                position = vary.choice(BAD_POSITIONS)
        phone = f"{phone_prefix} {rng.randrange(10, 99)}"
        if version and vary.random() < 0.2:
            phone = f"{phone_prefix} {vary.randrange(10, 99)}"
        contact = [email, first, last, phone, f"CT-{index}-{k}", position, "1" if k == 0 else rng.choice(("", "0"))]
        if k == 0:
            period = vary.choice(BAD_PAYMENT_PERIODS) if bad_kind == 2 else payment
            lines.append([
                cid, name, f"411{ascii_of(name)[:6].upper()}{index % 1000:03d}", f"FR{rng.randrange(10**10, 10**11)}",
                street, postal_code, town, state, country, rng.choice(ACCOUNT_MANAGERS), rng.choice(WORKFLOWS),
                period, group_name, group_id, *contact,
            ])
        else:
            lines.append([cid] + [""] * 13 + contact)
    return lines


def generate_lines(seed: int, n_lines: int, indices: Iterator[tuple[int, int]], bad_rate: float = 0.03,
                   max_docs: int | None = None) -> Iterator[list[str]]:
    """``n_lines`` data lines of the customers ``(index, version)`` from ``indices``.

    With ``max_docs``, stop once customers + contacts reach it (``n_lines`` is then a maximum).
    """
    written = docs = 0
    for index, version in indices:
        lines = customer_lines(seed, index, version, bad_rate)
        if max_docs is not None:
            lines = lines[: max(0, max_docs - docs - 1)]
            if not lines:
                return
            docs += 1 + len(lines)
        for line in lines[: n_lines - written]:
            yield line
        written += min(len(lines), n_lines - written)
        if written >= n_lines or (max_docs is not None and docs >= max_docs):
            return


def consecutive(start: int = 0, version: int = 0) -> Iterator[tuple[int, int]]:
    index = start
    while True:
        yield index, version
        index += 1


def half_known(known: int, version: int = 1) -> Iterator[tuple[int, int]]:
    """Alternately a customer of a store of ``known`` customers (changed) and a new one."""
    for n in range(known):
        yield n, version
        yield known + n, version
    yield from consecutive(2 * known, version)



def one_in_changed(lines: Iterator[list[str]], every: int = 100) -> Iterator[list[str]]:
    """``lines`` with the street of one customer in ``every`` changed (on its first line, which carries
    the customer's own columns): a re-export in which 1% of the customers changed."""
    customers = 0
    for line in lines:
        if line[1]:  # a customer's first line
            customers += 1
            if customers % every == 0:
                line = [*line[:4], f"{line[4]} bis", *line[5:]]
        yield line

def write_csv(path: Path, rows: Iterator[list[str]]) -> Path:
    """Write the header and ``rows`` as ``;``-separated UTF-8, atomically (a crash leaves no cache)."""
    tmp = path.with_name(path.name + ".part")
    with open(tmp, "w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle, delimiter=";", lineterminator="\r\n")
        writer.writerow(HEADER)
        writer.writerows(rows)
    os.replace(tmp, path)
    return path


def write_xlsx(path: Path, rows: Iterator[list[str]]) -> Path:
    """The same rows in one sheet, written by openpyxl's write-only mode; payment periods as numbers."""
    from openpyxl import Workbook

    period = HEADER.index("Default payment period")
    book = Workbook(write_only=True)
    sheet = book.create_sheet("Customers")
    sheet.append(HEADER)
    for row in rows:
        cells: list[object] = [value or None for value in row]
        if row[period].isdigit():
            cells[period] = int(row[period])
        sheet.append(cells)
    tmp = path.with_name(path.name + ".part")
    book.save(tmp)
    os.replace(tmp, path)
    return path
