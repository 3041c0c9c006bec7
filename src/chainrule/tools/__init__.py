"""Tools that read graphs and the operation table: never build rules."""
