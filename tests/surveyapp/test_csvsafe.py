import csv
import io

import pytest

from surveyapp.csvsafe import neutralise, write_csv


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("=1+1", "'=1+1"),
        ("+84901234567", "'+84901234567"),
        ("-2", "'-2"),
        ("@SUM(A1)", "'@SUM(A1)"),
        ("\tcmd", "'\tcmd"),
        ("\rcmd", "'\rcmd"),
        ("Phường 1", "Phường 1"),
        ("a=b", "a=b"),
        ("", ""),
        (-2, -2),
        (3.5, 3.5),
        (None, None),
    ],
)
def test_neutralise(value, expected):
    assert neutralise(value) == expected


def test_write_csv_neutralises_every_cell_and_keeps_utf8():
    text = write_csv([["=cmd", "Xã Long Sơn", None, 7]], header=["@a", "b", "c", "d"])
    assert text.startswith("\ufeff")
    rows = list(csv.reader(io.StringIO(text.lstrip("\ufeff"))))
    assert rows == [["'@a", "b", "c", "d"], ["'=cmd", "Xã Long Sơn", "", "7"]]
