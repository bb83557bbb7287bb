import { describe, expect, it } from 'vitest';
import type { CycleReport } from './cycle.js';
import { clockTime, createHumanPrinter, createJsonPrinter, cycleToJson, renderCycle } from './report.js';

const time = new Date(2025, 0, 2, 9, 5, 7);

function report(fields: Partial<CycleReport> & Pick<CycleReport, 'outcome'>): CycleReport {
  return {
    cycle: 3,
    time,
    project: 'demo',
    files: ['manifests/a.yaml'],
    summary: { added: 0, changed: 0, destroyed: 0 },
    changes: [],
    diagnostics: [],
    durationMs: 4,
    ...fields,
  };
}

describe('watch printers', () => {
  it('formats local time as HH:MM:SS', () => {
    expect(clockTime(time)).toBe('09:05:07');
  });

  it('prints one timestamped summary line per cycle', () => {
    expect(
      renderCycle(report({ outcome: 'applied', summary: { added: 1, changed: 2, destroyed: 0 } }), false),
    ).toBe('[09:05:07] Apply complete! Resources: 1 added, 2 changed, 0 destroyed.');
    expect(renderCycle(report({ outcome: 'no-changes' }), false)).toBe(
      '[09:05:07] No changes. Your resources match the manifests.',
    );
  });

  it('prints the diagnostics (file:line:col) before the error summary', () => {
    const text = renderCycle(
      report({
        outcome: 'invalid',
        diagnostics: [
          { severity: 'warning', file: 'manifests/b.yaml', line: 1, column: 1, message: 'old field' },
          { severity: 'error', file: 'manifests/a.yaml', line: 3, column: 5, message: 'bad', hint: 'fix it' },
          { severity: 'error', file: 'manifests/a.yaml', line: 9, column: 1, message: 'worse' },
        ],
      }),
      false,
    );
    expect(text.split('\n')).toEqual([
      'manifests/b.yaml:1:1: warning: old field',
      'manifests/a.yaml:3:5: bad',
      '  hint: fix it',
      'manifests/a.yaml:9:1: worse',
      '[09:05:07] 2 errors; nothing applied (last good state kept)',
    ]);
  });

  it('says why an apply failed and what to do', () => {
    const text = renderCycle(
      report({ outcome: 'failed', error: { code: 'BACKEND', message: 'database is locked', hint: 'retry' } }),
      false,
    );
    expect(text.split('\n')).toEqual([
      '  hint: retry',
      '[09:05:07] Apply failed: database is locked; nothing applied (last good state kept)',
    ]);
  });

  it('renders a cycle as one JSON object with diagnostics and error only when present', () => {
    expect(cycleToJson(report({ outcome: 'no-changes' }))).toEqual({
      time: time.toISOString(),
      cycle: 3,
      project: 'demo',
      files: ['manifests/a.yaml'],
      outcome: 'no-changes',
      applied: false,
      summary: { added: 0, changed: 0, destroyed: 0 },
      changes: [],
      durationMs: 4,
    });
    const failed = cycleToJson(report({ outcome: 'failed', error: { code: 'X', message: 'm' } }));
    expect(failed.error).toEqual({ code: 'X', message: 'm' });
    expect('diagnostics' in failed).toBe(false);
  });

  it('keeps stdout pure NDJSON in --json mode', () => {
    const out: string[] = [];
    const notices: string[] = [];
    const printer = createJsonPrinter({ write: (t) => out.push(t), writeNotice: (t) => notices.push(t) });
    printer.watching({ dir: 'manifests', project: 'demo', prune: false, debounceMs: 300 });
    printer.applyEvent({
      type: 'apply-finished',
      summary: { added: 1, changed: 0, destroyed: 0 },
      durationMs: 1,
    });
    printer.cycle(report({ outcome: 'applied', summary: { added: 1, changed: 0, destroyed: 0 } }));
    printer.stopped('Stopped watching.');
    expect(out).toHaveLength(1);
    expect(JSON.parse(out[0]!)).toMatchObject({ cycle: 3, applied: true, summary: { added: 1 } });
    expect(notices.join('')).toContain('Watching manifests (project demo) — press Ctrl-C to stop');
  });

  it('starts the human output with what is watched', () => {
    const out: string[] = [];
    const printer = createHumanPrinter({ color: false, write: (t) => out.push(t) });
    printer.watching({ dir: 'manifests', project: 'demo', prune: true, debounceMs: 300 });
    expect(out).toEqual(['Watching manifests (project demo) — press Ctrl-C to stop\n']);
  });
});
