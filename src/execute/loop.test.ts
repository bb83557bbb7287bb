import { describe, expect, it } from 'vitest';
import { startTurn, step, type ToolCall } from './loop.js';

const usage = { promptTokens: 3, completionTokens: 2, totalTokens: 5 };
const call = (id: string, name = 'orders__lookup_order', args = '{"orderId":"1"}'): ToolCall => ({
  id,
  type: 'function',
  function: { name, arguments: args },
});

describe('the turn state machine', () => {
  it('starts with the system prompt, the history and the message, then asks for the model', () => {
    const history = [
      { role: 'user' as const, content: 'earlier' },
      { role: 'assistant' as const, content: 'reply' },
    ];
    const { state, next } = startTurn({ system: 'Be brief.', history, message: 'now', maxToolRounds: 2 });
    expect(next).toEqual({ type: 'call_model' });
    expect(state.messages).toEqual([
      { role: 'system', content: 'Be brief.' },
      ...history,
      { role: 'user', content: 'now' },
    ]);
    expect(state.turnStart).toBe(3);
  });

  it('runs model → tools → model and ends with the reply, adding usage', () => {
    let r = startTurn({ system: 's', history: [], message: 'm', maxToolRounds: 2 });
    r = step(r.state, { type: 'reply', content: '', toolCalls: [call('a'), call('b')], usage });
    expect(r.next).toEqual({ type: 'call_tools', calls: [call('a'), call('b')] });
    expect(r.events.map((e) => [e.type, e.id])).toEqual([
      ['tool_call', 'a'],
      ['tool_call', 'b'],
    ]);
    r = step(r.state, {
      type: 'tool_results',
      results: [
        { id: 'a', name: 'orders__lookup_order', content: 'shipped', isError: false },
        { id: 'b', name: 'orders__lookup_order', content: 'no such order', isError: true },
      ],
    });
    expect(r.next).toEqual({ type: 'call_model' });
    expect(r.events).toEqual([
      { type: 'tool_result', id: 'a', name: 'orders__lookup_order', content: 'shipped', isError: false },
      { type: 'tool_result', id: 'b', name: 'orders__lookup_order', content: 'no such order', isError: true },
    ]);
    r = step(r.state, { type: 'reply', content: 'It shipped.', toolCalls: [], usage });
    expect(r.next).toEqual({ type: 'done', output: 'It shipped.' });
    expect(r.state.usage).toEqual({ promptTokens: 6, completionTokens: 4, totalTokens: 10 });
    expect(r.state.messages.slice(r.state.turnStart).map((m) => m.role)).toEqual([
      'user',
      'assistant',
      'tool',
      'tool',
      'assistant',
    ]);
    expect(r.state.messages[2]).toEqual({
      role: 'assistant',
      content: null,
      tool_calls: [call('a'), call('b')],
    });
  });

  it('fails when the model still wants tools after max_tool_rounds', () => {
    let r = startTurn({ system: 's', history: [], message: 'm', maxToolRounds: 1 });
    r = step(r.state, { type: 'reply', content: '', toolCalls: [call('a')], usage });
    r = step(r.state, {
      type: 'tool_results',
      results: [{ id: 'a', name: 'x', content: 'ok', isError: false }],
    });
    r = step(r.state, { type: 'reply', content: '', toolCalls: [call('b')], usage });
    expect(r.next).toEqual({
      type: 'failed',
      error: 'the model still asked for tools after 1 tool round (config.max_tool_rounds)',
    });
    const none = step(startTurn({ system: 's', history: [], message: 'm', maxToolRounds: 0 }).state, {
      type: 'reply',
      content: '',
      toolCalls: [call('a')],
      usage,
    });
    expect(none.next.type).toBe('failed');
  });

  it('keeps what arrived of a reply that was cut off', () => {
    const start = startTurn({ system: 's', history: [], message: 'm', maxToolRounds: 1 });
    const r = step(start.state, { type: 'reply_failed', error: 'cut off', partial: 'The answ' });
    expect(r.next).toEqual({ type: 'failed', error: 'cut off' });
    expect(r.state.messages.at(-1)).toEqual({ role: 'assistant', content: 'The answ' });
    const nothing = step(start.state, { type: 'reply_failed', error: 'down', partial: '' });
    expect(nothing.state.messages).toHaveLength(2);
  });
});
