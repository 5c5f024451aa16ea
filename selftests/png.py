# SPDX-License-Identifier: GPL-2.0
"""
Reading the PNGs the tests make (run --plot's, the host browser's screenshots) without an
imaging library: the header, the image data inflated and checked for size, and, on the host,
the rows with their filters undone (RFC 2083, "Filter Algorithms").
"""
import struct
import zlib

from ktap import check


def png_image(path):
    """(width, height, bytes per pixel, inflated data) of an 8-bit RGB or RGBA PNG."""
    with open(path, "rb") as f:
        data = f.read()
    check(data[:8] == b"\x89PNG\r\n\x1a\n", "%s is not a PNG" % path)
    pos, idat, hdr = 8, b"", None
    while pos + 8 <= len(data):
        n, kind = struct.unpack(">I4s", data[pos:pos + 8])
        body = data[pos + 8:pos + 8 + n]
        if kind == b"IHDR":
            hdr = struct.unpack(">IIBBBBB", body)
        elif kind == b"IDAT":
            idat += body
        pos += 12 + n
    check(hdr, "%s has no IHDR" % path)
    w, h, depth, color = hdr[:4]
    check(depth == 8 and color in (2, 6), "%s: depth %d colour type %d" % (path, depth, color))
    bpp = 3 if color == 2 else 4
    raw = zlib.decompress(idat)
    check(len(raw) == h * (w * bpp + 1), "%s: %d bytes of image data for %dx%d" %
          (path, len(raw), w, h))
    return w, h, bpp, raw


def png_rows(path):
    """(width, height, bytes per pixel, rows of pixel bytes) with the filters undone."""
    w, h, bpp, raw = png_image(path)
    rows, prev, stride = [], bytearray(w * bpp), w * bpp + 1
    for y in range(h):
        ft, line = raw[y * stride], bytearray(raw[y * stride + 1:(y + 1) * stride])
        for x in range(len(line)):
            a = line[x - bpp] if x >= bpp else 0
            b = prev[x]
            c = prev[x - bpp] if x >= bpp else 0
            if ft == 1:
                line[x] = (line[x] + a) & 255
            elif ft == 2:
                line[x] = (line[x] + b) & 255
            elif ft == 3:
                line[x] = (line[x] + (a + b) // 2) & 255
            elif ft == 4:
                pa, pb, pc = abs(b - c), abs(a - c), abs(a + b - 2 * c)
                line[x] = (line[x] + (a if pa <= pb and pa <= pc else b if pb <= pc else c)) & 255
        rows.append(bytes(line))
        prev = line
    return w, h, bpp, rows
