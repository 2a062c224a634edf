/** Where a distill command prints; tests pass collectors, the CLI passes the process streams. */
export type CliIo = { stdout: (text: string) => void; stderr: (text: string) => void };

export const processIo: CliIo = {
  stdout: (text) => process.stdout.write(text.endsWith('\n') ? text : text + '\n'),
  stderr: (text) => process.stderr.write(text.endsWith('\n') ? text : text + '\n'),
};

/** Drops the command words if the caller passed them along with the options. */
export function stripCommandWords(argv: readonly string[], words: readonly string[]): string[] {
  const rest = [...argv];
  for (const word of words) if (rest[0] === word) rest.shift();
  return rest;
}
