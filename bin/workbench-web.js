#!/usr/bin/env node
// `npm run workbench:web -- --runs <dir> [--configs <dir>] [--port N] [--host 127.0.0.1]`
// Serves the built renderer and the workbench API on loopback; TypeScript runs through tsx.
import { register } from 'tsx/esm/api';

register();
const { main } = await import('../src/main/web/webCli.ts');
process.exitCode = await main(process.argv.slice(2));
