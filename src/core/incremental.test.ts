/**
 * The incremental planner's claim, checked against the full pipeline: after any sequence of
 * edits, outside writes, applies and settles, `IncrementalPlanner.plan` gives the same plan
 * (changes, summary, project) as `planParsed` on the same input and live view, and throws the
 * same ValidationError when the input is bad. Everything is real: parsed YAML, a SQLite file,
 * `applyPlan`, a LiveStateCache, and a second connection to the same file for outside writes.
 */
import { randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { applyPlan } from '../apply/apply.js';
import { type LocalBackend, openLocalBackend } from '../backend/local/index.js';
import { type Diagnostic, ValidationError } from '../errors.js';
import { parseManifestFile } from '../manifest/index.js';
import type { ParsedFile } from '../manifest/types.js';
import { planHasErrors } from '../plan/plan.js';
import type { Plan, PlannedChange } from '../plan/types.js';
import { LiveStateCache } from '../watch/live.js';
import { IncrementalPlanner, type IncrementalPlanResult, type LiveView } from './incremental.js';
import { type ParsedSources, type PlanResult, planParsed, type ReconcileOptions } from './reconcile.js';

/** FUZZ_SCALE=N multiplies the run count (long local runs; CI uses 1). */
const SCALE = Math.max(1, Number.parseInt(process.env.FUZZ_SCALE ?? '1', 10) || 1);

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };
type Spec = { [key: string]: Json };
type Kind = 'Skill' | 'Agent' | 'Environment' | 'Workflow' | 'AgentInstance' | 'WorkflowInstance';

interface Doc {
  file: string;
  kind: Kind;
  name: string;
  labels: Record<string, string>;
  annotations?: Record<string, string>;
  spec: Spec;
}

// ---------------------------------------------------------------------------------------------
// One session: a manifest root, two connections to one SQLite file, a LiveStateCache and a planner.

class Session {
  readonly dir: string;
  readonly root: string;
  backend!: LocalBackend;
  /** A second connection to the same database: "another process". */
  outside!: LocalBackend;
  live!: LiveStateCache;
  planner!: IncrementalPlanner;
  options!: ReconcileOptions;
  /** Current text and parse of each file, in input order (unchanged text keeps the same object). */
  private readonly files = new Map<string, { text: string; parsed: ParsedFile }>();

  constructor(dir: string) {
    this.dir = dir;
    this.root = join(dir, 'manifests');
    mkdirSync(this.root, { recursive: true });
  }

  async open(extra: Partial<ReconcileOptions> = {}): Promise<this> {
    this.backend = await openLocalBackend({ path: join(this.dir, 'local.db') });
    this.outside = await openLocalBackend({ path: join(this.dir, 'local.db') });
    this.live = new LiveStateCache(this.backend);
    this.options = {
      cwd: this.root,
      prune: true,
      allowEmpty: false,
      secrets: {
        allowPlaintextSecrets: true,
        home: join(this.dir, 'home'),
        // src/secrets/key.ts: base64 (or hex) of 32 bytes.
        env: { STIGMER_SECRET_KEY: randomBytes(32).toString('base64'), PRESENT_VAR: 'from-env' },
      },
      ...extra,
    };
    this.planner = new IncrementalPlanner(this.backend, this.options);
    return this;
  }

  async close(): Promise<void> {
    await this.backend.close();
    await this.outside.close();
  }

  /**
   * Sets the files (name → text, in order); a file whose text is unchanged keeps its ParsedFile
   * object, as the watch cache does, unless listed in `touch` (saved again with the same text).
   */
  setFiles(texts: ReadonlyArray<readonly [string, string]>, touch: ReadonlySet<string> = new Set()): void {
    const next = new Map<string, { text: string; parsed: ParsedFile }>();
    for (const [name, text] of texts) {
      const before = this.files.get(name);
      if (before && before.text === text && !touch.has(name)) next.set(name, before);
      else next.set(name, { text, parsed: parseManifestFile(name, text) });
    }
    this.files.clear();
    for (const [k, v] of next) this.files.set(k, v);
  }

  input(): ParsedSources {
    return { root: this.root, project: 'inc', files: [...this.files.values()].map((f) => f.parsed) };
  }

  /** Both paths on the same input and view; asserts they agree and returns both outcomes. */
  async planBoth(): Promise<{
    inc: Outcome<IncrementalPlanResult>;
    full: Outcome<PlanResult>;
    view: LiveView;
  }> {
    const input = this.input();
    const view = await this.live.view();
    const inc = attempt(() => this.planner.plan(input, view));
    const full = attempt(() => planParsed(this.backend, input, [...view.byKey.values()], this.options));
    expectSameOutcome(inc, full);
    return { inc, full, view };
  }

  async apply(plan: Plan): Promise<void> {
    await applyPlan(this.backend, plan, { message: 'test' });
    await this.live.applied(plan.changes);
  }
}

type Outcome<T> = { ok: T } | { error: ValidationError };

function attempt<T>(fn: () => T): Outcome<T> {
  try {
    return { ok: fn() };
  } catch (err) {
    if (err instanceof ValidationError) return { error: err };
    throw err;
  }
}

const shownDiagnostic = (d: Diagnostic) => ({
  severity: d.severity,
  file: d.file,
  line: d.line,
  column: d.column,
  message: d.message,
});

/**
 * A change in comparable form. Sealing a secret uses a fresh random IV every time, so the same
 * plaintext sealed by the two paths (or sealed in an earlier cycle and kept by the incremental
 * planner's settled state) has a different `sealed.ciphertext`; its `sealed.hash` is
 * deterministic and stays compared, as do the applied-hash annotation and everything else.
 */
function comparable(c: PlannedChange): unknown {
  return maskCiphertext({
    action: c.action,
    kind: c.kind,
    name: c.name,
    source: c.source,
    expectedVersion: c.expectedVersion,
    drift: c.drift,
    reason: c.reason ?? null,
    patch: c.patch,
    before: c.before,
    after: c.after,
    write: c.write ?? null,
  });
}

function maskCiphertext(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(maskCiphertext);
  if (value === null || typeof value !== 'object') return value;
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(value)) {
    out[k] = k === 'ciphertext' && typeof v === 'string' ? '(ciphertext)' : maskCiphertext(v);
  }
  return out;
}

function expectSameOutcome(inc: Outcome<IncrementalPlanResult>, full: Outcome<PlanResult>): void {
  if ('error' in full || 'error' in inc) {
    expect('error' in inc, 'incremental threw ValidationError iff full did').toBe('error' in full);
    if ('error' in inc && 'error' in full) {
      expect(inc.error.diagnostics.map(shownDiagnostic)).toEqual(full.error.diagnostics.map(shownDiagnostic));
    }
    return;
  }
  const a = inc.ok.plan;
  const b = full.ok.plan;
  expect(a.changes.map(comparable)).toEqual(b.changes.map(comparable));
  expect(a.summary).toEqual(b.summary);
  expect(a.project).toBe(b.project);
  expect(a.backend).toEqual(b.backend);
  if (planHasErrors(b) || planHasErrors(a)) {
    // The incremental path falls back to the full one whenever anything errors.
    expect(inc.ok.mode).toBe('full');
    expect(a.diagnostics.map(shownDiagnostic)).toEqual(b.diagnostics.map(shownDiagnostic));
  } else if (inc.ok.mode === 'full') {
    expect(a.diagnostics.map(shownDiagnostic)).toEqual(b.diagnostics.map(shownDiagnostic));
  } else {
    // An incremental plan carries the warnings of the files it looked at only (by design);
    // each of them is one the full plan has too.
    const fullWarnings = b.diagnostics.map((d) => JSON.stringify(shownDiagnostic(d)));
    for (const d of a.diagnostics) expect(fullWarnings).toContain(JSON.stringify(shownDiagnostic(d)));
  }
  // `observed` differs by design: an incremental plan lists only what it looked at.
}

// ---------------------------------------------------------------------------------------------
// The generated stack: documents with references between kinds, spread over a few files.

const API = 'agentic.stigmer.ai/v1';

function render(docs: readonly Doc[]): string {
  return docs
    .map((d) =>
      stringify({
        apiVersion: API,
        kind: d.kind,
        metadata: {
          name: d.name,
          ...(Object.keys(d.labels).length > 0 ? { labels: d.labels } : {}),
          ...(d.annotations && Object.keys(d.annotations).length > 0 ? { annotations: d.annotations } : {}),
        },
        spec: d.spec,
      }),
    )
    .join('---\n');
}

function baseDocs(): Omit<Doc, 'file'>[] {
  return [
    { kind: 'Skill', name: 'guide', labels: {}, spec: { skillMd: '# Guide\nBe brief.\n' } },
    { kind: 'Skill', name: 'style', labels: { team: 'a' }, spec: { skillMd: '# Style\nCite sources.\n' } },
    { kind: 'Environment', name: 'settings', labels: {}, spec: { data: { REGION: { value: 'eu-west-1' } } } },
    {
      kind: 'Environment',
      name: 'creds',
      labels: {},
      spec: {
        data: {
          TOKEN: { isSecret: true, value: 'plain-secret-value' },
          FROM_ENV: { isSecret: true, valueFrom: { env: 'PRESENT_VAR' } },
          // Absent and optional: a warning, and an entry without a value.
          OPTIONAL: { isSecret: true, valueFrom: { env: 'ABSENT_VAR', optional: true } },
          URL: { value: 'https://example.com' },
        },
      },
    },
    {
      kind: 'Agent',
      name: 'writer',
      labels: {},
      spec: { instructions: 'Write clear answers for users.', skillRefs: ['guide'] },
    },
    {
      kind: 'Agent',
      name: 'reviewer',
      labels: { team: 'b' },
      spec: { instructions: 'Review the drafts you are given.', skillRefs: ['style'], subAgents: ['writer'] },
    },
    {
      kind: 'Workflow',
      name: 'flow',
      labels: {},
      spec: {
        tasks: [
          { name: 'draft', agent: 'writer', outputs: ['result'] },
          {
            name: 'review',
            agent: 'reviewer',
            dependsOn: ['draft'],
            inputs: { draft: `\${tasks.draft.outputs.result}` },
            outputs: ['result'],
          },
        ],
      },
    },
    {
      kind: 'AgentInstance',
      name: 'writer-live',
      labels: {},
      spec: { agent: 'writer', environmentRefs: ['settings'] },
    },
    {
      kind: 'WorkflowInstance',
      name: 'flow-live',
      labels: {},
      spec: { workflow: 'flow', environmentRefs: ['creds', 'settings'] },
    },
  ];
}

const FILE_NAMES = ['a.yaml', 'b.yaml', 'c.yaml', 'd.yaml'];

/** The references of a document as (kind, getter/setter) slots. */
function refSlots(doc: Doc): Array<{ kind: Kind; get: () => string; set: (name: string) => void }> {
  const s = doc.spec;
  const slots: Array<{ kind: Kind; get: () => string; set: (name: string) => void }> = [];
  const list = (field: string, kind: Kind) => {
    const arr = s[field];
    if (!Array.isArray(arr)) return;
    for (let i = 0; i < arr.length; i++) {
      slots.push({
        kind,
        get: () => arr[i] as string,
        set: (n) => {
          arr[i] = n;
        },
      });
    }
  };
  const one = (obj: { [key: string]: Json }, field: string, kind: Kind) => {
    if (typeof obj[field] !== 'string') return;
    slots.push({
      kind,
      get: () => obj[field] as string,
      set: (n) => {
        obj[field] = n;
      },
    });
  };
  switch (doc.kind) {
    case 'Agent':
      list('skillRefs', 'Skill');
      list('subAgents', 'Agent');
      break;
    case 'Workflow':
      for (const t of (s.tasks as Array<{ [key: string]: Json }>) ?? []) one(t, 'agent', 'Agent');
      break;
    case 'AgentInstance':
      one(s, 'agent', 'Agent');
      list('environmentRefs', 'Environment');
      break;
    case 'WorkflowInstance':
      one(s, 'workflow', 'Workflow');
      list('environmentRefs', 'Environment');
      break;
    default:
      break;
  }
  return slots;
}

/** The manifest model of one run: documents and the file order. */
class Model {
  docs: Doc[];
  fileOrder: string[];
  private counter = 0;
  /** Every (kind, name) the manifests ever declared: most are still live after they go. */
  private readonly seen = new Map<Kind, Set<string>>();

  constructor(layout: readonly number[]) {
    this.docs = baseDocs().map((d, i) => ({
      ...d,
      file: FILE_NAMES[(layout[i] ?? 0) % FILE_NAMES.length] as string,
    }));
    this.fileOrder = FILE_NAMES.filter((f) => this.docs.some((d) => d.file === f));
  }

  texts(): Array<[string, string]> {
    for (const d of this.docs) {
      const set = this.seen.get(d.kind) ?? new Set<string>();
      this.seen.set(d.kind, set);
      set.add(d.name);
    }
    return this.fileOrder.map((f) => [f, render(this.docs.filter((d) => d.file === f))]);
  }

  /** Names of `kind` declared before but not now (live only, or pruned). */
  gone(kind: Kind): string[] {
    const now = new Set(this.names(kind));
    return [...(this.seen.get(kind) ?? [])].filter((n) => !now.has(n));
  }

  names(kind: Kind): string[] {
    return this.docs.filter((d) => d.kind === kind).map((d) => d.name);
  }

  doc(i: number): Doc | undefined {
    return this.docs.length === 0 ? undefined : this.docs[i % this.docs.length];
  }

  /** A fresh unique suffix. */
  next(): number {
    return ++this.counter;
  }

  /** Points every reference that names nothing in the manifests at the first name of its kind. */
  fixReferences(): void {
    for (const d of this.docs) {
      for (const slot of refSlots(d)) {
        const names = this.names(slot.kind).filter(
          (n) => !(slot.kind === 'Agent' && d.kind === 'Agent' && n === d.name),
        );
        if (!names.includes(slot.get()) && names.length > 0) slot.set(names[0] as string);
      }
    }
  }
}

type Then = 'apply' | 'settle' | 'none';
/** update/delete/labels: another process edits; disown: drops the ownership annotations; steal: another project owns it. */
type OutsideOp = 'update' | 'delete' | 'labels' | 'disown' | 'steal';

type Command =
  | { type: 'describe'; doc: number; text: string; then: Then }
  | { type: 'describe-two'; a: number; b: number; text: string; then: Then }
  | { type: 'retarget'; doc: number; to: number; then: Then }
  | { type: 'break'; doc: number; then: Then }
  | { type: 'stale-ref'; doc: number; to: number; then: Then }
  | { type: 'fix'; then: Then }
  | { type: 'rename'; doc: number; updateRefs: boolean; then: Then }
  | { type: 'add-file'; withAgent: boolean; then: Then }
  | { type: 'remove-file'; file: number; then: Then }
  | { type: 'outside'; op: OutsideOp; doc: number; then: Then }
  | { type: 'secret'; text: string; then: Then }
  | { type: 'annotate'; doc: number; annotations: Record<string, string>; then: Then }
  | { type: 'move'; doc: number; file: number; then: Then }
  | { type: 'labels'; doc: number; labels: Record<string, string>; then: Then }
  | { type: 'touch'; file: number; then: Then }
  | { type: 'edit-md'; text: string; then: Then }
  | { type: 'none'; then: Then };

const then = fc.constantFrom<Then>('apply', 'apply', 'settle', 'none');
const idx = fc.nat({ max: 40 });
const text = fc.oneof(
  fc.constantFrom('Short.', 'Another description', 'multi\nline\ntext', ''),
  fc.string({ maxLength: 12 }),
);
const commandArb: fc.Arbitrary<Command> = fc.oneof(
  { arbitrary: fc.record({ type: fc.constant('describe' as const), doc: idx, text, then }), weight: 6 },
  {
    arbitrary: fc.record({ type: fc.constant('describe-two' as const), a: idx, b: idx, text, then }),
    weight: 2,
  },
  { arbitrary: fc.record({ type: fc.constant('retarget' as const), doc: idx, to: idx, then }), weight: 2 },
  { arbitrary: fc.record({ type: fc.constant('break' as const), doc: idx, then }), weight: 2 },
  { arbitrary: fc.record({ type: fc.constant('stale-ref' as const), doc: idx, to: idx, then }), weight: 2 },
  { arbitrary: fc.record({ type: fc.constant('fix' as const), then }), weight: 2 },
  {
    arbitrary: fc.record({ type: fc.constant('rename' as const), doc: idx, updateRefs: fc.boolean(), then }),
    weight: 1,
  },
  {
    arbitrary: fc.record({ type: fc.constant('add-file' as const), withAgent: fc.boolean(), then }),
    weight: 1,
  },
  { arbitrary: fc.record({ type: fc.constant('remove-file' as const), file: idx, then }), weight: 1 },
  {
    arbitrary: fc.record({
      type: fc.constant('outside' as const),
      op: fc.constantFrom<OutsideOp>('update', 'delete', 'labels', 'disown', 'steal'),
      doc: idx,
      then,
    }),
    weight: 2,
  },
  {
    arbitrary: fc.record({
      type: fc.constant('labels' as const),
      doc: idx,
      labels: fc.dictionary(fc.constantFrom('team', 'tier'), fc.constantFrom('a', 'b', 'x-1'), {
        maxKeys: 2,
      }),
      then,
    }),
    weight: 2,
  },
  { arbitrary: fc.record({ type: fc.constant('touch' as const), file: idx, then }), weight: 1 },
  { arbitrary: fc.record({ type: fc.constant('edit-md' as const), text, then }), weight: 1 },
  {
    arbitrary: fc.record({ type: fc.constant('secret' as const), text: fc.string({ maxLength: 6 }), then }),
    weight: 2,
  },
  {
    arbitrary: fc.record({
      type: fc.constant('annotate' as const),
      doc: idx,
      annotations: fc.constantFrom<Record<string, string>>(
        {},
        { note: 'hello' },
        { 'stigmer.ai/prune': 'disabled' },
        { 'stigmer.ai/prevent-destroy': 'true' },
      ),
      then,
    }),
    weight: 2,
  },
  { arbitrary: fc.record({ type: fc.constant('move' as const), doc: idx, file: idx, then }), weight: 1 },
  { arbitrary: fc.record({ type: fc.constant('none' as const), then }), weight: 1 },
);

/** Applies a command to the model (and, for outside writes, to the database). */
async function perform(
  cmd: Command,
  model: Model,
  session: Session,
): Promise<{ touch: Set<string>; outsideWrite: boolean }> {
  const touch = new Set<string>();
  let outsideWrite = false;
  switch (cmd.type) {
    case 'describe': {
      const d = model.doc(cmd.doc);
      if (d) d.spec.description = cmd.text;
      break;
    }
    case 'describe-two': {
      const a = model.doc(cmd.a);
      const b = model.doc(cmd.b);
      if (a) a.spec.description = cmd.text;
      if (b) b.spec.description = `${cmd.text} (2)`;
      break;
    }
    case 'retarget': {
      const d = model.doc(cmd.doc);
      const slot = d ? refSlots(d)[0] : undefined;
      if (d && slot) {
        const names = model
          .names(slot.kind)
          .filter((n) => !(d.kind === 'Agent' && slot.kind === 'Agent' && n === d.name));
        if (names.length > 0) slot.set(names[cmd.to % names.length] as string);
      }
      break;
    }
    case 'stale-ref': {
      // A reference to a name the manifests no longer declare: valid while it is live (not
      // pruned, or not yet), an error once pruned.
      const d = model.doc(cmd.doc);
      const slot = d ? refSlots(d)[0] : undefined;
      const gone = slot ? model.gone(slot.kind) : [];
      if (slot && gone.length > 0) slot.set(gone[cmd.to % gone.length] as string);
      break;
    }
    case 'break': {
      const d = model.doc(cmd.doc);
      const slot = d ? refSlots(d)[0] : undefined;
      if (slot) slot.set(`missing-${slot.kind.toLowerCase()}`);
      break;
    }
    case 'fix':
      model.fixReferences();
      break;
    case 'rename': {
      const d = model.doc(cmd.doc);
      if (!d) break;
      const old = d.name;
      d.name = `${old.replace(/-r\d+$/, '')}-r${model.next()}`;
      if (cmd.updateRefs) {
        for (const other of model.docs) {
          for (const slot of refSlots(other))
            if (slot.kind === d.kind && slot.get() === old) slot.set(d.name);
        }
      }
      break;
    }
    case 'add-file': {
      const n = model.next();
      const file = `extra-${n}.yaml`;
      model.docs.push({
        file,
        kind: 'Skill',
        name: `extra-${n}`,
        labels: {},
        spec: { skillMd: `# Extra ${n}\n` },
      });
      if (cmd.withAgent) {
        model.docs.push({
          file,
          kind: 'Agent',
          name: `helper-${n}`,
          labels: {},
          spec: { instructions: 'Help with the extra things.', skillRefs: [`extra-${n}`] },
        });
      }
      model.fileOrder.push(file);
      break;
    }
    case 'remove-file': {
      if (model.fileOrder.length === 0) break;
      const file = model.fileOrder[cmd.file % model.fileOrder.length] as string;
      model.fileOrder = model.fileOrder.filter((f) => f !== file);
      model.docs = model.docs.filter((d) => d.file !== file);
      break;
    }
    case 'outside': {
      const d = model.doc(cmd.doc);
      if (!d) break;
      const live = await session.outside.getResource(d.kind, d.name);
      if (!live) break;
      outsideWrite = true;
      if (cmd.op === 'delete') {
        await session.outside.deleteResource(d.kind, d.name, { message: 'outside' });
      } else if (cmd.op === 'disown' || cmd.op === 'steal') {
        const {
          'stigmer.ai/project': _project,
          'stigmer.ai/applied-hash': _hash,
          'stigmer.ai/source': _source,
          ...rest
        } = live.annotations;
        await session.outside.applyChanges(
          [
            {
              op: 'update',
              kind: d.kind,
              name: d.name,
              labels: live.labels,
              annotations: cmd.op === 'steal' ? { ...rest, 'stigmer.ai/project': 'other' } : rest,
              spec: live.spec,
            },
          ],
          { message: 'outside' },
        );
      } else {
        await session.outside.applyChanges(
          [
            {
              op: 'update',
              kind: d.kind,
              name: d.name,
              labels: cmd.op === 'labels' ? { ...live.labels, outside: 'yes' } : live.labels,
              annotations: live.annotations,
              spec: cmd.op === 'update' ? { ...live.spec, description: 'changed outside' } : live.spec,
            },
          ],
          { message: 'outside' },
        );
      }
      break;
    }
    case 'labels': {
      const d = model.doc(cmd.doc);
      if (d) d.labels = { ...cmd.labels };
      break;
    }
    case 'secret': {
      const creds = model.docs.find(
        (d) => d.kind === 'Environment' && (d.spec.data as Spec | undefined)?.TOKEN,
      );
      if (creds) ((creds.spec.data as Spec).TOKEN as Spec).value = `secret-${cmd.text}`;
      break;
    }
    case 'annotate': {
      const d = model.doc(cmd.doc);
      if (d) d.annotations = { ...cmd.annotations };
      break;
    }
    case 'move': {
      const d = model.doc(cmd.doc);
      if (!d) break;
      const targets = [...model.fileOrder, `moved-${model.next()}.yaml`];
      const file = targets[cmd.file % targets.length] as string;
      if (!model.fileOrder.includes(file)) model.fileOrder.push(file);
      d.file = file;
      // The doc goes last in its new file.
      model.docs = [...model.docs.filter((x) => x !== d), d];
      model.fileOrder = model.fileOrder.filter((f) => model.docs.some((x) => x.file === f));
      break;
    }
    case 'edit-md':
      // An included file changed: its manifest's ParsedFile did not, so (as watch does) the
      // caller tells the planner.
      writeFileSync(join(session.root, 'manual.md'), `# Manual\n${cmd.text}\n`);
      session.planner.invalidate();
      break;
    case 'touch': {
      const f = model.fileOrder.length === 0 ? undefined : model.fileOrder[cmd.file % model.fileOrder.length];
      if (f) touch.add(f);
      break;
    }
    case 'none':
      break;
  }
  return { touch, outsideWrite };
}

// ---------------------------------------------------------------------------------------------

let dir: string;
const sessions: Session[] = [];

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'stigmer-incremental-'));
});
afterEach(async () => {
  for (const s of sessions.splice(0)) await s.close();
  rmSync(dir, { recursive: true, force: true });
});

async function newSession(name: string, extra: Partial<ReconcileOptions> = {}): Promise<Session> {
  const s = await new Session(join(dir, name)).open(extra);
  sessions.push(s);
  return s;
}

describe('IncrementalPlanner: differential property against planParsed (real SQLite)', () => {
  it('plans exactly what the full pipeline plans, after any sequence of edits, applies and outside writes', {
    timeout: 60_000 * SCALE,
  }, async () => {
    let run = 0;
    const totals = { incremental: 0, full: 0, describeAfterSettle: 0, incrementalWithChanges: 0 };
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.nat({ max: 3 }), { minLength: 9, maxLength: 9 }),
        fc.boolean(),
        fc.boolean(),
        fc.array(commandArb, { minLength: 4, maxLength: 14 }),
        async (layout, prune, memo, commands) => {
          run++;
          const session = await newSession(`run-${run}`, {
            prune,
            ...(memo ? { noopMemo: new WeakMap() } : {}),
          });
          try {
            const model = new Model(layout);
            // A Skill whose markdown is an included file (see the 'edit-md' command).
            writeFileSync(join(session.root, 'manual.md'), '# Manual\n');
            model.docs.push({
              file: model.fileOrder[0] as string,
              kind: 'Skill',
              name: 'manual',
              labels: {},
              spec: { skillMdFile: 'manual.md' },
            });
            session.setFiles(model.texts());
            // Bring the stack up: apply, then a no-change plan settles a clean state.
            for (let i = 0; i < 2; i++) {
              const { inc } = await session.planBoth();
              if (!('ok' in inc)) throw new Error('the generated stack is invalid');
              expect(planHasErrors(inc.ok.plan)).toBe(false);
              if (inc.ok.plan.changes.length > 0) await session.apply(inc.ok.plan);
              session.planner.settle();
            }
            // True right after a settle whose log leaves the planner a clean base (no outside
            // write, and this session's last writes were creates and updates of desired resources).
            // (A settled state without any resource is never a base: the planner then plans in full.)
            const declaresSomething = () => session.input().files.some((f) => f.documents.length > 0);
            let cleanSettle = true;
            for (const cmd of commands) {
              const wasClean = cleanSettle;
              cleanSettle = false;
              const before = { ...session.planner.counts };
              const { touch } = await perform(cmd, model, session);
              session.setFiles(model.texts(), touch);
              const { inc } = await session.planBoth();
              if (wasClean && cmd.type === 'describe' && 'ok' in inc) {
                // Only a description edit after a clean settle: must be the incremental path.
                expect(session.planner.counts.incremental, JSON.stringify(cmd)).toBe(before.incremental + 1);
                totals.describeAfterSettle++;
              }
              if (!('ok' in inc) || planHasErrors(inc.ok.plan)) continue;
              const plan = inc.ok.plan;
              if (inc.ok.mode === 'incremental' && plan.changes.length > 0) totals.incrementalWithChanges++;
              if (cmd.then === 'apply' && plan.changes.length > 0) {
                await session.apply(plan);
                session.planner.settle();
                // Deletes (logged 'removed') and releases (a write of a resource the manifests no
                // longer declare) leave a log the next plan cannot start from.
                cleanSettle =
                  declaresSomething() &&
                  plan.changes.every((c) => c.action !== 'delete' && c.reason !== 'release');
              } else if (cmd.then !== 'none' && plan.changes.length === 0) {
                session.planner.settle();
                cleanSettle = declaresSomething();
              }
            }
            // After everything: one more pass converges (apply what is left, then nothing).
            const last = await session.planBoth();
            if ('ok' in last.inc && !planHasErrors(last.inc.ok.plan) && last.inc.ok.plan.changes.length > 0) {
              await session.apply(last.inc.ok.plan);
              session.planner.settle();
              const again = await session.planBoth();
              if ('ok' in again.inc) expect(again.inc.ok.plan.changes).toEqual([]);
            }
            totals.incremental += session.planner.counts.incremental;
            totals.full += session.planner.counts.full;
          } finally {
            sessions.splice(sessions.indexOf(session), 1);
            await session.close();
          }
        },
      ),
      { numRuns: 25 * SCALE },
    );
    console.log(`incremental property: ${JSON.stringify(totals)} (FUZZ_SCALE=${SCALE})`);
    // Not vacuous: both paths ran, incremental plans with changes were compared, and
    // description edits after a settle were checked.
    expect(totals.incremental).toBeGreaterThan(0);
    expect(totals.incrementalWithChanges).toBeGreaterThan(0);
    expect(totals.full).toBeGreaterThan(0);
    expect(totals.describeAfterSettle).toBeGreaterThan(0);
  });
});

// ---------------------------------------------------------------------------------------------
// Examples.

/** A small stack in two files; returns a session with it applied and settled on a clean base. */
async function settledStack(): Promise<{ s: Session; model: Model }> {
  const s = await newSession('example');
  const model = new Model([0, 0, 1, 1, 0, 0, 1, 1, 1]);
  s.setFiles(model.texts());
  for (let i = 0; i < 2; i++) {
    const { inc } = await s.planBoth();
    if (!('ok' in inc)) throw inc.error;
    if (inc.ok.plan.changes.length > 0) await s.apply(inc.ok.plan);
    s.planner.settle();
  }
  // The second plan found nothing to do.
  const { inc } = await s.planBoth();
  if (!('ok' in inc)) throw inc.error;
  expect(inc.ok.plan.changes).toEqual([]);
  expect(inc.ok.mode).toBe('incremental');
  s.planner.settle();
  return { s, model };
}

function setTexts(s: Session, model: Model): void {
  s.setFiles(model.texts());
}

function okPlan(o: Outcome<IncrementalPlanResult>): IncrementalPlanResult {
  if ('error' in o) throw o.error;
  return o.ok;
}

describe('IncrementalPlanner examples', () => {
  it('after a settle, editing one file plans incrementally exactly that update', async () => {
    const { s, model } = await settledStack();
    const counts = { ...s.planner.counts };
    const writer = model.docs.find((d) => d.name === 'writer') as Doc;
    writer.spec.description = 'Writes the first draft.';
    setTexts(s, model);
    const result = okPlan((await s.planBoth()).inc);
    expect(result.mode).toBe('incremental');
    expect(s.planner.counts).toEqual({ ...counts, incremental: counts.incremental + 1 });
    expect(result.plan.changes.map((c) => `${c.action} ${c.kind}/${c.name}`)).toEqual([
      'update Agent/writer',
    ]);
    expect(result.plan.changes[0]?.patch).toEqual([
      { op: 'add', path: '/spec/description', value: 'Writes the first draft.' },
    ]);
    expect(result.plan.summary).toEqual({ create: 0, update: 1, delete: 0, noop: 8 });

    // Applied and settled, the rewritten resource is re-planned from the log: nothing left.
    await s.apply(result.plan);
    s.planner.settle();
    const next = okPlan((await s.planBoth()).inc);
    expect(next.mode).toBe('incremental');
    expect(next.plan.changes).toEqual([]);
    expect(next.plan.observed.map((o) => `${o.kind}/${o.name}`)).toEqual(['Agent/writer']);
  });

  it('renaming a resource falls back to the full plan (create the new name, prune the old)', async () => {
    const { s, model } = await settledStack();
    const counts = { ...s.planner.counts };
    const style = model.docs.find((d) => d.name === 'style') as Doc;
    style.name = 'style-2';
    model.fixReferences();
    setTexts(s, model);
    const result = okPlan((await s.planBoth()).inc);
    expect(result.mode).toBe('full');
    expect(s.planner.counts).toEqual({ ...counts, full: counts.full + 1 });
    expect(result.plan.changes.map((c) => `${c.action} ${c.kind}/${c.name}`)).toEqual([
      'create Skill/style-2',
      'update Agent/reviewer',
      'delete Skill/style',
    ]);
  });

  it('an outside write forces a full plan that restores the manifest and reports drift', async () => {
    const { s } = await settledStack();
    const live = (await s.outside.getResource('Agent', 'writer')) as NonNullable<
      Awaited<ReturnType<LocalBackend['getResource']>>
    >;
    await s.outside.applyChanges(
      [
        {
          op: 'update',
          kind: 'Agent',
          name: 'writer',
          labels: live.labels,
          annotations: live.annotations,
          spec: { ...live.spec, instructions: 'Changed by hand outside stigmer.' },
        },
      ],
      { message: 'outside' },
    );
    // No file changed: only the live state did.
    const result = okPlan((await s.planBoth()).inc);
    expect(result.mode).toBe('full');
    expect(result.plan.changes).toHaveLength(1);
    const change = result.plan.changes[0] as PlannedChange;
    expect(change).toMatchObject({ action: 'update', kind: 'Agent', name: 'writer', drift: true });
    expect(change.write?.spec.instructions).toBe('Write clear answers for users.');
    expect(change.patch).toEqual([
      { op: 'replace', path: '/spec/instructions', value: 'Write clear answers for users.' },
    ]);

    // Deleted outside: full again, and the plan creates it anew.
    await s.outside.deleteResource('Skill', 'guide', { message: 'outside' });
    const again = okPlan((await s.planBoth()).inc);
    expect(again.mode).toBe('full');
    expect(again.plan.changes.map((c) => `${c.action} ${c.kind}/${c.name}`)).toEqual([
      'create Skill/guide',
      'update Agent/writer',
    ]);
  });

  it('a broken reference reports the full diagnostics; the fix plans correctly', async () => {
    const { s, model } = await settledStack();
    const instance = model.docs.find((d) => d.name === 'writer-live') as Doc;
    instance.spec.agent = 'wrtier';
    setTexts(s, model);
    const broken = await s.planBoth();
    expect('error' in broken.inc).toBe(true);
    if (!('error' in broken.inc) || !('error' in broken.full)) throw new Error('unreachable');
    const errors = broken.inc.error.diagnostics.filter((d) => d.severity === 'error');
    expect(errors.map((d) => d.message)).toEqual([
      'Agent "wrtier" not found (referenced by AgentInstance "writer-live" in spec.agent)',
    ]);
    expect(errors[0]?.hint).toBe('did you mean `writer`?');
    expect(broken.inc.error.diagnostics).toEqual(broken.full.error.diagnostics);

    // Fixed to another valid agent: the settled state still holds, so it is incremental.
    const counts = { ...s.planner.counts };
    instance.spec.agent = 'reviewer';
    setTexts(s, model);
    const fixed = okPlan((await s.planBoth()).inc);
    expect(fixed.mode).toBe('incremental');
    expect(s.planner.counts.incremental).toBe(counts.incremental + 1);
    expect(fixed.plan.changes.map((c) => `${c.action} ${c.kind}/${c.name}`)).toEqual([
      'update AgentInstance/writer-live',
    ]);
    expect(fixed.plan.changes[0]?.patch).toEqual([{ op: 'replace', path: '/spec/agent', value: 'reviewer' }]);
  });

  it('a reference to a name this session pruned is an error, as in the full plan', async () => {
    const { s, model } = await settledStack();
    const guide = model.docs.find((d) => d.name === 'guide') as Doc;
    const writer = model.docs.find((d) => d.name === 'writer') as Doc;
    guide.name = 'guide-2';
    writer.spec.skillRefs = ['guide-2'];
    setTexts(s, model);
    const renamed = okPlan((await s.planBoth()).inc);
    expect(renamed.plan.changes.map((c) => `${c.action} ${c.kind}/${c.name}`)).toEqual([
      'create Skill/guide-2',
      'update Agent/writer',
      'delete Skill/guide',
    ]);
    await s.apply(renamed.plan);
    s.planner.settle();

    // Skill/guide was live when the settled plan was made, and is gone now.
    writer.spec.skillRefs = ['guide'];
    setTexts(s, model);
    const stale = await s.planBoth();
    if (!('error' in stale.inc)) throw new Error('expected a ValidationError');
    expect(stale.inc.error.diagnostics.filter((d) => d.severity === 'error').map((d) => d.message)).toEqual([
      'Skill "guide" not found (referenced by Agent "writer" in spec.skillRefs[0])',
    ]);
  });

  it('a changed skillMdFile is invisible to the identity checks: the caller must invalidate()', async () => {
    const skill = `apiVersion: ${API}\nkind: Skill\nmetadata:\n  name: from-file\nspec:\n  skillMdFile: from-file.md\n`;
    const s = await newSession('skill');
    writeFileSync(join(s.root, 'from-file.md'), '# One\n');
    s.setFiles([['skill-file.yaml', skill]]);
    for (let i = 0; i < 2; i++) {
      const r = okPlan((await s.planBoth()).inc);
      if (r.plan.changes.length > 0) await s.apply(r.plan);
      s.planner.settle();
    }
    writeFileSync(join(s.root, 'from-file.md'), '# Two\n');
    // The manifest's ParsedFile is the same object (its text did not change), so the
    // incremental planner cannot see that the included file did: it plans nothing, while the
    // full pipeline reads the new markdown. This is why watch (src/watch/cycle.ts) calls
    // invalidate() whenever an included file changes.
    const input = s.input();
    const view = await s.live.view();
    const stale = s.planner.plan(input, view);
    expect(stale.mode).toBe('incremental');
    expect(stale.plan.changes).toEqual([]);
    const full = planParsed(s.backend, input, [...view.byKey.values()], s.options);
    expect(full.plan.changes.map((c) => `${c.action} ${c.kind}/${c.name}`)).toEqual([
      'update Skill/from-file',
    ]);

    s.planner.invalidate();
    const counts = { ...s.planner.counts };
    const fresh = okPlan((await s.planBoth()).inc);
    expect(fresh.mode).toBe('full');
    expect(s.planner.counts.full).toBe(counts.full + 1);
    expect(fresh.plan.changes.map((c) => `${c.action} ${c.kind}/${c.name}`)).toEqual([
      'update Skill/from-file',
    ]);
    expect(fresh.plan.changes[0]?.write?.spec.skillMd).toBe('# Two\n');
  });
});
