import { describe, expect, it } from 'vitest';
import { planChanges } from '../plan/plan.js';
import { desired, live, planOptions } from '../plan/testing.js';
import type { Plan } from '../plan/types.js';
import {
  COMMENT_MAX_CHARS,
  commentMarker,
  findPlanComment,
  hashInComment,
  type IssueComment,
  planHash,
  renderPlanComment,
  renderPlanSummary,
  SUMMARY_MAX_BYTES,
  trustedAuthor,
} from './comment.js';

const bot = { login: 'github-actions[bot]', type: 'Bot' };
const person = { login: 'octocat', type: 'User' };

async function* pages(...list: IssueComment[][]) {
  for (const page of list) yield page;
}

function bigPlan(n: number): Plan {
  const agents = Array.from({ length: n }, (_, i) =>
    desired('Agent', `agent-${i}`, { spec: { instructions: `You are agent number ${i}, a helpful one.` } }),
  );
  return planChanges(agents, [], planOptions({ project: 'big' }));
}

describe('finding the comment', () => {
  const ours = { id: 7, body: `${commentMarker('demo')}\nplan`, user: bot };

  it('finds the marker on a later page, from a trusted author only', async () => {
    const pasted = { id: 1, body: `${commentMarker('demo')}\nforged`, user: person };
    const others = Array.from({ length: 100 }, (_, i) => ({ id: 100 + i, body: `hi ${i}`, user: person }));
    const found = await findPlanComment(
      pages([pasted, ...others.slice(0, 99)], [others[99]!, ours]),
      'demo',
      trustedAuthor(null),
    );
    expect(found?.id).toBe(7);
  });

  it("matches the project exactly and trusts the token's own user", async () => {
    const other = { id: 8, body: `${commentMarker('demo-2')}\nplan`, user: bot };
    expect(await findPlanComment(pages([other]), 'demo', trustedAuthor(null))).toBeNull();
    const mine = {
      id: 9,
      body: `${commentMarker('demo')}\nplan`,
      user: { login: 'deploy-bot-user', type: 'User' },
    };
    expect(await findPlanComment(pages([mine]), 'demo', trustedAuthor(null))).toBeNull();
    expect((await findPlanComment(pages([mine]), 'demo', trustedAuthor('deploy-bot-user')))?.id).toBe(9);
  });
});

describe('the comment body', () => {
  it('fits 3,000 changes under the limit, markers kept, plan block cut with a note', () => {
    const plan = bigPlan(3000);
    const body = renderPlanComment({ plan, sha: 'abcdef0123456789', truncatedNote: 'see the job log' });
    expect(body.length).toBeLessThanOrEqual(COMMENT_MAX_CHARS);
    expect(body.startsWith(`${commentMarker('big')}\n### Stigmer plan for project \`big\``)).toBe(true);
    expect(body).toContain('**Plan: 3000 to add, 0 to change, 0 to destroy.**');
    expect(body).toContain('_Plan truncated to fit; see the job log._');
    expect(body).toContain('</details>');
    expect(hashInComment(body)).toBe(planHash(plan));
    expect(body).toContain('Planned for abcdef012345');
  });

  it('warns about destroys right after the summary line', () => {
    const plan = planChanges([desired('Agent', 'keep')], [live('Agent', 'gone')], planOptions());
    const body = renderPlanComment({ plan, truncatedNote: 'x' });
    expect(body).toMatch(
      /\*\*Plan: 1 to add, 0 to change, 1 to destroy\.\*\*\n\n> \[!WARNING\]\n> This plan \*\*destroys 1 resource\*\*: Agent\/gone\./,
    );
  });

  it('a failed plan carries no hash', () => {
    const plan: Plan = {
      ...bigPlan(0),
      diagnostics: [{ severity: 'error', file: 'm.yaml', line: 2, column: 3, message: 'bad' }],
    };
    const body = renderPlanComment({ plan, truncatedNote: 'x' });
    expect(body).toContain('m.yaml:2:3: bad');
    expect(hashInComment(body)).toBeNull();
  });

  it('hashes the same plan alike, a different one differently', () => {
    expect(planHash(bigPlan(3))).toBe(planHash(bigPlan(3)));
    expect(planHash(bigPlan(3))).not.toBe(planHash(bigPlan(4)));
    expect(planHash(bigPlan(3))).toMatch(/^[0-9a-f]{64}$/);
  });

  it('the job summary stays under 1 MiB', () => {
    const summary = renderPlanSummary(bigPlan(12_000));
    expect(Buffer.byteLength(summary, 'utf8')).toBeLessThanOrEqual(SUMMARY_MAX_BYTES);
    expect(summary).toContain('**Plan: 12000 to add, 0 to change, 0 to destroy.**');
    expect(summary).toContain('the full plan is in the job log');
  });
});
