"""The options of a run are defined once (RUN_OPTIONS): `etl run`, `etl.run` and a batch job take the same."""
from __future__ import annotations

import inspect

import pytest

import etl
from conftest import read_report, write_csv
from etl.batch_config import JobSchema
from etl.cli import run as run_command
from etl.run_options import RUN_OPTIONS


def test_the_command_line_the_api_and_the_batch_config_take_the_same_options():
    names = [option.name for option in RUN_OPTIONS]
    flags = {param.name: param.opts for param in run_command.params}
    assert all(option.cli_flag in flags[option.name] for option in RUN_OPTIONS)
    assert set(flags) - set(names) == {"input", "quiet", "verbose"}
    assert list(inspect.signature(etl.run).parameters) == ["input", *names, "progress", "secrets"]
    assert set(JobSchema().fields) == {"name", "input", *names}


def test_an_unknown_keyword_of_the_api_is_refused(tmp_path):
    with pytest.raises(TypeError, match="unexpected keyword argument 'rejcts'"):
        etl.run(tmp_path / "a.csv", rejcts="r.csv")


def test_a_batch_job_takes_an_option_of_etl_run_it_did_not_have_before(etl, tmp_path):
    write_csv(tmp_path / "a.csv", [{"Customer ID": "C1", "Customer name": "Acme"}])
    (tmp_path / "jobs.toml").write_text('[[jobs]]\nname = "j"\ninput = "a.csv"\ndiff = true\nreport = "r.json"\n')
    assert etl("batch", "jobs.toml").code == 0
    assert read_report(tmp_path / "r.json")["changes"][0]["outcome"] == "created"
