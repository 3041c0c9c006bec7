"""Maximum-likelihood fit of a damped oscillator by gradient descent, with ``cr.grad``.

A mass on a spring with friction swings as x(t) = A·exp(−γt)·cos(ωt + φ). From noisy
measurements of x we recover A, γ, ω and φ by minimising the mean squared residual — the
maximum-likelihood fit under Gaussian noise — with plain momentum gradient descent. The model
and the loss are ordinary NumPy code (``np.exp``, ``np.cos``, ``np.mean``): they run on arrays
as they are, and ``cr.grad(loss)`` differentiates them. ``cr.hessian`` of the negative
log-likelihood then gives the standard errors of the fitted parameters.

    python examples/fit_oscillator.py [--points 200] [--noise 0.05] [--steps 2000] [--plot out/oscillator.png]
"""

from __future__ import annotations

import argparse

import numpy as np

import chainrule as cr

NAMES = ("amplitude A", "damping γ", "frequency ω", "phase φ")
TRUE_PARAMS = np.array([1.5, 0.3, 2.0, 0.5])


def damped_oscillator(t, amplitude, damping, frequency, phase):
    """Displacement at times ``t``: ``A·exp(−γt)·cos(ωt + φ)``."""
    return amplitude * np.exp(-damping * t) * np.cos(frequency * t + phase)


def mean_squared_residual(params, t, x):
    """Mean of (x − model)², the loss whose minimum is the maximum-likelihood estimate."""
    return np.mean((x - damped_oscillator(t, *params)) ** 2)


def negative_log_likelihood(params, t, x, sigma):
    """−log p(x | params) for independent Gaussian noise of standard deviation ``sigma``."""
    n = len(t)
    return 0.5 * n * np.log(2 * np.pi * sigma**2) + n * mean_squared_residual(params, t, x) / (2 * sigma**2)


def initial_guess(t: np.ndarray, x: np.ndarray) -> np.ndarray:
    """Start from the data: ω at the peak of the (zero-padded) spectrum, A from the largest swing."""
    padded = 16 * len(t)
    spectrum = np.abs(np.fft.rfft(x - x.mean(), n=padded))
    frequencies = 2 * np.pi * np.fft.rfftfreq(padded, d=t[1] - t[0])
    return np.array([np.abs(x).max(), 0.1, frequencies[spectrum.argmax()], 0.0])


def gradient_descent(loss, params: np.ndarray, lr: float, momentum: float, steps: int,
                     tolerance: float = 1e-10):
    """Heavy-ball gradient descent on ``loss(params)`` with gradients from ``cr.grad``; stops
    when the gradient's norm falls below ``tolerance``. Returns (params, losses)."""
    grad_loss = cr.grad(loss)
    velocity = np.zeros_like(params)
    losses = []
    for _ in range(steps):
        gradient = grad_loss(params).numpy()
        losses.append(float(loss(params)))
        if np.linalg.norm(gradient) < tolerance:
            break
        velocity = momentum * velocity - lr * gradient
        params = params + velocity
    return params, losses


def main(num_points: int = 200, noise: float = 0.05, steps: int = 2000, lr: float = 0.05,
         momentum: float = 0.9, seed: int = 0, plot: str | None = None, verbose: bool = True) -> dict:
    """Simulate noisy measurements, fit them, and report the estimates with standard errors."""
    rng = np.random.default_rng(seed)
    t = np.linspace(0.0, 10.0, num_points)
    x = damped_oscillator(t, *TRUE_PARAMS) + noise * rng.standard_normal(num_points)

    def loss(params):
        return mean_squared_residual(params, t, x)

    start = initial_guess(t, x)
    fitted, losses = gradient_descent(loss, start, lr, momentum, steps)
    sigma = float(np.sqrt(loss(fitted)))  # the maximum-likelihood noise level
    hessian = cr.hessian(lambda p: negative_log_likelihood(p, t, x, sigma))(fitted).numpy()
    stderr = np.sqrt(np.diag(np.linalg.inv(hessian)))

    if verbose:
        print(f"{num_points} noisy samples of a damped oscillator (noise σ = {noise}); "
              f"{len(losses)} gradient-descent steps, loss {losses[0]:.4g} → {losses[-1]:.4g}")
        print(f"  {'parameter':<13} {'true':>7} {'start':>7} {'fitted':>8}   standard error")
        for name, true, first, value, error in zip(NAMES, TRUE_PARAMS, start, fitted, stderr):
            print(f"  {name:<13} {true:7.3f} {first:7.3f} {value:8.4f}   ± {error:.4f}")
        print(f"  noise σ       {noise:7.3f} {'':>7} {sigma:8.4f}")
    if plot:
        _plot(t, x, start, fitted, plot)
        if verbose:
            print(f"plot written to {plot}")
    return {"true": TRUE_PARAMS, "initial": start, "fitted": fitted, "stderr": stderr,
            "sigma": sigma, "losses": losses}


def _plot(t, x, start, fitted, path: str) -> None:
    import os

    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
    fig, ax = plt.subplots(figsize=(8, 4))
    ax.plot(t, x, ".", color="0.6", label="measurements")
    ax.plot(t, damped_oscillator(t, *start), ":", label="initial guess")
    ax.plot(t, damped_oscillator(t, *fitted), label="fit")
    ax.set(xlabel="time t", ylabel="displacement x", title="damped oscillator fit")
    ax.legend()
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--points", type=int, default=200)
    parser.add_argument("--noise", type=float, default=0.05)
    parser.add_argument("--steps", type=int, default=2000)
    parser.add_argument("--lr", type=float, default=0.05)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--plot", default=None, help="write a PNG of the data and the fit here")
    args = parser.parse_args()
    main(args.points, args.noise, args.steps, args.lr, seed=args.seed, plot=args.plot)
