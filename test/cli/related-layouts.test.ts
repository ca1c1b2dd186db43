import { beforeAll, describe, expect, it } from "vitest";
import { assertCliBundleFresh, cleanUpAfterEach, cliJson, makeWorkspaceDirs, writeTree, type WorkspaceDirs } from "../support/workspace";
import type { CheckpointCreated } from "../../server/checkpoints/commit";

beforeAll(assertCliBundleFresh);
cleanUpAfterEach();

interface Shown {
  paths: string[] | null;
  related: { path: string; reason: string }[];
}

/** `checkpoint create --path ...` then `checkpoint show`: the related files and why, sorted by path. */
async function relatedOf(ws: WorkspaceDirs, component: string, paths: string[]): Promise<Record<string, string>> {
  const created = await cliJson<CheckpointCreated>(ws, ["checkpoint", "create", component, ...paths.flatMap((p) => ["--path", p])]);
  const shown = await cliJson<Shown>(ws, ["checkpoint", "show", created.id]);
  return Object.fromEntries(shown.related.map((r) => [r.path, r.reason]).sort(([a], [b]) => ((a as string) < (b as string) ? -1 : 1)));
}

/** The layout of Flask (pallets/flask): a src/ package, tests in a root tests/ folder that import it absolutely. */
function flaskLayout(root: string): void {
  writeTree(root, {
    "pyproject.toml": '[project]\nname = "Flask"\n\n[tool.pytest.ini_options]\ntestpaths = ["tests"]\n',
    "src/flask/__init__.py": "from .app import Flask as Flask\nfrom .helpers import url_for as url_for\nfrom .helpers import send_file as send_file\n",
    "src/flask/app.py": "import os\nimport typing as t\n\nfrom . import json\nfrom .config import Config\nfrom .helpers import get_root_path\n\n\nclass Flask:\n    def __init__(self, import_name):\n        self.root_path = get_root_path(import_name)\n        self.config = Config(self.root_path)\n",
    "src/flask/helpers.py": 'import os\nimport sys\n\nfrom .globals import current_app\nfrom .globals import request\n\n\ndef get_root_path(import_name):\n    mod = sys.modules.get(import_name)\n    return os.path.dirname(os.path.abspath(mod.__file__))\n\n\ndef url_for(endpoint, **values):\n    return current_app.url_for(endpoint, **values)\n',
    "src/flask/globals.py": "from contextvars import ContextVar\n\n_cv_app = ContextVar('flask.app_ctx')\ncurrent_app = None\nrequest = None\n",
    "src/flask/config.py": "import json\nimport os\n\n\nclass Config(dict):\n    def __init__(self, root_path):\n        super().__init__()\n        self.root_path = root_path\n",
    "src/flask/json/__init__.py": "from .provider import DefaultJSONProvider as DefaultJSONProvider\n",
    "src/flask/json/provider.py": "import json\n\n\nclass DefaultJSONProvider:\n    sort_keys = True\n",
    "tests/conftest.py": "import pytest\n\nimport flask\n\n\n@pytest.fixture\ndef app():\n    return flask.Flask('flask_test')\n",
    "tests/test_helpers.py": "import os\n\nimport pytest\n\nimport flask\nfrom flask.helpers import get_root_path\n\n\ndef test_get_root_path():\n    assert get_root_path(__name__) == os.path.dirname(__file__)\n",
    "tests/test_apps.py": "import flask.helpers\n\n\ndef test_url_for(app):\n    with app.test_request_context():\n        assert flask.helpers.url_for('index') == '/'\n",
    "tests/test_config.py": "from flask.config import Config\n\n\ndef test_config_from_file():\n    assert Config('.') == {}\n",
    "tests/test_json.py": "from flask.json.provider import DefaultJSONProvider\n\n\ndef test_sort_keys():\n    assert DefaultJSONProvider.sort_keys\n",
    "tests/json/test_provider.py": "from flask.json import provider\n\n\ndef test_provider():\n    assert provider.DefaultJSONProvider\n",
    "docs/api.rst": "API\n===\n\n.. module:: flask\n",
  });
}

/** A TypeScript monorepo (pnpm workspaces, as vitest or tRPC lay theirs out): each package with src/, __tests__/ and test/. */
function monorepoLayout(root: string): void {
  writeTree(root, {
    "package.json": '{ "private": true, "scripts": { "test": "vitest" } }\n',
    "pnpm-workspace.yaml": "packages:\n  - packages/*\n",
    "packages/core/package.json": '{ "name": "@acme/core", "main": "src/index.ts" }\n',
    "packages/core/src/index.ts": 'export * from "./scheduler";\nexport * from "./queue";\n',
    "packages/core/src/scheduler.ts": 'import { Queue } from "./queue";\n\nexport function schedule(job: () => void, queue = new Queue()): void {\n  queue.push(job);\n}\n',
    "packages/core/src/queue.ts": "export class Queue {\n  private jobs: (() => void)[] = [];\n  push(job: () => void) {\n    this.jobs.push(job);\n  }\n}\n",
    "packages/core/src/clock.ts": "export const now = () => Date.now();\n",
    "packages/core/__tests__/scheduler.test.ts": 'import { describe, it } from "vitest";\nimport { schedule } from "../src/scheduler";\n\ndescribe("schedule", () => {\n  it("queues", () => schedule(() => {}));\n});\n',
    "packages/core/__tests__/queue.test.ts": 'import { Queue } from "../src/queue";\n\nnew Queue();\n',
    "packages/core/test/scheduler.spec.ts": 'import { schedule } from "../src";\n\nschedule(() => {});\n',
    "packages/app/package.json": '{ "name": "@acme/app", "dependencies": { "@acme/core": "workspace:*" } }\n',
    "packages/app/src/jobs.ts": 'import { schedule } from "../../core/src/scheduler";\n\nexport function runJobs(): void {\n  schedule(() => console.log("nightly"));\n}\n',
    "packages/app/src/main.ts": 'import { runJobs } from "./jobs";\n\nrunJobs();\n',
    "packages/app/tests/jobs.test.ts": 'import { runJobs } from "../src/jobs";\n\nrunJobs();\n',
    "node_modules/@acme/core/src/scheduler.ts": "installed copy\n",
  });
}

describe("checkpoint create --path: related files in the layouts real projects use", () => {
  it("a Flask-like src layout: tests in tests/ by name and by import, the module's imports and importers", async () => {
    const ws = makeWorkspaceDirs("related-flask");
    flaskLayout(ws.root);
    await cliJson(ws, ["component", "add", "flask", "--root", ws.root]);

    expect(await relatedOf(ws, "flask", ["src/flask/helpers.py"])).toEqual({
      // Imports it (relative imports inside the package): the package and the app module.
      "src/flask/__init__.py": "related-import",
      "src/flask/app.py": "related-import",
      // What it imports.
      "src/flask/globals.py": "related-import",
      // Its test by name (tests/test_<name>.py), and a test that imports it (import flask.helpers).
      "tests/test_apps.py": "related-test",
      "tests/test_helpers.py": "related-test",
    });

    // A subpackage's module: tests/<package>/test_<name>.py, and the tests importing it from the root.
    expect(await relatedOf(ws, "flask", ["src/flask/json/provider.py"])).toEqual({
      "src/flask/json/__init__.py": "related-import",
      "tests/json/test_provider.py": "related-test",
      "tests/test_json.py": "related-test",
    });
  });

  it("a TypeScript monorepo: __tests__/ and test/ folders of the package, and importers in other packages", async () => {
    const ws = makeWorkspaceDirs("related-monorepo");
    monorepoLayout(ws.root);
    await cliJson(ws, ["component", "add", "acme", "--root", ws.root]);

    expect(await relatedOf(ws, "acme", ["packages/core/src/scheduler.ts"])).toEqual({
      "packages/app/src/jobs.ts": "related-import",
      "packages/core/__tests__/scheduler.test.ts": "related-test",
      "packages/core/src/index.ts": "related-import",
      "packages/core/src/queue.ts": "related-import",
      "packages/core/test/scheduler.spec.ts": "related-test",
    });
  });

  it("Go, Java and Kotlin: <name>_test.go beside the file, src/test/<language>/<package>/<Name>Test for src/main", async () => {
    const ws = makeWorkspaceDirs("related-jvm-go");
    writeTree(ws.root, {
      "orders/go.mod": "module example.com/orders\n",
      "orders/internal/store/store.go": "package store\n\nfunc Open() {}\n",
      "orders/internal/store/store_test.go": 'package store\n\nimport "testing"\n\nfunc TestOpen(t *testing.T) { Open() }\n',
      "orders/internal/store/cache.go": "package store\n",
      "billing/build.gradle.kts": 'plugins { kotlin("jvm") }\n',
      "billing/src/main/java/com/acme/billing/InvoiceService.java": "package com.acme.billing;\n\npublic class InvoiceService {}\n",
      "billing/src/test/java/com/acme/billing/InvoiceServiceTest.java": "package com.acme.billing;\n\nclass InvoiceServiceTest {}\n",
      "billing/src/test/java/com/acme/billing/InvoiceServiceIT.java": "package com.acme.billing;\n\nclass InvoiceServiceIT {}\n",
      "billing/src/test/java/com/acme/billing/TaxServiceTest.java": "package com.acme.billing;\n\nclass TaxServiceTest {}\n",
      "billing/src/main/kotlin/com/acme/billing/PriceCalculator.kt": "package com.acme.billing\n\nclass PriceCalculator\n",
      "billing/src/test/kotlin/com/acme/billing/PriceCalculatorTest.kt": "package com.acme.billing\n\nclass PriceCalculatorTest\n",
    });
    await cliJson(ws, ["component", "add", "services", "--root", ws.root]);

    expect(await relatedOf(ws, "services", ["orders/internal/store/store.go"])).toEqual({ "orders/internal/store/store_test.go": "related-test" });
    expect(await relatedOf(ws, "services", ["billing/src/main/java/com/acme/billing/InvoiceService.java", "billing/src/main/kotlin/com/acme/billing/PriceCalculator.kt"])).toEqual({
      "billing/src/test/java/com/acme/billing/InvoiceServiceIT.java": "related-test",
      "billing/src/test/java/com/acme/billing/InvoiceServiceTest.java": "related-test",
      "billing/src/test/kotlin/com/acme/billing/PriceCalculatorTest.kt": "related-test",
    });
  });
});
