"""Reverse mode: the one function that computes gradients from the recorded graph (``graph``).

``compute_gradients`` walks the recorded graph once, iteratively, in topological
order: each node runs when every consumer has sent its cotangent, pops that cotangent, calls its
rule from the operation table, and frees its saved values unless ``retain_graph``. Zero
gradients are ``None`` and never allocated; broadcasting is reduced here, once, not in the
rules. Hooks, retained gradients, requested inputs (``targets``), the gradients kept for
pictures (``grad_value``), anomaly checks and the collector's policy are extras around the walk.
``Tensor.backward`` and ``autograd.grad`` are thin wrappers around it.

Buffer ownership (no reference counts). The walk writes into a gradient array (``+=`` when a
second gradient reaches a node; a rule's raw fast form that writes into its cotangent; a
``.grad`` taking a gradient without a copy) only if it made it and handed it to no one. It
made: the sums it computes, the broadcast gradients it reduces (``_fit``), and what a table rule
returns other than its cotangent (a rule returns its cotangent, a view, or a new array it keeps
nowhere: the generic checker tests this for every primitive). Every store into the pending
gradients says which: the nodes whose pending gradient the walk did not make are ``borrowed``
— the roots (the user's cotangents), what a ``vjp_all`` rule returned (a custom Function's
backward), and a cotangent passed on, which stays owned only by the one input of a node that
owned it (several inputs may each get it, or views of it). A cotangent stops being owned the
moment it is handed anywhere: to a hook (whose result is not the walk's either), a retained or
``.grad`` tensor, the results, ``grad_value``. And an owned array is written only if it has its
own, writable, contiguous memory (``backend.own_memory``): a view never qualifies, whoever owns its
base.

Complex numbers. The walk carries the *transpose* convention (JAX's): a rule returns the
cotangent transposed through its linear map, ``g * f'(z)`` for a holomorphic ``f``, the very
formula the real case uses, so every rule written for real numbers is right for complex ones.
PyTorch's ``.grad`` is its complex conjugate (``g * conj(f'(z))``, the conjugate Wirtinger
convention): the cotangents are conjugated where they cross the boundary (``_public``): the
user's cotangents of complex roots on the way in, and on the way out the gradients that reach
``.grad``, the results, hooks and retained gradients. On real dtypes this is one dtype test
per leaf, none per operation.
"""

from __future__ import annotations

from typing import Any

from . import backend as B
from . import collector as _collector
from . import graph, tracing
from .dispatch import raw, raw_namespace
from .dispatch import traced as traced_namespace
from .graph import FREED
from .modes import state
from .tensor import Tensor
from .tracing import active as _tracing

ndarray = B.ndarray  # the NumPy fast path's type test (see backend)
_NUMPY_TYPES = B.NUMPY_TYPES
_own_memory = B.own_memory

_NO_INPUTS = [(None,) * n for n in range(9)]  # _NO_INPUTS[n]: n inputs, none saved
# Cotangents known to be real from their type alone (one set lookup; see ``_public``).
_REAL_SCALARS = frozenset({B.FLOAT64.type, B.FLOAT32.type, float})


# ---------------------------------------------------------------------------------------------
# The walk
# ---------------------------------------------------------------------------------------------

def compute_gradients(roots, cotangents, targets=None, *, retain_graph=False,
                      create_graph=False, accumulate=True, batch=None, traced=False):
    """Gradients of ``roots`` (weighted by ``cotangents``) with respect to ``targets``.

    ``roots`` are tensors that require grad, ``cotangents`` arrays of the same shapes.
    ``targets`` are tensors; when given, only paths leading to them are walked and their
    gradients are returned as a dict ``{id(tensor): gradient}``. With ``accumulate`` the
    gradients of leaves (or of the targets, when given) are added to their ``.grad``.
    Returns the dict (empty when ``targets`` is None).

    With ``batch`` (a function of the rule namespace giving its batched form, e.g.
    ``lambda m: BatchedNamespace(m, B)``) each cotangent carries a leading axis of B independent
    cotangents, all pulled back in this one pass (used for Jacobians; hooks are not run).

    With ``traced`` the rules run through the primitives (the dispatch) even when nothing is
    recorded: for cotangents that are batched tensors of a ``vmap`` newer than the graph.
    """
    traced = traced or create_graph or bool(state.forward_levels)
    if _tracing[0] and tracing.current() is not None:  # cr.jit: the rules run as primitives, heard by the tracer
        traced = True
    elif _tracing[0] and tracing.symbolic_roots(roots, accumulate):  # placeholders: the backward recorded too
        traced = True
    m, grads, wanted, consumers = _start(roots, cotangents, targets, traced, batch)
    results = {}
    grad_mode, state.grad_enabled = state.grad_enabled, create_graph  # recorded for create_graph only
    # The walk allocates many short-lived objects beside a large acyclic graph: the cyclic
    # collector would traverse that graph again and again, so it waits until the end.
    paused = len(consumers) >= _collector.PAUSE_AFTER and _collector.pause()
    try:
        _walk(grads, consumers, m, traced, batch is None, wanted, results, retain_graph, accumulate)
    finally:
        state.grad_enabled = grad_mode
        graph.backward_ran()
        if paused or _collector.raised:
            _collector.resume(paused)
    return results


def _walk(grads, consumers, m, traced, single, wanted, results, retain_graph, accumulate) -> None:
    """The reverse walk. ``grads`` maps each node to its pending cotangent, ``consumers`` each
    node to how many of its consumers have not run yet; ``single``: one cotangent per root (not
    a batch); ``wanted``: the requested nodes (``targets``) and their tensors, or None."""
    plain = single and not traced  # first order, one cotangent per root: the rules' raw fast forms apply
    borrowed = set(grads)  # nodes whose pending cotangent the walk did not make (the roots': the user's)
    anomaly = state.anomaly
    ready = [node for node in grads if consumers.get(node) == 0]
    pop, push, take, uses = ready.pop, ready.append, grads.pop, consumers.get
    while ready:  # topological order: a node runs once all its consumers have
        node = pop()
        cotangent = take(node, None)
        if node._leaf:  # its gradient: through its hooks to the results (targets) or its .grad
            if cotangent is not None and (wanted is not None or single and node._hooks):
                _reach_leaf(node, cotangent, node not in borrowed, traced, single, wanted, results, accumulate)
            elif cotangent is not None and accumulate:
                _accumulate_into(node, cotangent, traced, node not in borrowed)
            continue
        edges = node.edges
        if cotangent is None:  # nothing flows through this node: it only releases its inputs
            _release(edges, consumers, push)
            continue
        lent = False  # the cotangent was handed out: the walk owns it no more
        if node.extra is not None or wanted is not None and node in wanted:  # hooks, retain_grad, targets
            cotangent, lent = _node_extras(node, cotangent, node not in borrowed, traced, single, wanted,
                                           results, accumulate)
        if single and type(node.output) is not tuple and node.output is not None:  # a small output: its gradient kept for pictures
            node.grad_value = cotangent._data if traced else cotangent
            lent = True
        prim = node.prim
        saved = node.saved
        if saved is None:  # the rules read no input
            inputs = _NO_INPUTS[n] if (n := len(edges)) < 9 else (None,) * n
        elif traced or saved is FREED or (versions := node.versions) is not None and (  # (counter, expected, ...)
                versions[0][0] != versions[1] or len(versions) > 2 and (
                    versions[2][0] != versions[3] or len(versions) > 4)):
            inputs = node._inputs(traced)  # tensors when traced; raises if freed or changed in place
        else:
            inputs = node.saved_data
        ans = node.ans
        if ans is not None and (traced or node.ans_version[0]):
            ans = node._ans(traced)  # raises if changed in place
        params = node.params
        if plain and prim.contiguous and type(cotangent) is ndarray and not cotangent.flags.c_contiguous:
            cotangent = B.contiguous(cotangent)  # once, not once per rule
        rules = prim.vjp
        arity = -1 if params else len(inputs)
        parts: Any = None
        if prim.vjp_all:  # the gradients of all inputs at once (never owned)
            parts = rules(m, cotangent, ans, [e is not None and e in consumers for e in edges], *inputs, **params)
            arity = -2
        elif plain and prim.raw_vjp is not None and (
                not prim.raw_vjp_writes_g or not lent and node not in borrowed):
            rules = prim.raw_vjp
        in_meta = node.in_meta
        i = -1
        for parent in edges:
            i += 1
            if parent is None:  # no gradient needed
                continue
            left = uses(parent)
            if left is None:  # pruned: no target is reached through this input
                continue
            consumers[parent] = left - 1
            if left == 1:
                push(parent)
            if arity == 2:  # the common arities, called without unpacking
                g = rules[i](m, cotangent, ans, inputs[0], inputs[1])
            elif arity == 1:
                g = rules[i](m, cotangent, ans, inputs[0])
            else:
                g = parts[i] if arity == -2 else rules[i](m, cotangent, ans, *inputs, **params)
            if g is None:  # a zero gradient
                continue
            if in_meta is not None and in_meta[i] is not None:  # broadcast or promoted
                shape, dtype = in_meta[i]
                g = _fit(g, shape, dtype, traced, m) if single else m.conform(g, shape, dtype, "sum_to")
            if anomaly:
                _check_finite(node, g, traced)
            previous = grads.get(parent)
            if previous is None:
                grads[parent] = g
                # Borrowed unless the walk made it: what a vjp_all rule returned, or the cotangent
                # passed on (still owned only by the one input of a node that owned it).
                if arity == -2 and g is parts[i] or g is cotangent and type(g) is ndarray and not (
                        len(edges) == 1 and not lent and node not in borrowed):
                    borrowed.add(parent)
            elif parent not in borrowed and type(previous) is ndarray and _own_memory(previous):
                previous += g
            else:
                grads[parent] = previous + g  # made by the walk
                borrowed.discard(parent)
        if not retain_graph and (saved is not None or node.ans is not None):  # (saving nothing: reusable)
            node.saved = FREED
            node.saved_data = node.ans = node.params = None


def _release(edges, consumers, push) -> None:
    """A node that no gradient reached: its inputs stop waiting for it."""
    for parent in edges:
        left = None if parent is None else consumers.get(parent)
        if left is not None:
            consumers[parent] = left - 1
            if left == 1:
                push(parent)


def _start(roots, cotangents, targets, traced, batch):
    """Per call: the rule namespace ``m`` (NumPy arrays in and out, or the primitives
    themselves when the backward pass is recorded, or a batch of either); each root's pending
    cotangent (the user's: never owned by the walk); the requested nodes (``targets``); and how
    many consumers lead into each node the walk visits: every node reachable from the roots,
    or only those from which a requested one can be reached."""
    m = traced_namespace if traced else raw
    if not traced:  # the raw namespace of the cotangents' arrays (NumPy's: ``dispatch.raw``)
        for c in cotangents:
            if type(c) not in _NUMPY_TYPES:
                m = raw_namespace(B.namespace_of(getattr(c, "_data", c)))
                break
    if batch is not None:
        m = batch(m)
    grads = {}
    for root, cotangent in zip(roots, cotangents):
        node = root._node if root._node is not None else root
        if traced:
            if not isinstance(cotangent, Tensor):
                cotangent = Tensor._wrap(cotangent)
                if _tracing[0]:
                    tracing.constant(cotangent)
        elif isinstance(cotangent, Tensor):
            cotangent = cotangent._data
        if type(cotangent) not in _REAL_SCALARS and _complex_kind(cotangent):
            cotangent = _public(cotangent, traced)  # the user's convention to the walk's (an involution)
        if batch is not None:
            cotangent = m.wrap(cotangent)
        previous = grads.get(node)
        grads[node] = cotangent if previous is None else previous + cotangent
    start = list(grads)
    if targets is None:
        return m, grads, None, _count_consumers(start)
    wanted = {}
    for t in targets:
        wanted[t._node if t._node is not None else t] = t
    leaves = []
    consumers = _count_consumers(start, leaves)
    if not (all(n._leaf for n in wanted) and all(n in wanted for n in leaves)):
        # Some paths lead to no target (pruning is a no-op when every leaf is a target: every
        # node reaches a leaf).
        consumers = _prune(start, consumers, wanted)
    return m, grads, wanted, consumers


def _count_consumers(roots, leaves=None):
    """Map each node or leaf reachable from ``roots`` to how many edges lead into it (and append
    the leaves to ``leaves`` when given)."""
    consumers = {}
    stack = []
    for r in roots:
        if r not in consumers:
            consumers[r] = 0
            stack.append(r)
    pop, push = stack.pop, stack.append
    while stack:
        node = pop()
        if node._leaf:
            if leaves is not None:
                leaves.append(node)
            continue
        for parent in node.edges:
            if parent is None:
                continue
            count = consumers.get(parent)
            if count is None:
                consumers[parent] = 1
                push(parent)
            else:
                consumers[parent] = count + 1
    return consumers


def _topological(roots, consumers):
    """Nodes in an order where every node comes after all of its consumers."""
    remaining = dict(consumers)
    ready = [r for r in dict.fromkeys(roots) if remaining[r] == 0]
    order = []
    while ready:
        node = ready.pop()
        order.append(node)
        if not node._leaf:
            for parent in node.edges:
                if parent is None:
                    continue
                left = remaining[parent] - 1
                remaining[parent] = left
                if left == 0:
                    ready.append(parent)
    return order


def _prune(roots, consumers, targets):
    """Keep only nodes from which a target can be reached; recount their consumers."""
    order = _topological(roots, consumers)
    useful = set()
    for node in reversed(order):
        if node in targets or (not node._leaf and any(p in useful for p in node.edges if p is not None)):
            useful.add(node)
    pruned = {}
    for node in order:
        if node in useful:
            pruned.setdefault(node, 0)
            if not node._leaf:
                for parent in node.edges:
                    if parent in useful:
                        pruned[parent] = pruned.get(parent, 0) + 1
    return pruned


# ---------------------------------------------------------------------------------------------
# Extras of a node or of a call
# ---------------------------------------------------------------------------------------------

def _reach_leaf(leaf, cotangent, own, traced, single, wanted, results, accumulate) -> None:
    """A leaf's gradient, when it has hooks or the walk has ``targets``: through its hooks to
    the results (``targets``) or its ``.grad``."""
    if single and leaf._hooks:
        cotangent = _run_hooks(leaf._hooks, cotangent, traced)
        own = False
    if wanted is not None:
        tensor = wanted.get(leaf)
        if tensor is not None:
            _deliver(tensor, cotangent, results, accumulate and single, traced)
    elif accumulate:
        _accumulate_into(leaf, cotangent, traced, own)


def _node_extras(node, cotangent, own, traced, single, wanted, results, accumulate):
    """Hooks and ``retain_grad`` of a non-leaf node, and its gradient if it is a target: returns
    the (possibly replaced) cotangent and whether it was handed out (the walk owns it no more)."""
    lent = False
    kept = None
    extra = node.extra
    if single and extra is not None:
        hooks = extra.get("hooks")
        if hooks:
            cotangent = _run_hooks(hooks, cotangent, traced)
            lent = True
        retained = extra.get("retained")
        if retained is not None:  # in autograd.grad too, as PyTorch
            kept = retained()
            if kept is not None:
                _accumulate_into(kept, cotangent, traced, own and not lent)
                lent = True
    if wanted is not None and node in wanted:
        target = wanted[node]
        # A target that also retains its gradient gets it once (PyTorch), not once per reason.
        _deliver(target, cotangent, results, accumulate and single and target is not kept, traced)
        lent = True
    return cotangent, lent


def _deliver(tensor, cotangent, results, accumulate, traced) -> None:
    """Hand the gradient of a requested input (``targets``) to the results (and its ``.grad``)."""
    results[id(tensor)] = _public(cotangent, traced)
    if accumulate:
        _accumulate_into(tensor, cotangent, traced)  # a copy: the results hold it


def _check_finite(node, cotangent, traced):
    data = cotangent._data if traced else cotangent
    if not B.is_array(data) and not isinstance(data, float):
        return
    if not B.all_finite(data):
        where = node.origin or "(location not recorded: enable detect_anomaly before the forward pass)"
        raise RuntimeError(
            f"detect_anomaly: the backward of '{node.prim.name}' ({node.prim.node_name}) produced "
            f"NaN or inf values. The forward operation ran at:\n  {where}"
        )


def _complex_kind(cotangent) -> bool:
    """Whether a cotangent (array, scalar, tensor or batch) holds complex numbers."""
    dt = getattr(getattr(cotangent, "_data", cotangent), "dtype", None)
    if dt is None:
        return type(cotangent) is complex
    kind = getattr(dt, "kind", None)
    return (kind if kind is not None else B.kind(dt)) == "c"


def _public(cotangent, traced):
    """A cotangent in the walk's (transpose) convention in PyTorch's, or back (see the module's
    doc): its complex conjugate when it is complex, else itself."""
    if not _complex_kind(cotangent):
        return cotangent
    ns = getattr(cotangent, "ns", None)
    if ns is not None:  # a batch of cotangents (see transforms/batching)
        return ns.conj(cotangent)
    if traced or isinstance(cotangent, Tensor):
        return traced_namespace.conj(cotangent if isinstance(cotangent, Tensor) else Tensor._wrap(cotangent))
    return raw.conj(cotangent)


def _run_hooks(hooks, cotangent, traced):
    if _complex_kind(cotangent):  # hooks see and return PyTorch's convention
        return _public(_run_hooks_(hooks, _public(cotangent, traced), traced), traced)
    return _run_hooks_(hooks, cotangent, traced)


def _run_hooks_(hooks, cotangent, traced):
    for fn in list(hooks.values()):
        given = cotangent if traced else Tensor._wrap(cotangent)
        replaced = fn(given)
        if replaced is not None:
            _check_hook_result(fn, given, replaced)
            if isinstance(replaced, Tensor):
                cotangent = replaced if traced else replaced._data
            else:
                cotangent = replaced if not traced else Tensor._wrap(replaced)
    return cotangent


def _check_hook_result(fn, given, replaced) -> None:
    """A hook may replace the gradient only by one of the same type, shape and dtype (PyTorch)."""
    name = getattr(fn, "__name__", type(fn).__name__)
    if not isinstance(replaced, (Tensor, ndarray)):
        raise TypeError(
            f"register_hook: hook {name!r} returned {type(replaced).__name__}; a hook must return "
            f"None or a tensor of the gradient's shape {tuple(B.shape_of(given._data))} and dtype "
            f"{given._data.dtype}"
        )
    data = replaced._data if isinstance(replaced, Tensor) else replaced
    expected = given._data
    if B.shape_of(data) != B.shape_of(expected):
        raise RuntimeError(
            f"register_hook: hook {name!r} changed the gradient's shape from "
            f"{tuple(B.shape_of(expected))} to {tuple(B.shape_of(data))}; return a tensor of the same shape"
        )
    if data.dtype != expected.dtype:
        raise RuntimeError(
            f"register_hook: hook {name!r} changed the gradient's dtype from {expected.dtype} to "
            f"{data.dtype}; cast it back (e.g. g.to(g_in.dtype))"
        )


def _accumulate_into(tensor, cotangent, traced, own=False):
    """``tensor.grad += cotangent`` (out of place when recording the backward pass). The
    cotangent becomes ``.grad`` itself only when the walk ``own``\\ s it; else a copy does."""
    existing = tensor._grad
    if type(cotangent) not in _REAL_SCALARS and _complex_kind(cotangent):  # PyTorch's convention: a new array
        cotangent = _public(cotangent, traced)
        own = True
    if _tracing[0] and traced and tracing.current() is not None:  # cr.jit: through the table, followed
        tracing.check_state(tensor, _grad_is_none, existing is None, "whether .grad is None")
        if existing is None:
            tensor._grad = traced_namespace.clone(cotangent)
        elif existing._requires_grad or cotangent._requires_grad or cotangent._tangents is not None:
            tensor._grad = existing + cotangent
        else:
            existing.add_(cotangent)
            return
        tracing.grad_set(tensor)
        return
    if traced:
        if cotangent._requires_grad or cotangent._tangents is not None:  # keep history and tangents
            tensor._grad = cotangent if existing is None else existing + cotangent
            return
        cotangent = cotangent._data  # held by that tensor too: copied below if it is kept
        own = False
    if existing is None:
        if type(cotangent) is not ndarray:
            cotangent = B.copy(cotangent)  # a NumPy scalar or another namespace's array: one of its own
        elif not (own and _own_memory(cotangent)):
            cotangent = cotangent.copy()
        tensor._grad = Tensor._wrap(cotangent)
    elif existing._requires_grad:
        tensor._grad = Tensor._wrap(existing._data + cotangent)
    else:
        existing._data += cotangent


def _grad_is_none(tensor) -> bool:
    return tensor._grad is None


def _fit(g, shape, dtype, traced, m):
    """Sum a broadcast gradient down to its input's shape and cast it to the input's dtype."""
    if traced:
        if g._data.shape != shape:
            g = m.sum_to(g, shape=shape)
        if g._data.dtype != dtype:
            g = m.cast(g, dtype=dtype)
        return g
    if not hasattr(g, "shape"):
        g = B.as_array(g)
    if g.shape != shape:
        g = B.sum_to_shape(B.as_array(g), shape)
    if g.dtype != dtype:
        g = B.astype(g, dtype)
    return g
