/**
 * Argument normalisation before oclif parses: Terraform's spelling of booleans
 * (`--prune=false`, `--auto-approve=true`) becomes oclif's (`--no-prune`, `--auto-approve`).
 */

/** Boolean flags that accept `--flag=true|false`. */
export const BOOLEAN_FLAGS = new Set([
  'prune',
  'auto-approve',
  'json',
  'detailed-exitcode',
  'allow-empty',
  'show-secrets',
  'allow-plaintext-secrets',
  'reseal-secrets',
  'color',
  'refresh',
  'force',
]);

export function normalizeArgv(argv: string[]): string[] {
  const out: string[] = [];
  for (const arg of argv) {
    if (arg === '--') {
      out.push(...argv.slice(argv.indexOf(arg)));
      break;
    }
    const m = /^--([a-z][a-z0-9-]*)=(true|false|TRUE|FALSE|True|False|1|0)$/.exec(arg);
    if (m && BOOLEAN_FLAGS.has(m[1]!)) {
      const on = ['true', 'TRUE', 'True', '1'].includes(m[2]!);
      out.push(on ? `--${m[1]}` : `--no-${m[1]}`);
      continue;
    }
    out.push(arg);
  }
  return out;
}
