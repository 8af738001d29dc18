"""The command line's one progress-bar helper (surveyapp.core.progress)."""

import ast
from pathlib import Path

from surveyapp.core.progress import progress_bar

ROOT = Path(__file__).resolve().parents[2]


def test_bar_moves_forward_only_and_fills_on_exit():
    with progress_bar("x", 10) as bar:
        bar.count(3, 10)
        bar.count(2, 10)  # a late callback never moves the bar back
        assert (bar.position, bar._bar.pos) == (3, 3)
        inner = bar._bar
    assert inner.pos == 10


def test_span_and_stage_map_a_part_of_the_bar():
    with progress_bar("x") as bar:
        counts = bar.span(10, 40)
        counts(1, 2)
        assert bar.position == 25
        counts(5, 0)  # nothing to count: that part is complete
        assert bar.position == 40
        bar.stage(45, 80)("draw", 0.5)
        assert bar.position == 62
        bar.label = "Ghi / Writing"
        assert bar.label == "Ghi / Writing"


def test_a_hidden_bar_takes_the_same_calls():
    with progress_bar("x", shown=False) as bar:
        bar.count(5)
        bar.span(0, 50)(1, 1)
        assert bar.position == 50 and bar.label == ""


def test_no_other_module_draws_its_own_progress_bar():
    own = []
    for path in ROOT.glob("*/**/*.py"):
        if path.parts[len(ROOT.parts)] in {"tests", "bench"} or "migrations" in path.parts:
            continue
        if path == ROOT / "surveyapp" / "core" / "progress.py":
            continue
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if isinstance(node, ast.Attribute) and node.attr == "progressbar":
                own.append(f"{path.relative_to(ROOT)}:{node.lineno}")
            if isinstance(node, (ast.Import, ast.ImportFrom)):
                names = [a.name for a in node.names] + [getattr(node, "module", None) or ""]
                if any(n.split(".")[0] == "tqdm" for n in names):
                    own.append(f"{path.relative_to(ROOT)}:{node.lineno} (tqdm)")
    assert own == []
