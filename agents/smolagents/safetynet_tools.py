"""Safety Net tools for Python agents (smolagents or anything else).

Checkpoint a component before an agent changes it, see what changed, and roll it
back with a confirmation -- over the Safety Net HTTP API (tRPC, plain JSON). Only
the Python standard library is used for HTTP (urllib.request, json).

    from safetynet_tools import SafetyNetClient
    sn = SafetyNetClient("http://127.0.0.1:3000", "sn_...")   # or SAFETYNET_URL / SAFETYNET_TOKEN
    cp = sn.create_checkpoint("my-app", reason="before the refactor")
    ...                                                       # the agent works
    plan = sn.plan_rollback(cp["id"])
    sn.rollback(cp["id"], plan["confirmToken"])

The module-level functions (create_checkpoint, list_checkpoints, diff_checkpoint,
plan_rollback, rollback, history, list_components) do the same with a client made
from SAFETYNET_URL and SAFETYNET_TOKEN (or the `client=` you pass).

When `smolagents` is importable, Tool subclasses call the same procedures
(CreateCheckpointTool, ListCheckpointsTool, DiffCheckpointTool, PlanRollbackTool,
RollbackTool, HistoryTool, ListComponentsTool); `safetynet_tools()` returns one of
each. They read SAFETYNET_URL and SAFETYNET_TOKEN at each call, and each class is
self-contained, so smolagents can save it (`tool.save(dir)` writes a tool.py that
imports on its own), rebuild it (`Tool.from_dict(tool.to_dict())`) and send it to
a remote executor (docker, e2b, modal, blaxel):

    from smolagents import CodeAgent
    agent = CodeAgent(tools=safetynet_tools(), model=model)

Without smolagents only the client and the plain functions exist
(SMOLAGENTS_AVAILABLE is False).
"""

import http.client
import json
import os
import urllib.error
import urllib.parse
import urllib.request
from typing import Any, Dict, List, Optional

__all__ = [
    "SafetyNetError",
    "SafetyNetClient",
    "SMOLAGENTS_AVAILABLE",
    "create_checkpoint",
    "list_checkpoints",
    "diff_checkpoint",
    "plan_rollback",
    "rollback",
    "history",
    "list_components",
    "safetynet_tools",
]


class SafetyNetError(Exception):
    """A refused or failed API call.

    status: the HTTP status (400 bad input, 401 no or bad token, 403 role or scope,
    404 unknown id, 409 component busy, 422 stored copy damaged, 500 failure),
    or None when the server could not be reached.
    code: tRPC's code (BAD_REQUEST, ...); field: the input field at fault, if any;
    data: the whole error data object the server sent.
    """

    def __init__(self, message: str, status: Optional[int] = None, code: Optional[str] = None, field: Optional[str] = None, data: Optional[Dict[str, Any]] = None):
        super().__init__(message)
        self.message = message
        self.status = status
        self.code = code
        self.field = field
        self.data = data or {}

    def __str__(self) -> str:
        return f"{self.message} (HTTP {self.status})" if self.status is not None else self.message


def _reason(error: BaseException) -> Any:
    return error.reason if isinstance(error, urllib.error.URLError) else error


def _may_retry(method: str, error: BaseException) -> bool:
    """Whether a request that failed before any response may be sent again.

    A query (GET) changes nothing, so always. A mutation (POST) only when the
    connection was refused: then the server cannot have seen it. A connection
    closed or reset after the request went out may have reached the server, so a
    mutation is never repeated then (a rollback must not run twice).
    """
    if method in ("GET", "HEAD"):
        return True
    return isinstance(_reason(error), ConnectionRefusedError)


def _drop_none(values: Dict[str, Any]) -> Dict[str, Any]:
    return {key: value for key, value in values.items() if value is not None}


class SafetyNetClient:
    """Calls the tRPC procedures: queries are GET with ?input=<JSON>, mutations POST a JSON body."""

    def __init__(self, base_url: Optional[str] = None, token: Optional[str] = None, timeout: float = 600.0):
        base_url = base_url or os.environ.get("SAFETYNET_URL")
        token = token or os.environ.get("SAFETYNET_TOKEN")
        if not base_url:
            raise SafetyNetError("no server URL: pass base_url or set SAFETYNET_URL (e.g. http://127.0.0.1:3000)")
        if not token:
            raise SafetyNetError("no API token: pass token or set SAFETYNET_TOKEN (`npx safetynet token create <name> --role agent`)")
        base = base_url.rstrip("/")
        self.endpoint = base if base.endswith("/api/trpc") else base + "/api/trpc"
        self.token = token
        self.timeout = timeout

    # -- transport -----------------------------------------------------------

    def query(self, procedure: str, input: Optional[Dict[str, Any]] = None) -> Any:
        """A tRPC query (read): GET /api/trpc/<procedure>?input=<url-encoded JSON>."""
        url = f"{self.endpoint}/{procedure}"
        if input is not None:
            url += "?" + urllib.parse.urlencode({"input": json.dumps(input)})
        return self._send(urllib.request.Request(url, method="GET"))

    def mutation(self, procedure: str, input: Optional[Dict[str, Any]] = None) -> Any:
        """A tRPC mutation (change): POST /api/trpc/<procedure> with the input as JSON body."""
        body = json.dumps(input if input is not None else {}).encode("utf-8")
        request = urllib.request.Request(f"{self.endpoint}/{procedure}", data=body, method="POST")
        request.add_header("Content-Type", "application/json")
        return self._send(request)

    def _send(self, request: urllib.request.Request) -> Any:
        request.add_header("Authorization", f"Bearer {self.token}")
        request.add_header("Accept", "application/json")
        try:
            return self._send_once(request)
        except (urllib.error.URLError, http.client.HTTPException, ConnectionError) as error:
            # Failed before any response: send it once more when that is safe (see _may_retry).
            if not _may_retry(request.get_method(), error):
                raise SafetyNetError(f"cannot reach the Safety Net server at {self.endpoint}: {_reason(error)}") from error
        try:
            return self._send_once(request)
        except (urllib.error.URLError, http.client.HTTPException, ConnectionError) as error:
            raise SafetyNetError(f"cannot reach the Safety Net server at {self.endpoint}: {_reason(error)}") from error

    def _send_once(self, request: urllib.request.Request) -> Any:
        try:
            with urllib.request.urlopen(request, timeout=self.timeout) as response:
                return self._parse(response.status, response.read())
        except urllib.error.HTTPError as error:
            return self._parse(error.code, error.read())

    @staticmethod
    def _parse(status: int, raw: bytes) -> Any:
        try:
            body = json.loads(raw.decode("utf-8"))
        except (UnicodeDecodeError, ValueError):
            raise SafetyNetError(f"the server did not answer with JSON (HTTP {status}): {raw[:200]!r}", status=status)
        if isinstance(body, dict) and "error" in body:
            error = body["error"] or {}
            data = error.get("data") or {}
            raise SafetyNetError(
                error.get("message") or "request failed",
                status=data.get("httpStatus", status),
                code=data.get("code"),
                field=data.get("field"),
                data=data,
            )
        if status >= 400 or not isinstance(body, dict) or "result" not in body:
            raise SafetyNetError(f"unexpected response (HTTP {status}): {str(body)[:200]}", status=status)
        return (body["result"] or {}).get("data")

    # -- procedures an agent needs --------------------------------------------

    def list_components(self) -> Dict[str, Any]:
        """{items: [{name, root, metadata, checkpoints, lastCheckpointAt, ...}]}"""
        return self.query("component.list")

    def create_checkpoint(
        self,
        component: str,
        paths: Optional[List[str]] = None,
        reason: Optional[str] = None,
        metadata: Optional[Dict[str, Any]] = None,
        agent: Optional[str] = None,
        task: Optional[str] = None,
        retention_days: Optional[int] = None,
        pinned: Optional[bool] = None,
        include_db: Optional[bool] = None,
    ) -> Dict[str, Any]:
        """Checkpoint a component (or only `paths` and their related files; with include_db, its databases too). Returns {id, component, files, bytes, newBytes, durationMs, manifestSha256, databases, ...}."""
        return self.mutation(
            "checkpoint.create",
            _drop_none(
                {
                    "component": component,
                    "paths": paths,
                    "reason": reason,
                    "metadata": metadata,
                    "agent": agent,
                    "task": task,
                    "retentionDays": retention_days,
                    "pinned": pinned,
                    "includeDb": include_db,
                }
            ),
        )

    def list_checkpoints(self, component: Optional[str] = None, limit: Optional[int] = None, cursor: Optional[str] = None) -> Dict[str, Any]:
        """Checkpoints newest first: {items, nextCursor}."""
        return self.query("checkpoint.list", _drop_none({"component": component, "limit": limit, "cursor": cursor}))

    def diff_checkpoint(self, checkpoint_id: str, text_diff: bool = False) -> Dict[str, Any]:
        """What changed since the checkpoint: {added, modified, deleted, modeChanged, typeChanged, unchanged}."""
        return self.query("checkpoint.diff", _drop_none({"id": checkpoint_id, "textDiff": text_diff or None}))

    def plan_rollback(self, checkpoint_id: str) -> Dict[str, Any]:
        """The rollback plan {restore, delete, unchanged, ...} and the confirmToken rollback() needs (single-use, expires)."""
        return self.mutation("rollback.plan", {"checkpointId": checkpoint_id})

    def rollback(self, checkpoint_id: str, confirm_token: str) -> Dict[str, Any]:
        """Roll back as planned: {rollbackId, outcome, durationMs, restored, deleted, safetyCheckpointId, ...}."""
        return self.mutation("rollback.execute", {"checkpointId": checkpoint_id, "confirmToken": confirm_token})

    def history(
        self,
        component: Optional[str] = None,
        kind: Optional[str] = None,
        outcome: Optional[str] = None,
        actor: Optional[str] = None,
        limit: Optional[int] = None,
        cursor: Optional[str] = None,
    ) -> Dict[str, Any]:
        """The audit history, newest first: {items, nextCursor}."""
        return self.query(
            "history.list",
            _drop_none({"component": component, "kind": kind, "outcome": outcome, "actor": actor, "limit": limit, "cursor": cursor}),
        )


# -- plain functions ------------------------------------------------------------

_default_client: Optional[SafetyNetClient] = None


def _client(client: Optional[SafetyNetClient]) -> SafetyNetClient:
    global _default_client
    if client is not None:
        return client
    if _default_client is None:
        _default_client = SafetyNetClient()
    return _default_client


def list_components(client: Optional[SafetyNetClient] = None) -> Dict[str, Any]:
    return _client(client).list_components()


def create_checkpoint(component: str, paths: Optional[List[str]] = None, reason: Optional[str] = None, metadata: Optional[Dict[str, Any]] = None, client: Optional[SafetyNetClient] = None) -> Dict[str, Any]:
    return _client(client).create_checkpoint(component, paths=paths, reason=reason, metadata=metadata)


def list_checkpoints(component: Optional[str] = None, limit: Optional[int] = None, cursor: Optional[str] = None, client: Optional[SafetyNetClient] = None) -> Dict[str, Any]:
    return _client(client).list_checkpoints(component, limit=limit, cursor=cursor)


def diff_checkpoint(checkpoint_id: str, text_diff: bool = False, client: Optional[SafetyNetClient] = None) -> Dict[str, Any]:
    return _client(client).diff_checkpoint(checkpoint_id, text_diff=text_diff)


def plan_rollback(checkpoint_id: str, client: Optional[SafetyNetClient] = None) -> Dict[str, Any]:
    return _client(client).plan_rollback(checkpoint_id)


def rollback(checkpoint_id: str, confirm_token: str, client: Optional[SafetyNetClient] = None) -> Dict[str, Any]:
    return _client(client).rollback(checkpoint_id, confirm_token)


def history(component: Optional[str] = None, kind: Optional[str] = None, outcome: Optional[str] = None, limit: Optional[int] = None, client: Optional[SafetyNetClient] = None) -> Dict[str, Any]:
    return _client(client).history(component, kind=kind, outcome=outcome, limit=limit)


# -- smolagents tools -------------------------------------------------------------
#
# smolagents rebuilds a Tool from its class's own source (Tool.save, to_dict/from_dict,
# the remote executors: docker, e2b, modal, blaxel), without this module around it.
# So each class below subclasses smolagents.Tool directly, has no __init__, keeps its
# configuration in the environment (SAFETYNET_URL, SAFETYNET_TOKEN, read at each
# call), imports what it needs inside its methods, and uses builtin type hints only
# (the code the remote executors run has no `typing` names but Any).

try:
    from smolagents import Tool  # type: ignore[import-not-found]

    SMOLAGENTS_AVAILABLE = True
except ImportError:  # smolagents is optional: the client and functions work without it
    SMOLAGENTS_AVAILABLE = False


def safetynet_tools() -> list:
    """One instance of each Safety Net Tool; they call the server at SAFETYNET_URL with SAFETYNET_TOKEN."""
    if not SMOLAGENTS_AVAILABLE:
        raise ImportError("smolagents is not installed (pip install smolagents); use SafetyNetClient or the plain functions instead")
    return [tool_class() for tool_class in TOOL_CLASSES]


TOOL_CLASSES: list = []

if SMOLAGENTS_AVAILABLE:

    class ListComponentsTool(Tool):
        name = "list_components"
        description = "List the components Safety Net protects (name, root directory, metadata, number of checkpoints). Other tools take a component's name."
        inputs = {}
        output_type = "object"

        def forward(self) -> dict:
            return self._request("GET", "component.list", {})

        def _request(self, method: str, procedure: str, payload: dict) -> dict:
            # Every import is here, not at module level: smolagents copies a Tool class's
            # methods alone (save, to_dict, remote executors), so they may use nothing else
            # from this file. Each tool class carries the same copy of this method.
            import json
            import os
            from http.client import HTTPException
            from urllib.error import HTTPError, URLError
            from urllib.parse import urlencode
            from urllib.request import Request, urlopen

            base_url = os.environ.get("SAFETYNET_URL", "").strip().rstrip("/")
            token = os.environ.get("SAFETYNET_TOKEN", "").strip()
            if not base_url:
                raise RuntimeError("SAFETYNET_URL is not set: set it to the Safety Net server's URL, e.g. http://127.0.0.1:3000")
            if not token:
                raise RuntimeError("SAFETYNET_TOKEN is not set: set it to an API token (npx safetynet token create <name> --role agent)")
            endpoint = base_url if base_url.endswith("/api/trpc") else base_url + "/api/trpc"
            if method == "GET":
                request = Request(f"{endpoint}/{procedure}?{urlencode({'input': json.dumps(payload)})}", method="GET")
            else:
                request = Request(f"{endpoint}/{procedure}", data=json.dumps(payload).encode("utf-8"), method="POST")
                request.add_header("Content-Type", "application/json")
            request.add_header("Authorization", f"Bearer {token}")
            request.add_header("Accept", "application/json")
            for attempt in (1, 2):
                try:
                    with urlopen(request, timeout=600) as response:
                        status, raw = response.status, response.read()
                    break
                except HTTPError as error:
                    status, raw = error.code, error.read()
                    break
                except (URLError, HTTPException, ConnectionError) as error:
                    reason = error.reason if isinstance(error, URLError) else error
                    # No answer came. A query changes nothing, so it is sent once more; a mutation
                    # only when the connection was refused: then the server cannot have seen it.
                    if attempt == 2 or not (method == "GET" or isinstance(reason, ConnectionRefusedError)):
                        raise RuntimeError(f"cannot reach the Safety Net server at {endpoint}: {reason}") from error
            try:
                body = json.loads(raw.decode("utf-8"))
            except ValueError:
                raise RuntimeError(f"the Safety Net server did not answer with JSON (HTTP {status}): {raw[:200]!r}") from None
            if isinstance(body, dict) and "error" in body:
                data = (body["error"] or {}).get("data") or {}
                field = f", field {data['field']}" if data.get("field") else ""
                message = (body["error"] or {}).get("message") or "request failed"
                raise RuntimeError(f"{message} (HTTP {data.get('httpStatus', status)} {data.get('code') or ''}{field})")
            if status >= 400 or not isinstance(body, dict) or "result" not in body:
                raise RuntimeError(f"unexpected answer from the Safety Net server (HTTP {status}): {str(body)[:200]}")
            return (body["result"] or {}).get("data")

    class CreateCheckpointTool(Tool):
        name = "create_checkpoint"
        description = (
            "Checkpoint a component BEFORE changing it: stores its files (or only `paths` plus related tests and imports). "
            "Returns a dict with the checkpoint `id` (keep it to diff or roll back), files, bytes and manifestSha256."
        )
        inputs = {
            "component": {"type": "string", "description": "the component's name"},
            "paths": {
                "type": "array",
                "items": {"type": "string"},
                "description": "(optional) files or folders relative to the component root; omit for the whole component",
                "nullable": True,
            },
            "reason": {"type": "string", "description": "(optional) why the checkpoint is taken", "nullable": True},
        }
        output_type = "object"

        def forward(self, component: str, paths: list[str] | None = None, reason: str | None = None) -> dict:
            payload = {"component": component, "paths": paths, "reason": reason}
            return self._request("POST", "checkpoint.create", {key: value for key, value in payload.items() if value is not None})

        def _request(self, method: str, procedure: str, payload: dict) -> dict:
            # Every import is here, not at module level: smolagents copies a Tool class's
            # methods alone (save, to_dict, remote executors), so they may use nothing else
            # from this file. Each tool class carries the same copy of this method.
            import json
            import os
            from http.client import HTTPException
            from urllib.error import HTTPError, URLError
            from urllib.parse import urlencode
            from urllib.request import Request, urlopen

            base_url = os.environ.get("SAFETYNET_URL", "").strip().rstrip("/")
            token = os.environ.get("SAFETYNET_TOKEN", "").strip()
            if not base_url:
                raise RuntimeError("SAFETYNET_URL is not set: set it to the Safety Net server's URL, e.g. http://127.0.0.1:3000")
            if not token:
                raise RuntimeError("SAFETYNET_TOKEN is not set: set it to an API token (npx safetynet token create <name> --role agent)")
            endpoint = base_url if base_url.endswith("/api/trpc") else base_url + "/api/trpc"
            if method == "GET":
                request = Request(f"{endpoint}/{procedure}?{urlencode({'input': json.dumps(payload)})}", method="GET")
            else:
                request = Request(f"{endpoint}/{procedure}", data=json.dumps(payload).encode("utf-8"), method="POST")
                request.add_header("Content-Type", "application/json")
            request.add_header("Authorization", f"Bearer {token}")
            request.add_header("Accept", "application/json")
            for attempt in (1, 2):
                try:
                    with urlopen(request, timeout=600) as response:
                        status, raw = response.status, response.read()
                    break
                except HTTPError as error:
                    status, raw = error.code, error.read()
                    break
                except (URLError, HTTPException, ConnectionError) as error:
                    reason = error.reason if isinstance(error, URLError) else error
                    # No answer came. A query changes nothing, so it is sent once more; a mutation
                    # only when the connection was refused: then the server cannot have seen it.
                    if attempt == 2 or not (method == "GET" or isinstance(reason, ConnectionRefusedError)):
                        raise RuntimeError(f"cannot reach the Safety Net server at {endpoint}: {reason}") from error
            try:
                body = json.loads(raw.decode("utf-8"))
            except ValueError:
                raise RuntimeError(f"the Safety Net server did not answer with JSON (HTTP {status}): {raw[:200]!r}") from None
            if isinstance(body, dict) and "error" in body:
                data = (body["error"] or {}).get("data") or {}
                field = f", field {data['field']}" if data.get("field") else ""
                message = (body["error"] or {}).get("message") or "request failed"
                raise RuntimeError(f"{message} (HTTP {data.get('httpStatus', status)} {data.get('code') or ''}{field})")
            if status >= 400 or not isinstance(body, dict) or "result" not in body:
                raise RuntimeError(f"unexpected answer from the Safety Net server (HTTP {status}): {str(body)[:200]}")
            return (body["result"] or {}).get("data")

    class ListCheckpointsTool(Tool):
        name = "list_checkpoints"
        description = "List checkpoints newest first (optionally of one component): a dict with `items` (id, component, createdAt, reason, files, ...) and `nextCursor`."
        inputs = {
            "component": {"type": "string", "description": "(optional) only this component", "nullable": True},
            "limit": {"type": "integer", "description": "(optional) how many, default 50", "nullable": True},
        }
        output_type = "object"

        def forward(self, component: str | None = None, limit: int | None = None) -> dict:
            payload = {"component": component, "limit": limit}
            return self._request("GET", "checkpoint.list", {key: value for key, value in payload.items() if value is not None})

        def _request(self, method: str, procedure: str, payload: dict) -> dict:
            # Every import is here, not at module level: smolagents copies a Tool class's
            # methods alone (save, to_dict, remote executors), so they may use nothing else
            # from this file. Each tool class carries the same copy of this method.
            import json
            import os
            from http.client import HTTPException
            from urllib.error import HTTPError, URLError
            from urllib.parse import urlencode
            from urllib.request import Request, urlopen

            base_url = os.environ.get("SAFETYNET_URL", "").strip().rstrip("/")
            token = os.environ.get("SAFETYNET_TOKEN", "").strip()
            if not base_url:
                raise RuntimeError("SAFETYNET_URL is not set: set it to the Safety Net server's URL, e.g. http://127.0.0.1:3000")
            if not token:
                raise RuntimeError("SAFETYNET_TOKEN is not set: set it to an API token (npx safetynet token create <name> --role agent)")
            endpoint = base_url if base_url.endswith("/api/trpc") else base_url + "/api/trpc"
            if method == "GET":
                request = Request(f"{endpoint}/{procedure}?{urlencode({'input': json.dumps(payload)})}", method="GET")
            else:
                request = Request(f"{endpoint}/{procedure}", data=json.dumps(payload).encode("utf-8"), method="POST")
                request.add_header("Content-Type", "application/json")
            request.add_header("Authorization", f"Bearer {token}")
            request.add_header("Accept", "application/json")
            for attempt in (1, 2):
                try:
                    with urlopen(request, timeout=600) as response:
                        status, raw = response.status, response.read()
                    break
                except HTTPError as error:
                    status, raw = error.code, error.read()
                    break
                except (URLError, HTTPException, ConnectionError) as error:
                    reason = error.reason if isinstance(error, URLError) else error
                    # No answer came. A query changes nothing, so it is sent once more; a mutation
                    # only when the connection was refused: then the server cannot have seen it.
                    if attempt == 2 or not (method == "GET" or isinstance(reason, ConnectionRefusedError)):
                        raise RuntimeError(f"cannot reach the Safety Net server at {endpoint}: {reason}") from error
            try:
                body = json.loads(raw.decode("utf-8"))
            except ValueError:
                raise RuntimeError(f"the Safety Net server did not answer with JSON (HTTP {status}): {raw[:200]!r}") from None
            if isinstance(body, dict) and "error" in body:
                data = (body["error"] or {}).get("data") or {}
                field = f", field {data['field']}" if data.get("field") else ""
                message = (body["error"] or {}).get("message") or "request failed"
                raise RuntimeError(f"{message} (HTTP {data.get('httpStatus', status)} {data.get('code') or ''}{field})")
            if status >= 400 or not isinstance(body, dict) or "result" not in body:
                raise RuntimeError(f"unexpected answer from the Safety Net server (HTTP {status}): {str(body)[:200]}")
            return (body["result"] or {}).get("data")

    class DiffCheckpointTool(Tool):
        name = "diff_checkpoint"
        description = "What changed in the component since a checkpoint: a dict with added, modified, deleted, modeChanged, typeChanged (lists of paths) and unchanged."
        inputs = {
            "checkpoint_id": {"type": "string", "description": "the checkpoint id (cp_...)"},
            "text_diff": {"type": "boolean", "description": "(optional) true to include unified diffs of modified text files", "nullable": True},
        }
        output_type = "object"

        def forward(self, checkpoint_id: str, text_diff: bool | None = None) -> dict:
            payload = {"id": checkpoint_id}
            if text_diff:
                payload["textDiff"] = True
            return self._request("GET", "checkpoint.diff", payload)

        def _request(self, method: str, procedure: str, payload: dict) -> dict:
            # Every import is here, not at module level: smolagents copies a Tool class's
            # methods alone (save, to_dict, remote executors), so they may use nothing else
            # from this file. Each tool class carries the same copy of this method.
            import json
            import os
            from http.client import HTTPException
            from urllib.error import HTTPError, URLError
            from urllib.parse import urlencode
            from urllib.request import Request, urlopen

            base_url = os.environ.get("SAFETYNET_URL", "").strip().rstrip("/")
            token = os.environ.get("SAFETYNET_TOKEN", "").strip()
            if not base_url:
                raise RuntimeError("SAFETYNET_URL is not set: set it to the Safety Net server's URL, e.g. http://127.0.0.1:3000")
            if not token:
                raise RuntimeError("SAFETYNET_TOKEN is not set: set it to an API token (npx safetynet token create <name> --role agent)")
            endpoint = base_url if base_url.endswith("/api/trpc") else base_url + "/api/trpc"
            if method == "GET":
                request = Request(f"{endpoint}/{procedure}?{urlencode({'input': json.dumps(payload)})}", method="GET")
            else:
                request = Request(f"{endpoint}/{procedure}", data=json.dumps(payload).encode("utf-8"), method="POST")
                request.add_header("Content-Type", "application/json")
            request.add_header("Authorization", f"Bearer {token}")
            request.add_header("Accept", "application/json")
            for attempt in (1, 2):
                try:
                    with urlopen(request, timeout=600) as response:
                        status, raw = response.status, response.read()
                    break
                except HTTPError as error:
                    status, raw = error.code, error.read()
                    break
                except (URLError, HTTPException, ConnectionError) as error:
                    reason = error.reason if isinstance(error, URLError) else error
                    # No answer came. A query changes nothing, so it is sent once more; a mutation
                    # only when the connection was refused: then the server cannot have seen it.
                    if attempt == 2 or not (method == "GET" or isinstance(reason, ConnectionRefusedError)):
                        raise RuntimeError(f"cannot reach the Safety Net server at {endpoint}: {reason}") from error
            try:
                body = json.loads(raw.decode("utf-8"))
            except ValueError:
                raise RuntimeError(f"the Safety Net server did not answer with JSON (HTTP {status}): {raw[:200]!r}") from None
            if isinstance(body, dict) and "error" in body:
                data = (body["error"] or {}).get("data") or {}
                field = f", field {data['field']}" if data.get("field") else ""
                message = (body["error"] or {}).get("message") or "request failed"
                raise RuntimeError(f"{message} (HTTP {data.get('httpStatus', status)} {data.get('code') or ''}{field})")
            if status >= 400 or not isinstance(body, dict) or "result" not in body:
                raise RuntimeError(f"unexpected answer from the Safety Net server (HTTP {status}): {str(body)[:200]}")
            return (body["result"] or {}).get("data")

    class PlanRollbackTool(Tool):
        name = "plan_rollback"
        description = (
            "Plan a rollback to a checkpoint without changing anything: what would be restored and deleted, "
            "and the `confirmToken` (single-use, expires in minutes) the rollback tool needs."
        )
        inputs = {"checkpoint_id": {"type": "string", "description": "the checkpoint id (cp_...)"}}
        output_type = "object"

        def forward(self, checkpoint_id: str) -> dict:
            return self._request("POST", "rollback.plan", {"checkpointId": checkpoint_id})

        def _request(self, method: str, procedure: str, payload: dict) -> dict:
            # Every import is here, not at module level: smolagents copies a Tool class's
            # methods alone (save, to_dict, remote executors), so they may use nothing else
            # from this file. Each tool class carries the same copy of this method.
            import json
            import os
            from http.client import HTTPException
            from urllib.error import HTTPError, URLError
            from urllib.parse import urlencode
            from urllib.request import Request, urlopen

            base_url = os.environ.get("SAFETYNET_URL", "").strip().rstrip("/")
            token = os.environ.get("SAFETYNET_TOKEN", "").strip()
            if not base_url:
                raise RuntimeError("SAFETYNET_URL is not set: set it to the Safety Net server's URL, e.g. http://127.0.0.1:3000")
            if not token:
                raise RuntimeError("SAFETYNET_TOKEN is not set: set it to an API token (npx safetynet token create <name> --role agent)")
            endpoint = base_url if base_url.endswith("/api/trpc") else base_url + "/api/trpc"
            if method == "GET":
                request = Request(f"{endpoint}/{procedure}?{urlencode({'input': json.dumps(payload)})}", method="GET")
            else:
                request = Request(f"{endpoint}/{procedure}", data=json.dumps(payload).encode("utf-8"), method="POST")
                request.add_header("Content-Type", "application/json")
            request.add_header("Authorization", f"Bearer {token}")
            request.add_header("Accept", "application/json")
            for attempt in (1, 2):
                try:
                    with urlopen(request, timeout=600) as response:
                        status, raw = response.status, response.read()
                    break
                except HTTPError as error:
                    status, raw = error.code, error.read()
                    break
                except (URLError, HTTPException, ConnectionError) as error:
                    reason = error.reason if isinstance(error, URLError) else error
                    # No answer came. A query changes nothing, so it is sent once more; a mutation
                    # only when the connection was refused: then the server cannot have seen it.
                    if attempt == 2 or not (method == "GET" or isinstance(reason, ConnectionRefusedError)):
                        raise RuntimeError(f"cannot reach the Safety Net server at {endpoint}: {reason}") from error
            try:
                body = json.loads(raw.decode("utf-8"))
            except ValueError:
                raise RuntimeError(f"the Safety Net server did not answer with JSON (HTTP {status}): {raw[:200]!r}") from None
            if isinstance(body, dict) and "error" in body:
                data = (body["error"] or {}).get("data") or {}
                field = f", field {data['field']}" if data.get("field") else ""
                message = (body["error"] or {}).get("message") or "request failed"
                raise RuntimeError(f"{message} (HTTP {data.get('httpStatus', status)} {data.get('code') or ''}{field})")
            if status >= 400 or not isinstance(body, dict) or "result" not in body:
                raise RuntimeError(f"unexpected answer from the Safety Net server (HTTP {status}): {str(body)[:200]}")
            return (body["result"] or {}).get("data")

    class RollbackTool(Tool):
        name = "rollback"
        description = (
            "Roll the component back to a checkpoint as planned by plan_rollback (needs its confirmToken). "
            "A safety checkpoint of the current state is taken first (safetyCheckpointId), so this can be undone."
        )
        inputs = {
            "checkpoint_id": {"type": "string", "description": "the checkpoint id given to plan_rollback"},
            "confirm_token": {"type": "string", "description": "the confirmToken plan_rollback returned"},
        }
        output_type = "object"

        def forward(self, checkpoint_id: str, confirm_token: str) -> dict:
            return self._request("POST", "rollback.execute", {"checkpointId": checkpoint_id, "confirmToken": confirm_token})

        def _request(self, method: str, procedure: str, payload: dict) -> dict:
            # Every import is here, not at module level: smolagents copies a Tool class's
            # methods alone (save, to_dict, remote executors), so they may use nothing else
            # from this file. Each tool class carries the same copy of this method.
            import json
            import os
            from http.client import HTTPException
            from urllib.error import HTTPError, URLError
            from urllib.parse import urlencode
            from urllib.request import Request, urlopen

            base_url = os.environ.get("SAFETYNET_URL", "").strip().rstrip("/")
            token = os.environ.get("SAFETYNET_TOKEN", "").strip()
            if not base_url:
                raise RuntimeError("SAFETYNET_URL is not set: set it to the Safety Net server's URL, e.g. http://127.0.0.1:3000")
            if not token:
                raise RuntimeError("SAFETYNET_TOKEN is not set: set it to an API token (npx safetynet token create <name> --role agent)")
            endpoint = base_url if base_url.endswith("/api/trpc") else base_url + "/api/trpc"
            if method == "GET":
                request = Request(f"{endpoint}/{procedure}?{urlencode({'input': json.dumps(payload)})}", method="GET")
            else:
                request = Request(f"{endpoint}/{procedure}", data=json.dumps(payload).encode("utf-8"), method="POST")
                request.add_header("Content-Type", "application/json")
            request.add_header("Authorization", f"Bearer {token}")
            request.add_header("Accept", "application/json")
            for attempt in (1, 2):
                try:
                    with urlopen(request, timeout=600) as response:
                        status, raw = response.status, response.read()
                    break
                except HTTPError as error:
                    status, raw = error.code, error.read()
                    break
                except (URLError, HTTPException, ConnectionError) as error:
                    reason = error.reason if isinstance(error, URLError) else error
                    # No answer came. A query changes nothing, so it is sent once more; a mutation
                    # only when the connection was refused: then the server cannot have seen it.
                    if attempt == 2 or not (method == "GET" or isinstance(reason, ConnectionRefusedError)):
                        raise RuntimeError(f"cannot reach the Safety Net server at {endpoint}: {reason}") from error
            try:
                body = json.loads(raw.decode("utf-8"))
            except ValueError:
                raise RuntimeError(f"the Safety Net server did not answer with JSON (HTTP {status}): {raw[:200]!r}") from None
            if isinstance(body, dict) and "error" in body:
                data = (body["error"] or {}).get("data") or {}
                field = f", field {data['field']}" if data.get("field") else ""
                message = (body["error"] or {}).get("message") or "request failed"
                raise RuntimeError(f"{message} (HTTP {data.get('httpStatus', status)} {data.get('code') or ''}{field})")
            if status >= 400 or not isinstance(body, dict) or "result" not in body:
                raise RuntimeError(f"unexpected answer from the Safety Net server (HTTP {status}): {str(body)[:200]}")
            return (body["result"] or {}).get("data")

    class HistoryTool(Tool):
        name = "history"
        description = "The audit history newest first (who created, verified, rolled back what, when, outcome): a dict with `items` and `nextCursor`."
        inputs = {
            "component": {"type": "string", "description": "(optional) only this component", "nullable": True},
            "kind": {"type": "string", "description": "(optional) only this kind: checkpoint.create, checkpoint.verify, rollback, ...", "nullable": True},
            "limit": {"type": "integer", "description": "(optional) how many, default 50", "nullable": True},
        }
        output_type = "object"

        def forward(self, component: str | None = None, kind: str | None = None, limit: int | None = None) -> dict:
            payload = {"component": component, "kind": kind, "limit": limit}
            return self._request("GET", "history.list", {key: value for key, value in payload.items() if value is not None})

        def _request(self, method: str, procedure: str, payload: dict) -> dict:
            # Every import is here, not at module level: smolagents copies a Tool class's
            # methods alone (save, to_dict, remote executors), so they may use nothing else
            # from this file. Each tool class carries the same copy of this method.
            import json
            import os
            from http.client import HTTPException
            from urllib.error import HTTPError, URLError
            from urllib.parse import urlencode
            from urllib.request import Request, urlopen

            base_url = os.environ.get("SAFETYNET_URL", "").strip().rstrip("/")
            token = os.environ.get("SAFETYNET_TOKEN", "").strip()
            if not base_url:
                raise RuntimeError("SAFETYNET_URL is not set: set it to the Safety Net server's URL, e.g. http://127.0.0.1:3000")
            if not token:
                raise RuntimeError("SAFETYNET_TOKEN is not set: set it to an API token (npx safetynet token create <name> --role agent)")
            endpoint = base_url if base_url.endswith("/api/trpc") else base_url + "/api/trpc"
            if method == "GET":
                request = Request(f"{endpoint}/{procedure}?{urlencode({'input': json.dumps(payload)})}", method="GET")
            else:
                request = Request(f"{endpoint}/{procedure}", data=json.dumps(payload).encode("utf-8"), method="POST")
                request.add_header("Content-Type", "application/json")
            request.add_header("Authorization", f"Bearer {token}")
            request.add_header("Accept", "application/json")
            for attempt in (1, 2):
                try:
                    with urlopen(request, timeout=600) as response:
                        status, raw = response.status, response.read()
                    break
                except HTTPError as error:
                    status, raw = error.code, error.read()
                    break
                except (URLError, HTTPException, ConnectionError) as error:
                    reason = error.reason if isinstance(error, URLError) else error
                    # No answer came. A query changes nothing, so it is sent once more; a mutation
                    # only when the connection was refused: then the server cannot have seen it.
                    if attempt == 2 or not (method == "GET" or isinstance(reason, ConnectionRefusedError)):
                        raise RuntimeError(f"cannot reach the Safety Net server at {endpoint}: {reason}") from error
            try:
                body = json.loads(raw.decode("utf-8"))
            except ValueError:
                raise RuntimeError(f"the Safety Net server did not answer with JSON (HTTP {status}): {raw[:200]!r}") from None
            if isinstance(body, dict) and "error" in body:
                data = (body["error"] or {}).get("data") or {}
                field = f", field {data['field']}" if data.get("field") else ""
                message = (body["error"] or {}).get("message") or "request failed"
                raise RuntimeError(f"{message} (HTTP {data.get('httpStatus', status)} {data.get('code') or ''}{field})")
            if status >= 400 or not isinstance(body, dict) or "result" not in body:
                raise RuntimeError(f"unexpected answer from the Safety Net server (HTTP {status}): {str(body)[:200]}")
            return (body["result"] or {}).get("data")

    TOOL_CLASSES = [
        ListComponentsTool,
        CreateCheckpointTool,
        ListCheckpointsTool,
        DiffCheckpointTool,
        PlanRollbackTool,
        RollbackTool,
        HistoryTool,
    ]
    __all__ += [cls.__name__ for cls in TOOL_CLASSES]
