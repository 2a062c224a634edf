import { describe, expect, it } from 'vitest';
import { duration, groupIdOfTicketKey, labelText, pct } from './format';

describe('format helpers', () => {
  it('formats rates and durations', () => {
    expect(pct(0.8125)).toBe('81.3%');
    expect(pct(null)).toBe('—');
    expect(duration(65_000)).toBe('1m 5s');
    expect(duration(3_720_000)).toBe('1h 2m');
  });
  it('takes the group id out of a ticket key, even when the id holds ::', () => {
    expect(groupIdOfTicketKey('QC-1::pass')).toBe('QC-1');
    expect(groupIdOfTicketKey('a::b::fail')).toBe('a::b');
    expect(groupIdOfTicketKey('plain')).toBe('plain');
  });
  it('names the input label beside a corrected one, and only then', () => {
    expect(labelText('fail', 'pass')).toBe('fail (corrected from pass)');
    expect(labelText('pass', null)).toBe('pass');
    expect(labelText('pass', undefined)).toBe('pass');
    expect(labelText('pass', 'pass')).toBe('pass');
    expect(labelText(null, null)).toBe('—');
  });
});
