#!/usr/bin/env python3
"""pngcheck.py - does a screenshot really show the charts?

Decodes a PNG with the standard library only (zlib, struct) and counts,
per colour, the pixels of exactly that colour (within +-2 per channel, for
any colour management). Pixels of one colour are grouped into vertical
regions (runs of rows containing it, split by gaps of GAP rows or more):
a chart drawn in that colour is one such region of at least MIN pixels.
A legend swatch alone (12 x 12) stays far below MIN, so a page whose SVG
failed to render fails even though its legends or captions show.

usage: pngcheck.py FILE.png COLOUR:CHARTS[:MIN] ...
  COLOUR  #rrggbb (the fixed series colours of cli/html.c)
  CHARTS  how many chart regions of that colour must be present
  MIN     pixels a region needs to count as a chart (default 400)
Exit 0 when every colour has its charts, 1 otherwise (counts printed).
"""
import struct
import sys
import zlib

GAP = 30


def read_png(path):
    with open(path, "rb") as f:
        data = f.read()
    if data[:8] != b"\x89PNG\r\n\x1a\n":
        raise ValueError("not a PNG file")
    pos, idat, ihdr = 8, [], None
    while pos < len(data):
        (length,) = struct.unpack(">I", data[pos:pos + 4])
        kind = data[pos + 4:pos + 8]
        body = data[pos + 8:pos + 8 + length]
        pos += 12 + length
        if kind == b"IHDR":
            ihdr = struct.unpack(">IIBBBBB", body)
        elif kind == b"IDAT":
            idat.append(body)
        elif kind == b"IEND":
            break
    if ihdr is None:
        raise ValueError("no IHDR chunk")
    width, height, depth, ctype, _, _, interlace = ihdr
    if depth != 8 or ctype not in (2, 6) or interlace != 0:
        raise ValueError("unsupported PNG: depth %d colour type %d interlace %d" % (depth, ctype, interlace))
    bpp = 3 if ctype == 2 else 4
    raw = zlib.decompress(b"".join(idat))
    stride = width * bpp
    rows, prev, off = [], bytearray(stride), 0
    for _ in range(height):
        ftype = raw[off]
        line = bytearray(raw[off + 1:off + 1 + stride])
        off += 1 + stride
        unfilter(ftype, line, prev, bpp)
        rows.append(line)
        prev = line
    return width, height, bpp, rows


def unfilter(ftype, line, prev, bpp):
    n = len(line)
    if ftype == 0:
        return
    if ftype == 1:
        for i in range(bpp, n):
            line[i] = (line[i] + line[i - bpp]) & 0xFF
    elif ftype == 2:
        for i in range(n):
            line[i] = (line[i] + prev[i]) & 0xFF
    elif ftype == 3:
        for i in range(n):
            left = line[i - bpp] if i >= bpp else 0
            line[i] = (line[i] + ((left + prev[i]) >> 1)) & 0xFF
    elif ftype == 4:
        for i in range(n):
            a = line[i - bpp] if i >= bpp else 0
            b = prev[i]
            c = prev[i - bpp] if i >= bpp else 0
            p = a + b - c
            pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
            pred = a if pa <= pb and pa <= pc else (b if pb <= pc else c)
            line[i] = (line[i] + pred) & 0xFF
    else:
        raise ValueError("bad filter type %d" % ftype)


def channel_table(value):
    """bytes.translate table: 1 for values within +-2 of value, else 0."""
    return bytes(1 if abs(v - value) <= 2 else 0 for v in range(256))


def row_count(line, bpp, tables):
    """Pixels of line matching all three channel tables, without a Python
    loop per pixel: each channel becomes a 0/1 byte string, the three are
    ANDed as big integers, and the set bits counted."""
    acc = -1
    for ch in range(3):
        mask = line[ch::bpp].translate(tables[ch])
        acc &= int.from_bytes(mask, "big")
        if not acc:
            return 0
    return bin(acc).count("1")


def regions(rows, bpp, rgb):
    """Pixel counts of each vertical region of rows holding colour rgb."""
    tables = [channel_table(v) for v in rgb]
    out, current, blank = [], 0, GAP
    for line in rows:
        count = row_count(bytes(line), bpp, tables)
        if count:
            if blank >= GAP and current:
                out.append(current)
                current = 0
            current += count
            blank = 0
        else:
            blank += 1
    if current:
        out.append(current)
    return out


def main(argv):
    if len(argv) < 3:
        print(__doc__.strip(), file=sys.stderr)
        return 2
    try:
        _, _, bpp, rows = read_png(argv[1])
    except (OSError, ValueError, zlib.error) as e:
        print("%s: %s" % (argv[1], e))
        return 1
    ok = True
    for spec in argv[2:]:
        parts = spec.split(":")
        colour, charts = parts[0], int(parts[1])
        minimum = int(parts[2]) if len(parts) > 2 else 400
        rgb = tuple(int(colour.lstrip("#")[i:i + 2], 16) for i in (0, 2, 4))
        found = regions(rows, bpp, rgb)
        big = [n for n in found if n >= minimum]
        verdict = "ok" if len(big) >= charts else "MISSING"
        print("%s: %s %d chart region(s) of >= %d px (want %d); regions %s" %
              (argv[1], colour, len(big), minimum, charts, found))
        if len(big) < charts:
            ok = False
            print("%s: %s: %s" % (argv[1], colour, verdict))
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv))
