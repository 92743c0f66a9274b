"""Tests of transform.walmart, one module per module of the package, with the builders they share."""
