"""Progress of long commands: a tqdm bar on a terminal, plain lines (one per tenth of
the work) when the output is a pipe or a log, so that logs stay readable."""
import sys
from typing import TextIO

from tqdm import tqdm

STEPS = 10  # plain lines per run


class Progress:
    """Call with (done, total) as the work goes; `close()` at the end."""

    def __init__(self, label: str, stream: TextIO | None = None,
                 interactive: bool | None = None, unit: str = 'item'):
        self.label = label
        self.stream = stream or sys.stderr
        self.interactive = self.stream.isatty() if interactive is None else interactive
        self.unit = unit
        self._bar: tqdm | None = None
        self._step = -1

    def __call__(self, done: int, total: int) -> None:
        if self.interactive:
            if self._bar is None:
                self._bar = tqdm(total=total, desc=self.label, file=self.stream,
                                 unit=self.unit, leave=True)
            self._bar.total = total
            self._bar.update(done - self._bar.n)
            return
        step = done * STEPS // max(total, 1)
        if step > self._step:
            self._step = step
            print(f'{self.label}: {done}/{total} {self.unit}s '
                  f'({done * 100 // max(total, 1)}%)', file=self.stream, flush=True)

    def close(self) -> None:
        if self._bar is not None:
            self._bar.close()
