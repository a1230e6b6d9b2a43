/**
 * Introspects the tables, columns, indexes and constraints of one schema into a
 * stable, diffable document. contracts/generated/schema-snapshot.json is this
 * document for a database migrated from the contract; the drift lane compares a
 * live database with it (SPEC §2.4, §4 "drift").
 */
import type { Pool } from 'pg';

export interface SchemaSnapshot {
  schema: string;
  tables: Record<string, TableSnapshot>;
}

export interface TableSnapshot {
  columns: Record<string, { type: string; nullable: boolean; default: string | null }>;
  /** index name → definition with the schema-qualified table name. */
  indexes: Record<string, string>;
  /** constraint name → `<contype> <definition>`. */
  constraints: Record<string, string>;
}

export async function readSchemaSnapshot(pool: Pool, schema = 'runtime'): Promise<SchemaSnapshot> {
  const tables: Record<string, TableSnapshot> = {};
  const { rows: tableRows } = await pool.query<{ name: string }>(
    `SELECT c.relname AS name FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
      WHERE n.nspname = $1 AND c.relkind IN ('r', 'p') ORDER BY c.relname`,
    [schema],
  );
  for (const { name } of tableRows) tables[name] = { columns: {}, indexes: {}, constraints: {} };

  const { rows: columns } = await pool.query<{ table: string; column: string; type: string; not_null: boolean; default: string | null }>(
    `SELECT c.relname AS table, a.attname AS column, format_type(a.atttypid, a.atttypmod) AS type,
            a.attnotnull AS not_null, pg_get_expr(d.adbin, d.adrelid) AS default
       FROM pg_attribute a
       JOIN pg_class c ON c.oid = a.attrelid
       JOIN pg_namespace n ON n.oid = c.relnamespace
       LEFT JOIN pg_attrdef d ON d.adrelid = a.attrelid AND d.adnum = a.attnum
      WHERE n.nspname = $1 AND c.relkind IN ('r', 'p') AND a.attnum > 0 AND NOT a.attisdropped
      ORDER BY c.relname, a.attname`,
    [schema],
  );
  for (const row of columns) {
    const table = tables[row.table];
    if (table) table.columns[row.column] = { type: row.type, nullable: !row.not_null, default: row.default };
  }

  const { rows: indexes } = await pool.query<{ table: string; name: string; definition: string }>(
    `SELECT tablename AS table, indexname AS name, indexdef AS definition
       FROM pg_indexes WHERE schemaname = $1 ORDER BY tablename, indexname`,
    [schema],
  );
  for (const row of indexes) {
    const table = tables[row.table];
    if (table) table.indexes[row.name] = row.definition;
  }

  const { rows: constraints } = await pool.query<{ table: string; name: string; type: string; definition: string }>(
    `SELECT c.relname AS table, con.conname AS name, con.contype AS type, pg_get_constraintdef(con.oid, true) AS definition
       FROM pg_constraint con
       JOIN pg_class c ON c.oid = con.conrelid
       JOIN pg_namespace n ON n.oid = c.relnamespace
      WHERE n.nspname = $1 ORDER BY c.relname, con.conname`,
    [schema],
  );
  const kinds: Record<string, string> = { p: 'primary_key', u: 'unique', f: 'foreign_key', c: 'check', x: 'exclusion' };
  for (const row of constraints) {
    const table = tables[row.table];
    if (table) table.constraints[row.name] = `${kinds[row.type] ?? row.type} ${row.definition}`;
  }
  return { schema, tables };
}

/** Names every difference between an expected and an actual snapshot, e.g. `runtime.runs.status: column missing`. */
export function diffSchemaSnapshots(expected: SchemaSnapshot, actual: SchemaSnapshot): string[] {
  const differences: string[] = [];
  const prefix = expected.schema;
  for (const [tableName, want] of Object.entries(expected.tables)) {
    const got = actual.tables[tableName];
    if (!got) {
      differences.push(`${prefix}.${tableName}: table missing`);
      continue;
    }
    for (const [column, spec] of Object.entries(want.columns)) {
      const actualColumn = got.columns[column];
      if (!actualColumn) differences.push(`${prefix}.${tableName}.${column}: column missing`);
      else {
        if (actualColumn.type !== spec.type) differences.push(`${prefix}.${tableName}.${column}: type ${actualColumn.type}, expected ${spec.type}`);
        if (actualColumn.nullable !== spec.nullable) differences.push(`${prefix}.${tableName}.${column}: ${actualColumn.nullable ? 'nullable' : 'NOT NULL'}, expected ${spec.nullable ? 'nullable' : 'NOT NULL'}`);
        if (actualColumn.default !== spec.default) differences.push(`${prefix}.${tableName}.${column}: default ${actualColumn.default ?? 'none'}, expected ${spec.default ?? 'none'}`);
      }
    }
    for (const column of Object.keys(got.columns)) {
      if (!(column in want.columns)) differences.push(`${prefix}.${tableName}.${column}: unexpected column`);
    }
    for (const kind of ['indexes', 'constraints'] as const) {
      const noun = kind === 'indexes' ? 'index' : 'constraint';
      for (const [name, definition] of Object.entries(want[kind])) {
        if (!(name in got[kind])) differences.push(`${prefix}.${tableName}: ${noun} ${name} missing`);
        else if (got[kind][name] !== definition) differences.push(`${prefix}.${tableName}: ${noun} ${name} is "${got[kind][name]}", expected "${definition}"`);
      }
      for (const name of Object.keys(got[kind])) {
        if (!(name in want[kind])) differences.push(`${prefix}.${tableName}: unexpected ${noun} ${name}`);
      }
    }
  }
  for (const tableName of Object.keys(actual.tables)) {
    if (!(tableName in expected.tables)) differences.push(`${prefix}.${tableName}: unexpected table`);
  }
  return differences;
}
