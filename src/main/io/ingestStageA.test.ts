import { describe, expect, it } from 'vitest';
import * as fs from 'node:fs';
import * as fsp from 'node:fs/promises';
import * as os from 'node:os';
import * as path from 'node:path';
import { compareImageKeys, ingestStageA } from './ingestStageA';
import { StageBError } from '../../shared/errors';

const DATASET_DIR = path.resolve(__dirname, '../../../../shared/datasets/bbu-qc-2025');
const hasDataset = fs.existsSync(path.join(DATASET_DIR, 'bbu_line.stage_a.jsonl'));
if (!hasDataset) console.warn(`skipping real-data ingest tests: ${DATASET_DIR} is absent`);

const README_COUNTS = [
  { file: 'bbu_line.stage_a.jsonl', mission: 'BBU接地线检查', tickets: 262, pass: 86, fail: 176 },
  { file: 'bbu_cable.stage_a.jsonl', mission: 'BBU线缆布放要求', tickets: 500, pass: 3, fail: 497 },
  { file: 'bbu_wind.stage_a.jsonl', mission: '挡风板安装检查', tickets: 103, pass: 92, fail: 11 },
  { file: 'bbu_install.stage_a.jsonl', mission: 'BBU安装方式检查（正装）', tickets: 4166, pass: 1372, fail: 2794 },
];

describe.skipIf(!hasDataset)('ingestStageA on the real bbu-qc-2025 files', () => {
  for (const expected of README_COUNTS) {
    it(`ingests ${expected.file} cleanly with the README counts`, async () => {
      const file = path.join(DATASET_DIR, expected.file);
      const { tickets, stats } = await ingestStageA({ paths: [file], mission: expected.mission });
      expect(tickets).toHaveLength(expected.tickets);
      expect(stats.labels).toEqual({ pass: expected.pass, fail: expected.fail, unlabeled: 0 });
      expect(new Set(tickets.map((t) => t.ticket_key)).size).toBe(expected.tickets);
      for (const ticket of tickets) {
        expect(ticket.ticket_key).toBe(`${ticket.group_id}::${ticket.label}`);
        const numbers = ticket.summaries.map((s) => Number(s.image.slice('image_'.length)));
        expect(numbers).toEqual([...numbers].sort((a, b) => a - b));
      }
      expect(stats.summary_formats.unknown).toBe(0);
      expect(stats.summary_formats.text).toBeGreaterThan(0);
    });
  }

  it('orders image_2 before image_10 on a real multi-image ticket', async () => {
    const file = path.join(DATASET_DIR, 'bbu_install.stage_a.jsonl');
    const { tickets } = await ingestStageA({ paths: [file], mission: 'BBU安装方式检查（正装）' });
    const many = tickets.find((t) => t.summaries.length >= 10);
    expect(many, 'a ticket with 10+ images exists in bbu_install').toBeDefined();
    const names = many!.summaries.map((s) => s.image);
    expect(names.indexOf('image_2')).toBeLessThan(names.indexOf('image_10'));
  });
});

describe('ingestStageA', () => {
  it('normalises Chinese labels, allows absent labels, keeps source lines and applies maxTickets', async () => {
    const dir = await fsp.mkdtemp(path.join(os.tmpdir(), 'ingest-'));
    try {
      const file = path.join(dir, 'a.jsonl');
      const rows = [
        { group_id: 'G1', mission: 'M', label: '通过', per_image: { image_10: 'b×1', image_2: 'a×1' } },
        { group_id: 'G1', mission: 'M', label: '不通过', per_image: { image_1: '无关图片' } },
        { group_id: 'G2', mission: 'M', per_image: { image_1: '{"统计":[]}' } },
        { group_id: 'G3', mission: 'M', label: 'FAIL', per_image: { image_1: 'x×1' } },
      ];
      await fsp.writeFile(file, '\n' + rows.map((r) => JSON.stringify(r)).join('\n') + '\n');
      const { tickets, stats } = await ingestStageA({ paths: [file], mission: 'M' });
      expect(tickets.map((t) => t.ticket_key)).toEqual(['G1::pass', 'G1::fail', 'G2::unlabeled', 'G3::fail']);
      expect(tickets[0].summaries.map((s) => s.image)).toEqual(['image_2', 'image_10']);
      expect(tickets[0].source).toEqual({ file, line: 2 });
      expect(tickets[2].label).toBeNull();
      expect(stats.summary_formats).toEqual({ text: 3, json: 1, irrelevant: 1, unknown: 0 });
      const limited = await ingestStageA({ paths: [file], mission: 'M', maxTickets: 2 });
      expect(limited.tickets).toHaveLength(2);
      expect(limited.stats).toMatchObject({ tickets: 2, tickets_found: 4, labels: { pass: 1, fail: 1, unlabeled: 0 } });
    } finally {
      await fsp.rm(dir, { recursive: true, force: true });
    }
  });

  it('refuses a summary with bytes that are not UTF-8, naming file, line and byte offset (it never becomes U+FFFD)', async () => {
    const dir = await fsp.mkdtemp(path.join(os.tmpdir(), 'ingest-'));
    try {
      const file = path.join(dir, 'a.jsonl');
      const good = JSON.stringify({ group_id: 'G1', mission: 'M', label: 'pass', per_image: { image_1: '接地线/已连接×1' } }) + '\n';
      const bad = JSON.stringify({ group_id: 'G2', mission: 'M', label: 'fail', per_image: { image_1: '接地线/XX×1' } });
      const at = Buffer.byteLength(bad.slice(0, bad.indexOf('XX')));
      const badBytes = Buffer.from(bad, 'utf8');
      badBytes[at] = 0xe6; // a 3-byte lead followed by an ASCII byte: a truncated sequence
      await fsp.writeFile(file, Buffer.concat([Buffer.from(good), badBytes, Buffer.from('\n')]));
      const error = await ingestStageA({ paths: [file], mission: 'M' }).then(() => null, (e: unknown) => e as StageBError);
      expect(error).toBeInstanceOf(StageBError);
      expect(error!.code).toBe('INPUT_INVALID_UTF8');
      expect(error!.location).toMatchObject({ file, line: 2 });
      expect(error!.message).toContain(`byte offset ${Buffer.byteLength(good) + at}`);
      expect(error!.message).toContain(`byte ${at} of the line`);
    } finally {
      await fsp.rm(dir, { recursive: true, force: true });
    }
  });

  it.each([
    ['empty', ''],
    ['whitespace-only', ' \t\u3000'],
  ])('refuses an %s summary, naming file, line and image key', async (_, summary) => {
    const dir = await fsp.mkdtemp(path.join(os.tmpdir(), 'ingest-'));
    try {
      const file = path.join(dir, 'a.jsonl');
      const rows = [
        { group_id: 'G1', mission: 'M', label: 'pass', per_image: { image_1: '接地线/已连接×1' } },
        { group_id: 'G2', mission: 'M', label: 'fail', per_image: { image_1: '接地线/已连接×1', image_3: summary } },
      ];
      await fsp.writeFile(file, rows.map((r) => JSON.stringify(r)).join('\n') + '\n');
      const error = await ingestStageA({ paths: [file], mission: 'M' }).then(() => null, (e: unknown) => e as StageBError);
      expect(error).toBeInstanceOf(StageBError);
      expect(error!.code).toBe('INPUT_INVALID_FIELD');
      expect(error!.location).toEqual({ file, line: 2, field: 'per_image.image_3' });
      expect(error!.message).toContain('empty');
    } finally {
      await fsp.rm(dir, { recursive: true, force: true });
    }
  });

  it('compares image keys numerically', () => {
    expect(['image_10', 'image_2', 'image_1'].sort(compareImageKeys)).toEqual(['image_1', 'image_2', 'image_10']);
  });
});
