-- Checkpoints are stored as tree objects: their entries are read from the store, not from rows.
DROP TABLE "ManifestEntry";

-- What each checkpoint changed against the previous one covering its scope.
ALTER TABLE "Checkpoint" ADD COLUMN "baseId" TEXT;
ALTER TABLE "Checkpoint" ADD COLUMN "added" INTEGER;
ALTER TABLE "Checkpoint" ADD COLUMN "modified" INTEGER;
ALTER TABLE "Checkpoint" ADD COLUMN "deleted" INTEGER;

CREATE TABLE "FileChange" (
    "checkpointId" TEXT NOT NULL,
    "componentId" TEXT NOT NULL,
    "path" TEXT NOT NULL,
    "change" TEXT NOT NULL,
    "kind" TEXT NOT NULL,
    "oldSha256" TEXT,
    "newSha256" TEXT,
    "oldMode" INTEGER,
    "newMode" INTEGER,
    "size" BIGINT,
    "createdAt" DATETIME NOT NULL,

    PRIMARY KEY ("checkpointId", "path"),
    CONSTRAINT "FileChange_checkpointId_fkey" FOREIGN KEY ("checkpointId") REFERENCES "Checkpoint" ("id") ON DELETE CASCADE ON UPDATE CASCADE
);

CREATE INDEX "FileChange_componentId_path_createdAt_idx" ON "FileChange"("componentId", "path", "createdAt");
