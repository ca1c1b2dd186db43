-- CreateTable
CREATE TABLE "Component" (
    "id" TEXT NOT NULL PRIMARY KEY,
    "name" TEXT NOT NULL,
    "root" TEXT NOT NULL,
    "include" JSONB NOT NULL,
    "exclude" JSONB NOT NULL,
    "metadata" JSONB NOT NULL,
    "createdAt" DATETIME NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updatedAt" DATETIME NOT NULL
);

-- CreateTable
CREATE TABLE "Manifest" (
    "sha256" TEXT NOT NULL PRIMARY KEY,
    "files" INTEGER NOT NULL,
    "dirs" INTEGER NOT NULL,
    "symlinks" INTEGER NOT NULL,
    "bytes" BIGINT NOT NULL,
    "createdAt" DATETIME NOT NULL DEFAULT CURRENT_TIMESTAMP
);

-- CreateTable
CREATE TABLE "ManifestEntry" (
    "manifestSha" TEXT NOT NULL,
    "path" TEXT NOT NULL,
    "kind" TEXT NOT NULL,
    "mode" INTEGER NOT NULL,
    "size" BIGINT NOT NULL,
    "mtimeMs" REAL NOT NULL,
    "sha256" TEXT,
    "linkTarget" TEXT,
    "reason" TEXT NOT NULL,

    PRIMARY KEY ("manifestSha", "path"),
    CONSTRAINT "ManifestEntry_manifestSha_fkey" FOREIGN KEY ("manifestSha") REFERENCES "Manifest" ("sha256") ON DELETE CASCADE ON UPDATE CASCADE
);

-- CreateTable
CREATE TABLE "Checkpoint" (
    "id" TEXT NOT NULL PRIMARY KEY,
    "componentId" TEXT NOT NULL,
    "kind" TEXT NOT NULL DEFAULT 'manual',
    "status" TEXT NOT NULL DEFAULT 'active',
    "expiredReason" TEXT,
    "verifyState" TEXT NOT NULL DEFAULT 'unverified',
    "verifiedAt" DATETIME,
    "pinned" BOOLEAN NOT NULL DEFAULT false,
    "retentionUntil" DATETIME NOT NULL,
    "manifestSha" TEXT NOT NULL,
    "files" INTEGER NOT NULL,
    "bytes" BIGINT NOT NULL,
    "newBytes" BIGINT NOT NULL,
    "durationMs" INTEGER NOT NULL,
    "paths" JSONB NOT NULL,
    "reason" TEXT,
    "actor" TEXT NOT NULL,
    "callerMeta" JSONB NOT NULL,
    "componentMeta" JSONB NOT NULL,
    "dbSnapshots" JSONB NOT NULL,
    "createdAt" DATETIME NOT NULL DEFAULT CURRENT_TIMESTAMP,
    CONSTRAINT "Checkpoint_componentId_fkey" FOREIGN KEY ("componentId") REFERENCES "Component" ("id") ON DELETE CASCADE ON UPDATE CASCADE,
    CONSTRAINT "Checkpoint_manifestSha_fkey" FOREIGN KEY ("manifestSha") REFERENCES "Manifest" ("sha256") ON DELETE RESTRICT ON UPDATE CASCADE
);

-- CreateTable
CREATE TABLE "Rollback" (
    "id" TEXT NOT NULL PRIMARY KEY,
    "componentId" TEXT NOT NULL,
    "checkpointId" TEXT NOT NULL,
    "safetyCheckpointId" TEXT,
    "actor" TEXT NOT NULL,
    "outcome" TEXT NOT NULL,
    "restored" INTEGER NOT NULL DEFAULT 0,
    "deleted" INTEGER NOT NULL DEFAULT 0,
    "bytes" BIGINT NOT NULL DEFAULT 0,
    "error" TEXT,
    "startedAt" DATETIME NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "durationMs" INTEGER,
    CONSTRAINT "Rollback_componentId_fkey" FOREIGN KEY ("componentId") REFERENCES "Component" ("id") ON DELETE CASCADE ON UPDATE CASCADE
);

-- CreateTable
CREATE TABLE "AuditEvent" (
    "id" TEXT NOT NULL PRIMARY KEY,
    "kind" TEXT NOT NULL,
    "component" TEXT,
    "checkpointId" TEXT,
    "actor" TEXT NOT NULL,
    "outcome" TEXT NOT NULL,
    "startedAt" DATETIME NOT NULL,
    "durationMs" INTEGER NOT NULL,
    "files" INTEGER,
    "bytes" BIGINT,
    "checksum" TEXT,
    "error" TEXT,
    "details" JSONB NOT NULL,
    "createdAt" DATETIME NOT NULL DEFAULT CURRENT_TIMESTAMP
);

-- CreateTable
CREATE TABLE "RetentionPolicy" (
    "scope" TEXT NOT NULL PRIMARY KEY,
    "keepDays" INTEGER,
    "keepLast" INTEGER,
    "keepDaily" INTEGER,
    "keepWeekly" INTEGER,
    "updatedAt" DATETIME NOT NULL
);

-- CreateTable
CREATE TABLE "ApiToken" (
    "id" TEXT NOT NULL PRIMARY KEY,
    "name" TEXT NOT NULL,
    "tokenHash" TEXT NOT NULL,
    "role" TEXT NOT NULL,
    "components" JSONB NOT NULL,
    "createdAt" DATETIME NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "lastUsedAt" DATETIME,
    "revokedAt" DATETIME
);

-- CreateTable
CREATE TABLE "Session" (
    "id" TEXT NOT NULL PRIMARY KEY,
    "tokenId" TEXT NOT NULL,
    "createdAt" DATETIME NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "expiresAt" DATETIME NOT NULL
);

-- CreateTable
CREATE TABLE "ConfirmToken" (
    "id" TEXT NOT NULL PRIMARY KEY,
    "purpose" TEXT NOT NULL,
    "targetId" TEXT NOT NULL,
    "boundTo" TEXT NOT NULL,
    "liveSha" TEXT,
    "actor" TEXT NOT NULL,
    "expiresAt" DATETIME NOT NULL,
    "usedAt" DATETIME,
    "createdAt" DATETIME NOT NULL DEFAULT CURRENT_TIMESTAMP
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

