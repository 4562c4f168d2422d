#!/usr/bin/env python3
"""pysigma_craft: writes hand-made `.sigma` streams for the edge cases of FORMAT.md that the
reference encoder never produces (unknown glyphs, odd table sizes, Huffman descriptions
with run tokens, literal-mode changes, every container rule), so that `tools/pysigma-check`
can compare the verdicts of `sigma verify` and `tools/pysigma.py` on them.

    python3 tools/pysigma_craft.py DIR      writes DIR/NAME.sigma for every probe

Standard library only; written from FORMAT.md like pysigma.py (whose CRC32C it imports).
A probe is not labelled accept/reject here: the two decoders must simply agree.
"""

import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import pysigma as P  # noqa: E402

# ---------------------------------------------------------------------------------------
# Primitives


def varint(v):
    out = bytearray()
    while True:
        b = v & 0x7F
        v >>= 7
        if v:
            out.append(b | 0x80)
        else:
            out.append(b)
            return bytes(out)


def u32(v):
    return v.to_bytes(4, "little")


def head(gtype, gid, length=None):
    """Glyph head: header byte, escaped id, varint length (None: no payload)."""
    hb = (gtype << 6) | (0x20 if length is not None else 0)
    if gid >= 31:
        out = bytes([hb | 31, gid])
    else:
        out = bytes([hb | gid])
    if length is not None:
        out += varint(length)
    return out


def glyph(gtype, gid, payload):
    return head(gtype, gid, len(payload)) + payload


def with_crc(gtype, gid, fields, extra_after_crc=b""):
    """A glyph whose payload is `fields` + CRC32C(every glyph byte before it) [+ extra]."""
    length = len(fields) + 4 + len(extra_after_crc)
    h = head(gtype, gid, length)
    return h + fields + u32(P.crc32c(h + fields)) + extra_after_crc


def header(chunk=4096, level=3, group=2, version=5, magic=b"SGMA", extra=b""):
    return with_crc(3, 0x7E, magic + bytes([version, level, group]) + varint(chunk) + extra)


def compact(raw_size, method, body, content=None, level=3, version=5, check=None,
            raw_field=None, meta=None):
    """A compact stream (section 3.1); `check` defaults to the right one for `content`
    (default: the body), `raw_field` to the shortest varint of `raw_size`; `meta`: the
    metadata fields (bytes), which set the form's bit 1."""
    form = method | (2 if meta is not None else 0)
    fields = b"SGMA" + bytes([version, level, 0]) + (raw_field or varint(raw_size)) \
        + bytes([form]) + (meta or b"")
    h = head(3, 0x7E, len(fields) + 4 + len(body))
    if check is None:
        c = P.crc32c(body, P.crc32c(h + fields))
        check = P.crc32c(body if content is None else content, c)
    return h + fields + u32(check) + body


def metadata(name=b"a.txt", mode=0o644, mtime=0, nanos=0, extra=b""):
    return with_crc(3, 0x7F, meta_fields(name, mode, mtime, nanos) + extra)


def meta_fields(name=b"a.txt", mode=0o644, mtime=0, nanos=0):
    return varint(len(name)) + name + varint(mode) + varint(mtime) + varint(nanos)


def frame(raw_size, method, raw_crc, body):
    """A frame glyph with a correct frame CRC."""
    pre = varint(raw_size) + bytes([method]) + u32(raw_crc)
    length = len(pre) + 4 + len(body)
    h = head(3, 0x1D, length)
    crc = P.crc32c(h + pre)
    crc = P.crc32c(body, crc)
    return h + pre + u32(crc) + body


def stored_frame(data):
    return frame(len(data), 0, P.crc32c(data), data)


def coded_frame(data, body):
    return frame(len(data), 1, P.crc32c(data), body)


class Stream:
    """Assembles a stream from glyph byte strings; frames are given with their content so
    that the index and trailer can be computed (glyph counts by decoding the body with
    pysigma, a linked frame after the previous frame's given content; a body it rejects
    gets stored-frame counts, which the probe then shows). `group` is the header's G (for
    a given `hdr`, the G used to tell linked frames when counting)."""

    def __init__(self, chunk=4096, level=3, hdr=None, group=2):
        self.chunk = chunk
        self.group = group
        self.hdr = hdr if hdr is not None else header(chunk, level, group)
        self.items = []  # (bytes, content or None, counts or None)

    def add(self, glyph_bytes, content=None, counts=None):
        self.items.append((glyph_bytes, content, counts))
        return self

    def build(self, index_mutator=None, trailer_mutator=None, between=b"", tail=b"",
              index_extra=b"", trailer_extra=b""):
        out = bytearray(self.hdr)
        entries = []
        content = bytearray()
        prev_end = len(out)
        prev = b""
        for g, c, counts in self.items:
            start = len(out)
            out += g
            if c is None:
                continue
            if counts is None:
                history = prev if len(entries) % max(self.group, 1) else b""
                counts = frame_counts(g, c, self.chunk, history)
            entries.append([start - prev_end, len(g), len(c)] + counts)
            content += c
            prev = c
            prev_end = len(out)
        if index_mutator:
            index_mutator(entries)
        fields = varint(len(entries))
        for e in entries:
            for v in e:
                fields += varint(v)
        index_offset = len(out)
        out += with_crc(1, 0x0A, fields + index_extra)
        out += between
        tr = [len(content), len(entries), index_offset, P.crc32c(content)]
        if trailer_mutator:
            trailer_mutator(tr)
        tf = varint(tr[0]) + varint(tr[1]) + varint(tr[2]) + trailer_extra + u32(tr[3])
        length = 2 + len(tf) + 4 + 1
        h = head(0, 0x04, len(tf) + 4 + 1)
        out += h + tf + u32(P.crc32c(h + tf)) + bytes([length])
        out += tail
        return bytes(out), bytes(content)


def frame_counts(g, content, chunk, history=b""):
    """Glyph counts of a frame glyph as pysigma decodes them (stored: 1 PRIMITIVE), after
    `history` (the previous frame's content) for a linked frame."""
    try:
        gl = P.read_glyph_head(g, 0)
        sink = P.Sink(keep=False)
        _, _, counts, _ = P.decode_frame(g, gl, chunk, 0, sink, history)
        return counts
    except (P.SigmaError, IndexError):
        return [1, 0, 0, 0, len(content)]


# ---------------------------------------------------------------------------------------
# Bit streams and codes


class FwdWriter:
    def __init__(self):
        self.bits = []

    def write(self, value, n):  # a field, least significant bit first
        for i in range(n):
            self.bits.append((value >> i) & 1)

    def code(self, code, n):  # a Huffman code, most significant bit first
        for i in range(n - 1, -1, -1):
            self.bits.append((code >> i) & 1)

    def getvalue(self, pad_bits=0):
        bits = list(self.bits)
        out = bytearray((len(bits) + 7) // 8)
        for i, b in enumerate(bits):
            out[i >> 3] |= b << (i & 7)
        if pad_bits and len(bits) % 8:
            out[-1] |= pad_bits << (len(bits) % 8) & 0xFF
        return bytes(out)


def backward_stream(fields, extra_zero_byte=False, marker=True):
    """`fields` = [(value, nbits)] in the order the decoder reads them; the writer stores
    them in reverse and ends with the 1-bit marker."""
    w = FwdWriter()
    for v, n in reversed(fields):
        w.write(v, n)
    if marker:
        w.bits.append(1)
    out = w.getvalue()
    if extra_zero_byte:
        out += b"\0"
    return out


def balanced_lengths(symbols, nsym):
    """A complete code over `symbols` (or one symbol of length 1)."""
    k = len(symbols)
    lengths = [0] * nsym
    if k == 1:
        lengths[symbols[0]] = 1
        return lengths
    L = (k - 1).bit_length()
    a = (1 << L) - k  # symbols at length L-1
    for i, s in enumerate(sorted(symbols)):
        lengths[s] = L - 1 if i < a else L
    return lengths


def canonical(lengths, maxlen):
    codes = P.canonical_codes(lengths, maxlen)
    return {s: (c, l) for s, l, c in codes}


def huffman_description(lengths, tokens=None, precode_lengths=None):
    """7.5.1. `tokens` (default: one length token per symbol) as (token, extra) pairs."""
    used = max(i for i, l in enumerate(lengths) if l) + 1 if any(lengths) else 1
    if tokens is None:
        tokens = [(lengths[s], 0) for s in range(used)]
    used_tokens = sorted({t for t, _ in tokens})
    pl = precode_lengths or balanced_lengths(used_tokens, 15)
    order = P.PRECODE_ORDER
    sent = max(i for i in range(15) if pl[order[i]]) + 1
    pc = canonical(pl, 7)
    w = FwdWriter()
    w.write(used - 1, 8)
    w.write(sent, 4)
    for i in range(sent):
        w.write(pl[order[i]], 3)
    for t, x in tokens:
        c, l = pc[t]
        if l and len(pc) > 1:
            w.code(c, l)
        if t == 12:
            w.write(x, 2)
        elif t == 13:
            w.write(x, 3)
        elif t == 14:
            w.write(x, 7)
    return w


def huffman_stream(lits, lengths, pad_bits=0, extra=b""):
    codes = canonical(lengths, 11)
    w = FwdWriter()
    if len(codes) > 1:
        for b in lits:
            c, l = codes[b]
            w.code(c, l)
    return w.getvalue(pad_bits) + extra


def literal_streams(lits, lengths, total_delta=0):
    if len(lits) < 1024:
        s = huffman_stream(lits, lengths)
        return varint(len(s) + total_delta) + s
    seg = (len(lits) + 3) // 4
    parts = [huffman_stream(lits[k * seg:(k + 1) * seg], lengths) for k in range(4)]
    total = sum(len(p) for p in parts)
    return (varint(total + total_delta) + varint(len(parts[0])) + varint(len(parts[1]))
            + varint(len(parts[2])) + b"".join(parts))


def lits_huffman_new(lits, lengths=None, desc=None):
    if lengths is None:
        lengths = balanced_lengths(sorted(set(lits)), 256)
    d = desc or huffman_description(lengths)
    return bytes([1]) + d.getvalue() + literal_streams(lits, lengths), lengths


def length_code(v):
    if v < 16:
        return v, 0, 0
    n = v.bit_length() - 1
    m = (v >> (n - 1)) & 1
    return 16 + 2 * (n - 4) + m, v & ((1 << (n - 1)) - 1), n - 1


def gamma(w, v):
    n = v.bit_length() - 1
    w.write(0, n) if n else None
    for i in range(n, -1, -1):
        w.write((v >> i) & 1, 1)


def counts_description(w, counts, log, used=None):
    if used is None:
        used = max(i for i, c in enumerate(counts) if c) + 1
    w.write(log, 4)
    w.write(used - 1, 6)
    for s in range(used - 1):
        gamma(w, counts[s] + 1)


def encode_states(table, syms):
    """States for symbol list `syms` (decoding order): returns (initial state, [bits,nb])."""
    size = 1 << table.log
    n = len(syms)
    states = [None] * n
    states[n - 1] = next(p for p in range(size) if table.sym[p] == syms[n - 1])
    trans = [None] * n
    for i in range(n - 2, -1, -1):
        q = states[i + 1]
        for p in range(size):
            if table.sym[p] == syms[i] and table.base[p] <= q < table.base[p] + (1 << table.nb[p]):
                states[i] = p
                trans[i] = (q - table.base[p], table.nb[p])
                break
        else:
            raise ValueError("symbol %d not encodable" % syms[i])
    return states, trans


def sequence_section(seqs, modes=(0, 0, 0), tables=(None, None, None), singles=(0, 0, 0),
                     modes_byte=None, stream_mutator=None, desc_writer=None, desc_pad=0):
    """`seqs` = [(lit_len, match_len, off)]; `tables` = (counts, log) for mode-2 alphabets,
    or a TansTable in force for mode 3."""
    codes = []
    for ll, ml, off in seqs:
        llc, llx, lln = length_code(ll)
        mlc, mlx, mln = length_code(ml - 3)
        if off <= 3:
            ofc, ofx, ofn = off - 1, 0, 0
        else:
            c, ofx, ofn = length_code(off - 3)
            ofc = c + 3
        codes.append(((llc, llx, lln), (mlc, mlx, mln), (ofc, ofx, ofn)))
    w = desc_writer or FwdWriter()
    built = []
    for a in range(3):
        if modes[a] == 0:
            built.append(P.PREDEFINED[["LL", "ML", "OF"][a]])
        elif modes[a] == 1:
            w.write(singles[a], 6)
            built.append(P.single_table(singles[a]))
        elif modes[a] == 2:
            counts, log = tables[a]
            counts_description(w, counts, log)
            built.append(P.build_tans(counts, log))
        else:
            built.append(tables[a])
    desc = w.getvalue(desc_pad)
    st = []
    tr = []
    for a in range(3):
        s, t = encode_states(built[a], [c[a][0] for c in codes])
        st.append(s)
        tr.append(t)
    fields = [(st[0][0], built[0].log), (st[1][0], built[1].log), (st[2][0], built[2].log)]
    n = len(seqs)
    for i in range(n):
        (llc, llx, lln), (mlc, mlx, mln), (ofc, ofx, ofn) = codes[i]
        fields += [(ofx, ofn), (mlx, mln), (llx, lln)]
        if i + 1 < n:
            fields += [tr[0][i], tr[1][i], tr[2][i]]
    stream = backward_stream(fields)
    if stream_mutator:
        stream = stream_mutator(stream)
    mb = modes_byte if modes_byte is not None else (modes[0] | modes[1] << 2 | modes[2] << 4)
    return bytes([mb]) + desc + varint(len(stream)) + stream, built


def raw_block(data):
    return bytes([0]) + varint(len(data)) + data


def coded_block(raw_len, n_lits, n_seqs, lit_section=b"", seq_section=b""):
    return bytes([1]) + varint(raw_len) + varint(n_lits) + varint(n_seqs) + lit_section \
        + seq_section


def run_seqs(lits, seqs, prefix=b""):
    """Content produced by executing `seqs` over `lits` after `prefix` (7.4.5)."""
    out = bytearray(prefix)
    rep = [1, 4, 8]
    li = 0
    for ll, ml, off in seqs:
        if off == 1:
            d = rep[0]
        elif off == 2:
            rep[0], rep[1] = rep[1], rep[0]
            d = rep[0]
        elif off == 3:
            d = rep[2]
            rep[:] = [rep[2], rep[0], rep[1]]
        else:
            d = off - 3
            rep[:] = [d, rep[0], rep[1]]
        out += lits[li:li + ll]
        li += ll
        for _ in range(ml):
            out.append(out[-d] if 0 < d <= len(out) else 0)  # (an invalid probe)
    out += lits[li:]
    return bytes(out[len(prefix):])


# ---------------------------------------------------------------------------------------
# Probes


def probes():
    """Yields (name, bytes)."""
    text = b"the quick brown fox jumps over the lazy dog; " * 3
    hdr = header()

    def simple(items, **kw):
        s = Stream()
        for it in items:
            s.add(*it) if isinstance(it, tuple) else s.add(it)
        return s.build(**kw)[0]

    sf = (stored_frame(text), text)
    unk = glyph(2, 19, b"0123456789")
    # --- container: glyph order, payload flags, escapes
    yield "c-plain", simple([sf])
    yield "c-unknown-before-metadata", simple([unk, metadata(), sf])
    yield "c-metadata-unknown-frame", simple([metadata(), unk, sf])
    yield "c-unknown-no-payload", simple([bytes([0x45]), sf])
    yield "c-unknown-escaped-no-payload", simple([bytes([0x5F, 200]), sf])
    yield "c-unknown-escaped-31", simple([glyph(0, 31, b"x"), sf])
    yield "c-unknown-empty-payload", simple([glyph(1, 3, b""), sf])
    yield "c-unknown-65536", simple([glyph(2, 40, bytes(65536)), sf])
    yield "c-unknown-65537", simple([glyph(2, 40, bytes(65537)), sf])
    yield "c-unknown-after-last-frame", simple([sf, unk])
    yield "c-unknown-only", simple([unk])
    yield "c-unknown-between-index-trailer", simple([sf], between=unk)
    m0 = bytes([0xDF, 0x7F])
    yield "c-metadata-no-payload-twice", simple([m0, m0, sf])
    yield "c-metadata-no-payload-then-metadata", simple([m0, metadata(), sf])
    yield "c-metadata-then-no-payload", simple([metadata(), m0, sf])
    yield "c-metadata-no-payload-after-frame", simple([sf, m0])
    yield "c-unknown-overlong-length", simple([bytes([0x65, 0x81, 0x00, 0x41]), sf])
    yield "c-unknown-huge-length", simple([bytes([0x65]) + b"\xff" * 9 + b"\x01", sf])
    yield "c-frame-no-payload", simple([bytes([0xDD]), sf])
    yield "c-metadata-no-payload", simple([bytes([0xDF, 0x7F]), sf])
    yield "c-index-no-payload-before", simple([bytes([0x4A]), sf])
    yield "c-trailer-no-payload-before", simple([bytes([0x04]), sf])
    yield "c-header-no-payload-inside", simple([bytes([0xDF, 0x7E]), sf])
    yield "c-header-inside", simple([hdr, sf])
    yield "c-escaped-frame-id", simple([bytes([0xFF, 0x1D]) + stored_frame(text)[1:], sf])
    yield "c-frame-other-type", simple([glyph(0, 0x1D, b"abc"), sf])
    yield "c-two-frames", simple([sf, sf])
    yield "c-zero-frames", simple([])
    yield "c-metadata-only", simple([metadata()])
    yield "c-trailer-before-index", hdr + stored_frame(text) + simple([])[len(hdr):][-14:]
    yield "c-truncated-head", simple([sf])[:len(hdr) + 1]
    # --- files
    one = simple([sf])
    yield "f-empty-file", b""
    yield "f-one-byte", b"\xff"
    yield "f-header-only", hdr
    yield "f-concat-3", one + simple([]) + one
    yield "f-concat-truncated", one + b"\xff\x7e"
    yield "f-garbage-ff", one + b"\xff"
    yield "f-zero-after", one + b"\0"
    # --- header
    for name, h in [("level-0", header(level=0)), ("level-9", header(level=9)),
                    ("level-10", header(level=10)), ("group-0", header(group=0)),
                    ("group-1", header(group=1)), ("group-16", header(group=16)),
                    ("group-17", header(group=17)), ("group-255", header(group=255)),
                    ("chunk-4095", header(chunk=4095)), ("chunk-max", header(chunk=64 << 20)),
                    ("chunk-max+1", header(chunk=(64 << 20) + 1)),
                    ("version-1", header(version=1)), ("version-2", header(version=2)),
                    ("version-3", header(version=3)), ("version-4", header(version=4)),
                    ("version-6", header(version=6)),
                    ("magic", header(magic=b"SGMB")),
                    ("extra-5", header(extra=b"\0" * 5)), ("extra-6", header(extra=b"\0" * 6))]:
        s = Stream(hdr=h)
        s.add(*sf)
        yield "h-" + name, s.build()[0]
    # --- metadata
    for name, m in [("empty-name", metadata(name=b"")), ("dot", metadata(name=b".")),
                    ("dotdot", metadata(name=b"..")), ("dot-x", metadata(name=b".x")),
                    ("slash", metadata(name=b"a/b")), ("nul", metadata(name=b"a\0b")),
                    ("latin1", metadata(name=b"\xe9t\xe9")),
                    ("mode-7777", metadata(mode=0o7777)), ("mode-10000", metadata(mode=0o10000)),
                    ("nanos-max", metadata(nanos=999999999)),
                    ("nanos-1e9", metadata(nanos=1000000000)),
                    ("mtime-max", metadata(mtime=(1 << 64) - 1)),
                    ("extra-byte", metadata(extra=b"\0")),
                    ("long-name", metadata(name=b"n" * 65000))]:
        yield "m-" + name, simple([m, sf])
    # --- frames (container level)
    big = bytes(range(256)) * 16  # 4096 bytes
    yield "fr-raw-size-c", simple([(stored_frame(big), big)])
    yield "fr-raw-size-c+1", simple([(stored_frame(big + b"x"), big + b"x")])
    yield "fr-raw-size-0", simple([(frame(0, 0, 0, b"x"), b"")])
    yield "fr-method-2", simple([(frame(len(text), 2, P.crc32c(text), text), text)])
    yield "fr-bad-raw-crc", simple([(frame(len(text), 0, 1, text), text)])
    # payload at and over max_frame_payload(4096) = 4164 bytes: 4096 raw bytes in blocks
    at = b"".join(raw_block(big[i:i + 1]) for i in range(27)) + raw_block(big[27:])
    fa = coded_frame(big, at)
    assert len(fa) == 4164 + 3, len(fa)
    yield "fr-at-limit", simple([(fa, big)])
    over = b"".join(raw_block(big[i:i + 1]) for i in range(28)) + raw_block(big[28:])
    yield "fr-over-limit", simple([(coded_frame(big, over), big)])
    cb = raw_block(text)
    yield "fr-coded-raw-block", simple([(coded_frame(text, cb), text)])
    yield "fr-coded-empty-body", simple([(coded_frame(text, b""), text)])
    yield "fr-coded-extra-byte", simple([(coded_frame(text, cb + b"\0"), text)])
    # --- index and trailer
    def mut(i, f, d):
        def m(entries):
            entries[i][f] += d
        return m
    for f, nm in enumerate(["gap", "enclen", "raw", "prim", "ref", "delta", "iter", "lit"]):
        yield "i-%s+1" % nm, simple([sf], index_mutator=mut(0, f, 1))
    yield "i-extra-entry", simple([sf], index_mutator=lambda e: e.append(list(e[0])))
    yield "i-no-entry", simple([sf], index_mutator=lambda e: e.clear())
    for f, nm in enumerate(["raw", "frames", "offset", "crc"]):
        def tm(tr, f=f):
            tr[f] += 1
        yield "t-%s+1" % nm, simple([sf], trailer_mutator=tm)
    yield "i-extra-byte", simple([sf], index_extra=b"\0")
    yield "t-extra-byte", simple([sf], trailer_extra=b"\0")
    yield "t-huge-fields", simple([sf], trailer_extra=b"\0" * 27)  # payload 40 > 39
    tb = bytearray(simple([sf]))
    tb[-1] ^= 1
    yield "t-length-byte", bytes(tb)
    yield "i-overlong-entry", overlong_index(sf)
    yield "h-length-11", glyph(3, 0x7E, b"SGMA\x05\x03\x02" + u32(0)) + simple([sf])[len(hdr):]
    # --- compact streams (section 3.1)
    cb = raw_block(text)
    yield "cs-empty", compact(0, 0, b"")
    yield "cs-stored", compact(len(text), 0, text)
    yield "cs-coded", compact(len(text), 1, cb, text)
    yield "cs-stored-max", compact(131072, 0, big * 32)
    yield "cs-raw-over", compact(131073, 1, cb, text)
    yield "cs-stored-over", compact(131073, 0, big * 32 + b"x")
    yield "cs-bad-check", compact(len(text), 1, cb, text, check=1)
    yield "cs-check-of-content-only", compact(len(text), 1, cb, text,
                                             check=P.crc32c(text))
    yield "cs-level-0", compact(len(text), 0, text, level=0)
    yield "cs-level-10", compact(len(text), 0, text, level=10)
    yield "cs-version-4", compact(len(text), 0, text, version=4)
    yield "cs-method-2", compact(len(text), 2, text)
    yield "cs-stored-short", compact(len(text) + 1, 0, text)
    yield "cs-coded-no-body", compact(len(text), 1, b"", text)
    yield "cs-coded-no-content", compact(0, 1, cb, b"")
    yield "cs-stored-empty-method-1", compact(0, 1, b"", b"")
    yield "cs-coded-wrong-size", compact(len(text) + 1, 1, cb, text)
    yield "cs-coded-extra-byte", compact(len(text), 1, cb + b"\0", text)
    yield "cs-overlong-raw", compact(len(text), 0, text, raw_field=varint(len(text))[:-1]
                                    + bytes([varint(len(text))[-1] | 0x80, 0]))
    yield "cs-no-fields", glyph(3, 0x7E, b"SGMA\x05\x03\x00")
    yield "cs-no-check", glyph(3, 0x7E, b"SGMA\x05\x03\x00\x00\x00")
    yield "cs-twice", compact(len(text), 0, text) + compact(0, 0, b"")
    yield "cs-then-stream", compact(len(text), 0, text) + simple([sf])
    yield "cs-then-garbage", compact(len(text), 0, text) + b"\0"
    yield "cs-then-frame", compact(len(text), 0, text) + stored_frame(text)
    yield "cs-meta", compact(len(text), 1, cb, text, meta=meta_fields())
    yield "cs-meta-empty", compact(0, 0, b"", meta=meta_fields(name=b""))
    yield "cs-meta-slash", compact(len(text), 0, text, meta=meta_fields(name=b"a/b"))
    yield "cs-meta-dotdot", compact(len(text), 0, text, meta=meta_fields(name=b".."))
    yield "cs-meta-mode", compact(len(text), 0, text, meta=meta_fields(mode=0o10000))
    yield "cs-meta-nanos", compact(len(text), 0, text, meta=meta_fields(nanos=10 ** 9))
    yield "cs-meta-long-name", compact(len(text), 0, text, meta=meta_fields(name=b"n" * 65000))
    yield "cs-meta-too-long", compact(len(text), 0, text, meta=meta_fields(name=b"n" * 65530))
    yield "cs-meta-name-past-end", compact(0, 0, b"", meta=varint(200) + b"ab")
    yield "cs-form-4", compact(len(text), 4, text)
    yield "cs-form-3-no-meta", compact(len(text), 1, cb, text)[:11] + b"\x03" \
        + compact(len(text), 1, cb, text)[12:]
    yield "h-length-22", header(extra=b"\0" * 9) + simple([sf])[len(hdr):]
    # --- varints inside bodies: not the shortest form, longer than 10 bytes
    yield "b-overlong-raw-len", simple([(coded_frame(text, bytes([0, 0x87, 0x81, 0x00])
                                                     + text), text)])
    yield "b-11-byte-raw-len", simple([(coded_frame(text, bytes([0, 0x87] + [0x81] * 9 + [0])
                                                    + text), text)])
    yield "b-overlong-n-lits", simple([(coded_frame(text, bytes([1]) + varint(len(text))
                                                    + bytes([0x87, 0x81, 0x00]) + varint(0)
                                                    + bytes([0]) + text), text)])
    # --- coded bodies: literal sections
    ab = b"abracadabra, abracadabra! " * 4
    lsec, lengths = lits_huffman_new(ab)
    yield "b-huff-lits-only", simple([(coded_frame(ab, coded_block(len(ab), len(ab), 0, lsec)),
                                       ab)])
    big_lits = bytes((i * 7 + (i >> 3)) % 50 + 40 for i in range(3000))
    lsec4, _ = lits_huffman_new(big_lits)
    yield "b-huff-4-streams", simple([(coded_frame(big_lits, coded_block(3000, 3000, 0, lsec4)),
                                       big_lits)])
    # 4 streams with n_lits = 1025 (short last stream)
    l1025 = big_lits[:1025]
    s1025, _ = lits_huffman_new(l1025)
    yield "b-huff-1025", simple([(coded_frame(l1025, coded_block(1025, 1025, 0, s1025)), l1025)])
    # repeat mode after raw / one-byte literal modes in between
    b1 = coded_block(len(ab), len(ab), 0, lsec)
    b2 = coded_block(10, 10, 0, bytes([0]) + b"0123456789")
    b3 = coded_block(7, 7, 0, bytes([3]) + b"z")
    b4 = coded_block(len(ab), len(ab), 0, bytes([2]) + literal_streams(ab, lengths))
    content = ab + b"0123456789" + b"z" * 7 + ab
    yield "b-repeat-after-raw-and-one", simple([(coded_frame(content, b1 + b2 + b3 + b4),
                                                 content)])
    yield "b-repeat-after-raw-block", simple([(coded_frame(ab + text + ab, b1 + raw_block(text)
                                                           + b4), ab + text + ab)])
    yield "b-repeat-first", simple([(coded_frame(ab, b4), ab)])
    # repeat in the next frame (state does not carry across frames)
    yield "b-repeat-next-frame", simple([(coded_frame(ab, b1), ab), (coded_frame(ab, b4), ab)])
    # single-symbol code via mode 1: stream of 0 bytes, of 1 byte
    zz = b"q" * 50
    lq = [0] * 256
    lq[ord("q")] = 3
    dq = huffman_description(lq).getvalue()
    yield "b-huff-single-0", simple([(coded_frame(zz, coded_block(50, 50, 0, bytes([1]) + dq
                                                                  + varint(0))), zz)])
    yield "b-huff-single-1", simple([(coded_frame(zz, coded_block(50, 50, 0, bytes([1]) + dq
                                                                  + varint(1) + b"\0")), zz)])
    # stream padding bits not zero; whole byte left; stream short
    hs = huffman_stream(ab, lengths, pad_bits=0x7F)
    desc = huffman_description(lengths).getvalue()
    yield "b-huff-pad-bits", simple([(coded_frame(ab, coded_block(
        len(ab), len(ab), 0, bytes([1]) + desc + varint(len(hs)) + hs)), ab)])
    desc_padded = huffman_description(lengths).getvalue(0xFF)
    yield "b-desc-pad-bits", simple([(coded_frame(ab, coded_block(
        len(ab), len(ab), 0, bytes([1]) + desc_padded + literal_streams(ab, lengths))), ab)])
    hs2 = huffman_stream(ab, lengths) + b"\0"
    yield "b-huff-extra-byte", simple([(coded_frame(ab, coded_block(
        len(ab), len(ab), 0, bytes([1]) + desc + varint(len(hs2)) + hs2)), ab)])
    hs3 = huffman_stream(ab, lengths)[:-1]
    yield "b-huff-short", simple([(coded_frame(ab, coded_block(
        len(ab), len(ab), 0, bytes([1]) + desc + varint(len(hs3)) + hs3)), ab)])
    yield "b-lit-mode-4", simple([(coded_frame(ab, coded_block(len(ab), len(ab), 0,
                                                               bytes([4]) + ab)), ab)])
    # Huffman description with run tokens; token 12 after zeros; too many lengths
    lt = [0] * 256
    for ch in b"abcd":
        lt[ch] = 2
    # symbols 0..96 zero (14: 11+86), a-d = 2 2 2 2 (2, 12 x3)
    toks = [(14, 97 - 11), (2, 0), (12, 0)]
    d_ok = huffman_description(lt, toks).getvalue()
    abcd = b"abcdabcddcba" * 3
    yield "b-desc-runs", simple([(coded_frame(abcd, coded_block(
        len(abcd), len(abcd), 0, bytes([1]) + d_ok + literal_streams(abcd, lt))), abcd)])
    # lengths: 97 zeros as 13 (3+7=10 zeros) ... then token 12 repeating a 0
    lt2 = [0] * 256
    lt2[100] = 1
    lt2[101] = 1
    toks2 = [(14, 86)] + [(0, 0)] * 3 + [(1, 0), (1, 0)]  # 97 zeros, 3 zeros, 1, 1
    d2 = huffman_description(lt2, toks2).getvalue()
    de = bytes([100, 101, 101, 100] * 5)
    yield "b-desc-zero-tokens", simple([(coded_frame(de, coded_block(
        20, 20, 0, bytes([1]) + d2 + literal_streams(de, lt2))), de)])
    toks3 = [(14, 86), (13, 0), (1, 0), (1, 0)]  # 97 + 3 zeros via 13
    d3 = huffman_description(lt2, toks3).getvalue()
    yield "b-desc-13", simple([(coded_frame(de, coded_block(
        20, 20, 0, bytes([1]) + d3 + literal_streams(de, lt2))), de)])
    toks4 = [(14, 86), (0, 0), (12, 0), (1, 0), (1, 0)]  # a 0, then 12 repeats it 3 times
    lt4 = [0] * 256
    lt4[101] = lt4[102] = 1
    d4 = huffman_description(lt4, toks4).getvalue()
    de4 = bytes([101, 102, 102, 101] * 5)
    yield "b-desc-12-after-0", simple([(coded_frame(de4, coded_block(
        20, 20, 0, bytes([1]) + d4 + literal_streams(de4, lt4))), de4)])
    toks5 = [(14, 86), (13, 0), (12, 0), (1, 0), (1, 0)]  # 12 right after a 13 run
    lt5 = [0] * 256
    lt5[103] = lt5[104] = 1
    d5 = huffman_description(lt5, toks5).getvalue()
    de5 = bytes([103, 104, 104, 103] * 5)
    yield "b-desc-12-after-13", simple([(coded_frame(de5, coded_block(
        20, 20, 0, bytes([1]) + d5 + literal_streams(de5, lt5))), de5)])
    toks6 = [(12, 0)] + [(0, 0)] * 97 + [(1, 0), (1, 0)]
    d6 = huffman_description(lt2, toks6).getvalue()
    yield "b-desc-12-first", simple([(coded_frame(de, coded_block(
        20, 20, 0, bytes([1]) + d6 + literal_streams(de, lt2))), de)])
    toks7 = [(14, 86), (13, 0), (1, 0), (12, 0)]  # 12 gives more than used
    d7 = huffman_description(lt2, toks7).getvalue()
    yield "b-desc-too-many", simple([(coded_frame(de, coded_block(
        20, 20, 0, bytes([1]) + d7 + literal_streams(de, lt2))), de)])
    # incomplete literal code; over-subscribed; single pre-code symbol
    li = [0] * 256
    li[97] = 1
    li[98] = 2
    tk = [(0, 0)] * 97 + [(1, 0), (2, 0)]
    di = huffman_description(li, tk).getvalue()
    yield "b-desc-incomplete", simple([(coded_frame(b"ab" * 5, coded_block(
        10, 10, 0, bytes([1]) + di + varint(2) + b"\0\0")), b"ab" * 5)])
    ls = [0] * 256
    ls[0] = 4
    ds = huffman_description(ls, [(4, 0)]).getvalue()  # one pre-code symbol, used = 1
    z0 = bytes(9)
    yield "b-desc-single-precode", simple([(coded_frame(z0, coded_block(
        9, 9, 0, bytes([1]) + ds + varint(0))), z0)])
    # --- sequences
    lits = b"hello, world! "
    seqs = [(14, 28, 14 + 3), (0, 6, 1)]
    out = run_seqs(lits, seqs)
    lsec_raw = bytes([0]) + lits

    def seq_frame(seqs, lits, lsec=None, **kw):
        sec, _ = sequence_section(seqs, **kw)
        out = run_seqs(lits, seqs)
        ls = lsec if lsec is not None else (bytes([0]) + lits if lits else b"")
        return coded_frame(out, coded_block(len(out), len(lits), len(seqs), ls, sec)), out

    yield "s-predefined", simple([seq_frame(seqs, lits)])
    # tables of every accuracy log 0-9 (mode 2), two symbols per alphabet where possible;
    # logs 1 and 3 (rejected) get a stream as a decoder that ignored the rule would read it
    for log in (1, 3):
        g, content = degenerate_log(log)
        s = Stream()
        s.add(g, content, [1, 0, 0, 1, 2])
        yield "s-log-%d" % log, s.build()[0]
    for log in (0, 2, 4, 5, 6, 7, 8, 9):
        size = 1 << log
        a, b = size - size // 2, size // 2
        llc, mlc, ofc = [0] * 64, [0] * 64, [0] * 64
        llc[1], llc[0] = a, b
        mlc[3], mlc[6] = a, b
        ofc[0] = size
        sq = [(1, 6, 1), (0, 9, 1), (1, 6, 1), (0, 9, 1), (1, 6, 1)] if b else [(1, 6, 1)] * 5
        xs = b"x" * sum(1 for q in sq if q[0])
        yield "s-log-%d" % log, simple([seq_frame(sq, xs, modes=(2, 2, 2), tables=(
            (llc, log), (mlc, log), (ofc, log)))])
    yield "s-single-modes", simple([seq_frame([(14, 6, 17), (0, 6, 17)], lits,
                                              modes=(2, 1, 1), singles=(0, 3, 17),
                                              tables=(([2] + [0] * 13 + [2] + [0] * 49, 2),
                                                      None, None))])
    yield "s-desc-pad-bits", simple([seq_frame([(14, 6, 17), (0, 6, 17)], lits,
                                               modes=(2, 1, 1), singles=(0, 3, 17), desc_pad=0xFF,
                                               tables=(([2] + [0] * 13 + [2] + [0] * 49, 2),
                                                       None, None))])
    sq1 = [(14, 28, 17), (0, 6, 1)]
    # repeat-mode tables in force from the previous block; and in the first block
    f1, o1 = seq_frame(sq1, lits, modes=(2, 2, 2), tables=(
        ([2] + [0] * 13 + [2] + [0] * 49, 2), ([0, 0, 0, 3] + [0] * 13 + [1] + [0] * 46, 2),
        ([1] + [0] * 16 + [3] + [0] * 46, 2)))
    yield "s-mode2", simple([(f1, o1)])
    t_ll = P.build_tans([2] + [0] * 13 + [2] + [0] * 49, 2)
    yield "s-repeat-first-block", simple([seq_frame(sq1, lits, modes=(3, 0, 0),
                                                    tables=(t_ll, None, None))])
    # two blocks: the second repeats the first block's LL table
    sec_a, built = sequence_section(sq1, modes=(2, 0, 0), tables=(
        ([2] + [0] * 13 + [2] + [0] * 49, 2), None, None))
    oa = run_seqs(lits, sq1)
    ba = coded_block(len(oa), len(lits), 2, bytes([0]) + lits, sec_a)
    sec_b, _ = sequence_section([(14, 6, 1), (0, 8, 1)], modes=(3, 0, 0),
                                tables=(built[0], None, None))
    # The second block's repeat distances continue from the first block's (r0 = 14).
    full = bytearray(oa) + lits[:14]
    for _ in range(6 + 8):
        full.append(full[-14])
    bb = coded_block(len(full) - len(oa), len(lits), 2, bytes([0]) + lits, sec_b)
    yield "s-repeat-next-block", simple([(coded_frame(bytes(full), ba + bb), bytes(full))])
    # modes byte bits 6-7, offset code 3, distance too far, copy past block, lit_len too big
    yield "s-modes-bit-6", simple([seq_frame(seqs, lits, modes_byte=0x40)])
    yield "s-offset-code-3", simple([bad_offset3(lits)])
    yield "s-distance-too-far", simple([seq_frame([(14, 6, 18)], lits)])
    yield "s-distance-equal", simple([seq_frame([(14, 6, 17)], lits)])
    yield "s-repeat-1-first", simple([seq_frame([(1, 4, 1)], b"x")])
    yield "s-copy-before-data", simple([seq_frame([(0, 4, 4)], b"")])
    yield "s-initial-repeat-4", simple([seq_frame([(4, 4, 2)], b"wxyz")])
    yield "s-initial-repeat-8", simple([seq_frame([(8, 4, 3)], b"abcdefgh")])
    yield "s-repeat-ll0", simple([seq_frame([(14, 6, 17), (0, 5, 4), (0, 6, 2), (0, 7, 3),
                                             (0, 4, 1)], lits)])
    yield "s-new-distance-1", simple([seq_frame([(1, 9, 4)], b"r")])
    yield "s-copy-3", simple([seq_frame([(3, 3, 6)], b"abc")])
    yield "s-copy-3-rep", simple([seq_frame([(3, 3, 6), (1, 3, 1)], b"abcx")])
    # n_seqs > raw_len / 3; n_lits > raw_len; raw_len 0; kind 2
    sec, _ = sequence_section([(1, 4, 4), (0, 4, 4)])
    yield "s-too-many-seqs", simple([(coded_frame(b"a" * 9, coded_block(
        9, 1, 2, bytes([0]) + b"a", sec)), b"a" * 9)])
    yield "s-nseqs-limit", simple([(coded_frame(b"a" * 9, raw_block(b"a") + coded_block(
        8, 0, 2, b"", sequence_section([(0, 4, 4), (0, 4, 4)])[0])), b"a" * 9)])
    yield "b-nlits-over", simple([(coded_frame(b"abc", coded_block(
        3, 4, 0, bytes([0]) + b"abcd")), b"abc")])
    yield "b-raw-len-0", simple([(coded_frame(b"abc", bytes([0, 0]) + raw_block(b"abc")),
                                  b"abc")])
    yield "b-kind-2", simple([(coded_frame(b"abc", bytes([2]) + raw_block(b"abc")[1:]),
                               b"abc")])
    yield "b-raw-len-over", simple([(coded_frame(b"abc", raw_block(b"abcd")), b"abc")])
    yield "b-empty-coded-block", simple([(coded_frame(b"abc", coded_block(3, 0, 0)), b"abc")])
    # sequence stream: extra zero byte, bits left, empty stream, runs out
    yield "s-stream-zero-last", simple([seq_frame(seqs, lits, stream_mutator=lambda s:
                                                  s + b"\0")])
    yield "s-stream-bits-left", simple([seq_frame(seqs, lits, stream_mutator=lambda s:
                                                  bits_left(s))])
    yield "s-stream-empty", simple([seq_frame(seqs, lits, stream_mutator=lambda s: b"")])
    yield "s-stream-short", simple([seq_frame(seqs, lits, stream_mutator=lambda s: s[1:])])
    yield "s-counts-last-no-state", simple([counts_no_state(lits)])
    yield "s-counts-log-10", simple([counts_log(lits, 10)])
    yield "s-counts-11-zeros", simple([counts_zeros(lits, 11)])
    yield "s-counts-10-zeros", simple([counts_zeros(lits, 10)])
    # copy across blocks of one frame; raw block 1 MiB + 1
    p1 = b"0123456789abcdef" * 4
    sec, _ = sequence_section([(0, 64, 64 + 3)])
    cross = p1 + p1
    yield "s-copy-prev-block", simple([(coded_frame(cross, raw_block(p1) + coded_block(
        64, 0, 1, b"", sec)), cross)])
    mib = bytes(1 << 20)
    s_big = Stream(chunk=2 << 20)
    s_big.add(coded_frame(mib + b"\0", bytes([0]) + varint((1 << 20) + 1) + mib + b"\0"),
              mib + b"\0")
    yield "b-raw-block-1mib+1", s_big.build()[0]
    s_big = Stream(chunk=2 << 20)
    s_big.add(coded_frame(mib + b"\0", raw_block(mib) + raw_block(b"\0")), mib + b"\0")
    yield "b-raw-block-1mib", s_big.build()[0]
    # --- frame groups (section 5, 7.4.5): frame k is linked unless k % G == 0, and only a
    # linked frame's copies may reach into the previous frame's content (h bytes)
    def linked(prev, seqs, lits=b""):
        out = run_seqs(lits, seqs, prefix=prev)
        sec, _ = sequence_section(seqs)
        ls = bytes([0]) + lits if lits else b""
        return coded_frame(out, coded_block(len(out), len(lits), len(seqs), ls, sec)), out

    def grouped(frames, group=2):
        s = Stream(group=group)
        for f in frames:
            s.add(*f)
        return s.build()[0]

    h = len(text)
    to_start = linked(text, [(0, 20, 3 + h)])  # distance h at position 0: byte 0 of text
    yield "g-linked-copy", grouped([sf, to_start])
    yield "g-linked-distance-max", grouped([sf, linked(text, [(5, 8, 3 + 5 + h)], b"12345")])
    yield "g-linked-distance-over", grouped([sf, linked(text, [(5, 8, 4 + 5 + h)], b"12345")])
    yield "g-linked-distance-0-over", grouped([sf, linked(text, [(0, 8, 4 + h)])])
    yield "g-linked-overlap", grouped([sf, linked(text, [(0, 12, 3 + 3)])])
    yield "g-linked-straddle", grouped([sf, linked(text, [(2, 30, 3 + 12)], b"#!")])
    yield "g-linked-repeat-1", grouped([sf, linked(text, [(0, 6, 1)])])
    yield "g-linked-repeat-8", grouped([sf, linked(text, [(0, 8, 3)])])
    yield "g-linked-repeat-4-swap", grouped([sf, linked(text, [(0, 5, 2)])])
    yield "g-group-1", grouped([sf, to_start], group=1)
    yield "g-group-1-no-copy", grouped([sf, sf], group=1)
    yield "g-across-groups", grouped([sf, sf, to_start])
    yield "g-group-3", grouped([sf, sf, to_start], group=3)
    yield "g-group-3-fourth", grouped([sf, sf, sf, to_start], group=3)
    xs = (b"X" * 50, b"X" * 50)
    xf = (stored_frame(xs[0]), xs[0])
    yield "g-history-is-one-frame", grouped([sf, xf, linked(xs[0], [(0, 8, 4 + 50)])],
                                            group=3)
    yield "g-history-previous-only", grouped([sf, xf, linked(xs[0], [(0, 8, 3 + 50)])],
                                             group=3)
    f0, o0 = seq_frame(seqs, lits)
    yield "g-coded-history", grouped([(f0, o0), linked(o0, [(3, 40, 3 + 3 + len(o0))],
                                                        b"abc")])
    body2 = raw_block(b"abcd") + coded_block(20, 0, 1, b"", sequence_section(
        [(0, 20, 3 + 4 + h)])[0])
    yield "g-linked-second-block", grouped([sf, (coded_frame(b"abcd" + text[:20], body2),
                                                 b"abcd" + text[:20])])
    body3 = raw_block(b"abcd") + coded_block(20, 0, 1, b"", sequence_section(
        [(0, 20, 4 + 4 + h)])[0])
    yield "g-linked-second-block-over", grouped([sf, (coded_frame(
        b"abcd" + bytes(20), body3), b"abcd" + bytes(20))])
    # concatenated streams count frames from 0 again: a second stream's frame 0 is not
    # linked to the first stream's last frame
    yield "g-concat-restart", grouped([sf]) + grouped([to_start])
    yield "g-concat-linked", grouped([sf]) + grouped([sf, to_start])
    # G = 16: a chain of 16 linked copies, then frame 16 starts a new group
    chain = [sf]
    for _ in range(15):
        chain.append(linked(chain[-1][1], [(0, 20, 3 + len(chain[-1][1]))]))
    yield "g-group-16", grouped(chain + [sf], group=16)
    yield "g-group-16-next-group", grouped(chain + [linked(chain[-1][1], [(0, 20, 23)])],
                                           group=16)
    yield "g-group-16-linked-last", grouped(chain[:-1] + [
        linked(chain[-2][1], [(0, 20, 23)])], group=16)


def degenerate_log(log):
    """LL counts {1: size/2, 2: size/2} of log 1 or 3: the spread step (4 or 8) is a multiple
    of the size, so every placement lands on state 0; one sequence decoded from state 0."""
    size = 1 << log
    ll = [0] * 64
    ll[1] = ll[2] = size // 2
    w = FwdWriter()
    counts_description(w, ll, log)
    w.write(0, 6)  # ML single: code 0, match length 4
    w.write(0, 6)  # OF single: code 0, repeat distance 1
    stream = backward_stream([(0, log), (0, 0), (0, 0)])
    sec = bytes([2 | 1 << 2 | 1 << 4]) + w.getvalue() + varint(len(stream)) + stream
    content = b"ab" + b"b" * 4
    return coded_frame(content, coded_block(6, 2, 1, bytes([0]) + b"ab", sec)), content


def overlong_index(sf):
    """A stream whose index gives the first entry's gap (0) as `80 00`."""
    g, content = sf
    hdr = header()
    out = hdr + g
    e = [0, len(g), len(content), 1, 0, 0, 0, len(content)]
    fields = varint(1) + b"\x80\x00" + b"".join(varint(v) for v in e[1:])
    ioff = len(out)
    out += with_crc(1, 0x0A, fields)
    tf = varint(len(content)) + varint(1) + varint(ioff) + u32(P.crc32c(content))
    h = head(0, 0x04, len(tf) + 5)
    return out + h + tf + u32(P.crc32c(h + tf)) + bytes([len(h) + len(tf) + 5])


def bits_left(s):
    """Adds one data bit below all the others: the decoder reads every field as before
    and ends with one bit unread."""
    v = int.from_bytes(s, "little") << 1
    return v.to_bytes((v.bit_length() + 7) // 8, "little")


def bad_offset3(lits):
    """A sequence with offset code 3, via a single-symbol OF table."""
    w = FwdWriter()
    w.write(14, 6)
    w.write(0, 6)
    w.write(3, 6)
    sec = bytes([1 | 1 << 2 | 1 << 4]) + w.getvalue() + varint(1) + b"\x01"
    return coded_frame(lits + lits[:4], coded_block(18, 14, 1, bytes([0]) + lits, sec)), \
        lits + lits[:4]


def counts_no_state(lits):
    w = FwdWriter()
    w.write(2, 4)  # log 2
    w.write(1, 6)  # used 2
    gamma(w, 5)  # symbol 0 count 4: leaves nothing for symbol 1
    w.write(0, 6)
    w.write(0, 6)
    sec = bytes([2 | 1 << 2 | 1 << 4]) + w.getvalue() + varint(1) + b"\x01"
    return coded_frame(lits + lits[:4], coded_block(18, 14, 1, bytes([0]) + lits, sec)), \
        lits + lits[:4]


def counts_log(lits, log):
    w = FwdWriter()
    w.write(log, 4)
    w.write(0, 6)
    w.write(0, 6)
    w.write(17, 6)
    sec = bytes([2 | 1 << 2 | 1 << 4]) + w.getvalue() + varint(1) + b"\x01"
    return coded_frame(lits + lits[:4], coded_block(18, 14, 1, bytes([0]) + lits, sec)), \
        lits + lits[:4]


def counts_zeros(lits, zeros):
    """An LL count code with `zeros` leading zeros (a count of 2^zeros - 1, log 9 used 2)."""
    w = FwdWriter()
    w.write(9, 4)
    w.write(1, 6)
    w.write(0, zeros)
    w.write(1, 1)
    w.write(0, zeros)
    w.write(0, 6)
    w.write(17, 6)
    sec = bytes([2 | 1 << 2 | 1 << 4]) + w.getvalue() + varint(1) + b"\x01"
    return coded_frame(lits + lits[:4], coded_block(18, 14, 1, bytes([0]) + lits, sec)), \
        lits + lits[:4]


# ---------------------------------------------------------------------------------------
# Corruptions of real streams


def layout(data):
    """The glyphs of a file whose heads parse (a valid file): list of pysigma Glyphs."""
    pos = 0
    out = []
    while pos < len(data):
        g = P.read_glyph_head(data, pos)
        out.append(g)
        pos = g.end
    return out


def _frame_fields(buf, g):
    raw_size, q = P.read_varint(buf, g.payload_start, g.end)
    return raw_size, q  # method at q, raw CRC q+1..q+5, frame CRC q+5..q+9, body q+9..


def compact_fields(buf, g):
    """For a compact stream glyph: (raw size, position of its form byte, position of its
    check); else None."""
    p = g.payload_start
    if g.key != P.G_HEADER or g.length < 7 or buf[p + 6] != 0:
        return None
    try:
        raw_size, q = P.read_varint(bytes(buf), p + 7, g.end)
        c = q + 1
        if buf[q] & 2:
            c = P.parse_metadata_fields(bytes(buf), c, g.end)
    except (P.SigmaError, IndexError):
        return None  # fields a flip broke: nothing to reseal
    return raw_size, q, c


def reseal_glyph(buf, g):
    """Recomputes the CRC of glyph `g` of bytearray `buf` in place (original layout); a
    compact stream's check only when pysigma decodes its body."""
    cf = compact_fields(buf, g)
    if cf is not None:
        raw_size, q, c = cf
        body = bytes(buf[c + 4:g.end])
        try:
            if buf[q] & 1 == 0 and len(body) == raw_size:
                content = body
            elif buf[q] & 1 == 1:
                content, _ = P.decode_body(body, raw_size, b"")
            else:
                return
        except P.BodyError:
            return
        crc = P.crc32c(body, P.crc32c(bytes(buf[g.start:c])))
        buf[c:c + 4] = u32(P.crc32c(content, crc))
    elif g.key == P.G_FRAME:
        _, q = _frame_fields(buf, g)
        crc = P.crc32c(buf[q + 9:g.end], P.crc32c(buf[g.start:q + 5]))
        buf[q + 5:q + 9] = u32(crc)
    elif g.key == P.G_TRAILER:
        buf[g.end - 5:g.end - 1] = u32(P.crc32c(buf[g.start:g.end - 5]))
    elif g.key in (P.G_HEADER, P.G_META, P.G_INDEX):
        buf[g.end - 4:g.end] = u32(P.crc32c(buf[g.start:g.end - 4]))


def reindex(buf):
    """Makes a file whose frame bodies were altered consistent again where pysigma can
    decode them: raw and frame CRCs, then every stream's index and trailer are rebuilt
    (frames keep their lengths, so every position stays). A body pysigma rejects only gets
    its frame CRC back. Returns bytes."""
    out = bytearray()
    pos = 0
    data = bytes(buf)
    while pos < len(data):
        sstart = pos
        hdr = P.read_glyph_head(data, pos)
        if compact_fields(data, hdr) is not None:
            seg = bytearray(data[hdr.start:hdr.end])
            reseal_glyph(seg, P.read_glyph_head(bytes(seg), 0))
            out += seg
            pos = hdr.end
            continue
        chunk, _, group = P.parse_header(data, pos)
        out += data[hdr.start:hdr.end]
        pos = hdr.end
        prev_end = pos
        entries = []
        total = bytearray()
        prev = b""  # the previous frame's content as decoded now: a linked frame's history
        while True:
            g = P.read_glyph_head(data, pos)
            if g.key == P.G_INDEX:
                break
            seg = bytearray(data[g.start:g.end])
            if g.key == P.G_FRAME:
                local = P.read_glyph_head(bytes(seg), 0)
                raw_size, q = _frame_fields(bytes(seg), local)
                method, body = seg[q], bytes(seg[q + 9:])
                history = prev if len(entries) % group else b""
                prev = b""
                try:
                    if method == 0 and len(body) == raw_size:
                        content, counts = body, [1, 0, 0, 0, raw_size]
                    elif method == 1:
                        content, counts = P.decode_body(body, raw_size, history)
                    else:
                        raise P.BodyError(0, "method")
                    seg[q + 1:q + 5] = u32(P.crc32c(content))
                    total += content
                    prev = bytes(content)
                except P.BodyError:
                    counts = None
                reseal_glyph(seg, local)
                entries.append([g.start - prev_end, g.end - g.start, raw_size] + (
                    counts or [1, 0, 0, 0, raw_size]))
                prev_end = g.end
            out += seg
            pos = g.end
        fields = varint(len(entries))
        for e in entries:
            for v in e:
                fields += varint(v)
        index_offset = pos - sstart
        out += with_crc(1, 0x0A, fields)
        g = P.read_glyph_head(data, pos)  # the old index
        t = P.read_glyph_head(data, g.end)  # the trailer
        tf = varint(len(total)) + varint(len(entries)) + varint(index_offset) \
            + u32(P.crc32c(total))
        h = head(0, 0x04, len(tf) + 5)
        out += h + tf + u32(P.crc32c(h + tf)) + bytes([len(h) + len(tf) + 5])
        pos = t.end
    return bytes(out)


def corruptions(name, data, n_flips=12, n_body=16):
    """Yields (name, kind, bytes): raw bit flips, truncations, flips in container fields
    with the glyph's CRC recomputed, and flips in frame bodies with every CRC, the index
    and the trailer rebuilt (`reindex`)."""
    n = len(data)
    for i in range(n_flips):
        pos = min(n - 1, (i * n) // n_flips + (i * 7) % 5)
        b = bytearray(data)
        b[pos] ^= 1 << (i % 8)
        yield "%s.flip%d" % (name, pos), "flip", bytes(b)
    for cut in sorted({0, 1, 2, n // 3, n // 2, n - 15, n - 2, n - 1}):
        if 0 <= cut < n:
            yield "%s.cut%d" % (name, cut), "cut", data[:cut]
    glyphs = layout(data)
    k = 0
    for g in glyphs:
        if g.key in (P.G_HEADER, P.G_META, P.G_INDEX, P.G_TRAILER) and g.length > 5:
            for j, off in enumerate((g.payload_start + 1, (g.payload_start + g.end) // 2)):
                b = bytearray(data)
                b[off] ^= 1 << ((k + j) % 8)
                reseal_glyph(b, g)
                yield "%s.sealed%d" % (name, off), "sealed", bytes(b)
            k += 1
    frames = [g for g in glyphs if g.key == P.G_FRAME]
    coded = []
    for g in glyphs:
        cf = compact_fields(data, g)
        if cf is not None and data[cf[1]] & 1 == 1:
            coded.append((g, cf[2] + 4))
    for g in frames:
        _, q = _frame_fields(data, g)
        if data[q] == 1:
            coded.append((g, q + 9))
    if not coded:
        return
    for i in range(n_body):
        g, body = coded[i % len(coded)]
        size = g.end - body
        if i % 2:
            off = body + (i * 37) % min(size, 96)  # block heads and table descriptions
        else:
            off = body + ((i * size) // n_body + i) % size
        b = bytearray(data)
        b[off] ^= 1 << ((i * 3) % 8)
        yield "%s.body%d" % (name, off), "body", reindex(b)


def main(argv):
    if len(argv) >= 3 and argv[1] == "corrupt":
        out = argv[2]
        os.makedirs(out, exist_ok=True)
        n = 0
        with open(os.path.join(out, "KINDS"), "w") as kinds:
            for path in argv[3:]:
                base = os.path.basename(path).rsplit(".", 1)[0]
                with open(path, "rb") as f:
                    data = f.read()
                for name, kind, blob in corruptions(base, data):
                    with open(os.path.join(out, name + ".sigma"), "wb") as f:
                        f.write(blob)
                    kinds.write("%s.sigma %s\n" % (name, kind))
                    n += 1
        print("%d corrupted copies written to %s" % (n, out))
        return 0
    if len(argv) != 2:
        print("usage: pysigma_craft.py DIR | corrupt DIR STREAM...", file=sys.stderr)
        return 2
    os.makedirs(argv[1], exist_ok=True)
    n = 0
    for name, data in probes():
        with open(os.path.join(argv[1], name + ".sigma"), "wb") as f:
            f.write(data)
        n += 1
    print("%d probes written to %s" % (n, argv[1]))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
