import { describe, expect, it } from 'vitest';
import { parseGpuUtilization } from './gpu-usage.js';

describe('parseGpuUtilization', () => {
  it("averages nvidia-smi's per-GPU lines", () => {
    expect(parseGpuUtilization('87\n')).toBe(87);
    expect(parseGpuUtilization('80\n 40 \n')).toBe(60);
  });

  it('has no reading where nvidia-smi printed none', () => {
    expect(parseGpuUtilization('')).toBeUndefined();
    expect(parseGpuUtilization('[N/A]\n')).toBeUndefined();
    expect(parseGpuUtilization("NVIDIA-SMI has failed because it couldn't communicate with the NVIDIA driver.\n")).toBeUndefined();
  });
});
