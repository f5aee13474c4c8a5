import { describe, expect, it } from 'vitest';
import { SkiffError } from '@skiff/runtime';
import { notificationFor } from './errors.js';

describe('notificationFor', () => {
  it('says the Docker engine is not running, with Retry and details', () => {
    const n = notificationFor(new SkiffError('NO_DOCKER', 'cannot reach /var/run/docker.sock', { hint: 'start Docker' }), { retryable: true });
    expect(n).toEqual({ message: 'Docker engine is not running: cannot reach /var/run/docker.sock — start Docker', actions: ['Retry', 'Show Details'] });
  });

  it('offers to start a cluster when there is none or it is gone', () => {
    expect(notificationFor(new SkiffError('NO_CLUSTER', "no cluster named 'skiff'")).actions).toEqual(['Start Cluster', 'Show Details']);
    expect(notificationFor(new SkiffError('CLUSTER_GONE', 'gone')).actions[0]).toBe('Start Cluster');
  });

  it('points bad input at the settings, and keeps unknown errors readable', () => {
    expect(notificationFor(new SkiffError('BAD_INPUT', '--workers must be between 1 and 64')).actions).toEqual(['Open Settings']);
    expect(notificationFor(new Error('socket hang up'))).toEqual({ message: 'socket hang up', actions: ['Show Details'] });
  });
});
