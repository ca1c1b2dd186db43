"""Python type hints and values as JSON schema types, the way smolagents reads them.

A plain class smolagents does not know becomes "object"; `X | None` (or
Optional[X]) is X with `nullable`; `list[X]` is an array whose `items` are X. A
generic it cannot read (a set, a callable...) is an error.
"""

import inspect
import types
import typing
from typing import Any, get_args, get_origin, get_type_hints

_JSON_TYPE_OF = {
    str: "string",
    bool: "boolean",
    int: "integer",
    float: "number",
    list: "array",
    dict: "object",
    type(None): "null",
    Any: "any",
}


class TypeHintError(Exception):
    """A type hint that has no JSON schema type."""


def json_type_of_value(value: object) -> str:
    """The JSON schema type of an argument an agent passes (an unknown class counts as an object)."""
    return _JSON_TYPE_OF.get(type(value), "object")


def schema_of_hint(hint: object) -> dict:
    origin = get_origin(hint)
    args = get_args(hint)
    if origin is None:
        return {"type": _JSON_TYPE_OF.get(hint, "object")}  # type: ignore[call-overload]
    if origin is typing.Union or origin is types.UnionType:
        members = [schema_of_hint(arg) for arg in args if arg is not type(None)]
        if len(members) == 1:
            schema = members[0]
        elif all(isinstance(member.get("type"), str) for member in members):
            schema = {"type": sorted(member["type"] for member in members)}
        else:
            schema = {"anyOf": members}
        if type(None) in args:
            schema["nullable"] = True
        return schema
    if origin is list:
        return {"type": "array", "items": schema_of_hint(args[0])} if args else {"type": "array"}
    if origin is tuple:
        return {"type": "array"}
    if origin is dict:
        return {"type": "object"}
    if origin is typing.Literal:
        kinds = {_JSON_TYPE_OF.get(type(arg), "object") for arg in args if arg is not None}
        schema: dict = {"type": kinds.pop() if len(kinds) == 1 else sorted(kinds), "enum": [arg for arg in args if arg is not None]}
        if None in args:
            schema["nullable"] = True
        return schema
    raise TypeHintError(f"cannot turn the type hint {hint!r} into a JSON schema type")


def parameter_schemas(function: typing.Callable) -> dict:
    """Each parameter's JSON schema from its type hint; a parameter with a default is nullable."""
    hints = get_type_hints(function)
    schemas = {}
    for name, parameter in inspect.signature(function).parameters.items():
        schema = schema_of_hint(hints[name]) if name in hints else {}
        if parameter.default is not inspect.Parameter.empty:
            schema["nullable"] = True
        schemas[name] = schema
    return schemas
