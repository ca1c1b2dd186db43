/**
 * Global setup of the PostgreSQL pass (SAFETYNET_TEST_METADATA=postgres): one
 * database for the whole run, dropped at its end; each data directory a test
 * makes gets its own schema in it (test/support/metadata-store.ts). The URL goes
 * to the test workers (and the processes they start) through the environment.
 */
import { createTestDatabase } from "./postgres";
import { METADATA_DATABASE_ENV } from "./metadata-store";

export default async function setup(): Promise<() => Promise<void>> {
  const database = await createTestDatabase("metadata_pass");
  process.env[METADATA_DATABASE_ENV] = database.url;
  process.stderr.write(`[postgres pass] the metadata of every data directory lives in a schema of database ${database.name}\n`);
  return async () => {
    delete process.env[METADATA_DATABASE_ENV];
    await database.drop();
  };
}
