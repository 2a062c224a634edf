#!/usr/bin/env node
// `npm run workbench:web -- --runs runs [--configs <dir>] [--port N] [--host 127.0.0.1]` (--help lists the flags;
// without --configs it lists $STAGEB_CONFIGS or ./configs)
// Serves the built renderer and the workbench API on loopback; TypeScript runs through tsx.
import { register } from 'tsx/esm/api';

register();
const { main } = await import('../src/main/web/webCli.ts');
process.exitCode = await main(process.argv.slice(2));
