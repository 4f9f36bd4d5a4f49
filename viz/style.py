"""How a drawing looks: safe label text, number formatting, and the gradient colour scale."""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

from autograd.reals import shown

# ---- label text ----------------------------------------------------------------------------

# Graphviz expands escapes such as \N (the node's name) even inside HTML-like labels, after
# reading character references, so a backslash must be doubled rather than written as &#92;.
_XML_SPECIAL = {
    "&": "&amp;",
    "<": "&lt;",
    ">": "&gt;",
    '"': "&quot;",
    "'": "&#39;",
    "\\": "\\\\",
}


def _escape_char(c: str) -> str:
    code = ord(c)
    if c in _XML_SPECIAL:
        return _XML_SPECIAL[c]
    if 0x20 <= code < 0x7F:
        return c
    if c == "\t":
        return " "
    # XML cannot carry control characters, lone surrogates or the two non-characters even as
    # entities, so those are shown the way Python writes them (`\x07`) instead of dropped.
    if code < 0x20 or 0x7F <= code < 0xA0 or 0xD800 <= code < 0xE000 or code in (0xFFFE, 0xFFFF):
        shown = f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"
        return shown.replace("\\", _XML_SPECIAL["\\"])
    # Everything else is written as a character reference: the DOT stays pure ASCII, so no
    # encoding setting anywhere can garble it.
    return f"&#{code};"


# Graphviz's `dot` rejects a whole file when one run of text in an HTML-like label reaches
# 16,382 bytes as written in the file (its lexer's buffer): 16,382 'a's, 4,096 '<'s as `&lt;`
# or 2,048 CJK characters as `&#26085;`. No text we show comes near that: every piece (a
# label, an op or scope name, a formatted number) is cut to MAX_TEXT_BYTES escaped bytes, and
# a text cell holds a few pieces at most. 512 bytes is 512 ASCII letters or 64 CJK characters,
# far more than a readable box.
MAX_TEXT_BYTES = 512
ELLIPSIS = "&#8230;"


def html_text(text: str, limit: int = MAX_TEXT_BYTES) -> str:
    """`text` as the content of a Graphviz HTML-like label: it renders as written, line by line.

    Inside `label=<...>` only XML markup is special, and every markup character is escaped here,
    so no text can close the label, start a new attribute or add nodes and edges. Text longer
    than `limit` bytes once escaped is cut at a character and ends in an ellipsis; the full text
    is not kept anywhere in the drawing.
    """
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    out: list[str] = []
    size = 0
    for c in text:
        piece = "<BR/>" if c == "\n" else _escape_char(c)
        if size + len(piece) > limit:
            while size + len(ELLIPSIS) > limit:  # make room for the ellipsis, whole pieces only
                size -= len(out.pop())
            out.append(ELLIPSIS)
            break
        out.append(piece)
        size += len(piece)
    return "".join(out)


# ---- numbers -------------------------------------------------------------------------------

Formatter = Callable[[float], str]


def number_formatter(fmt: str | Formatter) -> Formatter:
    """A function float -> str from a format string such as "{:.4g}", or the callable itself."""
    if callable(fmt):
        f = fmt
    elif isinstance(fmt, str):

        def f(x: float) -> str:
            return fmt.format(x)

    else:
        raise TypeError(
            f"fmt must be a format string like '{{:.4g}}' or a callable, got {type(fmt).__name__}"
        )
    try:
        sample = f(-1.5)
    except (ValueError, IndexError, KeyError, TypeError) as e:
        raise ValueError(f"fmt {shown(fmt)} cannot format a float: {e}") from None
    if not isinstance(sample, str):
        raise TypeError(f"fmt {shown(fmt)} must return a str, got {type(sample).__name__}")
    if isinstance(fmt, str) and f(2.5) == sample:
        raise ValueError(f"fmt {shown(fmt)} shows no number; write it like '{{:.4g}}'")
    return f


# ---- gradient colours ----------------------------------------------------------------------

# Four steps per sign of a light diverging palette (after ColorBrewer's Reds and Blues), light
# enough that black text stays readable on the strongest step.
POSITIVE = ("#fee5d9", "#fcbba1", "#fc9272", "#fb6a4a")
NEGATIVE = ("#eff3ff", "#c6dbef", "#9ecae1", "#6baed6")
ZERO = "#ffffff"
NOT_A_NUMBER = "#d9d9d9"
OP_FILL = "#f0f0f0"
GROUP_FILL = "#fff7bc"
CONSTANT_FILL = "#f7f7f7"  # a constant has no gradient to colour it by
HIGHLIGHT = "#7b3294"
MUTED = "#737373"


@dataclass(frozen=True)
class GradScale:
    """Maps a gradient to a fill colour: its sign picks red or blue, |grad| / top picks the step."""

    top: float  # the largest finite |grad| among the drawn nodes

    def step(self, grad: float) -> int:
        """0 for grad = 0, else 1..4: the quarter of [0, top] that |grad| falls in."""
        if grad == 0.0 or math.isnan(grad):
            return 0
        if self.top == 0.0 or math.isinf(grad):
            return len(POSITIVE)
        return max(1, min(len(POSITIVE), math.ceil(len(POSITIVE) * abs(grad) / self.top)))

    def colour(self, grad: float) -> str:
        """The fill colour for a node whose grad is `grad`."""
        if math.isnan(grad):
            return NOT_A_NUMBER
        s = self.step(grad)
        if s == 0:
            return ZERO
        return (POSITIVE if grad > 0 else NEGATIVE)[s - 1]

    def bounds(self, step: int) -> tuple[float, float]:
        """The range of |grad| that gets `step` (1..4): (lower, upper]."""
        n = len(POSITIVE)
        return self.top * (step - 1) / n, self.top * step / n
