/**
 * The GitHub Action (DESIGN.md §6): an adapter over the core pipeline, like the CLI commands.
 * It reads its inputs and the event, runs load → validate → plan (and apply on a push to the
 * default branch) through the library, and reports through the runner: the log, annotations,
 * outputs, the job summary and one sticky comment per project on the pull request.
 *
 *   pull_request  plan (untrusted manifests: allow-env / workspace-only files) → comment, summary
 *   push (default branch)  plan → reviewed-plan check against the merged PR's comment → apply
 *
 * Everything the runner sees is written through `Workflow` after every secret value the plan
 * knows of has been registered with `::add-mask::`.
 */
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { isAbsolute, join, relative, resolve } from 'node:path';
import { applyPlan } from '../apply/apply.js';
import { renderApplyEvent } from '../apply/render.js';
import { resolveBackendConfig } from '../backend/config.js';
import { openBackend } from '../backend/factory.js';
import type { Backend } from '../backend/types.js';
import { parseSources, planSources, resolveProject } from '../core/reconcile.js';
import { type Diagnostic, formatDiagnostic, StigmerError, ValidationError } from '../errors.js';
import { renderPlanJson } from '../plan/render-json.js';
import { formatApplySummary } from '../plan/render-model.js';
import { renderPlanText } from '../plan/render-text.js';
import type { Plan } from '../plan/types.js';
import { collectSecretValues } from '../secrets/environment.js';
import { loadSecretKey, SECRET_KEY_ENV } from '../secrets/key.js';
import {
  findPlanComment,
  hashInComment,
  type IssueComment,
  planHash,
  renderPlanComment,
  renderPlanSummary,
  trustedAuthor,
} from './comment.js';
import { CommentForbidden, GitHub, type Repo } from './github.js';
import { parseAllowEnv, untrustedInputPolicy } from './policy.js';
import { type Env, getBooleanInput, getInput, Workflow } from './workflow.js';

/** The Action's inputs (action.yml), parsed. */
export interface ActionInputs {
  command: 'plan' | 'apply' | 'auto';
  path: string;
  project?: string;
  backend?: string;
  endpoint?: string;
  token?: string;
  db?: string;
  githubToken: string;
  comment: boolean;
  requireReviewedPlan: boolean;
  allowEnv: Set<string>;
}

/** Reads and checks the inputs. @throws StigmerError USAGE for an invalid one. */
export function readInputs(env: Env): ActionInputs {
  const command = getInput(env, 'command') || 'auto';
  if (command !== 'plan' && command !== 'apply' && command !== 'auto') {
    throw new StigmerError('USAGE', `input command must be plan, apply or auto, got "${command}"`);
  }
  const optional = (name: string) => getInput(env, name) || undefined;
  const inputs: ActionInputs = {
    command,
    path: getInput(env, 'path') || 'manifests',
    githubToken: getInput(env, 'github-token'),
    comment: getBooleanInput(env, 'comment', true),
    requireReviewedPlan: getBooleanInput(env, 'require-reviewed-plan', false),
    allowEnv: parseAllowEnv(getInput(env, 'allow-env')),
  };
  for (const [key, name] of [
    ['project', 'project'],
    ['backend', 'backend'],
    ['endpoint', 'endpoint'],
    ['token', 'token'],
    ['db', 'db'],
  ] as const) {
    const value = optional(name);
    if (value !== undefined) inputs[key] = value;
  }
  return inputs;
}

/** What the event asks for. */
interface EventContext {
  name: string;
  payload: Record<string, unknown>;
  repo: Repo | null;
  sha: string;
  /** The pull request's number on pull_request events. */
  pullRequest: number | null;
  /** A push to the repository's default branch. */
  pushToDefault: boolean;
  /** The manifests come from a pull request (its author wrote them). */
  untrusted: boolean;
}

function readEvent(env: Env): EventContext {
  const name = env.GITHUB_EVENT_NAME ?? '';
  let payload: Record<string, unknown> = {};
  if (env.GITHUB_EVENT_PATH) {
    try {
      payload = JSON.parse(readFileSync(env.GITHUB_EVENT_PATH, 'utf8')) as Record<string, unknown>;
    } catch (cause) {
      throw new StigmerError('CONFIG', `cannot read the event payload ${env.GITHUB_EVENT_PATH}`, {
        cause,
        hint: 'GITHUB_EVENT_PATH must name the JSON file the runner writes',
      });
    }
  }
  const [owner, repo] = (env.GITHUB_REPOSITORY ?? '').split('/');
  const pr = payload.pull_request as { number?: number; head?: { sha?: string } } | undefined;
  const isPr = name === 'pull_request' || name === 'pull_request_target';
  const repository = payload.repository as { default_branch?: string } | undefined;
  const ref = (payload.ref as string | undefined) ?? env.GITHUB_REF ?? '';
  const sha = isPr
    ? (pr?.head?.sha ?? env.GITHUB_SHA ?? '')
    : ((payload.after as string | undefined) ?? env.GITHUB_SHA ?? '');
  return {
    name,
    payload,
    repo: owner && repo ? { owner, repo } : null,
    sha,
    pullRequest: isPr && typeof pr?.number === 'number' ? pr.number : null,
    pushToDefault:
      name === 'push' &&
      repository?.default_branch !== undefined &&
      ref === `refs/heads/${repository.default_branch}`,
    untrusted: isPr,
  };
}

/** Where a diagnostic's file is, relative to the workspace (what annotations need). */
function workspacePath(workspace: string, cwd: string, file: string): string {
  if (file === '<stdin>') return file;
  const rel = relative(workspace, resolve(cwd, file));
  return rel.startsWith('..') || isAbsolute(rel) ? file : rel.split('\\').join('/');
}

/** An empty plan that carries only diagnostics: what the comment shows when validation failed. */
function failedPlan(project: string, backend: Backend, diagnostics: Diagnostic[]): Plan {
  return {
    formatVersion: 1,
    project,
    backend: backend.info,
    summary: { create: 0, update: 0, delete: 0, noop: 0 },
    changes: [],
    diagnostics,
    observed: [],
  };
}

function runUrl(env: Env): string | null {
  const server = env.GITHUB_SERVER_URL;
  if (!server || !env.GITHUB_REPOSITORY || !env.GITHUB_RUN_ID) return null;
  return `${server}/${env.GITHUB_REPOSITORY}/actions/runs/${env.GITHUB_RUN_ID}`;
}

/**
 * Runs the Action once. Returns the exit code (0 success, 1 failure); never throws for
 * anything a user can fix.
 */
export async function runAction(env: Env = process.env, io: Workflow = new Workflow(env)): Promise<number> {
  try {
    return await run(env, io);
  } catch (err) {
    reportFailure(io, err);
    return 1;
  }
}

function reportFailure(io: Workflow, err: unknown): void {
  if (err instanceof StigmerError && err.userFixable) {
    io.error(err.hint ? `${err.message}\nhint: ${err.hint}` : err.message);
    return;
  }
  const stack = err instanceof Error ? (err.stack ?? err.message) : String(err);
  io.error(`internal error: ${err instanceof Error ? err.message : String(err)}`);
  io.info(`${stack}\nThis is a bug in stigmer; please report it with the output above.`);
}

async function run(env: Env, io: Workflow): Promise<number> {
  // The tokens the Action was given never reach the log, whatever happens next.
  for (const name of ['github-token', 'token']) io.mask(getInput(env, name));
  if (env[SECRET_KEY_ENV]) io.mask(env[SECRET_KEY_ENV] as string);

  const inputs = readInputs(env);
  const event = readEvent(env);
  const workspace = resolve(env.GITHUB_WORKSPACE || process.cwd());
  const mode: 'plan' | 'apply' =
    inputs.command === 'auto' ? (event.pushToDefault ? 'apply' : 'plan') : inputs.command;
  const github =
    inputs.githubToken && event.repo
      ? new GitHub({
          token: inputs.githubToken,
          ...(env.GITHUB_API_URL ? { baseUrl: env.GITHUB_API_URL } : {}),
          log: (line) => io.info(line),
        })
      : null;

  const config = resolveBackendConfig(
    {
      ...(inputs.backend !== undefined ? { backend: inputs.backend } : {}),
      ...(inputs.db !== undefined ? { db: resolve(workspace, inputs.db) } : {}),
      ...(inputs.endpoint !== undefined ? { endpoint: inputs.endpoint } : {}),
      ...(inputs.token !== undefined ? { token: inputs.token } : {}),
    },
    env,
  );
  const loadOptions = { dir: resolve(workspace, inputs.path), cwd: workspace };
  const secrets = {
    home: config.home,
    env,
    loadKey: () => {
      if (env[SECRET_KEY_ENV] === undefined || env[SECRET_KEY_ENV] === '') {
        throw new StigmerError('SECRET', `the manifests hold secrets, and ${SECRET_KEY_ENV} is not set`, {
          hint: `add a repository secret with a key (openssl rand -base64 32) and pass it to the step: env: ${SECRET_KEY_ENV}: \${{ secrets.${SECRET_KEY_ENV} }} (a key made on the runner would change every plan)`,
        });
      }
      return loadSecretKey({ home: config.home, env });
    },
    ...(event.untrusted
      ? { valueFromPolicy: untrustedInputPolicy({ allowEnv: inputs.allowEnv, workspace }) }
      : {}),
  };

  io.info(
    `stigmer: ${mode} of ${relative(workspace, loadOptions.dir) || '.'} on the ${config.type} backend (event ${event.name || 'none'})`,
  );
  const backend = await openBackend(config, { sqliteDriver: 'node:sqlite' });
  try {
    const parsed = await parseSources(loadOptions);
    let project: string;
    try {
      project = resolveProject(inputs.project, { project: parsed.project, root: parsed.root }, loadOptions);
    } catch (err) {
      if (inputs.project !== undefined) throw err;
      project = 'manifests';
    }
    let result: Awaited<ReturnType<typeof planSources>>;
    try {
      result = await planSources(backend, parsed, {
        ...loadOptions,
        ...(inputs.project !== undefined ? { project: inputs.project } : {}),
        secrets,
      });
    } catch (err) {
      if (!(err instanceof ValidationError)) throw err;
      return await reportInvalid(
        io,
        env,
        inputs,
        event,
        github,
        workspace,
        failedPlan(project, backend, err.diagnostics),
      );
    }
    const { plan } = result;
    for (const value of collectSecretValues(result.desired, result.secretKey ?? undefined)) io.mask(value);
    for (const d of plan.diagnostics) annotate(io, workspace, d);

    await io.group(`Plan for project ${plan.project}`, () => io.info(renderPlanText(plan)));
    const planFile = writePlanJson(env, plan);
    if (mode === 'plan') {
      setPlanOutputs(io, plan, planFile);
      io.appendSummary(renderPlanSummary(plan));
      if (event.pullRequest !== null) await upsertComment(io, env, inputs, event, github, plan);
      return 0;
    }
    return await applyReviewed(io, inputs, event, github, backend, plan, planFile);
  } finally {
    await backend.close();
  }
}

function annotate(io: Workflow, workspace: string, d: Diagnostic): void {
  // A diagnostic about the plan as a whole (line 0) has no place in a file.
  const at =
    d.line > 0 ? { file: workspacePath(workspace, workspace, d.file), line: d.line, col: d.column } : {};
  const text = d.hint ? `${d.message}\nhint: ${d.hint}` : d.message;
  if (d.severity === 'error') io.error(text, at);
  else io.warning(text, at);
}

async function reportInvalid(
  io: Workflow,
  env: Env,
  inputs: ActionInputs,
  event: EventContext,
  github: GitHub | null,
  workspace: string,
  plan: Plan,
): Promise<number> {
  for (const d of plan.diagnostics) annotate(io, workspace, d);
  io.info(plan.diagnostics.map(formatDiagnostic).join('\n'));
  io.setOutput('has-changes', 'false');
  io.appendSummary(renderPlanSummary(plan));
  if (event.pullRequest !== null) await upsertComment(io, env, inputs, event, github, plan);
  const n = plan.diagnostics.filter((d) => d.severity === 'error').length;
  io.error(`${n} error${n === 1 ? '' : 's'} in the manifests; nothing was planned or applied`);
  return 1;
}

function writePlanJson(env: Env, plan: Plan): string {
  const dir = env.RUNNER_TEMP || tmpdir();
  mkdirSync(dir, { recursive: true });
  const file = join(dir, `stigmer-plan-${plan.project}.json`);
  writeFileSync(file, renderPlanJson(plan), { mode: 0o600 });
  return file;
}

function setPlanOutputs(
  io: Workflow,
  plan: Plan,
  planFile: string,
  counts = { add: plan.summary.create, change: plan.summary.update, destroy: plan.summary.delete },
): void {
  io.setOutput('has-changes', String(plan.changes.length > 0));
  io.setOutput('add', String(counts.add));
  io.setOutput('change', String(counts.change));
  io.setOutput('destroy', String(counts.destroy));
  io.setOutput('plan-json', planFile);
}

/** Creates or edits the project's comment on the pull request; a 403 is a warning. */
async function upsertComment(
  io: Workflow,
  env: Env,
  inputs: ActionInputs,
  event: EventContext,
  github: GitHub | null,
  plan: Plan,
): Promise<void> {
  if (!inputs.comment || event.pullRequest === null || !event.repo) return;
  if (!github) {
    io.warning(
      'no comment on the pull request: the github-token input is empty; the plan is in the job summary',
    );
    return;
  }
  const url = runUrl(env);
  const body = renderPlanComment({
    plan,
    sha: event.sha,
    truncatedNote: `the full plan is in the ${url ? `[job summary and log](${url})` : 'job summary and log'}`,
  });
  try {
    const trusted = trustedAuthor(await github.selfLogin());
    const existing: IssueComment | null = await findPlanComment(
      github.commentPages(event.repo, event.pullRequest),
      plan.project,
      trusted,
    );
    if (existing && existing.body === body) {
      io.info(`comment ${existing.id} is up to date`);
    } else if (existing) {
      await github.updateComment(event.repo, existing.id, body);
      io.info(`updated comment ${existing.id} on #${event.pullRequest}`);
    } else {
      const created = await github.createComment(event.repo, event.pullRequest, body);
      io.info(`commented on #${event.pullRequest} (comment ${created.id})`);
    }
  } catch (err) {
    if (err instanceof CommentForbidden) {
      io.warning(`no comment on the pull request: ${err.message}. ${err.hint ?? ''}`.trim());
      return;
    }
    throw err;
  }
}

/** On a push: compares the plan with the one reviewed on the merged PR, then applies it. */
async function applyReviewed(
  io: Workflow,
  inputs: ActionInputs,
  event: EventContext,
  github: GitHub | null,
  backend: Backend,
  plan: Plan,
  planFile: string,
): Promise<number> {
  if (plan.changes.length === 0) {
    setPlanOutputs(io, plan, planFile);
    io.appendSummary(renderPlanSummary(plan, `Stigmer apply for project \`${plan.project}\``));
    io.info('No changes. Your resources match the manifests.');
    return 0;
  }
  const review = await reviewedPlan(event, github, plan);
  let pr = '';
  if (review.status === 'differs') {
    if (inputs.requireReviewedPlan) {
      io.error(`refusing to apply: ${review.message} (require-reviewed-plan is true); nothing was applied`);
      setPlanOutputs(io, plan, planFile, { add: 0, change: 0, destroy: 0 });
      io.appendSummary(
        `${renderPlanSummary(plan, `Stigmer apply for project \`${plan.project}\`: refused`)}\n\n**Refused:** ${review.message}; nothing was applied.\n`,
      );
      return 1;
    }
    io.warning(`${review.message}; applying the fresh plan`);
  }
  if (review.status === 'reviewed' || review.status === 'differs') pr = ` (#${review.pull})`;
  const message = `stigmer action: ${event.repo ? `${event.repo.owner}/${event.repo.repo}@` : ''}${event.sha.slice(0, 12)}${pr}`;
  const applied = await io.group(`Apply for project ${plan.project}`, () =>
    applyPlan(backend, plan, {
      message,
      onEvent: (e) => {
        const text = renderApplyEvent(e);
        if (text !== null) io.info(text.trimStart());
      },
    }),
  );
  setPlanOutputs(io, plan, planFile, {
    add: applied.summary.added,
    change: applied.summary.changed,
    destroy: applied.summary.destroyed,
  });
  const reviewLine =
    review.status === 'reviewed'
      ? `The plan matched the one reviewed in #${review.pull}.`
      : review.status === 'direct'
        ? 'Direct push: no pull request was found for this commit.'
        : `Warning: ${review.message}.`;
  io.appendSummary(
    `${renderPlanSummary(plan, `Stigmer apply for project \`${plan.project}\``)}\n\n**${formatApplySummary(applied.summary)}**\n\n${reviewLine}\n`,
  );
  return 0;
}

type Review =
  | { status: 'reviewed'; pull: number }
  | { status: 'direct' }
  | { status: 'differs'; pull?: number; message: string };

/**
 * Finds the merged pull request of the pushed commit and the plan hash in its comment for
 * this project. No pull request: a direct push. Anything that cannot be checked counts as
 * different (so `require-reviewed-plan` fails closed).
 */
async function reviewedPlan(event: EventContext, github: GitHub | null, plan: Plan): Promise<Review> {
  if (!github || !event.repo || !event.sha) {
    return {
      status: 'differs',
      message: 'the reviewed plan cannot be checked without github-token and the commit',
    };
  }
  let pulls: Awaited<ReturnType<GitHub['pullsForCommit']>>;
  try {
    pulls = await github.pullsForCommit(event.repo, event.sha);
  } catch (err) {
    return {
      status: 'differs',
      message: `the reviewed plan could not be checked: ${(err as Error).message}`,
    };
  }
  const merged = pulls.filter((p) => p.merged_at);
  const pull = merged.find((p) => p.merge_commit_sha === event.sha) ?? merged[0];
  if (!pull) return { status: 'direct' };
  let comment: IssueComment | null;
  try {
    const trusted = trustedAuthor(await github.selfLogin());
    comment = await findPlanComment(github.commentPages(event.repo, pull.number), plan.project, trusted);
  } catch (err) {
    return {
      status: 'differs',
      pull: pull.number,
      message: `the plan reviewed in #${pull.number} could not be read: ${(err as Error).message}`,
    };
  }
  const reviewed = comment ? hashInComment(comment.body ?? '') : null;
  if (reviewed === null) {
    return {
      status: 'differs',
      pull: pull.number,
      message: `#${pull.number} has no reviewed plan for project ${plan.project} (comments off, or a token that could not comment)`,
    };
  }
  const fresh = planHash(plan);
  if (reviewed !== fresh) {
    return {
      status: 'differs',
      pull: pull.number,
      message: `the plan differs from the one reviewed in #${pull.number} (reviewed ${reviewed.slice(0, 12)}, now ${fresh.slice(0, 12)})`,
    };
  }
  return { status: 'reviewed', pull: pull.number };
}
