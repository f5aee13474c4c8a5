import { describe, expect, it } from 'vitest';
import { describeError, exitCodeFor, SkiffError } from './errors.js';

class SpecLikeError extends Error {
  readonly field = 'workers';
}

describe('exitCodeFor', () => {
  it('maps outcomes to the documented exit codes', () => {
    expect(exitCodeFor(undefined)).toBe(0);
    expect(exitCodeFor(new SkiffError('JOB_FAILED', 'x'))).toBe(1);
    for (const code of ['BAD_INPUT', 'SCRIPT_NOT_FOUND', 'JOB_NOT_FOUND'] as const) expect(exitCodeFor(new SkiffError(code, 'x'))).toBe(2);
    for (const code of ['NO_DOCKER', 'NO_KIND', 'NO_GPU', 'NO_CLUSTER', 'CLUSTER_GONE', 'IMAGE_MISSING', 'UNREACHABLE'] as const) {
      expect(exitCodeFor(new SkiffError(code, 'x'))).toBe(3);
    }
    expect(exitCodeFor(new SkiffError('COMMAND_FAILED', 'x'))).toBe(4);
    expect(exitCodeFor(new SkiffError('TIMEOUT', 'x'))).toBe(4);
    // Unclassified: "other failures", never mistaken for a failed job.
    expect(exitCodeFor(new Error('surprise'))).toBe(4);
    expect(exitCodeFor('a string')).toBe(4);
  });

  it('treats spec errors (they carry a field) as bad input', () => {
    expect(exitCodeFor(new SpecLikeError('workers must be ≥ 1'))).toBe(2);
  });
});

describe('describeError', () => {
  it('prints the message and the hint', () => {
    const err = new SkiffError('NO_CLUSTER', "no cluster named 'skiff'", { hint: 'run `skiff up`' });
    expect(describeError(err)).toBe("error: no cluster named 'skiff'\nhint: run `skiff up`");
  });

  it('prints only the message without a hint, for any error', () => {
    expect(describeError(new Error('boom'))).toBe('error: boom');
    expect(describeError(new SpecLikeError('bad spec'))).toBe('error: bad spec');
    expect(describeError(42)).toBe('error: 42');
  });

  it('keeps the cause', () => {
    const cause = new Error('root');
    expect(new SkiffError('TIMEOUT', 'slow', { cause }).cause).toBe(cause);
  });

  it("shows the API server's message instead of a whole Kubernetes API exception", () => {
    const err = Object.assign(new Error('HTTP-Code: 404 Message: Unknown API Status Code! Body: {...} Headers: {...}'), {
      code: 404,
      body: JSON.stringify({ kind: 'Status', message: 'jobs.batch "x" not found' }),
    });
    expect(describeError(err)).toBe('error: Kubernetes API (404): jobs.batch "x" not found');
  });
});
