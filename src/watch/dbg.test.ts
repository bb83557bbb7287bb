import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { it } from 'vitest';
import { createHumanPrinter } from './report.js';
import { startWatch } from './session.js';
import { MemoryBackend } from './testing.js';

const skill = (n: string, t: string) =>
  `apiVersion: agentic.stigmer.ai/v1\nkind: Skill\nmetadata:\n  name: ${n}\nspec:\n  tag: "${t}"\n  skillMd: "# x"\n`;
it('dbg', async () => {
  const cwd = mkdtempSync(join(tmpdir(), 'dbg-'));
  const root = join(cwd, 'manifests');
  mkdirSync(root);
  writeFileSync(join(root, 'a.yaml'), skill('a', 'v0'));
  const b = new MemoryBackend();
  const s = await startWatch({
    backend: b.asBackend(),
    dir: 'manifests',
    cwd,
    prune: false,
    debounceMs: 20,
    project: 'demo',
    printer: createHumanPrinter({ color: false, write: (t) => console.log('OUT', t) }),
  });
  for (let i = 0; i < 4; i++) {
    writeFileSync(join(root, 'a.yaml'), skill('a', 'v' + (i + 1)));
    await new Promise((r) => setTimeout(r, 500));
    console.log('tag', b.skill('a')?.spec.tag);
  }
  await s.stop();
});
