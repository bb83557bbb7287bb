/**
 * A local HTTP server speaking the GitHub REST routes the Action uses (COMMON: a fake only for
 * GitHub's API), under a path prefix like GitHub Enterprise Server's `/api/v3`:
 *
 *   GET   /repos/{o}/{r}/issues/{n}/comments   paged (per_page, page, Link headers)
 *   POST  /repos/{o}/{r}/issues/{n}/comments   create
 *   PATCH /repos/{o}/{r}/issues/comments/{id}  update
 *   GET   /repos/{o}/{r}/commits/{sha}/pulls   associated pull requests
 *   GET   /user                                403, as for the workflow's GITHUB_TOKEN
 *
 * `forbidComments` answers every comment write with 403 (a fork's read-only token);
 * `failNext` answers the next N requests with 502 (retries). Every request is recorded.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface FakeComment {
  id: number;
  body: string;
  user: { login: string; type: 'Bot' | 'User' };
  created_at: string;
  updated_at: string;
}

export interface FakePull {
  number: number;
  state: 'open' | 'closed';
  merged_at: string | null;
  merge_commit_sha: string | null;
}

export interface RecordedRequest {
  method: string;
  path: string;
  authorization: string | undefined;
  body: string;
}

const BOT = { login: 'github-actions[bot]', type: 'Bot' as const };

export class FakeGitHub {
  readonly comments = new Map<number, FakeComment[]>();
  readonly pullsByCommit = new Map<string, FakePull[]>();
  readonly requests: RecordedRequest[] = [];
  forbidComments = false;
  failNext = 0;
  private nextId = 1000;
  private server: Server | null = null;
  private origin = '';

  constructor(readonly prefix = '/api/v3') {}

  /** The API base URL (what GITHUB_API_URL holds). */
  get url(): string {
    return `${this.origin}${this.prefix}`;
  }

  async start(): Promise<this> {
    this.server = createServer((req, res) => {
      void this.handle(req, res);
    });
    await new Promise<void>((resolve) => this.server!.listen(0, '127.0.0.1', resolve));
    const { port } = this.server.address() as AddressInfo;
    this.origin = `http://127.0.0.1:${port}`;
    return this;
  }

  async stop(): Promise<void> {
    await new Promise<void>((resolve) => this.server?.close(() => resolve()) ?? resolve());
  }

  /** Adds a comment as someone else would have written it. */
  addComment(issue: number, body: string, user: FakeComment['user'] = { login: 'octocat', type: 'User' }) {
    const now = new Date().toISOString();
    const comment: FakeComment = { id: this.nextId++, body, user, created_at: now, updated_at: now };
    this.list(issue).push(comment);
    return comment;
  }

  list(issue: number): FakeComment[] {
    let list = this.comments.get(issue);
    if (!list) {
      list = [];
      this.comments.set(issue, list);
    }
    return list;
  }

  /** Comments on `issue` whose body starts with the marker of `project`. */
  planComments(issue: number, project: string): FakeComment[] {
    return this.list(issue).filter((c) => c.body.startsWith(`<!-- stigmer-plan project=${project} -->`));
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const body = Buffer.concat(chunks).toString('utf8');
    const url = new URL(req.url ?? '/', this.origin);
    this.requests.push({
      method: req.method ?? 'GET',
      path: url.pathname + url.search,
      authorization: req.headers.authorization,
      body,
    });
    const send = (status: number, data: unknown, headers: Record<string, string> = {}) => {
      res.writeHead(status, { 'content-type': 'application/json; charset=utf-8', ...headers });
      res.end(JSON.stringify(data));
    };
    if (this.failNext > 0) {
      this.failNext--;
      send(502, { message: 'Bad Gateway' });
      return;
    }
    if (!url.pathname.startsWith(`${this.prefix}/`)) {
      send(404, { message: 'Not Found (outside the API prefix)' });
      return;
    }
    const path = url.pathname.slice(this.prefix.length);
    const method = req.method ?? 'GET';
    const commentsRoute = /^\/repos\/[^/]+\/[^/]+\/issues\/(\d+)\/comments$/.exec(path);
    const commentRoute = /^\/repos\/[^/]+\/[^/]+\/issues\/comments\/(\d+)$/.exec(path);
    const pullsRoute = /^\/repos\/[^/]+\/[^/]+\/commits\/([^/]+)\/pulls$/.exec(path);

    if (method === 'GET' && path === '/user') {
      send(403, { message: 'Resource not accessible by integration' });
      return;
    }
    if (commentsRoute) {
      const issue = Number(commentsRoute[1]);
      if (method === 'GET') {
        const perPage = Math.min(Number(url.searchParams.get('per_page') ?? 30), 100);
        const page = Math.max(Number(url.searchParams.get('page') ?? 1), 1);
        const all = this.list(issue);
        const last = Math.max(1, Math.ceil(all.length / perPage));
        const links: string[] = [];
        const link = (p: number, rel: string) => {
          const u = new URL(url);
          u.searchParams.set('page', String(p));
          u.searchParams.set('per_page', String(perPage));
          links.push(`<${u.toString()}>; rel="${rel}"`);
        };
        if (page < last) {
          link(page + 1, 'next');
          link(last, 'last');
        }
        send(
          200,
          all.slice((page - 1) * perPage, page * perPage),
          links.length ? { link: links.join(', ') } : {},
        );
        return;
      }
      if (method === 'POST') {
        if (this.forbidComments) {
          send(403, { message: 'Resource not accessible by integration' });
          return;
        }
        send(201, this.addComment(issue, (JSON.parse(body) as { body: string }).body, BOT));
        return;
      }
    }
    if (commentRoute && method === 'PATCH') {
      if (this.forbidComments) {
        send(403, { message: 'Resource not accessible by integration' });
        return;
      }
      const id = Number(commentRoute[1]);
      for (const list of this.comments.values()) {
        const comment = list.find((c) => c.id === id);
        if (comment) {
          comment.body = (JSON.parse(body) as { body: string }).body;
          comment.updated_at = new Date().toISOString();
          send(200, comment);
          return;
        }
      }
      send(404, { message: 'Not Found' });
      return;
    }
    if (pullsRoute && method === 'GET') {
      send(200, this.pullsByCommit.get(pullsRoute[1]!) ?? []);
      return;
    }
    send(404, { message: `Not Found: ${method} ${path}` });
  }
}
