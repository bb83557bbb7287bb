/**
 * Shared set-up for the reconciler integration tests: a temp working directory holding a copy
 * of the default stack (`manifests/`), its own STIGMER_HOME, a `stigmer` runner whose cwd is
 * that directory, and read-only views of the SQLite file to prove what was (not) written.
 */
import { cpSync, existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import Database from 'better-sqlite3';
import { type CliResult, repoRoot, runStigmer, tempDir } from '../helpers/cli.js';

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
  /** The working directory (cwd of every run); holds `manifests/`. */
  dir: string;
  /** STIGMER_HOME of this stack. */
  home: string;
  db: string;
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
  cleanup(): void;
}

/**
 * A fresh temp directory; with `withDefaultStack` it holds a copy of the repository's
 * `manifests/` (the default stack).
 */
export function makeStack(options: { withDefaultStack?: boolean; home?: string } = {}): Stack {
  const tmp = tempDir('stigmer-reconcile-');
  const dir = join(tmp.path, 'work');
  mkdirSync(dir);
  const home = options.home ?? join(tmp.path, 'home');
  const db = join(home, 'local.db');
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
    dir,
    home,
    db,
    run: (args, o = {}) =>
      runStigmer(args, {
        cwd: o.cwd ?? dir,
        env: { STIGMER_HOME: home, ...o.env },
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
    cleanup: () => tmp.cleanup(),
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
