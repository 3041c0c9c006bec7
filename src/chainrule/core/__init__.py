"""The core: the ``Tensor``, the recorded graph, the one dispatch path, the reverse-mode engine,
modes (grad, anomaly), dtypes and the array backend. Imports nothing above it (``ops``,
``transforms``, ``api``, ``tools``); each module here imports only the ones listed before it:

backend, dtypes, modes, collector, hooks → tensor, format → graph → dispatch → engine, creation
"""
