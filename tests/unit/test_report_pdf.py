"""The period report PDF (issue #11): rendered from a realistic summary, read
back by real readers (poppler's pdftotext and pdffonts) and turned into a PNG
with pdftoppm (tests/artifacts/report_page1.png, looked at; a copy is kept in
tests/screenshots/)."""

from __future__ import annotations

import copy
import datetime as dt
import re
import shutil
import subprocess
import unicodedata
from pathlib import Path

import pytest
from PIL import Image

from queue_server.reporting.pdf import date_line, fmt_int, fmt_minutes, fmt_share, render_report_pdf
from tests.unit.report_fixture import DEFINITIONS, SUMMARY

ARTIFACTS = Path(__file__).resolve().parent.parent / "artifacts"
BODY = "UBND XÃ NGỌC LONG\nTRUNG TÂM PHỤC VỤ HÀNH CHÍNH CÔNG"
TITLE = "Tình hình tiếp nhận và phục vụ công dân tại Trung tâm Phục vụ hành chính công, Quý IV năm 2026"


def _need(tool: str) -> str:
    path = shutil.which(tool)
    if path is None:  # a failure, not a skip: `motcua test` installs poppler-utils
        pytest.fail(f"{tool} is missing: apt-get install poppler-utils (motcua test does it as root)")
    return path


def _render(summary: dict | None = None, **kw: object) -> bytes:
    args: dict = dict(
        body=BODY,
        place="Ngọc Long",
        title=TITLE,
        period_label="(Từ ngày 01/10/2026 đến ngày 31/12/2026)",
        definitions=DEFINITIONS,
        issued_on=dt.date(2026, 12, 1),
    )
    args.update(kw)
    return render_report_pdf(SUMMARY if summary is None else summary, **args)


def _text(pdf: bytes, tmp_path: Path, name: str = "report.pdf") -> str:
    path = tmp_path / name
    path.write_bytes(pdf)
    out = subprocess.run([_need("pdftotext"), "-enc", "UTF-8", str(path), "-"], capture_output=True, check=True)
    return unicodedata.normalize("NFC", out.stdout.decode("utf-8"))


def _flat(text: str) -> str:
    return re.sub(r"\s+", " ", text)


@pytest.fixture(scope="module")
def report_pdf() -> bytes:
    pdf = _render()
    ARTIFACTS.mkdir(exist_ok=True)
    (ARTIFACTS / "report.pdf").write_bytes(pdf)
    return pdf


def test_pdftotext_finds_the_header_title_figures_and_diacritics(report_pdf, tmp_path):
    text = _text(report_pdf, tmp_path)
    lines = {line.strip() for line in text.splitlines()}
    # the national header, the issuing body, place and date, exactly as set
    for line in (
        "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM",
        "Độc lập - Tự do - Hạnh phúc",
        "UBND XÃ NGỌC LONG",
        "TRUNG TÂM PHỤC VỤ HÀNH CHÍNH CÔNG",
        "Ngọc Long, ngày 01 tháng 12 năm 2026",
        "BÁO CÁO",
        "Người lập biểu",
        "GIÁM ĐỐC",
    ):
        assert line in lines, line
    flat = _flat(text)
    assert TITLE in flat  # wrapped over two lines, the words and their order intact
    assert "Số: /BC" in flat  # the number, left blank to be written in
    # figures, the Vietnamese way, each where it belongs
    totals = SUMMARY["totals"]
    assert "Số phiếu đã cấp (lượt công dân đến) 5.081" in flat
    assert f"Số lượt đã được phục vụ xong {fmt_int(totals['served'])}" in flat
    assert "Thời gian chờ trung bình (phút) 8,3" in flat  # 497.6 s
    assert "Thời gian chờ dài nhất (phút) 91,3" in flat  # 5480 s
    assert "Tỷ lệ được phục vụ trong thời gian chờ chuẩn 85,2%" in flat
    assert "Hộ tịch 1.712 1.650 8,5 18,4 84,1%" in flat
    assert "Trên 60 phút 31 0,6%" in flat
    assert "5 - Rất hài lòng 935 42,2%" in flat
    # every category's name, with its diacritics and dashes
    for cat in SUMMARY["by_category"]:
        assert cat["name"] in flat
    assert "Đất đai – Xây dựng – Môi trường" in flat
    assert "Quầy 3 1.010 7,6 8,8 83,8%" in flat  # by counter: served, service, wait, service level
    assert "1 nguyenvana 1.650 6,8 5,8" in flat  # by clerk: served, mean and median service
    # the definitions are printed
    assert "nội suy tuyến tính" in flat


def test_the_chart_labels_every_hour_with_its_mean_wait(report_pdf, tmp_path):
    flat = _flat(_text(report_pdf, tmp_path))
    assert "V. THỜI GIAN CHỜ TRUNG BÌNH THEO GIỜ TRONG NGÀY" in flat
    for h in SUMMARY["by_hour"]:
        assert f"{h['hour']}h" in flat
        assert fmt_minutes(h["wait_s"]["mean"]) in flat


def test_the_chart_draws_one_bar_per_hour(report_pdf, tmp_path):
    """The bars are drawn shapes in the bar colour: on the rendered page, the
    columns holding that colour form one run per hour with a wait."""
    path = tmp_path / "report.pdf"
    path.write_bytes(report_pdf)
    subprocess.run([_need("pdftoppm"), "-png", "-r", "60", str(path), str(tmp_path / "p")], check=True)
    best: list[int] = []
    for page in sorted(tmp_path.glob("p-*.png")):
        with Image.open(page) as im:
            rgb = im.convert("RGB")
            w, h = rgb.size
            px = rgb.load()
            cols = [x for x in range(w) if sum(1 for y in range(h) if _is_bar(px[x, y])) >= 3]
        if len(cols) > len(best):
            best = cols
    runs = 1 + sum(1 for a, b in zip(best, best[1:], strict=False) if b != a + 1) if best else 0
    assert runs == len(SUMMARY["by_hour"])


def _is_bar(rgb: tuple[int, int, int]) -> bool:
    r, g, b = rgb
    return abs(r - 37) < 25 and abs(g - 99) < 25 and abs(b - 160) < 25


def test_the_fonts_are_embedded_subsets_with_a_unicode_map(report_pdf, tmp_path):
    path = tmp_path / "report.pdf"
    path.write_bytes(report_pdf)
    out = subprocess.run([_need("pdffonts"), str(path)], capture_output=True, check=True, text=True).stdout
    rows = [line.split() for line in out.splitlines()[2:] if line.strip()]
    assert len(rows) >= 3  # regular, bold, italic
    for row in rows:
        name, emb, sub, uni = row[0], row[-5], row[-4], row[-3]
        assert "CrimsonText" in name
        assert (emb, sub, uni) == ("yes", "yes", "yes"), row


def test_page_one_as_png(report_pdf, tmp_path):
    ARTIFACTS.mkdir(exist_ok=True)
    path = tmp_path / "report.pdf"
    path.write_bytes(report_pdf)
    prefix = ARTIFACTS / "report_page"
    subprocess.run([_need("pdftoppm"), "-png", "-r", "80", "-f", "1", "-l", "1", str(path), str(prefix)], check=True)
    made = sorted(ARTIFACTS.glob("report_page-*1.png"))
    assert made, "pdftoppm wrote no page"
    png = ARTIFACTS / "report_page1.png"
    made[0].replace(png)
    with Image.open(png) as im:
        w, h = im.size
        assert abs(w - 661) <= 1 and abs(h - 935) <= 1  # A4 portrait at 80 dpi
        gray = im.convert("L")
        dark = sum(gray.histogram()[:128])
    assert dark > 10_000  # text and table rules, not an empty page


def test_numbers_are_written_the_vietnamese_way():
    assert fmt_int(1234567) == "1.234.567"
    assert fmt_int(0) == "0"
    assert fmt_minutes(750) == "12,5"
    assert fmt_minutes(0) == "0,0"
    assert fmt_minutes(90_000) == "1.500,0"
    assert fmt_share(0.875) == "87,5%"
    assert fmt_share(1) == "100,0%"
    for empty in (None, "x", True):
        assert fmt_int(empty) == fmt_minutes(empty) == fmt_share(empty) == "–"


def test_the_date_line_follows_decree_30():
    assert date_line("Ngọc Long", dt.date(2026, 12, 1)) == "Ngọc Long, ngày 01 tháng 12 năm 2026"
    assert date_line("Ngọc Long", dt.date(2027, 2, 9)) == "Ngọc Long, ngày 09 tháng 02 năm 2027"
    assert date_line("Hà Nội", dt.date(2027, 3, 15)) == "Hà Nội, ngày 15 tháng 3 năm 2027"


def test_an_empty_period_renders_with_dashes(tmp_path):
    empty = {
        "from": "2026-12-01",
        "to": "2026-12-01",
        "totals": {"issued": 0, "served": 0, "no_show": 0, "expired": 0, "transferred": 0},
        "wait_s": {"mean": None, "median": None, "p90": None, "max": None},
        "service_s": {"mean": None, "median": None, "p90": None, "max": None},
        "service_level": None,
        "wait_buckets": {"0-5": 0, "5-15": 0, "15-30": 0, "30-60": 0, "60+": 0},
        "ratings": {"count": 0, "by_level": {}, "satisfied_share": None},
        "by_category": [],
        "by_counter": [],
        "by_clerk": [],
        "by_hour": [],
        "appointments": {},
    }
    flat = _flat(_text(_render(empty, title="Tình hình ngày 01/12/2026", signer_title="Phó Giám đốc"), tmp_path))
    assert "Thời gian chờ trung bình (phút) –" in flat
    assert "Số phiếu đã cấp (lượt công dân đến) 0" in flat
    assert "PHÓ GIÁM ĐỐC" in flat
    assert "Người lập biểu" in flat


def test_a_long_report_keeps_the_signature_with_text_and_numbers_pages(tmp_path):
    summary = copy.deepcopy(SUMMARY)
    cat = summary["by_category"][0]
    summary["by_category"] = [dict(cat, name=f"Lĩnh vực thử số {i}") for i in range(40)]
    pdf = _render(summary)
    path = tmp_path / "long.pdf"
    path.write_bytes(pdf)
    pages = int(re.search(rb"/Count (\d+)", pdf).group(1))
    assert pages >= 3
    last = subprocess.run(
        [_need("pdftotext"), "-enc", "UTF-8", "-f", str(pages), "-l", str(pages), str(path), "-"],
        capture_output=True,
        check=True,
    ).stdout.decode()
    last = unicodedata.normalize("NFC", last)
    assert "Người lập biểu" in last
    assert "CÁCH TÍNH CÁC CHỈ TIÊU" in last  # the definitions go with the signature
    assert str(pages) in last.splitlines()[0]  # the page number at the top (from page 2)
