"""``Parameter``: a leaf tensor that a ``Module`` registers as one of its weights."""

from __future__ import annotations

from typing import TYPE_CHECKING

from ..core.tensor import Tensor, _as_data

if TYPE_CHECKING:
    from .._typing import TensorLike


class Parameter(Tensor):
    """A tensor that is a module parameter: assigning it to a ``Module`` attribute registers it.

    Parameters
    ----------
    data : array_like or Tensor, optional
        The values. A NumPy array or a tensor is shared, not copied (as ``torch.nn.Parameter``);
        a tensor with history contributes only its values, so the parameter is always a leaf.
        ``None`` gives an empty tensor.
    requires_grad : bool, default True
        Whether gradients are accumulated into ``.grad``. Only floating tensors can require them.
    """

    __slots__ = ()

    def __init__(self, data: TensorLike | None = None, requires_grad: bool = True) -> None:
        if not isinstance(requires_grad, bool):
            raise TypeError(f"Parameter: requires_grad must be True or False, got {type(requires_grad).__name__}")
        array = _as_data([] if data is None else data, copy=False, op="Parameter")
        # Tensor.__init__ copies its data; a parameter shares it, as torch.nn.Parameter does.
        Tensor.__init__(self, ())
        self._data = array
        if requires_grad:
            if array.dtype.kind != "f":
                raise RuntimeError(
                    f"Parameter: only floating-point tensors can require gradients, got dtype "
                    f"{array.dtype}; convert the data (e.g. .float()) or pass requires_grad=False"
                )
            self.requires_grad_(True)

    def __repr__(self) -> str:
        return "Parameter containing:\n" + super().__repr__()
