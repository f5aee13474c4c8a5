import { describe, expect, it } from 'vitest';
import { addonsFrom } from './addons.js';

describe('add-ons', () => {
  it('are named with --with, comma-separated, each once; an unknown one is refused before anything starts', () => {
    expect(addonsFrom(['mlflow', 'mlflow'])).toEqual(['mlflow']);
    expect(() => addonsFrom(['mlflow', 'grafana'])).toThrow("unknown add-on 'grafana'");
    try {
      addonsFrom(['grafana']);
    } catch (err) {
      expect((err as { hint?: string }).hint).toBe('--with takes mlflow (comma-separated)');
    }
  });
});
