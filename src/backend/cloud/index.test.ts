import { describe, expect, it } from 'vitest';
import { isLoopbackEndpoint, normalizeEndpoint } from './index.js';

describe('isLoopbackEndpoint', () => {
  it('is true for this machine only: localhost, 127.0.0.0/8 and ::1', () => {
    for (const url of [
      'http://127.0.0.1:7234',
      'http://127.1.2.3:1',
      'http://localhost:7234',
      'https://LOCALHOST',
      'http://[::1]:7234',
    ])
      expect(isLoopbackEndpoint(normalizeEndpoint(url)), url).toBe(true);
    for (const url of [
      'https://stigmer.example.com',
      'http://10.0.0.1:7234',
      'http://127.0.0.1.example.com:7234',
      'http://localhost.example.com',
      'http://[::2]:7234',
      'http://0.0.0.0:7234',
    ])
      expect(isLoopbackEndpoint(normalizeEndpoint(url)), url).toBe(false);
  });
});
