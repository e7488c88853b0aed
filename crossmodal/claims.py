"""The claims a chapter makes, checked on the numbers it has just computed.

Every claim in the book is one measured quantity on the right side of a threshold, checked in a
cell hidden from the page::

    claims.expect("fusion beats the best single modality by 10 points", gain, above=0.10)

What a claim that does not hold does depends on who runs the chapter (``CROSSMODAL_CLAIMS``):

- ``strict`` (set by the book's build and by the tests): raise ``AssertionError``, so the build
  fails the moment a claim stops being true;
- ``record`` (set by ``benchmarks/claims.py``): note it and go on, so that every claim of a run
  is recorded;
- unset (a reader's own notebook): show a short ``ClaimWarning`` that names the claim, the
  reader's value and the range recorded over seeds and machines, and go on.

With ``CROSSMODAL_CLAIMS_LOG`` set to a file, every claim checked is appended to it as a line of
JSON (claim, value, threshold, direction, holds): ``benchmarks/claims.py`` builds
``benchmarks/results/claims.csv`` from these lines.
"""

import csv
import json
import math
import os
import pathlib
import warnings

from crossmodal import records

MODE_VARIABLE = "CROSSMODAL_CLAIMS"
LOG_VARIABLE = "CROSSMODAL_CLAIMS_LOG"
MODES = ("strict", "record", "warn")
RECORD = records.FOLDER / "claims.csv"
"""The record of every claim's value over seeds and machines, written by ``benchmarks/claims.py``
to ``benchmarks/results/claims.csv`` and shipped with the package."""


class ClaimWarning(UserWarning):
    """A chapter's claim did not hold in this run (shown in a reader's notebook)."""


def mode():
    """``"strict"``, ``"record"`` or ``"warn"`` (the default), from ``CROSSMODAL_CLAIMS``.

    Raises:
        ValueError: if the variable names another mode.
    """
    chosen = os.environ.get(MODE_VARIABLE, "warn")
    if chosen not in MODES:
        raise ValueError(f"{MODE_VARIABLE} must be one of {MODES}; got {chosen!r}")
    return chosen


def expect(claim, value, *, above=None, below=None, **context):
    """Check that ``value > above`` (or ``value < below``); return whether it held.

    Args:
        claim: what the chapter says, in a few words; unique within the book.
        value: the measured quantity, a real number.
        above, below: the threshold; give exactly one.
        **context: further values to show when the claim fails (the numbers it came from).

    Raises:
        AssertionError: if the claim fails in strict mode.
        ValueError: if not exactly one threshold is given, or the threshold is not finite.
        TypeError: if the value or the threshold is not a real number.

    A value of NaN fails the claim.
    """
    if (above is None) == (below is None):
        raise ValueError(f"expect({claim!r}): give exactly one of above= and below=")
    direction, threshold = (">", above) if above is not None else ("<", below)
    value, threshold = _real(claim, "value", value), _real(claim, "threshold", threshold)
    if not math.isfinite(threshold):
        raise ValueError(f"expect({claim!r}): the threshold must be finite, got {threshold}")
    holds = value > threshold if direction == ">" else value < threshold
    current = mode()
    log = os.environ.get(LOG_VARIABLE)
    if log:
        entry = {
            "claim": claim,
            "value": value,
            "threshold": threshold,
            "direction": direction,
            "holds": holds,
        }
        with open(log, "a") as handle:
            handle.write(json.dumps(entry) + "\n")
    if not holds:
        message = _failure_message(claim, value, direction, threshold, context)
        if current == "strict":
            raise AssertionError(message)
        if current == "warn":
            warnings.warn(message, ClaimWarning, stacklevel=2)
    return holds


def _real(claim, what, number):
    if isinstance(number, (str, bytes)):
        raise TypeError(f"expect({claim!r}): the {what} must be a real number, got {number!r}")
    try:
        return float(number)
    except (TypeError, ValueError):
        raise TypeError(
            f"expect({claim!r}): the {what} must be a real number, got {type(number).__name__}"
        ) from None


def recorded_range(claim, record=None):
    """The smallest and largest value recorded for ``claim``, and how many runs, or ``None``.

    ``None`` when the record has no such claim, or there is no record.

    Args:
        claim: the claim's text, as given to ``expect``.
        record: a CSV written by ``benchmarks/claims.py``; by default ``RECORD``.
    """
    path = pathlib.Path(RECORD if record is None else record)
    if not path.is_file():
        return None
    with path.open(newline="") as handle:
        values = [float(row["value"]) for row in csv.DictReader(handle) if row["claim"] == claim]
    return (min(values), max(values), len(values)) if values else None


def spread(claim, value):
    """The range of ``claim`` over the recorded runs and this run's ``value``, for the prose.

    Returns ``(low, high, runs)``: the smallest and largest value among the
    recorded ones and ``value``, and how many recorded runs there were (0 when
    the record has none, as on the first run of a new claim).
    """
    value = _real(claim, "value", value)
    span = recorded_range(claim)
    if span is None:
        return value, value, 0
    low, high, runs = span
    return min(low, value), max(high, value), runs


def _failure_message(claim, value, direction, threshold, context):
    lines = [
        f"The chapter claims: {claim}. In this run the value is {value:.4g}, "
        f"and the claim needs it {'above' if direction == '>' else 'below'} {threshold:.4g}."
    ]
    span = recorded_range(claim)
    if span is not None:
        low, high, runs = span
        lines.append(
            f"Over {runs} recorded runs (seeds and machines) it lay between "
            f"{low:.4g} and {high:.4g}."
        )
    if context:
        lines.append("Values: " + ", ".join(f"{k}={_short(v)}" for k, v in context.items()))
    return " ".join(lines)


def _short(value):
    text = repr(value)
    return text if len(text) <= 300 else text[:297] + "..."
