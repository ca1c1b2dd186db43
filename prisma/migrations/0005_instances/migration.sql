-- Server instances on this metadata (their roots and heartbeats), and the workspace
-- operations one instance hands to another that can reach the component's root.
CREATE TABLE "Instance" (
    "id" TEXT NOT NULL PRIMARY KEY,
    "host" TEXT NOT NULL,
    "roots" JSONB NOT NULL,
    "version" TEXT NOT NULL,
    "pid" INTEGER NOT NULL,
    "startedAt" DATETIME NOT NULL,
    "heartbeatAt" DATETIME NOT NULL,
    "stoppedAt" DATETIME
);

CREATE TABLE "RoutedJob" (
    "id" TEXT NOT NULL PRIMARY KEY,
    "operation" TEXT NOT NULL,
    "component" TEXT,
    "input" JSONB NOT NULL,
    "actor" TEXT NOT NULL,
    "requestedBy" TEXT NOT NULL,
    "instanceId" TEXT NOT NULL,
    "state" TEXT NOT NULL,
    "result" JSONB,
    "error" JSONB,
    "rollbackId" TEXT,
    "runId" TEXT,
    "createdAt" DATETIME NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "startedAt" DATETIME,
    "finishedAt" DATETIME
);

CREATE INDEX "RoutedJob_instanceId_state_idx" ON "RoutedJob"("instanceId", "state");
