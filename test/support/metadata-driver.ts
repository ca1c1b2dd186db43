/**
 * Setup file of every test worker: on the PostgreSQL pass, loads the metadata
 * store's driver once, as the CLI and the server do at start (loadMetadataDriver),
 * so the cores the tests open in-process can use it.
 */
import { loadMetadataDriver } from "../../server/db";
import { METADATA_DATABASE_ENV } from "./metadata-store";

await loadMetadataDriver({ databaseUrl: process.env[METADATA_DATABASE_ENV] });
