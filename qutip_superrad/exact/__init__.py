"""Exact representations: full tensor space and permutation-invariant Dicke basis."""
