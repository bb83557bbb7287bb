/** Types of scripts/pg-cluster.mjs (a plain module, shared by tests, bench and torture scripts). */
import type { QueryResult } from 'pg';

export interface PgCluster {
  readonly port: number;
  readonly dataDir: string;
  /** `postgres://postgres:PASSWORD@127.0.0.1:PORT/DATABASE[?params]`. */
  url(database?: string, params?: string): string;
  /** The last lines PostgreSQL logged (for a failing test's message). */
  logs(): string;
  query(sql: string, values?: unknown[], database?: string): Promise<QueryResult>;
  createDatabase(name: string): Promise<string>;
  createSchema(
    prefix?: string,
    database?: string,
  ): Promise<{ schema: string; url: string; drop: () => Promise<unknown> }>;
  restart(): Promise<void>;
  stopServer(): Promise<void>;
  startServer(): Promise<void>;
  stop(): Promise<void>;
}

export function startPgCluster(options?: {
  log?: (line: string) => void;
  flags?: string[];
}): Promise<PgCluster>;
