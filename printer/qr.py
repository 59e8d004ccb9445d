"""The QR matrix that ``qrcode`` makes (error correction M, best mask), with
its mask choice done on whole-matrix integers instead of eight Python
matrices.

``QRCode.make()`` lays out the data nine times: once per mask to score it
(`qrcode.util.lost_point`), then once more with the winner. Only the data
modules differ between masks, and by a pattern that depends on the version
alone, so here the data is laid out once (mask 0, as qrcode scores it) and
the other seven scored candidates and the final matrix are that one XOR a
per-version difference, learnt from qrcode itself the first time a version
is seen. The score is qrcode's own (its four penalty rules, ties to the
lower mask), computed with int bit operations and regular expressions.
tests/unit/test_qr_matrix.py checks matrix and mask against ``make()``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import qrcode
from qrcode.constants import ERROR_CORRECT_M

_RUN = re.compile(r"0{5,}|1{5,}")  # rule 1: a run of 5 or more of one colour
_FINDER = re.compile(r"(?=10111010000|00001011101)")  # rule 3, overlapping


@dataclass(frozen=True)
class QRMatrix:
    size: int  # modules a side
    bits: str  # size*size "0"/"1", row after row, "1" = dark
    mask: int


def _bits(modules) -> int:
    return int("".join(["1" if cell else "0" for row in modules for cell in row]), 2)


@dataclass(frozen=True)
class _Version:
    """What the masks change for one version: `scored[k]` turns the mask-0
    scoring matrix into mask k's, `final[k]` into mask k's printed matrix."""

    scored: tuple[int, ...]
    final: tuple[int, ...]
    valid_2x2: int  # a bit at every module that is the bottom-right of a 2x2 block


_VERSIONS: dict[int, _Version] = {}


def _learn(q: qrcode.QRCode, n: int, base: int) -> _Version:
    scored, final = [], []
    for k in range(8):
        q.makeImpl(True, k)
        test_k = _bits(q.modules)
        q.makeImpl(False, k)
        scored.append(test_k ^ base)
        final.append(_bits(q.modules) ^ base)
    valid = 0
    for r in range(1, n):
        for c in range(1, n):
            valid |= 1 << (n * n - 1 - (r * n + c))
    return _Version(tuple(scored), tuple(final), valid)


def lost_point(m: int, n: int, valid_2x2: int) -> int:
    """qrcode.util.lost_point of the n*n matrix whose row-major bits (first
    module = most significant bit, 1 = dark) are `m`."""
    s = format(m, f"0{n * n}b")
    lines = "2".join([s[i : i + n] for i in range(0, n * n, n)] + [s[c::n] for c in range(n)])
    points = sum(len(run) - 2 for run in _RUN.findall(lines))  # rule 1
    # rule 2: 2x2 blocks of one colour, 3 each. At the bottom-right module of
    # each block: the two vertical pairs and the top horizontal pair agree.
    vertical = m ^ (m >> n)
    horizontal = m ^ (m >> 1)
    differs = vertical | (vertical >> 1) | (horizontal >> n)
    points += 3 * (valid_2x2 & ~differs).bit_count()
    points += 40 * len(_FINDER.findall(lines))  # rule 3
    percent = float(m.bit_count()) / (n**2)  # rule 4, as qrcode computes it
    points += int(abs(percent * 100 - 50) / 5) * 10
    return points


def qr_matrix(data: str) -> QRMatrix:
    """The matrix (no border) of ``QRCode(error_correction=M, border=0)``
    after ``add_data(data)`` and ``make(fit=True)``."""
    q = qrcode.QRCode(error_correction=ERROR_CORRECT_M, border=0)
    q.add_data(data)
    q.best_fit(start=q.version)  # what make(fit=True) does first
    q.makeImpl(True, 0)  # lays the data out once (and caches the codewords)
    n = q.modules_count
    base = _bits(q.modules)
    v = _VERSIONS.get(q.version)
    if v is None:
        v = _VERSIONS[q.version] = _learn(q, n, base)
    best, best_points = 0, 0
    for k in range(8):
        points = lost_point(base ^ v.scored[k], n, v.valid_2x2)
        if k == 0 or best_points > points:
            best, best_points = k, points
    return QRMatrix(n, format(base ^ v.final[best], f"0{n * n}b"), best)
