"""etl.proposal: the mapping proposed for a file, its samples, the missing fields and the remembered choices."""
from __future__ import annotations

from conftest import write_csv

import etl
from etl.proposal import propose_for_file


def test_a_proposal_has_the_mapping_samples_and_every_field(tmp_path):
    path = write_csv(tmp_path / "in.csv", [["C1", "Acme", "a@acme.test"], ["C2", "Beta", "b@beta.test"]],
                     header=["Customer ID", "Raison sociale", "Mail"])
    found = propose_for_file(path)
    assert [m.field for m in found.mapping.columns] == ["customer_id", "customer_name", "contact_email"]
    assert found.samples == [["C1", "C2"], ["Acme", "Beta"], ["a@acme.test", "b@beta.test"]]
    assert "customer_name" in [f.name for f in found.fields]
    assert found.missing() == [] and found.reader == "csv"
    assert found.missing({"contact_email"})  # neither the customer's ID nor its name


def test_a_proposal_brings_back_the_choices_remembered_by_the_store(tmp_path):
    path = write_csv(tmp_path / "in.csv", [["C1", "Acme", "x"]], header=["Customer ID", "Customer name", "Notes"])
    store = tmp_path / "store.json"
    etl.run(path, target=store, mapping={"Notes": "accounting_code"})
    found = propose_for_file(path, sink="tinydb", target=str(store))
    assert found.mapping.columns[2].field == "accounting_code"
    assert found.mapping.columns[2].how == "remembered" and found.mapping.remembered_from
    assert propose_for_file(path).mapping.columns[2].field is None  # without the store: nothing remembered
