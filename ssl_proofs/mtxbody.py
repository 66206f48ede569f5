"""The entry lines of a Matrix Market file, checked token by token as scipy's parser reads them.

scipy's parser (``fast_matrix_market``) reads a prefix of each token and drops the rest: ``1_0`` is read
as 1, ``0x10`` as 0, ``1.5`` in an ``integer`` field as 1, a fourth field is ignored, and a weight that
underflows (``1e-400``) or overflows (``1e400``) arrives as 0 or inf with its token gone.  A silent wrong
graph (issue 18, class 6).  :class:`CheckedBody` stands between the decompressed stream and the parser:
every complete line is matched against the grammar of its layout and field (tokens in ASCII decimal, the
number of fields the header announces) and every value float64 cannot hold is refused with its line
number, before the parser is handed the bytes.  It reads :data:`BLOCK` bytes at a time and keeps at most
one incomplete line besides, so it adds no copy of the body to the memory the reader was allowed.
"""
from __future__ import annotations

import io
import math
import re

from .errors import GraphFileError

__all__ = ["CheckedBody", "BLOCK"]

#: bytes read and checked at a time (the regular expressions are fastest on blocks of this order)
BLOCK = 1 << 16

_ID = rb"[0-9]+"
_INT = rb"[+-]?[0-9]+"
#: nan and inf as written (scipy reads them whole; check_graph then refuses the graph, as for .npy files)
_NONFINITE = rb"[+-]?(?i:nan|inf|infinity)"
_REAL = rb"[+-]?(?:[0-9]+\.?[0-9]*|\.[0-9]+)(?:[eE][+-]?[0-9]+)?|" + _NONFINITE
#: a real token float64 holds for sure (at most 80 digits, an exponent of two digits: between 1e-180 and
#: 1e180 unless written 0), so that a block of such lines needs no conversion; any other real token is
#: converted on its own to see whether it underflows or overflows
_REAL_SAFE = rb"[+-]?(?:[0-9]{1,40}\.?[0-9]{0,40}|\.[0-9]{1,40})(?:[eE][+-]?[0-9]{1,2})?|" + _NONFINITE
_VALUES = {"real": (_REAL, _REAL_SAFE), "double": (_REAL, _REAL_SAFE), "integer": (_INT, _INT), "pattern": (None, None)}
_FORMS = {("coordinate", True): "'row column value'", ("coordinate", False): "'row column'",
          ("array", True): "'value'"}
_NONZERO_DIGIT = re.compile(rb"[1-9]")


def _line(layout, value):
    fields = ([_ID, _ID] if layout == "coordinate" else []) + ([value] if value else [])
    return rb"(?:[ \t]*" + rb"[ \t]+".join(fields) + rb")?[ \t]*\r?"  # a blank line too: scipy skips them


def _short(token):
    """A token for a message: a long one cut in the middle, with its length."""
    text = token.decode("utf-8", "replace")
    return text if len(text) <= 40 else f"{text[:20]}...{text[-12:]} ({len(text)} characters)"


class CheckedBody(io.RawIOBase):
    """The body of a Matrix Market file read from ``raw``, each line checked before it is served.

    Parameters
    ----------
    raw : binary stream
        The decompressed bytes after the size line (bounded by the caller).
    where : str
        The file, for messages.
    layout, field : str
        As ``scipy.io.mminfo`` reads them from the header.
    first_line : int
        The line number of the first body line in the file.
    prefix : bytes
        Served first, unchecked (the header, already read and checked by the caller).

    ``error`` holds the :class:`~ssl_proofs.errors.GraphFileError` raised, for a caller whose parser wraps it.
    """

    def __init__(self, raw, where, layout, field, first_line, *, prefix=b""):
        super().__init__()
        full, safe = _VALUES.get(field, (_REAL, _REAL_SAFE))
        self._where, self._layout, self._field = where, layout, field
        self._one = re.compile(_line(layout, full))
        self._fast = re.compile(rb"(?:" + _line(layout, safe) + rb"\n)*")
        self._values = field in ("real", "double")
        self._raw, self._out, self._carry = raw, prefix, []
        self._line, self._eof, self.error = first_line, False, None

    def readable(self):
        return True

    def readinto(self, buffer):
        while not self._out and not self._eof:
            self._fill()
        n = min(len(buffer), len(self._out))
        buffer[:n], self._out = self._out[:n], self._out[n:]
        return n

    def _fill(self):
        data = self._raw.read(BLOCK)
        if not data:
            self._eof = True
            tail, self._carry = b"".join(self._carry), []
            if tail:
                self._check(tail + b"\n")  # the last line need not end in a newline
            self._out = tail
            return
        cut = data.rfind(b"\n") + 1
        if not cut:
            self._carry.append(data)  # one long line: joined once its end arrives
            return
        block = b"".join([*self._carry, data[:cut]])
        self._carry = [data[cut:]]
        self._check(block)
        self._out = block

    def _check(self, block):
        if not self._fast.fullmatch(block):
            for offset, raw in enumerate(block.split(b"\n")[:-1]):  # the slow path: only blocks that need it
                self._check_line(raw, self._line + offset)
        self._line += block.count(b"\n")

    def _check_line(self, raw, lineno):
        why = None
        if not self._one.fullmatch(raw):
            why = self._grammar_error(raw.split()) + " (scipy.io.mmwrite(path, G) writes valid Matrix Market files.)"
        elif self._values and raw.strip() and not re.fullmatch(_NONFINITE, raw.split()[-1]):
            token = raw.split()[-1]
            value = float(token)
            if math.isinf(value):
                why = (f"weight {_short(token)} overflows float64 (above about 1.8e308). Rescale the weights "
                       "(divide G by a constant).")
            elif value == 0 and _NONZERO_DIGIT.search(re.split(rb"[eE]", token)[0]):
                why = (f"weight {_short(token)} underflows to 0 in float64 (the smallest positive weight is about "
                       "5e-324), so the pair would vanish (scipy's reader gives 0 without a word). Rescale the "
                       "weights (multiply G by a constant), or write 0 for no pair.")
        if why is not None:
            shown = raw.strip()[:80].decode("utf-8", "replace")
            self.error = GraphFileError(f"{self._where}, line {lineno}: {shown!r}: {why}")
            raise self.error

    def _grammar_error(self, tokens):
        has_value = self._field != "pattern"
        form = _FORMS.get((self._layout, has_value), "'row column value'")
        expected = (2 if self._layout == "coordinate" else 0) + has_value
        if len(tokens) != expected:
            return (f"has {len(tokens)} field(s); an entry of a {self._layout} {self._field} Matrix Market file is "
                    f"{form}, separated by spaces or tabs, one per line.")
        ids, value = (tokens[:2], tokens[2:]) if self._layout == "coordinate" else ([], tokens)
        for tok in ids:
            if not re.fullmatch(_ID, tok):
                return (f"row/column index {tok.decode('utf-8', 'replace')!r} is not a positive integer written in "
                        "the ASCII digits 0-9 (Matrix Market indices start at 1).")
        if value:
            tok = value[0]
            text = tok.decode("utf-8", "replace")
            if self._field == "integer":
                return (f"weight {text!r} is not an integer written in the ASCII digits 0-9, as the header's field "
                        "'integer' says (scipy would read a prefix of it). Write the file with field 'real' for "
                        "non-integer weights.")
            return (f"weight {text!r} is not a number written in ASCII decimal (digits 0-9, an optional sign, point "
                    "and exponent); scipy would read a prefix of it.")
        return "holds characters other than spaces, tabs and the fields (a form feed, a vertical tab?)."
