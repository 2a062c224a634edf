import { getLlama, LlamaCompletion, LlamaLogLevel, type Token } from 'node-llama-cpp';
import { ensureTinyModel } from '../../src/main/llm/tinyModel';
const path = await ensureTinyModel('resources/models/tiny.gguf');
const llama = await getLlama({ gpu: false, build: 'never', skipDownload: true, maxThreads: 1, logLevel: LlamaLogLevel.error });
const model = await llama.loadModel({ modelPath: path, gpuLayers: 0 });
const ctx = await model.createContext({ contextSize: 1024, sequences: 6, threads: 1, batchSize: 512 });
const seqs = Array.from({ length: 6 }, () => ctx.getSequence());
const prompt = model.tokenize('<|im_start|>system\nhello world this is a prompt 你好<|im_end|>\n<|im_start|>user\n工单: 照片显示 BBU 接地线已连接并固定。 more text more text'.repeat(3), true);
console.log('prompt', prompt.length);
async function gen(seq: any, seed: number) {
  const c = new LlamaCompletion({ contextSequence: seq });
  const before = seq.tokenMeter.getState();
  const r = await c.generateCompletionWithMeta(prompt.slice(), { maxTokens: 40, temperature: 1, topP: 0.95, seed, repeatPenalty: false, disableContextShift: true });
  const d = seq.tokenMeter.diff(before);
  return { text: r.response, d };
}
// naive: sequential, fresh state
const naive = [];
for (const s of [1, 2, 3, 4]) { await seqs[0].clearHistory(); naive.push(await gen(seqs[0], s)); }
// shared: evaluate in seqs[1], copy to 2..4, decode all concurrently
await seqs[0].clearHistory();
const b0 = seqs[1].tokenMeter.getState();
await seqs[1].evaluateWithoutGeneratingNewTokens(prompt.slice(0, -1) as Token[]);
console.log('prime meter', seqs[1].tokenMeter.diff(b0));
for (const i of [2, 3, 4]) { const ok = await (seqs[i] as any)._copyStateFromOtherSequence(seqs[1], prompt.length - 1); console.log('copy', i, ok, seqs[i].contextTokens.length); }
const shared = await Promise.all([1, 2, 3, 4].map((s, i) => gen(seqs[i + 1], s)));
for (let i = 0; i < 4; i++) console.log(naive[i].text === shared[i].text, JSON.stringify(naive[i].d), JSON.stringify(shared[i].d), JSON.stringify(naive[i].text.slice(0, 30)), JSON.stringify(shared[i].text.slice(0, 30)));
