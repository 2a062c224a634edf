import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawn, type ChildProcess } from 'node:child_process';
import { accessSync, constants } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';
import { createOpenAiBackend } from './OpenAiBackend';
import { ensureTinyModel } from './tinyModel';
import { OpenAiModelSchema } from '../../shared/schemas/runConfig';
import { parseVerdictResponse, verdictGrammar } from '../../shared/verdictProtocol';
import type { DecodeParams } from '../../shared/schemas/decode';
import type { GenerateRequest } from './LlmBackend';

/**
 * The openai backend against a real llama.cpp server running the project's tiny
 * random-weight GGUF. No package here ships llama-server (see docs/backends.md),
 * so this runs only where one is available: LLAMA_SERVER_BIN or llama-server on PATH.
 */
function isExecutable(path: string): boolean {
  try {
    accessSync(path, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

function findLlamaServer(): string | null {
  const fromEnv = process.env.LLAMA_SERVER_BIN;
  if (fromEnv) return isExecutable(fromEnv) ? fromEnv : null;
  for (const dir of (process.env.PATH ?? '').split(delimiter)) {
    if (dir && isExecutable(join(dir, 'llama-server'))) return join(dir, 'llama-server');
  }
  return null;
}

const llamaServer = findLlamaServer();
if (!llamaServer) {
  console.info('[skipped] openai backend vs llama-server: no llama-server binary (set LLAMA_SERVER_BIN or put it on PATH; docs/backends.md says how to build one offline)');
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const probe = createServer();
    probe.once('error', reject);
    probe.listen(0, '127.0.0.1', () => {
      const address = probe.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      probe.close(() => resolve(port));
    });
  });
}

async function waitForHealth(url: string, child: ChildProcess, log: () => string, limitMs: number): Promise<void> {
  const deadline = Date.now() + limitMs;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`llama-server exited with ${child.exitCode}:\n${log()}`);
    const ok = await fetch(url).then(
      (r) => r.ok,
      () => false,
    );
    if (ok) return;
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
  throw new Error(`llama-server did not become healthy within ${limitMs} ms:\n${log()}`);
}

const candidate = (seed: number): DecodeParams => ({ seed, temperature: 0.8, top_p: 0.95, max_new_tokens: 256, prompt_variant: 'default' });

const verdictRequest = (seeds: number[]): GenerateRequest => ({
  prompt: { system: 'You review telecom installation photos.', userParts: ['G0: BBU must be grounded.\n', 'Ticket: 接地线完好, 标签清晰.'] },
  candidates: seeds.map(candidate),
  constraint: { kind: 'gbnf', grammar: verdictGrammar('three_line', 40) },
});

describe.skipIf(!llamaServer)('openai backend against a real llama-server', () => {
  let child: ChildProcess;
  let baseUrl = '';
  let output = '';

  beforeAll(async () => {
    const model = await ensureTinyModel(join(tmpdir(), 'stageb-tests', 'tiny-llama-server.gguf'));
    const port = await freePort();
    child = spawn(
      llamaServer!,
      ['-m', model, '--host', '127.0.0.1', '--port', String(port), '-c', '4096', '--parallel', '2', '-t', '1', '--no-webui'],
      { stdio: ['ignore', 'pipe', 'pipe'] },
    );
    const keep = (chunk: Buffer) => (output = (output + chunk.toString('utf8')).slice(-4000));
    child.stdout?.on('data', keep);
    child.stderr?.on('data', keep);
    await waitForHealth(`http://127.0.0.1:${port}/health`, child, () => output, 120_000);
    baseUrl = `http://127.0.0.1:${port}/v1`;
  });

  afterAll(async () => {
    if (child && child.exitCode === null) {
      const exited = new Promise((resolve) => child.once('exit', resolve));
      child.kill('SIGTERM');
      await exited;
    }
  });

  const backendFor = (concurrency = 2) =>
    createOpenAiBackend(OpenAiModelSchema.parse({ backend: 'openai', base_url: baseUrl, model: 'tiny', concurrency, context_size: 2048 }));

  it('generates grammar-constrained verdicts with real token counts', async () => {
    const backend = backendFor();
    const completions = await backend.generate(verdictRequest([11, 22, 33]));
    expect(completions).toHaveLength(3);
    for (const completion of completions) {
      expect(completion.finishReason).toBe('stop');
      expect(parseVerdictResponse(completion.text).ok).toBe(true);
      expect(completion.promptTokens).toBeGreaterThan(0);
      expect(completion.generatedTokens).toBeGreaterThan(0);
    }
    const meter = backend.tokenMeter();
    expect(meter.generated).toBe(completions.reduce((sum, c) => sum + c.generatedTokens, 0));
    expect(meter.promptTotal).toBe(3 * completions[0].promptTokens);
    expect(meter.promptUnique).toBe(completions[0].promptTokens);
  });

  it('reproduces a candidate from its seed, and another seed gives another sample', async () => {
    const backend = backendFor(1);
    const [first] = await backend.generate(verdictRequest([777]));
    const [again] = await backend.generate(verdictRequest([777]));
    const [other] = await backend.generate(verdictRequest([778]));
    expect(again.text).toBe(first.text);
    expect(other.text).not.toBe(first.text);
    // The repeated prompt is served from llama.cpp's prompt cache.
    const meter = backend.tokenMeter();
    expect(meter.promptEvaluated).toBeLessThan(meter.promptTotal);
  });

  it("counts tokens with the server's tokenizer, not the estimate", async () => {
    const backend = backendFor();
    // The tiny model's vocabulary is bytes without merges: 3 CJK characters are 9 tokens (the estimate says 3).
    expect(await backend.countTextTokens('接地线')).toBe(9);
    const promptTokens = await backend.countPromptTokens(verdictRequest([]).prompt);
    const [completion] = await backend.generate(verdictRequest([5]));
    expect(promptTokens).toBe(completion.promptTokens);
  });
});
