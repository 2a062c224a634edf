/**
 * The byte-level BPE vocabulary of the generated models: 256 byte tokens in
 * GPT-2's byte-to-unicode form (so llama.cpp's "gpt2" tokenizer maps any UTF-8
 * text to tokens with no merges), the ChatML special tokens, then filler tokens
 * up to a target vocab size (so a stand-in's output layer costs what the real
 * model's does).
 */
export const TOKEN_TYPE = { NORMAL: 1, UNKNOWN: 2, CONTROL: 3, USER_DEFINED: 4, UNUSED: 5, BYTE: 6 } as const;

export const CHATML_SPECIALS = ['<|endoftext|>', '<|im_start|>', '<|im_end|>'] as const;

/** Qwen-style ChatML template; renders `<|im_start|>assistant\n` when add_generation_prompt is set. */
export const CHATML_TEMPLATE =
  "{% for message in messages %}{{'<|im_start|>' + message['role'] + '\\n' + message['content'] + '<|im_end|>' + '\\n'}}{% endfor %}" +
  "{% if add_generation_prompt %}{{ '<|im_start|>assistant\\n' }}{% endif %}";

export type ByteLevelVocab = {
  tokens: string[];
  tokenTypes: number[];
  bosId: number;
  eosId: number;
  paddingId: number;
};

/** GPT-2's bytes_to_unicode: printable bytes map to themselves, the rest to U+0100 onwards. */
export function gpt2ByteToUnicode(): string[] {
  const direct = new Set<number>();
  for (let b = 0x21; b <= 0x7e; b++) direct.add(b);
  for (let b = 0xa1; b <= 0xac; b++) direct.add(b);
  for (let b = 0xae; b <= 0xff; b++) direct.add(b);
  const out: string[] = new Array(256);
  let n = 0;
  for (let b = 0; b < 256; b++) out[b] = String.fromCodePoint(direct.has(b) ? b : 256 + n++);
  return out;
}

export function buildByteLevelVocab(vocabSize: number | null): ByteLevelVocab {
  const tokens = gpt2ByteToUnicode();
  const tokenTypes: number[] = tokens.map(() => TOKEN_TYPE.NORMAL);
  for (const special of CHATML_SPECIALS) {
    tokens.push(special);
    tokenTypes.push(TOKEN_TYPE.CONTROL);
  }
  const target = vocabSize ?? tokens.length;
  for (let i = tokens.length; i < target; i++) {
    tokens.push(`<|filler_${i}|>`);
    tokenTypes.push(TOKEN_TYPE.UNUSED);
  }
  const endOfText = 256;
  return { tokens, tokenTypes, bosId: endOfText, eosId: 258, paddingId: endOfText };
}
