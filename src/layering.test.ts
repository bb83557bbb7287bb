/**
 * The layering of STYLE.md and docs/architecture.md, checked on the source: the library core
 * (everything in src/ outside the adapters) imports nothing from src/cli/, nor oclif, chokidar
 * or Octokit; the pure planner imports nothing from the backend layer.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { describe, expect, it } from 'vitest';

const src = import.meta.dirname;
const ADAPTERS = ['commands', 'cli', 'watch', 'action'];

function sources(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const path = join(dir, e.name);
    if (e.isDirectory()) return e.name === 'gen' ? [] : sources(path);
    return e.name.endsWith('.ts') && !e.name.endsWith('.test.ts') ? [path] : [];
  });
}

/** The module specifiers a file imports (static and dynamic). */
function imports(file: string): string[] {
  const text = readFileSync(file, 'utf8');
  return [...text.matchAll(/(?:from\s+|import\(\s*)'([^']+)'/g)].map((m) => m[1] as string);
}

describe('layering', () => {
  const core = sources(src).filter((f) => !ADAPTERS.includes(relative(src, f).split('/')[0] as string));

  it('the core imports nothing from src/cli/, oclif, chokidar or Octokit', () => {
    const offending = core.flatMap((file) =>
      imports(file)
        .filter((m) => /(^|\/)cli\//.test(m) || /^(@oclif\/|chokidar|@octokit\/)/.test(m))
        .map((m) => `${relative(src, file)} imports ${m}`),
    );
    expect(core.length).toBeGreaterThan(20);
    expect(offending).toEqual([]);
  });

  it('the planner imports nothing from the backend layer', () => {
    const plan = core.filter((f) => relative(src, f).startsWith('plan/'));
    const offending = plan.flatMap((file) =>
      imports(file)
        .filter((m) => m.includes('/backend/'))
        .map((m) => `${relative(src, file)} imports ${m}`),
    );
    expect(offending).toEqual([]);
  });
});
