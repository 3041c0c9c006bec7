"""``Module``: the base class of layers and models, with PyTorch's registration rules.

Assigning a ``Parameter`` or a ``Module`` to an attribute registers it; ``parameters()``,
``state_dict()`` and ``train()``/``eval()`` then walk the tree of registered submodules.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Callable, Iterable, Iterator, Mapping
from typing import TYPE_CHECKING, Any, NamedTuple

import numpy as np

from ..core import dtypes as D
from ..core import tracing
from ..core.tensor import Tensor, bump_version
from .parameter import Parameter

if TYPE_CHECKING:
    from typing_extensions import Self

    from .._typing import DTypeLike

__all__ = ["Module"]


class IncompatibleKeys(NamedTuple):
    """What ``load_state_dict`` could not match: keys the model has that the dict lacks, and
    keys the dict has that the model does not."""

    missing_keys: list[str]
    unexpected_keys: list[str]


class Module:
    """Base class of every layer and model.

    Subclasses call ``super().__init__()`` first, assign their parameters and submodules as
    attributes, and define ``forward``; calling the module calls ``forward``.

    Attributes
    ----------
    training : bool
        Whether the module is in training mode (set by ``train()`` / ``eval()``); layers such as
        ``Dropout`` behave differently in the two modes.
    """

    training: bool
    # The registries (set in __init__ with object.__setattr__, so that __setattr__ can test
    # whether they exist yet).
    _parameters: OrderedDict[str, Parameter | None]
    _buffers: OrderedDict[str, Tensor | None]
    _non_persistent: set[str]
    _modules: OrderedDict[str, Module | None]

    def __init__(self) -> None:
        object.__setattr__(self, "training", True)
        object.__setattr__(self, "_parameters", OrderedDict())
        object.__setattr__(self, "_buffers", OrderedDict())
        object.__setattr__(self, "_non_persistent", set())
        object.__setattr__(self, "_modules", OrderedDict())

    # --- registration -----------------------------------------------------------------------
    def _registry(self, op: str, name: str) -> None:
        if "_parameters" not in self.__dict__:
            raise AttributeError(
                f"{op}: cannot register {name!r} before Module.__init__() has run; call "
                f"super().__init__() first in {type(self).__name__}.__init__"
            )

    def _check_name(self, op: str, name: str, registry: Mapping[str, object]) -> None:
        if not isinstance(name, str):
            raise TypeError(f"{op}: the name must be a str, got {type(name).__name__}")
        if not name or "." in name:
            raise KeyError(f"{op}: the name must be non-empty and contain no '.', got {name!r}")
        if hasattr(self, name) and name not in registry:
            raise KeyError(f"{op}: attribute {name!r} already exists on {type(self).__name__}")

    def register_parameter(self, name: str, param: Parameter | None) -> None:
        """Register ``param`` (or ``None``, an absent parameter such as a disabled bias) as ``name``."""
        self._registry("register_parameter", name)
        self._check_name("register_parameter", name, self._parameters)
        if param is not None and not isinstance(param, Parameter):
            raise TypeError(
                f"register_parameter: cannot register a {type(param).__name__} as parameter "
                f"{name!r}: wrap it as cr.nn.Parameter(...) (or pass None)"
            )
        self._parameters[name] = param

    def register_buffer(self, name: str, tensor: Tensor | None, persistent: bool = True) -> None:
        """Register a tensor that is state but not a parameter (saved in ``state_dict`` when
        ``persistent``; never returned by ``parameters()``)."""
        self._registry("register_buffer", name)
        self._check_name("register_buffer", name, self._buffers)
        if tensor is not None and not isinstance(tensor, Tensor):
            raise TypeError(
                f"register_buffer: buffer {name!r} must be a Tensor or None, got {type(tensor).__name__}"
            )
        self._buffers[name] = tensor
        if persistent:
            self._non_persistent.discard(name)
        else:
            self._non_persistent.add(name)

    def add_module(self, name: str, module: Module | None) -> None:
        """Register ``module`` as the child ``name``."""
        self._registry("add_module", name)
        self._check_name("add_module", name, self._modules)
        if module is not None and not isinstance(module, Module):
            raise TypeError(f"add_module: {name!r} must be a Module or None, got {type(module).__name__}")
        self._modules[name] = module

    register_module = add_module

    def __setattr__(self, name: str, value: Any) -> None:
        state = self.__dict__
        parameters: OrderedDict[str, Parameter | None] | None = state.get("_parameters")
        buffers: OrderedDict[str, Tensor | None] | None = state.get("_buffers")
        modules: OrderedDict[str, Module | None] | None = state.get("_modules")
        if isinstance(value, (Parameter, Module)):
            kind = "parameters" if isinstance(value, Parameter) else "submodules"
            if parameters is None or buffers is None or modules is None:
                raise AttributeError(
                    f"cannot assign {kind} before Module.__init__() has run; call "
                    f"super().__init__() first in {type(self).__name__}.__init__"
                )
            state.pop(name, None)
            parameters.pop(name, None)
            buffers.pop(name, None)
            modules.pop(name, None)
            self._non_persistent.discard(name)
            if isinstance(value, Parameter):
                parameters[name] = value
            else:
                modules[name] = value
            return
        if parameters is not None and name in parameters:
            if value is not None:
                raise _bad_assignment(value, "parameter", name, "cr.nn.Parameter",
                                      "; wrap it: cr.nn.Parameter(value)")
            parameters[name] = None
        elif modules is not None and name in modules:
            if value is not None:
                raise _bad_assignment(value, "child module", name, "cr.nn.Module")
            modules[name] = None
        elif buffers is not None and name in buffers:
            if value is not None and not isinstance(value, Tensor):
                raise _bad_assignment(value, "buffer", name, "Tensor")
            buffers[name] = value
        else:
            object.__setattr__(self, name, value)

    def __getattr__(self, name: str) -> Any:
        # Only called when normal lookup fails: registered parameters, buffers and submodules.
        state = self.__dict__
        for registry in ("_parameters", "_buffers", "_modules"):
            if registry in state and name in state[registry]:
                return state[registry][name]
        raise AttributeError(f"{type(self).__name__!r} object has no attribute {name!r}")

    def __delattr__(self, name: str) -> None:
        registry: OrderedDict[str, Any]
        for registry in (self._parameters, self._buffers, self._modules):
            if name in registry:
                del registry[name]
                self._non_persistent.discard(name)
                return
        object.__delattr__(self, name)

    def __dir__(self) -> list[str]:
        return sorted(set(super().__dir__()) | set(self._parameters) | set(self._buffers) | set(self._modules))

    # --- running ----------------------------------------------------------------------------
    def forward(self, *args: Any, **kwargs: Any) -> Any:
        """The computation; subclasses must define it."""
        raise NotImplementedError(
            f'Module [{type(self).__name__}] is missing the required "forward" function: '
            f"define forward(self, ...) in the subclass"
        )

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        return self.forward(*args, **kwargs)

    # --- walking the tree -------------------------------------------------------------------
    def named_modules(self, memo: set[int] | None = None, prefix: str = "",
                      remove_duplicate: bool = True) -> Iterator[tuple[str, Module]]:
        """``(name, module)`` for this module and every submodule, depth first."""
        _check_prefix("named_modules", prefix)
        if memo is None:
            memo = set()
        if remove_duplicate:
            if id(self) in memo:
                return
            memo.add(id(self))
        yield prefix, self
        for name, module in self._modules.items():
            if module is None:
                continue
            yield from module.named_modules(memo, prefix + ("." if prefix else "") + name, remove_duplicate)

    def modules(self) -> Iterator[Module]:
        """This module and every submodule, each once."""
        for _, module in self.named_modules():
            yield module

    def named_children(self) -> Iterator[tuple[str, Module]]:
        """``(name, module)`` for the immediate submodules, each once."""
        seen: set[int] = set()
        for name, module in self._modules.items():
            if module is not None and id(module) not in seen:
                seen.add(id(module))
                yield name, module

    def children(self) -> Iterator[Module]:
        """The immediate submodules, each once."""
        for _, module in self.named_children():
            yield module

    def _named_members(self, registry: str, prefix: str, recurse: bool,
                       remove_duplicate: bool) -> Iterator[tuple[str, Any]]:
        _check_prefix("named" + registry, prefix)
        seen: set[int] = set()
        walk: Iterable[tuple[str, Module]] = self.named_modules(prefix=prefix, remove_duplicate=remove_duplicate) if recurse else [(prefix, self)]
        for module_prefix, module in walk:
            for name, value in getattr(module, registry).items():
                if value is None or (remove_duplicate and id(value) in seen):
                    continue
                seen.add(id(value))
                yield module_prefix + ("." if module_prefix else "") + name, value

    def named_parameters(self, prefix: str = "", recurse: bool = True,
                         remove_duplicate: bool = True) -> Iterator[tuple[str, Parameter]]:
        """``(dotted name, parameter)`` pairs, e.g. ``("0.weight", Parameter)``; a parameter
        shared by several modules is given once, under its first name."""
        return self._named_members("_parameters", prefix, recurse, remove_duplicate)

    def parameters(self, recurse: bool = True) -> Iterator[Parameter]:
        """Every parameter of this module and (with ``recurse``) its submodules, each once."""
        for _, param in self.named_parameters(recurse=recurse):
            yield param

    def named_buffers(self, prefix: str = "", recurse: bool = True,
                      remove_duplicate: bool = True) -> Iterator[tuple[str, Tensor]]:
        """``(dotted name, buffer)`` pairs."""
        return self._named_members("_buffers", prefix, recurse, remove_duplicate)

    def buffers(self, recurse: bool = True) -> Iterator[Tensor]:
        """Every buffer of this module and (with ``recurse``) its submodules."""
        for _, buffer in self.named_buffers(recurse=recurse):
            yield buffer

    def apply(self, fn: Callable[[Module], object]) -> Self:
        """Call ``fn(module)`` on every submodule (children first) and on this module; returns self."""
        for module in self.children():
            module.apply(fn)
        fn(self)
        return self

    # --- modes and gradients ----------------------------------------------------------------
    def train(self, mode: bool = True) -> Self:
        """Set training mode (``mode=True``) or evaluation mode on this module and every
        submodule; returns self."""
        if not isinstance(mode, bool):
            raise TypeError(f"train: mode must be a bool, got {type(mode).__name__}")
        for module in self.modules():
            object.__setattr__(module, "training", mode)
        return self

    def eval(self) -> Self:
        """Evaluation mode, same as ``train(False)``; returns self."""
        return self.train(False)

    def requires_grad_(self, requires_grad: bool = True) -> Self:
        """Start (or stop) recording gradients for every parameter; returns self."""
        for param in self.parameters():
            param.requires_grad_(requires_grad)
        return self

    def zero_grad(self, set_to_none: bool = True) -> None:
        """Reset the gradients of all parameters: to ``None`` (the default, as PyTorch ≥ 2.0), or
        to zeros with ``set_to_none=False``."""
        _zero_grads(self.parameters(), set_to_none)

    # --- dtype ------------------------------------------------------------------------------
    def to(self, dtype: DTypeLike) -> Self:
        """Convert every floating parameter and buffer (and gradient) to ``dtype`` in place; the
        parameter objects stay the same, so optimizers built on them keep working."""
        target = D.resolve(dtype, "Module.to")
        if target is None or target.kind != "f":
            raise TypeError(f"Module.to: only floating dtypes are supported, got {dtype!r}")
        for tensor in list(self.parameters()) + list(self.buffers()):
            if tensor._data.dtype.kind == "f" and tensor._data.dtype != target:
                tensor._data = tensor._data.astype(target)
                bump_version(tensor)
                if tensor._grad is not None:
                    tensor._grad = Tensor._wrap(tensor._grad._data.astype(target))
        return self

    def float(self) -> Self:
        """``to(cr.float32)``."""
        return self.to(D.float32)

    def double(self) -> Self:
        """``to(cr.float64)``."""
        return self.to(D.float64)

    # --- state ------------------------------------------------------------------------------
    def state_dict(self, prefix: str = "", keep_vars: bool = False) -> OrderedDict[str, Tensor]:
        """Every parameter and persistent buffer by dotted name.

        The tensors share memory with the module's (detached unless ``keep_vars``), so save
        the dict (``cr.save``) or copy it before training further if you need a snapshot.
        """
        _check_prefix("state_dict", prefix)
        result: OrderedDict[str, Tensor] = OrderedDict()
        for module_prefix, module in self.named_modules(prefix=prefix, remove_duplicate=False):
            dotted = module_prefix + ("." if module_prefix else "")
            for name, param in module._parameters.items():
                if param is not None:
                    result[dotted + name] = param if keep_vars else param.detach()
            for name, buffer in module._buffers.items():
                if buffer is not None and name not in module._non_persistent:
                    result[dotted + name] = buffer if keep_vars else buffer.detach()
        return result

    def load_state_dict(self, state_dict: Mapping[str, Any], strict: bool = True) -> IncompatibleKeys:
        """Copy values from ``state_dict`` into this module's parameters and buffers.

        Parameters
        ----------
        state_dict : mapping of str to Tensor or array
            As returned by ``state_dict()`` (or ``cr.load`` of a saved one).
        strict : bool, default True
            Require the keys to match this module's exactly.

        Returns
        -------
        IncompatibleKeys
            ``(missing_keys, unexpected_keys)``.

        Raises
        ------
        RuntimeError
            When a shape differs, or (with ``strict``) a key is missing or unexpected. Nothing is
            copied unless everything can be.
        """
        if not isinstance(state_dict, Mapping):
            raise TypeError(
                f"load_state_dict: expected a mapping of names to tensors (as from state_dict() or "
                f"cr.load), got {type(state_dict).__name__}"
            )
        own = self.state_dict(keep_vars=True)
        missing = [key for key in own if key not in state_dict]
        unexpected = [key for key in state_dict if key not in own]
        errors: list[str] = []
        copies: list[tuple[Tensor, np.ndarray]] = []
        for key, target in own.items():
            if key not in state_dict:
                continue
            value = state_dict[key]
            source = value._data if isinstance(value, Tensor) else value
            if not isinstance(source, (np.ndarray, np.generic, int, float)):
                errors.append(
                    f"value for {key!r} is a {type(value).__name__}; expected a Tensor or a NumPy array"
                )
                continue
            source = np.asarray(source)
            if source.shape != target._data.shape:
                errors.append(
                    f"size mismatch for {key}: copying a param with shape {source.shape} from the "
                    f"state dict, the shape in the current model is {target._data.shape}"
                )
            elif not np.can_cast(source.dtype, target._data.dtype, casting="same_kind"):
                errors.append(
                    f"dtype mismatch for {key}: cannot copy {source.dtype} values into a "
                    f"{target._data.dtype} tensor"
                )
            else:
                copies.append((target, source))
        if strict:
            if unexpected:
                errors.insert(0, "Unexpected key(s) in state_dict: " + ", ".join(map(repr, unexpected)) + ".")
            if missing:
                errors.insert(0, "Missing key(s) in state_dict: " + ", ".join(map(repr, missing)) + ".")
        if errors:
            raise RuntimeError(
                f"load_state_dict: error(s) in loading state_dict for {type(self).__name__}:\n\t"
                + "\n\t".join(errors)
                + "\n(nothing was loaded; pass strict=False to ignore missing and unexpected keys)"
            )
        for target, source in copies:
            np.copyto(target._data, source, casting="same_kind")
            bump_version(target)
        return IncompatibleKeys(missing, unexpected)

    # --- printing ---------------------------------------------------------------------------
    def extra_repr(self) -> str:
        """The text inside this module's parentheses in ``repr``; layers override it."""
        return ""

    def __repr__(self) -> str:
        lines = [line for line in self.extra_repr().split("\n") if line]
        for name, module in self._modules.items():
            child = repr(module).replace("\n", "\n  ")
            lines.append(f"({name}): {child}")
        if not lines:
            return f"{type(self).__name__}()"
        if len(lines) == 1 and not self._modules:
            return f"{type(self).__name__}({lines[0]})"
        return f"{type(self).__name__}(\n  " + "\n  ".join(lines) + "\n)"


def _check_prefix(op: str, prefix: object) -> None:
    if not isinstance(prefix, str):
        raise TypeError(f"{op}: prefix must be a str, got {type(prefix).__name__} {prefix!r:.40}")


def _bad_assignment(value: Any, role: str, name: str, expected: str, hint: str = "") -> TypeError:
    """The error for assigning ``value`` to a registered ``role`` that takes ``expected`` or None."""
    return TypeError(
        f"cannot assign a {type(value).__name__} as {role} {name!r} ({expected} or None expected){hint}"
    )


def _zero_grads(params: Iterable[Tensor], set_to_none: bool) -> None:
    """Set ``.grad`` of each parameter to ``None``, or to zeros (detached) when not ``set_to_none``."""
    traced = tracing.active[0] and tracing.current() is not None
    for param in params:
        grad = param._grad
        if grad is None:
            if traced:
                tracing.check_state(param, _grad_is_none, True, "whether .grad is None")
            continue
        if traced:
            tracing.check_state(param, _grad_is_none, False, "whether .grad is None")
        if set_to_none:
            param._grad = None
        elif grad._node is not None or grad._requires_grad:
            param._grad = Tensor._wrap(np.zeros_like(grad._data))
        elif traced:  # cr.jit: a write the trace follows
            grad.zero_()
            continue
        else:
            grad._data[...] = 0
            bump_version(grad)
            continue
        if traced:
            tracing.grad_set(param)


def _grad_is_none(param: Tensor) -> bool:
    return param._grad is None
