// The `stageb` command line: the commands are in src/main/cli/commands/ (one per file,
// registered in commands/index.ts); this module is the entry bin/stageb.js and the
// Electron engine host import.
export { main } from './cli/dispatch';
