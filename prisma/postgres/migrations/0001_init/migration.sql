-- CreateTable
CREATE TABLE "Component" (
    "id" TEXT COLLATE "C" NOT NULL,
    "name" TEXT COLLATE "C" NOT NULL,
    "root" TEXT COLLATE "C" NOT NULL,
    "include" JSONB NOT NULL,
    "exclude" JSONB NOT NULL,
    "metadata" JSONB NOT NULL,
    "dbTargets" JSONB NOT NULL DEFAULT '[]',
    "createdAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updatedAt" TIMESTAMP(3) NOT NULL,

    CONSTRAINT "Component_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "Manifest" (
    "sha256" TEXT COLLATE "C" NOT NULL,
    "files" INTEGER NOT NULL,
    "dirs" INTEGER NOT NULL,
    "symlinks" INTEGER NOT NULL,
    "bytes" BIGINT NOT NULL,
    "createdAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "Manifest_pkey" PRIMARY KEY ("sha256")
);

-- CreateTable
CREATE TABLE "ManifestEntry" (
    "manifestSha" TEXT COLLATE "C" NOT NULL,
    "path" TEXT COLLATE "C" NOT NULL,
    "kind" TEXT COLLATE "C" NOT NULL,
    "mode" INTEGER NOT NULL,
    "size" BIGINT NOT NULL,
    "mtimeMs" DOUBLE PRECISION NOT NULL,
    "sha256" TEXT COLLATE "C",
    "linkTarget" TEXT COLLATE "C",
    "reason" TEXT COLLATE "C" NOT NULL,

    CONSTRAINT "ManifestEntry_pkey" PRIMARY KEY ("manifestSha","path")
);

-- CreateTable
CREATE TABLE "Checkpoint" (
    "id" TEXT COLLATE "C" NOT NULL,
    "componentId" TEXT COLLATE "C" NOT NULL,
    "kind" TEXT COLLATE "C" NOT NULL DEFAULT 'manual',
    "status" TEXT COLLATE "C" NOT NULL DEFAULT 'active',
    "expiredReason" TEXT COLLATE "C",
    "verifyState" TEXT COLLATE "C" NOT NULL DEFAULT 'unverified',
    "verifiedAt" TIMESTAMP(3),
    "pinned" BOOLEAN NOT NULL DEFAULT false,
    "retentionUntil" TIMESTAMP(3) NOT NULL,
    "manifestSha" TEXT COLLATE "C" NOT NULL,
    "files" INTEGER NOT NULL,
    "bytes" BIGINT NOT NULL,
    "newBytes" BIGINT NOT NULL,
    "durationMs" INTEGER NOT NULL,
    "paths" JSONB NOT NULL,
    "reason" TEXT COLLATE "C",
    "actor" TEXT COLLATE "C" NOT NULL,
    "callerMeta" JSONB NOT NULL,
    "componentMeta" JSONB NOT NULL,
    "dbSnapshots" JSONB NOT NULL,
    "createdAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "Checkpoint_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "Rollback" (
    "id" TEXT COLLATE "C" NOT NULL,
    "componentId" TEXT COLLATE "C" NOT NULL,
    "checkpointId" TEXT COLLATE "C" NOT NULL,
    "safetyCheckpointId" TEXT COLLATE "C",
    "actor" TEXT COLLATE "C" NOT NULL,
    "outcome" TEXT COLLATE "C" NOT NULL,
    "restored" INTEGER NOT NULL DEFAULT 0,
    "deleted" INTEGER NOT NULL DEFAULT 0,
    "bytes" BIGINT NOT NULL DEFAULT 0,
    "error" TEXT COLLATE "C",
    "startedAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "durationMs" INTEGER,

    CONSTRAINT "Rollback_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "AuditEvent" (
    "id" TEXT COLLATE "C" NOT NULL,
    "kind" TEXT COLLATE "C" NOT NULL,
    "component" TEXT COLLATE "C",
    "checkpointId" TEXT COLLATE "C",
    "actor" TEXT COLLATE "C" NOT NULL,
    "outcome" TEXT COLLATE "C" NOT NULL,
    "startedAt" TIMESTAMP(3) NOT NULL,
    "durationMs" INTEGER NOT NULL,
    "files" INTEGER,
    "bytes" BIGINT,
    "checksum" TEXT COLLATE "C",
    "error" TEXT COLLATE "C",
    "details" JSONB NOT NULL,
    "createdAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "AuditEvent_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "RetentionPolicy" (
    "scope" TEXT COLLATE "C" NOT NULL,
    "keepDays" INTEGER,
    "keepLast" INTEGER,
    "keepDaily" INTEGER,
    "keepWeekly" INTEGER,
    "updatedAt" TIMESTAMP(3) NOT NULL,

    CONSTRAINT "RetentionPolicy_pkey" PRIMARY KEY ("scope")
);

-- CreateTable
CREATE TABLE "ApiToken" (
    "id" TEXT COLLATE "C" NOT NULL,
    "name" TEXT COLLATE "C" NOT NULL,
    "tokenHash" TEXT COLLATE "C" NOT NULL,
    "role" TEXT COLLATE "C" NOT NULL,
    "components" JSONB NOT NULL,
    "createdAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "lastUsedAt" TIMESTAMP(3),
    "revokedAt" TIMESTAMP(3),

    CONSTRAINT "ApiToken_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "Session" (
    "id" TEXT COLLATE "C" NOT NULL,
    "tokenId" TEXT COLLATE "C" NOT NULL,
    "createdAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "expiresAt" TIMESTAMP(3) NOT NULL,

    CONSTRAINT "Session_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "LoginCode" (
    "id" TEXT COLLATE "C" NOT NULL,
    "tokenId" TEXT COLLATE "C" NOT NULL,
    "expiresAt" TIMESTAMP(3) NOT NULL,
    "usedAt" TIMESTAMP(3),
    "createdAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "LoginCode_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "ConfirmToken" (
    "id" TEXT COLLATE "C" NOT NULL,
    "purpose" TEXT COLLATE "C" NOT NULL,
    "targetId" TEXT COLLATE "C" NOT NULL,
    "boundTo" TEXT COLLATE "C" NOT NULL,
    "liveSha" TEXT COLLATE "C",
    "actor" TEXT COLLATE "C" NOT NULL,
    "expiresAt" TIMESTAMP(3) NOT NULL,
    "usedAt" TIMESTAMP(3),
    "createdAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "ConfirmToken_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "LockHolder" (
    "lockKey" TEXT COLLATE "C" NOT NULL,
    "backendPid" INTEGER NOT NULL,
    "pid" INTEGER NOT NULL,
    "host" TEXT COLLATE "C" NOT NULL,
    "processStartedAt" TEXT COLLATE "C" NOT NULL,
    "operation" TEXT COLLATE "C" NOT NULL,
    "since" TIMESTAMP(3) NOT NULL,

    CONSTRAINT "LockHolder_pkey" PRIMARY KEY ("lockKey")
);

-- CreateIndex
CREATE UNIQUE INDEX "Component_name_key" ON "Component"("name");

-- CreateIndex
CREATE INDEX "Checkpoint_componentId_createdAt_idx" ON "Checkpoint"("componentId", "createdAt");

-- CreateIndex
CREATE INDEX "Checkpoint_status_retentionUntil_idx" ON "Checkpoint"("status", "retentionUntil");

-- CreateIndex
CREATE INDEX "Checkpoint_createdAt_idx" ON "Checkpoint"("createdAt");

-- CreateIndex
CREATE INDEX "Rollback_componentId_startedAt_idx" ON "Rollback"("componentId", "startedAt");

-- CreateIndex
CREATE INDEX "AuditEvent_component_startedAt_idx" ON "AuditEvent"("component", "startedAt");

-- CreateIndex
CREATE INDEX "AuditEvent_kind_startedAt_idx" ON "AuditEvent"("kind", "startedAt");

-- CreateIndex
CREATE INDEX "AuditEvent_startedAt_idx" ON "AuditEvent"("startedAt");

-- CreateIndex
CREATE UNIQUE INDEX "ApiToken_name_key" ON "ApiToken"("name");

-- CreateIndex
CREATE UNIQUE INDEX "ApiToken_tokenHash_key" ON "ApiToken"("tokenHash");

-- CreateIndex
CREATE INDEX "ConfirmToken_expiresAt_idx" ON "ConfirmToken"("expiresAt");

-- AddForeignKey
ALTER TABLE "ManifestEntry" ADD CONSTRAINT "ManifestEntry_manifestSha_fkey" FOREIGN KEY ("manifestSha") REFERENCES "Manifest"("sha256") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "Checkpoint" ADD CONSTRAINT "Checkpoint_componentId_fkey" FOREIGN KEY ("componentId") REFERENCES "Component"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "Checkpoint" ADD CONSTRAINT "Checkpoint_manifestSha_fkey" FOREIGN KEY ("manifestSha") REFERENCES "Manifest"("sha256") ON DELETE RESTRICT ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "Rollback" ADD CONSTRAINT "Rollback_componentId_fkey" FOREIGN KEY ("componentId") REFERENCES "Component"("id") ON DELETE CASCADE ON UPDATE CASCADE;

