"""AST Studio engine and document model. Never imports Qt."""

__version__ = "0.1.0"
