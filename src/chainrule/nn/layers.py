"""Layers: ``Linear``, ``Sequential``, ``Dropout`` and the activation modules."""

from __future__ import annotations

import math
import operator
from collections import OrderedDict
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any, SupportsIndex, overload

from ..core import tracing
from ..core.creation import _float, empty
from ..core.tensor import Tensor
from . import functional as F
from . import init
from .module import Module
from .parameter import Parameter

if TYPE_CHECKING:
    from .._typing import DTypeLike

__all__ = ["Dropout", "Linear", "ReLU", "Sequential", "Sigmoid", "Tanh"]


def _size(op: str, name: str, value: Any) -> int:
    try:
        size = operator.index(value)
    except TypeError:
        raise TypeError(f"{op}: {name} must be an int, got {type(value).__name__}") from None
    if size < 0:
        raise ValueError(f"{op}: {name} must be non-negative, got {size}")
    return size


class Linear(Module):
    """``y = x @ weight.T + bias``, PyTorch's fully connected layer.

    Parameters
    ----------
    in_features, out_features : int
        Sizes of each input and output sample (the last dimension).
    bias : bool, default True
        Whether to learn an additive bias.
    dtype : dtype, optional
        Floating dtype of the parameters; the default dtype when omitted.

    Attributes
    ----------
    weight : Parameter of shape (out_features, in_features)
        Initialised from U(−1/√in_features, 1/√in_features), as PyTorch does.
    bias : Parameter of shape (out_features,) or None
        Initialised from the same distribution.
    """

    weight: Parameter
    bias: Parameter | None

    def __init__(self, in_features: int, out_features: int, bias: bool = True,
                 dtype: DTypeLike = None) -> None:
        super().__init__()
        self.in_features = _size("Linear", "in_features", in_features)
        self.out_features = _size("Linear", "out_features", out_features)
        dtype = _float(dtype, "Linear")
        if dtype.kind != "f":
            raise TypeError(f"Linear: parameters must have a floating dtype, got {dtype}")
        self.weight = Parameter(empty(self.out_features, self.in_features, dtype=dtype))
        if bias:
            self.bias = Parameter(empty(self.out_features, dtype=dtype))
        else:
            self.register_parameter("bias", None)
        self.reset_parameters()

    def reset_parameters(self) -> None:
        """Draw fresh weights and bias from PyTorch's default distribution."""
        init.kaiming_uniform_(self.weight, a=math.sqrt(5))
        if self.bias is not None:
            bound = 1 / math.sqrt(self.in_features) if self.in_features > 0 else 0.0
            init.uniform_(self.bias, -bound, bound)

    def forward(self, input: Tensor) -> Tensor:
        return F.linear(input, self.weight, self.bias)

    def extra_repr(self) -> str:
        return f"in_features={self.in_features}, out_features={self.out_features}, bias={self.bias is not None}"


class Sequential(Module):
    """Modules applied one after another: ``Sequential(a, b, c)(x) == c(b(a(x)))``.

    Built from modules given in order (named ``"0"``, ``"1"``, ...) or from one ``OrderedDict``
    of names to modules. Supports ``len``, iteration, indexing and slicing.
    """

    @overload
    def __init__(self, *modules: Module) -> None: ...
    @overload
    def __init__(self, modules: OrderedDict[str, Module], /) -> None: ...

    def __init__(self, *modules: Module | OrderedDict[str, Module]) -> None:
        super().__init__()
        if len(modules) == 1 and isinstance(modules[0], OrderedDict):
            for name, module in modules[0].items():
                self._add("Sequential", name, module)
        else:
            for i, entry in enumerate(modules):
                self._add("Sequential", str(i), entry)

    def _add(self, op: str, name: str, module: object) -> None:
        if not isinstance(module, Module):
            raise TypeError(
                f"{op}: entry {name!r} is a {type(module).__name__}, not a cr.nn.Module; wrap "
                f"functions in a Module subclass"
            )
        self.add_module(name, module)

    def append(self, module: Module) -> Sequential:
        """Add ``module`` at the end; returns self."""
        self._add("Sequential.append", str(len(self)), module)
        return self

    def __len__(self) -> int:
        return len(self._modules)

    def __iter__(self) -> Iterator[Module]:
        # Entries are Modules (``_add`` checks them); one set to None afterwards (``seq.name =
        # None``) stays None, as in PyTorch, and fails where it is used.
        return iter(self._modules.values())  # type: ignore[arg-type]

    @overload
    def __getitem__(self, index: slice) -> Sequential: ...
    @overload
    def __getitem__(self, index: SupportsIndex) -> Module: ...

    def __getitem__(self, index: slice | SupportsIndex) -> Module:
        modules = list(self._modules.items())
        if isinstance(index, slice):
            return Sequential(OrderedDict(modules[index]))  # type: ignore[arg-type]  # None: see __iter__
        try:
            return modules[operator.index(index)][1]  # type: ignore[return-value]  # None: see __iter__
        except IndexError:
            raise IndexError(
                f"Sequential: index {index} is out of range for {len(modules)} modules"
            ) from None

    def forward(self, input: Any) -> Any:  # noqa: A002
        for module in self:
            input = module(input)
        return input


class Dropout(Module):
    """Zero each element with probability ``p`` in training mode, scaling the others by
    ``1 / (1 − p)``; the identity in evaluation mode (``model.eval()``)."""

    def __init__(self, p: float = 0.5) -> None:
        super().__init__()
        if not isinstance(p, (int, float)) or not 0.0 <= p <= 1.0:
            raise ValueError(f"Dropout: probability p has to be between 0 and 1, but got {p!r}")
        self.p = float(p)

    def forward(self, input: Tensor) -> Tensor:
        if tracing.active[0]:  # cr.jit: train() / eval() later must not reuse this trace
            tracing.check_state(self, _training, self.training, "whether the layer is in training mode")
        return F.dropout(input, self.p, self.training)

    def extra_repr(self) -> str:
        return f"p={self.p}"


class ReLU(Module):
    """``max(x, 0)`` elementwise."""

    def forward(self, input: Tensor) -> Tensor:
        return F.relu(input)


class Tanh(Module):
    """``tanh(x)`` elementwise."""

    def forward(self, input: Tensor) -> Tensor:
        return F.tanh(input)


class Sigmoid(Module):
    """``1 / (1 + exp(−x))`` elementwise."""

    def forward(self, input: Tensor) -> Tensor:
        return F.sigmoid(input)


def _training(module: Module) -> bool:
    return module.training
