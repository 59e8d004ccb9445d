"""Byte level: decode the GS v 0 raster images from the real ESC/POS bytes
python-escpos produced and compare them pixel by pixel with the render."""

from __future__ import annotations

import pytest
from PIL import Image, ImageChops

from printer.connections import VirtualPrinter, parse_spec
from printer.escpos_out import FRAGMENT_HEIGHT, INIT, decode_raster, encode, encode_escpos, raster_bands
from printer.layout import TicketData, ticket_layout
from printer.render import render

T = TicketData(
    "Trung tâm Phục vụ hành chính công xã Ngọc Long",
    "A042",
    "Đất đai – Xây dựng – Môi trường",
    1_764_000_000_000,
    "http://localhost:8000/t/q1w2e3r4t5y6",
    7,
    35,
    "Cảm ơn quý công dân.",
)


def _parse_gs_v0(data: bytes) -> Image.Image:
    """An independent, byte-by-byte reading of GS v 0 (1D 76 30 m xL xH yL yH d1..dk)."""
    rows: list[list[int]] = []
    width = None
    i = 0
    while i < len(data):
        if data[i : i + 3] == b"\x1d\x76\x30":
            m = data[i + 3]
            assert m == 0, "normal density expected"
            xb = data[i + 4] | data[i + 5] << 8
            h = data[i + 6] | data[i + 7] << 8
            width = xb * 8 if width is None else width
            assert xb * 8 == width
            p = i + 8
            for _ in range(h):
                row = []
                for byte in data[p : p + xb]:
                    row += [(byte >> (7 - k)) & 1 for k in range(8)]
                rows.append(row)
                p += xb
            i = p
        else:
            i += 1
    img = Image.new("1", (width, len(rows)), 1)
    px = img.load()
    for y, row in enumerate(rows):
        for x, dot in enumerate(row):
            if dot:
                px[x, y] = 0
    return img


@pytest.mark.parametrize("mm,width", [(58, 384), (80, 576)])
def test_raster_bytes_decode_to_the_rendered_image(mm, width):
    img = render(ticket_layout(T, mm))
    data = encode(img)
    assert data.startswith(INIT)
    decoded = _parse_gs_v0(data)
    assert decoded.size == img.size == (width, img.height)
    assert ImageChops.difference(decoded.convert("L"), img.convert("L")).getbbox() is None
    # the library decoder used by tools agrees with the independent one
    assert decode_raster(data).tobytes() == decoded.tobytes()
    # bands: all full width, none taller than the fragment height
    bands = raster_bands(data)
    assert all(b.width_bytes == width // 8 and b.height <= FRAGMENT_HEIGHT for b in bands)
    assert sum(b.height for b in bands) == img.height


@pytest.mark.parametrize("mm", [58, 80])
def test_packed_raster_is_byte_for_byte_python_escpos(mm):
    """encode packs the raster itself; python-escpos's image() must give the
    very same bytes, for real tickets of every shape and around band edges."""
    from dataclasses import replace

    tickets = [
        T,
        replace(T, priority=True, reprint=True, lang="en"),
        replace(T, come_back="Vui lòng quay lại lúc khoảng 10:40", footer="", eta_range=(5, 15)),
        replace(T, track_url="http://192.168.1.20:8000/t/" + "x" * 120, number="WWWW9999"),
    ]
    for t in tickets:
        img = render(ticket_layout(t, mm))
        assert img.height > FRAGMENT_HEIGHT  # more than one band
        assert encode(img) == encode_escpos(img)
        assert encode(img, cut=False) == encode_escpos(img, cut=False)
    width = 384 if mm == 58 else 576
    for h in (1, FRAGMENT_HEIGHT - 1, FRAGMENT_HEIGHT, FRAGMENT_HEIGHT + 1, 2 * FRAGMENT_HEIGHT + 7):
        img = Image.new("1", (width, h), 1)
        img.putpixel((0, 0), 0)
        img.putpixel((width - 1, h - 1), 0)
        assert encode(img) == encode_escpos(img)


@pytest.mark.parametrize("mm", [58, 80])
def test_ticket_ends_with_feed_and_cut(mm):
    data = encode(render(ticket_layout(T, mm)))
    last = raster_bands(data)[-1]
    tail = data[last.offset + 8 + last.width_bytes * last.height :]
    assert tail == b"\x1bd\x06" + b"\x1dV\x00"  # ESC d 6 (feed), GS V 0 (full cut)
    assert data.count(b"\x1dV") == 1


def test_no_text_bytes_are_sent():
    """Vietnamese goes only as pixels: no code-page text commands."""
    data = encode(render(ticket_layout(T, 80)))
    cmds = data
    for b in raster_bands(data):
        cmds = cmds.replace(data[b.offset : b.offset + 8 + len(b.data)], b"")
    assert cmds == INIT + b"\x1bd\x06\x1dV\x00"


def test_virtual_printer_writes_exact_bytes_and_png(tmp_path):
    img = render(ticket_layout(T, 58))
    data = encode(img)
    vp = VirtualPrinter(parse_spec(f"virtual:{tmp_path}"))
    assert not vp.printed("abc")
    vp.send("abc", data, img)
    assert (tmp_path / "abc.bin").read_bytes() == data
    png = Image.open(tmp_path / "abc.png").convert("1")
    assert png.tobytes() == _parse_gs_v0(data).tobytes()
    assert vp.printed("abc")
    assert vp.status() == "online"
    vp.send("abc.r1", data, img)  # a reprint's job id keeps its own files
    assert (tmp_path / "abc.r1.bin").read_bytes() == data and (tmp_path / "abc.r1.png").exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["abc.bin", "abc.png", "abc.r1.bin", "abc.r1.png"]


@pytest.mark.parametrize(
    "spec,kind,target,option",
    [
        ("virtual:var/tickets", "virtual", "var/tickets", ""),
        ("usb:0416:5011", "usb", "0416", "5011"),
        ("network:192.168.1.50", "network", "192.168.1.50", "9100"),
        ("network:printer.local:9101", "network", "printer.local", "9101"),
        ("serial:/dev/ttyUSB0", "serial", "/dev/ttyUSB0", "9600"),
        ("serial:/dev/ttyS1:19200", "serial", "/dev/ttyS1", "19200"),
        ("file:/dev/usb/lp0", "file", "/dev/usb/lp0", ""),
        ("cups:TM-T20", "cups", "TM-T20", ""),
    ],
)
def test_printer_specs(spec, kind, target, option):
    s = parse_spec(spec)
    assert (s.kind, s.target, s.option) == (kind, target, option)


@pytest.mark.parametrize("bad", ["", "lpt:1", "usb:zz:1", "usb:0416", "network:", "network:h:port"])
def test_bad_printer_specs(bad):
    with pytest.raises(ValueError):
        parse_spec(bad)


def test_file_printer_receives_the_same_bytes(tmp_path):
    from printer.connections import open_printer

    dev = tmp_path / "lp0"
    dev.write_bytes(b"")
    data = encode(render(ticket_layout(T, 58)))
    open_printer(f"file:{dev}").send("job", data)
    assert dev.read_bytes() == data


def test_unreachable_network_printer_raises_printer_error():
    from printer.connections import PrinterError, open_printer
    from queue_server.redis_server import free_port

    p = open_printer(f"network:127.0.0.1:{free_port()}")
    assert p.status() == "offline"
    with pytest.raises(PrinterError) as e:
        p.send("job", b"\x1b@")
    assert e.value.status == "offline"


@pytest.mark.parametrize(
    "spec",
    ["usb:0416:5011", "serial:/dev/motcua-no-such-tty:9600", "cups:motcua-no-such-queue", "file:/nonexistent-dir/lp0"],
)
def test_absent_printers_are_offline_and_fail_cleanly(spec):
    from printer.connections import PrinterError, open_printer

    p = open_printer(spec)
    assert p.status() == "offline"
    with pytest.raises(PrinterError):
        p.send("job", b"\x1b@")
