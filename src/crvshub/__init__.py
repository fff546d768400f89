"""CRVS Hub: civil registration interoperability server."""

__version__ = "0.1.0"
