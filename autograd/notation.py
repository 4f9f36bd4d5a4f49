"""How a local derivative is written, in plain text for str() and in LaTeX for Jupyter.

`_Style` is the `facts.Notation` through which each op's entry writes its formula and note;
`rule_strings` writes one factor d out/d operand with names and with numbers. Both the model
(`autograd.explain`, whose factors carry their text) and the renderer (`autograd.explain_render`,
which sets them in LaTeX) write formulas through this module.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from .names import node_name
from .names import number_text as _num
from .ops import data

if TYPE_CHECKING:  # nodes are read through their attributes only
    from .value import Value


@dataclass(frozen=True)
class _Style:
    """How a formula is written (plain text for str(), LaTeX for Jupyter): a `facts.Notation`.

    `values` and `constants` describe the operands of the factor being written.
    """

    latex: bool
    values: tuple[float, ...] = ()
    constants: tuple[bool, ...] = ()

    @property
    def le(self) -> str:
        return "\\le" if self.latex else "≤"

    def name(self, raw: str) -> str:
        """A node's name as it appears inside a formula."""
        return _tex_text(raw) if self.latex else raw

    def atom(self, s: str, base: bool = False) -> str:
        """`s` in parentheses when it would bind wrongly as a factor (or, with base, as a power's base)."""
        binds_loosely = s.startswith("-") or " + " in s or " - " in s
        if self.latex:
            if base and ("^" in s or "\\cdot" in s):
                binds_loosely = True
            return f"\\left({s}\\right)" if binds_loosely else s
        if any(c in s for c in " +-*/·") or (base and ("^" in s or "²" in s)):
            binds_loosely = True
        return f"({s})" if binds_loosely else s

    def mul(self, a: str, b: str) -> str:
        a = self.atom(a)
        return f"{a} \\cdot {self.atom(b)}" if self.latex else f"{a}·{self.atom(b)}"

    def div(self, a: str, b: str) -> str:
        return f"\\frac{{{a}}}{{{b}}}" if self.latex else f"{self.atom(a)}/{self.atom(b)}"

    def pow(self, a: str, e: str) -> str:
        if e == "1":
            return a
        a = self.atom(a, base=True)
        if self.latex:
            return f"{a}^{{{e}}}"
        return f"{a}²" if e == "2" else f"{a}^{self.atom(e)}"

    def ln(self, a: str) -> str:
        return f"\\ln {self.atom(a)}" if self.latex else f"ln({a})"

    def fn(self, name: str, a: str) -> str:
        if not self.latex:
            return f"|{a}|" if name == "abs" else f"{name}({a})"
        if name == "sqrt":
            return f"\\sqrt{{{a}}}"
        if name == "abs":
            return f"\\left|{a}\\right|"
        macro = f"\\{name}" if name in _LATEX_FUNCTIONS else f"\\operatorname{{{name}}}"
        return f"{macro}\\left({a}\\right)"

    def num(self, x: float) -> str:
        return _num(x)

    def value(self, k: int) -> float:
        return self.values[k]

    def constant(self, k: int) -> bool:
        return self.constants[k]


# Functions LaTeX has a macro for (\cos); any other name is set as \operatorname{name}.
_LATEX_FUNCTIONS = frozenset(
    ["sin", "cos", "tan", "arcsin", "arccos", "arctan", "sinh", "cosh", "tanh", "exp", "log", "ln"]
)
TEXT = _Style(latex=False)
LATEX = _Style(latex=True)


def rule_strings(
    v: Value, i: int, names: dict[Value, str], style: _Style = TEXT
) -> tuple[str, str, str]:
    """(formula with names, formula with numbers, note) of d v/d operand_i, from v's rule.

    A rule without a formula gives ("", "") for the first two, one without a note "" for it.
    """
    rule = v._rule
    assert rule is not None  # a node with operands has its rule
    args = v._inputs
    s = _Style(style.latex, tuple(map(data, args)), tuple(type(a) is float for a in args))
    x = [_num(a) if type(a) is float else s.name(_operand_name(a, names)) for a in args]
    out = s.name(_operand_name(v, names))
    note = rule.note(s, x, out, i) if rule.note else ""
    if rule.formula is None:
        return "", "", note
    numbers = [_num(data(a)) for a in args]
    return rule.formula(s, x, out, i), rule.formula(s, numbers, _num(v.data), i), note


def _operand_name(a: Any, names: dict[Value, str]) -> str:
    if type(a) is float:
        return _num(a)
    return names.get(a) or node_name(a)


def repeated_operand(v: Value, operand: Value) -> bool:
    """True when `operand` fills several slots of v (x * x): each slot is an edge of its own."""
    return sum(a is operand for a in v._inputs) > 1


# Characters that would end the math ($), start a macro (\\), unbalance a group, comment out
# the rest of the line (%) or split an aligned row (&), inside \\text{...}.
_TEX_SAFE = str.maketrans(
    {"$": "S", "\\": "/", "{": "(", "}": ")", "#": "No.", "%": "pct", "&": "and"}
)


def _tex_text(name: str) -> str:
    """A node name as LaTeX: mul#2 becomes a subscript, and TeX's special characters are replaced."""
    stem, _, k = name.rpartition("#")
    if not (stem and k.isdigit()):
        stem, k = name, ""
    safe = stem.translate(_TEX_SAFE)
    return f"\\text{{{safe}}}" + (f"_{{{k}}}" if k else "")
