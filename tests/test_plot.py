"""cr.plot: a function with its derivatives (computed by chainrule), and a loss curve."""

import numpy as np
import pytest

import chainrule as cr

pytest.importorskip("matplotlib")


def curves(fig):
    return [(line.get_label(), np.asarray(line.get_xdata()), np.asarray(line.get_ydata()))
            for line in fig.axes[0].get_lines() if not line.get_label().startswith("_")]


def test_tanh_and_two_derivatives():
    fig = cr.plot.function_and_derivatives(cr.tanh, -3.0, 3.0, num=101, order=2)
    (l0, x, f), (l1, _, d1), (l2, _, d2) = curves(fig)
    assert (l0, l1, l2) == ("f", "f′", "f″")
    t = np.tanh(x)
    np.testing.assert_allclose(x, np.linspace(-3, 3, 101))
    np.testing.assert_allclose(f, t, rtol=1e-12)
    np.testing.assert_allclose(d1, 1 - t ** 2, rtol=1e-12, atol=1e-15)
    np.testing.assert_allclose(d2, -2 * t * (1 - t ** 2), rtol=1e-10, atol=1e-15)
    assert fig.axes[0].get_title() == "tanh"


def test_polynomial_derivatives_reach_zero():
    fig = cr.plot.function_and_derivatives(lambda x: x ** 3, -2.0, 2.0, num=9, order=4)
    lines = curves(fig)
    assert [label for label, _, _ in lines] == ["f", "f′", "f″", "f‴", "f^(4)"]
    x = lines[0][1]
    for (_, _, values), expected in zip(lines, [x ** 3, 3 * x ** 2, 6 * x, 6 + 0 * x, 0 * x]):
        np.testing.assert_allclose(values, expected, rtol=1e-12, atol=1e-12)
    assert fig.axes[0].get_title() == "f"


def test_draws_into_given_axes():
    from matplotlib.figure import Figure

    fig = Figure()
    ax = fig.add_subplot()
    assert cr.plot.function_and_derivatives(cr.sin, 0, 1, num=5, ax=ax, title="sine") is fig
    assert len(curves(fig)) == 2 and ax.get_title() == "sine"


def test_refuses_non_elementwise_functions_and_bad_order():
    with pytest.raises(ValueError, match="elementwise"):
        cr.plot.function_and_derivatives(lambda x: x.sum(), num=5)
    with pytest.raises(ValueError, match="order"):
        cr.plot.function_and_derivatives(cr.sin, order=-1)


def test_loss_curve(tmp_path):
    losses = [1.0, 0.5, 0.1, 0.01]
    fig = cr.plot.loss_curve(losses)
    (_, steps, values), = curves(fig)
    np.testing.assert_array_equal(steps, np.arange(4))
    np.testing.assert_array_equal(values, losses)
    assert fig.axes[0].get_yscale() == "log"
    assert cr.plot.loss_curve([0.0, 1.0]).axes[0].get_yscale() == "linear"
    fig.savefig(tmp_path / "loss.png")
    assert (tmp_path / "loss.png").read_bytes()[:4] == b"\x89PNG"
