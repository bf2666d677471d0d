"""motcua — một cửa: a provincial platform for administrative procedures."""

__version__ = "0.1.0"
