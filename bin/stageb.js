#!/usr/bin/env node
// The `stageb` CLI. TypeScript sources run through tsx's loader, so a fresh clone
// needs no build step before `npm run demo`. Commands: src/main/cli/commands/.
import { register } from 'tsx/esm/api';

register();
const { main } = await import('../src/main/cli.ts');
process.exitCode = await main(process.argv.slice(2));
