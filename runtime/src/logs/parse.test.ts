import { describe, expect, it } from 'vitest';
import { formatLogLine, isAfter, parseMetricLine, splitTimestamp, timestampNanos } from './parse.js';

describe('splitTimestamp', () => {
  it('splits kubelet timestamps from the text', () => {
    expect(splitTimestamp('2026-11-23T11:00:00.123456789Z hello world')).toEqual({ time: '2026-11-23T11:00:00.123456789Z', text: 'hello world' });
    expect(splitTimestamp('2026-11-23T11:00:00Z   indented\n')).toEqual({ time: '2026-11-23T11:00:00Z', text: '  indented' });
    expect(splitTimestamp('2026-11-23T11:00:00.5Z')).toEqual({ time: '2026-11-23T11:00:00.5Z', text: '' });
  });

  it('keeps what a terminal shows of a line that redraws with \\r (progress bars)', () => {
    expect(splitTimestamp('2026-11-23T11:00:00Z  0%|   | 0/3\r100%|███| 3/3\r')).toEqual({ time: '2026-11-23T11:00:00Z', text: '100%|███| 3/3' });
    expect(splitTimestamp('2026-11-23T11:00:00Z \rSKIFF_METRIC {"step":1}')).toMatchObject({ text: 'SKIFF_METRIC {"step":1}' });
  });

  it('leaves lines without a timestamp whole', () => {
    expect(splitTimestamp('no timestamp here')).toEqual({ time: '', text: 'no timestamp here' });
  });
});

describe('isAfter', () => {
  it('compares to the nanosecond', () => {
    expect(isAfter('2026-11-23T11:00:00.123456790Z', '2026-11-23T11:00:00.123456789Z')).toBe(true);
    expect(isAfter('2026-11-23T11:00:00.123456789Z', '2026-11-23T11:00:00.123456789Z')).toBe(false);
    expect(isAfter('2026-11-23T11:00:00.123456789Z', '2026-11-23T11:00:00.12345679Z')).toBe(false);
  });

  it('copes with trimmed fractions and offsets', () => {
    expect(isAfter('2026-11-23T11:00:00.1Z', '2026-11-23T11:00:00Z')).toBe(true);
    expect(isAfter('2026-11-23T11:00:00Z', '2026-11-23T11:00:00.1Z')).toBe(false);
    expect(isAfter('2026-11-23T12:00:00.000000001+01:00', '2026-11-23T11:00:00Z')).toBe(true);
    expect(timestampNanos('1970-01-01T00:00:01.5Z')).toBe(1_500_000_000n);
  });

  it('puts anything after an empty resume point', () => {
    expect(isAfter('2026-11-23T11:00:00Z', '')).toBe(true);
    expect(isAfter('', '2026-11-23T11:00:00Z')).toBe(false);
  });
});

describe('parseMetricLine', () => {
  it('reads numeric values', () => {
    expect(parseMetricLine('SKIFF_METRIC {"step":3,"loss":0.5}')).toEqual({ step: 3, loss: 0.5 });
    expect(parseMetricLine('SKIFF_METRIC {"step":3,"note":"x","ok":true,"n":null}')).toEqual({ step: 3 });
  });

  it('ignores other and malformed lines', () => {
    expect(parseMetricLine('epoch 3 loss 0.5')).toBeUndefined();
    expect(parseMetricLine('SKIFF_METRIC {"step":')).toBeUndefined();
    expect(parseMetricLine('SKIFF_METRIC [1,2]')).toBeUndefined();
    expect(parseMetricLine('SKIFF_METRIC NaN')).toBeUndefined();
  });
});

describe('formatLogLine', () => {
  const line = { pod: 'train-0-abcde', rank: 0, time: '2026-11-23T11:00:00Z', text: 'hello' };
  it('prefixes the rank unless asked not to', () => {
    expect(formatLogLine(line)).toBe('[rank 0] hello');
    expect(formatLogLine(line, { showRank: true })).toBe('[rank 0] hello');
    expect(formatLogLine(line, { showRank: false })).toBe('hello');
  });
});
