"""Ordered match rules (``match_customers``, ``match_contacts``): through the CLI, on real stores."""
from __future__ import annotations

import csv

import pytest

import test_rules
from conftest import STORES, write_csv
from test_rules import BOTH_STORES, by, errors

imp, store = test_rules.imp, test_rules.store
"""The fixtures of the rules' tests: ``imp`` imports rows into ``store`` (tinydb, or each store with BOTH_STORES)."""

CUSTOMERS_BY_VAT = ("--rule-option", "match_customers=external_id,name,vat_number")
CONTACTS_BY_REFERENCE = ("--rule-option", "match_contacts=email,external_id")


def success_rows(path):
    with open(path, newline="", encoding="utf-8") as handle:
        return list(csv.reader(handle, delimiter=";"))


@BOTH_STORES
def test_a_customer_is_found_by_vat_number_when_its_id_is_new_and_its_name_differs(imp, tmp_path):
    imp([{"Customer name": "Acme SARL", "VAT number": "FR 40 303265045", "Town": "Lille"},
         {"Customer ID": "B1", "Customer name": "Beta", "VAT number": "DE123456789"}])
    result, report, store = imp([
        {"Customer ID": "A1", "Customer name": "Acme Group", "VAT number": "fr40303265045", "Country": "FR"},
        {"Customer name": "Beta Europe", "VAT number": "DE 123 456 789", "Town": "Berlin"},
    ], *CUSTOMERS_BY_VAT, "--success", "ok.csv")
    assert result.code == 0, report["errors"]
    assert report["customers"] == {"created": 0, "updated": 2, "unchanged": 0, "rejected": 0}
    assert report["matched"] == {"customers": {"external_id": 0, "name": 0, "vat_number": 2}, "contacts": {"email": 0}}
    assert len(store["customers"]) == 2
    acme = by(store, "customers", "external_id", "A1")  # the stored one without ID took the line's ID and name
    assert (acme["name"], acme["city"], acme["country"]) == ("Acme Group", "Lille", "FR")
    beta = by(store, "customers", "external_id", "B1")  # a line without ID takes the stored customer's
    assert (beta["name"], beta["city"]) == ("Beta Europe", "Berlin")
    rows = success_rows(tmp_path / "ok.csv")
    assert rows[0][-4:] == ["Outcome", "Kind", "Key", "Matched by"]
    assert [row[-4:] for row in rows[1:]] == [["updated", "customers", "A1", "vat_number"],
                                              ["updated", "customers", "B1", "vat_number"]]
    result, report, store = imp([{"Customer ID": "A1", "Town": "Roubaix"}], *CUSTOMERS_BY_VAT)
    assert report["matched"]["customers"] == {"external_id": 1, "name": 0, "vat_number": 0}
    assert "customers found by external_id: 1, name: 0, vat_number: 0." in result.err
    assert by(store, "customers", "external_id", "A1")["city"] == "Roubaix"


@pytest.mark.parametrize("store", ["sqlite"])
def test_a_sqlite_store_of_an_earlier_version_gets_the_new_keys_on_a_re_import(imp, tmp_path):
    import sqlite3

    imp([{"Customer ID": "C1", "Customer name": "Acme", "VAT number": "FR1", "Contact email": "a@acme.example",
          "Contact reference": "R1"}])
    with sqlite3.connect(tmp_path / "etl-db.sqlite") as db:  # as an earlier version wrote it: no such keys
        db.execute("DELETE FROM lookup_keys WHERE name IN ('vat_number', 'reference')")
    again = [{"Customer name": "Acme Europe", "VAT number": "FR1"},
             {"Customer ID": "C1", "Contact email": "b@acme.example", "Contact reference": "R1"}]
    _, report, _ = imp(again, *CUSTOMERS_BY_VAT, *CONTACTS_BY_REFERENCE, "--dry-run")
    assert report["customers"]["created"] == 1 and report["contacts"]["created"] == 1
    _, report, _ = imp([{"Customer ID": "C1", "Contact email": "a@acme.example"}])  # changes nothing...
    assert report["customers"]["unchanged"] == 1 and report["contacts"]["unchanged"] == 1
    _, report, store = imp(again, *CUSTOMERS_BY_VAT, *CONTACTS_BY_REFERENCE)  # ...but gave them their keys
    assert report["matched"] == {"customers": {"external_id": 1, "name": 0, "vat_number": 1},
                                 "contacts": {"email": 0, "external_id": 1}}
    assert [c["name"] for c in store["customers"]] == ["Acme Europe"]
    assert [c["email"] for c in store["contacts"]] == ["b@acme.example"]


@BOTH_STORES
def test_without_the_vat_rule_the_same_lines_are_new_customers(imp):
    imp([{"Customer name": "Acme SARL", "VAT number": "FR40303265045"}])
    result, report, store = imp([{"Customer ID": "A1", "Customer name": "Acme Group", "VAT number": "FR40303265045"}])
    assert result.code == 0 and report["customers"]["created"] == 1 and "matched" not in report
    assert len(store["customers"]) == 2


@BOTH_STORES
def test_the_rules_are_tried_in_the_order_given(imp):
    imp([{"Customer ID": "N1", "Customer name": "Acme", "VAT number": "FR1"},
         {"Customer ID": "V1", "Customer name": "Other", "VAT number": "FR2"}])
    line = [{"Customer name": "ACME", "VAT number": "FR2", "Town": "Nice"}]
    for rules, rule, key in (("external_id,vat_number,name", "vat_number", "V1"),
                             ("external_id,name,vat_number", "name", "N1")):
        _, report, _ = imp(line, "--rule-option", f"match_customers={rules}", "--dry-run", "--diff")
        assert report["matched"]["customers"][rule] == 1 and [c["key"] for c in report["changes"]] == [key]


@BOTH_STORES
def test_a_stored_customer_with_another_id_is_never_matched(imp):
    imp([{"Customer ID": "C7", "Customer name": "Acme", "VAT number": "FR1"}])
    result, report, store = imp([{"Customer ID": "C9", "Customer name": "Acme Two", "VAT number": "FR1"}],
                                *CUSTOMERS_BY_VAT)
    assert result.code == 0 and report["customers"]["created"] == 1
    assert {c["external_id"] for c in store["customers"]} == {"C7", "C9"}


@BOTH_STORES
def test_an_ambiguous_match_is_rejected_naming_the_candidates(imp):
    imp([{"Customer ID": "C1", "Customer name": "Acme", "VAT number": "FR1"},
         {"Customer ID": "C2", "Customer name": "Acme Europe", "VAT number": "fr 1"},
         {"Customer ID": "C3", "Customer name": "Gamma", "VAT number": "FR3"}])
    result, report, store = imp([{"Customer name": "Acme Holding", "VAT number": "FR1", "Town": "Paris"},
                                 {"Customer name": "Gamma SA", "VAT number": "FR3", "Town": "Lyon"}],
                                *CUSTOMERS_BY_VAT)
    assert result.code == 1
    assert errors(report) == [(2, "VAT number", "ambiguous: several customers have the VAT number 'FR1': "
                                                "'Acme' (ID C1), 'Acme Europe' (ID C2); give the Customer ID")]
    assert report["customers"]["rejected"] == 1 and report["matched"]["customers"]["vat_number"] == 1
    assert {c["external_id"]: c["city"] for c in store["customers"]} == {"C1": None, "C2": None, "C3": "Lyon"}


@BOTH_STORES
def test_a_contact_is_found_by_its_reference_when_its_email_changed(imp, tmp_path):
    imp([{"Customer ID": "C1", "Customer name": "Acme", "Contact email": "ann@old.example",
          "Contact reference": "R1", "Main contact": "1"},
         {"Customer ID": "C1", "Contact email": "bob@acme.example", "Contact reference": "R2"}])
    result, report, store = imp([
        {"Customer ID": "C1", "Contact email": "Ann@New.example", "Contact reference": "R1", "Contact phone": "01"},
        {"Customer ID": "C1", "Contact email": "bob@acme.example", "Contact reference": "R2"},
    ], *CONTACTS_BY_REFERENCE, "--success", "ok.csv")
    assert result.code == 0, report["errors"]
    assert report["contacts"] == {"created": 0, "updated": 1, "unchanged": 1, "rejected": 0}
    assert report["matched"]["contacts"] == {"email": 1, "external_id": 1}
    ann = by(store, "contacts", "external_id", "R1")
    assert (ann["email"], ann["phone"], ann["is_main"]) == ("ann@new.example", "01", True)
    assert len(store["contacts"]) == 2
    assert [row[-4:] for row in success_rows(tmp_path / "ok.csv")[1:]] == [
        ["unchanged", "customers", "C1", "external_id"], ["updated", "contacts", "ann@new.example", "external_id"],
        ["unchanged", "customers", "C1", "external_id"], ["unchanged", "contacts", "bob@acme.example", "email"]]
    _, report, store = imp([{"Customer ID": "C1", "Contact email": "ann@new.example", "Contact phone": "02"}],
                           *CONTACTS_BY_REFERENCE)  # found again by its new email
    assert report["matched"]["contacts"]["email"] == 1 and by(store, "contacts", "external_id", "R1")["phone"] == "02"


@BOTH_STORES
def test_a_reference_of_several_contacts_or_of_another_customer_is_rejected(imp):
    imp([{"Customer ID": "C1", "Customer name": "Acme", "Contact email": "a@acme.example", "Contact reference": "R9"},
         {"Customer ID": "C1", "Contact email": "b@acme.example", "Contact reference": "R9"},
         {"Customer ID": "C2", "Customer name": "Beta", "Contact email": "c@beta.example", "Contact reference": "R3"}])
    result, report, store = imp([
        {"Customer ID": "C1", "Contact email": "new@acme.example", "Contact reference": "R9"},
        {"Customer ID": "C1", "Contact email": "other@acme.example", "Contact reference": "R3"},
    ], *CONTACTS_BY_REFERENCE)
    assert result.code == 2
    assert errors(report) == [
        (2, "Contact reference", "ambiguous: several contacts have the reference 'R9': a@acme.example, b@acme.example"),
        (3, "Contact reference", "the reference 'R3' is the contact c@beta.example of customer 'Beta' in the store: "
                                 "a contact is never moved between customers")]
    assert len(store["contacts"]) == 3


@BOTH_STORES
def test_the_default_order_is_unchanged(etl, tmp_path, store):
    """No setting, or the default rules given: the same store; only the latter says which rule matched."""
    target, read = STORES[store]
    first = [{"Customer name": "Zeta", "Town": "Lille"}, {"Customer ID": "C1", "Customer name": "Acme",
                                                          "Contact email": "a@acme.example"}]
    again = [{"Customer ID": "Z1", "Customer name": "ZETA"}, {"Customer name": "acme", "Town": "Paris"},
             {"Customer ID": "C1", "Contact email": "A@acme.example", "Contact phone": "01"}]
    write_csv(tmp_path / "first.csv", first)
    write_csv(tmp_path / "again.csv", again)
    stores = {}
    for name, options in (("default", ()), ("given", ("--rule-option", "match_customers=external_id,name",
                                                      "--rule-option", "match_contacts=email"))):
        path = f"{name}-{target}"
        assert etl("run", "first.csv", "--sink", store, "--target", path, *options).code == 0
        result = etl("run", "again.csv", "--sink", store, "--target", path, "--success", f"{name}.csv", *options)
        assert result.code == 0, result.err
        stores[name] = {kind: sorted(map(str, docs)) for kind, docs in read(tmp_path / path).items()
                        if kind != "imports"}
    assert stores["default"] == stores["given"]
    assert success_rows(tmp_path / "default.csv")[0][-3:] == ["Outcome", "Kind", "Key"]
    assert [row[-2:] for row in success_rows(tmp_path / "given.csv")] == [
        ["Key", "Matched by"], ["Z1", "name"], ["C1", "name"], ["C1", "external_id"],
        ["a@acme.example", "email"]]


@pytest.mark.parametrize("option, message", [
    ("match_customers=external_id,siret", "match_customers: unknown match rule 'siret' for customers "
                                          "(valid: external_id, name, vat_number)"),
    ("match_customers=external_id,name,name", "match_customers: the match rule 'name' is listed twice"),
    ("match_customers=name,external_id", "match_customers: the rules must start with 'external_id'"),
    ("match_contacts=external_id", "match_contacts: the rules must start with 'email'"),
    ("match_customers=external_id,vat_number", "the match rule 'vat_number' of match_customers needs a VAT number "
                                               "column, which the file lacks"),
    ("match_contacts=email,external_id", "the match rule 'external_id' of match_contacts needs a Contact "
                                         "reference column, which the file lacks"),
])
def test_bad_match_settings_end_in_one_line(etl, tmp_path, option, message):
    write_csv(tmp_path / "a.csv", [{"Customer ID": "C1", "Customer name": "A", "Contact email": "a@a.example"}],
              header=["Customer ID", "Customer name", "Contact email"])
    result = etl("run", "a.csv", "--rule-option", option)
    assert result.code == 2 and result.err.count("\n") == 1 and message in result.err, result.err
    assert "Traceback" not in result.err and not (tmp_path / "etl-db.json").exists()


def test_the_default_rules_given_explicitly_give_what_the_oracle_gives(tmp_path):
    """The differential cases (``tests/differential.py``), the product given the default match rules explicitly:
    the same stores and rejects as the oracle's, and the same reports but for their ``matched`` counts (the
    cases of a file without a Customer name column left out: given explicitly, the rule ``name`` needs one)."""
    from differential import ORACLE, PRODUCT, make_case, run_engine, write_case

    compared = 0
    for seed in range(40):
        case = make_case(seed)
        if any("Customer name" not in rows[0] for rows in case.files):
            continue
        compared += 1
        folder = tmp_path / f"seed-{seed}"
        folder.mkdir()
        inputs = write_case(case, folder)
        oracle = run_engine(ORACLE, inputs, case, folder / "oracle")
        case.settings |= {"match_customers": ["external_id", "name"], "match_contacts": ["email"]}
        product = run_engine(PRODUCT, inputs, case, folder / "product")
        assert _comparable(product, drop_matched=True) == _comparable(oracle), f"seed {seed}"
    assert compared >= 25


def _comparable(outputs: dict[str, str], drop_matched: bool = False) -> dict[str, object]:
    """The outputs of a differential run, without the settings a store's history records (and the report's
    ``matched`` counts with ``drop_matched``)."""
    import json

    found: dict[str, object] = {}
    for name, text in outputs.items():
        if name.startswith("report"):
            report = json.loads(text)
            if drop_matched:
                assert "matched" in report or report.get("error") or not report["rows"]["read"], name
                report.pop("matched", None)
            found[name] = report
        elif name.startswith("target") and '"imports"' in text:
            store = json.loads(text)
            for entry in store["imports"].values():
                entry["options"].pop("settings")
            found[name] = store
        else:
            found[name] = text
    return found
