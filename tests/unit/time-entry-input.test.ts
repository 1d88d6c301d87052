// What the time entry forms accept: durations as hours ("1.5", "1,5") or h:mm ("1:30"), and instants as
// datetime-local values on the user's clock (renderer/src/time/entry-time.ts).
import { describe, expect, it } from 'vitest';
import { formatHm, fromLocalInput, parseDuration, toLocalInput } from '../../renderer/src/time/entry-time.js';

describe('parseDuration', () => {
  it('reads hours and h:mm', () => {
    expect(parseDuration('1.5')).toBe(5_400_000);
    expect(parseDuration('1,5')).toBe(5_400_000);
    expect(parseDuration(' 2 ')).toBe(7_200_000);
    expect(parseDuration('1:30')).toBe(5_400_000);
    expect(parseDuration('0:05')).toBe(300_000);
    expect(parseDuration('0')).toBe(0);
  });

  it('refuses anything else, and more than a year', () => {
    for (const bad of ['', 'soon', '1:60', '1:5', '-1', '1.2.3', '1h', '9000']) expect(parseDuration(bad), bad).toBeNull();
  });
});

describe('datetime-local values', () => {
  it('round-trip an instant to the minute on the local clock', () => {
    const t = new Date(2026, 2, 7, 14, 5, 42).getTime();
    expect(toLocalInput(t)).toBe('2026-03-07T14:05');
    expect(fromLocalInput('2026-03-07T14:05')).toBe(new Date(2026, 2, 7, 14, 5).getTime());
    expect(fromLocalInput('')).toBeNull();
    expect(fromLocalInput('yesterday')).toBeNull();
  });

  it('formats durations as h:mm', () => {
    expect(formatHm(5_400_000)).toBe('1:30');
    expect(formatHm(29_000)).toBe('0:00');
    expect(formatHm(31_000)).toBe('0:01');
    expect(formatHm(25 * 3_600_000)).toBe('25:00');
  });
});
