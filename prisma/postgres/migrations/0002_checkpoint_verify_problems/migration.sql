-- The files a verification (or a rollback plan, or an archive export) found damaged, so the
-- dashboard can disable Roll back and name them without re-hashing.
ALTER TABLE "Checkpoint" ADD COLUMN "verifyProblems" JSONB;
