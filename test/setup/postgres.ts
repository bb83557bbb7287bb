/**
 * vitest globalSetup: one throwaway PostgreSQL cluster for the whole run (scripts/pg-cluster.mjs),
 * shared by every test file that needs PostgreSQL; each of them makes its own schemas or
 * databases in it (test/helpers/postgres.ts). With STIGMER_TEST_POSTGRES_URL set, that server is
 * used instead (its database must allow CREATE SCHEMA and CREATE DATABASE).
 */
import type { TestProject } from 'vitest/node';
import { startPgCluster } from '../../scripts/pg-cluster.mjs';

declare module 'vitest' {
  export interface ProvidedContext {
    /** Admin URL of the shared PostgreSQL cluster (database `postgres`). */
    postgresUrl: string;
  }
}

export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const external = process.env.STIGMER_TEST_POSTGRES_URL;
  if (external) {
    project.provide('postgresUrl', external);
    return async () => {};
  }
  const cluster = await startPgCluster();
  project.provide('postgresUrl', cluster.url());
  return () => cluster.stop();
}
