"""Column mapping: automatic (English, French, variants, misspellings), explicit, and `etl map`."""
from __future__ import annotations

import json

import pytest

from conftest import HEADER, read_report, read_store, write_csv
from etl.mapping import normalise, propose
from etl.plugins.fields import FIELDS

FRENCH = ["Identifiant client", "Nom du client", "Code comptable", "Numéro de TVA", "Adresse", "Code postal",
          "Ville", "État / Région", "Pays", "Email du chargé de compte", "Nom du workflow", "Délai de paiement",
          "Nom du groupe", "ID du groupe", "Email du contact", "Prénom du contact", "Nom du contact", "Téléphone",
          "Référence du contact", "Poste du contact", "Contact principal"]


def fields_of(header):
    return [m.field for m in propose(header, FIELDS).columns]


def test_english_and_french_headers_map_every_field_exactly():
    expected = [f.name for f in FIELDS]
    assert fields_of(HEADER) == expected
    assert fields_of(FRENCH) == expected
    assert all(m.how == "exact" for m in propose(FRENCH, FIELDS).columns)


@pytest.mark.parametrize("title, field", [
    ("E-mail", "contact_email"), ("Zip", "postal_code"), ("City", "town"), ("Company", "customer_name"),
    ("VAT", "vat_number"), ("  CUSTOMER-ID ", "customer_id"), ("numero de tva", "vat_number"),
    ("ETAT/REGION", "state"), ("Contact_Position", "contact_position"), ("Workflow name", "workflow"),
])
def test_variants_case_accents_and_punctuation(title, field):
    assert fields_of([title]) == [field]


def test_close_misspellings_match_with_a_score():
    [match] = propose(["Custmer name"], FIELDS).columns
    assert (match.field, match.how) == ("customer_name", "similar") and 0.84 <= match.score < 1


def test_a_title_close_to_two_fields_is_never_matched_silently():
    [match] = propose(["Prnom du contact"], FIELDS).columns
    assert match.field is None and "close to several fields" in match.note


def test_a_field_is_taken_by_one_column_only():
    columns = propose(["Email", "E-mail"], FIELDS).columns
    assert [m.field for m in columns] == ["contact_email", None]
    assert "already taken" in columns[1].note


def test_normalise():
    assert normalise("  Numéro  de TVA (intra.) ") == "numero de tva intra"


def test_french_file_imports_with_no_option(etl, tmp_path):
    write_csv(tmp_path / "fr.csv", [{"Identifiant client": "C1", "Nom du client": "Société Générale",
                                     "Email du contact": "a@sg.example", "Poste du contact": "Comptabilité",
                                     "Contact principal": "oui"}], header=FRENCH)
    assert etl("run", "fr.csv").code == 0
    store = read_store(tmp_path / "etl-db.json")
    assert store["contacts"][0]["position"] == "ACCOUNTING" and store["contacts"][0]["is_main"] is True


def test_explicit_mapping_file_both_directions_and_ignored_columns(etl, tmp_path):
    header = ["Ref", "Raison", "Note", "Mail"]
    write_csv(tmp_path / "in.csv", [["C1", "Acme", "call back", "a@acme.example"]], header=header)
    (tmp_path / "m.toml").write_text('"Ref" = "customer_id"\n"Raison" = "customer_name"\n"Mail" = "contact_email"\n'
                                     '"Note" = ""\n')
    assert etl("run", "in.csv", "--mapping", "m.toml").code == 0
    (tmp_path / "m.json").write_text(json.dumps({"customer_id": "Ref", "customer_name": "Raison",
                                                 "contact_email": "Mail"}))
    assert etl("run", "in.csv", "--mapping", "m.json", "--target", "other.json").code == 0
    first, second = read_store(tmp_path / "etl-db.json"), read_store(tmp_path / "other.json")
    assert (first["customers"], first["contacts"]) == (second["customers"], second["contacts"])
    assert read_store(tmp_path / "other.json")["customers"][0]["name"] == "Acme"


def test_explicit_mapping_overrides_the_automatic_one(etl, tmp_path):
    write_csv(tmp_path / "in.csv", [["C1", "Acme", "Trading name"]], header=["Customer ID", "Company", "Customer name"])
    (tmp_path / "m.toml").write_text('"Company" = "customer_name"\n"Customer name" = ""\n')
    assert etl("run", "in.csv", "--mapping", "m.toml").code == 0
    assert read_store(tmp_path / "etl-db.json")["customers"][0]["name"] == "Acme"


@pytest.mark.parametrize("mapping, message", [
    ('"Ref" = "shoe_size"\n', "unknown field 'shoe_size'"),
    ('"Nope" = "customer_id"\n', "column 'Nope', which is not in the file"),
])
def test_bad_mapping_files_are_refused(etl, tmp_path, mapping, message):
    write_csv(tmp_path / "in.csv", [["C1", "Acme"]], header=["Ref", "Customer name"])
    (tmp_path / "m.toml").write_text(mapping)
    result = etl("run", "in.csv", "--mapping", "m.toml")
    assert result.code == 2 and message in result.err


@pytest.mark.parametrize("header, message", [
    (["Town", "Country"], "no column for the Customer ID or the Customer name"),
    (["Customer name", "Contact first name"], "contact columns but no Contact email column"),
])
def test_missing_required_columns_stop_before_anything_is_imported(etl, tmp_path, header, message):
    write_csv(tmp_path / "in.csv", [["a", "b"]], header=header)
    result = etl("run", "in.csv")
    assert result.code == 2 and message in result.err
    assert not (tmp_path / "etl-db.json").exists()


def test_etl_map_prints_saves_and_the_saved_file_drives_run(etl, tmp_path):
    write_csv(tmp_path / "in.csv", [["C1", "Acme", "a@acme.example", "x"]],
              header=["Customer ID", "Custmer nam", "E-mail", "Shoe size"])
    result = etl("map", "in.csv", "--save", "m.toml")
    assert result.code == 0
    lines = result.out.splitlines()
    assert lines[0].split() == ["Customer", "ID", "->", "customer_id", "(exact)"]
    assert "customer_name (similar, 0." in lines[1] and "contact_email (synonym)" in lines[2]
    assert "(ignored)" in lines[3] and lines[-1].startswith("fields without a column: accounting_code")
    assert etl("run", "in.csv", "--mapping", "m.toml", "--report", "r.json").code == 0
    assert read_report(tmp_path / "r.json")["customers"]["created"] == 1


def test_etl_map_interactive_asks_about_doubtful_pairs(etl, tmp_path, monkeypatch):
    import io
    import sys

    write_csv(tmp_path / "in.csv", [["C1", "Acme", "z"]], header=["Customer ID", "Prnom du contact", "Custmer nam"])
    monkeypatch.setattr(sys, "stdin", io.StringIO("-\ncustomer_name\n"))
    result = etl("map", "in.csv", "--interactive", "--save", "m.json")
    assert result.code == 0, result.err
    assert json.loads((tmp_path / "m.json").read_text()) == {
        "Customer ID": "customer_id", "Prnom du contact": "", "Custmer nam": "customer_name"}


def test_a_mapping_may_name_a_field_or_its_document_key_and_a_typo_gets_the_closest(etl, tmp_path):
    write_csv(tmp_path / "in.csv", [["Acme", "a@acme.example"]], header=["Raison", "Mail"])
    (tmp_path / "m.toml").write_text('"Raison" = "name"\n"Mail" = "email"\n')
    assert etl("run", "in.csv", "--mapping", "m.toml").code == 0
    assert read_store(tmp_path / "etl-db.json")["contacts"][0]["customer_name"] == "Acme"
    (tmp_path / "m.toml").write_text('"Raison" = "customer_nam"\n')
    result = etl("run", "in.csv", "--mapping", "m.toml")
    assert result.code == 2 and "did you mean 'customer_name'?" in result.err and "contact_email" in result.err


def test_etl_fields_lists_every_field_with_its_titles_and_other_names(etl):
    listing = json.loads(etl("fields", "--json").out)
    by_field = {entry["field"]: entry for entry in listing}
    assert set(by_field) == {f.name for f in FIELDS}
    assert by_field["contact_email"]["titles"] == {"en": "Contact email", "fr": "Email du contact"}
    assert "email" in by_field["contact_email"]["also_named"] and "Courriel" in by_field["contact_email"]["accepted"]
    assert "customer_name (or name): Customer name / Nom du client" in etl("fields").out
