import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { resolve } from 'node:path';
import { formatError, toStageBError, StageBError } from '../../shared/errors';
import { modelShapeNames, shapeParameterCount } from './modelShapes';
import { createRandomModel, TINY_MODEL_SEED } from './tinyModel';
import { processIo, type CliIo } from '../cli/CliIo';

/**
 * `stageb model tiny --out <file> [--seed N]` and
 * `stageb model random --shape <name> --out <file> [--seed N]`.
 * Prints what it wrote and returns the process exit code.
 */
export const MODEL_COMMAND_USAGE = [
  'usage: stageb model tiny --out <file> [--seed N]',
  `       stageb model random --shape <${modelShapeNames().join('|')}> --out <file> [--seed N]`,
].join('\n');

function parseFlags(args: string[]): Map<string, string> {
  const flags = new Map<string, string>();
  for (let i = 0; i < args.length; i++) {
    const arg = args[i];
    const eq = /^--([a-z-]+)=(.*)$/.exec(arg);
    if (eq) { flags.set(eq[1], eq[2]); continue; }
    const bare = /^--([a-z-]+)$/.exec(arg);
    if (!bare || i + 1 >= args.length) throw new StageBError('CONFIG_INVALID', `unexpected argument ${JSON.stringify(arg)}\n${MODEL_COMMAND_USAGE}`, { field: arg });
    flags.set(bare[1], args[++i]);
  }
  return flags;
}

async function sha256File(path: string): Promise<string> {
  const hash = createHash('sha256');
  for await (const chunk of createReadStream(path)) hash.update(chunk as Buffer);
  return hash.digest('hex');
}

/** argv: the arguments after `model` (e.g. ['tiny', '--out', 'x.gguf']). */
export async function runModelCommand(argv: string[], io: CliIo = processIo): Promise<number> {
  try {
    const [sub, ...rest] = argv;
    if (sub !== 'tiny' && sub !== 'random') {
      io.stderr.write(MODEL_COMMAND_USAGE + '\n');
      return 2;
    }
    const flags = parseFlags(rest);
    for (const key of flags.keys()) {
      if (!['out', 'seed', 'shape'].includes(key) || (sub === 'tiny' && key === 'shape')) {
        throw new StageBError('CONFIG_INVALID', `unknown option --${key}\n${MODEL_COMMAND_USAGE}`, { field: `--${key}` });
      }
    }
    const out = flags.get('out');
    if (!out) throw new StageBError('CONFIG_INVALID', `--out is required\n${MODEL_COMMAND_USAGE}`, { field: '--out' });
    const seedText = flags.get('seed');
    const seed = seedText === undefined ? TINY_MODEL_SEED : Number(seedText);
    if (!Number.isInteger(seed) || seed < 0 || seed > 0xffffffff) throw new StageBError('CONFIG_INVALID', `--seed must be an integer in [0, 2^32): ${seedText}`, { field: '--seed' });
    const shape = sub === 'tiny' ? 'tiny' : flags.get('shape');
    if (!shape) throw new StageBError('CONFIG_INVALID', `--shape is required\n${MODEL_COMMAND_USAGE}`, { field: '--shape' });
    const result = await createRandomModel({ out: resolve(out), seed, shape });
    const sha256 = await sha256File(result.path);
    io.stdout.write(`wrote ${result.path}\n`);
    io.stdout.write(`  shape   ${result.shape.name} (${result.shape.description})\n`);
    io.stdout.write(`  params  ${shapeParameterCount(result.shape, result.vocabSize).toLocaleString('en-US')}  vocab ${result.vocabSize}  weights ${result.shape.weightType}\n`);
    io.stdout.write(`  seed    ${result.seed}\n`);
    io.stdout.write(`  size    ${result.bytes} bytes\n`);
    io.stdout.write(`  sha256  ${sha256}\n`);
    return 0;
  } catch (error) {
    io.stderr.write(formatError(toStageBError(error).toJSON()) + '\n');
    return 1;
  }
}
