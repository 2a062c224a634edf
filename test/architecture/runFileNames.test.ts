import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative, sep } from 'node:path';
import { describe, expect, it } from 'vitest';
import { findRunFileLiterals } from './runFileLiterals';

const root = join(import.meta.dirname, '..', '..');
/** The one module that spells the run directory's file names. */
const OWNER = 'src/shared/runFiles.ts';

function sourceFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) return sourceFiles(path);
    return /\.(ts|tsx)$/.test(name) && !/\.test\.tsx?$/.test(name) && !name.endsWith('.d.ts') ? [path] : [];
  });
}

const names = (file: string, source: string) => findRunFileLiterals(file, source).map((hit) => hit.name);

describe('finding a run-file name spelled as a literal', () => {
  it.each([
    ["path.join(dir, 'telemetry.json')", ['telemetry.json']],
    ["throw new StageBError('X', 'm', { file: 'guidance.json' })", ['guidance.json']],
    ['const file = `${dir}/qa_reviews.jsonl`;', ['qa_reviews.jsonl']],
    ["const m = 'further warnings are recorded in events.jsonl';", ['events.jsonl']],
    ["const CACHE_DIR = 'reflection_cache';", ['reflection_cache']],
    ['const where = `snapshots/${name}`;', ['snapshots']],
    ["emit('writing export/verdicts.jsonl')", ['export']],
    ["path.join(runDir, 'attribution', `step-${n}.json`)", ['attribution']],
    ["z.string().default('export')", ['export']],
    ["const PREVIEW_DIR = 'preview';", ['preview']],
    ["const exportDir = options.exportDir ?? 'export';", ['export']],
    ["const markers = ['run.json', 'selections.jsonl'];", ['run.json', 'selections.jsonl']],
  ])('%s', (source, expected) => {
    expect(names('x.ts', source)).toEqual(expected);
  });

  it.each([
    ["z.literal('preview')"],
    ["switch (id) { case 'snapshots': return 1; }"],
    ["jobs.start('attribution', dir)"],
    ["const kind: 'export' | 'preview' = 'export';"],
    ["// reads guidance.json and run.json\nconst x = RUN_FILES.guidance;"],
    ["import { a } from '../features/snapshots/SnapshotsScreen';"],
    ["const Screen = lazy(() => import('../features/snapshots/SnapshotsScreen'));"],
    ["const name = 'prerun.json.bak'; const other = 'my_run.jsonl';"],
    ["const file = `${RUN_FILES.export}/verdicts.jsonl`;"],
  ])('%s is not one', (source) => {
    expect(names('x.tsx', source)).toEqual([]);
  });
});

describe('the run directory has one owner of its file names', () => {
  it(`no file of src/ or bench/ but ${OWNER} spells a run file's name (tests and docs excepted)`, () => {
    const where: string[] = [];
    for (const path of [...sourceFiles(join(root, 'src')), ...sourceFiles(join(root, 'bench'))]) {
      const repoPath = relative(root, path).split(sep).join('/');
      if (repoPath === OWNER) continue;
      for (const hit of findRunFileLiterals(path, readFileSync(path, 'utf8'))) {
        where.push(`${repoPath}:${hit.line}: ${hit.name} in ${JSON.stringify(hit.text.slice(0, 80))}; name it through RUN_FILES (${OWNER})`);
      }
    }
    expect(where).toEqual([]);
  });
});
