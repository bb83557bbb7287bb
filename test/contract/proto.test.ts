/**
 * The protobuf contract: the committed code in src/gen is exactly what `npm run gen` produces
 * from proto/ (regenerated into a temp dir and compared file by file), the proto passes
 * `buf lint`, and BackendService keeps every RPC the backends and the server rely on.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { BackendService } from '../../src/gen/stigmer/backend/v1/backend_pb.js';
import { repoRoot } from '../helpers/cli.js';

const bin = (name: string) => join(repoRoot, 'node_modules', '.bin', name);
const out = mkdtempSync(join(tmpdir(), 'stigmer-gen-'));

afterAll(() => rmSync(out, { recursive: true, force: true }));

function files(dir: string): string[] {
  const found: string[] = [];
  const walk = (d: string) => {
    for (const entry of readdirSync(d)) {
      const path = join(d, entry);
      if (statSync(path).isDirectory()) walk(path);
      else found.push(relative(dir, path));
    }
  };
  walk(dir);
  return found.sort();
}

describe('protobuf contract', () => {
  it('src/gen is up to date with proto/ (run `npm run gen` when this fails)', () => {
    execFileSync(bin('buf'), ['generate', '--output', out], { cwd: repoRoot, stdio: 'pipe' });
    const fresh = join(out, 'src', 'gen');
    const committed = join(repoRoot, 'src', 'gen');
    expect(files(committed)).toEqual(files(fresh));
    for (const file of files(fresh)) {
      const same = readFileSync(join(fresh, file), 'utf8') === readFileSync(join(committed, file), 'utf8');
      expect(same, `src/gen/${file} is stale: run \`npm run gen\` and commit the result`).toBe(true);
    }
  });

  it('passes buf lint', () => {
    expect(() => execFileSync(bin('buf'), ['lint'], { cwd: repoRoot, stdio: 'pipe' })).not.toThrow();
  });

  it('BackendService has the original RPCs and the generic resource RPCs', () => {
    expect(BackendService.typeName).toBe('stigmer.backend.v1.BackendService');
    const names = BackendService.methods.map((m) => m.name);
    const required = [
      'CreateExecution',
      'GetExecution',
      'UpdateExecutionStatus',
      'ListExecutions',
      'CancelExecution',
      'GetExecutionContext',
      'HeartbeatExecution',
      'GetSession',
      'GetAgent',
      'ListAgents',
      'CreateAgent',
      'UpdateAgent',
      'DeleteAgent',
      'GetWorkflow',
      'ListWorkflows',
      'CreateWorkflow',
      'UpdateWorkflow',
      'DeleteWorkflow',
      'GetEnvironment',
      'CreateEnvironment',
      'UpdateEnvironment',
      'StoreArtifact',
      'GetArtifact',
      'ListResources',
      'GetResource',
      'ApplyChanges',
      'DeleteResource',
      'ListVersions',
      'GetStatus',
    ];
    for (const rpc of required) expect(names).toContain(rpc);
    const resource = BackendService.method.getResource.output.field.resource!.message!;
    expect(resource.field.spec!.message!.typeName).toBe('google.protobuf.Struct');
    expect(resource.field.status!.message!.typeName).toBe('google.protobuf.Struct');
  });
});
