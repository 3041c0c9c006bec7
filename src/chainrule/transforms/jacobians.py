"""Jacobians and Hessians: ``jacrev`` (one backward pass over a batch of cotangents),
``jacfwd`` (one forward pass over a batch of tangents), ``jacobian`` (the cheaper of the two),
``hessian`` and ``hvp``."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any

from ..core import backend as B
from ..core import dispatch as P
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


def jacrev(f: Callable[..., Any], argnums: ArgNums = 0, *, holomorphic: bool = False) -> Callable[..., Any]:
    """A function returning the Jacobian of ``f`` by reverse mode, shape ``out.shape + in.shape``.

    All rows come from one backward pass over a batch of cotangents (see ``_batching``). A tuple
    ``argnums`` gives a tuple of Jacobians, one per entry; a function returning a tuple (or list)
    of tensors gives a tuple with an entry per output (JAX's nesting: outputs, then inputs).

    Complex numbers (JAX's rules): the outputs must be real, and then a complex input's rows are
    the gradients of the outputs as ``cr.grad`` gives them (PyTorch's convention); for a
    holomorphic ``f`` of complex inputs, ``holomorphic=True`` gives the complex derivative
    ``d out / d z``:

    >>> z = cr.tensor([1 + 2j, 3 - 1j])
    >>> cr.jacrev(lambda z: z ** 2, holomorphic=True)(z)      # diag(2 z)
    tensor([[2.+4.j, 0.-0.j],
            [0.+0.j, 6.-2.j]])
    """
    _check_callable("jacrev", f)
    return _jacrev(f, _check_argnums("jacrev", argnums), "jacrev", _flag("jacrev", holomorphic))


def _flag(op: str, holomorphic: Any) -> bool:
    if not isinstance(holomorphic, (bool, B.bool_)):
        raise TypeError(f"{op}: holomorphic must be a bool, got {type(holomorphic).__name__} {holomorphic!r:.40}")
    return bool(holomorphic)


def _complex(dtype: Any) -> bool:
    return B.kind(dtype) == "c"


def _check_complex(op: str, what: str, dtypes: Sequence[Any], holomorphic: bool, reverse: bool,
                   first: int = 0) -> None:
    """JAX's rules for Jacobians of complex numbers: with ``holomorphic`` every differentiated
    input and every output is complex; without it, forward mode needs real inputs and reverse
    mode real outputs (their other side may be complex)."""
    for i, dtype in enumerate(dtypes, first):
        if holomorphic and not _complex(dtype):
            raise TypeError(
                f"{op} with holomorphic=True needs complex {what}s, got dtype {dtype} for {what} {i}; "
                f"the complex derivative df/dz is of complex functions of complex numbers: make it "
                f"complex (x.to(cr.complex128)) or drop holomorphic=True")
        if not holomorphic and _complex(dtype) and (what == "output") == reverse:
            side = ("real-valued outputs" if reverse else "real inputs")
            other = ("cr.jacfwd, whose columns may be complex" if reverse
                     else "cr.jacrev, whose rows are the gradients of real outputs")
            raise TypeError(
                f"{op} needs {side}, got dtype {dtype} for {what} {i}. If f is holomorphic "
                f"(complex-differentiable: z ** 2, exp, matmul), pass holomorphic=True for df/dz; "
                f"otherwise use {other}, cr.vjp/cr.jvp directly, or split the complex numbers into "
                f"their real and imaginary parts (cr.view_as_real)")


def _jacrev(f: Callable[..., Any], argnums: ArgNums, op: str, holomorphic: bool = False) -> Callable[..., Any]:
    def wrapped(*args: Any) -> Any:
        nums = _argnums(op, argnums, len(args))
        flat = Flat(op, f, args, nums)
        levels = open_levels()
        target: Flat | Lifted = Lifted(flat, levels) if levels else flat
        lead = target.lead if isinstance(target, Lifted) else ()
        inputs, outputs, single, _, create = _trace(op, target, target.flat_args, flat.flat_nums, False)
        if holomorphic:
            _check_complex(op, "argument", [t._data.dtype for t in inputs], True, True)
        _check_complex(op, "output", [o._data.dtype for o in outputs], holomorphic, True)
        per_output = []
        for out in outputs:
            jacs = batched_vjp(inputs, out, create, lead)
            if holomorphic:  # the rows are PyTorch's conjugate gradients: conj(df/dz)
                jacs = [P.traced.conj(j) for j in jacs]
            if not create:
                jacs = [_without_history(j) for j in jacs]
            if levels:
                jacs = [unlift(j, levels) for j in jacs]
            per_output.append(flat.group(jacs, nums, type(argnums) is int))
        return flat.output(per_output[0] if single else tuple(per_output))

    return wrapped


def jacfwd(f: Callable[..., Any], argnums: ArgNums = 0, *, holomorphic: bool = False) -> Callable[..., Any]:
    """A function returning the Jacobian of ``f`` by forward mode, shape ``out.shape + in.shape``.

    All columns come from one forward pass carrying a batch of tangents (see ``_batching``).
    ``argnums`` and functions returning several tensors as in ``jacrev``. Complex numbers (JAX's
    rules): the inputs must be real (the outputs may be complex: ``d out / d x``), or, for a
    holomorphic ``f`` of complex inputs, ``holomorphic=True`` gives ``d out / d z``.

    >>> cr.jacfwd(lambda x: x * (1 + 2j))(cr.tensor([1.0, 2.0]))
    tensor([[1.+2.j, 0.+0.j],
            [0.+0.j, 1.+2.j]])
    """
    _check_callable("jacfwd", f)
    return _jacfwd(f, _check_argnums("jacfwd", argnums), "jacfwd", _flag("jacfwd", holomorphic))


def _float_arguments(op: str, args: Sequence[Any], nums: Sequence[int], holomorphic: bool = False) -> list[Any]:
    args = list(args)
    for i in nums:
        a = args[i] = _tensor(op, args[i])
        kind = B.kind(a._data.dtype)
        if kind == "c" or (holomorphic and kind == "f"):
            _check_complex(op, "argument", [a._data.dtype], holomorphic, False, i)
        elif kind != "f":
            raise TypeError(f"{op}: argument {i} must be floating point, got dtype {a._data.dtype} "
                            f"(shape {a._data.shape}); pass floats, e.g. x.double()")
    return args


def _jacfwd(f: Callable[..., Any], argnums: ArgNums, op: str, holomorphic: bool = False) -> Callable[..., Any]:
    def wrapped(*args: Any) -> Any:
        nums = _argnums(op, argnums, len(args))
        flat = Flat(op, f, args, nums)
        levels = open_levels()
        target: Flat | Lifted = Lifted(flat, levels) if levels else flat
        lead = target.lead if isinstance(target, Lifted) else ()
        floats = _float_arguments(op, target.flat_args, flat.flat_nums, holomorphic)
        # jacs[k][j]: leaf flat_nums[k], output j
        jacs, single = batched_jvp(target, floats, flat.flat_nums, op, lead)
        if holomorphic:
            _check_complex(op, "output", [j._data.dtype for j in (jacs[0] if jacs else ())], True, False)
        if levels:
            jacs = [[unlift(j, levels) for j in per] for per in jacs]
        if flat.out_def is None:  # no differentiated leaf: f was not called by the passes
            target(*floats)
        n_out = 1 if single else len(jacs[0]) if jacs else flat.out_def.num_leaves  # type: ignore[union-attr]
        per_output = [flat.group([c[j] for c in jacs], nums, type(argnums) is int) for j in range(n_out)]
        return flat.output(per_output[0] if single else tuple(per_output))

    return wrapped


def jacobian(f: Callable[..., Any], argnums: ArgNums = 0, mode: str = "auto", *,
             holomorphic: bool = False) -> Callable[..., Any]:
    """The Jacobian of ``f``; ``mode='auto'`` uses forward mode when the inputs have fewer
    elements than the output, reverse mode otherwise (and, with complex numbers, the mode that
    has a Jacobian: forward for complex outputs of real inputs, reverse for real outputs of
    complex inputs; ``holomorphic`` as in ``jacrev``).

    >>> cr.jacobian(lambda x: x.sin().sum())(cr.tensor([0.0, 1.0]))
    tensor([1.0000, 0.5403])
    """
    _check_callable("jacobian", f)
    checked = _check_argnums("jacobian", argnums)
    holomorphic = _flag("jacobian", holomorphic)
    if not isinstance(mode, str) or mode not in ("auto", "forward", "reverse"):
        raise ValueError(f"jacobian: mode must be 'auto', 'forward' or 'reverse', got {mode!r}")
    if mode == "forward":
        return _jacfwd(f, checked, "jacobian", holomorphic)
    if mode == "reverse":
        return _jacrev(f, checked, "jacobian", holomorphic)

    def wrapped(*args: Any) -> Any:
        nums = _argnums("jacobian", checked, len(args))
        flat = Flat("jacobian", f, args, nums)
        values = [_tensor("jacobian", a) if i in flat.flat_nums else a for i, a in enumerate(flat.flat_args)]
        leaves = [values[i] for i in sorted(set(flat.flat_nums))]
        n_in = sum(int(x._data.size) for x in leaves)
        with no_grad():
            probe = flat(*values)
        outputs, _ = _outputs("jacobian", probe)
        n_out = sum(int(o._data.size) for o in outputs)
        forward = n_in < n_out
        if not holomorphic:
            if any(_complex(x._data.dtype) for x in leaves):
                forward = False  # only reverse mode has a Jacobian of complex inputs (or none has)
            elif any(_complex(o._data.dtype) for o in outputs):
                forward = True
        return _jacfwd(f, checked, "jacobian", holomorphic)(*args) if forward \
            else _jacrev(f, checked, "jacobian", holomorphic)(*args)

    return wrapped


def hessian(f: Callable[..., Any], argnums: ArgNums = 0, *, holomorphic: bool = False) -> Callable[..., Any]:
    """The Hessian of scalar ``f``: forward mode over reverse mode (``jacfwd(jacrev(f))``). A tuple
    ``argnums`` gives the blocks as a tuple of tuples (``H[i][j]``: ∂²f/∂args[i]∂args[j]).
    ``holomorphic=True``: the complex second derivative of a holomorphic ``f`` (as ``jacrev``).

    >>> cr.hessian(lambda x: (x ** 3).sum())(cr.tensor([1.0, 2.0]))
    tensor([[ 6.,  0.],
            [ 0., 12.]])
    """
    _check_callable("hessian", f)
    argnums = _check_argnums("hessian", argnums)
    holomorphic = _flag("hessian", holomorphic)
    return _jacfwd(_jacrev(f, argnums, "hessian", holomorphic), argnums, "hessian", holomorphic)


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
