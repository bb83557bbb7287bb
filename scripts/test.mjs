// The test command (README, .ci/run): build, lint, typecheck, the Action bundle check, vitest; the last line printed
// is the plain count `N passed, N failed` that CI reads.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const bin = (name) => join(root, 'node_modules', '.bin', name);
const step = (title, cmd, args) => {
  process.stdout.write(`\n== ${title}\n`);
  const r = spawnSync(cmd, args, { cwd: root, stdio: 'inherit' });
  return r.status === 0;
};

let failedSteps = 0;
if (!step('build', process.execPath, [join(root, 'scripts/build.mjs')])) failedSteps++;
if (!step('lint (biome)', bin('biome'), ['check', '.'])) failedSteps++;
if (!step('typecheck (tsc --noEmit)', bin('tsc'), ['--noEmit', '-p', 'tsconfig.json'])) failedSteps++;
if (
  !step('action bundle (dist-action/ matches a fresh build)', process.execPath, [
    join(root, 'scripts/build-action.mjs'),
    '--check',
  ])
)
  failedSteps++;

const out = mkdtempSync(join(tmpdir(), 'stigmer-vitest-'));
const report = join(out, 'report.json');
step('tests (vitest)', bin('vitest'), [
  'run',
  ...process.argv.slice(2),
  '--reporter=default',
  '--reporter=json',
  `--outputFile.json=${report}`,
]);
let passed = 0;
let failed = 0;
if (existsSync(report)) {
  const r = JSON.parse(readFileSync(report, 'utf8'));
  passed = r.numPassedTests ?? 0;
  failed = (r.numFailedTests ?? 0) + (r.numFailedTestSuites ?? 0) - countSuitesWithFailedTests(r);
} else {
  failed = 1;
}
rmSync(out, { recursive: true, force: true });
failed += failedSteps;
console.log(`${passed} passed, ${failed} failed`);
process.exitCode = failed === 0 && passed > 0 ? 0 : 1;

// A suite that failed to load has no failed tests of its own; count it once as a failure.
function countSuitesWithFailedTests(r) {
  return (r.testResults ?? []).filter(
    (s) => s.status === 'failed' && (s.assertionResults ?? []).some((a) => a.status === 'failed'),
  ).length;
}
