import type { DecodeParams } from '../../../shared/schemas/decode';

/**
 * How candidates with distinct seeds map onto HTTP requests.
 *
 * - `per_candidate` (default): candidates are grouped into one `n`-request only
 *   when temperature, top_p, max_new_tokens AND seed are all equal. The engine
 *   gives every candidate its own seed, so in practice each candidate becomes its
 *   own request with n=1 and its own seed: its text depends only on (prompt,
 *   params, seed), the seed stored in its trajectory row is the seed the server
 *   used, and a rerun reproduces it whatever K or the grid are. Servers with
 *   prefix caching (vLLM, SGLang, llama.cpp server) evaluate the shared prompt
 *   once anyway, so the cost over `n` is small.
 * - `grouped`: candidates that share temperature, top_p and max_new_tokens go in
 *   one request with `n` = group size and `seed` = the first candidate's seed.
 *   The server derives per-choice seeds itself (vLLM V1 uses seed + choice index;
 *   other servers differ), so the choices are reproducible only as a whole group
 *   with the same membership and order, and the per-candidate seeds are not what
 *   the server used. Use it for throughput on servers without prefix caching.
 */
export type SeedMode = 'per_candidate' | 'grouped';

export type PlannedChatRequest = {
  /** Indices into the request's candidates; choice i of the response is candidate candidateIndices[i]. */
  candidateIndices: number[];
  n: number;
  seed: number;
  temperature: number;
  top_p: number;
  max_tokens: number;
};

export type PlanOptions = {
  seedMode: SeedMode;
  /** Most choices one request may ask for (llama.cpp server accepts only n=1). */
  maxChoicesPerRequest: number;
};

export function planChatRequests(candidates: readonly DecodeParams[], options: PlanOptions): PlannedChatRequest[] {
  const maxN = Math.max(1, Math.floor(options.maxChoicesPerRequest));
  const groups = new Map<string, number[]>();
  candidates.forEach((candidate, index) => {
    const parts: (number | string)[] = [candidate.temperature, candidate.top_p, candidate.max_new_tokens];
    if (options.seedMode === 'per_candidate') parts.push(candidate.seed);
    const key = parts.join('|');
    const members = groups.get(key);
    if (members) members.push(index);
    else groups.set(key, [index]);
  });

  const plan: PlannedChatRequest[] = [];
  for (const members of groups.values()) {
    for (let start = 0; start < members.length; start += maxN) {
      const chunk = members.slice(start, start + maxN);
      const first = candidates[chunk[0]];
      plan.push({
        candidateIndices: chunk,
        n: chunk.length,
        seed: first.seed,
        temperature: first.temperature,
        top_p: first.top_p,
        max_tokens: first.max_new_tokens,
      });
    }
  }
  return plan;
}
