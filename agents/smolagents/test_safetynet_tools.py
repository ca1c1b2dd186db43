"""The Safety Net Python tools, through smolagents' own machinery and against a REAL server.

Needs SAFETYNET_URL, SAFETYNET_TOKEN (an admin token: the tests register their own
components and make agent and viewer tokens) and SAFETYNET_TEST_WORKSPACE (a
directory inside the server's SAFETYNET_ALLOWED_ROOTS). test/http/smolagents.test.ts
runs it against the HTTP test server (`npm run test:http`):

    python3 -m unittest agents/smolagents/test_safetynet_tools.py

smolagents is used when it is importable; otherwise the stand-in in stand_in/ (a
package named smolagents that checks what smolagents checks, see its README). The
tools are driven the ways smolagents drives them: as a ToolCallingAgent calls them
(argument check, then the call), rebuilt with Tool.from_dict(tool.to_dict()), saved
with tool.save() and imported from tool.py by a fresh interpreter, and defined in a
bare interpreter from the code the remote executors (docker, e2b, modal, blaxel) run.
"""

import ast
import hashlib
import inspect
import json
import os
import subprocess
import sys
import tempfile
import time
import unittest
from contextlib import contextmanager
from typing import Optional

HERE = os.path.dirname(os.path.abspath(__file__))
STAND_IN = os.path.join(HERE, "stand_in")

try:
    import smolagents
except ImportError:
    sys.path.insert(0, STAND_IN)
    import smolagents
from smolagents import Tool  # noqa: E402
from smolagents.models import get_tool_json_schema  # noqa: E402
from smolagents.tools import get_tools_definition_code, validate_tool_arguments  # noqa: E402

# What a fresh interpreter needs on its path to import the same smolagents.
SMOLAGENTS_HOME = os.path.dirname(os.path.dirname(os.path.abspath(smolagents.__file__)))
print(f"smolagents {smolagents.__version__} from {SMOLAGENTS_HOME}", file=sys.stderr)

if HERE not in sys.path:
    sys.path.insert(0, HERE)

import safetynet_tools  # noqa: E402
from safetynet_tools import SafetyNetClient, SafetyNetError  # noqa: E402

URL = os.environ.get("SAFETYNET_URL")
ADMIN_TOKEN = os.environ.get("SAFETYNET_TOKEN")
WORKSPACE = os.environ.get("SAFETYNET_TEST_WORKSPACE")
LIVE = bool(URL and ADMIN_TOKEN and WORKSPACE)
SKIP_WHY = "set SAFETYNET_URL, SAFETYNET_TOKEN (admin) and SAFETYNET_TEST_WORKSPACE to run against a server"

TOOL_NAMES = ["list_components", "create_checkpoint", "list_checkpoints", "diff_checkpoint", "plan_rollback", "rollback", "history"]

_counter = [0]


def unique(prefix: str) -> str:
    _counter[0] += 1
    return f"{prefix}-py-{os.getpid()}-{int(time.time() * 1000) % 10_000_000}-{_counter[0]}"


def write(root: str, files: dict) -> None:
    for rel, content in files.items():
        path = os.path.join(root, rel)
        os.makedirs(os.path.dirname(path), exist_ok=True)
        with open(path, "w", encoding="utf-8") as f:
            f.write(content)


def hash_tree(root: str) -> dict:
    out = {}
    for dirpath, _dirs, names in os.walk(root):
        for name in names:
            path = os.path.join(dirpath, name)
            with open(path, "rb") as f:
                out[os.path.relpath(path, root)] = hashlib.sha256(f.read()).hexdigest()
    return out


@contextmanager
def environment(**values: Optional[str]):
    """Sets (or, for None, removes) environment variables for the duration of a block."""
    saved = {key: os.environ.get(key) for key in values}
    try:
        for key, value in values.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value
        yield
    finally:
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value


def fresh_python(args: list, *, cwd: Optional[str] = None, stdin: Optional[str] = None, pythonpath: Optional[str] = None, env: Optional[dict] = None) -> subprocess.CompletedProcess:
    """Runs a new python3 process (this interpreter) with PYTHONPATH set to exactly `pythonpath` (none when None)."""
    child_env = {key: value for key, value in os.environ.items() if key != "PYTHONPATH"}
    child_env.update(env or {})
    if pythonpath is not None:
        child_env["PYTHONPATH"] = pythonpath
    return subprocess.run([sys.executable, *args], cwd=cwd, input=stdin, env=child_env, capture_output=True, text=True)


class ToolFailed(Exception):
    """A tool call in another process raised: its type and message."""


def answer_of(process: subprocess.CompletedProcess):
    """The {"ok": result} or {"error": message} line a child process printed last."""
    if process.returncode != 0 or not process.stdout.strip():
        raise AssertionError(f"exit {process.returncode}\nstdout: {process.stdout}\nstderr: {process.stderr}")
    answer = json.loads(process.stdout.strip().splitlines()[-1])
    if "error" in answer:
        raise ToolFailed(answer["error"])
    return answer["ok"]


# Prints the answer of one call of a tool, as {"ok": result} or {"error": "<type>: <message>"}.
CALL_AND_PRINT = """
import json as _json
try:
    _answer = {{"ok": {call}}}
except Exception as _error:
    _answer = {{"error": f"{{type(_error).__name__}}: {{_error}}"}}
print(_json.dumps(_answer))
"""


class ImportWithoutSmolagentsTest(unittest.TestCase):
    def test_without_smolagents_the_module_offers_the_client_and_plain_functions_only(self):
        # -S: no site-packages, so no smolagents whatever is installed; only this folder on the path.
        script = (
            "import safetynet_tools as st\n"
            "print(st.SMOLAGENTS_AVAILABLE, hasattr(st, 'CreateCheckpointTool'), callable(st.create_checkpoint), callable(st.SafetyNetClient))\n"
            "try:\n"
            "    st.safetynet_tools()\n"
            "except ImportError as error:\n"
            "    print(error)\n"
        )
        process = fresh_python(["-S", "-c", script], pythonpath=HERE)
        self.assertEqual(process.returncode, 0, process.stderr)
        self.assertEqual(process.stdout.splitlines()[0], "False False True True")
        self.assertIn("smolagents is not installed", process.stdout.splitlines()[1])

    def test_client_needs_url_and_token(self):
        with environment(SAFETYNET_URL=None, SAFETYNET_TOKEN=None):
            with self.assertRaisesRegex(SafetyNetError, "SAFETYNET_URL"):
                SafetyNetClient()
            with self.assertRaisesRegex(SafetyNetError, "SAFETYNET_TOKEN"):
                SafetyNetClient("http://127.0.0.1:1")
        self.assertEqual(SafetyNetClient("http://h:3000/", "t").endpoint, "http://h:3000/api/trpc")
        self.assertEqual(SafetyNetClient("http://h:3000/api/trpc", "t").endpoint, "http://h:3000/api/trpc")

    def test_unreachable_server_raises_without_status(self):
        client = SafetyNetClient("http://127.0.0.1:1", "sn_x", timeout=5)
        with self.assertRaises(SafetyNetError) as raised:
            client.list_checkpoints()
        self.assertIsNone(raised.exception.status)
        self.assertIn("cannot reach", str(raised.exception))


class _CuttingServer:
    """A stand-in server that closes the connection without answering the first `cut` requests."""

    def __init__(self, cut: int):
        import http.server
        import threading

        owner = self
        self.cut = cut
        self.seen = []

        class Handler(http.server.BaseHTTPRequestHandler):
            def _handle(self):
                length = int(self.headers.get("Content-Length") or 0)
                if length:
                    self.rfile.read(length)
                owner.seen.append(f"{self.command} {self.path.split('?')[0]}")
                if owner.cut > 0:
                    owner.cut -= 1
                    self.close_connection = True
                    self.connection.shutdown(2)
                    return
                body = b'{"result":{"data":{"items":[]}}}'
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            do_GET = _handle
            do_POST = _handle

            def log_message(self, *args):
                pass

        self.httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}"
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()

    def close(self):
        self.httpd.shutdown()
        self.httpd.server_close()


class RetryTest(unittest.TestCase):
    def test_a_query_cut_before_the_answer_is_sent_once_more(self):
        server = _CuttingServer(cut=1)
        try:
            self.assertEqual(SafetyNetClient(server.url, "sn_x", timeout=5).list_components(), {"items": []})
            self.assertEqual(server.seen, ["GET /api/trpc/component.list", "GET /api/trpc/component.list"])
        finally:
            server.close()

    def test_a_mutation_cut_before_the_answer_is_not_repeated(self):
        server = _CuttingServer(cut=1)
        try:
            with self.assertRaises(SafetyNetError) as raised:
                SafetyNetClient(server.url, "sn_x", timeout=5).rollback("cp_1", "ct_1")
            self.assertIsNone(raised.exception.status)
            self.assertIn("cannot reach", str(raised.exception))
            self.assertEqual(server.seen, ["POST /api/trpc/rollback.execute"])
        finally:
            server.close()

    def test_a_refused_connection_is_retried_for_mutations_too(self):
        self.assertTrue(safetynet_tools._may_retry("POST", ConnectionRefusedError()))
        self.assertFalse(safetynet_tools._may_retry("POST", ConnectionResetError()))
        self.assertTrue(safetynet_tools._may_retry("GET", ConnectionResetError()))



class ToolDefinitionTest(unittest.TestCase):
    """What smolagents needs of each tool class, checked with smolagents' own functions."""

    def setUp(self):
        self.tools = {tool.name: tool for tool in safetynet_tools.safetynet_tools()}

    def test_the_seven_tools_subclass_smolagents_Tool_directly_and_take_no_arguments(self):
        self.assertTrue(safetynet_tools.SMOLAGENTS_AVAILABLE)
        self.assertEqual(sorted(self.tools), sorted(TOOL_NAMES))
        for tool in self.tools.values():
            cls = type(tool)
            self.assertEqual(cls.__bases__, (Tool,), cls.__name__)
            methods = [node.name for node in ast.parse(inspect.getsource(cls).strip()).body[0].body if isinstance(node, ast.FunctionDef)]
            self.assertEqual(methods, ["forward", "_request"], cls.__name__)
        self.assertEqual(sorted(self.tools["rollback"].inputs), ["checkpoint_id", "confirm_token"])

    def test_each_tool_is_self_contained_code(self):
        for tool in self.tools.values():
            exported = tool.to_dict()  # smolagents' validate_tool_attributes runs here
            self.assertEqual(exported["name"], tool.name)
            self.assertEqual(exported["requirements"], ["smolagents"], "only the standard library besides smolagents")
            self.assertNotIn("safetynet_tools", exported["code"])
            self.assertNotIn("SafetyNetClient", exported["code"])

    def test_the_transport_is_the_same_text_in_every_tool(self):
        sources = {inspect.getsource(type(tool)._request) for tool in self.tools.values()}
        self.assertEqual(len(sources), 1)

    def test_array_inputs_say_what_their_items_are(self):
        def arrays(schema):
            if isinstance(schema, dict):
                kinds = schema.get("type") if isinstance(schema.get("type"), list) else [schema.get("type")]
                if "array" in kinds:
                    yield schema
                for value in schema.values():
                    yield from arrays(value)

        found = []
        for tool in self.tools.values():
            for array in arrays(get_tool_json_schema(tool)["function"]["parameters"]):
                self.assertIsInstance(array.get("items"), dict, f"{tool.name}: {array}")
                self.assertIn(array["items"].get("type"), ["string", "integer", "number", "boolean", "object"], f"{tool.name}: {array}")
                found.append(array)
        self.assertEqual(get_tool_json_schema(self.tools["create_checkpoint"])["function"]["parameters"]["properties"]["paths"]["items"], {"type": "string"})
        self.assertEqual(len(found), 1)

    def test_optional_inputs_are_nullable_default_to_None_and_say_optional_in_both_prompts(self):
        optional_seen = 0
        for tool in self.tools.values():
            parameters = inspect.signature(tool.forward).parameters
            function = get_tool_json_schema(tool)["function"]
            code_prompt = tool.to_code_prompt()
            for name, spec in tool.inputs.items():
                optional = spec.get("nullable") is True
                self.assertEqual(parameters[name].default, None if optional else inspect.Parameter.empty, f"{tool.name}.{name}")
                self.assertEqual("optional" in spec["description"].lower(), optional, f"{tool.name}.{name}: {spec['description']}")
                self.assertEqual(name not in function["parameters"]["required"], optional, f"{tool.name}.{name}")
                self.assertIn(f"{name}: {spec['description']}", code_prompt)
                optional_seen += optional
        self.assertIn("paths: (optional) files or folders", self.tools["create_checkpoint"].to_code_prompt())
        self.assertEqual(optional_seen, 8)

    def test_the_remote_executor_code_defines_every_tool_in_a_bare_interpreter(self):
        # -I -S: no site-packages, no PYTHONPATH: neither smolagents nor this module can be imported,
        # and the namespace holds nothing but what the code imports itself (no typing.Optional).
        code = get_tools_definition_code(self.tools)
        listing = "print(sorted(name for name, value in globals().items() if hasattr(value, 'forward') and not isinstance(value, type)))"
        process = fresh_python(["-I", "-S", "-c", "import sys; exec(sys.stdin.read(), {})"], stdin=code + "\n" + listing)
        self.assertEqual(process.returncode, 0, process.stderr)
        self.assertEqual(process.stdout.strip(), repr(sorted(TOOL_NAMES)))

    def test_a_tool_calling_agents_argument_check_refuses_wrong_types_and_missing_inputs(self):
        validate_tool_arguments(self.tools["create_checkpoint"], {"component": "app", "paths": ["src"], "reason": None})
        validate_tool_arguments(self.tools["history"], {})
        with self.assertRaises(TypeError):
            validate_tool_arguments(self.tools["create_checkpoint"], {"component": "app", "paths": "src"})
        with self.assertRaises(TypeError):
            validate_tool_arguments(self.tools["list_checkpoints"], {"limit": "ten"})
        with self.assertRaises(ValueError):
            validate_tool_arguments(self.tools["rollback"], {"checkpoint_id": "cp_1"})
        with self.assertRaises(ValueError):
            validate_tool_arguments(self.tools["plan_rollback"], {"checkpoint_id": "cp_1", "force": True})

    def test_a_call_without_configuration_names_the_missing_variable(self):
        with environment(SAFETYNET_URL=None, SAFETYNET_TOKEN="sn_x"):
            with self.assertRaisesRegex(RuntimeError, "SAFETYNET_URL is not set"):
                self.tools["list_components"]()
        with environment(SAFETYNET_URL="http://127.0.0.1:1", SAFETYNET_TOKEN=None):
            with self.assertRaisesRegex(RuntimeError, "SAFETYNET_TOKEN is not set"):
                self.tools["list_components"]()

    def test_a_tool_query_cut_before_the_answer_is_sent_once_more(self):
        server = _CuttingServer(cut=1)
        try:
            with environment(SAFETYNET_URL=server.url, SAFETYNET_TOKEN="sn_x"):
                self.assertEqual(self.tools["list_components"](), {"items": []})
            self.assertEqual(server.seen, ["GET /api/trpc/component.list", "GET /api/trpc/component.list"])
        finally:
            server.close()

    def test_a_tool_mutation_cut_before_the_answer_is_not_repeated(self):
        server = _CuttingServer(cut=1)
        try:
            with environment(SAFETYNET_URL=server.url, SAFETYNET_TOKEN="sn_x"):
                with self.assertRaisesRegex(RuntimeError, "cannot reach the Safety Net server"):
                    self.tools["rollback"](checkpoint_id="cp_1", confirm_token="ct_1")
            self.assertEqual(server.seen, ["POST /api/trpc/rollback.execute"])
        finally:
            server.close()


# Tools that break one of smolagents' rules each (the stand-in must refuse them as smolagents does).


class _UsesAModuleHelper(Tool):
    name = "uses_a_module_helper"
    description = "calls a function defined beside the class"
    inputs = {}
    output_type = "string"

    def forward(self) -> str:
        return unique("x")


class _TakesAClient(Tool):
    name = "takes_a_client"
    description = "is given its client at construction"
    inputs = {}
    output_type = "string"

    def __init__(self, client):
        super().__init__()
        self.client = client

    def forward(self) -> str:
        return str(self.client)


class _DottedImport(Tool):
    name = "dotted_import"
    description = "imports a submodule and uses it through its package"
    inputs = {}
    output_type = "string"

    def forward(self) -> str:
        import urllib.parse

        return urllib.parse.quote("a b")


class _ListAttribute(Tool):
    name = "list_attribute"
    description = "keeps a list in a class attribute"
    inputs = {}
    output_type = "string"
    choices = ["a", "b"]

    def forward(self) -> str:
        return "a"


class _OptionalHint(Tool):
    name = "optional_hint"
    description = "types an optional argument with typing.Optional"
    inputs = {"text": {"type": "string", "description": "(optional) some text", "nullable": True}}
    output_type = "string"

    def forward(self, text: Optional[str] = None) -> str:
        return text or ""


class _BadName(Tool):
    name = "list-components"
    description = "has a name that is no identifier"
    inputs = {}
    output_type = "string"

    def forward(self) -> str:
        return ""


class _NullableWithoutDefault(Tool):
    name = "nullable_without_default"
    description = "declares an input nullable that forward requires"
    inputs = {"text": {"type": "string", "description": "(optional) some text", "nullable": True}}
    output_type = "string"

    def forward(self, text: str) -> str:
        return text


class _DefaultWithoutNullable(Tool):
    name = "default_without_nullable"
    description = "gives an input a default without declaring it nullable"
    inputs = {"text": {"type": "string", "description": "some text"}}
    output_type = "string"

    def forward(self, text: str = "") -> str:
        return text


class _ParametersDifferFromInputs(Tool):
    name = "parameters_differ"
    description = "takes another parameter than its input"
    inputs = {"text": {"type": "string", "description": "some text"}}
    output_type = "string"

    def forward(self, words: str) -> str:
        return words


class _UnknownInputType(Tool):
    name = "unknown_input_type"
    description = "declares an input type smolagents does not know"
    inputs = {"items": {"type": "list", "description": "some items"}}
    output_type = "string"

    def forward(self, items: list) -> str:
        return ""


class SmolagentsRulesTest(unittest.TestCase):
    """The rules the tools keep: smolagents (or the stand-in) refuses tools that break them."""

    def test_construction_checks_name_inputs_and_forward_signature(self):
        with self.assertRaisesRegex(Exception, "list-components"):
            _BadName()
        with self.assertRaisesRegex(Exception, "(?i)nullable"):
            _NullableWithoutDefault()
        with self.assertRaisesRegex(Exception, "(?i)nullable"):
            _DefaultWithoutNullable()
        with self.assertRaisesRegex(Exception, "forward"):
            _ParametersDifferFromInputs()
        with self.assertRaisesRegex(Exception, "list"):
            _UnknownInputType()

    def test_to_dict_refuses_methods_that_are_not_self_contained(self):
        with self.assertRaisesRegex(ValueError, "unique"):
            _UsesAModuleHelper().to_dict()
        with self.assertRaisesRegex(ValueError, "client"):
            _TakesAClient(client="c").to_dict()
        with self.assertRaisesRegex(ValueError, "urllib"):
            _DottedImport().to_dict()
        with self.assertRaisesRegex(ValueError, "choices"):
            _ListAttribute().to_dict()

    def test_a_typing_Optional_hint_survives_to_dict_but_not_a_remote_executor(self):
        rebuilt = Tool.from_dict(_OptionalHint().to_dict())
        self.assertEqual(rebuilt(text="hi"), "hi")
        self.assertEqual(type(rebuilt).__module__, "dynamic_tool")
        with self.assertRaisesRegex(NameError, "Optional"):
            exec(get_tools_definition_code({"optional_hint": _OptionalHint()}), {})


@unittest.skipUnless(LIVE, SKIP_WHY)
class LiveServerTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.admin = SafetyNetClient(URL, ADMIN_TOKEN)
        cls.component = unique("py")
        cls.root = os.path.join(WORKSPACE, cls.component)
        os.makedirs(cls.root)
        write(cls.root, {"src/app.py": "print('hello')\n", "src/util.py": "def twice(n):\n    return 2 * n\n", "README.md": "# app\n"})
        cls.admin.mutation("component.upsert", {"name": cls.component, "root": cls.root})
        cls.agent_name = unique("py-agent")
        agent = cls.admin.mutation("auth.createToken", {"name": cls.agent_name, "role": "agent", "components": [cls.component]})
        cls.agent = SafetyNetClient(URL, agent["token"])
        viewer = cls.admin.mutation("auth.createToken", {"name": unique("py-viewer"), "role": "viewer"})
        cls.viewer = SafetyNetClient(URL, viewer["token"])

    def test_agent_flow_with_the_plain_functions(self):
        before = hash_tree(self.root)
        created = safetynet_tools.create_checkpoint(self.component, reason="before the agent edits", metadata={"task": "py-1"}, client=self.agent)
        self.assertTrue(created["id"].startswith("cp_"))
        self.assertEqual(created["component"], self.component)
        self.assertEqual(created["files"], 3)
        self.assertRegex(created["manifestSha256"], r"^[0-9a-f]{64}$")
        for key in ("bytes", "newBytes", "durationMs"):
            self.assertIsInstance(created[key], int)

        # The agent goes wrong.
        write(self.root, {"src/app.py": "print('broken')\n", "src/new.py": "x = 1\n"})
        os.remove(os.path.join(self.root, "README.md"))

        listed = safetynet_tools.list_checkpoints(self.component, client=self.agent)
        self.assertIn(created["id"], [c["id"] for c in listed["items"]])

        diff = safetynet_tools.diff_checkpoint(created["id"], text_diff=True, client=self.agent)
        self.assertEqual([e["path"] for e in diff["added"]], ["src/new.py"])
        self.assertEqual([e["path"] for e in diff["modified"]], ["src/app.py"])
        self.assertIn("+print('broken')", diff["modified"][0]["patch"])
        self.assertEqual([e["path"] for e in diff["deleted"]], ["README.md"])

        plan = safetynet_tools.plan_rollback(created["id"], client=self.agent)
        self.assertEqual(sorted(r["path"] for r in plan["restore"]), ["README.md", "src/app.py"])
        self.assertEqual([d["path"] for d in plan["delete"]], ["src/new.py"])
        self.assertTrue(plan["confirmToken"].startswith("ct_"))

        result = safetynet_tools.rollback(created["id"], plan["confirmToken"], client=self.agent)
        self.assertEqual(result["outcome"], "succeeded")
        self.assertEqual((result["restored"], result["deleted"]), (2, 1))
        self.assertTrue(result["safetyCheckpointId"].startswith("cp_"))
        self.assertEqual(hash_tree(self.root), before)

        # The token is single-use.
        with self.assertRaises(SafetyNetError) as reused:
            safetynet_tools.rollback(created["id"], plan["confirmToken"], client=self.agent)
        self.assertEqual(reused.exception.status, 400)
        self.assertEqual(reused.exception.field, "confirmToken")
        self.assertIn("already used", reused.exception.message)

        # Newest first: the refused second use (history records refusals too), then the rollback.
        events = safetynet_tools.history(self.component, kind="rollback", client=self.agent)["items"]
        self.assertEqual([e["outcome"] for e in events], ["failed", "succeeded"])
        self.assertIn("already used", events[0]["error"])
        self.assertEqual({e["actor"] for e in events}, {f"token:{self.agent_name}"})

    def test_environment_configures_the_default_client(self):
        saved = {k: os.environ.get(k) for k in ("SAFETYNET_URL", "SAFETYNET_TOKEN")}
        os.environ["SAFETYNET_URL"], os.environ["SAFETYNET_TOKEN"] = URL, self.agent.token
        safetynet_tools._default_client = None
        try:
            components = safetynet_tools.list_components()["items"]
            self.assertEqual([c["name"] for c in components], [self.component])  # the token's scope
        finally:
            safetynet_tools._default_client = None
            for k, v in saved.items():
                if v is None:
                    os.environ.pop(k, None)
                else:
                    os.environ[k] = v

    def test_refusals_carry_the_status_and_the_message(self):
        with self.assertRaises(SafetyNetError) as bad_token:
            self.agent.rollback("cp_doesnotexist", "ct_made-up")
        self.assertEqual(bad_token.exception.status, 404)

        checkpoint = self.agent.create_checkpoint(self.component, reason="for refusals")
        with self.assertRaises(SafetyNetError) as unknown_token:
            self.agent.rollback(checkpoint["id"], "ct_made-up")
        self.assertEqual(unknown_token.exception.status, 400)
        self.assertIn("confirmToken refused", unknown_token.exception.message)

        with self.assertRaises(SafetyNetError) as dotdot:
            self.agent.create_checkpoint(self.component, paths=["../outside.txt"])
        self.assertEqual(dotdot.exception.status, 400)
        self.assertIn("..", dotdot.exception.message)

        with self.assertRaises(SafetyNetError) as no_databases:
            self.agent.create_checkpoint(self.component, include_db=True)
        self.assertEqual(no_databases.exception.status, 400)
        self.assertEqual(no_databases.exception.field, "includeDb")
        self.assertIn("has no database targets", no_databases.exception.message)

        with self.assertRaises(SafetyNetError) as forbidden:
            self.viewer.create_checkpoint(self.component)
        self.assertEqual(forbidden.exception.status, 403)
        self.assertEqual(forbidden.exception.code, "FORBIDDEN")

        with self.assertRaises(SafetyNetError) as out_of_scope:
            self.agent.list_checkpoints("some-other-component")
        self.assertEqual(out_of_scope.exception.status, 403)

        with self.assertRaises(SafetyNetError) as unauthenticated:
            SafetyNetClient(URL, "sn_not-a-token").list_checkpoints()
        self.assertEqual(unauthenticated.exception.status, 401)
        self.assertIn("HTTP 401", str(unauthenticated.exception))



@unittest.skipUnless(LIVE, SKIP_WHY)
class ToolsAgainstTheServerTest(unittest.TestCase):
    """checkpoint -> the agent breaks files -> diff -> plan -> rollback, with the tools as smolagents runs them."""

    def setUp(self):
        admin = SafetyNetClient(URL, ADMIN_TOKEN)
        self.component = unique("pytool")
        self.root = os.path.join(WORKSPACE, self.component)
        os.makedirs(self.root)
        write(self.root, {"src/app.py": "print('hello')\n", "src/util.py": "def twice(n):\n    return 2 * n\n", "README.md": "# app\n"})
        admin.mutation("component.upsert", {"name": self.component, "root": self.root})
        self.agent_name = unique("pytool-agent")
        agent = admin.mutation("auth.createToken", {"name": self.agent_name, "role": "agent", "components": [self.component]})
        self.agent_env = {"SAFETYNET_URL": URL, "SAFETYNET_TOKEN": agent["token"]}
        self.tools = {tool.name: tool for tool in safetynet_tools.safetynet_tools()}

    def run_agent_flow(self, call) -> None:
        """Every tool once, in the order an agent uses them; `call(tool_name, arguments)` makes one tool call."""
        before = hash_tree(self.root)
        created = call("create_checkpoint", {"component": self.component, "paths": ["src"], "reason": "before the agent edits"})
        self.assertTrue(created["id"].startswith("cp_"))
        self.assertEqual((created["component"], created["files"]), (self.component, 2))

        write(self.root, {"src/app.py": "print('broken')\n", "src/new.py": "x = 1\n"})  # the agent goes wrong

        changes = call("diff_checkpoint", {"checkpoint_id": created["id"], "text_diff": True})
        self.assertEqual([entry["path"] for entry in changes["modified"]], ["src/app.py"])
        self.assertIn("+print('broken')", changes["modified"][0]["patch"])
        self.assertEqual([entry["path"] for entry in changes["added"]], ["src/new.py"])

        plan = call("plan_rollback", {"checkpoint_id": created["id"]})
        self.assertEqual([entry["path"] for entry in plan["restore"]], ["src/app.py"])
        self.assertEqual([entry["path"] for entry in plan["delete"]], ["src/new.py"])
        self.assertTrue(plan["confirmToken"].startswith("ct_"))

        result = call("rollback", {"checkpoint_id": created["id"], "confirm_token": plan["confirmToken"]})
        self.assertEqual((result["outcome"], result["restored"], result["deleted"]), ("succeeded", 1, 1))
        self.assertEqual(hash_tree(self.root), before)

        with self.assertRaises(Exception) as reused:  # a confirm token works once
            call("rollback", {"checkpoint_id": created["id"], "confirm_token": plan["confirmToken"]})
        self.assertIn("already used", str(reused.exception))
        self.assertIn("HTTP 400 BAD_REQUEST, field confirmToken", str(reused.exception))

        events = call("history", {"component": self.component, "kind": "rollback"})["items"]
        self.assertEqual([event["outcome"] for event in events], ["failed", "succeeded"])
        self.assertEqual({event["actor"] for event in events}, {f"token:{self.agent_name}"})
        checkpoints = call("list_checkpoints", {"component": self.component, "limit": 5})["items"]
        self.assertEqual({checkpoint["id"] for checkpoint in checkpoints}, {created["id"], result["safetyCheckpointId"]})
        self.assertEqual([component["name"] for component in call("list_components", {})["items"]], [self.component])

    def test_as_a_tool_calling_agent_calls_them(self):
        def call(name: str, arguments: dict):
            tool = self.tools[name]
            validate_tool_arguments(tool, arguments)
            return tool(**arguments, sanitize_inputs_outputs=True)

        with environment(**self.agent_env):
            self.run_agent_flow(call)

    def test_rebuilt_with_from_dict_of_to_dict(self):
        rebuilt = {name: Tool.from_dict(tool.to_dict()) for name, tool in self.tools.items()}
        for name, tool in rebuilt.items():
            self.assertEqual(type(tool).__module__, "dynamic_tool", name)

        with environment(**self.agent_env):
            self.run_agent_flow(lambda name, arguments: rebuilt[name](**arguments))

    def test_saved_with_save_and_imported_from_tool_py_by_a_fresh_interpreter(self):
        folders = {}
        with tempfile.TemporaryDirectory() as saved:
            for name, tool in self.tools.items():
                folders[name] = os.path.join(saved, name)
                tool.save(folders[name])
                with open(os.path.join(folders[name], "requirements.txt"), encoding="utf-8") as f:
                    self.assertEqual(f.read().split(), ["smolagents"])

            def call(name: str, arguments: dict):
                # Only smolagents on the path: tool.py must not need safetynet_tools.
                program = "import tool\n" + CALL_AND_PRINT.format(call=f"tool.{type(self.tools[name]).__name__}()(**_json.loads({json.dumps(arguments)!r}))")
                return answer_of(fresh_python(["-c", program], cwd=folders[name], pythonpath=SMOLAGENTS_HOME, env=self.agent_env))

            self.run_agent_flow(call)

    def test_defined_by_the_remote_executor_code_in_a_bare_interpreter(self):
        definitions = get_tools_definition_code(self.tools)

        def call(name: str, arguments: dict):
            # As the remote executors (docker, e2b, modal, blaxel) run it: the definitions, then the agent's code, in one namespace.
            program = definitions + "\n" + CALL_AND_PRINT.format(call=f"{name}(**_json.loads({json.dumps(arguments)!r}))")
            return answer_of(fresh_python(["-I", "-S", "-c", "import sys; exec(sys.stdin.read(), {})"], stdin=program, env=self.agent_env))

        self.run_agent_flow(call)


if __name__ == "__main__":
    unittest.main()
