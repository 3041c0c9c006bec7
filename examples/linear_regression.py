"""Linear regression two ways: raw tensors with hand-written SGD, then ``nn.Linear`` + ``optim.SGD``.

The data are synthetic: y = X·w + b + noise with w = [2, −3.4], b = 4.2 and noise of standard
deviation 0.01, so the learned parameters can be read against the true ones.

    python examples/linear_regression.py [--samples 1000] [--epochs 3] [--batch-size 10] [--lr 0.03]
"""

from __future__ import annotations

import argparse

import numpy as np

import chainrule as cr
from chainrule import nn, optim

TRUE_W = np.array([2.0, -3.4], dtype=np.float32)
TRUE_B = 4.2


def synthetic_data(w: np.ndarray, b: float, num_samples: int, noise: float = 0.01):
    """``X`` of shape (num_samples, len(w)) from N(0, 1) and ``y = X·w + b + N(0, noise²)`` of
    shape (num_samples, 1)."""
    X = cr.randn(num_samples, len(w))
    y = X @ cr.tensor(w) + b
    y = y + noise * cr.randn(*y.shape)
    return X, y.reshape(-1, 1)


def minibatches(X: cr.Tensor, y: cr.Tensor, batch_size: int, rng: np.random.Generator):
    """``(X_batch, y_batch)`` pairs covering the data once in a random order."""
    order = rng.permutation(len(X))
    for start in range(0, len(X), batch_size):
        index = order[start:start + batch_size]
        yield X[index], y[index]


def train_from_scratch(X, y, num_epochs: int, batch_size: int, lr: float, rng, verbose: bool):
    """Model, loss and SGD written out by hand with ``requires_grad``, ``backward`` and ``no_grad``."""
    w = (0.01 * cr.randn(2, 1)).requires_grad_()
    b = cr.zeros(1, requires_grad=True)

    def model(X):
        return X @ w + b

    def squared_loss(y_hat, y):
        return (y_hat - y) ** 2 / 2

    for epoch in range(num_epochs):
        for X_batch, y_batch in minibatches(X, y, batch_size, rng):
            loss = squared_loss(model(X_batch), y_batch)
            loss.sum().backward()
            with cr.no_grad():
                for param in (w, b):
                    param -= lr * param.grad / len(X_batch)
                    param.grad.zero_()
        with cr.no_grad():
            epoch_loss = squared_loss(model(X), y).mean().item()
        if verbose:
            print(f"  epoch {epoch + 1}, loss {epoch_loss:.6f}")
    return w.detach().numpy().reshape(-1), b.item(), epoch_loss


def train_with_nn(X, y, num_epochs: int, batch_size: int, lr: float, rng, verbose: bool):
    """The same model as ``nn.Linear(2, 1)``, the loss as ``nn.MSELoss``, the update as ``optim.SGD``."""
    net = nn.Linear(2, 1)
    nn.init.normal_(net.weight, 0.0, 0.01)
    nn.init.zeros_(net.bias)
    loss_fn = nn.MSELoss()
    trainer = optim.SGD(net.parameters(), lr=lr)
    for epoch in range(num_epochs):
        for X_batch, y_batch in minibatches(X, y, batch_size, rng):
            loss = loss_fn(net(X_batch), y_batch)
            trainer.zero_grad()
            loss.backward()
            trainer.step()
        with cr.no_grad():
            epoch_loss = loss_fn(net(X), y).item()
        if verbose:
            print(f"  epoch {epoch + 1}, loss {epoch_loss:.6f}")
    return net.weight.detach().numpy().reshape(-1), net.bias.item(), epoch_loss


def _report(name: str, w: np.ndarray, b: float) -> None:
    print(f"  {name}: w = {np.array2string(w, precision=4)} (true {TRUE_W}), "
          f"b = {b:.4f} (true {TRUE_B})")
    print(f"  error in w: {np.array2string(TRUE_W - w, precision=5)}, error in b: {TRUE_B - b:.5f}")


def main(num_samples: int = 1000, num_epochs: int = 3, batch_size: int = 10, lr: float = 0.03,
         seed: int = 0, verbose: bool = True) -> dict:
    """Train both versions on the same data; return the learned parameters and final losses."""
    cr.manual_seed(seed)
    X, y = synthetic_data(TRUE_W, TRUE_B, num_samples)
    results = {}
    for name, train in (("from scratch", train_from_scratch), ("nn + optim", train_with_nn)):
        if verbose:
            print(f"{name}:")
        w, b, loss = train(X, y, num_epochs, batch_size, lr, np.random.default_rng(seed), verbose)
        if verbose:
            _report(name, w, b)
        results[name] = {"w": w, "b": b, "loss": loss}
    return results


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--samples", type=int, default=1000)
    parser.add_argument("--epochs", type=int, default=3)
    parser.add_argument("--batch-size", type=int, default=10)
    parser.add_argument("--lr", type=float, default=0.03)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    main(args.samples, args.epochs, args.batch_size, args.lr, args.seed)
