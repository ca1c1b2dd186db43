"""get_tool_json_schema: the function definition a tool-calling model (OpenAI-style) is given for a tool."""

import copy


def get_tool_json_schema(tool) -> dict:
    properties = copy.deepcopy(tool.inputs)
    required = []
    for name, schema in properties.items():
        if schema.get("type") == "any":
            schema["type"] = "string"
        if not schema.get("nullable", False):
            required.append(name)
    return {
        "type": "function",
        "function": {
            "name": tool.name,
            "description": tool.description,
            "parameters": {"type": "object", "properties": properties, "required": required},
        },
    }
