"""Portside: a Harbor-compatible container registry."""

__version__ = "0.1.0"
