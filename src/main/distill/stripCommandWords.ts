/** Drops the command words if the caller passed them along with the options. */
export function stripCommandWords(argv: readonly string[], words: readonly string[]): string[] {
  const rest = [...argv];
  for (const word of words) if (rest[0] === word) rest.shift();
  return rest;
}
