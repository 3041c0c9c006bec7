"""Transforms built on the core and the operation table: forward mode (``forward``), batched
rules for Jacobians (``batching``) and the functional transforms (``functional``: grad, vjp,
jvp, jacrev, jacfwd, hessian, hvp, checkpoint)."""
