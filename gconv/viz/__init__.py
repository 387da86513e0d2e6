"""Plots of what training produced."""

from gconv.viz.history import plot_history

__all__ = ["plot_history"]
