"""Plots and renders (matplotlib, an optional extra: ``pip install gastnet[plot]``)."""
