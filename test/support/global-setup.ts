/**
 * Vitest globalSetup: one PostgreSQL for the whole run, provided to every test file
 * (each file then creates its own database, so files run in parallel).
 */
import type { TestProject } from 'vitest/node';
import { startTestPostgres } from './postgres-cluster.ts';

declare module 'vitest' {
  export interface ProvidedContext {
    pgAdminUrl: string;
    pgSource: string;
  }
}

export default async function setup(project: TestProject) {
  const postgres = await startTestPostgres((line) => process.stderr.write(`[global-setup] ${line}\n`));
  project.provide('pgAdminUrl', postgres.adminUrl);
  project.provide('pgSource', postgres.source);
  return async () => {
    await postgres.stop();
  };
}
