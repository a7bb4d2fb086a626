"""The ``Provider`` interface, defined in ``mendoza.calls.provider`` (a layer graders may import too) and
re-exported here, where providers and plugins have always found it."""

from mendoza.calls.provider import JudgeStyle, Provider

__all__ = ["JudgeStyle", "Provider"]
