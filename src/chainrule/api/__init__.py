"""The public surface generated from the operation table: Tensor methods and operators
(``methods``) and NumPy's dispatch protocols (``numpy_protocols``)."""
