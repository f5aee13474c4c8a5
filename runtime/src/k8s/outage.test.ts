import { describe, expect, it } from 'vitest';
import { outageKind, outageNotices, throughOutages } from './outage.js';

const withCode = (code: string, message = code) => Object.assign(new Error(message), { code });
const httpStatus = (code: number) => Object.assign(new Error(`HTTP ${code}`), { code });

describe('riding out an API server that restarts', () => {
  it('tells a restart (resets, 5xx, timeouts) from nothing listening, and both from real answers', () => {
    expect(outageKind(withCode('ECONNRESET', 'Client network socket disconnected before secure TLS connection was established'))).toBe('outage');
    expect(outageKind(httpStatus(503))).toBe('outage');
    expect(outageKind(withCode('ETIMEDOUT'))).toBe('outage');
    expect(outageKind({ message: 'wrapped', cause: withCode('ECONNREFUSED') })).toBe('refused');
    for (const answer of [httpStatus(404), httpStatus(403), new Error('bad json')]) expect(outageKind(answer)).toBeUndefined();
    // A read that was allowed a moment ago is refused while a restarted API server loads RBAC.
    expect(outageKind(httpStatus(403), true)).toBe('outage');
    expect(outageKind(httpStatus(404), true)).toBeUndefined();
  });

  it('retries through an outage, says when it started and ended, and gives up after its budget', async () => {
    let calls = 0;
    const events: string[] = [];
    const value = await throughOutages(
      async () => {
        if (++calls < 3) throw withCode('ECONNRESET');
        return 'back';
      },
      { onOutage: (e) => events.push(e.state) },
    );
    expect([value, calls, events]).toEqual(['back', 3, ['lost', 'back']]);

    // Reset, then refused while the restarted server loads RBAC, then answered.
    const answers = [withCode('ECONNRESET'), httpStatus(403)];
    expect(
      await throughOutages(async () => {
        const next = answers.shift();
        if (next) throw next;
        return 'allowed again';
      }),
    ).toBe('allowed again');

    const started = Date.now();
    await expect(throughOutages(() => Promise.reject(withCode('ECONNREFUSED')), { refusedBudgetMs: 600 })).rejects.toMatchObject({ code: 'ECONNREFUSED' });
    expect(Date.now() - started).toBeLessThan(2000);
  });

  it('keeps to its budget when a retry hangs (an address that takes connections and never answers)', async () => {
    let calls = 0;
    const hangs = () => (calls++ === 0 ? Promise.reject(withCode('ECONNRESET')) : new Promise<never>(() => {}));
    const started = Date.now();
    await expect(throughOutages(hangs, { budgetMs: 500 })).rejects.toMatchObject({ code: 'ECONNRESET' });
    expect(Date.now() - started).toBeLessThan(1500);
    expect(calls).toBe(2);
  });

  it('passes real answers through at once, and stops when aborted', async () => {
    let calls = 0;
    await expect(throughOutages(() => (calls++, Promise.reject(httpStatus(404))))).rejects.toMatchObject({ code: 404 });
    expect(calls).toBe(1);
    const controller = new AbortController();
    setTimeout(() => controller.abort(), 300);
    await expect(throughOutages(() => Promise.reject(withCode('ECONNRESET')), { signal: controller.signal })).rejects.toMatchObject({ code: 'ECONNRESET' });
  });

  it('says once that the API server went and once that it is back, however many reads waited', () => {
    const said: string[] = [];
    const notice = outageNotices("cluster 'skiff'", (m) => said.push(m));
    notice({ state: 'lost', error: new Error('socket hang up'), budgetMs: 120_000 });
    notice({ state: 'lost', error: new Error('ECONNRESET'), budgetMs: 120_000 });
    notice({ state: 'back', afterMs: 31_400 });
    expect(said).toEqual(["lost the API server of cluster 'skiff' (socket hang up); waiting for it to answer again, up to 2 min"]);
    notice({ state: 'back', afterMs: 32_000 });
    expect(said[1]).toBe("the API server of cluster 'skiff' answers again, after 32 s");
  });

  it('names what failed without the request URL, and the wait a refusal gets', () => {
    const said: string[] = [];
    const refused = new Error(
      'request to https://127.0.0.1:42871/apis/batch/v1/namespaces/skiff/jobs?labelSelector=skiff.dev%2Fjob%3Dx failed, reason: connect ECONNREFUSED 127.0.0.1:42871',
    );
    outageNotices("cluster 'skiff'", (m) => said.push(m))({ state: 'lost', error: refused, budgetMs: 10_000 });
    expect(said).toEqual(["lost the API server of cluster 'skiff' (connect ECONNREFUSED 127.0.0.1:42871); waiting for it to answer again, up to 10 s"]);
  });
});
