"""The package version, in one place (pyproject reads it; model files record it)."""

__version__ = "0.1.0"
