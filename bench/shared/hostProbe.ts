/**
 * A host-speed probe for benches with no model of their own to measure rates on (bench:workbench): how fast this
 * process parses a fixed block of JSON lines, single-threaded. Measured right before and right after a run, it gives
 * the disturbance rule (./disturbance.ts) its rate samples: a busy host parses slower.
 */

/** About 1 MB of trajectory-like JSON lines, the same on every call. */
function probeBlock(): string {
  const lines: string[] = [];
  for (let i = 0; i < 2500; i++) {
    lines.push(
      JSON.stringify({
        group_id: `QC-${String(i).padStart(7, '0')}`,
        candidate: i % 4,
        epoch: i % 2,
        verdict: i % 3 === 0 ? 'fail' : 'pass',
        confidence: (i % 100) / 100,
        reason: '接地线线径符合要求，端子压接牢固，标签清晰'.repeat(1 + (i % 3)),
        tokens: { prompt: 1700 + (i % 300), generated: 40 + (i % 90) },
        warnings: i % 7 === 0 ? ['malformed_output'] : [],
      }),
    );
  }
  return lines.join('\n');
}

let block: string | null = null;

/** The best of `passes` passes over the block (a pass is a few ms), in MB/s of JSON parsed; the first call warms the JIT and is discarded. */
export function jsonParseRate(passes = 5): number {
  if (block === null) {
    block = probeBlock();
    for (const line of block.split('\n')) JSON.parse(line);
  }
  const bytes = Buffer.byteLength(block);
  let best = 0;
  for (let p = 0; p < passes; p++) {
    const started = performance.now();
    for (const line of block.split('\n')) JSON.parse(line);
    best = Math.max(best, bytes / 1e6 / ((performance.now() - started) / 1000));
  }
  return best;
}
