-- Server instances on this metadata (their roots and heartbeats), and the workspace
-- operations one instance hands to another that can reach the component's root.
-- CreateTable
CREATE TABLE "Instance" (
    "id" TEXT COLLATE "C" NOT NULL,
    "host" TEXT COLLATE "C" NOT NULL,
    "roots" JSONB NOT NULL,
    "version" TEXT COLLATE "C" NOT NULL,
    "pid" INTEGER NOT NULL,
    "startedAt" TIMESTAMP(3) NOT NULL,
    "heartbeatAt" TIMESTAMP(3) NOT NULL,
    "stoppedAt" TIMESTAMP(3),

    CONSTRAINT "Instance_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "RoutedJob" (
    "id" TEXT COLLATE "C" NOT NULL,
    "operation" TEXT COLLATE "C" NOT NULL,
    "component" TEXT COLLATE "C",
    "input" JSONB NOT NULL,
    "actor" TEXT COLLATE "C" NOT NULL,
    "requestedBy" TEXT COLLATE "C" NOT NULL,
    "instanceId" TEXT COLLATE "C" NOT NULL,
    "state" TEXT COLLATE "C" NOT NULL,
    "result" JSONB,
    "error" JSONB,
    "rollbackId" TEXT COLLATE "C",
    "runId" TEXT COLLATE "C",
    "createdAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "startedAt" TIMESTAMP(3),
    "finishedAt" TIMESTAMP(3),

    CONSTRAINT "RoutedJob_pkey" PRIMARY KEY ("id")
);

-- CreateIndex
CREATE INDEX "RoutedJob_instanceId_state_idx" ON "RoutedJob"("instanceId", "state");

