/**
 * Workbench data bench: a 500k-row trajectories run queried through the same API
 * implementation the app uses (createWorkbenchApi + dispatchApiCall, zod on input
 * and output). Prints timings and RSS, then the machine-readable lines
 *   first_page_ms: <n>   (first page once the line index exists)
 *   filter_ms: <n>       (worst filter/sort/text query, first run of each, no result cache)
 *   rss_mb: <n>          (peak RSS of this process: index + queries; data generated in a child process)
 * The one-time index build on first open is reported separately as cold_open_ms.
 * Each number also comes as *_cpu_ms (this process's CPU time), steadier than wall
 * time when the machine is shared.
 *
 * Usage: npm run bench:workbench [-- --rows 500000]
 */
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { appendFile, mkdir, readFile, stat, writeFile } from 'node:fs/promises';
import { cpus, loadavg } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { createWorkbenchApi } from '../../src/main/api/createWorkbenchApi';
import { dispatchApiCall } from '../../src/main/api/dispatchApiCall';
import { fixtureTrajectories, writeJsonlStream } from '../../src/main/api/fixtureRun';
import type { ApiParsedInput } from '../../src/shared/api/contract';

const here = path.dirname(fileURLToPath(import.meta.url));
const argRows = process.argv.indexOf('--rows');
const ROWS = argRows === -1 ? 500_000 : Number(process.argv[argRows + 1]);
const CANDIDATES = 4;
const EPOCHS = 2;
const GROUPS = Math.ceil(ROWS / (CANDIDATES * EPOCHS));
const MISSION = 'BBU接地线检查';
const RUN = `bench-${ROWS}`;
const runsRoot = path.join(here, '..', '.cache', 'workbench-data', 'runs');
const missionDir = path.join(runsRoot, RUN, MISSION);
const trajectories = path.join(missionDir, 'trajectories.jsonl');
const marker = path.join(missionDir, '.complete');

async function generate(): Promise<void> {
  await mkdir(missionDir, { recursive: true });
  const options = { runName: RUN, mission: MISSION, groups: GROUPS, candidates: CANDIDATES, epochs: EPOCHS, seed: 11 };
  const count = await writeJsonlStream(trajectories, fixtureTrajectories(options));
  await writeFile(path.join(missionDir, 'guidance.json'), JSON.stringify({ [MISSION]: { step: 0, updated_at: new Date(0).toISOString(), experiences: { G0: '检查接地线' }, metadata: {} } }));
  await writeFile(marker, String(count));
}

if (process.argv.includes('--generate')) {
  await generate();
  process.exit(0);
}

if (!existsSync(marker) || Number(await readFile(marker, 'utf8')) !== GROUPS * CANDIDATES * EPOCHS) {
  const started = performance.now();
  // A child process writes the data so its memory never counts towards this process's RSS.
  const child = spawnSync(process.execPath, ['--import', 'tsx', fileURLToPath(import.meta.url), '--generate', '--rows', String(ROWS)], { stdio: 'inherit' });
  if (child.status !== 0) throw new Error('data generation failed');
  console.log(`generated ${GROUPS * CANDIDATES * EPOCHS} rows in ${((performance.now() - started) / 1000).toFixed(1)} s`);
}
const fileBytes = (await stat(trajectories)).size;
console.log(`data: ${trajectories} (${(fileBytes / 1e6).toFixed(0)} MB, ${GROUPS * CANDIDATES * EPOCHS} rows)`);

const gc = (globalThis as { gc?: () => void }).gc;
const workbench = createWorkbenchApi({
  runsRoot,
  engineLauncher: () => {
    throw new Error('no engine in the bench');
  },
  guidanceWriter: () => {
    throw new Error('no guidance writes in the bench');
  },
  parseConfig: () => ({ config: {} }),
});

let peakRss = process.memoryUsage().rss;
const sample = setInterval(() => (peakRss = Math.max(peakRss, process.memoryUsage().rss)), 20);

type Query = Partial<ApiParsedInput<'queryRows'>>;
/** Wall time and this process's CPU time (user+system): on a shared, overloaded machine the CPU time is the steadier number. */
async function timedQuery(query: Query): Promise<{ ms: number; cpuMs: number; total: number; rows: number }> {
  const cpu = process.cpuUsage();
  const started = performance.now();
  const envelope = await dispatchApiCall(workbench.handlers, 'queryRows', { runId: RUN, mission: MISSION, kind: 'trajectories', limit: 100, ...query });
  const ms = performance.now() - started;
  const used = process.cpuUsage(cpu);
  const cpuMs = (used.user + used.system) / 1000;
  peakRss = Math.max(peakRss, process.memoryUsage().rss);
  if (!envelope.ok) throw new Error(JSON.stringify(envelope.error));
  const result = envelope.result as { total: number; rows: unknown[] };
  return { ms, cpuMs, total: result.total, rows: result.rows.length };
}

const cold = await timedQuery({});
console.log(`load average: ${loadavg().map((v) => v.toFixed(1)).join(' ')} on ${cpus().length} cores`);
console.log(`cold_open_ms (index build + first page): ${cold.ms.toFixed(0)} wall, ${cold.cpuMs.toFixed(0)} cpu  rows=${cold.total}`);
gc?.();

const firstPage = await timedQuery({ offset: 0, limit: 100 });
const deepPage = await timedQuery({ offset: 400_000 > cold.total ? Math.floor(cold.total / 2) : 400_000, limit: 500 });
console.log(`first page (100 rows, index built): ${firstPage.ms.toFixed(1)} ms wall / ${firstPage.cpuMs.toFixed(1)} ms cpu; deep page (500 rows): ${deepPage.ms.toFixed(1)} ms wall / ${deepPage.cpuMs.toFixed(1)} ms cpu`);

const filters: [string, Query][] = [
  ['label_match=false', { filters: { label_match: false } }],
  ['epoch=1 & label=fail', { filters: { epoch: 1, label: 'fail' } }],
  ['warning=malformed_output, sort confidence desc', { filters: { warning: 'malformed_output' }, sort: { field: 'confidence', dir: 'desc' } }],
  ['sort group_id desc, page 3', { sort: { field: 'group_id', dir: 'desc' }, offset: 200 }],
  ['text "线径"', { filters: { text: '线径' } }],
  ['text "qc-0012345" (case-insensitive id)', { filters: { text: 'qc-0012345' } }],
  ['text "接地" & verdict=pass, sort self_consistency', { filters: { text: '接地', verdict: 'pass' }, sort: { field: 'self_consistency', dir: 'asc' } }],
  ['text with no match', { filters: { text: 'zzz-no-such-text' } }],
];
let worst = 0;
let worstCpu = 0;
for (const [name, query] of filters) {
  const first = await timedQuery(query);
  const again = await timedQuery(query);
  worst = Math.max(worst, first.ms, again.ms);
  worstCpu = Math.max(worstCpu, first.cpuMs, again.cpuMs);
  console.log(
    `  ${name.padEnd(52)} first ${first.ms.toFixed(1).padStart(7)} ms wall ${first.cpuMs.toFixed(1).padStart(7)} ms cpu, again ${again.ms.toFixed(1).padStart(7)} ms wall ${again.cpuMs.toFixed(1).padStart(7)} ms cpu, total=${first.total}`,
  );
}

// Live growth: 1,000 rows appended, then the next query (incremental index extension).
const extra = [...fixtureTrajectories({ runName: RUN, mission: MISSION, groups: 125, candidates: CANDIDATES, epochs: 2, seed: 99 })].map((row) => JSON.stringify({ ...row, group_id: `LIVE-${row.group_id}` })).join('\n') + '\n';
await appendFile(trajectories, extra);
const grown = await timedQuery({ filters: { text: 'live-' } });
console.log(`after appending 1000 rows: query incl. incremental index ${grown.ms.toFixed(1)} ms, total=${grown.total}`);
// Leave the cached data as generated for the next bench run.
const { truncate } = await import('node:fs/promises');
await truncate(trajectories, fileBytes);

clearInterval(sample);
gc?.();
const settled = process.memoryUsage();
const maxRssMb = process.resourceUsage().maxRSS / 1024;
peakRss = Math.max(peakRss, maxRssMb * 1024 * 1024);
console.log(`memory after gc: rss ${(settled.rss / 1e6).toFixed(0)} MB, heap ${(settled.heapUsed / 1e6).toFixed(0)} MB, external+arrayBuffers ${((settled.external + settled.arrayBuffers) / 1e6).toFixed(0)} MB`);
console.log(`targets: first page < 1000 ms, filter < 300 ms, RSS < 600 MB`);
console.log(`first_page_ms: ${firstPage.ms.toFixed(1)}`);
console.log(`filter_ms: ${worst.toFixed(1)}`);
console.log(`rss_mb: ${(peakRss / (1024 * 1024)).toFixed(0)}`);
console.log(`cold_open_ms: ${cold.ms.toFixed(0)}`);
console.log(`first_page_cpu_ms: ${firstPage.cpuMs.toFixed(1)}`);
console.log(`filter_cpu_ms: ${worstCpu.toFixed(1)}`);
console.log(`cold_open_cpu_ms: ${cold.cpuMs.toFixed(0)}`);
