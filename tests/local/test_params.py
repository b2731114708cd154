"""run.py --param: typed against the template and held to the documented ranges."""

import pytest

from contract.params import ParamDecl
from local.params import ParamError, parse_assignments

DECLS = {
    "gate_threshold": ParamDecl("gate_threshold", "NUMBER_DOUBLE", optional=True),
    "tune_folds": ParamDecl("tune_folds", "NUMBER_INTEGER", optional=True),
    "raw_data_path": ParamDecl("raw_data_path", "STRING", optional=False),
}


def test_values_are_typed():
    typed = parse_assignments(["gate_threshold=0.7", "tune_folds=3", "raw_data_path=a.csv"], DECLS)
    assert typed == {"gate_threshold": 0.7, "tune_folds": 3, "raw_data_path": "a.csv"}


def test_values_outside_the_documented_ranges_are_refused_all_at_once():
    with pytest.raises(ParamError) as err:
        parse_assignments(["gate_threshold=2", "tune_folds=1", "raw_data_path=a.csv"], DECLS)
    lines = str(err.value).splitlines()
    assert [line.split(":")[0] for line in lines] == [
        "--param gate_threshold",
        "--param tune_folds",
    ]
