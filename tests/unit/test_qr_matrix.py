"""printer.qr gives the very matrix qrcode's own make() gives (same version,
same best mask, same modules), and its mask score is qrcode's lost_point."""

from __future__ import annotations

import random
import string

import pytest
import qrcode
from qrcode import util

from printer.qr import _bits, lost_point, qr_matrix
from printer.render import qr_image

ALPHABET = string.ascii_letters + string.digits + "-_/:.?=&%ạđưƠ "


def _samples() -> list[str]:
    rnd = random.Random(14)
    out = ["x", "A000", "http://localhost:8000/t/Abc-123_xyzXYZ0", "HTTPS://QR.EXAMPLE/T/0123456789"]
    for i in range(40):
        n = rnd.choice([1, 3, 12, 25, 40, 55, 80, 120])
        s = "".join(rnd.choice(ALPHABET) for _ in range(n))
        out.append(f"http://192.168.1.{i}:8000/t/{s}" if i % 2 else s)
    out += [str(rnd.randrange(10**30)) for _ in range(4)]  # numeric mode
    return out


def _qrcode_make(data: str) -> tuple[list[list[bool]], int, int]:
    q = qrcode.QRCode(error_correction=qrcode.constants.ERROR_CORRECT_M, border=0)
    q.add_data(data)
    q.make(fit=True)
    matrix = [list(row) for row in q.get_matrix()]
    return matrix, q.version, q.best_mask_pattern()


def test_same_matrix_and_mask_as_qrcode():
    masks, versions = set(), set()
    for data in _samples():
        matrix, version, mask = _qrcode_make(data)
        m = qr_matrix(data)
        assert m.size == len(matrix) == version * 4 + 17
        assert m.bits == "".join("1" if cell else "0" for row in matrix for cell in row), data
        assert m.mask == mask, data
        masks.add(mask)
        versions.add(version)
    # the samples reach every mask and the versions with a version block (>= 7)
    assert masks == set(range(8))
    assert min(versions) == 1 and max(versions) >= 7


def test_a_tie_goes_to_the_lower_mask_as_in_qrcode():
    # masks 1 and 2 score the same (and best) for this URL; qrcode keeps 1
    data = "http://localhost:8000/t/00310"
    q = qrcode.QRCode(error_correction=qrcode.constants.ERROR_CORRECT_M, border=0)
    q.add_data(data)
    q.make(fit=True)
    points = []
    for k in range(8):
        q.makeImpl(True, k)
        points.append(util.lost_point(q.modules))
    assert points[1] == points[2] == min(points) and points.count(min(points)) == 2
    assert qr_matrix(data).mask == 1 == _qrcode_make(data)[2]


def _random_matrix(rnd: random.Random, n: int, p: float) -> list[list[bool]]:
    return [[rnd.random() < p for _ in range(n)] for _ in range(n)]


@pytest.mark.parametrize("n", [21, 25, 33, 45])
def test_lost_point_is_qrcode_lost_point(n):
    rnd = random.Random(n)
    valid = 0
    for r in range(1, n):
        for c in range(1, n):
            valid |= 1 << (n * n - 1 - (r * n + c))
    cases = [_random_matrix(rnd, n, p) for p in (0.05, 0.3, 0.5, 0.5, 0.7, 0.95)]
    cases.append([[True] * n for _ in range(n)])
    cases.append([[(r // 2 + c) % 3 == 0 for c in range(n)] for r in range(n)])
    # the finder-like 1:1:3:1:1 patterns rule 3 looks for, in rows and columns
    row = [bool(int(b)) for b in ("0000101110100001011101" * 3)[:n]]
    cases.append([row[:] if r % 3 else [False] * n for r in range(n)])
    cases.append([[row[r]] * n for r in range(n)])
    for m in cases:
        assert lost_point(_bits(m), n, valid) == util.lost_point(m)


def test_qr_image_draws_the_matrix():
    data = "http://localhost:8000/t/q1w2e3r4t5y6"
    m = qr_matrix(data)
    img = qr_image(data, 300)
    module = img.info["module"]
    assert img.mode == "1" and img.size == (m.size * module,) * 2 and module == 300 // m.size
    for r in range(m.size):
        for c in range(m.size):
            dark = img.getpixel((c * module + module // 2, r * module + module // 2)) == 0
            assert dark == (m.bits[r * m.size + c] == "1")
