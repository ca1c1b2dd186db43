-- DropForeignKey
ALTER TABLE "ManifestEntry" DROP CONSTRAINT "ManifestEntry_manifestSha_fkey";

-- AlterTable
ALTER TABLE "Checkpoint" ADD COLUMN     "added" INTEGER,
ADD COLUMN     "baseId" TEXT COLLATE "C",
ADD COLUMN     "deleted" INTEGER,
ADD COLUMN     "modified" INTEGER;

-- DropTable
DROP TABLE "ManifestEntry";

-- CreateTable
CREATE TABLE "FileChange" (
    "checkpointId" TEXT COLLATE "C" NOT NULL,
    "componentId" TEXT COLLATE "C" NOT NULL,
    "path" TEXT COLLATE "C" NOT NULL,
    "change" TEXT COLLATE "C" NOT NULL,
    "kind" TEXT COLLATE "C" NOT NULL,
    "oldSha256" TEXT COLLATE "C",
    "newSha256" TEXT COLLATE "C",
    "oldMode" INTEGER,
    "newMode" INTEGER,
    "size" BIGINT,
    "createdAt" TIMESTAMP(3) NOT NULL,

    CONSTRAINT "FileChange_pkey" PRIMARY KEY ("checkpointId","path")
);

-- CreateIndex
CREATE INDEX "FileChange_componentId_path_createdAt_idx" ON "FileChange"("componentId", "path", "createdAt");

-- AddForeignKey
ALTER TABLE "FileChange" ADD CONSTRAINT "FileChange_checkpointId_fkey" FOREIGN KEY ("checkpointId") REFERENCES "Checkpoint"("id") ON DELETE CASCADE ON UPDATE CASCADE;

