"""Tool and the code smolagents makes of it (see ../README.md for what is checked, and when)."""

import __future__
import ast
import functools
import inspect
import json
import sys
import textwrap
import types
from pathlib import Path

from .tool_validation import BASE_BUILTIN_MODULES, is_valid_name, validate_tool_attributes
from .type_hints import json_type_of_value, parameter_schemas

AUTHORIZED_TYPES = ["string", "boolean", "integer", "number", "image", "audio", "array", "object", "any", "null"]


class Tool:
    name: str
    description: str
    inputs: dict
    output_type: str

    def __init__(self, *args, **kwargs):
        self.is_initialized = False

    def __init_subclass__(cls, **kwargs):
        # Like smolagents: whatever __init__ a subclass has, the tool is validated once it has run.
        super().__init_subclass__(**kwargs)
        own_init = cls.__init__

        @functools.wraps(own_init)
        def init_then_validate(self, *args, **kwargs):
            own_init(self, *args, **kwargs)
            self.validate_arguments()

        cls.__init__ = init_then_validate  # type: ignore[method-assign]

    def validate_arguments(self) -> None:
        for attribute, kind in (("name", str), ("description", str), ("inputs", dict), ("output_type", str)):
            value = getattr(self, attribute, None)
            if value is None:
                raise TypeError(f"You must set an attribute {attribute}.")
            if not isinstance(value, kind):
                raise TypeError(f"Attribute {attribute} should have type {kind.__name__}, got {type(value)} instead.")
        if not is_valid_name(self.name):
            raise ValueError(f"Invalid Tool name '{self.name}': must be a valid Python identifier and not a reserved keyword")
        for input_name, spec in self.inputs.items():
            if not isinstance(spec, dict) or "type" not in spec or "description" not in spec:
                raise ValueError(f"Input '{input_name}' should be a dict with keys 'type' and 'description'")
            kinds = spec["type"] if isinstance(spec["type"], list) else [spec["type"]]
            if not all(isinstance(kind, str) for kind in kinds):
                raise TypeError(f"Input '{input_name}': type must be a string or a list of strings, got {spec['type']!r}")
            unknown = [kind for kind in kinds if kind not in AUTHORIZED_TYPES]
            if unknown:
                raise ValueError(f"Input '{input_name}': types {unknown} must be one of {AUTHORIZED_TYPES}")
        if self.output_type not in AUTHORIZED_TYPES:
            raise ValueError(f"output_type {self.output_type!r} must be one of {AUTHORIZED_TYPES}")

        parameters = set(inspect.signature(self.forward).parameters) - {"self"}
        if parameters != set(self.inputs):
            raise ValueError(
                f"In tool '{self.name}', 'forward' method parameters were {sorted(parameters)}, but expected {sorted(self.inputs)}: "
                "after self, forward takes exactly the keys of `inputs`."
            )
        from_hints = parameter_schemas(self.forward)
        for input_name, spec in self.inputs.items():
            if ("nullable" in spec) != ("nullable" in from_hints[input_name]):
                raise ValueError(
                    f"In tool '{self.name}', input '{input_name}': `nullable` must be in inputs exactly when forward's parameter "
                    "has a default or None in its type hint."
                )
            # Stricter than smolagents, which does not compare them: the hint says what the input's type says.
            hinted = from_hints[input_name].get("type")
            if hinted is not None and hinted not in ("any", spec["type"]):
                raise ValueError(f"In tool '{self.name}', input '{input_name}' is declared {spec['type']!r} but forward's type hint says {hinted!r}")

    def forward(self, *args, **kwargs):
        raise NotImplementedError("Write this method in your subclass of `Tool`.")

    def __call__(self, *args, sanitize_inputs_outputs: bool = False, **kwargs):
        if not self.is_initialized:
            self.setup()
        # An agent may pass all arguments as one dict.
        if len(args) == 1 and not kwargs and isinstance(args[0], dict) and all(key in self.inputs for key in args[0]):
            args, kwargs = (), args[0]
        return self.forward(*args, **kwargs)

    def setup(self) -> None:
        self.is_initialized = True

    def to_code_prompt(self) -> str:
        """The function a CodeAgent's model is shown: signature with JSON types, description, one line per argument."""
        signature = ", ".join(f"{name}: {spec['type']}" for name, spec in self.inputs.items())
        doc = self.description
        if self.inputs:
            doc += "\n\nArgs:\n" + "\n".join(f"    {name}: {spec['description']}" for name, spec in self.inputs.items())
        return f"def {self.name}({signature}) -> {self.output_type}:\n" + textwrap.indent(f'"""{doc}\n"""', "    ")

    def to_dict(self) -> dict:
        validate_tool_attributes(type(self))
        # smolagents puts these typing names in front of the code it saves (not of what remote executors run).
        code = "from typing import Any, Optional\n" + _module_code(self, import_tool=True)
        third_party = {package for package in _imported_packages(code) if package not in sys.stdlib_module_names}
        return {"name": self.name, "code": code, "requirements": sorted(third_party | {"smolagents"})}

    @classmethod
    def from_dict(cls, tool_dict: dict, **kwargs) -> "Tool":
        if "code" not in tool_dict:
            raise ValueError("Tool dictionary must contain 'code' key with the tool source code")
        return cls.from_code(tool_dict["code"], **kwargs)

    @classmethod
    def from_code(cls, tool_code: str, **kwargs) -> "Tool":
        module = types.ModuleType("dynamic_tool")
        # smolagents' tools module has `from __future__ import annotations`, which its exec passes on:
        # type hints in the code are not evaluated when its functions are defined.
        exec(compile(tool_code, "<tool code>", "exec", flags=__future__.annotations.compiler_flag, dont_inherit=True), module.__dict__)
        tool_class = next((value for value in vars(module).values() if isinstance(value, type) and issubclass(value, Tool) and value is not Tool), None)
        if tool_class is None:
            raise ValueError("No Tool subclass found in the code.")
        return tool_class(**kwargs)

    def save(self, output_dir, tool_file_name: str = "tool", make_gradio_app: bool = True) -> None:
        """Writes {tool_file_name}.py (the code of to_dict), and with make_gradio_app an app.py and requirements.txt for a Space."""
        folder = Path(output_dir)
        folder.mkdir(parents=True, exist_ok=True)
        tool_dict = self.to_dict()
        (folder / f"{tool_file_name}.py").write_text(tool_dict["code"], encoding="utf-8")
        if make_gradio_app:
            class_name = type(self).__name__
            app = f"from smolagents import launch_gradio_demo\nfrom {tool_file_name} import {class_name}\n\ntool = {class_name}()\nlaunch_gradio_demo(tool)\n"
            (folder / "app.py").write_text(app, encoding="utf-8")
            (folder / "requirements.txt").write_text("\n".join(tool_dict["requirements"]), encoding="utf-8")


def _imported_packages(code: str) -> set:
    packages = set()
    for node in ast.walk(ast.parse(code)):
        if isinstance(node, ast.Import):
            packages.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
            packages.add(node.module.split(".")[0])
    return packages


def _is_method(value: object) -> bool:
    return callable(value) or isinstance(value, (staticmethod, classmethod))


def _class_code(tool: Tool) -> str:
    """The tool's class rebuilt from what smolagents keeps: its own attributes (as literals) and its own methods' source."""
    cls = type(tool)
    lines = [f"class {cls.__name__}(Tool):"]
    if cls.__doc__:
        lines.append(f'    """{cls.__doc__}"""')
    for name, value in vars(cls).items():
        if name.startswith("__") or _is_method(value) or (hasattr(Tool, name) and getattr(Tool, name) == value):
            continue
        literal = json.dumps(value) if isinstance(value, str) else repr(value)
        lines.append(f"    {name} = {literal}")
    for name, value in vars(cls).items():
        function = getattr(value, "__func__", value)
        function = getattr(function, "__wrapped__", function)
        if not _is_method(value) or function is getattr(Tool, name, None):
            continue
        lines.append("")
        lines.append(textwrap.indent(textwrap.dedent(inspect.getsource(function)).rstrip(), "    "))
    return "\n".join(lines) + "\n"


def _module_code(tool: Tool, import_tool: bool) -> str:
    """The class plus one `import <package>` per package its methods import (the methods import again inside)."""
    class_code = _class_code(tool)
    header = [f"import {package}" for package in sorted(_imported_packages(class_code))]
    if import_tool:
        header.insert(0, "from smolagents.tools import Tool")
    return "\n".join(header) + "\n\n" + class_code


def get_tools_definition_code(tools: dict) -> str:
    """What the remote executors (docker, e2b, modal, blaxel) run to define the tools: no smolagents, no typing names but Any."""
    parts = [f"import {module}" for module in BASE_BUILTIN_MODULES]
    parts.append("from typing import Any\n\n\nclass Tool:\n    def __call__(self, *args, **kwargs):\n        return self.forward(*args, **kwargs)\n")
    for tool in tools.values():
        validate_tool_attributes(type(tool))
        parts.append(_module_code(tool, import_tool=False) + f"\n{tool.name} = {type(tool).__name__}()\n")
    return "\n".join(parts)


def validate_tool_arguments(tool: Tool, arguments: object) -> None:
    """The check a ToolCallingAgent makes before each call: known names, JSON types, required inputs present."""
    if not isinstance(arguments, dict):
        expected = next(iter(tool.inputs.values()))["type"]
        actual = json_type_of_value(arguments)
        if actual != expected and expected != "any":
            raise TypeError(f"Argument has type '{type(arguments).__name__}' but should be '{expected}'")
        return
    for key, value in arguments.items():
        if key not in tool.inputs:
            raise ValueError(f"Argument {key} is not in the tool's input schema")
        spec = tool.inputs[key]
        expected = spec["type"]
        actual = json_type_of_value(value)
        matches = actual == expected if isinstance(expected, str) else actual in expected
        if matches or expected == "any" or (actual == "null" and spec.get("nullable", False)) or (actual == "integer" and expected == "number"):
            continue
        raise TypeError(f"Argument {key} has type '{actual}' but should be '{expected}'")
    for key, spec in tool.inputs.items():
        if key not in arguments and not spec.get("nullable", False):
            raise ValueError(f"Argument {key} is required")
