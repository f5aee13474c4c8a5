import { describe, expect, it } from 'vitest';
import { addonsFrom } from './addons.js';
import { SkiffError } from '../errors.js';

describe('add-ons', () => {
  it('are named with --with, each once; an unknown one is refused, naming those there are, before anything starts', () => {
    expect(addonsFrom(['mlflow', 'kueue', 'mlflow'])).toEqual(['mlflow', 'kueue']);
    const refused = (() => {
      try {
        return addonsFrom(['mlflow', 'grafana']);
      } catch (err) {
        return err;
      }
    })();
    expect(refused).toBeInstanceOf(SkiffError);
    expect(refused).toMatchObject({ code: 'BAD_INPUT', message: "unknown add-on 'grafana'", hint: '--with takes mlflow, prometheus, kueue (comma-separated)' });
  });
});
