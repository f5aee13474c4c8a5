import { describe, expect, it } from 'vitest';
import { rolledOut } from './wait.js';

describe('rolledOut', () => {
  const deployment = (generation: number, status: Record<string, number>) => ({ metadata: { generation }, status });
  it('is true once the current template runs ready with nothing unavailable, not before', () => {
    expect(rolledOut(deployment(2, { observedGeneration: 2, updatedReplicas: 1, readyReplicas: 1 }))).toBe(true);
    // The controller has not seen the new template yet: the ready replica is the old one.
    expect(rolledOut(deployment(3, { observedGeneration: 2, updatedReplicas: 1, readyReplicas: 1 }))).toBe(false);
    expect(rolledOut(deployment(2, { observedGeneration: 2, updatedReplicas: 1, readyReplicas: 0 }))).toBe(false);
    expect(rolledOut(deployment(2, { observedGeneration: 2, updatedReplicas: 1, readyReplicas: 1, unavailableReplicas: 1 }))).toBe(false);
    expect(rolledOut(undefined)).toBe(false);
  });
});
