"""The differential test: the product's rules against the oracle (the frozen row engine, ``tests/oracle``).

A seeded mutator writes small import files of the kinds that tell engines apart (name-only lines,
conflicting values, repeated emails, main flags, groups by name and by ID, cycles, orphans, short
lines, quoted newlines, bad values in every parsed field, several emails in a cell, now and then a
header the rules refuse), read in batches of 5000 or of a few lines, half of the TinyDB cases with a
first file imported into the same store before. Each case runs with the product's rules
(``customers``) and with the oracle's (``customers-oracle``), each into its own store, and every
output must be the same byte for byte: the documents (JSON sink file or TinyDB tables), the report
(counts, ordered errors and warnings), the rejects file, and any fatal error.

``tests/test_differential.py`` runs a fixed sample; a longer run from the repository's root::

    python tests/differential.py --runs 2000 --seed 1
"""
from __future__ import annotations

import argparse
import csv
import json
import random
import shutil
import sys
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from etl.errors import EtlError
from etl.job import Job
from etl.pipeline import execute

from oracle import ORACLE, registry_with_oracle

PRODUCT = "customers"
HEADER = [
    "Customer ID", "Customer name", "Customer accounting code", "VAT number", "Address", "Postal code", "Town",
    "State / Region", "Country", "Email of the Account Manager", "Workflow's name", "Default payment period",
    "Group name", "Group ID", "Contact email", "Contact first name", "Contact Name", "Contact phone",
    "Contact reference", "Contact Position", "Main contact",
]
CUSTOMER_TITLES = HEADER[:14]
CONTACT_TITLES = HEADER[14:]
IDS = ["C1", "C2", "C3", "C4", "C5", "C6", "c1", " C2 "]
NAMES = ["Acme", "ACME", "Acmé", "acme!", "Beta SA", "Beta S.A.", "Gamma", "Delta", "Total Energies SA", "Zeta",
         "Ωmega", "Straße GmbH", "STRASSE GMBH"]
VALUES: dict[str, list[str]] = {
    "Customer accounting code": ["411A", "411B", "00411"],
    "VAT number": ["FR12345678901", "fr 12345678901", "DE123456789"],
    "Address": ["1 rue de la Paix", "1 RUE DE LA PAIX", "2 Main St", "line one\nline two"],
    "Postal code": ["06000", "75001", "6000"],
    "Town": ["Paris", "paris", "  Paris ", "Lyon", "Zürich"],
    "State / Region": ["IDF", "Bavaria"],
    "Country": ["FR", "France", "DE"],
    "Email of the Account Manager": ["m@x.example", "M@X.example", "n@x.example"],
    "Workflow's name": ["Standard", "standard", "Relance douce", "Other"],
    "Default payment period": ["30", "45.0", "Net 30", "30 jours", "à 30 jours", "0"],
    "Contact first name": ["Ann", "ann", "Bob", "Élise"],
    "Contact Name": ["Smith", "SMITH", "Durand"],
    "Contact phone": ["+33 1 23 45 67 89", "0123456789", "555"],
    "Contact reference": ["R1", "R2", "r1"],
    "Contact Position": ["ACCOUNTING", "buyer", "comptabilité", "Ventes", "payeur"],
    "Main contact": ["1", "0", "yes", "no", "x", "oui", "non", "TRUE", "1", "0"],
}
VALUES["Group ID"] = [*IDS, "C9"]
VALUES["Group name"] = [*NAMES, "Nobody"]
GIVEN = {"Group ID": 0.12, "Group name": 0.15}
"""How often a customer has a value of these fields (of the others: one in two)."""
BAD: dict[str, list[str]] = {
    "Email of the Account Manager": ["bad@", "m@x..example", "o@x.example"],
    "Workflow's name": ["Other"],
    "Default payment period": ["abc", "-5", "3.5", "45 jours fin de mois"],
    "Contact Position": ["CEO"],
    "Main contact": ["maybe", "2"],
}
"""Values refused by the parsers (and by the settings' lists), given now and then."""
EMAILS = ["a@x.example", "A@x.example", "b@x.example", "c@y.example", "d@y.example", "e@z.example", "g@z.example",
          "a@xn--bcher-kva.de", "ü@bücher.de", "a@x.example; b@x.example", "c@y.example, f@y.example",
          "'=h@x.example", "Émile@x.example", "i.j+k@sub.x.example"]
BAD_EMAILS = ["bad", "a@b..fr", "x@@y.fr", "a@b", "a@b,fr", "e@host.test", "\"q\"@x.example", "a@-x.example"]
SETTINGS: list[dict[str, Any]] = [
    {}, {}, {}, {"duplicates": "last"}, {"default_payment_period": 30},
    {"known_workflows": ["Standard", "Relance douce"]},
    {"known_workflows": ["Standard", "Relance douce"], "unknown_workflow": "warning", "duplicates": "last"},
    {"known_account_managers": ["m@x.example"]},
]


@dataclass
class Case:
    """One differential case: files imported in order into one store (or one JSON file)."""

    seed: int
    sink: str
    settings: dict[str, Any]
    batch_size: int
    """Lines per batch: small ones spread a customer's lines over several batches."""
    files: list[list[list[str]]] = field(default_factory=list)
    """Each file's rows, its header first."""


class World:
    """The customers and contacts of one case: each line mostly repeats its customer's and contact's
    values, and sometimes gives another (a conflict, a bad value)."""

    def __init__(self, rng: random.Random) -> None:
        self.rng = rng
        self.profiles: dict[str, dict[str, str]] = {}
        self.names: dict[str, str] = {}
        """The name of each Customer ID, mostly given with it."""

    def _profile(self, key: str, titles: list[str]) -> dict[str, str]:
        profile = self.profiles.get(key)
        if profile is None:
            profile = self.profiles[key] = {
                title: self.rng.choice(VALUES[title]) if self.rng.random() < GIVEN.get(title, 0.5) else ""
                for title in titles}
        return profile

    def value(self, key: str, title: str, titles: list[str]) -> str:
        if self.rng.random() < 0.025:
            bad = BAD.get(title)
            return self.rng.choice(bad if bad and self.rng.random() < 0.5 else VALUES[title])
        return self._profile(key, titles)[title] if self.rng.random() < 0.7 else ""

    def customer_cells(self, kind: str) -> dict[str, str]:
        rng = self.rng
        cells: dict[str, str] = {}
        if kind in ("full", "id-only"):
            cells["Customer ID"] = rng.choice(IDS)
        if kind == "full" and rng.random() < 0.85:
            cells["Customer name"] = self.names.setdefault(cells["Customer ID"].strip(), rng.choice(NAMES))
        elif kind in ("full", "name-only"):
            cells["Customer name"] = rng.choice(NAMES)
        key = cells.get("Customer ID") or cells.get("Customer name") or ""
        if kind in ("full", "name-only") or rng.random() < 0.2:
            for title in CUSTOMER_TITLES[2:]:
                cells[title] = self.value(f"customer {key}", title, CUSTOMER_TITLES[2:])
        return cells

    def contact_cells(self) -> dict[str, str]:
        rng = self.rng
        if rng.random() < 0.15:
            return {}
        email = rng.choice(BAD_EMAILS if rng.random() < 0.1 else EMAILS) if rng.random() < 0.93 else ""
        cells = {"Contact email": email}
        for title in CONTACT_TITLES[1:]:
            cells[title] = (rng.choice(VALUES[title]) if title == "Main contact" and rng.random() < 0.5
                            else self.value(f"contact {email.lower()}", title, CONTACT_TITLES[1:]))
        return cells

    def row(self, header: list[str]) -> list[str]:
        rng = self.rng
        kind = rng.choices(["full", "id-only", "name-only", "none"], [5, 4, 3, 1])[0]
        cells = {**self.customer_cells(kind), **self.contact_cells()}
        row = [cells.get(title, "") for title in header]
        if rng.random() < 0.03:
            row = row[:rng.randrange(1, len(row))]  # a short line
        elif rng.random() < 0.02:
            row.append("extra")
        return row


def _header(rng: random.Random) -> list[str]:
    if rng.random() < 0.6:
        return list(HEADER)
    header = [title for title in HEADER if rng.random() < 0.75]
    if rng.random() < 0.03:
        return header  # maybe a file the rules refuse: no Customer ID nor name, or contacts without emails
    if "Customer ID" not in header and "Customer name" not in header:
        header.insert(0, rng.choice(["Customer ID", "Customer name"]))
    if set(header) & set(CONTACT_TITLES) and "Contact email" not in header:
        header.append("Contact email")
    return header


def _file(world: World, lines: int) -> list[list[str]]:
    header = _header(world.rng)
    return [header, *(world.row(header) for _ in range(lines))]


def make_case(seed: int) -> Case:
    """The case of ``seed``: same seed, same files."""
    rng = random.Random(seed)
    sink = "json" if rng.random() < 0.2 else "tinydb"
    case = Case(seed, sink, dict(rng.choice(SETTINGS)), rng.choice([5000, 5000, 2, 7]))
    world = World(rng)
    if sink == "tinydb" and rng.random() < 0.5:
        case.files.append(_file(world, rng.randrange(1, 25)))
    case.files.append(_file(world, rng.randrange(1, 40)))
    return case


def write_case(case: Case, folder: Path) -> list[Path]:
    """The case's files written as CSV (``;``) in ``folder``."""
    paths = []
    for n, rows in enumerate(case.files):
        path = folder / f"file{n}.csv"
        with open(path, "w", newline="", encoding="utf-8") as handle:
            csv.writer(handle, delimiter=";").writerows(rows)
        paths.append(path)
    return paths


def run_engine(rules: str, inputs: list[Path], case: Case, folder: Path) -> dict[str, str]:
    """Import the case's files in order with ``rules``; every output as text, by name."""
    folder.mkdir()
    target = folder / ("store.json" if case.sink == "tinydb" else "out.json")
    outputs: dict[str, str] = {}
    registry = registry_with_oracle()
    for n, path in enumerate(inputs):
        job = Job(input=path, sink=case.sink, target=str(target), rules=rules, settings=dict(case.settings),
                  report_path=folder / f"report{n}.json", rejects_path=folder / f"rejects{n}.csv",
                  batch_size=case.batch_size)
        try:
            execute(job, registry)
        except EtlError as exc:
            outputs[f"fatal{n}"] = str(exc).replace(str(folder), "<folder>")
        for name in (f"report{n}.json", f"rejects{n}.csv"):
            if (folder / name).exists():
                outputs[name] = (folder / name).read_text(encoding="utf-8")
        if target.exists():
            outputs[f"target{n}"] = _target_text(target, case.sink)
    return outputs


def _target_text(target: Path, sink: str) -> str:
    """The target as text; a TinyDB store without what differs by nature between runs (time, rules, path), and
    without the fields its history says each import changed in the documents it updated (worked out from
    ``Document.before``, which the frozen oracle does not give): which documents it updated is compared."""
    text = target.read_text(encoding="utf-8")
    if sink != "tinydb":
        return text
    store = json.loads(text)
    for entry in store.get("imports", {}).values():
        for key in ("time", "rules", "target"):
            entry.pop(key, None)
        for updated in entry.get("written", {}).get("updated", {}).values():
            for item in updated:
                del item[2:]
    return json.dumps(store, ensure_ascii=False, indent=1)


def differences(seed: int, keep: Path | None = None) -> list[str]:
    """What differs between the product and the oracle on the case of ``seed`` (empty when nothing);
    with ``keep``, the case's files and both engines' outputs are left in ``keep/seed-N`` when they differ."""
    case = make_case(seed)
    with tempfile.TemporaryDirectory(prefix="etl-differential-") as tmp:
        folder = Path(tmp)
        inputs = write_case(case, folder)
        product = run_engine(PRODUCT, inputs, case, folder / "product")
        oracle = run_engine(ORACLE, inputs, case, folder / "oracle")
        found = [f"seed {seed}: {name} differs (product {'has' if name in product else 'lacks'} it)"
                 if name not in product or name not in oracle else f"seed {seed}: {name} differs"
                 for name in sorted(set(product) | set(oracle)) if product.get(name) != oracle.get(name)]
        if found and keep is not None:
            shutil.copytree(folder, keep / f"seed-{seed}", dirs_exist_ok=True)
    return found


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Compare the product's rules with the oracle on mutated files.")
    parser.add_argument("--runs", type=int, default=200, help="how many cases (default 200)")
    parser.add_argument("--seed", type=int, default=0, help="the first case's seed; the others follow")
    parser.add_argument("--keep", type=Path, default=None, help="a folder where differing cases are copied")
    args = parser.parse_args(argv)
    if args.keep is not None:
        args.keep.mkdir(parents=True, exist_ok=True)
    failed = 0
    for seed in range(args.seed, args.seed + args.runs):
        found = differences(seed, args.keep)
        failed += bool(found)
        for line in found:
            print(line, flush=True)
    print(f"{args.runs} cases from seed {args.seed}: {failed} differ")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
