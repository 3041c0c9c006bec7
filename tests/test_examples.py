"""The scripts in examples/ reach their stated results (reduced sizes where that keeps them fast)."""

from __future__ import annotations

import importlib.util
import subprocess
import sys
import warnings
from pathlib import Path

import numpy as np
import pytest

import chainrule as cr


def _require(name: str):
    """The module, or skip the test when it cannot be imported (missing or broken install)."""
    try:
        return importlib.import_module(name)
    except ImportError as exc:
        pytest.skip(f"{name} is not importable ({exc})")


EXAMPLES = Path(__file__).resolve().parents[1] / "examples"


def _example(name: str):
    spec = importlib.util.spec_from_file_location(f"example_{name}", EXAMPLES / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


# --- linear regression --------------------------------------------------------------------------

def test_linear_regression_recovers_the_true_parameters_both_ways():
    example = _example("linear_regression")
    results = example.main(num_samples=1000, num_epochs=3, verbose=False)
    assert set(results) == {"from scratch", "nn + optim"}
    for name, fit in results.items():
        np.testing.assert_allclose(fit["w"], [2.0, -3.4], atol=5e-3, err_msg=name)
        assert abs(fit["b"] - 4.2) < 5e-3, name
        assert fit["loss"] < 1e-3, name          # noise variance is 1e-4


def test_linear_regression_data_follow_the_stated_model():
    example = _example("linear_regression")
    cr.manual_seed(0)
    X, y = example.synthetic_data(example.TRUE_W, example.TRUE_B, 2000)
    residual = y.numpy().ravel() - (X.numpy() @ example.TRUE_W + example.TRUE_B)
    assert X.shape == (2000, 2) and y.shape == (2000, 1)
    assert 0.008 < residual.std() < 0.012                 # noise of standard deviation 0.01


def test_linear_regression_script_runs_from_the_command_line():
    done = subprocess.run(
        [sys.executable, str(EXAMPLES / "linear_regression.py"), "--samples", "300", "--epochs", "2"],
        check=False, capture_output=True, text=True, timeout=120,
    )
    assert done.returncode == 0, done.stderr
    assert "from scratch: w = " in done.stdout and "nn + optim: w = " in done.stdout
    assert "(true [ 2.  -3.4])" in done.stdout


# --- digits -------------------------------------------------------------------------------------

def test_digits_mlp_reaches_95_percent_and_reloads_identically(tmp_path):
    _require("sklearn")
    _require("matplotlib")
    example = _example("digits")
    results = example.main(epochs=30, out=str(tmp_path), progress=False)
    accuracies = {name: model["test_accuracy"] for name, model in results["models"].items()}
    mlp = accuracies["MLP 64-128-10"]
    assert mlp >= 0.95, accuracies
    assert accuracies["softmax regression"] >= 0.90, accuracies
    assert results["reloaded_identical"] is True
    checkpoint = cr.load(results["checkpoint"])
    assert set(checkpoint) == {"model", "optimizer", "epochs"} and checkpoint["epochs"] == 30
    assert checkpoint["optimizer"]["state"][0]["step"] == 30 * int(np.ceil(1347 / 32))
    png = Path(results["plot"]).read_bytes()
    assert png.startswith(b"\x89PNG\r\n\x1a\n") and len(png) > 10_000
    history = results["models"]["MLP 64-128-10"]["history"]
    assert len(history["loss"]) == 30 and history["loss"][-1] < history["loss"][0] / 10


def _tiny_digits_run(example, progress: bool):
    data = example.load_data()
    small = (data[0][:64], data[1][:32], data[2][:64], data[3][:32])
    model = example.softmax_regression()
    opt = cr.optim.SGD(model.parameters(), lr=0.1)
    return example.train(model, opt, small, epochs=2, batch_size=32,
                         rng=np.random.default_rng(0), desc="tiny", progress=progress)


def test_digits_progress_bar_uses_tqdm(capsys):
    _require("sklearn")
    _require("tqdm")
    history = _tiny_digits_run(_example("digits"), progress=True)
    captured = capsys.readouterr()
    assert "tiny" in captured.err and "2/2" in captured.err and "epoch" in captured.err
    assert len(history["loss"]) == 2


def test_digits_progress_falls_back_to_prints_without_tqdm(capsys, monkeypatch):
    _require("sklearn")
    monkeypatch.setitem(sys.modules, "tqdm", None)          # makes `import tqdm` fail
    _tiny_digits_run(_example("digits"), progress=True)
    out = capsys.readouterr().out
    assert "tiny epoch 1/2: loss" in out and "tiny epoch 2/2" in out


# --- oscillator ---------------------------------------------------------------------------------

def test_oscillator_fit_recovers_parameters_within_their_error_bars():
    example = _example("fit_oscillator")
    result = example.main(num_points=120, steps=1500, verbose=False)
    error = np.abs(result["fitted"] - result["true"])
    assert np.all(result["stderr"] > 0)
    assert np.all(error < 4 * result["stderr"]), (result["fitted"], result["stderr"])
    assert np.all(np.abs(result["initial"] - result["true"]) > error)     # it moved toward the truth
    assert result["losses"][-1] < result["losses"][0] / 10
    assert 0.035 < result["sigma"] < 0.065                                # noise was 0.05
    assert len(result["losses"]) < 1500                                   # stopped on the gradient norm


def test_oscillator_loss_is_plain_numpy_and_cr_grad_differentiates_it():
    example = _example("fit_oscillator")
    t = np.linspace(0, 5, 50)
    x = example.damped_oscillator(t, *example.TRUE_PARAMS)
    params = example.TRUE_PARAMS + np.array([0.1, -0.05, 0.02, 0.1])
    value = example.mean_squared_residual(params, t, x)
    assert isinstance(value, np.floating)                         # runs on arrays as they are
    gradient = cr.grad(example.mean_squared_residual)(params, t, x).numpy()
    h = 1e-6
    numerical = [(example.mean_squared_residual(params + h * e, t, x)
                  - example.mean_squared_residual(params - h * e, t, x)) / (2 * h) for e in np.eye(4)]
    np.testing.assert_allclose(gradient, numerical, rtol=1e-6, atol=1e-9)


def test_digits_training_step_compiled_with_jit_follows_eager_mode():
    _require("sklearn")
    example = _example("digits")
    data = example.load_data()
    small = (data[0][:200], data[1][:64], data[2][:200], data[3][:64])
    histories = []
    for jit in (False, True):
        cr.manual_seed(0)
        model = example.softmax_regression()
        opt = cr.optim.SGD(model.parameters(), lr=0.2, momentum=0.9)
        with warnings.catch_warnings():
            warnings.simplefilter("error")  # compiled, not run eagerly
            histories.append(example.train(model, opt, small, epochs=3, batch_size=32,
                                           rng=np.random.default_rng(0), desc="tiny", progress=False, jit=jit))
    assert histories[0] == histories[1]
