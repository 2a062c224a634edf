import type { AnyCommand } from '../Command';
import { attributeCommand } from './attribute';
import { compareCommand } from './compare';
import { demoCommand } from './demo';
import { demoDataCommand } from './demoData';
import { distillCommand } from './distill';
import { exportCommand } from './export';
import { helpCommand } from './help';
import { modelCommand } from './model';
import { previewCommand } from './preview';
import { reviewsCommand } from './reviews';
import { runCommand } from './run';
import { validateCommand } from './validate';

/**
 * Every `stageb` command, in the order `stageb --help` lists them. To add one: write
 * src/main/cli/commands/<name>.ts exporting `defineCommand({...})`, import it here and
 * add one line below. Help, parsing, exit codes and the CLI test pick it up from here.
 */
export const COMMANDS: readonly AnyCommand[] = [
  runCommand,
  validateCommand,
  exportCommand,
  demoCommand,
  demoDataCommand,
  modelCommand,
  distillCommand,
  compareCommand,
  attributeCommand,
  previewCommand,
  reviewsCommand,
  helpCommand,
];
