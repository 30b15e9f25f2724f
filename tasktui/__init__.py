"""tasktui: a keyboard-driven terminal console for a Scale-style labeling task queue."""

__version__ = "0.1.0"
