"""crossmodal.claims: strict, record and reader modes, the log, the recorded range."""

import importlib.util
import json

import pytest

from crossmodal import claims

CLAIM = "fusion beats the best single modality"


@pytest.fixture(autouse=True)
def _no_claims_environment(monkeypatch, tmp_path):
    monkeypatch.delenv(claims.MODE_VARIABLE, raising=False)
    monkeypatch.delenv(claims.LOG_VARIABLE, raising=False)
    monkeypatch.setattr(claims, "RECORD", tmp_path / "no-record.csv")


def test_a_claim_that_holds_returns_true_in_every_mode(monkeypatch):
    for mode in claims.MODES:
        monkeypatch.setenv(claims.MODE_VARIABLE, mode)
        assert claims.expect(CLAIM, 0.2, above=0.1) is True
        assert claims.expect(CLAIM, 0.05, below=0.1) is True


def test_strict_mode_raises_with_the_claim_and_the_values(monkeypatch):
    monkeypatch.setenv(claims.MODE_VARIABLE, "strict")
    with pytest.raises(AssertionError, match=r"fusion beats.*0\.08.*above 0\.1.*single=0\.7"):
        claims.expect(CLAIM, 0.08, above=0.1, single=0.7)
    with pytest.raises(AssertionError, match="below 0.03"):
        claims.expect(CLAIM, 0.048, below=0.03)
    with pytest.raises(AssertionError):  # the threshold itself does not hold
        claims.expect(CLAIM, 0.1, above=0.1)


def test_a_reader_gets_a_warning_and_the_notebook_goes_on():
    with pytest.warns(claims.ClaimWarning, match="In this run the value is 0.08"):
        assert claims.expect(CLAIM, 0.08, above=0.1) is False


def test_record_mode_is_silent_and_logs_every_claim(monkeypatch, tmp_path, recwarn):
    log = tmp_path / "claims.jsonl"
    monkeypatch.setenv(claims.MODE_VARIABLE, "record")
    monkeypatch.setenv(claims.LOG_VARIABLE, str(log))
    assert claims.expect(CLAIM, 0.08, above=0.1) is False
    assert claims.expect("gap closes", 0.01, below=0.03) is True
    assert not recwarn.list
    entries = [json.loads(line) for line in log.read_text().splitlines()]
    assert entries == [
        {"claim": CLAIM, "value": 0.08, "threshold": 0.1, "direction": ">", "holds": False},
        {"claim": "gap closes", "value": 0.01, "threshold": 0.03, "direction": "<", "holds": True},
    ]


def test_the_warning_quotes_the_recorded_range(monkeypatch, tmp_path):
    record = tmp_path / "claims.csv"
    monkeypatch.setattr(claims, "RECORD", record)
    record.write_text(
        "chapter,claim,seed,variant,value,threshold,direction,cpu\n"
        f"fusion,{CLAIM},0,default,0.21,0.1,>,x\n"
        f"fusion,{CLAIM},1,avx2,0.14,0.1,>,x\n"
        "fusion,another claim,0,default,9,1,>,x\n"
    )
    assert claims.recorded_range(CLAIM) == (0.14, 0.21, 2)
    assert claims.recorded_range("never recorded") is None
    assert claims.spread(CLAIM, 0.3) == (0.14, 0.3, 2)  # this run's value widens the range
    assert claims.spread("never recorded", 0.3) == (0.3, 0.3, 0)
    with pytest.warns(claims.ClaimWarning, match="Over 2 recorded runs.*between 0.14 and 0.21"):
        claims.expect(CLAIM, 0.08, above=0.1)


def test_bad_arguments_are_rejected(monkeypatch):
    with pytest.raises(ValueError, match="exactly one of above= and below="):
        claims.expect(CLAIM, 0.5)
    with pytest.raises(ValueError, match="exactly one"):
        claims.expect(CLAIM, 0.5, above=0.1, below=0.9)
    with pytest.raises(ValueError, match="finite"):
        claims.expect(CLAIM, 0.5, above=float("nan"))
    with pytest.raises(TypeError):
        claims.expect(CLAIM, "high", above=0.1)
    monkeypatch.setenv(claims.MODE_VARIABLE, "loud")
    with pytest.raises(ValueError, match="CROSSMODAL_CLAIMS must be one of"):
        claims.expect(CLAIM, 0.5, above=0.1)


def test_a_nan_value_fails_the_claim(monkeypatch):
    monkeypatch.setenv(claims.MODE_VARIABLE, "strict")
    with pytest.raises(AssertionError, match="nan"):
        claims.expect(CLAIM, float("nan"), above=0.1)


# benchmarks/claims.py: the script that records every chapter's claims


def _script():
    import importlib.util
    import pathlib

    path = pathlib.Path(__file__).resolve().parents[1] / "benchmarks" / "claims.py"
    spec = importlib.util.spec_from_file_location("claims_script", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _notebook(path, *cells):
    import nbformat

    notebook = nbformat.v4.new_notebook()
    notebook.metadata["kernelspec"] = {
        "name": "python3",
        "display_name": "Python 3",
        "language": "python",
    }
    for source, tags in cells:
        cell = nbformat.v4.new_code_cell(source)
        cell.metadata["tags"] = tags
        notebook.cells.append(cell)
    nbformat.write(notebook, path)
    return path


def test_the_script_sets_the_seed_of_the_parameters_cell(tmp_path):
    import nbformat

    script = _script()
    path = _notebook(
        tmp_path / "chapter.ipynb", ("SEED = 0\nimport math", ["parameters"]), ("x = SEED", [])
    )
    notebook = script.with_seed(nbformat.read(path, as_version=4), 7)
    assert notebook.cells[0].source == "SEED = 7\nimport math"
    assert notebook.cells[1].source == "x = SEED"
    bare = _notebook(tmp_path / "bare.ipynb", ("SEED = 0", []))
    with pytest.raises(ValueError, match="no cell tagged 'parameters'"):
        script.with_seed(nbformat.read(bare, as_version=4), 1)


def test_the_script_records_every_claim_of_a_run_even_a_failed_one(tmp_path):
    script = _script()
    path = _notebook(
        tmp_path / "toy.ipynb",
        ("SEED = 0", ["parameters"]),
        (
            "from crossmodal import claims\n"
            "claims.expect('toy: the seed', SEED, above=2)\n"
            "claims.expect('toy: a constant', 1.0, below=2)",
            ["remove-cell"],
        ),
    )
    # a variant this environment can run: the TensorFlow ones need TensorFlow installed
    variant = "one-thread" if importlib.util.find_spec("tensorflow") else "jax"
    rows, timing = script.run_chapter(path, 1, variant, timeout=120)
    assert [(r["claim"], r["value"], r["threshold"], r["direction"]) for r in rows] == [
        ("toy: the seed", 1.0, 2.0, ">"),
        ("toy: a constant", 1.0, 2.0, "<"),
    ]
    assert all(r["chapter"] == "toy" and r["seed"] == 1 and r["variant"] == variant for r in rows)
    assert timing["claims_failed"] == 1 and timing["error"] == ""
    assert script.margin({"value": "1", "threshold": "2", "direction": ">"}) == -1
    assert script.margin({"value": "1", "threshold": "2", "direction": "<"}) == 1
