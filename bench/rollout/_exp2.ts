import { getLlama, LlamaCompletion, LlamaLogLevel, type Token } from 'node-llama-cpp';
import { ensureTinyModel } from '../../src/main/llm/tinyModel';
const path = await ensureTinyModel('resources/models/tiny.gguf');
const llama = await getLlama({ gpu: false, build: 'never', skipDownload: true, maxThreads: 1, logLevel: LlamaLogLevel.error });
const model = await llama.loadModel({ modelPath: path, gpuLayers: 0 });
const N = 8;
const ctx = await model.createContext({ contextSize: 1024, sequences: N + 1, threads: 1, batchSize: 512 });
const seqs = Array.from({ length: N + 1 }, () => ctx.getSequence());
const prompt = model.tokenize('<|im_start|>system\nhello world this is a prompt 你好<|im_end|>\n<|im_start|>user\n工单: 照片显示 BBU 接地线已连接并固定。 more text more text'.repeat(3), true);
async function gen(seq: any, seed: number) {
  const c = new LlamaCompletion({ contextSequence: seq });
  const r = await c.generateCompletionWithMeta(prompt.slice(), { maxTokens: 40, temperature: 1, topP: 0.95, seed, repeatPenalty: false, disableContextShift: true });
  return r.response;
}
const seeds = Array.from({ length: N }, (_, i) => 100 + i);
const naive: string[] = [];
for (const s of seeds) { await seqs[0].clearHistory(); naive.push(await gen(seqs[0], s)); }
// naive with last prompt token evaluated separately
const naiveSplit: string[] = [];
for (const s of seeds) { await seqs[0].clearHistory(); await seqs[0].evaluateWithoutGeneratingNewTokens(prompt.slice(0, -1) as Token[]); naiveSplit.push(await gen(seqs[0], s)); }
// copy + sequential
await seqs[0].clearHistory(); await seqs[0].evaluateWithoutGeneratingNewTokens(prompt.slice(0, -1) as Token[]);
const seqCopy: string[] = [];
for (const s of seeds) { await (seqs[1] as any)._copyStateFromOtherSequence(seqs[0], prompt.length - 1); seqCopy.push(await gen(seqs[1], s)); }
// copy + batched
for (let i = 1; i <= N; i++) await (seqs[i] as any)._copyStateFromOtherSequence(seqs[0], prompt.length - 1);
const batched = await Promise.all(seeds.map((s, i) => gen(seqs[i + 1], s)));
const cmp = (a: string[], b: string[]) => a.map((x, i) => (x === b[i] ? '=' : 'x')).join('');
console.log('naiveSplit vs naive', cmp(naiveSplit, naive));
console.log('seqCopy vs naive   ', cmp(seqCopy, naive));
console.log('seqCopy vs split   ', cmp(seqCopy, naiveSplit));
console.log('batched vs naive   ', cmp(batched, naive));
console.log('batched vs split   ', cmp(batched, naiveSplit));
