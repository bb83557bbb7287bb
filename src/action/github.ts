/**
 * The Action's GitHub client: the few REST routes it uses, through `@octokit/rest` with the
 * retry and throttling plugins (5xx and rate limits are retried with backoff), against
 * `GITHUB_API_URL` so GitHub Enterprise Server works. Octokit's errors are translated here,
 * once: a 403 on commenting becomes `CommentForbidden` (a fork's read-only token), anything
 * else a StigmerError naming the route.
 */

import { retry } from '@octokit/plugin-retry';
import { throttling } from '@octokit/plugin-throttling';
import { Octokit } from '@octokit/rest';
import { StigmerError } from '../errors.js';
import type { IssueComment } from './comment.js';

const ActionOctokit = Octokit.plugin(retry, throttling);
type Client = InstanceType<typeof ActionOctokit>;

export interface Repo {
  owner: string;
  repo: string;
}

/** A pull request associated with a commit (the fields used). */
export interface AssociatedPull {
  number: number;
  merged_at?: string | null;
  merge_commit_sha?: string | null;
  state?: string;
}

/** Commenting was refused (HTTP 403): a token that may not write, e.g. a fork's. */
export class CommentForbidden extends StigmerError {
  constructor(cause: unknown) {
    super('BACKEND', 'the token may not comment on this pull request (HTTP 403)', {
      cause,
      hint: "a pull request from a fork gets a read-only token; the plan is in the job summary. Give the job 'pull-requests: write' for pull requests from this repository",
    });
    this.name = 'CommentForbidden';
  }
}

export interface GitHubOptions {
  token: string;
  /** `GITHUB_API_URL`; default https://api.github.com. */
  baseUrl?: string;
  /** Retries of a failed request (5xx, network); default 3. */
  retries?: number;
  /** Called with a line for the log when a request is retried or throttled. */
  log?: (line: string) => void;
}

function statusOf(err: unknown): number | undefined {
  return typeof err === 'object' && err !== null && 'status' in err && typeof err.status === 'number'
    ? err.status
    : undefined;
}

function translate(err: unknown, what: string): StigmerError {
  if (err instanceof StigmerError) return err;
  const status = statusOf(err);
  const message = err instanceof Error ? err.message : String(err);
  return new StigmerError(
    'BACKEND',
    `GitHub API: ${what} failed${status ? ` (HTTP ${status})` : ''}: ${message}`,
    {
      cause: err,
      hint:
        status === 401
          ? 'check the github-token input'
          : status === 404
            ? 'check GITHUB_REPOSITORY and that the token can read this repository'
            : 'GitHub may be unavailable; run the job again',
    },
  );
}

/** The REST routes the Action uses. */
export class GitHub {
  private readonly octokit: Client;

  constructor(options: GitHubOptions) {
    const log = options.log ?? (() => {});
    const retries = options.retries ?? 3;
    this.octokit = new ActionOctokit({
      auth: options.token,
      baseUrl: (options.baseUrl || 'https://api.github.com').replace(/\/+$/, ''),
      userAgent: 'stigmer-action',
      request: { retries },
      retry: { retries },
      throttle: {
        onRateLimit: (retryAfter, opts, _octokit, retryCount) => {
          log(`GitHub rate limit hit for ${opts.method} ${opts.url}; retrying in ${retryAfter}s`);
          return retryCount < retries;
        },
        onSecondaryRateLimit: (retryAfter, opts, _octokit, retryCount) => {
          log(`GitHub secondary rate limit hit for ${opts.method} ${opts.url}; retrying in ${retryAfter}s`);
          return retryCount < retries;
        },
      },
    });
  }

  /** Every comment of an issue or pull request, page by page (100 a page), oldest first. */
  async *commentPages(repo: Repo, issue: number): AsyncGenerator<IssueComment[]> {
    const iterator = this.octokit.paginate.iterator(this.octokit.rest.issues.listComments, {
      ...repo,
      issue_number: issue,
      per_page: 100,
    });
    try {
      for await (const page of iterator) yield page.data as IssueComment[];
    } catch (err) {
      throw translate(err, `listing the comments of #${issue}`);
    }
  }

  async createComment(repo: Repo, issue: number, body: string): Promise<IssueComment> {
    try {
      const { data } = await this.octokit.rest.issues.createComment({ ...repo, issue_number: issue, body });
      return data as IssueComment;
    } catch (err) {
      if (statusOf(err) === 403) throw new CommentForbidden(err);
      throw translate(err, `commenting on #${issue}`);
    }
  }

  async updateComment(repo: Repo, id: number, body: string): Promise<IssueComment> {
    try {
      const { data } = await this.octokit.rest.issues.updateComment({ ...repo, comment_id: id, body });
      return data as IssueComment;
    } catch (err) {
      if (statusOf(err) === 403) throw new CommentForbidden(err);
      throw translate(err, `editing comment ${id}`);
    }
  }

  /** The pull requests associated with a commit (`GET /repos/{owner}/{repo}/commits/{sha}/pulls`). */
  async pullsForCommit(repo: Repo, sha: string): Promise<AssociatedPull[]> {
    try {
      const { data } = await this.octokit.rest.repos.listPullRequestsAssociatedWithCommit({
        ...repo,
        commit_sha: sha,
        per_page: 100,
      });
      return data as AssociatedPull[];
    } catch (err) {
      throw translate(err, `finding the pull request of ${sha.slice(0, 12)}`);
    }
  }

  /**
   * The login of the token's account, or null when the token cannot tell (the workflow's
   * GITHUB_TOKEN and App tokens get 403 here: their comments are a bot's).
   */
  async selfLogin(): Promise<string | null> {
    try {
      const { data } = await this.octokit.rest.users.getAuthenticated();
      return data.login;
    } catch (err) {
      const status = statusOf(err);
      if (status === 403 || status === 401 || status === 404) return null;
      throw translate(err, "reading the token's account");
    }
  }
}
