-- Database targets of a component (snapshotted with `checkpoint create --db`).
ALTER TABLE "Component" ADD COLUMN "dbTargets" JSONB NOT NULL DEFAULT '[]';

-- Holders of PostgreSQL advisory locks (unused on SQLite; the schema is shared with the PostgreSQL variant).
CREATE TABLE "LockHolder" (
    "lockKey" TEXT NOT NULL PRIMARY KEY,
    "backendPid" INTEGER NOT NULL,
    "pid" INTEGER NOT NULL,
    "host" TEXT NOT NULL,
    "processStartedAt" TEXT NOT NULL,
    "operation" TEXT NOT NULL,
    "since" DATETIME NOT NULL
);
