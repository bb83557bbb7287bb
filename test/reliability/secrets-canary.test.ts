import { copyFileSync, existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { type CliResult, runStigmer, tempDir } from '../helpers/cli.js';
import { writeVault } from './vault.js';

const CANARY = 'canary-7f3a9c1e-first-LINE\n  CANARY:second:line:b41e77\nthird/line+99d2=canary';
const CANARY_CHANGED = 'canary-0c55aa21-changed-VALUE\nchanged:second:line:e91f03';

let tmp: { path: string; cleanup: () => void };
let db: string;
let home: string;
beforeEach(() => {
  tmp = tempDir('stigmer-canary-');
  db = join(tmp.path, 'state.db');
  home = join(tmp.path, 'home');
});
afterEach(() => tmp.cleanup());

/** Everything a leak could hide as: the value, each line, and their base64 at every alignment. */
function needles(value: string): string[] {
  const out = new Set<string>();
  for (const part of [value, ...value.split('\n').map((l) => l.trim())]) {
    if (part.length < 6) continue;
    out.add(part);
    for (let shift = 0; shift < 3; shift++) {
      const b64 = Buffer.from(part.slice(shift)).toString('base64');
      // Drop the last 4 characters: they depend on what follows the value in a larger buffer.
      const stable = b64.slice(0, Math.max(0, b64.length - 4));
      if (stable.length >= 8) {
        out.add(stable);
        out.add(stable.replaceAll('+', '-').replaceAll('/', '_'));
      }
    }
  }
  return [...out];
}

/** Fails with the haystack's name and the needle found; never prints the haystack itself. */
function expectNoLeak(name: string, haystack: string | Buffer, value: string): void {
  const text = typeof haystack === 'string' ? haystack : haystack.toString('latin1');
  const utf16 = typeof haystack === 'string' ? '' : haystack.toString('utf16le');
  for (const needle of needles(value)) {
    expect(
      text.includes(needle) || utf16.includes(needle),
      `${name} contains ${JSON.stringify(needle)}`,
    ).toBe(false);
  }
}

describe('secret canary', () => {
  it('never appears in output, plans, saved plans, the database or its WAL; --show-secrets shows it', async () => {
    const dir = join(tmp.path, 'stack');
    writeVault(dir);
    const run = (args: string[], secret = CANARY) =>
      runStigmer([...args, '--db', db], { env: { STIGMER_HOME: home, CANARY: secret } });
    const outputs: Array<[string, CliResult]> = [];
    const step = async (args: string[], secret = CANARY, expectedCode = 0) => {
      const r = await run(args, secret);
      expect(r.code, `${args.join(' ')}: ${r.stderr}`).toBe(expectedCode);
      outputs.push([args.join(' '), r]);
      return r;
    };

    await step(['init']);
    // A reader holds the database open, so the WAL is not checkpointed away when the CLI exits.
    // (SQLite deletes the WAL when the last connection closes; a connection counts once it has read.)
    const reader = new Database(db, { readonly: true });
    reader.prepare('SELECT count(*) FROM sqlite_master').get();
    const walCopies: Array<[string, Buffer]> = [];
    const snapshotFiles = (when: string) => {
      for (const suffix of ['', '-wal']) {
        const file = `${db}${suffix}`;
        if (existsSync(file)) {
          const copy = join(tmp.path, `copy-${walCopies.length}${suffix || '.db'}`);
          copyFileSync(file, copy);
          walCopies.push([`${when}: database${suffix}`, readFileSync(copy)]);
        }
      }
    };
    try {
      await step(['validate', dir]);
      const text = await step(['plan', dir]);
      expect(text.stdout).toContain('(sensitive)');
      const json = await step(['plan', dir, '--json']);
      JSON.parse(json.stdout);
      const planFile = join(tmp.path, 'saved.plan.json');
      await step(['plan', dir, '--out', planFile]);
      const savedPlan = readFileSync(planFile);
      await step(['apply', planFile, '--auto-approve']);
      snapshotFiles('after applying the saved plan');
      await step(['plan', dir, '--detailed-exitcode']);

      // Change the secret: the plan says so without showing either value.
      const changed = await step(['plan', dir], CANARY_CHANGED);
      expect(changed.stdout).toContain('(sensitive, changed)');
      await step(['apply', dir, '--auto-approve', '--json'], CANARY_CHANGED);
      snapshotFiles('after applying a changed value');

      const shown = await step(['get', 'environment', 'vault']);
      expect(shown.stdout).toContain('vault');
      for (const output of ['json', 'yaml']) {
        const r = await step(['get', 'environment', 'vault', '-o', output]);
        expect(r.stdout).toContain('(sensitive)');
      }
      await step(['get', 'environments']);
      await step(['history', 'environment', 'vault']);
      await step(['history', 'environment', 'vault', '-o', 'json']);
      snapshotFiles('at the end');

      for (const value of [CANARY, CANARY_CHANGED]) {
        for (const [name, r] of outputs) {
          expectNoLeak(`stdout of ${name}`, r.stdout, value);
          expectNoLeak(`stderr of ${name}`, r.stderr, value);
        }
        expectNoLeak('the saved plan file', savedPlan, value);
        for (const [name, bytes] of walCopies) expectNoLeak(name, bytes, value);
      }
      // Control: the copies hold the data written (the entry's description), so they were worth searching.
      expect(
        walCopies.some(([name, bytes]) => name.endsWith('-wal') && bytes.includes('holds the canary')),
      ).toBe(true);
    } finally {
      reader.close();
    }
    expectNoLeak('the database after close', readFileSync(db), CANARY_CHANGED);

    // Control: the needles do find the value where it is meant to be shown.
    const revealed = await run(['get', 'environment', 'vault', '--show-secrets', '-o', 'json']);
    expect(revealed.code, revealed.stderr).toBe(0);
    expect(JSON.stringify(JSON.parse(revealed.stdout))).toContain(
      JSON.stringify(CANARY_CHANGED).slice(1, -1),
    );
    expect(() => expectNoLeak('control', revealed.stdout, CANARY_CHANGED)).toThrow();
  }, 240_000); // hang guard: about twenty CLI runs, on a machine that may be loaded
});
