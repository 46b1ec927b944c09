"""`etl batch jobs.toml`: config validated whole, jobs in order, failures, summary and exit code."""
from __future__ import annotations

import json

from conftest import read_report, read_store, write_csv


def layout(tmp_path):
    (tmp_path / "exports" / "eu").mkdir(parents=True)
    (tmp_path / "mappings").mkdir()
    write_csv(tmp_path / "exports/eu/b-france.csv", [{"Customer ID": "F1", "Customer name": "Fromagerie"}])
    write_csv(tmp_path / "exports/eu/a-belgium.csv", [
        {"Customer ID": "B1", "Customer name": "Brasserie"},
        {"Customer ID": "B2", "Customer name": "Chocolat", "Contact email": "bad"}])
    (tmp_path / "exports/broken.csv").write_bytes(b"\x00\x01\x02binary")
    (tmp_path / "mappings/eu.toml").write_text('"Customer ID" = "customer_id"\n')


CONFIG = """
[defaults]
sink = "tinydb"
target = "crm.json"
settings = { default_payment_period = 30 }

[[jobs]]
name = "eu-customers"
input = "exports/eu/*.csv"
mapping = "mappings/eu.toml"
rejects = "out-{job}-{stem}-rejects.csv"
report = "out-{job}-{stem}.json"

[[jobs]]
name = "broken"
input = "exports/broken.csv"

[[jobs]]
name = "after"
input = "exports/eu/b-france.csv"
sink = "json"
target = "${OUT_DIR}/after.json"
"""


def test_two_jobs_with_a_failing_one(etl, tmp_path, monkeypatch):
    layout(tmp_path)
    monkeypatch.setenv("OUT_DIR", str(tmp_path))
    (tmp_path / "jobs.toml").write_text(CONFIG)
    result = etl("batch", "jobs.toml")
    assert result.code == 2
    table = result.out.splitlines()
    assert table[0].split() == ["job", "input", "status", "read", "imported", "rejected"]
    assert table[1].split() == ["eu-customers", "a-belgium.csv", "partial", "2", "1", "1"]
    assert table[2].split() == ["eu-customers", "b-france.csv", "success", "1", "1", "0"]
    assert table[3].split() == ["broken", "broken.csv", "error"]
    assert table[4].split() == ["after", "b-france.csv", "skipped"]
    assert "not a text CSV file" in result.err
    store = read_store(tmp_path / "crm.json")
    assert {c["external_id"]: c["payment_period_days"] for c in store["customers"]} == {"B1": 30, "B2": 30, "F1": 30}
    assert read_report(tmp_path / "out-eu-customers-a-belgium.json")["status"] == "partial"
    assert (tmp_path / "out-eu-customers-a-belgium-rejects.csv").read_text().count("\n") == 2
    assert not (tmp_path / "after.json").exists()

    going = etl("batch", "jobs.toml", "--keep-going")
    assert going.code == 2 and going.out.splitlines()[4].split()[:3] == ["after", "b-france.csv", "success"]
    assert json.loads((tmp_path / "after.json").read_text())["customers"][0]["external_id"] == "F1"


def test_selected_jobs_and_dry_run(etl, tmp_path, monkeypatch):
    layout(tmp_path)
    monkeypatch.setenv("OUT_DIR", str(tmp_path))
    (tmp_path / "jobs.toml").write_text(CONFIG)
    result = etl("batch", "jobs.toml", "--job", "after", "--dry-run")
    assert result.code == 0 and "after" in result.out and "eu-customers" not in result.out
    assert not (tmp_path / "after.json").exists()
    assert "no job named 'nope'" in etl("batch", "jobs.toml", "--job", "nope").err


def test_every_config_problem_is_reported_together_before_any_job_runs(etl, tmp_path, monkeypatch):
    layout(tmp_path)
    monkeypatch.delenv("OUT_DIR", raising=False)
    (tmp_path / "jobs.toml").write_text(CONFIG)
    result = etl("batch", "jobs.toml")
    assert result.code == 2 and "jobs.2.target: environment variable OUT_DIR is not set" in result.err
    (tmp_path / "bad.toml").write_text("""
[[jobs]]
name = "x"
input = "nothing/*.csv"
colour = "blue"
[[jobs]]
name = "../escape"
input = 3
rejets = "r.csv"
""")
    result = etl("batch", "bad.toml")
    assert result.code == 2 and result.err.count("\n") == 1
    for problem in ("jobs.0.colour: unknown key (valid: name, input, reader, sink, target, rules, mapping,",
                    "jobs.1.rejets: unknown key (did you mean 'rejects'? valid: name, input,",
                    "jobs.1.name: must be letters",
                    "jobs.1.input: must be a string or a list of strings"):
        assert problem in result.err
    (tmp_path / "missing.toml").write_text('[[jobs]]\nname = "x"\ninput = "nothing/*.csv"\n')
    assert "jobs.0.input: no file matches 'nothing/*.csv'" in etl("batch", "missing.toml").err
    assert not (tmp_path / "etl-db.json").exists() and not (tmp_path / "crm.json").exists()


def test_plugins_read_their_own_section_of_the_batch_config(etl, tmp_path):
    from etl import hookimpl
    from etl.plugin_manager import get_plugin_manager

    seen = []

    class Spy:
        @hookimpl
        def job_started(self, job):
            seen.append(job.plugin_config("spy"))

    write_csv(tmp_path / "a.csv", [{"Customer ID": "C1", "Customer name": "Acme"}])
    (tmp_path / "jobs.toml").write_text('[[jobs]]\nname = "one"\ninput = "a.csv"\n[plugins.spy]\nlevel = 3\n')
    pm = get_plugin_manager()
    pm.register(Spy(), "spy")
    try:
        assert etl("batch", "jobs.toml").code == 0
    finally:
        pm.unregister(name="spy")
    assert seen == [{"level": 3}]


def test_jobs_on_one_store_take_turns_whether_they_name_its_sink_and_target_or_not(tmp_path, monkeypatch):
    """The store a job writes to comes from the registered sinks' declared defaults, not from core."""
    from etl.batch_config import load_config, store_of
    from etl.registry import get_registry

    monkeypatch.chdir(tmp_path)
    write_csv(tmp_path / "a.csv", [{"Customer ID": "C1", "Customer name": "One"}])
    (tmp_path / "jobs.toml").write_text(
        '[[jobs]]\nname = "bare"\ninput = "a.csv"\n'
        '[[jobs]]\nname = "named"\ninput = "a.csv"\nsink = "tinydb"\ntarget = "etl-db.json"\n'
        '[[jobs]]\nname = "sqlite"\ninput = "a.csv"\nsink = "sqlite"\n'
        '[[jobs]]\nname = "unknown"\ninput = "a.csv"\nsink = "nosuch"\n'
        '[[jobs]]\nname = "url"\ninput = "a.csv"\nsink = "http"\ntarget = "http://127.0.0.1:9/api"\n')
    config = load_config(tmp_path / "jobs.toml")
    stores = {job.name: store_of(job, tmp_path / "a.csv", get_registry().sink) for job in config.jobs}
    assert stores == {"bare": f"tinydb:{tmp_path / 'etl-db.json'}", "named": f"tinydb:{tmp_path / 'etl-db.json'}",
                      "sqlite": f"sqlite:{tmp_path / 'etl-db.sqlite'}", "unknown": None, "url": None}
