import { describe, expect, it } from 'vitest';
import type { CodeFile } from '../types.js';
import { parseServingSpec } from '../spec/job-spec.js';
import { specFromAnnotations } from './labels.js';
import { servingManifests } from './serving.js';

const files: CodeFile[] = [{ path: 'serve.py', content: Buffer.from('') }];
const libFiles: CodeFile[] = [{ path: 'skiff/__init__.py', content: Buffer.from('') }];
const spec = parseServingSpec({ name: 'api', script: 'serve.py', args: ['--model', 'm'], replicas: 2, port: 9000 });

describe('servingManifests', () => {
  const { configMaps, service, deployment } = servingManifests(spec, files, libFiles);
  const pod = deployment.spec!.template.spec!;
  const server = pod.containers[0];

  it('is a Deployment of replicas selected by job label', () => {
    expect(deployment.apiVersion).toBe('apps/v1');
    expect(deployment.spec?.replicas).toBe(2);
    expect(deployment.spec?.selector.matchLabels).toEqual({ 'skiff.dev/job': 'api' });
    expect(deployment.spec?.template.metadata?.labels).toMatchObject({ 'skiff.dev/job': 'api', 'skiff.dev/kind': 'serving' });
    expect(specFromAnnotations(deployment.metadata?.annotations)).toEqual(spec);
    expect(configMaps.map((c) => c.metadata?.name)).toEqual(['api-code', 'api-lib']);
  });

  it('runs the server script with PORT and a TCP readiness probe', () => {
    expect(server.name).toBe('server');
    expect(server.command).toEqual(['python3', '-u', '-m', 'skiff.launch', '/skiff/code/serve.py', '--model', 'm']);
    expect(server.env).toContainEqual({ name: 'PORT', value: '9000' });
    expect(server.env?.find((e) => e.name === 'WORLD_SIZE')).toBeUndefined();
    expect(server.ports).toEqual([{ name: 'http', containerPort: 9000, protocol: 'TCP' }]);
    expect(server.readinessProbe).toEqual({ tcpSocket: { port: 9000 }, periodSeconds: 2 });
  });

  it('exposes port 80 through a ClusterIP Service', () => {
    expect(service.metadata?.name).toBe('api');
    expect(service.spec).toMatchObject({ type: 'ClusterIP', selector: { 'skiff.dev/job': 'api' } });
    expect(service.spec?.ports).toEqual([{ name: 'http', port: 80, targetPort: 'http', protocol: 'TCP' }]);
    expect(specFromAnnotations(service.metadata?.annotations)).toEqual(spec);
  });
});
