import * as fsp from 'node:fs/promises';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ensureDemoMission } from '../../src/main/demo/generateDemoMission';
import { composeStageBRun, type StageBModelPort } from '../../src/main/composeStageBRun';
import { runStageB } from '../../src/main/runStageB';
import { createBackend } from '../../src/main/llm/createBackend';
import { ensureDemoModel } from '../../src/main/demo/ensureDemoModel';
import { loadRunConfig } from '../../src/main/io/loadRunConfig';
import { StageBError } from '../../src/shared/errors';
import { GuidanceFileSchema } from '../../src/shared/schemas/guidance';
import { HashScriptedBackend } from '../fixtures/reliability/HashScriptedBackend';
import { scriptedModel } from '../helpers/scriptedRun';
import { expectTypedError } from '../fuzz/fuzzSupport';

/**
 * Every path a config names (issue #21 §6), pointed at a folder, at nothing, at a file of
 * the wrong kind, and at a symlink loop: the run either works (an output folder that does
 * not exist yet is created; an existing output folder is the normal case) or fails with a
 * typed error — never INTERNAL — that names the path (or, for output folders, a path under it).
 * Every case runs the real composition (composeStageBRun, as runStageB does); the model
 * port opens the real backend on model.path (its file checks, the load) and then hands the
 * run to the scripted double, so no case generates text with a model. `model.path (stageb
 * demo)` first writes the demo's tiny model there as `stageb demo` does (ensureDemoModel):
 * where nothing is, the run then works; anything else is refused and left as it was.
 */
let work: string;
let demo: Awaited<ReturnType<typeof ensureDemoMission>>;
let mission: string;
let caseNo = 0;
const counts = { cases: 0, typed: 0, ok: 0 };


/** The real backend opens the model file (GGUF checks, load), then the scripted double runs. */
const realModelFileThenScripted: StageBModelPort = {
  ...scriptedModel,
  open: async (config, signal) => {
    const real = await createBackend(config.model, { signal });
    await real.close();
    return new HashScriptedBackend({ seed: config.seed });
  },
};

type Kind = 'folder' | 'missing' | 'wrong kind' | 'symlink loop';
const KINDS: Kind[] = ['folder', 'missing', 'wrong kind', 'symlink loop'];

type Key = {
  name: string;
  /** Whether the key names an input (read) or an output (written). */
  input: boolean;
  /** The config lines for a value (the value is a JSON string literal). */
  lines: (value: string) => Partial<Record<'stage_a' | 'guidance' | 'model' | 'output' | 'distill', string[]>>;
  /** Kinds for which the run is expected to work. */
  works: Kind[];
  /** What a file of the wrong kind is for this key. */
  wrongKind: (dir: string) => Promise<string>;
  /** A step before the run, given the config file (the demo command's model preparation). */
  beforeRun?: (configPath: string) => Promise<unknown>;
};

const text = async (file: string, content: string | Buffer) => {
  await fsp.mkdir(path.dirname(file), { recursive: true });
  await fsp.writeFile(file, content);
  return file;
};

const KEYS: Key[] = [
  { name: 'stage_a_paths[0]', input: true, lines: (v) => ({ stage_a: [`  - ${v}`] }), works: [], wrongKind: (dir) => text(path.join(dir, 'guidance-not-jsonl.jsonl'), '{"a": [1,\n 2]}\n') },
  { name: 'guidance.path', input: true, lines: (v) => ({ guidance: [`  path: ${v}`] }), works: [], wrongKind: (dir) => text(path.join(dir, 'stage-a.json'), '{"group_id":"G1"}\n{"group_id":"G2"}\n') },
  { name: 'model.path', input: true, lines: (v) => ({ model: [`  path: ${v}`] }), works: [], wrongKind: (dir) => text(path.join(dir, 'notes.gguf'), 'not a model') },
  {
    name: 'model.path (stageb demo)',
    input: true,
    lines: (v) => ({ model: [`  path: ${v}`] }),
    // Nothing there is the demo's normal start: it writes the tiny model, and the run loads it.
    works: ['missing'],
    wrongKind: (dir) => text(path.join(dir, 'notes.gguf'), 'not a model'),
    beforeRun: async (configPath) => ensureDemoModel((await loadRunConfig(configPath)).config.model),
  },
  { name: 'output.root', input: false, lines: (v) => ({ output: [`  root: ${v}`] }), works: ['folder', 'missing'], wrongKind: (dir) => text(path.join(dir, 'root-is-a-file'), 'x') },
  { name: 'output.export_dir', input: false, lines: (v) => ({ output: [`  export_dir: ${v}`] }), works: ['folder', 'missing'], wrongKind: (dir) => text(path.join(dir, 'export-is-a-file'), 'x') },
  {
    name: 'stage_b_distillation.output_path',
    input: false,
    lines: (v) => ({ distill: [`  output_path: ${v}`] }),
    works: ['missing'],
    // A path under a regular file cannot be created.
    wrongKind: async (dir) => path.join(await text(path.join(dir, 'a-file'), 'x'), 'corpus.jsonl'),
  },
];

function configText(values: Partial<Record<'stage_a' | 'guidance' | 'model' | 'output' | 'distill', string[]>>): string {
  return [
    'run_name: paths',
    'seed: 3',
    `mission: ${mission}`,
    'stage_a_paths:',
    ...(values.stage_a ?? [`  - ${JSON.stringify(demo.stageA)}`]),
    'guidance:',
    ...(values.guidance ?? [`  path: ${JSON.stringify(demo.guidance)}`]),
    'model:',
    '  backend: llama-cpp',
    ...(values.model ?? ['  path: /nonexistent/model.gguf']),
    'sampler:',
    '  candidates: 1',
    '  max_new_tokens: 32',
    'runner:',
    '  epochs: 1',
    '  batch_size: 4',
    '  max_tickets: 4',
    'reflection:',
    '  enabled: false',
    'output:',
    ...(values.output?.some((line) => line.includes('root:')) ? [] : ['  root: ./out']),
    ...(values.output ?? []),
    '  parquet: false',
    'stage_b_distillation:',
    '  enabled: true',
    '  export_last_if_unconverged: true',
    ...(values.distill ?? []),
    '',
  ].join('\n');
}

async function target(kind: Kind, dir: string, key: Key): Promise<string> {
  if (kind === 'folder') {
    const folder = path.join(dir, 'a-folder');
    await fsp.mkdir(folder, { recursive: true });
    return folder;
  }
  if (kind === 'missing') return path.join(dir, 'nothing-here', 'x');
  if (kind === 'wrong kind') return key.wrongKind(dir);
  const loop = path.join(dir, 'loop');
  await fsp.symlink(loop, loop);
  return loop;
}

beforeAll(async () => {
  work = await fsp.mkdtemp(path.join(os.tmpdir(), 'stageb-config-paths-'));
  demo = await ensureDemoMission(path.join(work, 'demo'), 23, 8);
  mission = Object.keys(GuidanceFileSchema.parse(JSON.parse(await fsp.readFile(demo.guidance, 'utf8'))))[0];
});

afterAll(async () => {
  console.log(`[configPaths] ${counts.cases} config path cases: ${counts.typed} typed errors naming the path, ${counts.ok} runs that worked as they should; 0 INTERNAL`);
  if (work) await fsp.rm(work, { recursive: true, force: true });
});

async function outcome(run: () => Promise<unknown>): Promise<StageBError | null> {
  try {
    await run();
    return null;
  } catch (error) {
    return expectTypedError(error);
  }
}

describe('every config path key pointing at a folder, nothing, a wrong-kind file or a symlink loop', () => {
  for (const key of KEYS) {
    for (const kind of KINDS) {
      it(`${key.name} → ${kind}: ${key.works.includes(kind) ? 'the run works' : 'a typed error naming the path'}`, async () => {
        const dir = path.join(work, `case-${caseNo++}`);
        await fsp.mkdir(dir, { recursive: true });
        const value = await target(kind, dir, key);
        const config = path.join(dir, 'config.yaml');
        await fsp.writeFile(config, configText(key.lines(JSON.stringify(value))));
        const before = kind === 'wrong kind' ? await fsp.readFile(value).catch(() => null) : null;
        const error = await outcome(async () => {
          await key.beforeRun?.(config);
          await composeStageBRun({ configPath: config, model: key.input ? realModelFileThenScripted : scriptedModel });
        });
        counts.cases++;
        if (key.works.includes(kind)) {
          expect(error, error?.format()).toBeNull();
          counts.ok++;
          return;
        }
        expect(error, `${key.name} → ${kind} must fail`).not.toBeNull();
        expect(error!.code, error!.format()).not.toBe('INTERNAL');
        // The error names the path (an output folder's error may name the file it could not write inside it).
        expect(`${error!.location.file ?? ''} ${error!.message}`, error!.format()).toContain(value);
        // A file that is not ours is left as it was.
        if (before !== null) expect(await fsp.readFile(value)).toEqual(before);
        counts.typed++;
      }, 120_000);
    }
  }

  it('the config file itself: a folder, nothing, a wrong-kind file, a symlink loop', async () => {
    const dir = path.join(work, 'config-itself');
    await fsp.mkdir(dir, { recursive: true });
    for (const kind of KINDS) {
      const sub = path.join(dir, kind.replace(' ', '-'));
      await fsp.mkdir(sub, { recursive: true });
      const value = kind === 'wrong kind' ? await text(path.join(sub, 'model.gguf'), Buffer.from([0x47, 0x47, 0x55, 0x46, 3, 0, 0, 0, 0xff, 0xfe])) : await target(kind, sub, KEYS[0]);
      const error = await outcome(() => runStageB({ configPath: value }));
      counts.cases++;
      expect(error, kind).not.toBeNull();
      expect(error!.code, error!.format()).not.toBe('INTERNAL');
      expect(`${error!.location.file ?? ''} ${error!.message}`).toContain(value);
      counts.typed++;
    }
  });
});
