import { describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { comparable } from './promote.js';

describe('comparable', () => {
  it("shows a Secret's keys and whether each value changes, never the value", () => {
    const secret = (token: string) => ({
      apiVersion: 'v1',
      kind: 'Secret',
      metadata: { name: 'train-env', uid: 'u', resourceVersion: '9' },
      data: { API_TOKEN: Buffer.from(token).toString('base64') },
      stringData: { OTHER: token },
    });
    const before = stringify(comparable(secret('tok-one')));
    const after = stringify(comparable(secret('tok-two')));
    for (const text of [before, after]) {
      expect(text).toMatch(/API_TOKEN: \(hidden, sha256 [0-9a-f]{12}\)/);
      expect(text).not.toContain('tok-');
      expect(text).not.toContain(Buffer.from('tok-one').toString('base64'));
      expect(text).not.toContain('resourceVersion');
    }
    expect(before).not.toBe(after);
    expect(stringify(comparable(secret('tok-one')))).toBe(before);
  });

  it('leaves other kinds as they are, less the fields the server owns', () => {
    const cm = { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'c', uid: 'u' }, data: { a: 'plain' }, status: {} };
    expect(comparable(cm)).toEqual({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'c' }, data: { a: 'plain' } });
  });
});
