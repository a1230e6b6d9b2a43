/**
 * Live schema against contracts/generated/schema-snapshot.json (SPEC §2.4, §4 "drift"):
 * every table, column (type, nullability, default), index and constraint of schema
 * `runtime` that differs is named.
 */
import { contractPaths, readJsonContract } from '../../contracts/contract-files.ts';
import { diffSchemaSnapshots, readSchemaSnapshot, type SchemaSnapshot } from '../../reference-server/db/schema-snapshot.ts';
import type { Queryable } from './migration-drift.ts';

/** The snapshot generated from contracts/migrations (`npm run generate`). */
export function loadExpectedSchemaSnapshot(path: string = contractPaths.schemaSnapshot): SchemaSnapshot {
  const { $comment: _, ...snapshot } = readJsonContract<SchemaSnapshot & { $comment?: string }>(path);
  return snapshot;
}

/** Every difference between the live schema and the snapshot, e.g. `runtime.runs.status: column missing`. */
export async function findSchemaDrift(db: Queryable, expected: SchemaSnapshot = loadExpectedSchemaSnapshot()): Promise<string[]> {
  // readSchemaSnapshot only needs `query`; a Client serves as well as a Pool.
  const actual = await readSchemaSnapshot(db as Parameters<typeof readSchemaSnapshot>[0], expected.schema);
  return diffSchemaSnapshots(expected, actual);
}
