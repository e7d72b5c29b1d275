"""Compatibility fixes for modern PyTorch (filled in by the compat work)."""
