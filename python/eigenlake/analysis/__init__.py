"""Analyses over a filtered snapshot of an index: clustering, outliers, topics."""
