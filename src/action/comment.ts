/**
 * The pull-request comment of the Action (DESIGN.md §6), as pure functions: its hidden
 * markers, its body (summary line, destroy warning, the plan in a collapsible block sized to
 * GitHub's limit, the hidden plan hash), and finding the Action's own comment among all pages
 * of a PR's comments. Nothing here talks to GitHub.
 */
import { stableHash } from '../plan/hash.js';
import { planHasErrors } from '../plan/plan.js';
import { type PlanJson, planToJson } from '../plan/render-json.js';
import { renderPlanMarkdown } from '../plan/render-markdown.js';
import type { Plan } from '../plan/types.js';

/** GitHub refuses an issue comment longer than this many characters. */
export const COMMENT_MAX_CHARS = 65_536;
/** GitHub refuses a job summary (`$GITHUB_STEP_SUMMARY`) larger than 1 MiB per step. */
export const SUMMARY_MAX_BYTES = 1024 * 1024;

/** `<!-- stigmer-plan project=NAME -->`: the first line of the Action's comment for one project. */
export function commentMarker(project: string): string {
  return `<!-- stigmer-plan project=${project} -->`;
}

const HASH_MARKER = /<!-- stigmer-plan-hash=([0-9a-f]{64}) -->/;

/**
 * The plan's hash (hex sha256): over the canonical `{project, changes}` of its JSON form, so the
 * same plan always has the same hash, whoever computes it and whenever.
 */
export function planHash(plan: Plan | PlanJson): string {
  const json = 'observed' in plan ? planToJson(plan) : plan;
  return stableHash({ project: json.project, changes: json.changes }).slice('sha256:'.length);
}

/** `<!-- stigmer-plan-hash=HEX -->`. */
export function hashMarker(hash: string): string {
  return `<!-- stigmer-plan-hash=${hash} -->`;
}

/** The plan hash a comment carries, or null. */
export function hashInComment(body: string): string | null {
  return HASH_MARKER.exec(body)?.[1] ?? null;
}

/** A PR comment as the REST API returns it (the fields used here). */
export interface IssueComment {
  id: number;
  body?: string | null;
  user?: { login: string; type?: string } | null;
}

/**
 * Whether a comment is the Action's comment for `project`: its body starts with the project's
 * marker and its author is trusted (see `isTrustedAuthor`). Anyone can paste a marker into a
 * comment; only the Action's own account makes it count.
 */
export function isPlanComment(
  comment: IssueComment,
  project: string,
  trusted: (user: NonNullable<IssueComment['user']>) => boolean,
): boolean {
  const body = comment.body ?? '';
  const marker = commentMarker(project);
  if (!(body.startsWith(`${marker}\n`) || body === marker)) return false;
  return comment.user != null && trusted(comment.user);
}

/**
 * The default trust rule: comments written by a bot account (the workflow's `GITHUB_TOKEN`
 * writes as `github-actions[bot]`, a GitHub App as `NAME[bot]`), or by `selfLogin` — the
 * account of a personal token, when the Action runs with one. A person cannot create a bot
 * account, so a marker pasted by the PR's author is never taken for the Action's comment.
 */
export function trustedAuthor(selfLogin: string | null) {
  return (user: NonNullable<IssueComment['user']>): boolean =>
    user.type === 'Bot' || (selfLogin !== null && user.login === selfLogin);
}

/** The first matching comment in the pages, read in order; stops at the first match. */
export async function findPlanComment(
  pages: AsyncIterable<readonly IssueComment[]>,
  project: string,
  trusted: (user: NonNullable<IssueComment['user']>) => boolean,
): Promise<IssueComment | null> {
  for await (const page of pages) {
    for (const comment of page) if (isPlanComment(comment, project, trusted)) return comment;
  }
  return null;
}

export interface CommentContent {
  plan: Plan;
  /** The short commit the plan was made for, shown in the footer. */
  sha?: string;
  /** Where the full plan is when the comment had to be cut (job log and job summary). */
  truncatedNote: string;
  /** Upper bound on the whole body; default COMMENT_MAX_CHARS. */
  maxChars?: number;
}

/** The destroy warning line, or null when nothing is destroyed. */
export function destroyWarning(plan: Plan): string | null {
  const n = plan.summary.delete;
  if (n === 0) return null;
  const names = plan.changes.filter((c) => c.action === 'delete').map((c) => `${c.kind}/${c.name}`);
  const shown = names.slice(0, 10).join(', ') + (names.length > 10 ? `, and ${names.length - 10} more` : '');
  return `> [!WARNING]\n> This plan **destroys ${n} resource${n === 1 ? '' : 's'}**: ${shown}.`;
}

/**
 * The comment body: marker, the plan's markdown (summary line first, then a destroy warning,
 * then the plan in a collapsible block, cut to fit), a footer, and the hidden plan hash. The
 * markers are never cut: only the plan block is.
 */
export function renderPlanComment(content: CommentContent): string {
  const { plan } = content;
  const max = content.maxChars ?? COMMENT_MAX_CHARS;
  const head = `${commentMarker(plan.project)}\n`;
  // A failed plan has no hash: there is nothing to review, so nothing may match it on merge.
  const hash = planHasErrors(plan) ? '' : `${hashMarker(planHash(plan))}\n`;
  const footer = `\n${content.sha ? `<sub>Planned for ${content.sha.slice(0, 12)} by the Stigmer action.</sub>\n` : ''}${hash}`;
  const warning = destroyWarning(plan);
  const markdown = renderPlanMarkdown(plan, {
    maxChars: max - head.length - footer.length,
    truncatedNote: content.truncatedNote,
    ...(warning ? { afterSummary: [warning] } : {}),
  });
  return `${head}${markdown.trimEnd()}\n${footer}`;
}

/**
 * The job summary: the same markdown as the comment (without its markers), cut to GitHub's
 * 1 MiB limit for step summaries; when even that is not enough, the job log has the full plan.
 */
export function renderPlanSummary(plan: Plan, heading?: string): string {
  const warning = destroyWarning(plan);
  const options = {
    truncatedNote: 'the full plan is in the job log',
    ...(warning ? { afterSummary: [warning] } : {}),
    ...(heading ? { title: heading } : {}),
  };
  const full = renderPlanMarkdown(plan, options);
  if (Buffer.byteLength(full, 'utf8') <= SUMMARY_MAX_BYTES - 1024) return full;
  // maxChars counts UTF-16 units; a quarter of the byte budget is safe for any text.
  let chars = SUMMARY_MAX_BYTES - 1024;
  for (;;) {
    const cut = renderPlanMarkdown(plan, { ...options, maxChars: chars });
    if (Buffer.byteLength(cut, 'utf8') <= SUMMARY_MAX_BYTES - 1024 || chars < 4096) return cut;
    chars = Math.floor(chars * 0.75);
  }
}
