"""The ``chainrule`` command: ``chainrule demo`` (the guided tour) and ``chainrule grad EXPR``."""

from __future__ import annotations

import argparse
import math
import sys

EXIT_REFUSED = 2  # the input was refused (as argparse does for bad arguments)
EXIT_FAILED = 1
_AGREEMENT = 1e-4  # the largest relative error reported as agreement
_KINK = 1e-3  # one-sided slopes further apart than this (relatively): a kink


def main(argv: list[str] | None = None) -> int:
    """Run the command line; returns the exit status."""
    parser = _parser()
    args = parser.parse_args(argv)
    if args.command == "demo":
        from .demo import run
        return run(out=args.out)
    if args.command == "grad":
        return grad_command(args.expression, args.at, explain=args.explain, graph=args.graph,
                            method=args.method)
    parser.print_help()  # no command: the help, as `git` prints it
    return 0


def _parser() -> argparse.ArgumentParser:
    from .. import __version__

    parser = argparse.ArgumentParser(prog="chainrule", description="Automatic differentiation for NumPy.")
    parser.add_argument("--version", action="version", version=f"chainrule {__version__}")
    sub = parser.add_subparsers(dest="command")
    demo = sub.add_parser("demo", help="a guided tour of automatic differentiation")
    demo.add_argument("--out", default="chainrule-demo", help="folder for the pictures the demo writes")
    grad = sub.add_parser(
        "grad", help="the gradient of a math expression, by reverse mode and by finite differences",
        description="Print the value of EXPR, its gradient by reverse mode, the numerical gradient and "
                    "their relative error. EXPR uses numbers, the variables given with --at, "
                    "+ - * / ** and functions such as sin, exp, log, sqrt, tanh, sigmoid, relu, abs.",
    )
    grad.add_argument("expression", metavar="EXPR", help='e.g. "(x + sigmoid(y)) / (sigmoid(x) + (x + y)**2)"')
    grad.add_argument("--at", action="append", required=True, metavar="x=3,y=-4",
                      help="values of the variables (the flag may be repeated)")
    grad.add_argument("--explain", action="store_true", help="also print the staged code (cr.explain)")
    grad.add_argument("--graph", metavar="FILE", help="draw the graph into FILE (.svg, .png, .pdf or .dot)")
    grad.add_argument("--method", default="central", choices=["forward", "backward", "central", "richardson"],
                      help="finite-difference method of the numerical gradient (default: central)")
    return parser


def grad_command(expression: str, at: list[str], explain: bool = False, graph: str | None = None,
                 method: str = "central") -> int:
    """``chainrule grad``: print value, reverse-mode and numerical gradients, relative errors."""
    import numpy as np

    import chainrule as cr

    from .expr import Expression, ExpressionError, parse_assignments

    try:
        values: dict[str, float] = {}
        for text in at:
            for name, value in parse_assignments(text).items():
                if name in values:
                    raise ExpressionError(f"--at: {name!r} is given twice")
                values[name] = value
        f = Expression(expression, values)
    except ExpressionError as exc:
        print(f"chainrule grad: refused: {exc}", file=sys.stderr)
        return EXIT_REFUSED

    inputs = {name: cr.tensor(value, dtype=cr.float64, requires_grad=True, name=name) for name, value in values.items()}
    try:
        out = f(**inputs)
    except (ValueError, TypeError, RuntimeError) as exc:
        print(f"chainrule grad: cannot evaluate: {exc}", file=sys.stderr)
        return EXIT_FAILED
    if not isinstance(out, cr.Tensor):
        out = cr.tensor(out, dtype=cr.float64)
    depends = out.requires_grad
    staged = cr.explain(out, names={**inputs, "f": out}) if explain and depends else None
    with np.errstate(all="ignore"):  # inf and nan are reported below, not warned about
        if depends:
            out.backward()
        reverse = {name: (t.grad.item() if t.grad is not None else 0.0) for name, t in inputs.items()}
        numerical = {name: _partial(f, inputs, name, method) for name in inputs}

    names = ", ".join(inputs)
    print(f"f({names}) = {expression.strip()}")
    print("at " + ", ".join(f"{name} = {value:g}" for name, value in values.items()))
    print()
    print(f"value        {out.item()!r}")
    print()
    print(f"{'':12} {'reverse mode':<24} {'numerical (' + method + ')':<24} relative error")
    worst = 0.0
    kinks = {}  # name -> (slope from the left, slope from the right) where they differ
    for name in inputs:
        error = cr.numerical.relative_error(reverse[name], numerical[name])
        if depends and math.isfinite(reverse[name]) and math.isfinite(numerical[name]):  # a kink? (abs at 0 too)
            with np.errstate(all="ignore"):
                left, right = _partial(f, inputs, name, "backward"), _partial(f, inputs, name, "forward")
            if abs(left - right) > _KINK * max(1.0, abs(left), abs(right)):
                kinks[name] = (left, right)
                print(f"{'df/d' + name:<12} {reverse[name]!r:<24} {numerical[name]!r:<24} not differentiable")
                continue
        worst = error if not error <= worst else worst  # a nan error is the worst
        print(f"{'df/d' + name:<12} {reverse[name]!r:<24} {numerical[name]!r:<24} {error:.1e}")
    value = out.item()
    not_finite = [f"df/d{name} = {reverse[name]!r} by reverse mode and {numerical[name]!r} by finite "
                  f"differences" for name in inputs
                  if not (math.isfinite(reverse[name]) and math.isfinite(numerical[name]))]
    status = 0
    if not math.isfinite(value):
        print(f"\nf is not finite here (its value is {value!r}): the derivatives are undefined at this "
              f"point, so there is no agreement to report")
        status = EXIT_FAILED
    elif not_finite:
        print("\nthe gradient is not finite here (" + "; ".join(not_finite) + "): f is not "
              "differentiable at this point, so there is no agreement to report")
        status = EXIT_FAILED
    elif kinks:
        for name, (left, right) in kinks.items():
            print(f"\nf is not differentiable in {name} here (a kink or a jump): the slope from the left is {left:.6g} "
                  f"and from the right is {right:.6g}; reverse mode gives {reverse[name]!r}, the value "
                  f"PyTorch also gives there (relu'(0) = 0, abs'(0) = 0, max and min split it evenly)")
        if worst > _AGREEMENT:
            print(f"for the other variables the largest relative error is {worst:.1e}")
        elif len(kinks) < len(inputs):
            print(f"the other derivatives agree to a relative error of {worst:.1e}")
    elif not depends:
        print("\nf does not depend on the variables: every derivative is 0")
    elif worst <= _AGREEMENT:
        print(f"\nreverse mode and finite differences agree to a relative error of {worst:.1e}")
    else:
        print(f"\nreverse mode and finite differences DISAGREE: the largest relative error is "
              f"{worst:.1e} (f may not be differentiable here, e.g. at a kink, or the step is too "
              f"coarse; try --method richardson)")

    if staged is not None:
        print("\n# staged code: paste into Python to reproduce the gradients")
        print(staged, end="")
    if graph is not None:
        if not depends:
            print(f"chainrule grad: no graph to draw: f does not depend on {names}", file=sys.stderr)
            return EXIT_FAILED
        try:
            path = cr.viz.render(out, graph, names={**inputs, "f": out})
        except (RuntimeError, ValueError, OSError) as exc:
            print(f"chainrule grad: {exc}", file=sys.stderr)
            return EXIT_FAILED
        print(f"\ngraph written to {path}")
    return status


def _partial(f, inputs: dict, name: str, method: str) -> float:
    """∂f/∂name by finite differences, the other variables held at their values."""
    import chainrule as cr

    fixed = {k: t.detach() for k, t in inputs.items()}

    def along(t):
        return f(**{**fixed, name: t})

    return float(cr.numerical.derivative(along, fixed[name], method=method))


if __name__ == "__main__":
    sys.exit(main())
