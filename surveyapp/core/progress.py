"""The command line's one progress bar: click's, on stderr, fed by the libraries' callbacks.

Every long command shows the same bar::

    with progress_bar("Đang in / Rendering", len(entries)) as bar:
        render_batch(..., progress=bar.count)                # progress(done, total)
    with progress_bar("Tính điểm / Scoring") as bar:         # 0..100 per cent
        score(..., progress=bar.span(10, 70))                # a stage's share of the bar
        bar.to(100)

The bar only moves forward (a callback reporting less than already shown changes nothing),
and click draws nothing when stderr is not a terminal, so scripts and tests see no noise.
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager

import click


class Bar:
    """A click progress bar moved to absolute positions."""

    def __init__(self, bar) -> None:
        self._bar = bar
        self.position = 0

    def to(self, position: float) -> None:
        """Move to ``position`` (of the bar's length) if that is further on."""
        position = int(position)
        if self._bar is not None and position > self.position:
            self._bar.update(position - self.position)
        self.position = max(self.position, position)

    def count(self, done: int, total: int | None = None, *_ignored) -> None:
        """The libraries' ``progress(done, total[, message])`` callback: ``done`` items."""
        self.to(done)

    def span(self, start: float, end: float) -> Callable[..., None]:
        """A ``progress(done, total)`` callback filling the part of the bar from ``start``
        to ``end``; ``progress(fraction)`` with one number between 0 and 1 works too."""

        def report(done: float, total: float | None = None, *_ignored) -> None:
            share = done if total is None else (done / total if total else 1.0)
            self.to(start + (end - start) * min(max(share, 0.0), 1.0))

        return report

    def stage(self, start: float, end: float) -> Callable[[str, float], None]:
        """A ``progress(stage, fraction)`` callback (the draw's) over ``start``..``end``."""
        report = self.span(start, end)
        return lambda _stage, fraction: report(fraction)

    @property
    def label(self) -> str:
        return self._bar.label if self._bar is not None else ""

    @label.setter
    def label(self, text: str) -> None:
        if self._bar is not None:
            self._bar.label = text


@contextmanager
def progress_bar(label: str, length: int = 100, *, shown: bool = True) -> Iterator[Bar]:
    """A progress bar of ``length`` steps labelled ``label`` (nothing drawn if not ``shown``)."""
    if not shown:
        yield Bar(None)
        return
    with click.progressbar(length=max(int(length), 1), label=label, file=sys.stderr) as bar:
        handle = Bar(bar)
        yield handle
        handle.to(length)
