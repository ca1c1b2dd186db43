"""validate_tool_attributes: what smolagents requires of a Tool class before it writes it out as code.

smolagents rebuilds a tool from its class's source alone (to_dict, save, the
remote executors), so:
- class attributes must be literals it can write back (a constant, or a dict or
  set of literals; smolagents 1.x refuses lists and tuples too), and `name` a
  constant Python identifier;
- `__init__` may take no argument without a literal default (values given at
  construction would be lost);
- every method may use only its arguments, `self`, the class attributes,
  builtins, names it imports or assigns itself, `Any`, and the modules the
  sandboxes import for every run (BASE_BUILTIN_MODULES). Like smolagents,
  `import a.b` counts as defining `a.b`, not `a`: write `from a.b import c`.
"""

import ast
import builtins
import inspect
import keyword
import textwrap

BASE_BUILTIN_MODULES = ("collections", "datetime", "itertools", "math", "queue", "random", "re", "stat", "statistics", "time", "unicodedata")


def is_valid_name(name: object) -> bool:
    return isinstance(name, str) and name.isidentifier() and not keyword.iskeyword(name)


def class_source(cls: type) -> str:
    return textwrap.dedent(inspect.getsource(cls)).strip()


def _is_literal(node: ast.AST) -> bool:
    if isinstance(node, ast.Constant):
        return True
    if isinstance(node, ast.Dict):
        return all(key is not None and _is_literal(key) for key in node.keys) and all(_is_literal(value) for value in node.values)
    if isinstance(node, ast.Set):
        return all(_is_literal(element) for element in node.elts)
    return False


class _UndefinedNames(ast.NodeVisitor):
    """Walks one method in source order; a name loaded before the method binds it (and not otherwise known) is undefined."""

    def __init__(self, class_attributes: set):
        self.known = set(vars(builtins)) | set(BASE_BUILTIN_MODULES) | set(class_attributes) | {"self", "Any"}
        self.undefined: list = []

    def _bind_target(self, target: ast.AST) -> None:
        if isinstance(target, ast.Name):
            self.known.add(target.id)
        elif isinstance(target, (ast.Tuple, ast.List)):
            for element in target.elts:
                if isinstance(element, ast.Name):
                    self.known.add(element.id)

    def visit_arguments(self, node: ast.arguments) -> None:
        # Parameters are bound; their annotations and defaults are not checked (nor are they by smolagents).
        for arg in node.posonlyargs + node.args + node.kwonlyargs:
            self.known.add(arg.arg)
        for arg in (node.vararg, node.kwarg):
            if arg is not None:
                self.known.add(arg.arg)

    def visit_Import(self, node: ast.Import) -> None:
        for alias in node.names:
            self.known.add(alias.asname or alias.name)

    def visit_ImportFrom(self, node: ast.ImportFrom) -> None:
        for alias in node.names:
            self.known.add(alias.asname or alias.name)

    def visit_Assign(self, node: ast.Assign) -> None:
        for target in node.targets:
            self._bind_target(target)
        self.visit(node.value)

    def visit_AnnAssign(self, node: ast.AnnAssign) -> None:
        self._bind_target(node.target)
        if node.value is not None:
            self.visit(node.value)

    def visit_For(self, node: ast.For) -> None:
        self._bind_target(node.target)
        self.generic_visit(node)

    def visit_With(self, node: ast.With) -> None:
        for item in node.items:
            if item.optional_vars is not None:
                self._bind_target(item.optional_vars)
        self.generic_visit(node)

    def visit_ExceptHandler(self, node: ast.ExceptHandler) -> None:
        if node.name:
            self.known.add(node.name)
        self.generic_visit(node)

    def _visit_comprehension(self, node: ast.AST) -> None:
        for generator in node.generators:  # type: ignore[attr-defined]
            self._bind_target(generator.target)
        self.generic_visit(node)

    visit_ListComp = visit_SetComp = visit_DictComp = visit_GeneratorExp = _visit_comprehension

    def visit_ClassDef(self, node: ast.ClassDef) -> None:
        self.known.add(node.name)
        self.generic_visit(node)

    def visit_Attribute(self, node: ast.Attribute) -> None:
        if not (isinstance(node.value, ast.Name) and node.value.id == "self"):
            self.generic_visit(node)

    def visit_Name(self, node: ast.Name) -> None:
        if isinstance(node.ctx, ast.Load) and node.id not in self.known and node.id not in self.undefined:
            self.undefined.append(node.id)


def validate_tool_attributes(cls: type) -> None:
    """Raises ValueError listing every reason smolagents could not write `cls` out as self-contained code."""
    class_node = ast.parse(class_source(cls)).body[0]
    if not isinstance(class_node, ast.ClassDef):
        raise ValueError(f"the source of {cls.__name__} does not define a class")
    errors = []
    class_attributes: set = set()
    for statement in class_node.body:
        if isinstance(statement, ast.Assign):
            names = [target.id for target in statement.targets if isinstance(target, ast.Name)]
            class_attributes.update(names)
            if not _is_literal(statement.value):
                errors.append(f"class attribute {', '.join(names)} is not a literal (a constant, or a dict or set of them): set it in __init__")
            if "name" in names and not (isinstance(statement.value, ast.Constant) and is_valid_name(statement.value.value)):
                errors.append(f"class attribute name must be a constant Python identifier, not a keyword: {ast.unparse(statement.value)}")
        elif isinstance(statement, ast.FunctionDef) and statement.name == "__init__":
            arguments = statement.args.args[1:]
            defaults = [None] * (len(arguments) - len(statement.args.defaults)) + list(statement.args.defaults)
            for argument, default in zip(arguments, defaults):
                if default is None:
                    errors.append(f"__init__ parameter {argument.arg} has no default value")
                elif not isinstance(default, (ast.Constant, ast.Dict, ast.List, ast.Set)):
                    errors.append(f"__init__ parameter {argument.arg} has a default that is not a literal")
    for statement in class_node.body:
        if isinstance(statement, ast.FunctionDef):
            checker = _UndefinedNames(class_attributes)
            checker.visit(statement)
            errors += [f"- {statement.name}: name '{name}' is undefined" for name in checker.undefined]
    if errors:
        raise ValueError(f"Tool validation failed for {cls.__name__}:\n" + "\n".join(errors))
