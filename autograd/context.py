"""Recording modes: `no_grad`, `scope` (which module made a node) and `detect_anomaly`.

All three live in one context variable, so threads and asyncio tasks never see each other's
modes. In the common case (recording on, no scope, no anomaly checks) the variable holds
None, and creating a node costs a single `is None` test for all three features.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import AbstractContextManager, contextmanager
from contextvars import ContextVar
from typing import NamedTuple


class Scope:
    """A name for the code that created some nodes (a layer, a neuron); scopes nest."""

    __slots__ = ("name", "parent", "owner")

    def __init__(self, name: str, parent: Scope | None = None, owner: object = None) -> None:
        self.name = name
        self.parent = parent
        self.owner = owner

    @property
    def path(self) -> tuple[str, ...]:
        """Names from the outermost scope down to this one."""
        names: list[str] = []
        s: Scope | None = self
        while s is not None:
            names.append(s.name)
            s = s.parent
        return tuple(reversed(names))

    def __repr__(self) -> str:
        return f"Scope({'/'.join(self.path)!r})"


class State(NamedTuple):
    """What the engine records in this thread or task: the graph or not, in which scope, checked."""

    grad_enabled: bool = True
    scope: Scope | None = None
    anomaly: bool = False


_DEFAULT = State()
STATE: ContextVar[State | None] = ContextVar("chainrule_state", default=None)


def current() -> State:
    """The recording state in force in this thread or task."""
    return STATE.get() or _DEFAULT


@contextmanager
def _using(state: State) -> Iterator[State]:
    token = STATE.set(None if state == _DEFAULT else state)
    try:
        yield state
    finally:
        STATE.reset(token)


@contextmanager
def no_grad() -> Iterator[None]:
    """Inside this block, results are leaves: no graph is recorded."""
    with _using(current()._replace(grad_enabled=False)):
        yield


@contextmanager
def enable_grad() -> Iterator[None]:
    """Record graphs again inside a `no_grad` block."""
    with _using(current()._replace(grad_enabled=True)):
        yield


def is_grad_enabled() -> bool:
    """True when operations record a graph here."""
    return current().grad_enabled


def scope(name: str, owner: object = None) -> AbstractContextManager[Scope]:
    """Tag every node created inside the block with a `Scope` named `name`, nested in the outer one."""
    if not isinstance(name, str):  # refused here: a drawing would fail much later on it
        raise TypeError(f"scope() needs a str name, got {type(name).__name__}")
    return _scope(name, owner)


@contextmanager
def _scope(name: str, owner: object) -> Iterator[Scope]:
    state = current()
    s = Scope(name, state.scope, owner)
    with _using(state._replace(scope=s)):
        yield s


@contextmanager
def detect_anomaly() -> Iterator[None]:
    """Raise `AnomalyError` at the first inf or nan produced in forward or in backward."""
    with _using(current()._replace(anomaly=True)):
        yield
