"""Jacobians and Hessians: ``jacrev`` (one backward pass over a batch of cotangents),
``jacfwd`` (one forward pass over a batch of tangents), ``jacobian`` (the cheaper of the two),
``hessian`` and ``hvp``."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any

from ..core import backend as B
from ..core.modes import no_grad, state
from ..core.tensor import Tensor
from .arguments import (
    _argnums,
    _check_argnums,
    _check_callable,
    _outputs,
    _tensor,
    _trace,
    _without_history,
)
from .forward import (
    primal_of,
)
from .functional import _as_tuple, _dual_inputs, _jvp, _value_and_grad
from .jacobian_passes import batched_jvp, batched_vjp
from .trees import Flat, Lifted, tangent_leaves
from .vmap import lift, open_levels, unlift

if TYPE_CHECKING:
    from .._typing import ArgNums, TensorLike


def jacrev(f: Callable[..., Any], argnums: ArgNums = 0) -> Callable[..., Any]:
    """A function returning the Jacobian of ``f`` by reverse mode, shape ``out.shape + in.shape``.

    All rows come from one backward pass over a batch of cotangents (see ``_batching``). A tuple
    ``argnums`` gives a tuple of Jacobians, one per entry; a function returning a tuple (or list)
    of tensors gives a tuple with an entry per output (JAX's nesting: outputs, then inputs).
    """
    _check_callable("jacrev", f)
    return _jacrev(f, _check_argnums("jacrev", argnums), "jacrev")


def _jacrev(f: Callable[..., Any], argnums: ArgNums, op: str) -> Callable[..., Any]:
    def wrapped(*args: Any) -> Any:
        nums = _argnums(op, argnums, len(args))
        flat = Flat(op, f, args, nums)
        levels = open_levels()
        target: Flat | Lifted = Lifted(flat, levels) if levels else flat
        lead = target.lead if isinstance(target, Lifted) else ()
        inputs, outputs, single, _, create = _trace(op, target, target.flat_args, flat.flat_nums, False)
        per_output = []
        for out in outputs:
            jacs = batched_vjp(inputs, out, create, lead)
            if not create:
                jacs = [_without_history(j) for j in jacs]
            if levels:
                jacs = [unlift(j, levels) for j in jacs]
            per_output.append(flat.group(jacs, nums, type(argnums) is int))
        return flat.output(per_output[0] if single else tuple(per_output))

    return wrapped


def jacfwd(f: Callable[..., Any], argnums: ArgNums = 0) -> Callable[..., Any]:
    """A function returning the Jacobian of ``f`` by forward mode, shape ``out.shape + in.shape``.

    All columns come from one forward pass carrying a batch of tangents (see ``_batching``).
    ``argnums`` and functions returning several tensors as in ``jacrev``.
    """
    _check_callable("jacfwd", f)
    return _jacfwd(f, _check_argnums("jacfwd", argnums), "jacfwd")


def _float_arguments(op: str, args: Sequence[Any], nums: Sequence[int]) -> list[Any]:
    args = list(args)
    for i in nums:
        a = args[i] = _tensor(op, args[i])
        if B.kind(a._data.dtype) != "f":
            raise TypeError(f"{op}: argument {i} must be floating point, got dtype {a._data.dtype} "
                            f"(shape {a._data.shape}); pass floats, e.g. x.double()")
    return args


def _jacfwd(f: Callable[..., Any], argnums: ArgNums, op: str) -> Callable[..., Any]:
    def wrapped(*args: Any) -> Any:
        nums = _argnums(op, argnums, len(args))
        flat = Flat(op, f, args, nums)
        levels = open_levels()
        target: Flat | Lifted = Lifted(flat, levels) if levels else flat
        lead = target.lead if isinstance(target, Lifted) else ()
        floats = _float_arguments(op, target.flat_args, flat.flat_nums)
        # jacs[k][j]: leaf flat_nums[k], output j
        jacs, single = batched_jvp(target, floats, flat.flat_nums, op, lead)
        if levels:
            jacs = [[unlift(j, levels) for j in per] for per in jacs]
        if flat.out_def is None:  # no differentiated leaf: f was not called by the passes
            target(*floats)
        n_out = 1 if single else len(jacs[0]) if jacs else flat.out_def.num_leaves  # type: ignore[union-attr]
        per_output = [flat.group([c[j] for c in jacs], nums, type(argnums) is int) for j in range(n_out)]
        return flat.output(per_output[0] if single else tuple(per_output))

    return wrapped


def jacobian(f: Callable[..., Any], argnums: ArgNums = 0, mode: str = "auto") -> Callable[..., Any]:
    """The Jacobian of ``f``; ``mode='auto'`` uses forward mode when the inputs have fewer
    elements than the output, reverse mode otherwise."""
    _check_callable("jacobian", f)
    checked = _check_argnums("jacobian", argnums)
    if not isinstance(mode, str) or mode not in ("auto", "forward", "reverse"):
        raise ValueError(f"jacobian: mode must be 'auto', 'forward' or 'reverse', got {mode!r}")
    if mode == "forward":
        return _jacfwd(f, checked, "jacobian")
    if mode == "reverse":
        return _jacrev(f, checked, "jacobian")

    def wrapped(*args: Any) -> Any:
        nums = _argnums("jacobian", checked, len(args))
        flat = Flat("jacobian", f, args, nums)
        floats = _float_arguments("jacobian", flat.flat_args, flat.flat_nums)
        n_in = sum(int(floats[i]._data.size) for i in set(flat.flat_nums))
        with no_grad():
            probe = flat(*floats)
        outputs, _ = _outputs("jacobian", probe)
        n_out = sum(int(o._data.size) for o in outputs)
        chosen = jacfwd if n_in < n_out else jacrev
        return chosen(f, checked)(*args)

    return wrapped


def hessian(f: Callable[..., Any], argnums: ArgNums = 0) -> Callable[..., Any]:
    """The Hessian of scalar ``f``: forward mode over reverse mode (``jacfwd(jacrev(f))``). A tuple
    ``argnums`` gives the blocks as a tuple of tuples (``H[i][j]``: ∂²f/∂args[i]∂args[j])."""
    _check_callable("hessian", f)
    argnums = _check_argnums("hessian", argnums)
    return _jacfwd(_jacrev(f, argnums, "hessian"), argnums, "hessian")


def hvp(f: Callable[..., Any], primals: Sequence[TensorLike], tangents: Sequence[TensorLike]) -> tuple[Tensor, Any]:
    """``(f(*primals), H·tangents)`` by forward mode over reverse mode, in one pass each way."""
    _check_callable("hvp", f)
    primals = _as_tuple("hvp", primals, "primals")
    tangents = _as_tuple("hvp", tangents, "tangents")
    if len(tangents) != len(primals):
        raise ValueError(f"hvp: got {len(tangents)} tangents for {len(primals)} primals; pass one "
                         f"tangent per primal, each of its primal's structure and shape")
    trees = tuple(range(len(primals)))
    flat = Flat("hvp", f, primals, trees)
    p_leaves, t_leaves = tangent_leaves("hvp", primals, tangents)
    levels = open_levels()
    if levels:  # inside vmap: the tangents ride on the full batches (see trees.Lifted)
        p_leaves = [lift(p, levels) for p in p_leaves]
        t_leaves = [lift(t, levels) for t in t_leaves]
    ps, ts = _dual_inputs("hvp", p_leaves, t_leaves)
    nums = tuple(range(len(ps)))
    captured = []

    def gradient(*xs: Any) -> Any:
        if levels:
            xs = tuple(unlift(x, levels) for x in xs)
        value, _, g = _value_and_grad("hvp", flat, nums, False, xs)
        captured.append(value)
        return tuple(lift(gi, levels) for gi in g) if levels else g

    _, products, _, _ = _jvp("hvp", gradient, ps, ts, False)
    if levels:
        products = [unlift(pr, levels) for pr in products]
    value = captured[-1]
    for level in list(value._tangents or ()):
        if level not in state.forward_levels:
            value = primal_of(value, level)
    grouped = flat.group(products, trees, False)
    return value, grouped[0] if len(primals) == 1 else grouped
