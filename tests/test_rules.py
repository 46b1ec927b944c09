"""The customer and contact rules of the import method, each with a real file and the CLI."""
from __future__ import annotations

import json

import pytest

from conftest import STORES, read_report, read_store, write_csv

BOTH_STORES = pytest.mark.parametrize("store", list(STORES))
"""For the rules that involve the store: every one holds on each sink that keeps a store."""


@pytest.fixture
def store():
    """The sink ``imp`` imports into (tinydb unless a test is marked BOTH_STORES)."""
    return "tinydb"


@pytest.fixture
def imp(etl, tmp_path, store):
    """Import dict rows (keys: the file's column titles); returns (exit code, report, store)."""
    counter = iter(range(1000))
    target, read = STORES[store]

    def run(rows, *args, header=None):
        name = f"in{next(counter)}.csv"
        write_csv(tmp_path / name, rows, header=header)
        result = etl("run", name, "--report", "r.json", "--sink", store, *args)
        report = read_report(tmp_path / "r.json") if (tmp_path / "r.json").exists() else None
        return result, report, (read(tmp_path / target) if (tmp_path / target).exists() else {})

    return run


def errors(report):
    return [(e["line"], e["column"], e["message"]) for e in report["errors"]]


def by(store, kind, key, value):
    return next(d for d in store.get(kind, []) if d[key] == value)


# -- customers ----------------------------------------------------------------------------------

@BOTH_STORES
def test_customer_identified_by_id_else_by_name(imp):
    imp([{"Customer ID": "C1", "Customer name": "Acme"}, {"Customer name": "Beta", "Town": "Lyon"}])
    result, report, store = imp([{"Customer ID": "C1", "Town": "Paris"}, {"Customer name": "BETA", "Country": "FR"}])
    assert report["customers"]["updated"] == 2 and report["customers"]["created"] == 0
    assert by(store, "customers", "external_id", "C1")["city"] == "Paris"
    beta = by(store, "customers", "name", "BETA")  # known ones take the file's spelling
    assert (beta["city"], beta["country"]) == ("Lyon", "FR")


@BOTH_STORES
def test_a_name_matching_several_stored_customers_is_ambiguous(imp):
    imp([{"Customer ID": "C1", "Customer name": "Acme"}, {"Customer ID": "C2", "Customer name": "Acme"}])
    result, report, store = imp([{"Customer name": "Acme", "Town": "Paris"}])
    assert result.code == 2
    [(line, column, message)] = errors(report)
    assert line == 2 and column == "Customer name" and "give the Customer ID" in message
    assert all(c["city"] is None for c in store["customers"])


@BOTH_STORES
def test_name_is_required_for_a_new_customer_but_not_for_a_known_one(imp):
    result, report, store = imp([{"Customer ID": "C9", "Town": "Paris"}])
    assert errors(report) == [(2, "Customer name", "Customer name is required for a new customer")]
    imp([{"Customer ID": "C9", "Customer name": "Nine"}])
    result, report, store = imp([{"Customer ID": "C9", "Town": "Paris"}])
    assert result.code == 0 and by(store, "customers", "external_id", "C9")["city"] == "Paris"


@BOTH_STORES
def test_a_customer_spans_lines_without_repeating_its_data(imp):
    result, report, store = imp([
        {"Customer ID": "C1", "Customer name": "Acme", "Town": "Paris", "Contact email": "a@acme.example"},
        {"Customer ID": "C1", "Contact email": "b@acme.example"},
        {"Customer name": "acme", "Contact email": "c@acme.example"},
    ])
    assert result.code == 0, report
    [acme] = store["customers"]
    assert acme["city"] == "Paris"
    assert {c["customer_external_id"] for c in store["contacts"]} == {"C1"}
    assert len(store["contacts"]) == 3


def test_a_conflicting_value_is_an_error_on_the_later_line_and_rejects_the_customer(imp):
    result, report, store = imp([
        {"Customer ID": "C1", "Customer name": "Acme", "Town": "Paris", "Contact email": "a@acme.example"},
        {"Customer ID": "C1", "Town": "Lyon", "Contact email": "b@acme.example"},
        {"Customer ID": "C2", "Customer name": "Beta"},
    ])
    assert result.code == 1
    assert errors(report)[0] == (2, None, "not imported: customer 'Acme' has an error on line 3")
    assert errors(report)[1][:2] == (3, "Town") and "conflicts with 'Paris' given on line 2" in errors(report)[1][2]
    assert [c["name"] for c in store["customers"]] == ["Beta"] and "contacts" not in store or not store["contacts"]
    assert report["customers"]["rejected"] == 1 and report["contacts"]["rejected"] == 2


@BOTH_STORES
def test_groups_before_after_and_in_the_store(imp):
    result, report, store = imp([
        {"Customer ID": "S1", "Customer name": "Sub One", "Group name": "Holding"},
        {"Customer ID": "H1", "Customer name": "Holding"},
        {"Customer ID": "S2", "Customer name": "Sub Two", "Group ID": "H1"},
    ])
    assert result.code == 0, report
    for sub in ("S1", "S2"):
        doc = by(store, "customers", "external_id", sub)
        assert (doc["group_external_id"], doc["group_name"]) == ("H1", "Holding")
    result, report, store = imp([{"Customer ID": "S3", "Customer name": "Sub Three", "Group ID": "H1"}])
    assert by(store, "customers", "external_id", "S3")["group_name"] == "Holding"



@BOTH_STORES
def test_a_stored_customer_without_id_is_adopted_by_a_line_with_its_name_and_an_id(imp):
    imp([{"Customer name": "Zeta SARL", "Town": "Lille"}, {"Customer name": "Twin"}, {"Customer name": "twin"}])
    result, report, store = imp([{"Customer ID": "Z1", "Customer name": "ZETA sarl",
                                  "Contact email": "z@zeta.example"}])
    assert result.code == 0 and report["customers"] == {"created": 0, "updated": 1, "unchanged": 0, "rejected": 0}
    [zeta] = [c for c in store["customers"] if c["external_id"] == "Z1"]
    assert (zeta["name"], zeta["city"]) == ("ZETA sarl", "Lille")  # the blank town kept the stored one
    result, report, store = imp([{"Customer ID": "Z2", "Customer name": "Zeta SARL"}])
    assert report["customers"]["created"] == 1  # the stored one has its ID now: no more to adopt


@BOTH_STORES
def test_cycles_through_the_store_are_rejected(imp):
    imp([{"Customer ID": "A", "Customer name": "Alpha"}, {"Customer ID": "B", "Customer name": "Beta", "Group ID": "A"},
         {"Customer ID": "C", "Customer name": "Gamma", "Group name": "Beta"}])
    result, report, store = imp([{"Customer ID": "A", "Group ID": "C"}, {"Customer ID": "D", "Customer name": "Delta",
                                                                        "Group name": "gamma"}])
    found = {line: message for line, _, message in errors(report)}
    assert found[2] == "group cycle: 'Alpha' is in 'Gamma' is in 'Beta' is in 'Alpha'", found
    delta = next(c for c in store["customers"] if c["external_id"] == "D")
    assert (delta["group_external_id"], delta["group_name"]) == ("C", "Gamma")
    assert next(c for c in store["customers"] if c["external_id"] == "A")["group_external_id"] is None

def test_groups_go_to_the_sink_before_their_subsidiaries(etl, tmp_path):
    write_csv(tmp_path / "g.csv", [
        {"Customer ID": "S1", "Customer name": "Sub", "Group ID": "M1"},
        {"Customer ID": "M1", "Customer name": "Mid", "Group ID": "H1"},
        {"Customer ID": "H1", "Customer name": "Top"},
    ])
    assert etl("run", "g.csv", "--sink", "json", "--target", "o.json").code == 0
    assert [c["external_id"] for c in json.loads((tmp_path / "o.json").read_text())["customers"]] == ["H1", "M1", "S1"]


@BOTH_STORES
def test_unknown_group_and_cycles_are_rejected(imp):
    result, report, store = imp([
        {"Customer ID": "A", "Customer name": "Alpha", "Group ID": "B"},
        {"Customer ID": "B", "Customer name": "Beta", "Group ID": "A"},
        {"Customer ID": "S", "Customer name": "Self", "Group ID": "S"},
        {"Customer ID": "U", "Customer name": "Orphan", "Group name": "Nowhere"},
        {"Customer ID": "K", "Customer name": "Kid", "Group ID": "U"},
        {"Customer ID": "OK", "Customer name": "Fine"},
    ])
    found = {line: message for line, _, message in errors(report)}
    assert "group cycle" in found[2] and "group cycle" in found[3]
    assert "cannot be its own group" in found[4]
    assert "unknown group: no customer is named 'Nowhere'" in found[5]
    assert "its group 'Orphan' is rejected" in found[6]
    assert [c["external_id"] for c in store["customers"]] == ["OK"]


def test_group_id_and_name_must_agree(imp):
    result, report, _ = imp([
        {"Customer ID": "H1", "Customer name": "Holding"},
        {"Customer ID": "S1", "Customer name": "Sub", "Group ID": "H1", "Group name": "Other"},
    ])
    assert "is the customer 'Holding', not 'Other'" in errors(report)[0][2]


@pytest.mark.parametrize("value, expected", [
    ("30", 30), ("45.0", 45), ("0", 0), (" 60 ", 60), ("30 jours", 30), ("30 j", 30), ("Net 30", 30), ("NET30", 30),
    ("30 days", 30), ("30 jours net", 30), ("Net 30 days", 30), ("à 30 jours", 30), ("30 Tage", 30), ("30 días", 30),
    ("60 giorni", 60), ("45 dagen", 45), ("90 Tage netto", 90), ("A 60 DÍAS", 60),
])
def test_payment_period_in_days_as_exports_write_it(imp, value, expected):
    _, _, store = imp([{"Customer ID": "C1", "Customer name": "Acme", "Default payment period": value}])
    assert store["customers"][0]["payment_period_days"] == expected


@pytest.mark.parametrize("value", ["45 jours fin de mois", "30 days end of month", "fin de mois", "à réception",
                                   "Due on receipt", "comptant", "-5", "3.5", "trente", "30 days 30"])
def test_payment_terms_that_are_not_a_number_of_days_are_errors(imp, value):
    result, report, _ = imp([{"Customer ID": "C1", "Customer name": "Acme", "Default payment period": value}])
    assert result.code == 2
    assert errors(report) == [(2, "Default payment period",
                               f'"{value}" is not a number of days: give whole days, e.g. 30')]


@BOTH_STORES
def test_default_payment_period_setting_fills_blanks_only(imp, tmp_path):
    imp([{"Customer ID": "C0", "Customer name": "Known", "Default payment period": "15"}])
    rows = [{"Customer ID": "C1", "Customer name": "Acme"},
            {"Customer ID": "C2", "Customer name": "Beta", "Default payment period": "60"},
            {"Customer ID": "C0"}]
    _, _, store = imp(rows, "--rule-option", "default_payment_period=30")
    periods = {c["external_id"]: c["payment_period_days"] for c in store["customers"]}
    assert periods == {"C0": 15, "C1": 30, "C2": 60}


def test_no_default_payment_period_leaves_the_field_empty(imp):
    _, _, store = imp([{"Customer ID": "C1", "Customer name": "Acme"}])
    assert store["customers"][0]["payment_period_days"] is None


def test_account_manager_and_workflow_settings(imp, tmp_path):
    (tmp_path / "settings.toml").write_text(
        'known_workflows = ["Standard", "Relance douce"]\nknown_account_managers = ["am@corp.example"]\n')
    result, report, store = imp([
        {"Customer ID": "C1", "Customer name": "A", "Workflow's name": "standard",
         "Email of the Account Manager": "am@corp.example"},
        {"Customer ID": "C2", "Customer name": "B", "Workflow's name": "Unknown flow"},
        {"Customer ID": "C3", "Customer name": "C", "Email of the Account Manager": "other@corp.example"},
        {"Customer ID": "C4", "Customer name": "D", "Email of the Account Manager": "not an email"},
        {"Customer ID": "C5", "Customer name": "E", "Email of the Account Manager": "AM@Corp.Example"},
    ], "--settings", "settings.toml")
    assert by(store, "customers", "external_id", "C1")["workflow"] == "Standard"
    found = {line: (column, message) for line, column, message in errors(report)}
    assert found[3] == ("Workflow's name", "unknown workflow: use one of Relance douce, Standard")
    assert found[4][0] == "Email of the Account Manager" and "unknown account manager" in found[4][1]
    assert found[5][1].startswith("not a valid email address: ")
    assert by(store, "customers", "external_id", "C5")["account_manager_email"] == "am@corp.example"


@pytest.mark.parametrize("known", [False, True])
def test_account_managers_are_checked_like_contact_emails(imp, known):
    managers = ("--rule-option", "known_account_managers=a@b.example") if known else ()
    _, report, _ = imp([{"Customer ID": "C4", "Customer name": "D", "Email of the Account Manager": "a@b..example",
                         "Contact email": "a@b..example"}], *managers)
    assert sorted(errors(report)) == [
        (2, column, "not a valid email address: an email address cannot have two periods in a row.")
        for column in ("Contact email", "Email of the Account Manager")]


def test_known_account_managers_must_be_valid_emails(etl, tmp_path):
    write_csv(tmp_path / "a.csv", [{"Customer ID": "C1", "Customer name": "A"}])
    result = etl("run", "a.csv", "--rule-option", "known_account_managers=ok@corp.example,x@@corp.example")
    assert result.code == 2 and "known_account_managers" in result.err and "not a valid email address" in result.err


def test_unknown_workflow_as_a_warning(imp):
    result, report, store = imp([{"Customer ID": "C1", "Customer name": "A", "Workflow's name": "Custom"}],
                                "--rule-option", "known_workflows=Standard",
                                "--rule-option", "unknown_workflow=warning")
    assert result.code == 0 and store["customers"][0]["workflow"] == "Custom"
    assert report["warnings"][0]["column"] == "Workflow's name"


def test_invalid_settings_are_refused(etl, tmp_path):
    write_csv(tmp_path / "a.csv", [{"Customer ID": "C1", "Customer name": "A"}])
    result = etl("run", "a.csv", "--rule-option", "default_payment_period=-3", "--rule-option", "colour=blue")
    assert result.code == 2
    assert "default_payment_period: Must be greater than or equal to 0." in result.err
    assert ("colour: unknown setting (valid: default_payment_period, known_workflows, known_account_managers, "
            "unknown_workflow, duplicates, clear_marker, match_customers, match_contacts)") in result.err
    assert not (tmp_path / "etl-db.json").exists()


def test_a_misspelt_setting_names_the_closest_one(etl, tmp_path):
    write_csv(tmp_path / "a.csv", [{"Customer ID": "C1", "Customer name": "A"}])
    (tmp_path / "settings.toml").write_text('known_workflow = ["Standard"]\n')
    hint = "(did you mean 'known_workflows'? valid: default_payment_period, known_workflows,"
    for option in (("--settings", "settings.toml"), ("--rule-option", "known_workflow=Standard")):
        result = etl("run", "a.csv", *option)
        assert result.code == 2 and result.err.count("\n") == 1
        assert f"known_workflow: unknown setting {hint}" in result.err, result.err


def test_a_customer_without_contact(imp):
    result, report, store = imp([{"Customer ID": "C1", "Customer name": "Acme"}])
    assert result.code == 0 and store["customers"] and not store.get("contacts")


# -- contacts -----------------------------------------------------------------------------------

def test_a_contact_without_email_is_rejected_but_its_customer_imports(imp):
    result, report, store = imp([{"Customer ID": "C1", "Customer name": "Acme", "Contact first name": "Ann"}])
    assert result.code == 2  # the only line is rejected, though its customer data imported
    assert errors(report) == [(2, "Contact email", "a contact needs an email: this contact is not imported")]
    assert store["customers"][0]["name"] == "Acme"
    assert report["customers"]["created"] == 1 and report["contacts"]["rejected"] == 1


@BOTH_STORES
def test_emails_identify_contacts_case_insensitively(imp):
    imp([{"Customer ID": "C1", "Customer name": "Acme", "Contact email": "Ann@Acme.Example"}])
    result, report, store = imp([{"Customer ID": "C1", "Contact email": "ann@acme.example", "Contact phone": "01"}])
    assert report["contacts"]["updated"] == 1 and len(store["contacts"]) == 1
    assert store["contacts"][0]["email"] == "ann@acme.example"


@BOTH_STORES
def test_a_contact_is_never_moved_between_customers(imp):
    result, report, _ = imp([
        {"Customer ID": "C1", "Customer name": "Acme", "Contact email": "ann@x.example"},
        {"Customer ID": "C2", "Customer name": "Beta", "Contact email": "ANN@x.example"},
    ])
    assert errors(report)[0][0] == 3 and "never moved between customers" in errors(report)[0][2]
    result, report, store = imp([{"Customer ID": "C2", "Contact email": "ann@x.example"}])
    assert "is a contact of customer 'Acme' in the store" in errors(report)[0][2]
    assert store["contacts"][0]["customer_external_id"] == "C1"


@pytest.mark.parametrize("given, stored", [
    ("ACCOUNTING", "ACCOUNTING"), ("sales", "SALES"), ("Buyer", "PURCHASER"), ("payer", "PAYER"),
    ("COMPTABILITÉ", "ACCOUNTING"), ("Ventes", "SALES"), ("acheteur", "PURCHASER"), ("PAYEUR", "PAYER")])
def test_positions(imp, given, stored):
    _, _, store = imp([{"Customer ID": "C1", "Customer name": "A", "Contact email": "a@a.example",
                        "Contact Position": given}])
    assert store["contacts"][0]["position"] == stored


def test_an_unknown_position_names_the_allowed_values(imp):
    result, report, _ = imp([{"Customer ID": "C1", "Customer name": "A", "Contact email": "a@a.example",
                              "Contact Position": "CEO"}])
    assert errors(report) == [(2, "Contact Position", "unknown position: use one of ACCOUNTING, SALES, PURCHASER, PAYER")]


@pytest.mark.parametrize("flag", ["1", "yes", "oui", "x", "true", "TRUE"])
def test_main_contact_flags(imp, flag):
    _, _, store = imp([{"Customer ID": "C1", "Customer name": "A", "Contact email": "a@a.example",
                        "Main contact": flag}])
    assert store["contacts"][0]["is_main"] is True


@BOTH_STORES
def test_the_last_main_contact_wins_in_the_file_and_against_the_store(imp):
    _, _, store = imp([
        {"Customer ID": "C1", "Customer name": "A", "Contact email": "a@a.example", "Main contact": "1"},
        {"Customer ID": "C1", "Contact email": "b@a.example", "Main contact": "1"},
        {"Customer ID": "C1", "Contact email": "c@a.example"},
    ])
    assert {c["email"]: c["is_main"] for c in store["contacts"]} == {
        "a@a.example": False, "b@a.example": True, "c@a.example": False}
    _, report, store = imp([{"Customer ID": "C1", "Contact email": "c@a.example", "Main contact": "1"}])
    assert {c["email"]: c["is_main"] for c in store["contacts"]} == {
        "a@a.example": False, "b@a.example": False, "c@a.example": True}
    assert report["contacts"]["updated"] == 2


def test_a_later_0_of_the_main_contact_removes_its_flag(imp):
    _, report, store = imp([
        {"Customer ID": "C1", "Customer name": "A", "Contact email": "a@a.example", "Main contact": "1"},
        {"Customer ID": "C1", "Contact email": "b@a.example"},
        {"Customer ID": "C1", "Contact email": "A@a.example", "Main contact": "0"},
    ])
    assert report["errors"] == []
    assert {c["email"]: c["is_main"] for c in store["contacts"]} == {"a@a.example": False, "b@a.example": False}
    imp([{"Customer ID": "C1", "Contact email": "b@a.example", "Main contact": "yes"}])
    _, _, store = imp([
        {"Customer ID": "C1", "Contact email": "b@a.example", "Main contact": "1"},
        {"Customer ID": "C1", "Contact email": "b@a.example", "Main contact": "non"},
    ])
    assert {c["email"]: c["is_main"] for c in store["contacts"]} == {"a@a.example": False, "b@a.example": False}


def test_several_errors_on_one_line_are_all_reported(imp):
    _, report, _ = imp([{"Customer ID": "C1", "Customer name": "A", "Default payment period": "x",
                         "Contact email": "bad", "Contact Position": "boss"}])
    assert {column for _, column, _ in errors(report)} == {"Default payment period", "Contact email", "Contact Position"}


def test_a_line_naming_no_customer_is_rejected(imp):
    _, report, _ = imp([{"Contact email": "a@a.example"}, {"Customer ID": "C1", "Customer name": "A"}])
    assert errors(report) == [(2, "Customer name",
                               "the line names no customer: give the Customer ID or the Customer name")]


def test_the_same_customer_twice_with_other_values_is_refused_or_the_last_line_wins(etl, tmp_path):
    header = ["Customer ID", "Customer name", "Town", "Contact email"]
    write_csv(tmp_path / "in.csv", [["C1", "Acme", "Paris", "a@acme.example"], ["C1", "Acme Corp", "Lyon", ""],
                                    ["C2", "Zed", "Nice", ""], ["", "Zed", "Oslo", ""]], header=header)
    assert etl("run", "in.csv", "--report", "agree.json", "--target", "agree-db.json").code == 2  # all rejected
    agree = read_report(tmp_path / "agree.json")
    assert {(e["line"], e["column"]) for e in agree["errors"]} >= {(3, "Customer name"), (3, "Town"), (5, "Town")}
    result = etl("run", "in.csv", "--rule-option", "duplicates=last", "--report", "last.json")
    assert result.code == 0, result.err
    customers = {c["external_id"]: (c["name"], c["city"]) for c in read_store(tmp_path / "etl-db.json")["customers"]}
    assert customers == {"C1": ("Acme Corp", "Lyon"), "C2": ("Zed", "Oslo")}
    warnings = [(w["line"], w["column"], w["message"]) for w in read_report(tmp_path / "last.json")["warnings"]]
    assert (2, "Town", "'Paris' not kept: line 3 gives 'Lyon' later (duplicates = \"last\")") in warnings
    assert (4, "Town", "'Nice' not kept: line 5 gives 'Oslo' later (duplicates = \"last\")") in warnings
    assert "duplicates: Must be one of: agree, last." in etl("run", "in.csv", "--rule-option", "duplicates=first").err
