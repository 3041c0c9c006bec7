"""The operation table's machinery: a ``Primitive`` holds one operation's forward, VJP and JVP.

Rules are plain functions of a *rule namespace* ``m`` first: ``m.cos(x)``, ``m.sum(g, dim=0)``.
During a first-order backward the engine passes the raw namespace (NumPy arrays in, NumPy arrays
out, nothing recorded); under ``create_graph`` or forward mode it passes the tensor namespace,
whose functions are the primitives themselves, so the same formula is differentiated again.

Rule signatures (``params`` are the keyword arguments the operation was called with):

- ``vjp``: a tuple with one function per positional input,
  ``f(m, g, ans, *inputs, **params) -> gradient or None`` (``None`` means zero), or ``None`` in a
  slot whose input is never differentiable; or, with ``vjp_all=True``, one function
  ``f(m, g, ans, needs, *inputs, **params) -> tuple`` for operations with many inputs.
- ``jvp``: ``f(m, tangents, ans, *inputs, **params) -> tangent``, ``tangents`` a tuple with
  ``None`` for inputs whose tangent is zero.

Gradients of broadcasting operations may keep the output's shape: the engine sums them down to
each input's shape once (``broadcasts=True``).
"""

from __future__ import annotations

import copy
from types import SimpleNamespace

from . import backend as B
from . import dtypes as D
from . import tracing
from .graph import record
from .modes import state
from .tensor import Tensor, version_counter
from .tracing import active as _tracing

ndarray = B.ndarray  # the NumPy fast path's type test (see backend)
_generic = B.generic

PRIMITIVES: dict[str, Primitive] = {}

# Rule namespaces, filled as primitives are defined (see ``define``).
raw = SimpleNamespace()
traced = SimpleNamespace()

_RAW_BY_SPACE: dict = {}


def raw_namespace(space):
    """The raw rule namespace for arrays of ``space``: ``raw`` for NumPy, else one made once per
    namespace, whose functions are the primitives' ``xp`` forwards bound to it (a primitive that
    has none raises, naming itself)."""
    if space is B.numpy:
        return raw
    found = _RAW_BY_SPACE.get(space)
    if found is None:
        found = _RAW_BY_SPACE[space] = SimpleNamespace(**{
            name: _bound(prim, space) for name, prim in PRIMITIVES.items()})
    return found


def _bound(prim, space):
    forward = prim.xp
    if forward is None:
        def missing(*arrays, **params):
            raise TypeError(f"{prim.name}: not available for arrays of {space.__name__} (only for NumPy arrays)")
        return missing
    return lambda *arrays, **params: forward(space, *arrays, **params)


# Forward-mode levels whose tangent computations are recorded (see forward.py).
RECORDED: dict = {}

def _backward_name(name: str) -> str:
    return "".join(part.capitalize() for part in name.split("_")) + "Backward"


class Primitive:
    """One operation of the table. Call it like a function on tensors, arrays or scalars."""

    __slots__ = (
        "name", "impl", "vjp", "vjp_all", "jvp", "save_inputs", "save_ans", "broadcasts",
        "differentiable", "node_name", "doc", "needs_meta", "needs_masks", "contiguous",
        "residual", "batching", "ans_for", "optional_operands", "adapt",
        "raw_vjp", "raw_vjp_writes_g", "xp",
    )

    def __init__(self, name, impl, vjp=None, jvp=None, *, vjp_all=False, save_inputs=True,
                 save_ans=False, broadcasts=False, differentiable=True, doc=None, needs=None,
                 needs_meta=False, contiguous=False, residual=None, batching=None, ans_for=None,
                 optional_operands=False, raw_vjp=None, raw_vjp_writes_g=False, xp=None):
        self.name = name
        self.impl = impl
        self.vjp = vjp
        self.vjp_all = vjp_all
        self.jvp = jvp
        self.save_inputs = save_inputs
        self.save_ans = save_ans
        self.broadcasts = broadcasts
        self.differentiable = differentiable
        self.node_name = _backward_name(name)
        self.doc = doc
        # needs[i]: the inputs whose values the VJP of input i reads (None: all of them). Only
        # those are kept, and checked for in-place changes, for the inputs that require grad.
        self.needs_masks = None if needs is None else tuple(sum(1 << j for j in n) for n in needs)
        self.needs_meta = needs_meta  # the rules read shapes of the inputs they don't need
        # The VJPs hand the cotangent to BLAS, which copies a strided (e.g. broadcast) array:
        # the engine makes it contiguous once instead of once per rule.
        self.contiguous = contiguous
        # residual(*inputs, **params) -> (output, residual): the forward computation again, also
        # returning an intermediate that the first-order VJP receives as ``ans`` (e.g. the
        # softmax of a cross-entropy); ``save_ans`` must be False. Higher orders get None.
        self.residual = residual
        # How Jacobians batch it (see _batching): "elementwise", "reduce" (over ``dim``),
        # "shift_dim" (along ``dim``), a rule ``f(ns, fn, args, params)`` of its own, or None
        # for a rule in _batching's table or a loop over the batch.
        self.batching = batching
        # The inputs whose VJP reads the output (None: all): the output is kept, and checked for
        # in-place changes, only when one of them requires grad (pow's output matters only for
        # the exponent's gradient, as in PyTorch).
        self.ans_for = ans_for
        self.optional_operands = optional_operands  # None may stand for an absent operand
        # raw_vjp[i]: a first-order NumPy fast form of vjp[i] (same signature and value; None: the
        # rule), which the engine calls only in a plain walk (no create_graph, forward mode or
        # batch). With raw_vjp_writes_g it may write into its cotangent (one input only): the
        # engine calls it only with a cotangent it owns. Stored merged: the rules a plain walk calls.
        if raw_vjp is not None:
            if raw_vjp_writes_g and len(vjp) != 1:
                raise ValueError(f"{name}: raw_vjp_writes_g needs a primitive with one input")
            raw_vjp = tuple(fast or rule for fast, rule in zip(raw_vjp, vjp))
        self.raw_vjp = raw_vjp
        self.raw_vjp_writes_g = raw_vjp_writes_g
        # A one-input implementation may come as a guarded wrapper with a ``fast`` attribute (the
        # bare NumPy function): the bare function runs on NumPy's float32/float64 inputs, the
        # wrapper (``adapt``) on any other (integers promoted, complex refused, other array
        # namespaces), with no Python wrapper on the float path.
        self.adapt = None
        if getattr(impl, "fast", None) is not None:
            self.adapt = impl
            self.impl = impl.fast
        # xp(namespace, *arrays, **params): the forward written against the array API standard,
        # which runs when an operand is an array of another namespace than NumPy's (see
        # backend); None where the operation is NumPy's only. A guarded wrapper may carry it.
        self.xp = xp if xp is not None else getattr(impl, "xp", None)

    def __repr__(self) -> str:
        return f"<chainrule primitive {self.name}>"

    def __call__(self, *args, **params):
        """The one dispatch path: from ``prim(*args, **params)`` to its result tensor.

        1. Operands: each one's array (``datas``), and whether any requires grad or carries
           tangents. Two measured fast cases come first: two operands, each a tensor or a plain
           number or array (``_PLAIN``), and one tensor, without keywords. They call the
           implementation directly: through ``impl(*datas)`` a Python implementation costs a
           second interpreter frame (~2% of ``x * y``). Any other call is the general case:
           constants checked (``_constant``), a batch of tangents (``.ns``) handed to its own
           namespace, keywords, ``residual``, and the result checked for objects.
        2. The implementation, its errors naming the operation (``_impl_error``).
        3. The result tensor, its node (``record``) and its tangents (``_push_tangents``).
        """
        n = len(args)
        # A loop run at most once: ``break`` when the fast case applies; ``continue`` (n = 0)
        # for an operand of another kind, on to the general case (no flag tested on the way).
        while n == 2 and not params:
            a, b = args
            if isinstance(a, Tensor):
                x = a._data
                requires = a._requires_grad
                tangents = a._tangents is not None
            elif type(a) in _PLAIN:
                x = a
                requires = tangents = False
                if type(a) is ndarray and a.dtype.kind not in _REAL_KINDS:
                    _check_array(self, a)
            else:
                n = 0
                continue
            if isinstance(b, Tensor):
                y = b._data
                if b._requires_grad:
                    requires = True
                if b._tangents is not None:
                    tangents = True
            elif type(b) in _PLAIN:
                y = b
                if type(b) is ndarray and b.dtype.kind not in _REAL_KINDS:
                    _check_array(self, b)
            else:
                n = 0
                continue
            datas = (x, y)
            try:
                out = self.impl(x, y)
            except Exception as exc:
                if _stacked(datas):  # a batched tensor of vmap: its level's rule
                    return _vmapped(self, args, params)
                raise _impl_error(self, datas, exc) from exc
            break
        else:
            if n == 1 and not params and isinstance(a := args[0], Tensor):
                x = a._data
                requires = a._requires_grad
                tangents = a._tangents is not None
                impl = self.impl
                if self.adapt is not None:
                    dt = x.dtype
                    if dt is not _F64 and dt is not _F32:
                        impl = self.adapt  # the guarded form: other dtypes and array namespaces
                datas = (x,)
                try:
                    out = impl(x)
                except Exception as exc:
                    if _stacked(datas):  # a batched tensor of vmap: its level's rule
                        return _vmapped(self, args, params)
                    raise _impl_error(self, datas, exc) from exc
            else:  # the general case
                n = 0
                datas = []
                requires = tangents = foreign = False
                for a in args:
                    if isinstance(a, Tensor):
                        d = a._data
                        datas.append(d)
                        if type(d) not in _NUMPY_TYPES:  # another array namespace (see backend)
                            foreign = True
                        if a._requires_grad:
                            requires = True
                        if a._tangents is not None:
                            tangents = True
                    elif type(a) in _PLAIN:
                        if type(a) is ndarray and a.dtype.kind not in _REAL_KINDS:
                            _check_array(self, a)
                        datas.append(a)
                    elif hasattr(a, "ns"):  # a batch of tangents or cotangents (see _batching)
                        if a.ns.level:  # the data of a batched tensor of vmap, handed on bare
                            return _vmapped(self, args, params)
                        return getattr(a.ns, self.name)(*args, **params)
                    else:
                        d = _constant(a, self)
                        datas.append(d)
                        if type(d) not in _NUMPY_TYPES and d is not None:
                            foreign = True
                impl = self.impl
                if foreign and _stacked(datas):  # a batched tensor of vmap: its level's rule
                    return _vmapped(self, args, params)
                if foreign and B.any_foreign(datas):
                    impl = _foreign_forward(self, datas)
                elif self.adapt is not None and len(datas) == 1:
                    dt = getattr(datas[0], "dtype", None)
                    if dt is not _F64 and dt is not _F32:
                        impl = self.adapt
                residual = None
                try:
                    if self.residual is not None and impl is self.impl:
                        out, residual = self.residual(*datas, **params)
                    elif params:
                        out = impl(*datas, **params)
                    else:
                        out = impl(*datas)
                except Exception as exc:
                    if params and _stacked(_param_values(params)):  # a batch of indices (vmap)
                        return _vmapped(self, args, params)
                    raise _impl_error(self, datas, exc) from exc
                if type(out) is ndarray and out.dtype.kind == "O":  # e.g. None for an array
                    raise TypeError(
                        f"{self.name}: got operands of types "
                        f"{', '.join(type(d).__name__ for d in datas)}; pass tensors or real numbers"
                    )
        # The result: 0-d results stay NumPy scalars (arithmetic on them is ~10x cheaper than on
        # 0-d arrays). This is ``Tensor._make(out)`` written out, as calling it costs ~5% of a
        # small operation; tests/test_dispatch.py checks that the two give the same slots.
        result = _new(Tensor)
        result._data = out
        result._grad = None
        result._version = None
        result._tangents = None
        result._base = None
        result._hooks = None
        if requires and self.differentiable and state.grad_enabled:
            result._requires_grad = True
            result._node = record(self, args, datas, params, out, result)
            if self.residual is not None:  # the forward's intermediate, for the first-order VJP
                node = result._node
                node.ans = residual if not n else self.residual(*datas)[1]
                node.ans_version = _UNCHANGED
        else:
            result._requires_grad = False
            result._node = None
        if _tracing[0]:  # cr.jit / cr.graph / placeholders: the tracer hears of it (before the
            tracing.record(self, args, params, result)  # tangent rule, which reads the result)
        if tangents and self.differentiable and state.forward_levels:
            _push_tangents(self, args, params, result)
        return result


def _stacked(datas) -> bool:
    """Whether an operand (or a tensor among an index's parts) is, or holds, the data of a batched
    tensor of vmap (see transforms/vmap)."""
    for d in datas:
        if getattr(getattr(getattr(d, "_data", d), "ns", None), "level", 0):
            return True
    return False


def _param_values(params):
    """The values of ``params``, tuples (an index) opened one level."""
    out = []
    for v in params.values():
        if type(v) is tuple:
            out.extend(v)
        else:
            out.append(v)
    return out


def _vmapped(prim, args, params):
    """``prim`` on operands of which some are batched tensors of vmap: the batching rule of the
    innermost level among them (operands and, for an index, parameters), which computes the
    whole batch with the primitives (a batched tensor of an outer level is an operand like any
    other there, sent on to its own level)."""
    ns = None
    for a in (*args, *_param_values(params)):
        d = a._data if isinstance(a, Tensor) else a
        level = getattr(getattr(d, "ns", None), "level", 0)
        if level and (ns is None or level > ns.level):
            ns = d.ns
    operands = [a._data if isinstance(a, Tensor) and getattr(a._data, "ns", None) is ns else a for a in args]
    result = getattr(ns, prim.name)(*operands, **params)
    _share_versions(result, operands)
    return ns.shell(result)


def _share_versions(result, operands) -> None:
    """A batch that shares memory with an operand's batch (a view made by a batching rule, which
    calls the primitives, not the view-making functions) shares its version counter, so an
    in-place change of either is seen by the other's saved copies."""
    values = result if type(result) is tuple else (result,)
    for v in values:
        t = getattr(v, "value", None)
        if not isinstance(t, Tensor) or type(t._data) is not ndarray:
            continue
        for o in operands:
            u = getattr(o, "value", o)
            if isinstance(u, Tensor) and type(u._data) is ndarray and B.may_share_memory(t._data, u._data):
                t._version = version_counter(u)
                break


def _describe(value) -> str:
    shape = getattr(value, "shape", None)
    if shape is not None and hasattr(value, "dtype"):
        return f"shape {tuple(shape)} {value.dtype}"
    return f"{type(value).__name__} {value!r:.40}"


def _impl_error(prim, datas, exc) -> Exception:
    """The error to raise for an exception from ``prim``'s implementation: unchanged when its
    message already names the operation, else the same kind of error naming the operation and
    its inputs (never a bare NumPy message)."""
    message = str(exc)
    if message.startswith(prim.name + ":") or isinstance(exc, (MemoryError, RecursionError)):
        return exc
    text = (f"{prim.name}: {message or type(exc).__name__} (inputs: "
            f"{', '.join(_describe(d) for d in datas)})")
    if isinstance(exc, AttributeError):  # e.g. None given where an array was expected
        return TypeError(text)
    if isinstance(exc, (ValueError, TypeError, IndexError, RuntimeError, ArithmeticError)):
        try:
            return type(exc)(text)
        except Exception:  # an exception type with another signature
            pass
    return RuntimeError(text)


def attach(prim, args, params, data):
    """``prim(*args, **params)`` for an in-place change already written, whose value ``data``
    holds: the one dispatch path with an implementation that returns ``data`` (nothing is
    computed), so the tensor around ``data`` gets its node and tangents as any result does."""
    given = copy.copy(prim)
    given.impl = lambda *operands, **params: data
    given.xp = lambda space, *operands, **params: data
    given.adapt = given.residual = None
    result = given(*args, **params)
    node = result._node
    if node is not None:
        node.prim = prim
        if node.output is data:
            node.output = data.copy()  # the picture keeps this value, not later changes
    return result


_new = object.__new__
_UNCHANGED = (0,)  # the version of a residual, which nothing outside the node can modify
_PLAIN = frozenset({ndarray, float, int, bool})


def _constant(value, prim):
    """A non-tensor operand as the implementation takes it: numbers as they are, anything else
    through ``dtypes.check_operand`` (real arrays and regular lists of numbers; lists holding
    tensors, None, strings, ragged, complex, object and datetime data are refused, naming the
    operation)."""
    if isinstance(value, _generic):
        if value.dtype.kind not in _REAL_KINDS:
            D.check_operand(prim.name, value)
        return value.item()
    if isinstance(value, (float, int)) or value is None and prim.optional_operands:
        return value
    return D.check_operand(prim.name, value)


_REAL_KINDS = frozenset("biuf")
_NUMPY_TYPES = B.NUMPY_TYPES


def _foreign_forward(prim, datas):
    """The forward of ``prim`` for operands of another array namespace than NumPy's: its
    ``xp`` form bound to that namespace, or a TypeError where the operation has none."""
    space = B.namespace_of(*datas)
    if prim.xp is None:
        raise TypeError(
            f"{prim.name}: not available for arrays of {space.__name__} (only for NumPy arrays); "
            f"convert the data first"
        )
    forward = prim.xp
    return lambda *arrays, **params: forward(space, *arrays, **params)
_F64 = B.FLOAT64
_F32 = B.FLOAT32
_BOOL = B.BOOL


def _check_array(prim, array) -> None:
    """A plain ndarray operand of a dtype no tensor can have is refused (datetime, complex, …)."""
    if array.dtype.kind not in _REAL_KINDS:
        D.check_operand(prim.name, array)


def _push_tangents(prim, args, params, result):
    """Attach to ``result`` its tangent at every open forward level (one level at a time)."""
    cap = state.forward_cap
    active = state.forward_levels
    if len(active) == 1 and cap is None:  # the common case: one open level
        level = active[0]
        levels = ()
        for a in args:
            if isinstance(a, Tensor):
                held = a._tangents
                if held and level in held:
                    levels = active
                    break
    else:
        found = set()
        for a in args:
            if isinstance(a, Tensor) and a._tangents is not None:
                found.update(a._tangents)
        levels = sorted(level for level in found if level in active and (cap is None or level < cap))
    if not levels:
        return
    if prim.jvp is None:
        raise NotImplementedError(f"{prim.name}: no forward-mode (JVP) rule")
    shape, dtype = result._data.shape, result._data.dtype
    grad_mode = state.grad_enabled
    for level in levels:
        state.forward_cap = level
        state.grad_enabled = grad_mode and RECORDED.get(level, True)
        try:
            m = traced
            tangents = []
            for a in args:
                t = None
                if isinstance(a, Tensor):
                    held = a._tangents
                    if held is not None:
                        t = held.get(level)
                        if t is not None and m is traced and not isinstance(t, Tensor):
                            m = t.ns  # a batch of tangents (see _batching)
                tangents.append(t)
            tangents = tuple(tangents)
            tangent = prim.jvp(m, tangents, result, *args, **params)
            if tangent is None:
                continue
            if m is traced:
                if not isinstance(tangent, Tensor):
                    tangent = Tensor._wrap(B.as_array(tangent))
                if tangent._data.shape != shape:
                    tangent = traced.broadcast_to(tangent, shape=shape)
                if tangent._data.dtype != dtype:
                    tangent = traced.cast(tangent, dtype=dtype)
            else:
                tangent = m.conform(tangent, shape, dtype, "broadcast_to")
        finally:
            state.forward_cap = cap
            state.grad_enabled = grad_mode
        if result._tangents is None:
            result._tangents = {}
            if result._node is not None and result._node.ans is not None:
                result._node.ans_tangents = result._tangents  # its rules see the output's tangents
        result._tangents[level] = tangent




