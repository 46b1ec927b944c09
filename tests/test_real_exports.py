"""Real exports (tests/data/exports: the headers of Upflow, Xero, QuickBooks, Sage, Zoho Books,
HubSpot and Odoo exports) import with no hand-written mapping, and no column is linked wrong."""
from __future__ import annotations

import json
from pathlib import Path

import pytest

from conftest import read_store, write_csv
from etl.table_files import read_table_file

EXPORTS = Path(__file__).resolve().parent / "data" / "exports"
EXPECTED: dict[str, dict[str, str | list[str]]] = read_table_file(EXPORTS / "expected.toml")


def right_fields(expected: str | list[str]) -> set[str | None]:
    """The fields a column may be linked to (None: left out)."""
    return {field or None for field in ([expected] if isinstance(expected, str) else expected)}


UPDATES_OF = {"upflow-assignments.csv": "upflow-customers.csv"}
"""Files that only update known customers, and the file that creates them."""


def import_with_no_mapping(etl, name: str) -> dict:
    if name in UPDATES_OF:
        assert etl("run", EXPORTS / UPDATES_OF[name], "--target", f"{name}.json").code in (0, 1)
    result = etl("run", EXPORTS / name, "--target", f"{name}.json", "--report", "report.json")
    assert result.code in (0, 1), f"{name}: exit {result.code}: {result.err}"
    return json.loads(Path("report.json").read_text(encoding="utf-8"))


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_each_export_imports_with_no_mapping_and_no_column_linked_wrong(etl, name):
    report = import_with_no_mapping(etl, name)
    assert report["rows"]["imported"] > 0
    linked = {m["column"]: m["field"] for m in report["mapping"]}
    ignored = {m["column"] for m in report["ignored_columns"]}
    assert set(linked) | ignored == set(EXPECTED[name]), "every column is in the report, linked or ignored"
    wrong = {title: (field, EXPECTED[name][title]) for title, field in linked.items()
             if field not in right_fields(EXPECTED[name][title])}
    assert not wrong, f"column: (linked to, expected): {wrong}"


def test_at_least_95_percent_of_the_columns_a_careful_person_maps_are_mapped_right(etl):
    right = wanted = 0
    for name, expected in EXPECTED.items():
        report = import_with_no_mapping(etl, name)
        linked = {m["column"]: m["field"] for m in report["mapping"]}
        for title, fields in expected.items():
            if right_fields(fields) != {None}:
                wanted += 1
                right += linked.get(title) in right_fields(fields)
    assert right / wanted >= 0.95, f"{right} of {wanted}"


def test_every_guess_and_ignored_column_is_told_in_the_summary(etl):
    import_with_no_mapping(etl, "xero-contacts.csv")
    result = etl("run", EXPORTS / "xero-contacts.csv", "--dry-run")
    guesses = next(line for line in result.err.splitlines() if line.startswith("columns matched by a guess: "))
    assert "'*ContactName' -> customer_name (synonym)" in guesses
    assert "'POAddressLine1' -> address (words)" in guesses
    ignored = next(line for line in result.err.splitlines() if line.startswith("columns ignored: "))
    assert "'FaxNumber' (not taken as contact_phone: this title means something else, in some exports at least)" \
        in ignored and "'Person2IncludeInEmail'" in ignored


def test_a_job_title_of_titles_is_not_contact_position(etl, tmp_path):
    header = ["Customer name", "Email", "Job Title"]
    write_csv(tmp_path / "in.csv", [["Acme", "a@acme.example", "Gérant"], ["Beta", "b@beta.example", "PDG"],
                                    ["Gamma", "g@gamma.example", "Directrice financière"]], header=header)
    result = etl("run", "in.csv", "--report", "r.json")
    assert result.code == 0, result.err
    report = json.loads((tmp_path / "r.json").read_text())
    [job_title] = report["ignored_columns"]
    assert job_title["column"] == "Job Title" and "its values are not positions" in job_title["note"]
    assert report["contacts"]["created"] == 3


def test_a_role_column_of_positions_is_contact_position_confirmed_by_its_values(etl, tmp_path):
    header = ["Customer name", "Email", "Job Title"]
    write_csv(tmp_path / "in.csv", [["Acme", "a@acme.example", "Accounts"], ["Beta", "b@beta.example", "buyer"],
                                    ["Gamma", "g@gamma.example", "Comptabilité"]], header=header)
    etl("run", "in.csv", "--report", "r.json")
    [position] = [m for m in json.loads((tmp_path / "r.json").read_text())["mapping"] if m["column"] == "Job Title"]
    assert position == {"column": "Job Title", "field": "contact_position", "how": "synonym", "content": "confirmed"}
    assert {c["position"] for c in read_store(tmp_path / "etl-db.json")["contacts"]} == {"ACCOUNTING", "PURCHASER"}


def test_a_fax_is_never_the_main_contact_nor_the_phone(etl, tmp_path):
    header = ["Customer name", "Email", "Main Contact Fax", "Fax"]
    write_csv(tmp_path / "in.csv", [["Acme", "a@acme.example", "+33 1 23 45 67 89", "+33 1 23 45 67 80"]],
              header=header)
    etl("run", "in.csv", "--report", "r.json")
    report = json.loads((tmp_path / "r.json").read_text())
    assert {m["column"] for m in report["ignored_columns"]} == {"Main Contact Fax", "Fax"}


def test_a_company_phone_without_contact_emails_is_left_out_and_the_run_goes_on(etl, tmp_path):
    write_csv(tmp_path / "in.csv", [["C1", "Acme", "+33 1 23 45 67 89"]], header=["ID", "Company", "Phone"])
    result = etl("run", "in.csv", "--report", "r.json")
    assert result.code == 0, result.err
    [phone] = json.loads((tmp_path / "r.json").read_text())["ignored_columns"]
    assert phone["column"] == "Phone" and "no column for contact_email" in phone["note"]
    assert read_store(tmp_path / "etl-db.json")["customers"][0]["name"] == "Acme"


def test_an_untitled_column_of_emails_is_mapped_by_its_content_and_said_so(etl, tmp_path):
    rows = [["C1", "Acme", "a@acme.example"], ["C2", "Beta", "b@beta.example"], ["C3", "Gamma", "g@gamma.example"]]
    write_csv(tmp_path / "in.csv", rows, header=["Customer ID", "Customer name", "Col 3"])
    result = etl("run", "in.csv", "--report", "r.json")
    assert "'Col 3' -> contact_email (content)" in result.err
    assert len(read_store(tmp_path / "etl-db.json")["contacts"]) == 3


def test_an_exact_title_is_never_blocked_by_an_earlier_guess(etl, tmp_path):
    write_csv(tmp_path / "in.csv", [["Acme", "x@acme.example", "a@acme.example"]],
              header=["Customer name", "Billing Email", "Contact email"])
    etl("run", "in.csv", "--report", "r.json")
    report = json.loads((tmp_path / "r.json").read_text())
    assert {m["column"]: m["field"] for m in report["mapping"]}["Contact email"] == "contact_email"
    assert read_store(tmp_path / "etl-db.json")["contacts"][0]["email"] == "a@acme.example"


@pytest.mark.parametrize("title, field", [
    ("BillingCity", "town"), ("billing_postal_code", "postal_code"), ("Main Address Line 1", "address"),
    ("*Customer Name", "customer_name"), ("Primary Email", "contact_email"), ("Person1Email", "contact_email"),
    ("Rechnungsadresse Ort", None), ("Ort", "town"), ("Código postal", "postal_code"), ("Teléfono", "contact_phone"),
    ("E-Mail-Adresse", "contact_email"), ("Nº TVA intracom", None), ("Numéro TVA", "vat_number"),
    ("Contact owner", None), ("Department", None), ("Company Domain Name", None), ("Shipping City", None),
])
def test_titles_generalise_through_their_words(title, field):
    from etl.mapping import propose
    from etl.plugins.fields import FIELDS

    header = [title, "Contact email"] if field == "contact_phone" else [title]  # a phone needs emails beside it
    assert propose(header, FIELDS).columns[0].field == field


def test_etl_map_exits_non_zero_for_a_file_that_cannot_import(etl, tmp_path):
    write_csv(tmp_path / "in.csv", [["a", "b"]], header=["Shoe size", "Colour"])
    result = etl("map", "in.csv")
    assert result.code == 2 and "no column for the Customer ID or the Customer name" in result.err
    assert "(ignored)" in result.out


def test_numbered_people_on_one_line_become_several_contacts(etl, tmp_path):
    header = ["Customer name", "EmailAddress", "FirstName", "Person1Email", "Person1FirstName", "Person2Email",
              "Person2FirstName", "Person2IncludeInEmail"]
    write_csv(tmp_path / "in.csv", [["Acme", "a@acme.example", "Ann", "a@acme.example", "Ann", "b@acme.example", "Bob",
                                     "Yes"],
                                    ["Beta", "x@beta.example", "Xi", "", "", "", "", ""]], header=header)
    result = etl("run", "in.csv", "--report", "r.json")
    assert result.code == 0, result.err
    stored = read_store(tmp_path / "etl-db.json")["contacts"]
    contacts = {c["email"]: (c["first_name"], c["customer_name"]) for c in stored}
    assert contacts == {"a@acme.example": ("Ann", "Acme"), "b@acme.example": ("Bob", "Acme"),
                        "x@beta.example": ("Xi", "Beta")}
    report = json.loads((tmp_path / "r.json").read_text())
    assert report["rows"] == {"read": 2, "imported": 2, "rejected": 0}
    groups = {m["column"]: m.get("group") for m in report["mapping"]}
    assert groups["Person2Email"] == 2 and groups["EmailAddress"] is None
    assert [m["column"] for m in report["ignored_columns"]] == ["Person2IncludeInEmail"]


def test_xero_people_groups_import_as_contacts_of_their_customer(etl):
    import_with_no_mapping(etl, "xero-contacts.csv")
    contacts = read_store(Path("xero-contacts.csv.json"))["contacts"]
    assert {"s.weiss@koehler-schreinerei.de", "l.brandt@koehler-schreinerei.de", "a.vogel@koehler-schreinerei.de",
            "rechnungen@koehler-schreinerei.de"} <= {c["email"] for c in contacts}


@pytest.mark.parametrize("cell", ["a@acme.example; b@acme.example", "a@acme.example, b@acme.example",
                                  "a@acme.example b@acme.example", "a@acme.example\nb@acme.example",
                                  "a@acme.example / b@acme.example ; a@acme.example"])
def test_a_cell_of_several_emails_loses_none_and_says_which_got_the_line(etl, tmp_path, cell):
    write_csv(tmp_path / "in.csv", [["C1", "Acme", cell, "Ann", "1"]],
              header=["Customer ID", "Customer name", "Contact email", "Contact first name", "Main contact"])
    result = etl("run", "in.csv", "--report", "r.json")
    assert result.code == 0, result.err
    contacts = {c["email"]: (c["first_name"], c["is_main"]) for c in read_store(tmp_path / "etl-db.json")["contacts"]}
    assert contacts == {"a@acme.example": ("Ann", True), "b@acme.example": (None, False)}
    [warning] = json.loads((tmp_path / "r.json").read_text())["warnings"]
    assert warning["line"] == 2 and "go to the first (a@acme.example)" in warning["message"]


def test_a_mapping_is_remembered_for_a_close_header_never_for_a_new_column_and_can_be_forgotten(etl, tmp_path):
    write_csv(tmp_path / "first.csv", [["C1", "Acme", "a@acme.example", "x"]],
              header=["Code", "Raison", "Mail", "Note"])
    (tmp_path / "m.toml").write_text('"Code" = "customer_id"\n"Raison" = "customer_name"\n')
    assert etl("run", "first.csv", "--mapping", "m.toml").code == 0
    write_csv(tmp_path / "next.csv", [["C2", "Beta", "b@beta.example", "y", "Zed"]],
              header=["Code", "Raison", "Mail", "Note", "Prénom"])
    result = etl("run", "next.csv", "--report", "r.json")
    assert result.code == 0, result.err
    assert "2 column choices remembered from import 1 of first.csv" in result.err
    how = {m["column"]: (m["field"], m["how"]) for m in json.loads((tmp_path / "r.json").read_text())["mapping"]}
    assert how == {"Code": ("customer_id", "remembered"), "Raison": ("customer_name", "remembered"),
                   "Mail": ("contact_email", "synonym"), "Prénom": ("contact_first_name", "synonym")}
    assert "'Prénom' -> contact_first_name (synonym)" in result.err  # the new column is a guess, told as such

    write_csv(tmp_path / "other.csv", [["C3", "Gamma"]], header=["Code", "Raison", "Pays"])
    assert etl("run", "other.csv").code == 2  # a header not close enough: nothing comes back

    assert etl("history", "forget").code == 0
    assert etl("run", "next.csv").code == 2


def test_countries_in_any_language_are_recognised_and_a_vat_column_of_flags_is_refused(tmp_path):
    from etl.mapping import Sample, propose
    from etl.plugins.fields import FIELDS

    rows = [(2, ["Acme", "France", "yes"]), (3, ["Beta", "Allemagne", "no"]), (4, ["Gamma", "GB", "n/a"]),
            (5, ["Delta", "España", "oui"])]
    columns = propose(["Customer name", "Col 2", "VAT"], FIELDS, Sample.of(rows, 3)).columns
    assert (columns[1].field, columns[1].how) == ("country", "content")
    assert columns[2].field is None and "its values are not VAT numbers (e.g. 'yes')" in columns[2].note


def test_an_error_in_a_numbered_group_names_that_group_s_column(etl, tmp_path):
    header = ["Customer name", "EmailAddress", "FirstName", "Person1Email", "Person1FirstName", "Person2Email",
              "Person2FirstName"]
    write_csv(tmp_path / "in.csv", [["Acme", "a@acme.example", "Ann", "bad@@x", "Al", "b@acme.example", "Bob"],
                                    ["Beta", "x@beta.example", "Xi", "", "", "", "Zed"]], header=header)
    etl("run", "in.csv", "--report", "r.json")
    errors = {(e["line"], e["column"]) for e in json.loads((tmp_path / "r.json").read_text())["errors"]}
    assert errors == {(2, "Person1Email"), (3, "Person2Email")}


def test_a_person_name_column_that_repeats_the_customer_names_is_not_a_person_name(etl, tmp_path):
    rows = [["C1", "Lemaire Conseil SARL", "Lemaire Conseil", "a@lemaire.example"],
            ["C2", "Kowalski Logistics", "Kowalski Logistics", "b@kowalski.example"],
            ["C3", "Bâtiment Moreau", "Moreau", "c@moreau.example"]]
    write_csv(tmp_path / "in.csv", rows, header=["Customer ID", "Company", "Contact Name", "Email"])
    etl("run", "in.csv", "--report", "r.json")
    [ignored] = json.loads((tmp_path / "r.json").read_text())["ignored_columns"]
    assert ignored["column"] == "Contact Name"
    assert ignored["note"] == "its values are those of column 'Company' (customer_name), not contact_last_name"
    rows[0][2], rows[1][2] = "Lemaire", "Kowalska"  # people's names, one in its company's: a person's name
    write_csv(tmp_path / "in.csv", rows, header=["Customer ID", "Company", "Contact Name", "Email"])
    etl("run", "in.csv", "--report", "r.json")
    assert json.loads((tmp_path / "r.json").read_text())["ignored_columns"] == []
