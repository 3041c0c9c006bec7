"""The ``Tensor``: a NumPy array plus the record of how it was computed."""

from __future__ import annotations

import weakref
from typing import TYPE_CHECKING, Any

import numpy as np

from . import backend as B
from . import dtypes as D
from . import tracing
from .arraylike import caller, refuse_hidden_list
from .hooks import RemovableHandle
from .modes import state
from .tracing import active as _tracing

ndarray = np.ndarray


def _as_data(data, dtype=None, copy=True, op: str = "tensor") -> ndarray:
    """An array from user data: Python floats become the default dtype, arrays keep theirs.
    Anything that is not numbers (None, strings, objects, dates, records, complex numbers, ragged
    lists) raises a ``TypeError`` naming ``op``."""
    dtype = D.resolve(dtype, op)
    if isinstance(data, Tensor):
        if data._requires_grad or data._tangents is not None:
            data._leave_graph("cr.tensor()")  # inside a transform: an error, not a silent constant
        array = data._data
        if dtype is not None and array.dtype != dtype:
            return array.astype(dtype)
        return array.copy() if copy else array
    if isinstance(data, (ndarray, np.generic)):
        _check_kind(op, data, data.dtype)
        _check_complex_to_real(op, data.dtype, dtype)
        array = np.array(data, dtype=dtype, copy=copy) if copy else np.asarray(data, dtype=dtype)
        return array
    if B.foreign(data):  # an array of another namespace (the array API standard): kept there
        _check_kind(op, data, B.numpy_dtype(data.dtype))
        array = data if dtype is None else B.astype(data, dtype)
        return B.copy(array) if copy and array is data else array
    if data is None:
        raise TypeError(f"{op}: cannot make a tensor from None; pass a number, a nested list of "
                        f"numbers, a NumPy array or a Tensor")
    try:
        array = np.array(data)
    except (ValueError, TypeError) as exc:
        raise TypeError(
            f"{op}: cannot make a tensor from {type(data).__name__} ({exc}); pass a number, a "
            f"nested list of numbers with a regular shape, a NumPy array or a Tensor"
        ) from None
    if array.dtype == object:
        raise TypeError(
            f"{op}: cannot make a tensor from {type(data).__name__}: its elements are not "
            f"numbers or its nested lists have ragged lengths"
        )
    _check_kind(op, data, array.dtype)
    if dtype is not None:
        _check_complex_to_real(op, array.dtype, dtype)
        return array.astype(dtype, copy=False)
    if array.dtype == np.float64:
        array = array.astype(D.get_default_dtype())
    elif array.dtype == np.complex128 and D.get_default_dtype() != np.float64:
        array = array.astype(np.complex64)  # PyTorch: the default complex dtype follows the float one
    return array


def _legacy_data(args: tuple, dtype, size, requires_grad) -> ndarray:
    """``Tensor(*args)``: sizes (or ``size=``) give zeros, a sequence its values as floats."""
    sizes = args if size is None else args + (tuple(size) if isinstance(size, (tuple, list)) else (size,))
    shape = all(type(a) is int or isinstance(a, np.integer) for a in sizes) and min(sizes, default=0) >= 0
    if not isinstance(requires_grad, (bool, np.bool_)) or not shape and (size is not None or len(args) > 1 or isinstance(args[0], (int, float, complex, np.number))):
        raise TypeError(f"Tensor: give one sequence or sizes >= 0 (and requires_grad True or False), got {args!r:.40}, size={size!r:.20}, requires_grad={requires_grad!r:.20}; for a 0-d tensor use cr.tensor(value)")
    if shape:
        return np.zeros(sizes or (0,), dtype=D.resolve(dtype, "Tensor") or D.get_default_dtype())
    array = _as_data(args[0], dtype, op="Tensor")
    return array.astype(D.get_default_dtype()) if dtype is None and not isinstance(args[0], Tensor) and array.dtype.kind in "biuf" else array


def _check_complex_to_real(op, have, dtype) -> None:
    """Complex data is not silently made real (PyTorch: "must be real number, not complex")."""
    if dtype is not None and have.kind == "c" and dtype.kind != "c":
        raise TypeError(f"{op}: complex data cannot become a tensor of dtype {dtype} (the imaginary "
                        f"part would be lost); pass a complex dtype or take x.real first")


def _check_kind(op, data, dtype) -> None:
    why = D.unsupported(dtype)
    if why is not None:
        raise TypeError(
            f"{op}: cannot make a tensor of dtype {dtype} ({why}) from {type(data).__name__} "
            f"{data!r:.40}; pass numbers, nested lists of numbers, a NumPy array or a Tensor"
        )


_NAMES: dict[int, tuple[Any, str]] = {}  # id(tensor) -> (weak reference, name): see Tensor.name


def _forget(key: int) -> Any:
    """The callback that drops a collected tensor's name."""
    def forget(_: Any) -> None:
        _NAMES.pop(key, None)
    return forget


def grad_is_none(t: Tensor) -> bool:
    """Whether ``t.grad`` is None (a Python decision a compiled function checks at each call)."""
    return t._grad is None


def _make(data, requires_grad=False, node=None, tangents=None, into=None) -> Tensor:
    """The one tensor constructor: a ``Tensor`` around ``data`` (no copy) with history
    ``node``; with ``into``, that newly allocated tensor is filled in (``Tensor.__init__``).
    Every tensor gets its slots here (``Primitive.__call__`` writes this out for speed; a
    ``View`` is a result given a ViewInfo by ``make_view``)."""
    t = _new(Tensor) if into is None else into
    t._data = data
    t._grad = None
    t._version = None
    t._tangents = tangents
    t._base = None
    t._hooks = None
    t._requires_grad = requires_grad
    t._node = node
    if _tracing[0]:
        tracing.born(t)
    return t


_new = object.__new__


if TYPE_CHECKING:  # the methods and operators attached at import, as the table declares them
    from ._tensor_api import TensorMethods as _Methods
else:
    _Methods = object


class Tensor(_Methods):
    """An n-dimensional array that can record the operations applied to it.

    Create with ``cr.tensor(data, dtype=None, requires_grad=False)``. Operations on tensors
    that require grad are recorded, so ``y.backward()`` fills ``x.grad`` with ∂y/∂x.
    """

    __slots__ = (
        "_data", "_node", "_requires_grad", "_grad", "_version", "_tangents", "_base", "_hooks",
        "__weakref__",
    )
    # What the slots hold, for type checkers (``_make`` fills them).
    _data: Any  # the array
    _node: Any  # graph.Node of its history, or None (a leaf or no history)
    _requires_grad: bool
    _grad: Tensor | None
    _version: list | None  # the version counter shared with its views ([version, views])
    _tangents: dict | None  # forward-mode level -> tangent
    _base: Any  # ViewInfo of a view, else None
    _hooks: Any  # hooks of a leaf (dict), or the node awaiting a retain_grad move
    __array_priority__ = 1000
    _leaf = True

    def __init__(self, *data: Any, dtype=None, requires_grad: bool = False, size=None) -> None:
        """As ``torch.Tensor``: ``Tensor([1, 2])`` is float32 (``cr.tensor`` infers), ``Tensor(2, 3)`` zeros."""
        _make(_legacy_data(data, dtype, size, requires_grad), into=self)
        if requires_grad:
            self.requires_grad_(True)

    _make = staticmethod(_make)
    # ``Tensor._wrap(array)``: a tensor with no history around ``array`` (no copy).
    _wrap = _make

    @staticmethod
    def _from_node(array: ndarray, node, tangents=None) -> Tensor:
        """A tensor around ``array`` whose history is ``node``."""
        return _make(array, True, node, tangents)

    # --- attributes -------------------------------------------------------------------------
    @property
    def shape(self) -> tuple:
        return self._data.shape

    @property
    def ndim(self) -> int:
        return self._data.ndim

    @property
    def dtype(self) -> np.dtype:
        return self._data.dtype

    @property
    def data(self) -> Tensor:
        """The values without history (shares memory), as PyTorch's ``.data``."""
        return self.detach()

    @data.setter
    def data(self, value) -> None:
        self._data = _as_data(value, copy=False, op="data")
        bump_version(self)

    def size(self, dim: int | None = None):
        """The shape, or its length along ``dim``."""
        if dim is None:
            return self._data.shape
        if self._data.ndim == 0 and dim in (0, -1):
            raise IndexError(f"size: dimension specified as {dim} but the tensor has no dimensions (shape ())")
        from ..ops.shape import normalize_dim
        return self._data.shape[normalize_dim("size", dim, self._data.ndim)]

    def dim(self) -> int:
        return self._data.ndim

    def numel(self) -> int:
        return int(self._data.size)

    nelement = numel

    def __len__(self) -> int:
        if self._data.ndim == 0:
            raise TypeError("len() of a 0-d tensor")
        return self._data.shape[0]

    @property
    def requires_grad(self) -> bool:
        return self._requires_grad

    @requires_grad.setter
    def requires_grad(self, flag: bool) -> None:
        self.requires_grad_(flag)

    def requires_grad_(self, requires_grad: bool = True) -> Tensor:
        """Start (or stop) recording operations on this leaf tensor; returns it."""
        if not isinstance(requires_grad, (bool, np.bool_)):
            raise TypeError(
                f"requires_grad_: requires_grad must be True or False, got "
                f"{type(requires_grad).__name__} {requires_grad!r:.40}"
            )
        requires_grad = bool(requires_grad)
        if requires_grad and B.kind(self._data.dtype) not in "fc":
            raise RuntimeError(
                f"requires_grad_: only floating-point and complex tensors can require gradients, this one "
                f"has dtype {self._data.dtype} (shape {self._data.shape}). Create it as a float: "
                f"cr.tensor(..., dtype=cr.float32) or x.float()."
            )
        if self._node is not None and not requires_grad:
            raise RuntimeError(
                "requires_grad_: this tensor is the result of an operation (non-leaf); you can "
                "only change requires_grad of leaf tensors. Use .detach() to get one without history."
            )
        if self._node is None:
            self._requires_grad = requires_grad
        return self

    @property
    def name(self) -> str | None:
        """The tensor's name in pictures and staged code (``cr.viz``, ``cr.explain``, the
        command line), or None: unnamed tensors are called after the variables holding them,
        else ``v1, v2, ...``. Set it with ``cr.tensor(..., name="x")`` or ``t.name = "x"``."""
        entry = _NAMES.get(id(self))
        return entry[1] if entry is not None and entry[0]() is self else None

    @name.setter
    def name(self, name: str | None) -> None:
        if name is None:
            _NAMES.pop(id(self), None)
            return
        if not isinstance(name, str) or not name.isidentifier():
            raise ValueError(f"name: a tensor's name is a Python identifier (it names a variable in staged "
                             f"code), got {name!r}; e.g. 'x' or 'w1'")
        key = id(self)
        _NAMES[key] = (weakref.ref(self, _forget(key)), name)

    @property
    def is_leaf(self) -> bool:
        return self._node is None

    @property
    def grad_fn(self):
        return self._node

    @property
    def grad(self) -> Tensor | None:
        if tracing.active[0]:  # a compiled function decides on it: checked at every call
            tracing.check_state(self, grad_is_none, self._grad is None, "whether .grad is None")
        return self._grad

    @grad.setter
    def grad(self, value) -> None:
        if value is not None:
            if not isinstance(value, Tensor):
                value = _make(_as_data(value, self._data.dtype, op="grad"))
            if value._data.dtype != self._data.dtype:
                raise RuntimeError(
                    f"grad: attempting to assign a gradient of dtype {value._data.dtype} to a tensor "
                    f"of dtype {self._data.dtype}; the gradient and the tensor must have the same "
                    f"dtype (convert it, e.g. g.to({self._data.dtype.name}))"
                )
            if value._data.shape != self._data.shape:
                raise RuntimeError(
                    f"grad: assigned gradient has shape {value._data.shape} but the tensor has "
                    f"shape {self._data.shape}"
                )
        self._grad = value
        if _tracing[0]:
            tracing.grad_set(self)

    # --- conversion -------------------------------------------------------------------------
    def numpy(self) -> ndarray:
        """The underlying array (no copy). Raises if this tensor requires grad, as PyTorch does."""
        if _tracing[0]:
            tracing.reading(self, ".numpy()")
        if self._requires_grad:
            raise RuntimeError(
                "numpy: can't call numpy() on a tensor that requires grad; use "
                "t.detach().numpy() (the values are shared, the history is dropped)"
            )
        if self._tangents is not None:
            self._leave_graph(".numpy()")
        data = self._buffer()
        if _tracing[0]:
            tracing.converted(self, "numpy", data)
        return data

    def _leave_graph(self, what: str) -> None:
        """Raise if converting this tensor (by ``what``) inside a transform would silently drop
        its derivative (see forward.check_conversion); free outside transforms. A batched
        tensor of vmap (one value per example) is never converted."""
        refuse = getattr(self._data, "refuse_conversion", None)
        if refuse is not None:
            refuse(what)
        if (self._requires_grad or self._tangents is not None) and (
                state.transform_depth or state.forward_levels):
            from ..transforms.forward import check_conversion
            check_conversion(self, what)

    def _buffer(self) -> ndarray:
        """The data as a writable-in-place ndarray (0-d results of operations are stored as
        NumPy scalars until something needs their memory)."""
        data = self._data
        if type(data) is not ndarray and not B.foreign(data):  # another namespace's: its own memory
            old, data = data, np.array(data)
            self._data = data
            if _tracing[0]:
                tracing.rebuffered(old, data)
        return data

    def item(self):
        """The value of a one-element tensor as a Python number."""
        data = self._data
        if (type(data) is np.float64 or type(data) is ndarray and data.ndim == 0) and not _tracing[0] \
                and self._tangents is None \
                and not (self._requires_grad and state.transform_depth):
            return data.item()  # the common case: nothing to check
        if self._data.size != 1:
            raise ValueError(
                f"item: only one-element tensors can be converted to a Python scalar, this one "
                f"has shape {self._data.shape} ({self._data.size} elements)"
            )
        if _tracing[0]:
            tracing.reading(self, ".item()")
        self._leave_graph(".item()")
        value = self._data.item()
        if _tracing[0]:
            tracing.converted(self, "item", value)
        return value

    def tolist(self):
        if _tracing[0]:
            tracing.reading(self, ".tolist()")
        self._leave_graph(".tolist()")
        value = self._data.tolist()
        if _tracing[0]:
            tracing.converted(self, "tolist", value)
        return value

    def __array__(self, dtype=None, copy=None):
        """``np.asarray(t)``: the data; a read-only view for a tensor with history (or that
        requires grad), so writing into it cannot corrupt a gradient; inside a transform, an
        error for a traced tensor (its derivative would be dropped)."""
        if _tracing[0]:
            tracing.reading(self, "np.asarray()")
        tracked = self._requires_grad or self._tangents is not None
        if tracked:
            self._leave_graph("np.asarray()")
            if copy is not True:  # np.array(t) passes copy=True; a tensor inside a list is refused
                refuse_hidden_list(caller())
        data = self._buffer()
        if _tracing[0]:
            tracing.converted(self, "numpy", data)
        if dtype is not None and dtype != data.dtype:
            return data.astype(dtype)
        if copy:
            return data.copy()
        if tracked:
            data = data.view()
            data.flags.writeable = False
        return data

    def _scalar(self, kind: str):
        if self._data.size != 1:
            raise ValueError(
                f"{kind}(): only one-element tensors can be converted to Python scalars, this "
                f"one has shape {self._data.shape}"
            )
        if _tracing[0]:
            tracing.reading(self, f"{kind}()")
        value = self._data.reshape(()).item()
        if _tracing[0]:
            tracing.converted(self, "item", value)
        return value

    def __float__(self) -> float:
        self._leave_graph("float()")
        return float(self._scalar("float"))

    def __int__(self) -> int:
        self._leave_graph("int()")
        return int(self._scalar("int"))

    def __index__(self) -> int:
        if self._data.dtype.kind not in "iub":
            raise TypeError(f"only integer tensors can be used as an index, got {self._data.dtype}")
        self._leave_graph("int()")
        return int(self._scalar("index"))

    def __bool__(self) -> bool:
        refuse = getattr(self._data, "refuse_conversion", None)
        if refuse is not None:  # a batched tensor of vmap
            refuse("bool() (a Python if or while)")
        if self._data.size != 1:
            raise RuntimeError(
                f"bool(): the truth value of a tensor with {self._data.size} elements (shape "
                f"{self._data.shape}) is ambiguous; use .any() or .all()"
            )
        if _tracing[0]:
            tracing.reading(self, "bool() (a Python if or while)")
        value = bool(self._data.reshape(()).item())
        if _tracing[0]:
            tracing.converted(self, "bool", value)
        return value

    __hash__ = object.__hash__

    def __iter__(self):
        if self._data.ndim == 0:
            raise TypeError("iteration over a 0-d tensor")
        for i in range(self._data.shape[0]):
            yield self[i]

    def __repr__(self) -> str:
        if _tracing[0]:  # a symbolic tensor (cr.placeholder) has no values to show
            shown = tracing.describe(self)
            if shown is not None:
                return shown
        from .format import tensor_repr
        return tensor_repr(self)

    def _repr_html_(self) -> str:
        """Jupyter shows a tensor's value and, below it, the picture of its graph (a tensor with
        history, when Graphviz is there)."""
        import html

        shown = f"<pre>{html.escape(repr(self))}</pre>"
        if self._node is None:
            return shown
        try:
            from ..tools.viz import tensor_svg
        except ImportError:
            return shown
        svg = tensor_svg(self)
        if svg is None:
            return shown
        start = svg.find("<svg")  # (the picture inline: its XML header and doctype dropped)
        return f"{shown}\n<div>{svg[start:] if start >= 0 else svg}</div>"

    def __format__(self, spec: str) -> str:
        if _tracing[0] and spec:
            tracing.reading(self, "format()")
        if self._data.ndim == 0 and spec:
            return format(self._data.item(), spec)
        return repr(self) if not spec else format(str(self), spec)

    # --- autograd ---------------------------------------------------------------------------
    def detach(self) -> Tensor:
        """A tensor sharing this one's data, with no history; gradient does not flow through it."""
        detached = getattr(self._data, "detached", None)
        if detached is not None:  # a batched tensor of vmap: its batch, detached
            return _make(detached())
        t = _make(self._buffer())
        t._version = version_counter(self)
        return t

    def detach_(self) -> Tensor:
        """Drop this tensor's history in place (views can't: use ``detach()``)."""
        if self._base is not None:  # a view (see views.py)
            raise RuntimeError(
                "detach_: can't detach a view in place (it shares its history with its base, "
                f"shape {self._base._data.shape}); use .detach() to get a new tensor without history"
            )
        self._node = None
        self._requires_grad = False
        return self

    def retain_grad(self) -> None:
        """Keep ``.grad`` for this non-leaf tensor after backward."""
        if not self._requires_grad:
            raise RuntimeError("retain_grad: can't retain_grad on a tensor that doesn't require grad")
        if self._node is not None:
            self._node.retained = weakref.ref(self)

    @property
    def retains_grad(self) -> bool:
        return self._node is not None and self._node.retained is not None

    def register_hook(self, fn) -> RemovableHandle:
        """Call ``fn(grad)`` when this tensor's gradient is computed; a returned tensor replaces it."""
        if not self._requires_grad:
            raise RuntimeError(
                "register_hook: cannot register a hook on a tensor that doesn't require grad"
            )
        if self._node is not None:
            return self._node.register_hook(fn)
        if self._hooks is None:
            self._hooks = {}
        return RemovableHandle(self._hooks, fn)

    # ``backward``, ``T`` and ``mT`` need the engine and the operations, which sit above this
    # class: ``api.methods`` attaches them with the operations' methods.


def version_counter(t: Tensor) -> list:
    """``t``'s in-place version counter, created when something first needs to watch it."""
    counter = t._version
    if counter is None:
        counter = t._version = [0]
    return counter


def bump_version(t: Tensor) -> None:
    """Record an in-place change of ``t`` (nothing to do when no one watches it)."""
    if _tracing[0]:
        tracing.bumped(t)
    counter = t._version
    if counter is not None:
        counter[0] += 1
