"""Which derivatives a computation will need, so models can pick cheaper kernels.

Forces and stress need one backward pass; training on forces needs a second one through it.
Inside `first_derivatives_only()` a model may use kernels whose backward is written by hand
(faster, but not differentiable again); outside it every operation stays twice differentiable.
"""

from __future__ import annotations

import contextlib
import contextvars
from collections.abc import Iterator

_FIRST_ONLY = contextvars.ContextVar("nnpcalc_first_derivatives_only", default=False)


@contextlib.contextmanager
def first_derivatives_only(enabled: bool = True) -> Iterator[None]:
    """Promise that no derivative of a derivative is taken inside the block."""
    token = _FIRST_ONLY.set(enabled)
    try:
        yield
    finally:
        _FIRST_ONLY.reset(token)


def only_first_derivatives() -> bool:
    """True inside `first_derivatives_only()`."""
    return _FIRST_ONLY.get()
