"""chainrule: automatic differentiation for NumPy.

The PyTorch workflow (``requires_grad_``, ``backward``, ``.grad``, ``detach``, ``no_grad``) and
JAX-style transforms over one operation table, forward and reverse mode, any order.

>>> import chainrule as cr
>>> x = cr.arange(4.0, requires_grad=True)
>>> y = 2 * cr.dot(x, x)
>>> y.backward()
>>> x.grad
tensor([ 0.,  4.,  8., 12.])
"""

from __future__ import annotations

from typing import TYPE_CHECKING as _TYPE_CHECKING
from typing import Any as _Any


from .core import dtypes as _dtypes
from .core.dtypes import (
    bool, complex64, complex128, float16, float32, float64, get_default_dtype, int32, int64,
    set_default_dtype,
)
from .core.modes import enable_grad, is_grad_enabled, no_grad, set_grad_enabled
from .core.tensor import Tensor
from .api import methods as _methods

_methods.install()

from .core.creation import (  # noqa: E402
    arange, as_tensor, empty, empty_like, eye, from_numpy, full, full_like, linspace,
    manual_seed, ones, ones_like, rand, rand_like, randint, randn, randn_like, tensor, zeros,
    zeros_like,
)
from .ops import *  # noqa: E402,F401,F403
if _TYPE_CHECKING:  # the names built from the table, as type checkers see them (generated)
    from .ops._api import *  # noqa: F403
from .ops import PRIMITIVES, Primitive  # noqa: E402
from .ops import _table  # noqa: E402


def _export(op: _table.Operation) -> None:
    """Operations declared later (at run time) become ``chainrule.<name>`` too."""
    if not op.namespace:
        for name in op.names:
            globals()[name] = op.function


def _unexport(op: _table.Operation) -> None:
    for name in op.names:
        if globals().get(name) is op.function:
            del globals()[name]


_export.withdraw = _unexport  # type: ignore[attr-defined]
_table.subscribe(_export)
from . import autograd, fft, linalg, special  # noqa: E402
from .transforms.forward import TracedConversionError  # noqa: E402
from .nn import functional as _functional  # noqa: E402,F401
from . import nn  # noqa: E402

if _TYPE_CHECKING:  # what __getattr__ imports on first use, visible to type checkers
    from . import numerical, optim
    from .tools import plot, viz
    from .tools.explain import explain
    from .autograd.checkpoint import checkpoint
    from .transforms.functional import grad, jvp, value_and_grad, vjp
    from .transforms.jacobians import hessian, hvp, jacfwd, jacobian, jacrev
    from .transforms.vmap import vmap
    from .compile.graph import Graph, graph
    from .compile.jit import jit
    from .compile.placeholder import placeholder
    from .compile.function import function
    from .transforms.pytree import (register_pytree_node, tree_flatten, tree_leaves,
                                    tree_map, tree_structure, tree_unflatten)
    from .serialization import load, save

_LAZY = {
    # name: (module, attribute or None for the module itself)
    "optim": ("optim", None),
    "dtypes": ("core.dtypes", None),
    "viz": ("tools.viz", None),
    "numerical": ("numerical", None),
    "save": ("serialization", "save"),
    "load": ("serialization", "load"),
    "explain": ("tools.explain", "explain"),
    "plot": ("tools.plot", None),
    "jvp": ("transforms.functional", "jvp"),
    "vjp": ("transforms.functional", "vjp"),
    "grad": ("transforms.functional", "grad"),
    "value_and_grad": ("transforms.functional", "value_and_grad"),
    "jacrev": ("transforms.jacobians", "jacrev"),
    "jacfwd": ("transforms.jacobians", "jacfwd"),
    "jacobian": ("transforms.jacobians", "jacobian"),
    "hessian": ("transforms.jacobians", "hessian"),
    "hvp": ("transforms.jacobians", "hvp"),
    "checkpoint": ("autograd.checkpoint", "checkpoint"),
    "vmap": ("transforms.vmap", "vmap"),
    "compile": ("compile", None),
    "jit": ("compile.jit", "jit"),
    "graph": ("compile.graph", "graph"),
    "Graph": ("compile.graph", "Graph"),
    "placeholder": ("compile.placeholder", "placeholder"),
    "function": ("compile.function", "function"),
    **{name: ("transforms.pytree", name) for name in (
        "tree_map", "tree_flatten", "tree_unflatten", "tree_leaves", "tree_structure",
        "register_pytree_node")},
}


def __getattr__(name: str) -> _Any:
    """Import the heavier parts of the package on first use."""
    if name not in _LAZY:
        raise AttributeError(f"module 'chainrule' has no attribute {name!r}")
    import importlib

    module_name, attribute = _LAZY[name]
    module = importlib.import_module(f".{module_name}", __name__)
    value = module if attribute is None else getattr(module, attribute)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_LAZY))


double = float64
float = float32  # noqa: A001
long = int64
half = float16
cfloat = complex64
cdouble = complex128

__version__ = "0.1.0"
