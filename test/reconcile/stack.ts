/**
 * Shared set-up for the reconciler integration tests: a temp working directory holding a copy
 * of the default stack (`manifests/`), its own STIGMER_HOME, a `stigmer` runner whose cwd is
 * that directory, and read-only views of the SQLite file to prove what was (not) written.
 *
 * Every stack runs on one of the two backends (`BACKENDS`): `local`, the SQLite file of its
 * STIGMER_HOME; or `cloud`, a real `stigmer server` process (started on the stack's first run,
 * stopped by `cleanup`) serving a SQLite file, which the views read. Stacks sharing a home share
 * the state on both. Test files run the same bodies on both with `describe.each(BACKENDS)`.
 */
import { cpSync, existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import Database from 'better-sqlite3';
import { type CliResult, repoRoot, runStigmer, tempDir } from '../helpers/cli.js';
import { type ServerProcess, startServer } from '../helpers/server.js';

export type BackendKind = 'local' | 'cloud';
/** The backends every reconciler test runs on. */
export const BACKENDS: readonly BackendKind[] = ['local', 'cloud'];

/** One `stigmer server` per STIGMER_HOME of the cloud stacks, started when first needed. */
class LazyServer {
  private started: Promise<ServerProcess> | null = null;
  private users = 0;
  constructor(readonly db: string) {}
  acquire(): void {
    this.users++;
  }
  get(): Promise<ServerProcess> {
    this.started ??= startServer({ db: this.db });
    return this.started;
  }
  /** Stops the process when the last stack using it is cleaned up; true then. */
  async release(): Promise<boolean> {
    if (--this.users > 0) return false;
    if (this.started) {
      const server = await this.started;
      await server.stop();
      server.cleanup();
    }
    rmSync(dirname(this.db), { recursive: true, force: true });
    return true;
  }
}
const servers = new Map<string, LazyServer>();

/** The six declared kinds and their tables in the local store. */
export const RESOURCE_TABLES = {
  Agent: 'agents',
  Skill: 'skills',
  Environment: 'environments',
  Workflow: 'workflows',
  AgentInstance: 'agent_instances',
  WorkflowInstance: 'workflow_instances',
} as const;

export interface Row {
  kind: string;
  name: string;
  version: number;
  labels: Record<string, string>;
  annotations: Record<string, string>;
  spec: Record<string, unknown>;
}

export interface Stack {
  backend: BackendKind;
  /** The working directory (cwd of every run); holds `manifests/`. */
  dir: string;
  /** STIGMER_HOME of this stack. */
  home: string;
  /** The SQLite file holding the state (the server's file on cloud). */
  db: string;
  /** What plans and saved plans name as their backend (`backend` of the JSON plan). */
  backendInfo(): Promise<{ type: BackendKind; location: string }>;
  /** Environment variables that select this stack's backend (for processes started by hand). */
  backendEnv(): Promise<Record<string, string>>;
  /** Runs `stigmer ARGS` in `dir` with this STIGMER_HOME. */
  run(
    args: string[],
    options?: { input?: string; cwd?: string; env?: Record<string, string> },
  ): Promise<CliResult>;
  /** Writes a file under `dir` (parents created). */
  write(rel: string, content: string | Uint8Array): void;
  read(rel: string): string;
  remove(rel: string): void;
  /** Every resource row, sorted by kind and name (empty when the database does not exist). */
  rows(): Row[];
  row(kind: keyof typeof RESOURCE_TABLES, name: string): Row | undefined;
  /** Number of history rows (api_resource_versions). */
  historyCount(): number;
  /** A string that changes whenever any resource or history row changes. */
  snapshot(): string;
  /** Stops the stack's server (cloud) and removes its directories. */
  cleanup(): Promise<void>;
}

/**
 * A fresh temp directory; with `withDefaultStack` it holds a copy of the repository's
 * `manifests/` (the default stack).
 */
export function makeStack(
  options: { withDefaultStack?: boolean; home?: string; backend?: BackendKind } = {},
): Stack {
  const backend = options.backend ?? 'local';
  const tmp = tempDir('stigmer-reconcile-');
  const dir = join(tmp.path, 'work');
  mkdirSync(dir);
  const home = options.home ?? join(tmp.path, 'home');
  let server: LazyServer | undefined;
  if (backend === 'cloud') {
    server = servers.get(home);
    if (!server) {
      // In a directory of its own: it outlives this stack while others share it.
      server = new LazyServer(join(tempDir('stigmer-server-state-').path, 'state.db'));
      servers.set(home, server);
    }
    server.acquire();
  }
  const db = server ? server.db : join(home, 'local.db');
  const backendEnv = async (): Promise<Record<string, string>> => {
    if (!server) return {};
    const s = await server.get();
    return { STIGMER_BACKEND: 'cloud', STIGMER_ENDPOINT: s.url, STIGMER_TOKEN: s.token };
  };
  if (options.withDefaultStack)
    cpSync(join(repoRoot, 'manifests'), join(dir, 'manifests'), { recursive: true });

  const query = <T>(fn: (d: Database.Database) => T, empty: T): T => {
    if (!existsSync(db)) return empty;
    const d = new Database(db, { readonly: true, fileMustExist: true });
    try {
      return fn(d);
    } finally {
      d.close();
    }
  };
  const rows = (): Row[] =>
    query((d) => {
      const out: Row[] = [];
      for (const [kind, table] of Object.entries(RESOURCE_TABLES)) {
        const list = d
          .prepare(`SELECT name, version, labels, annotations, spec FROM ${table} ORDER BY name`)
          .all() as Array<{
          name: string;
          version: number;
          labels: string;
          annotations: string;
          spec: string;
        }>;
        for (const r of list) {
          out.push({
            kind,
            name: r.name,
            version: r.version,
            labels: JSON.parse(r.labels),
            annotations: JSON.parse(r.annotations),
            spec: JSON.parse(r.spec),
          });
        }
      }
      return out;
    }, []);
  const historyCount = () =>
    query((d) => (d.prepare('SELECT count(*) AS n FROM api_resource_versions').get() as { n: number }).n, 0);

  return {
    backend,
    dir,
    home,
    db,
    backendEnv,
    async backendInfo() {
      return server ? { type: 'cloud', location: (await server.get()).url } : { type: 'local', location: db };
    },
    run: async (args, o = {}) =>
      runStigmer(args, {
        cwd: o.cwd ?? dir,
        env: { STIGMER_HOME: home, ...(await backendEnv()), ...o.env },
        ...(o.input !== undefined ? { input: o.input } : {}),
      }),
    write(rel, content) {
      const path = join(dir, rel);
      mkdirSync(dirname(path), { recursive: true });
      writeFileSync(path, content);
    },
    read: (rel) => readFileSync(join(dir, rel), 'utf8'),
    remove: (rel) => rmSync(join(dir, rel), { recursive: true, force: true }),
    rows,
    row: (kind, name) => rows().find((r) => r.kind === kind && r.name === name),
    historyCount,
    snapshot: () => JSON.stringify({ rows: rows(), history: historyCount() }),
    async cleanup() {
      if (server && (await server.release())) servers.delete(home);
      tmp.cleanup();
    },
  };
}

/** A minimal valid Agent manifest. */
export function agentYaml(
  name: string,
  instructions = 'You help users with their questions.',
  extra = '',
): string {
  return [
    'apiVersion: agentic.stigmer.ai/v1',
    'kind: Agent',
    'metadata:',
    `  name: ${name}`,
    extra,
    'spec:',
    `  instructions: ${JSON.stringify(instructions)}`,
    '',
  ]
    .filter((l) => l !== '')
    .join('\n')
    .concat('\n');
}

/** Lines of output that look like a JavaScript stack frame. */
export const STACK_FRAME = /^\s+at .+(:\d+:\d+\)?|\(native\))$/m;

/** Any ANSI escape sequence. */
export const ANSI = /\u001b\[/;

/** The names of the nine resources of the default stack, as "Kind/name". */
export const DEFAULT_STACK = [
  'Agent/code-reviewer',
  'Agent/github-analyst',
  'Agent/github-commenter',
  'Agent/review-synthesizer',
  'Agent/support-bot',
  'Agent/test-analyzer',
  'Environment/github-env',
  'Skill/code-review-guidelines',
  'Workflow/pr-review-workflow',
];
