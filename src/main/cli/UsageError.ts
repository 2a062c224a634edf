/**
 * A wrong command line (exit 2), as opposed to a command that ran and failed (exit 1).
 * `commandPath` names the command whose `--help` the message points to.
 */
export class UsageError extends Error {
  constructor(message: string, readonly commandPath: readonly string[] = []) {
    super(message);
    this.name = 'UsageError';
  }
}

/** A non-negative integer option, or a usage error naming the flag. */
export function integerOption(flag: string, value: string | undefined, range: { min?: number; max?: number } = {}): number | undefined {
  if (value === undefined) return undefined;
  const min = range.min ?? 0;
  const max = range.max ?? Number.MAX_SAFE_INTEGER;
  const number = /^-?\d+$/.test(value.trim()) ? Number(value) : Number.NaN;
  if (!Number.isSafeInteger(number) || number < min || number > max) {
    throw new UsageError(`--${flag} needs an integer in [${min}, ${max}], got ${JSON.stringify(value)}`);
  }
  return number;
}

/** A finite number option, or a usage error naming the flag. */
export function numberOption(flag: string, value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  const number = Number(value);
  if (value.trim() === '' || !Number.isFinite(number)) throw new UsageError(`--${flag} needs a number, got ${JSON.stringify(value)}`);
  return number;
}
