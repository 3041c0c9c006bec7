"""Handwritten digits: softmax regression and a small MLP, trained with ``cr.nn`` and ``cr.optim``.

Uses scikit-learn's bundled 8×8 digits (1,797 images, nothing is downloaded). Prints the test
accuracy of both models, saves their loss/accuracy curves as a PNG, and checks that the MLP saved
with ``cr.save`` and reloaded with ``cr.load`` predicts exactly as before.

    pip install "chainrule[examples]"
    python examples/digits.py [--epochs 30] [--hidden 128] [--out out]
"""

from __future__ import annotations

import argparse
import os
import time

import numpy as np

import chainrule as cr
from chainrule import nn, optim


def load_data(test_fraction: float = 0.25, seed: int = 0):
    """Train/test split of the digits, pixels scaled to [0, 1] as float32, labels int64."""
    from sklearn.datasets import load_digits
    from sklearn.model_selection import train_test_split

    images, labels = load_digits(return_X_y=True)
    images = (images / 16.0).astype(np.float32)
    return train_test_split(images, labels.astype(np.int64), test_size=test_fraction,
                            random_state=seed, stratify=labels)


def softmax_regression() -> nn.Module:
    return nn.Linear(64, 10)


def mlp(hidden: int = 128, dropout: float = 0.1) -> nn.Module:
    return nn.Sequential(
        nn.Linear(64, hidden), nn.ReLU(), nn.Dropout(dropout),
        nn.Linear(hidden, 10),
    )


def accuracy(model: nn.Module, images: np.ndarray, labels: np.ndarray) -> float:
    """Fraction of ``images`` classified as their label (in evaluation mode)."""
    return float(np.mean(predict(model, images) == labels))


def predict(model: nn.Module, images: np.ndarray) -> np.ndarray:
    """Predicted class of each image (in evaluation mode)."""
    return logits(model, images).argmax(axis=1)


def logits(model: nn.Module, images: np.ndarray) -> np.ndarray:
    """The model's outputs for ``images`` without recording a graph (in evaluation mode)."""
    was_training = model.training
    model.eval()
    with cr.no_grad():
        out = model(cr.from_numpy(images)).numpy()
    model.train(was_training)
    return out


def _progress(epochs: int, desc: str, enabled: bool):
    """A tqdm bar over the epochs when tqdm is installed, else plain per-epoch lines."""
    if enabled:
        try:
            from tqdm import tqdm
        except ImportError:
            pass
        else:
            return tqdm(range(epochs), desc=desc, unit="epoch", leave=True)
    return None


def train(model: nn.Module, optimizer: optim.Optimizer, data, epochs: int, batch_size: int,
          rng: np.random.Generator, desc: str, progress: bool = True, jit: bool = False) -> dict[str, list[float]]:
    """Minibatch training with cross-entropy; returns per-epoch mean loss and accuracies. With
    ``jit``, the whole training step (forward, backward, update) runs as compiled code."""
    X_train, X_test, y_train, y_test = data
    loss_fn = nn.CrossEntropyLoss()

    def step(x: cr.Tensor, y: cr.Tensor) -> cr.Tensor:
        loss = loss_fn(model(x), y)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        return loss.detach()

    if jit:
        step = cr.jit(step)
    history: dict[str, list[float]] = {"loss": [], "train_accuracy": [], "test_accuracy": []}
    bar = _progress(epochs, desc, progress)
    for epoch in bar if bar is not None else range(epochs):
        model.train()
        order = rng.permutation(len(X_train))
        total = 0.0
        for start in range(0, len(order), batch_size):
            index = order[start:start + batch_size]
            loss = step(cr.from_numpy(X_train[index]), cr.from_numpy(y_train[index]))
            total += loss.item() * len(index)
        history["loss"].append(total / len(order))
        history["train_accuracy"].append(accuracy(model, X_train, y_train))
        history["test_accuracy"].append(accuracy(model, X_test, y_test))
        summary = {"loss": f"{history['loss'][-1]:.4f}", "test_acc": f"{history['test_accuracy'][-1]:.4f}"}
        if bar is not None:
            bar.set_postfix(summary)
        elif progress:
            print(f"{desc} epoch {epoch + 1}/{epochs}: loss {summary['loss']}, test accuracy {summary['test_acc']}")
    if bar is not None:
        bar.close()
    return history


def plot_curves(histories: dict[str, dict[str, list[float]]], path: str) -> str:
    """Training loss and test accuracy per epoch of each model, side by side, as a PNG."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, (ax_loss, ax_acc) = plt.subplots(1, 2, figsize=(10, 4))
    lowest = 0.8
    for i, (name, history) in enumerate(histories.items()):
        color = f"C{i}"
        epochs = np.arange(1, len(history["loss"]) + 1)
        ax_loss.plot(epochs, history["loss"], color=color, label=name)
        ax_acc.plot(epochs, history["test_accuracy"], color=color, label=f"{name} (test)")
        ax_acc.plot(epochs, history["train_accuracy"], "--", color=color, alpha=0.6, label=f"{name} (train)")
        lowest = min(lowest, *history["test_accuracy"], *history["train_accuracy"])
    ax_loss.set(xlabel="epoch", ylabel="cross-entropy", title="training loss", yscale="log")
    ax_acc.set(xlabel="epoch", ylabel="accuracy", title="accuracy", ylim=(lowest - 0.01, 1.0))
    for ax in (ax_loss, ax_acc):
        ax.grid(alpha=0.3)
        ax.legend()
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)
    return path


def main(epochs: int = 30, batch_size: int = 32, hidden: int = 128, seed: int = 0,
         out: str = "out", progress: bool = True, plot: bool = True, jit: bool = False) -> dict:
    """Train both models, print and return their test accuracies, save curves and a checkpoint.

    Returns a dict with each model's ``history`` and ``test_accuracy``, the paths written, and
    ``reloaded_identical``: whether the MLP reloaded from its checkpoint gives the same logits.
    """
    cr.manual_seed(seed)
    data = load_data(seed=seed)
    X_train, X_test, _, y_test = data
    print(f"digits: {len(X_train)} training and {len(X_test)} test images of 8x8 pixels, 10 classes")
    os.makedirs(out, exist_ok=True)
    rng = np.random.default_rng(seed)

    models = {
        "softmax regression": softmax_regression(),
        f"MLP 64-{hidden}-10": mlp(hidden),
    }
    optimizers = {
        "softmax regression": lambda m: optim.SGD(m.parameters(), lr=0.2, momentum=0.9),
        f"MLP 64-{hidden}-10": lambda m: optim.Adam(m.parameters(), lr=2e-3),
    }
    results: dict = {"models": {}}
    histories = {}
    for name, model in models.items():
        optimizer = optimizers[name](model)
        start = time.perf_counter()
        history = train(model, optimizer, data, epochs, batch_size, rng, name, progress, jit)
        seconds = time.perf_counter() - start
        histories[name] = history
        test_accuracy = accuracy(model, X_test, y_test)
        print(f"{name}: test accuracy {test_accuracy:.2%} ({seconds:.1f} s for {epochs} epochs)")
        results["models"][name] = {"history": history, "test_accuracy": test_accuracy,
                                   "model": model, "optimizer": optimizer, "seconds": seconds}

    name = f"MLP 64-{hidden}-10"
    trained = results["models"][name]
    checkpoint = os.path.join(out, "digits_mlp.npz")
    cr.save({"model": trained["model"].state_dict(), "optimizer": trained["optimizer"].state_dict(),
             "epochs": epochs}, checkpoint)
    restored = mlp(hidden)
    restored.load_state_dict(cr.load(checkpoint)["model"])
    identical = bool(np.array_equal(logits(trained["model"], X_test), logits(restored, X_test)))
    print(f"saved {checkpoint}; reloaded model gives {'identical' if identical else 'DIFFERENT'} predictions")
    results.update(checkpoint=checkpoint, reloaded_identical=identical)

    if plot:
        results["plot"] = plot_curves(histories, os.path.join(out, "digits_curves.png"))
        print(f"curves written to {results['plot']}")
    return results


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=30)
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument("--hidden", type=int, default=128)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", default="out", help="folder for the PNG and the checkpoint")
    parser.add_argument("--no-progress", action="store_true")
    parser.add_argument("--jit", action="store_true", help="compile each training step with cr.jit")
    args = parser.parse_args()
    main(args.epochs, args.batch_size, args.hidden, args.seed, args.out, not args.no_progress, jit=args.jit)
