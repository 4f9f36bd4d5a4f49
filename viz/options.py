"""The drawing options: one frozen dataclass, checked once, read by every part of the drawing."""

from __future__ import annotations

from dataclasses import dataclass, field, fields
from typing import Any

from autograd import AnomalyError, Value
from autograd.reals import count, shown

from .style import Formatter, number_formatter

# Measured with Graphviz 2.43 on a shared 2-core machine (dot -Tsvg, scoped ReLU networks):
# 865 Values (1,336 drawn nodes with the op ellipses) lay out in 0.6 s, 1,469 in 3.5 s, 2,053
# in 7.6 s and 2,689 in 13 s; an unfolded 2-16-16-1 MLP on 8 samples (891 Values, wider ranks)
# in 2.9 s. So 1,000 Values is about what dot draws in a few seconds.
DEFAULT_MAX_NODES = 1000
DEFAULT_FORMAT = "{:.4g}"
RANKDIRS = ("LR", "RL", "TB", "BT")
COLLAPSE_LEVELS = ("layer", "neuron")
_FLAGS = (
    "show_data",
    "show_grad",
    "edge_labels",
    "flow",
    "color_by_grad",
    "legend",
    "clusters",
    "check",
)


@dataclass(frozen=True)
class DrawOptions:
    """Every option of `draw_graph`, `to_dot` and `render`; `draw_graph` says what each does."""

    rankdir: str = "LR"
    show_data: bool = True
    show_grad: bool = True
    fmt: str | Formatter = DEFAULT_FORMAT
    edge_labels: bool = True
    flow: bool = False
    highlight: Value | None = None
    color_by_grad: bool = True
    legend: bool = True
    clusters: bool = True
    max_nodes: int = DEFAULT_MAX_NODES
    collapse: str | int | None = None
    focus: Value | None = None
    depth: int = 2
    fan: int = 24
    check: bool = False
    anomaly: AnomalyError | None = None
    number: Formatter = field(init=False, repr=False, compare=False)  # fmt as a function
    # The function the user called, named by every error the drawing raises later.
    entry: str = field(init=False, default="draw_graph", repr=False, compare=False)

    def __post_init__(self) -> None:
        if self.rankdir not in RANKDIRS:
            raise ValueError(f"rankdir must be one of {', '.join(RANKDIRS)}; got {self.rankdir!r}")
        for name in _FLAGS:
            if not isinstance(getattr(self, name), bool):
                raise TypeError(f"{name} must be True or False, got {getattr(self, name)!r}")
        for name in ("highlight", "focus"):
            v = getattr(self, name)
            if v is not None and not isinstance(v, Value):
                raise TypeError(f"{name}= must be a Value of the graph, got {type(v).__name__}")
        if self.anomaly is not None and not isinstance(self.anomaly, AnomalyError):
            raise TypeError(
                f"anomaly= must be the AnomalyError that detect_anomaly() raised, got "
                f"{type(self.anomaly).__name__}"
            )
        # Counts by the engine's rule for them (booleans are 0 and 1), stored as ints.
        for name, least in (("max_nodes", 1), ("depth", 0), ("fan", 1)):
            object.__setattr__(self, name, count(getattr(self, name), name, least))
        if isinstance(self.collapse, str):
            if self.collapse not in COLLAPSE_LEVELS:
                raise ValueError(
                    f"collapse must be 'layer', 'neuron' or a scope depth >= 1; "
                    f"got {shown(self.collapse)}"
                )
        elif self.collapse is not None:
            try:
                depth = count(self.collapse, "collapse", 1)
            except (TypeError, ValueError) as e:
                got = type(self.collapse).__name__ if isinstance(e, TypeError) else None
                raise type(e)(
                    f"collapse must be 'layer', 'neuron' or a scope depth >= 1 (an int); got "
                    f"{got or shown(self.collapse)}"
                ) from None
            object.__setattr__(self, "collapse", depth)
        if self.focus is not None and self.collapse is not None:
            raise ValueError("use either collapse= or focus=, not both")
        object.__setattr__(self, "number", number_formatter(self.fmt))

    @property
    def fill_by_grad(self) -> bool:
        """Boxes are filled by their gradient: asked for, and the gradients are shown."""
        return self.color_by_grad and self.show_grad

    @classmethod
    def parse(cls, entry: str, options: dict[str, Any]) -> DrawOptions:
        """The options given to `entry` (draw_graph, to_dot or render), or an error naming it."""
        known = [f.name for f in fields(cls) if f.init]
        unknown = sorted(set(options) - set(known))
        if unknown:
            raise TypeError(
                f"{entry}() has no option {', '.join(map(repr, unknown))}; "
                f"its options are {', '.join(known)}"
            )
        try:
            parsed = cls(**options)
        except (TypeError, ValueError) as e:
            raise type(e)(f"{entry}(): {e}") from None
        object.__setattr__(parsed, "entry", entry)
        return parsed
