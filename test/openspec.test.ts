import { describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';

const root = path.resolve(import.meta.dirname, '..');
const bin = path.join(root, 'node_modules', '.bin', process.platform === 'win32' ? 'openspec.cmd' : 'openspec');
const available = fs.existsSync(bin);
if (!available) console.warn(`skipping openspec validation: ${bin} is missing (install @fission-ai/openspec)`);

describe.skipIf(!available)('openspec', () => {
  it('validates every spec and change strictly', () => {
    const result = spawnSync(bin, ['validate', '--all', '--strict', '--json', '--no-interactive'], {
      cwd: root,
      encoding: 'utf8',
      // Offline and private: no usage stats.
      env: { ...process.env, OPENSPEC_TELEMETRY: '0', DO_NOT_TRACK: '1', NO_COLOR: '1' },
      timeout: 60_000,
    });
    const report = JSON.parse(result.stdout.slice(result.stdout.indexOf('{'))) as {
      items: { id: string; type: string; valid: boolean; issues: unknown[] }[];
    };
    const invalid = report.items.filter((item) => !item.valid);
    expect(invalid, JSON.stringify(invalid, null, 2)).toEqual([]);
    expect(result.status).toBe(0);
    expect(report.items.map((item) => `${item.type}/${item.id}`).sort()).toEqual(
      expect.arrayContaining([
        'change/distill-stageb-32b-teacher',
        'spec/stage-b-distillation',
        'spec/stage-b-reflection',
        'spec/stage-b-training-free',
        'spec/workbench',
      ]),
    );
  });
});
