/** A one-Environment stack whose secret CANARY_SECRET comes from the CANARY variable (by default). */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

export function writeVault(dir: string, entry = 'valueFrom: {env: CANARY}'): void {
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, 'stigmer.yaml'), 'project: canary\n');
  writeFileSync(
    join(dir, 'vault.yaml'),
    `apiVersion: agentic.stigmer.ai/v1
kind: Environment
metadata:
  name: vault
spec:
  description: holds the canary
  data:
    REGION:
      value: eu-west-1
    CANARY_SECRET:
      isSecret: true
      ${entry}
      description: a distinctive multi-line value
`,
  );
}
