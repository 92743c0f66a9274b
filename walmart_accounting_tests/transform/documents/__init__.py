"""Tests of transform.documents, one module per module of the package, with the builders they share."""
