"""Stand-in for smolagents in Safety Net's tests (see ../README.md): Tool and the checks around it."""

from .tools import AUTHORIZED_TYPES, Tool, get_tools_definition_code, validate_tool_arguments

__version__ = "stand-in"
__all__ = ["AUTHORIZED_TYPES", "Tool", "get_tools_definition_code", "validate_tool_arguments"]
