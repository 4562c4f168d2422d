#!/usr/bin/env python3
"""pysigma: a second, independent decoder for `.sigma` streams (format version 5).

Written from FORMAT.md alone (no reference to the Rust sources), in pure Python with the
standard library only, to show that the document is enough to accept and reject exactly
what the reference decoder does. Speed is not a goal; every MUST of FORMAT.md is checked.

Usage:
    python3 tools/pysigma.py decode IN.sigma OUT     decode (OUT `-`: standard output)
    python3 tools/pysigma.py check IN.sigma ...      decode to nowhere, verify everything
    python3 tools/pysigma.py vectors tests/vectors   run the conformance vectors (EXPECTED)

Exit status 0 on success; 1 with a one-line error naming the byte offset of the first
problem (and the frame number inside a frame); 2 on a usage error; 3 if pysigma itself
failed (an exception other than a reject: a bug, reported as such).

`python3 tools/pysigma.py verdicts FILE...` prints one tab-separated line per file
(accept and the content's SHA-256 and size, or reject and the error) for test scripts.

As a module: `decode_bytes(data) -> bytes` raises `SigmaError` (attributes `offset`,
`frame`, `message`) for an invalid file.
"""

import hashlib
import os
import sys

__all__ = ["SigmaError", "decode_bytes", "crc32c", "crc32c_combine", "run_vectors"]

# ---------------------------------------------------------------------------------------
# Errors


class SigmaError(Exception):
    """An invalid stream: `offset` is the byte offset in the input of the first problem."""

    def __init__(self, offset, message, frame=None):
        self.offset = offset
        self.message = message
        self.frame = frame
        super().__init__(self.describe())

    def describe(self):
        where = "byte %d" % self.offset
        if self.frame is not None:
            where += " (frame %d)" % self.frame
        return "%s: %s" % (where, self.message)


# ---------------------------------------------------------------------------------------
# CRC32C (section 1): reflected polynomial 0x82F63B78, init and final XOR 0xFFFFFFFF.
# Table driven, slicing by 8.

_POLY = 0x82F63B78


def _make_tables():
    t0 = []
    for n in range(256):
        c = n
        for _ in range(8):
            c = (c >> 1) ^ _POLY if c & 1 else c >> 1
        t0.append(c)
    tables = [t0]
    for _ in range(7):
        prev = tables[-1]
        tables.append([(prev[n] >> 8) ^ t0[prev[n] & 0xFF] for n in range(256)])
    return tables


_T = _make_tables()


_T16 = []


def _tables16():
    # Pairs of the slicing-by-8 tables merged into 16-bit tables: four lookups per 8 bytes.
    if not _T16:
        t = _T
        for hi, lo in ((7, 6), (5, 4), (3, 2), (1, 0)):
            a, b = t[hi], t[lo]
            _T16.append([a[i & 0xFF] ^ b[i >> 8] for i in range(65536)])
    return _T16


def crc32c(data, crc=0):
    """CRC32C of `data`, continuing from the CRC `crc` of the bytes before it."""
    t0 = _T[0]
    c = crc ^ 0xFFFFFFFF
    mv = memoryview(data)
    n = len(mv)
    n8 = n - (n % 8)
    if n8 >= 4096:
        u3, u2, u1, u0 = _tables16()
        w_all = mv[:n8].cast("Q") if n8 else ()
        if sys.byteorder != "little":
            w_all = [int.from_bytes(mv[i:i + 8], "little") for i in range(0, n8, 8)]
        for w in w_all:
            w ^= c
            c = (u3[w & 0xFFFF] ^ u2[(w >> 16) & 0xFFFF] ^ u1[(w >> 32) & 0xFFFF]
                 ^ u0[w >> 48])
    elif n8:
        t1, t2, t3, t4, t5, t6, t7 = _T[1:]
        frombytes = int.from_bytes
        for i in range(0, n8, 8):
            w = frombytes(mv[i:i + 8], "little") ^ c
            c = (t7[w & 0xFF] ^ t6[(w >> 8) & 0xFF] ^ t5[(w >> 16) & 0xFF]
                 ^ t4[(w >> 24) & 0xFF] ^ t3[(w >> 32) & 0xFF] ^ t2[(w >> 40) & 0xFF]
                 ^ t1[(w >> 48) & 0xFF] ^ t0[w >> 56])
    for i in range(n8, n):
        c = t0[(c ^ mv[i]) & 0xFF] ^ (c >> 8)
    return c ^ 0xFFFFFFFF


def _multmodp(a, b):
    # a * b modulo the CRC polynomial (reflected bit order), as in zlib's crc32_combine.
    m = 1 << 31
    p = 0
    while True:
        if a & m:
            p ^= b
            if (a & (m - 1)) == 0:
                break
        m >>= 1
        b = (b >> 1) ^ _POLY if b & 1 else b >> 1
    return p


_X2N = [1 << 30]
for _k in range(1, 32):
    _X2N.append(_multmodp(_X2N[-1], _X2N[-1]))


def _x2nmodp(n, k):
    p = 1 << 31
    while n:
        if n & 1:
            p = _multmodp(_X2N[k & 31], p)
        n >>= 1
        k += 1
    return p


def crc32c_combine(crc1, crc2, len2):
    """crc(A || B) from crc(A), crc(B) and len(B)."""
    return _multmodp(_x2nmodp(len2, 3), crc1) ^ crc2


# ---------------------------------------------------------------------------------------
# Section 1: varints and limits

MIN_CHUNK = 4096
MAX_CHUNK = 64 << 20
MAX_OTHER_PAYLOAD = 65536
MAX_TRAILER_PAYLOAD = 39


def max_frame_payload(c):
    return c + c // 1024 + 64


def max_index_payload(n):
    return 80 * n + 14


def read_varint(buf, pos, end, what="varint"):
    """Unsigned LEB128 at buf[pos:end], shortest form, at most 10 bytes, fits in 64 bits.
    Returns (value, next position). Raises SigmaError with the varint's offset."""
    start = pos
    value = 0
    shift = 0
    for i in range(10):
        if pos >= end:
            raise SigmaError(start, "%s runs past the end of its field" % what)
        b = buf[pos]
        pos += 1
        value |= (b & 0x7F) << shift
        if b < 0x80:
            if b == 0 and i > 0:
                raise SigmaError(start, "%s longer than needed" % what)
            if i == 9 and b != 1:
                raise SigmaError(start, "%s does not fit in 64 bits" % what)
            return value, pos
        shift += 7
    raise SigmaError(start, "%s longer than 10 bytes" % what)


def _u32(buf, pos):
    return int.from_bytes(buf[pos:pos + 4], "little")


# ---------------------------------------------------------------------------------------
# Section 2: glyphs

PRIMITIVE, REFERENCE, DELTA, COMPOSITE = 0, 1, 2, 3
G_HEADER = (COMPOSITE, 0x7E)
G_META = (COMPOSITE, 0x7F)
G_FRAME = (COMPOSITE, 0x1D)
G_INDEX = (REFERENCE, 0x0A)
G_TRAILER = (PRIMITIVE, 0x04)
CONTAINER = {G_HEADER: "stream header", G_META: "metadata", G_FRAME: "frame",
             G_INDEX: "index", G_TRAILER: "trailer"}


class Glyph:
    __slots__ = ("start", "key", "has_payload", "length", "payload_start", "end")


def read_glyph_head(buf, pos):
    """Parses the head at `pos` (header byte, escaped id, payload length). The payload is
    not touched: callers check `length` against their limit first, then `need_payload`."""
    n = len(buf)
    g = Glyph()
    g.start = pos
    if pos >= n:
        raise SigmaError(pos, "stream ends where a glyph should start")
    hb = buf[pos]
    pos += 1
    gtype = hb >> 6
    gid = hb & 0x1F
    if gid == 31:
        if pos >= n:
            raise SigmaError(pos, "stream ends inside a glyph head (escaped id)")
        gid = buf[pos]
        if gid < 31:
            raise SigmaError(pos, "escaped id below 31 (%d)" % gid)
        pos += 1
    g.key = (gtype, gid)
    g.has_payload = bool(hb & 0x20)
    if g.has_payload:
        g.length, pos = read_varint(buf, pos, n, "glyph payload length")
    else:
        g.length = 0
    g.payload_start = pos
    g.end = pos + g.length
    if g.key in CONTAINER and not g.has_payload:
        raise SigmaError(g.start, "%s glyph without a payload" % CONTAINER[g.key])
    return g


def check_length(g, limit, what, low=0):
    if g.length > limit:
        raise SigmaError(g.start, "%s payload of %d bytes exceeds the limit of %d"
                         % (what, g.length, limit))
    if g.length < low:
        raise SigmaError(g.start, "%s payload of %d bytes is below %d" % (what, g.length, low))


def need_payload(buf, g, what):
    if g.end > len(buf):
        raise SigmaError(g.payload_start, "%s payload of %d bytes runs past the end of the "
                         "input (%d bytes left)" % (what, g.length, len(buf) - g.payload_start))


# ---------------------------------------------------------------------------------------
# Section 7: frame body


class BodyError(Exception):
    """A reject inside a frame body; `pos` is the offset within the body."""

    def __init__(self, pos, message):
        self.pos = pos
        self.message = message
        super().__init__(message)


class ForwardBits:
    """Forward bit stream (7.1) over body[start:end]; bits LSB first."""

    __slots__ = ("buf", "start", "end", "bit", "limit")

    def __init__(self, buf, start, end):
        self.buf = buf
        self.start = start
        self.end = end
        self.bit = start * 8
        self.limit = end * 8

    def read(self, n):
        if n == 0:
            return 0
        b = self.bit
        if b + n > self.limit:
            raise BodyError(b >> 3, "bit field runs past the end of the body")
        v = int.from_bytes(self.buf[b >> 3:(b + n + 7) >> 3], "little") >> (b & 7)
        self.bit = b + n
        return v & ((1 << n) - 1)

    def next_byte(self):
        return (self.bit + 7) >> 3


def canonical_codes(lengths, maxlen):
    """Validates a set of code lengths (7.1) and returns the canonical codes as a list of
    (symbol, length, code), or None if invalid (no symbol, over-subscribed, incomplete).
    A single used symbol is valid and is returned with length 0 (read without bits)."""
    used = [(l, s) for s, l in enumerate(lengths) if l]
    if not used:
        return None
    if len(used) == 1:
        return [(used[0][1], 0, 0)]
    if sum(1 << (maxlen - l) for l, _ in used) != 1 << maxlen:
        return None
    used.sort()
    out = []
    code = 0
    prev_len = used[0][0]
    first = True
    for l, s in used:
        if first:
            code = 0
            first = False
        else:
            code += 1
        if l != prev_len:
            code <<= (l - prev_len)
            prev_len = l
        out.append((s, l, code))
    return out


def _reverse(v, n):
    r = 0
    for _ in range(n):
        r = (r << 1) | (v & 1)
        v >>= 1
    return r


def build_lookup(codes, width):
    """Table of 2^width entries indexed by the next `width` stream bits (LSB = first bit):
    entry = symbol | (length << 8). Works because codes are sent MSB first, bit by bit."""
    tab = [0] * (1 << width)
    for s, l, c in codes:
        if l == 0:
            return None  # single symbol: no bits
        r = _reverse(c, l)
        for f in range(1 << (width - l)):
            tab[r | (f << l)] = s | (l << 8)
    return tab


class Prefix:
    """A canonical code for bit-by-bit reading from a ForwardBits (the pre-code)."""

    def __init__(self, codes, width):
        self.single = codes[0][0] if codes[0][1] == 0 else None
        self.tab = None if self.single is not None else build_lookup(codes, width)
        self.width = width

    def decode(self, br):
        if self.single is not None:
            return self.single
        # Peek up to `width` bits (zero beyond the end), then consume only the code.
        b = br.bit
        v = int.from_bytes(br.buf[b >> 3:(b + self.width + 7) >> 3], "little") >> (b & 7)
        e = self.tab[v & ((1 << self.width) - 1)]
        l = e >> 8
        if b + l > br.limit:
            raise BodyError(b >> 3, "Huffman description runs past the end of the body")
        br.bit = b + l
        return e & 0xFF


PRECODE_ORDER = [0, 13, 12, 8, 7, 9, 6, 5, 10, 4, 14, 11, 3, 2, 1]


class LiteralCode:
    def __init__(self, codes):
        if codes[0][1] == 0:
            self.single = codes[0][0]
            self.tab = None
        else:
            self.single = None
            tab = build_lookup(codes, 11)
            self.syms = bytes(e & 0xFF for e in tab)
            self.lens = [e >> 8 for e in tab]


def read_huffman_description(body, pos, end):
    """7.5.1. Returns (LiteralCode, next position)."""
    br = ForwardBits(body, pos, end)
    used = br.read(8) + 1
    sent = br.read(4)
    pre = [0] * 15
    for i in range(sent):
        pre[PRECODE_ORDER[i]] = br.read(3)
    pcodes = canonical_codes(pre, 7)
    if pcodes is None:
        raise BodyError(pos, "literal pre-code lengths do not form a valid code")
    precode = Prefix(pcodes, 7)
    lengths = []
    while len(lengths) < used:
        tpos = br.bit >> 3
        tok = precode.decode(br)
        if tok <= 11:
            lengths.append(tok)
        elif tok == 12:
            if not lengths:
                raise BodyError(tpos, "Huffman description repeats a length with none before")
            r = 3 + br.read(2)
            if len(lengths) + r > used:
                raise BodyError(tpos, "Huffman description gives more than %d lengths" % used)
            lengths.extend([lengths[-1]] * r)
        else:
            r = 3 + br.read(3) if tok == 13 else 11 + br.read(7)
            if len(lengths) + r > used:
                raise BodyError(tpos, "Huffman description gives more than %d lengths" % used)
            lengths.extend([0] * r)
    codes = canonical_codes(lengths, 11)
    if codes is None:
        raise BodyError(pos, "literal code lengths do not form a valid code")
    return LiteralCode(codes), br.next_byte()


def decode_literal_stream(code, body, start, length, count, out):
    """Decodes `count` literals from the forward stream body[start:start+length] into
    bytearray `out`. The stream must hold exactly these codes (7.3)."""
    if code.single is not None:
        used_bits = 0
        out.extend(bytes([code.single]) * count)
    else:
        s = bytes(body[start:start + length]) + b"\0" * 8
        syms = code.syms
        lens = code.lens
        frombytes = int.from_bytes
        acc = 0
        nbits = 0
        bp = 0
        res = bytearray(count)
        for i in range(count):
            if nbits < 11:
                acc |= frombytes(s[bp:bp + 7], "little") << nbits
                bp += 7
                nbits += 56
            idx = acc & 0x7FF
            res[i] = syms[idx]
            l = lens[idx]
            acc >>= l
            nbits -= l
        used_bits = bp * 8 - nbits
        out.extend(res)
    if used_bits > length * 8:
        raise BodyError(start, "literal stream of %d bytes ends before its last code" % length)
    if (used_bits + 7) >> 3 < length:
        raise BodyError(start, "literal stream of %d bytes has whole bytes left after its "
                        "last code" % length)


# 7.4.1: length codes -> (base value, extra bits)
def _length_code(c):
    if c < 16:
        return c, 0
    k = c - 16
    n = k // 2 + 4
    return (1 << n) + (k % 2) * (1 << (n - 1)), n - 1


LEN_BASE = [_length_code(c)[0] for c in range(64)]
LEN_EXTRA = [_length_code(c)[1] for c in range(64)]
# OF: codes 0-2 repeat (off 1-3), 3 invalid, c >= 4: distance as length code c - 3.
OF_BASE = [0] * 64
OF_EXTRA = [0] * 64
for _c in range(4, 64):
    OF_BASE[_c] = LEN_BASE[_c - 3]
    OF_EXTRA[_c] = LEN_EXTRA[_c - 3]

PREDEFINED_COUNTS = {
    "LL": [155, 114, 58, 32, 22, 17, 14, 10, 8, 7, 5, 5, 4, 3, 3, 2, 11, 4, 4, 2, 3]
    + [1] * 29 + [0] * 14,
    "ML": [24, 93, 67, 47, 35, 33, 24, 23, 18, 12, 10, 10, 20, 9, 7, 5, 32, 6, 4, 2, 2]
    + [1] * 29 + [0] * 14,
    "OF": [43, 11, 4, 0, 3] + [1] * 14
    + [7, 8, 13, 12, 18, 14, 30, 19, 27, 19, 30, 21, 31, 21, 26, 15, 17, 13, 18, 13, 17,
       11, 12, 4, 2] + [1] * 19 + [0],
}


class TansTable:
    __slots__ = ("log", "sym", "nb", "base")


def build_tans(counts, log):
    """7.4.3: spread and transitions. `counts` has 64 entries summing to 2^log."""
    size = 1 << log
    if size == 1:
        spread = [counts.index(1)]
    else:
        step = size // 2 + size // 8 + 3
        assert step % size, "log 1 and 3 are rejected before the spread"
        spread = [None] * size
        pos = 0
        for s in range(64):
            for _ in range(counts[s]):
                spread[pos] = s
                pos = (pos + step) % size
    t = TansTable()
    t.log = log
    t.sym = spread
    t.nb = [0] * size
    t.base = [0] * size
    nxt = list(counts)
    for state in range(size):
        s = spread[state]
        x = nxt[s]
        nxt[s] = x + 1
        nb = log - (x.bit_length() - 1)
        t.nb[state] = nb
        t.base[state] = (x << nb) - size
    return t


for _name, _counts in PREDEFINED_COUNTS.items():
    assert len(_counts) == 64 and sum(_counts) == 512, _name
PREDEFINED = {name: build_tans(c, 9) for name, c in PREDEFINED_COUNTS.items()}


def single_table(s):
    t = TansTable()
    t.log = 0
    t.sym = [s]
    t.nb = [0]
    t.base = [0]
    return t


def read_normalized_counts(br):
    """7.5.2."""
    start = br.bit >> 3
    log = br.read(4)
    if log > 9:
        raise BodyError(start, "table accuracy log %d above 9" % log)
    if log in (1, 3):
        raise BodyError(start, "table accuracy log %d (the spread step is a multiple of the "
                        "table size)" % log)
    used = br.read(6) + 1
    size = 1 << log
    counts = [0] * 64
    total = 0
    for s in range(used - 1):
        zeros = 0
        while True:
            if br.read(1):
                break
            zeros += 1
            if zeros > 10:
                raise BodyError(br.bit >> 3, "count code with more than 10 leading zeros")
        v = 1
        for _ in range(zeros):  # the bits below the leading 1, most significant first
            v = (v << 1) | br.read(1)
        c = v - 1
        total += c
        if total > size:
            raise BodyError(br.bit >> 3, "table counts exceed 2^%d" % log)
        counts[s] = c
    if total >= size:
        raise BodyError(br.bit >> 3, "last table symbol left with no state")
    counts[used - 1] = size - total
    return build_tans(counts, log)


class FrameState:
    def __init__(self):
        self.rep = [1, 4, 8]
        self.lit_code = None
        self.tables = [None, None, None]  # LL, ML, OF


def decode_body(body, raw_size, history=b""):
    """Decodes a method-1 body (section 7). `history` is the decoded content of the previous
    frame for a linked frame (section 5), else empty: copies may reach into it (7.4.5).
    Returns (bytes, counts) with counts = [PRIMITIVE, REFERENCE, DELTA, ITERATION, literal
    bytes]. Raises BodyError."""
    st = FrameState()
    # The frame is decoded after its history, so that a copy reaching before the frame's
    # start reads the end of the previous frame, and a distance is valid iff it is at most
    # len(out) (the frame's bytes so far plus the history's).
    out = bytearray(history)
    base = len(out)
    raw_end = base + raw_size
    counts = [0, 0, 0, 0, 0]
    pos = 0
    end = len(body)
    while len(out) < raw_end:
        if pos >= end:
            raise BodyError(pos, "body ends before the frame is complete (%d of %d bytes)"
                            % (len(out) - base, raw_size))
        bpos = pos
        kind = body[pos]
        pos += 1
        if kind > 1:
            raise BodyError(bpos, "block kind %d" % kind)
        try:
            raw_len, pos = read_varint(body, pos, end, "block raw length")
        except SigmaError as e:
            raise BodyError(e.offset, e.message)
        if raw_len == 0:
            raise BodyError(bpos, "block of raw length 0")
        if raw_len > 1 << 20:
            raise BodyError(bpos, "block raw length %d above 1 MiB" % raw_len)
        if raw_len > raw_end - len(out):
            raise BodyError(bpos, "block raw length %d above the %d bytes the frame lacks"
                            % (raw_len, raw_end - len(out)))
        if kind == 0:
            if pos + raw_len > end:
                raise BodyError(pos, "raw block runs past the end of the body")
            out += body[pos:pos + raw_len]
            pos += raw_len
            counts[0] += 1
            counts[4] += raw_len
            continue
        pos = decode_coded_block(body, pos, end, raw_len, bpos, st, out, base, counts)
    if pos != end:
        raise BodyError(pos, "%d bytes left in the body after the frame is complete"
                        % (end - pos))
    return (out[base:] if base else out), counts


def _vint(body, pos, end, what):
    try:
        return read_varint(body, pos, end, what)
    except SigmaError as e:
        raise BodyError(e.offset, e.message)


def decode_coded_block(body, pos, end, raw_len, bpos, st, out, base, counts):
    block_start = len(out)
    n_lits, pos = _vint(body, pos, end, "literal count")
    n_seqs, pos = _vint(body, pos, end, "sequence count")
    if n_lits > raw_len:
        raise BodyError(bpos, "%d literals in a block of %d bytes" % (n_lits, raw_len))
    if n_seqs > raw_len // 3:
        raise BodyError(bpos, "%d sequences in a block of %d bytes" % (n_seqs, raw_len))

    # 7.3 literal section
    lits = b""
    if n_lits > 0:
        lpos = pos
        if pos >= end:
            raise BodyError(pos, "body ends before the literal mode")
        mode = body[pos]
        pos += 1
        if mode == 0:
            if pos + n_lits > end:
                raise BodyError(pos, "raw literals run past the end of the body")
            lits = bytes(body[pos:pos + n_lits])
            pos += n_lits
        elif mode == 3:
            if pos >= end:
                raise BodyError(pos, "body ends before the literal byte")
            lits = bytes([body[pos]]) * n_lits
            pos += 1
        elif mode in (1, 2):
            if mode == 1:
                st.lit_code, pos = read_huffman_description(body, pos, end)
            elif st.lit_code is None:
                raise BodyError(lpos, "literal mode 2 (repeat) with no code in force")
            code = st.lit_code
            total, pos = _vint(body, pos, end, "literal streams length")
            if n_lits >= 1024:
                s1, pos = _vint(body, pos, end, "literal stream 1 length")
                s2, pos = _vint(body, pos, end, "literal stream 2 length")
                s3, pos = _vint(body, pos, end, "literal stream 3 length")
            if total > end - pos:
                raise BodyError(pos, "literal streams of %d bytes exceed the %d bytes left"
                                % (total, end - pos))
            buf = bytearray()
            if n_lits < 1024:
                decode_literal_stream(code, body, pos, total, n_lits, buf)
            else:
                if s1 + s2 + s3 > total:
                    raise BodyError(pos, "literal stream sizes exceed their total")
                seg = (n_lits + 3) // 4
                sizes = [s1, s2, s3, total - s1 - s2 - s3]
                ns = [seg, seg, seg, n_lits - 3 * seg]
                p = pos
                for k in range(4):
                    decode_literal_stream(code, body, p, sizes[k], ns[k], buf)
                    p += sizes[k]
            lits = bytes(buf)
            pos += total
        else:
            raise BodyError(lpos, "literal mode %d" % mode)

    # 7.4 sequence section
    li = 0  # literals used
    if n_seqs > 0:
        spos = pos
        if pos >= end:
            raise BodyError(pos, "body ends before the sequence modes")
        modes = body[pos]
        pos += 1
        if modes & 0xC0:
            raise BodyError(spos, "sequence modes byte with bits 6-7 set")
        ms = [modes & 3, (modes >> 2) & 3, (modes >> 4) & 3]
        names = ["LL", "ML", "OF"]
        tables = [None, None, None]
        if 1 in ms or 2 in ms:
            br = ForwardBits(body, pos, end)
            for a in range(3):
                if ms[a] == 1:
                    tables[a] = single_table(br.read(6))
                elif ms[a] == 2:
                    tables[a] = read_normalized_counts(br)
            pos = br.next_byte()
        for a in range(3):
            if ms[a] == 0:
                tables[a] = PREDEFINED[names[a]]
            elif ms[a] == 3:
                if st.tables[a] is None:
                    raise BodyError(spos, "%s table mode 3 (repeat) with none in force"
                                    % names[a])
                tables[a] = st.tables[a]
        st.tables = list(tables)
        slen, pos = _vint(body, pos, end, "sequence stream length")
        if slen > end - pos:
            raise BodyError(pos, "sequence stream of %d bytes exceeds the %d bytes left"
                            % (slen, end - pos))
        sstart = pos
        pos += slen
        li = execute_sequences(body, sstart, slen, n_seqs, tables, st, lits, out, base,
                               block_start, raw_len, counts)
    if li < n_lits:
        out += lits[li:]
        counts[0] += 1
    counts[4] += n_lits
    if len(out) - block_start != raw_len:
        raise BodyError(bpos, "block decodes to %d bytes, not its raw length %d"
                        % (len(out) - block_start, raw_len))
    return pos


def execute_sequences(body, sstart, slen, n_seqs, tables, st, lits, out, base, block_start,
                      raw_len, counts):
    """7.4.4 and 7.4.5. `out` holds the history (`base` bytes: the previous frame's for a
    linked frame, else none), then this frame's output. Returns the number of literals
    used."""
    if slen == 0:
        raise BodyError(sstart, "empty sequence stream")
    s = bytes(body[sstart:sstart + slen])
    last = s[-1]
    if last == 0:
        raise BodyError(sstart + slen - 1, "sequence stream whose last byte is zero")
    p = (slen - 1) * 8 + last.bit_length() - 1  # bits below the end marker
    frombytes = int.from_bytes

    def read(n):
        nonlocal p
        if n == 0:
            return 0
        q = p - n
        if q < 0:
            raise BodyError(sstart, "sequence stream runs out of bits")
        p = q
        return (frombytes(s[q >> 3:(q + n + 7) >> 3], "little") >> (q & 7)) & ((1 << n) - 1)

    ll_t, ml_t, of_t = tables
    ll_sym, ll_nb, ll_base = ll_t.sym, ll_t.nb, ll_t.base
    ml_sym, ml_nb, ml_base = ml_t.sym, ml_t.nb, ml_t.base
    of_sym, of_nb, of_base = of_t.sym, of_t.nb, of_t.base
    ll_state = read(ll_t.log)
    ml_state = read(ml_t.log)
    of_state = read(of_t.log)
    rep = st.rep
    li = 0
    n_lits = len(lits)
    block_end = block_start + raw_len
    for i in range(n_seqs):
        ofc = of_sym[of_state]
        mlc = ml_sym[ml_state]
        llc = ll_sym[ll_state]
        ofx = OF_EXTRA[ofc]
        mlx = LEN_EXTRA[mlc]
        llx = LEN_EXTRA[llc]
        more = i + 1 < n_seqs
        if more:
            snb = ll_nb[ll_state] + ml_nb[ml_state] + of_nb[of_state]
        else:
            snb = 0
        tot = ofx + mlx + llx + snb
        if tot:
            v = read(tot)
        else:
            v = 0
        # Fields come off the stream in order OF extra, ML extra, LL extra, LL, ML, OF
        # state: the first read are the highest bits of v.
        rem = tot
        rem -= ofx
        of_extra = (v >> rem) & ((1 << ofx) - 1)
        rem -= mlx
        ml_extra = (v >> rem) & ((1 << mlx) - 1)
        rem -= llx
        ll_extra = (v >> rem) & ((1 << llx) - 1)
        if more:
            nb = ll_nb[ll_state]
            rem -= nb
            new_ll = ll_base[ll_state] + ((v >> rem) & ((1 << nb) - 1))
            nb = ml_nb[ml_state]
            rem -= nb
            new_ml = ml_base[ml_state] + ((v >> rem) & ((1 << nb) - 1))
            nb = of_nb[of_state]
            rem -= nb
            new_of = of_base[of_state] + ((v >> rem) & ((1 << nb) - 1))
            ll_state, ml_state, of_state = new_ll, new_ml, new_of
        lit_len = LEN_BASE[llc] + ll_extra
        match_len = LEN_BASE[mlc] + ml_extra + 3
        # 7.4.5 step 1: resolve the offset against the repeat distances
        if ofc == 3:
            raise BodyError(sstart, "sequence %d: offset code 3 (a copy at distance 0)" % i)
        if ofc == 0:
            d = rep[0]
            repeat = True
        elif ofc == 1:
            rep[0], rep[1] = rep[1], rep[0]
            d = rep[0]
            repeat = True
        elif ofc == 2:
            d = rep[2]
            rep[0], rep[1], rep[2] = rep[2], rep[0], rep[1]
            repeat = True
        else:
            d = OF_BASE[ofc] + of_extra
            rep[0], rep[1], rep[2] = d, rep[0], rep[1]
            repeat = False
        # step 2: literals
        if lit_len > n_lits - li:
            raise BodyError(sstart, "sequence %d: literal length %d exceeds the %d "
                            "literals left" % (i, lit_len, n_lits - li))
        if lit_len:
            out += lits[li:li + lit_len]
            li += lit_len
            counts[0] += 1
        # step 3: the copy
        olen = len(out)
        if d == 0 or d > olen:
            raise BodyError(sstart, "sequence %d: distance %d with %d bytes output%s"
                            % (i, d, olen - base, " after %d bytes of the previous frame"
                               % base if base else ""))
        if olen + match_len > block_end:
            raise BodyError(sstart, "sequence %d: copy of %d bytes ends past its block"
                            % (i, match_len))
        if d >= match_len:
            out += out[olen - d:olen - d + match_len]
        elif d == 1:
            out += bytes([out[-1]]) * match_len
        else:
            pat = out[olen - d:olen]
            out += (pat * (match_len // d + 1))[:match_len]
        if d == 1:
            counts[3] += 1
        elif repeat:
            counts[2] += 1
        else:
            counts[1] += 1
    if p != 0:
        raise BodyError(sstart, "sequence stream has %d bits left after the last sequence"
                        % p)
    return li


# ---------------------------------------------------------------------------------------
# Sections 2-6: the container


class Sink:
    """Collects decoded content (or discards it, for `check`)."""

    def __init__(self, keep=True):
        self.keep = keep
        self.parts = []
        self.size = 0

    def write(self, b):
        self.size += len(b)
        if self.keep:
            self.parts.append(bytes(b))

    def getvalue(self):
        return b"".join(self.parts)


def decode_bytes(data, sink=None):
    """Decodes a whole `.sigma` file (one or more concatenated streams). Returns the
    content (or writes it to `sink`). Raises SigmaError on any invalid input."""
    own = sink is None
    if own:
        sink = Sink()
    buf = memoryview(data) if not isinstance(data, (bytes, bytearray)) else data
    buf = bytes(buf)
    pos = 0
    n = len(buf)
    streams = 0
    while True:
        if streams and pos < n and buf[pos:pos + 2] != b"\xff\x7e":
            raise SigmaError(pos, "data after the trailer (%d bytes) that does not start a "
                             "stream" % (n - pos))
        pos = decode_stream(buf, pos, sink, streams)
        streams += 1
        if pos == n:
            break
    return sink.getvalue() if own else None


MAX_COMPACT_RAW = 131072


def check_magic_version(buf, p):
    """Section 3: the magic and the version of a stream header glyph's payload at `p`."""
    if buf[p:p + 4] != b"SGMA":
        raise SigmaError(p, "not a .sigma stream (bad magic)")
    version = buf[p + 4]
    if version != 5:
        if version in (1, 2, 3, 4):
            raise SigmaError(p + 4, "stream format version %d is not supported" % version)
        raise SigmaError(p + 4, "unsupported version %d" % version)


def decode_compact(buf, pos, sink):
    """Section 3.1. If the stream at `pos` is a compact stream, decodes it and returns its
    end; else returns None (its header is parsed as a stream header)."""
    if buf[pos:pos + 2] != b"\xff\x7e":
        return None
    g = read_glyph_head(buf, pos)
    p = g.payload_start
    if g.length < 7 or p + 7 > len(buf) or buf[p + 6] != 0:
        return None
    check_length(g, 15 + MAX_OTHER_PAYLOAD - 4 + MAX_COMPACT_RAW, "compact stream", 13)
    need_payload(buf, g, "compact stream")
    check_magic_version(buf, p)
    level = buf[p + 5]
    if not 1 <= level <= 9:
        raise SigmaError(p + 5, "level %d outside 1-9" % level)
    raw_size, q = read_varint(buf, p + 7, g.end, "compact raw size")
    if raw_size > MAX_COMPACT_RAW:
        raise SigmaError(p + 7, "compact raw size %d above %d" % (raw_size, MAX_COMPACT_RAW))
    if q >= g.end:
        raise SigmaError(q, "compact stream shorter than its fields")
    form = buf[q]
    if form > 3:
        raise SigmaError(q, "compact form %d" % form)
    method = form & 1
    q += 1
    if form & 2:
        q = parse_metadata_fields(buf, q, g.end)
    if q + 4 > g.end:
        raise SigmaError(q, "compact stream shorter than its fields")
    check = _u32(buf, q)
    body = buf[q + 4:g.end]
    if method == 0:
        if len(body) != raw_size:
            raise SigmaError(q + 4, "stored body length %d is not the raw size %d"
                             % (len(body), raw_size))
        raw = body
    else:
        if raw_size == 0 or not body:
            raise SigmaError(q, "coded compact body without content or bytes")
        try:
            raw, _counts = decode_body(body, raw_size, b"")
        except BodyError as e:
            raise SigmaError(q + 4 + e.pos, "corrupt compact body: " + e.message)
    crc = crc32c(buf[g.start:q])
    crc = crc32c(body, crc)
    crc = crc32c(raw, crc)
    if crc != check:
        raise SigmaError(q, "compact stream check mismatch")
    sink.write(raw)
    return g.end


def parse_header(buf, pos):
    """Section 3. Returns (chunk size C, end of the header glyph, group G)."""
    n = len(buf)
    if buf[pos:pos + 2] != b"\xff\x7e":
        raise SigmaError(pos, "not a .sigma stream (no FF 7E stream header)")
    g = read_glyph_head(buf, pos)
    check_length(g, 21, "stream header", 12)
    need_payload(buf, g, "stream header")
    p = g.payload_start
    check_magic_version(buf, p)
    crc_at = g.end - 4
    if crc32c(buf[g.start:crc_at]) != _u32(buf, crc_at):
        raise SigmaError(crc_at, "stream header checksum mismatch")
    level = buf[p + 5]
    if not 1 <= level <= 9:
        raise SigmaError(p + 5, "level %d outside 1-9" % level)
    group = buf[p + 6]
    if not 1 <= group <= 16:
        raise SigmaError(p + 6, "frame group %d outside 1-16" % group)
    c, q = read_varint(buf, p + 7, crc_at, "chunk size")
    if not MIN_CHUNK <= c <= MAX_CHUNK:
        raise SigmaError(p + 7, "chunk size %d outside 4096-67108864" % c)
    if q != crc_at:
        raise SigmaError(q, "stream header fields do not fill it (%d bytes left)"
                         % (crc_at - q))
    if group * c > 67108864:
        raise SigmaError(p + 6, "frame group %d x chunk size %d exceeds 64 MiB" % (group, c))
    return c, g.end, group


def parse_metadata(buf, g):
    """Section 4. Validates a metadata glyph."""
    p = g.payload_start
    crc_at = g.end - 4
    if crc_at < p:
        raise SigmaError(g.start, "metadata payload shorter than its CRC")
    if crc32c(buf[g.start:crc_at]) != _u32(buf, crc_at):
        raise SigmaError(crc_at, "metadata checksum mismatch")
    q = parse_metadata_fields(buf, p, crc_at)
    if q != crc_at:
        raise SigmaError(q, "metadata fields do not fill it (%d bytes left)" % (crc_at - q))


def parse_metadata_fields(buf, p, crc_at):
    """Sections 4 and 3.1: the metadata fields at `p`, within `crc_at`; returns their
    end."""
    nlen, q = read_varint(buf, p, crc_at, "metadata name length")
    if nlen > crc_at - q:
        raise SigmaError(p, "metadata name runs past its field")
    name = buf[q:q + nlen]
    if b"/" in name or b"\0" in name or name in (b".", b".."):
        raise SigmaError(q, "metadata name %r is not a plain file name" % name)
    q += nlen
    mpos = q
    mode, q = read_varint(buf, q, crc_at, "metadata mode")
    if mode > 0o7777:
        raise SigmaError(mpos, "metadata mode %o above 7777" % mode)
    _mtime, q = read_varint(buf, q, crc_at, "metadata mtime")
    npos = q
    nanos, q = read_varint(buf, q, crc_at, "metadata mtime nanoseconds")
    if nanos >= 1000000000:
        raise SigmaError(npos, "metadata nanoseconds %d not below 10^9" % nanos)
    if q - p > MAX_OTHER_PAYLOAD - 4:
        raise SigmaError(p, "metadata fields longer than %d bytes" % (MAX_OTHER_PAYLOAD - 4))
    return q


def decode_frame(buf, g, c, frame_no, sink, history=b""):
    """Section 5. `history`: the previous frame's decoded content if this frame is linked,
    else empty. Returns (raw size, raw CRC, glyph counts [P, R, D, I, literal bytes], the
    decoded content)."""
    p = g.payload_start
    end = g.end
    try:
        raw_size, q = read_varint(buf, p, end, "frame raw size")
    except SigmaError as e:
        e.frame = frame_no
        raise
    if q + 9 > end:
        raise SigmaError(q, "frame payload too short for its fields", frame_no)
    method = buf[q]
    raw_crc = _u32(buf, q + 1)
    frame_crc = _u32(buf, q + 5)
    body_start = q + 9
    crc = crc32c(buf[g.start:q + 5])
    crc = crc32c(buf[body_start:end], crc)
    if crc != frame_crc:
        raise SigmaError(q + 5, "frame checksum mismatch", frame_no)
    if method > 1:
        raise SigmaError(q, "frame method %d" % method, frame_no)
    if not 1 <= raw_size <= c:
        raise SigmaError(p, "frame raw size %d outside 1-%d" % (raw_size, c), frame_no)
    if method == 0:
        if end - body_start != raw_size:
            raise SigmaError(body_start, "stored body length %d is not the raw size %d"
                             % (end - body_start, raw_size), frame_no)
        raw = buf[body_start:end]
        counts = [1, 0, 0, 0, raw_size]
    else:
        body = buf[body_start:end]
        try:
            raw, counts = decode_body(body, raw_size, history)
        except BodyError as e:
            raise SigmaError(body_start + e.pos, "corrupt frame body: " + e.message,
                             frame_no)
    got = crc32c(raw)
    if got != raw_crc:
        raise SigmaError(q + 1, "frame content checksum mismatch", frame_no)
    sink.write(raw)
    return raw_size, raw_crc, counts, raw


def decode_stream(buf, pos, sink, stream_no):
    """Decodes one stream starting at `pos`; returns the position after its trailer."""
    n = len(buf)
    sstart = pos
    end = decode_compact(buf, pos, sink)
    if end is not None:
        return end
    c, pos, group = parse_header(buf, pos)
    header_end = pos
    prev_end = header_end
    seen_meta = False
    frames = []  # index entries as read: [gap, enc len, raw, P, R, D, I, lit]
    content_crc = 0
    content_size = 0
    prev_raw = b""  # the previous frame's content: the history of a linked frame
    while True:
        g = read_glyph_head(buf, pos)
        kind = CONTAINER.get(g.key)
        if kind == "stream header":
            raise SigmaError(g.start, "stream header inside a stream")
        if kind == "trailer":
            raise SigmaError(g.start, "trailer without an index before it")
        if kind == "metadata":
            if frames:
                raise SigmaError(g.start, "metadata after a frame")
            if seen_meta:
                raise SigmaError(g.start, "second metadata glyph")
            check_length(g, MAX_OTHER_PAYLOAD, "metadata")
            need_payload(buf, g, "metadata")
            parse_metadata(buf, g)
            seen_meta = True
        elif kind == "frame":
            fno = len(frames)
            check_length(g, max_frame_payload(c), "frame")
            need_payload(buf, g, "frame")
            # Section 5: frame k (per stream) is linked unless k is a multiple of G.
            history = prev_raw if fno % group else b""
            raw_size, raw_crc, counts, raw = decode_frame(buf, g, c, fno, sink, history)
            prev_raw = raw if group > 1 else b""
            frames.append([g.start - prev_end, g.end - g.start, raw_size] + counts)
            content_crc = crc32c_combine(content_crc, raw_crc, raw_size)
            content_size += raw_size
            prev_end = g.end
        elif kind == "index":
            check_length(g, max_index_payload(len(frames)), "index")
            need_payload(buf, g, "index")
            check_index(buf, g, frames)
            index_offset = g.start - sstart
            pos = g.end
            break
        else:
            if g.has_payload:
                check_length(g, MAX_OTHER_PAYLOAD, "unknown glyph")
                need_payload(buf, g, "unknown glyph")
        pos = g.end
    # The trailer, immediately after the index
    g = read_glyph_head(buf, pos)
    if g.key != G_TRAILER:
        raise SigmaError(g.start, "glyph between the index and the trailer")
    check_length(g, MAX_TRAILER_PAYLOAD, "trailer")
    need_payload(buf, g, "trailer")
    p = g.payload_start
    if g.length < 9:
        raise SigmaError(g.start, "trailer payload too short")
    len_at = g.end - 1
    crc_at = g.end - 5
    if buf[len_at] != g.end - g.start:
        raise SigmaError(len_at, "trailer length byte %d is not the trailer's length %d"
                         % (buf[len_at], g.end - g.start))
    if crc32c(buf[g.start:crc_at]) != _u32(buf, crc_at):
        raise SigmaError(crc_at, "trailer checksum mismatch")
    raw_total, q = read_varint(buf, p, crc_at - 4, "trailer raw size")
    qf = q
    nframes, q = read_varint(buf, q, crc_at - 4, "trailer frame count")
    qi = q
    ioff, q = read_varint(buf, q, crc_at - 4, "trailer index offset")
    if q != crc_at - 4:
        raise SigmaError(q, "trailer fields do not fill it")
    if nframes != len(frames):
        raise SigmaError(qf, "trailer frame count %d, but %d frames were read"
                         % (nframes, len(frames)))
    if raw_total != content_size:
        raise SigmaError(p, "trailer raw size %d, but the frames hold %d bytes"
                         % (raw_total, content_size))
    if ioff != index_offset:
        raise SigmaError(qi, "trailer index offset %d, but the index is at %d"
                         % (ioff, index_offset))
    if _u32(buf, crc_at - 4) != content_crc:
        raise SigmaError(crc_at - 4, "content checksum mismatch")
    return g.end


ENTRY_FIELDS = ["gap", "encoded length", "raw size", "PRIMITIVE", "REFERENCE", "DELTA",
                "ITERATION", "literal bytes"]


def check_index(buf, g, frames):
    """Section 6: the index lists exactly the frames read, field by field."""
    p = g.payload_start
    crc_at = g.end - 4
    if crc_at < p:
        raise SigmaError(g.start, "index payload shorter than its CRC")
    if crc32c(buf[g.start:crc_at]) != _u32(buf, crc_at):
        raise SigmaError(crc_at, "index checksum mismatch")
    count, q = read_varint(buf, p, crc_at, "index frame count")
    if count != len(frames):
        raise SigmaError(p, "index lists %d frames, but %d were read" % (count, len(frames)))
    for k in range(count):
        entry = []
        starts = []
        for _ in range(8):
            starts.append(q)
            v, q = read_varint(buf, q, crc_at, "index entry field")
            entry.append(v)
        if entry[3] + entry[4] + entry[5] + entry[6] > entry[2]:
            raise SigmaError(starts[3], "index entry %d: glyph counts exceed the raw size" % k)
        if entry[7] > entry[2]:
            raise SigmaError(starts[7], "index entry %d: literal bytes exceed the raw size" % k)
        for f in range(8):
            if entry[f] != frames[k][f]:
                what = ("index glyph counts disagree with the frame" if 3 <= f <= 7
                        else "index %s disagrees with the stream" % ENTRY_FIELDS[f])
                raise SigmaError(starts[f], "%s (entry %d, %s: %d, frame: %d)"
                                 % (what, k, ENTRY_FIELDS[f], entry[f], frames[k][f]))
    if q != crc_at:
        raise SigmaError(q, "index fields do not fill it (%d bytes left)" % (crc_at - q))


# ---------------------------------------------------------------------------------------
# Command line


def _read(path):
    if path == "-":
        return sys.stdin.buffer.read()
    with open(path, "rb") as f:
        return f.read()


def _verdict(data, keep=True):
    """Returns ("accept", content or size, None) or ("reject", None, SigmaError); any other
    exception is a bug in this decoder and propagates."""
    sink = Sink(keep=keep)
    try:
        decode_bytes(data, sink)
    except SigmaError as e:
        return "reject", None, e
    return "accept", (sink.getvalue() if keep else sink.size), None


def _internal(path, exc):
    print("pysigma: %s: internal error (a bug in pysigma): %s: %s"
          % (path, type(exc).__name__, exc), file=sys.stderr)
    return 3


def cmd_decode(inp, outp):
    data = _read(inp)
    try:
        verdict, content, err = _verdict(data)
    except Exception as exc:  # noqa: BLE001 - a decoder must not crash: report it as a bug
        return _internal(inp, exc)
    if err:
        print("pysigma: %s: %s" % (inp, err.describe()), file=sys.stderr)
        return 1
    if outp == "-":
        sys.stdout.buffer.write(content)
        sys.stdout.buffer.flush()
        return 0
    tmp = "%s.pysigma-tmp-%d" % (outp, os.getpid())
    try:
        with open(tmp, "wb") as f:
            f.write(content)
        os.replace(tmp, outp)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)
    return 0


def cmd_check(paths, quiet=False):
    rc = 0
    for path in paths:
        data = _read(path)
        try:
            verdict, size, err = _verdict(data, keep=False)
        except Exception as exc:  # noqa: BLE001
            rc = max(rc, _internal(path, exc))
            continue
        if err:
            print("pysigma: %s: %s" % (path, err.describe()), file=sys.stderr)
            rc = max(rc, 1)
        elif not quiet:
            print("%s: ok, %d bytes" % (path, size))
    return rc


def cmd_verdicts(paths):
    """One line per file for scripts: PATH <TAB> accept <TAB> SHA256 SIZE, or
    PATH <TAB> reject <TAB> message, or PATH <TAB> crash <TAB> exception."""
    for path in paths:
        data = _read(path)
        try:
            verdict, content, err = _verdict(data)
        except Exception as exc:  # noqa: BLE001
            print("%s\tcrash\t%s: %s" % (path, type(exc).__name__, exc))
            continue
        if err:
            print("%s\treject\t%s" % (path, err.describe().replace("\t", " ")))
        else:
            print("%s\taccept\t%s %d" % (path, hashlib.sha256(content).hexdigest(),
                                          len(content)))
    return 0


def run_vectors(directory, out=sys.stdout):
    """Runs every vector listed in DIRECTORY/EXPECTED. Returns (agreements, total)."""
    agree = 0
    total = 0
    with open(os.path.join(directory, "EXPECTED"), encoding="utf-8") as f:
        lines = f.read().splitlines()
    for line in lines:
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        parts = line.split(None, 2)
        name, outcome = parts[0], parts[1]
        total += 1
        data = _read(os.path.join(directory, name))
        crashed = False
        try:
            _, content, err = _verdict(data)
        except Exception as exc:  # noqa: BLE001
            content = None
            err = SigmaError(0, "internal error (a bug in pysigma): %s: %s"
                             % (type(exc).__name__, exc))
            crashed = True
        if outcome == "decodes":
            sha, size = parts[2].split()
            ok = (content is not None and hashlib.sha256(content).hexdigest() == sha
                  and len(content) == int(size))
            got = ("decodes %s %d" % (hashlib.sha256(content).hexdigest(), len(content))
                   if content is not None else "reject: " + err.describe())
        elif outcome == "reject":
            ok = content is None and not crashed
            got = "reject: " + err.describe() if err else "decodes %d bytes" % len(content)
        else:
            ok = False
            got = "unknown outcome %r in EXPECTED" % outcome
        agree += ok
        print("%s %-32s expected %-8s got %s" % ("ok  " if ok else "FAIL", name, outcome, got),
              file=out)
    print("vectors: %d of %d agree" % (agree, total), file=out)
    return agree, total


def main(argv):
    usage = ("usage: pysigma.py decode IN.sigma OUT | check IN.sigma... | "
             "vectors DIR | verdicts FILE...")
    if len(argv) < 2:
        print(usage, file=sys.stderr)
        return 2
    cmd = argv[1]
    if cmd == "decode" and len(argv) == 4:
        return cmd_decode(argv[2], argv[3])
    if cmd == "check" and len(argv) >= 3:
        quiet = "-q" in argv[2:]
        return cmd_check([a for a in argv[2:] if a != "-q"], quiet)
    if cmd == "verdicts":
        return cmd_verdicts(argv[2:])
    if cmd == "vectors" and len(argv) == 3:
        agree, total = run_vectors(argv[2])
        return 0 if agree == total else 1
    print(usage, file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv))
