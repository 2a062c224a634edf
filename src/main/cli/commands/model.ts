import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { resolve } from 'node:path';
import { modelShapeNames, shapeParameterCount } from '../../llm/modelShapes';
import { TINY_MODEL_SEED } from '../../llm/tinyModel';
import type { CliIo } from '../CliIo';
import { defineCommand } from '../Command';
import { integerOption } from '../UsageError';

async function sha256File(path: string): Promise<string> {
  const hash = createHash('sha256');
  for await (const chunk of createReadStream(path)) hash.update(chunk as Buffer);
  return hash.digest('hex');
}

const SEED_OPTION = { type: 'string', value: 'n', default: String(TINY_MODEL_SEED), description: 'weight seed, an integer in [0, 2^32)' } as const;

/** Writes a random-weight GGUF (where nothing is, or over one of its own) and prints what it wrote. */
async function writeModel(io: CliIo, shape: string, out: string, seedText: string): Promise<number> {
  const seed = integerOption('seed', seedText, { max: 0xffffffff })!;
  const { writeRandomModel } = await import('../../llm/tinyModel');
  const result = await writeRandomModel({ out: resolve(out), seed, shape });
  const sha256 = await sha256File(result.path);
  io.stdout.write(`wrote ${result.path}\n`);
  io.stdout.write(`  shape   ${result.shape.name} (${result.shape.description})\n`);
  io.stdout.write(`  params  ${shapeParameterCount(result.shape, result.vocabSize).toLocaleString('en-US')}  vocab ${result.vocabSize}  weights ${result.shape.weightType}\n`);
  io.stdout.write(`  seed    ${result.seed}\n`);
  io.stdout.write(`  size    ${result.bytes} bytes\n`);
  io.stdout.write(`  sha256  ${sha256}\n`);
  return 0;
}

const modelTinyCommand = defineCommand({
  name: 'tiny',
  summary: 'write the tiny random-weight test GGUF',
  usage: '--out <file> [--seed <n>]',
  options: {
    out: { type: 'string', value: 'file', required: true, description: 'the GGUF file to write' },
    seed: SEED_OPTION,
  },
  description: `A byte-level-vocabulary model small enough for tests and the demo; its output is noise.
Written where nothing is or over a random model written earlier; any other file at --out
is refused and left as it was.`,
  run: ({ values, io }) => writeModel(io, 'tiny', values.out, values.seed),
});

const modelRandomCommand = defineCommand({
  name: 'random',
  summary: "write a random-weight GGUF of a real model's shape",
  usage: '--shape <name> --out <file> [--seed <n>]',
  options: {
    shape: { type: 'string', value: 'name', required: true, description: `one of ${modelShapeNames().join(', ')}` },
    out: { type: 'string', value: 'file', required: true, description: 'the GGUF file to write' },
    seed: SEED_OPTION,
  },
  description: `Real layer shapes with random weights: for measuring speed and memory, never for verdicts.
Written where nothing is or over a random model written earlier; any other file at --out
is refused and left as it was.`,
  run: ({ values, io }) => writeModel(io, values.shape, values.out, values.seed),
});

export const modelCommand = defineCommand({
  name: 'model',
  summary: 'write random-weight GGUF models (tests, benches, the demo)',
  subcommands: [modelTinyCommand, modelRandomCommand],
});
