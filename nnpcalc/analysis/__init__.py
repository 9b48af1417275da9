"""Analyses that accept any ASE calculator (batched through `predict` when it exists)."""
