import { describe, expect, it } from 'vitest';
import { parseServingSpec } from '../spec/job-spec.js';
import { renderJob } from './submit.js';
import { servingPort } from './forward.js';

describe('servingPort', () => {
  it("is the port a serving job's pods listen on, and none for a training pod", () => {
    const spec = parseServingSpec({ name: 'web', script: 'app.py', port: 8080 });
    const rendered = renderJob(spec, [{ path: 'app.py', content: Buffer.from('') }], []);
    expect(servingPort({ spec: rendered.owner.spec!.template.spec })).toBe(8080);
    expect(servingPort({ spec: { containers: [{ name: 'worker', ports: [{ name: 'dist', containerPort: 29500 }] }] } })).toBeUndefined();
  });
});
