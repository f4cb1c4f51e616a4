"""HTTP handlers, one module per protocol."""
