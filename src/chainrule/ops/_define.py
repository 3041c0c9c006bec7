"""Defining operations: ``define`` adds a primitive to the table, its rule namespaces and the
public names it declares; ``elementwise``, ``binary`` and ``linear`` derive both modes' rules
from one formula."""

from __future__ import annotations

from ..core import backend as B
from ..core.dispatch import _RAW_BY_SPACE, PRIMITIVES, Primitive, raw, traced
from . import _table, _template

ndarray = B.ndarray
_BOOL = B.BOOL
own_memory = B.own_memory
_multiply_into = B.multiply_into


def named(op: str, fn, *args, **kwargs):
    """``fn(*args, **kwargs)`` for the public function ``op`` built on it: an error that names
    ``fn``'s operation is re-raised naming ``op`` (the function the user called)."""
    try:
        return fn(*args, **kwargs)
    except (ValueError, TypeError, RuntimeError, IndexError) as exc:
        message = str(exc)
        if message.startswith(op + ":"):
            raise
        inner, sep, rest = message.partition(": ")
        text = f"{op}: {rest}" if sep and inner.isidentifier() else f"{op}: {message}"
        try:
            renamed = type(exc)(text)
        except Exception:  # an exception type with another signature
            raise exc from None
        raise renamed from None


def define(name, impl, vjp=None, jvp=None, *, template=None, **options) -> Primitive:
    """Add a primitive to the table and to both rule namespaces; returns it.

    ``template`` says how it is written in NumPy code (see ``_template``). The public names it
    serves (``public=True`` or any of ``_table.PUBLIC_KEYS``: ``method``, ``ufunc``, ``cli``, ...)
    publish it as an operation (see ``_table``).
    """
    if name in PRIMITIVES:
        raise ValueError(f"primitive {name!r} is defined twice")
    names = {key: options.pop(key) for key in list(options) if key in _table.PUBLIC_KEYS}
    prim = Primitive(name, impl, vjp, jvp, **options)
    PRIMITIVES[name] = prim
    _RAW_BY_SPACE.clear()
    setattr(raw, name, impl)
    setattr(traced, name, prim)
    if template is None:
        template = _default_template(name, names)
    if template is not None:
        _table.TEMPLATES[name] = template
    if names.get("public", True) and names:
        _table.publish(prim, name, **names)
    return prim


def _default_template(name, names):
    """Operators are written as operators, the servants of a NumPy ufunc as ``np.<name>(...)``."""
    symbol = names.get("operator")
    if symbol is not None:
        return _template.operator(symbol)
    if names.get("ufunc") is not None:
        return _template.call(f"np.{name}")
    return None


def undefine(name) -> None:
    """Remove a primitive (and the operation it published) from the table: for tests that add
    operations at run time."""
    PRIMITIVES.pop(name)
    _RAW_BY_SPACE.clear()
    delattr(raw, name)
    delattr(traced, name)
    _table.TEMPLATES.pop(name, None)
    if name in _table.OPERATIONS:
        _table.withdraw(name)


def nondifferentiable(name, impl, doc=None, batching=None, **names) -> Primitive:
    """Add an operation whose output carries no gradient (comparisons, argmax, ...)."""
    return define(name, impl, differentiable=False, save_inputs=False, doc=doc, batching=batching, **names)


# ---------------------------------------------------------------------------------------------
# Shortcuts that derive both rules from one formula.
# ---------------------------------------------------------------------------------------------

def elementwise(name, impl, derivative, uses="x", doc=None, **names) -> Primitive:
    """Unary elementwise op from its derivative ``derivative(m, ans, x, **params)``.

    The VJP is ``g * f′`` and the JVP ``t * f′``: one formula, both modes. Its raw fast form
    computes the same product into ``g`` itself when the engine owns ``g`` (it is called only
    then) and ``g`` is large: no new buffer.
    """

    # A derivative may be a bool mask (relu, clamp): NumPy and tensors multiply by it, the array
    # API standard refuses it, so there the product goes through the namespace's ``mul`` (which
    # promotes; never reached for NumPy arrays or tensors).
    def vjp(m, g, ans, x, **params):
        d = derivative(m, ans, x, **params)
        try:
            return g * d
        except TypeError:
            return m.mul(g, d)

    def vjp_into_g(m, g, ans, x, **params):
        d = derivative(m, ans, x, **params)
        if type(g) is ndarray and g.size >= _IN_PLACE_MIN and type(d) is ndarray \
                and d.shape == g.shape and (d.dtype == g.dtype or d.dtype == _BOOL) and own_memory(g):
            return _multiply_into(g, d)
        try:
            return g * d
        except TypeError:
            return m.mul(g, d)

    def jvp(m, tangents, ans, x, **params):
        t = tangents[0]
        d = derivative(m, ans, x, **params)
        try:
            return t * d
        except TypeError:
            return m.mul(t, d)

    return define(name, impl, (vjp,), jvp, save_inputs="x" in uses, save_ans="ans" in uses, doc=doc,
                  batching="elementwise", raw_vjp=(vjp_into_g,), raw_vjp_writes_g=True, **names)


_IN_PLACE_MIN = 4096  # below this many elements a new buffer costs less than the checks


def binary(name, impl, partials, uses="xy", doc=None, needs=None, ans_for=None, **names) -> Primitive:
    """Broadcasting binary op from its partials ``(d/dx, d/dy)``, each ``f(m, ans, x, y)``.

    A partial of ``None`` means the op is linear in that argument with coefficient 1; the
    string ``"neg"`` means coefficient −1; ``"x"`` or ``"y"`` means that operand (as for a
    product).
    """

    def times(partial):
        """``t ↦ t · ∂``: the VJP rule, and on a tangent the JVP's term (the partial is symmetric)."""
        if partial is None:
            return lambda m, t, ans, x, y: t
        if partial == "neg":
            return lambda m, t, ans, x, y: -t
        if partial == "x":
            return lambda m, t, ans, x, y: t * x
        if partial == "y":
            return lambda m, t, ans, x, y: t * y
        return lambda m, t, ans, x, y: t * partial(m, ans, x, y)

    vx, vy = times(partials[0]), times(partials[1])

    def jvp(m, tangents, ans, x, y):
        tx, ty = tangents
        result = None if tx is None else vx(m, tx, ans, x, y)
        if ty is not None:
            other = vy(m, ty, ans, x, y)
            result = other if result is None else result + other
        return result

    return define(name, impl, (vx, vy), jvp, broadcasts=True,
                  save_inputs=any(c in uses for c in "xy"), save_ans="ans" in uses, doc=doc,
                  needs=needs, batching="elementwise", ans_for=ans_for, **names)


def linear(name, impl, transpose, doc=None, **options) -> Primitive:
    """Single-input linear op: JVP applies the op to the tangent; VJP is ``transpose(m, g, x, **params)``.

    By default only the input's shape and dtype are kept for the VJP (``x.shape``, ``x.dtype``).
    """

    def vjp(m, g, ans, x, **params):
        return transpose(m, g, x, **params)

    def jvp(m, tangents, ans, x, **params):
        return getattr(m, name)(tangents[0], **params)

    options.setdefault("save_inputs", "meta")
    return define(name, impl, (vjp,), jvp, doc=doc, **options)


# ---------------------------------------------------------------------------------------------
# Composites that read their operands' values (sort orders, NaN masks): under vmap, per example
# ---------------------------------------------------------------------------------------------

PER_EXAMPLE: set[str] = set()  # the functions below: under vmap they loop over the batch


def _vmap_level(values):
    """The innermost vmap level among ``values`` (tensors whose data is a batch), or None."""
    found = None
    for v in values:
        ns = getattr(getattr(v, "_data", None), "ns", None)
        level = getattr(ns, "level", 0)
        if level and (found is None or level > found.level):
            found = ns
    return found


def _operands(values):
    """``values`` with lists and tuples opened (``choose(a, [x, y])``), one level deep."""
    out = []
    for v in values:
        if type(v) in (list, tuple):
            out.extend(v)
        else:
            out.append(v)
    return out


def per_example(function):
    """``function`` (a composite that computes indices or masks from its operands' values) applied
    example by example under ``cr.vmap``, the results stacked: its value-dependent steps have no
    batched form. Outside vmap it is called as it is. The loop is documented in ``vmap``."""
    import functools

    PER_EXAMPLE.add(function.__name__)

    @functools.wraps(function)
    def wrapper(*args, **kwargs):
        ns = _vmap_level(_operands(args)) or _vmap_level(_operands(kwargs.values()))
        if ns is None:
            return function(*args, **kwargs)
        return ns.per_example(wrapper, args, kwargs)  # (again per example of outer levels)

    return wrapper
