"""``functional_call``: a module run with the parameters (and buffers) you pass, as a function of
them — what makes ``cr.grad``, ``cr.vmap`` and the other transforms apply to a ``Module``."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from .module import Module


def functional_call(module: Module, parameters_and_buffers: Mapping[str, Any], args: Any = (),
                    kwargs: Mapping[str, Any] | None = None, *, strict: bool = False) -> Any:
    """``module(*args, **kwargs)`` with its parameters and buffers named in ``parameters_and_buffers``
    (``dict(module.named_parameters())``'s names, e.g. ``"0.weight"``) replaced by the given
    tensors for this call only (PyTorch's ``torch.func.functional_call``). ``strict``: every
    parameter and buffer must be given.

    >>> params = {k: v.detach() for k, v in model.named_parameters()}
    >>> grads = cr.grad(lambda p: loss_fn(cr.nn.functional_call(model, p, (x,)), y))(params)
    >>> per_example = cr.vmap(cr.grad(lambda p, x, y: loss_fn(cr.nn.functional_call(model, p, (x[None],)), y[None])),
    ...                       in_axes=(None, 0, 0))(params, X, Y)
    """
    if not isinstance(module, Module):
        raise TypeError(f"functional_call: module must be a cr.nn.Module, got {type(module).__name__}")
    if not isinstance(parameters_and_buffers, Mapping):
        raise TypeError(f"functional_call: parameters_and_buffers must be a dict of name -> tensor, got "
                        f"{type(parameters_and_buffers).__name__}")
    known = {name for name, _ in module.named_parameters()} | {name for name, _ in module.named_buffers()}
    unknown = sorted(set(parameters_and_buffers) - known)
    if unknown:
        raise ValueError(f"functional_call: {unknown} are not parameters or buffers of the module; "
                         f"its names are {sorted(known)}")
    if strict and set(parameters_and_buffers) != known:
        raise ValueError(f"functional_call: strict=True needs every parameter and buffer; missing "
                         f"{sorted(known - set(parameters_and_buffers))}")
    saved = []
    try:
        for name, value in parameters_and_buffers.items():
            owner_path, _, leaf = name.rpartition(".")
            owner: Any = module
            for part in owner_path.split(".") if owner_path else ():
                owner = owner._modules[part]
            registry: dict[str, Any] = owner._parameters if leaf in owner._parameters else owner._buffers
            saved.append((registry, leaf, registry[leaf]))
            registry[leaf] = value
        if not isinstance(args, tuple):
            args = (args,)
        return module(*args, **dict(kwargs or {}))
    finally:
        for registry, leaf, old in reversed(saved):
            registry[leaf] = old
