"""Drives a REAL running Safety Net server through safetynet_tools.

Needs SAFETYNET_URL, SAFETYNET_TOKEN (an admin token: the test registers its own
component and makes agent and viewer tokens) and SAFETYNET_TEST_WORKSPACE (a
directory inside the server's SAFETYNET_ALLOWED_ROOTS). test/http/smolagents.test.ts
runs it against the HTTP test server:

    python3 -m unittest agents/smolagents/test_safetynet_tools.py

smolagents is not needed: the plain functions are tested against the server, and
the Tool subclasses against a minimal stand-in for smolagents.Tool that checks
what smolagents checks (inputs match forward's parameters, allowed types,
nullable inputs have defaults).
"""

import hashlib
import importlib
import inspect
import os
import sys
import time
import types
import unittest
from typing import Optional, get_type_hints

HERE = os.path.dirname(os.path.abspath(__file__))
if HERE not in sys.path:
    sys.path.insert(0, HERE)

import safetynet_tools  # noqa: E402
from safetynet_tools import SafetyNetClient, SafetyNetError  # noqa: E402

URL = os.environ.get("SAFETYNET_URL")
ADMIN_TOKEN = os.environ.get("SAFETYNET_TOKEN")
WORKSPACE = os.environ.get("SAFETYNET_TEST_WORKSPACE")
LIVE = bool(URL and ADMIN_TOKEN and WORKSPACE)
SKIP_WHY = "set SAFETYNET_URL, SAFETYNET_TOKEN (admin) and SAFETYNET_TEST_WORKSPACE to run against a server"

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


class ImportWithoutSmolagentsTest(unittest.TestCase):
    def test_module_imports_and_offers_plain_functions(self):
        try:
            import smolagents  # noqa: F401

            installed = True
        except ImportError:
            installed = False
        self.assertEqual(safetynet_tools.SMOLAGENTS_AVAILABLE, installed)
        for name in ["create_checkpoint", "list_checkpoints", "diff_checkpoint", "plan_rollback", "rollback", "history", "list_components"]:
            self.assertTrue(callable(getattr(safetynet_tools, name)), name)
        if not installed:
            self.assertFalse(hasattr(safetynet_tools, "CreateCheckpointTool"))
            with self.assertRaises(ImportError):
                safetynet_tools.safetynet_tools()

    def test_client_needs_url_and_token(self):
        saved = {k: os.environ.pop(k, None) for k in ("SAFETYNET_URL", "SAFETYNET_TOKEN")}
        try:
            with self.assertRaisesRegex(SafetyNetError, "SAFETYNET_URL"):
                SafetyNetClient()
            with self.assertRaisesRegex(SafetyNetError, "SAFETYNET_TOKEN"):
                SafetyNetClient("http://127.0.0.1:1")
        finally:
            for k, v in saved.items():
                if v is not None:
                    os.environ[k] = v
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


class _StubTool:
    """What smolagents.Tool checks on construction (smolagents is not installed here)."""

    AUTHORIZED_TYPES = {"string", "boolean", "integer", "number", "image", "audio", "array", "object", "any", "null"}
    HINT_TYPES = {str: "string", bool: "boolean", int: "integer", float: "number", list: "array", dict: "object"}

    def __init__(self, *args, **kwargs):
        for attribute, kind in (("name", str), ("description", str), ("inputs", dict), ("output_type", str)):
            assert isinstance(getattr(self, attribute, None), kind), f"{type(self).__name__}.{attribute} must be a {kind.__name__}"
        assert self.output_type in self.AUTHORIZED_TYPES, self.output_type
        parameters = inspect.signature(self.forward).parameters
        assert set(parameters) == set(self.inputs), f"{self.name}: forward({', '.join(parameters)}) does not match inputs {sorted(self.inputs)}"
        hints = get_type_hints(self.forward)
        for key, spec in self.inputs.items():
            assert spec["type"] in self.AUTHORIZED_TYPES and spec.get("description"), f"{self.name}.{key}"
            hint = hints.get(key)
            args = getattr(hint, "__args__", None)
            base = next((a for a in args if a is not type(None)), hint) if args else hint
            assert self.HINT_TYPES.get(base) == spec["type"], f"{self.name}.{key}: hint {hint} vs {spec['type']}"
            if spec.get("nullable"):
                assert parameters[key].default is None, f"{self.name}.{key} is nullable but has no default"
            else:
                assert parameters[key].default is inspect.Parameter.empty, f"{self.name}.{key} has a default but is not nullable"

    def __call__(self, *args, **kwargs):
        return self.forward(*args, **kwargs)


class ToolsWithSmolagentsStandInTest(unittest.TestCase):
    def setUp(self):
        self.saved = sys.modules.get("smolagents")
        sys.modules["smolagents"] = types.SimpleNamespace(Tool=_StubTool)
        self.module = importlib.reload(safetynet_tools)

    def tearDown(self):
        if self.saved is None:
            sys.modules.pop("smolagents", None)
        else:
            sys.modules["smolagents"] = self.saved
        importlib.reload(safetynet_tools)

    def test_tool_classes_are_valid_and_complete(self):
        self.assertTrue(self.module.SMOLAGENTS_AVAILABLE)
        tools = self.module.safetynet_tools(client=SafetyNetClient("http://127.0.0.1:1", "sn_x"))
        self.assertEqual(
            sorted(t.name for t in tools),
            sorted(["list_components", "create_checkpoint", "list_checkpoints", "diff_checkpoint", "plan_rollback", "rollback", "history"]),
        )
        rollback_tool = next(t for t in tools if t.name == "rollback")
        self.assertEqual(sorted(rollback_tool.inputs), ["checkpoint_id", "confirm_token"])
        self.assertNotIn("nullable", rollback_tool.inputs["confirm_token"])

    @unittest.skipUnless(LIVE, SKIP_WHY)
    def test_tools_call_the_server(self):
        admin = SafetyNetClient(URL, ADMIN_TOKEN)
        component = unique("pytool")
        root = os.path.join(WORKSPACE, component)
        os.makedirs(root)
        write(root, {"a.txt": "original\n"})
        admin.mutation("component.upsert", {"name": component, "root": root})
        tools = {t.name: t for t in self.module.safetynet_tools(client=admin)}

        created = tools["create_checkpoint"](component=component, reason="via the Tool")
        write(root, {"a.txt": "broken\n"})
        self.assertEqual([e["path"] for e in tools["diff_checkpoint"](checkpoint_id=created["id"])["modified"]], ["a.txt"])
        plan = tools["plan_rollback"](checkpoint_id=created["id"])
        self.assertEqual(tools["rollback"](checkpoint_id=created["id"], confirm_token=plan["confirmToken"])["outcome"], "succeeded")
        with open(os.path.join(root, "a.txt"), encoding="utf-8") as f:
            self.assertEqual(f.read(), "original\n")
        self.assertEqual([h["kind"] for h in tools["history"](component=component, kind="rollback")["items"]], ["rollback"])
        self.assertIn(created["id"], [c["id"] for c in tools["list_checkpoints"](component=component)["items"]])
        self.assertIn(component, [c["name"] for c in tools["list_components"]()["items"]])


if __name__ == "__main__":
    unittest.main()
