import * as fsp from 'node:fs/promises';
import { StageBError } from '../../shared/errors';
import { renderExperiences } from '../../shared/guidance/renderExperiences';
import { GuidanceStateSchema, type GuidanceState } from '../../shared/schemas/guidance';
import { describeZodIssue } from './zodIssuePath';
import { decodeUtf8Strict } from './utf8';

export type GuidanceBudget = {
  /** Tokens in a text: the model tokenizer's count, or a conservative UTF-8 byte count before the model is loaded. */
  countTokens: (text: string) => number | Promise<number>;
  maxTokens: number;
};

/** A count that never undercounts a byte-level tokenizer: one token per UTF-8 byte. */
export function utf8ByteTokenCount(text: string): number {
  return Buffer.byteLength(text, 'utf8');
}

/**
 * Loads one mission's state from a guidance file ({mission: {step, updated_at,
 * experiences, metadata}}) and checks it is usable: non-empty experiences whose
 * rendered block fits the token budget. There is no empty fallback.
 */
export async function loadInitialGuidance(file: string, mission: string, budget: GuidanceBudget): Promise<GuidanceState> {
  let bytes: Buffer;
  try {
    bytes = await fsp.readFile(file);
  } catch (error) {
    const errno = (error as NodeJS.ErrnoException).code;
    if (errno === 'ENOENT') throw new StageBError('GUIDANCE_NOT_FOUND', 'guidance file not found', { file });
    if (errno === 'EISDIR') throw new StageBError('GUIDANCE_NOT_FOUND', 'expected a guidance file but found a directory', { file });
    throw new StageBError('IO_READ_FAILED', `cannot read the guidance file: ${error instanceof Error ? error.message : String(error)}`, { file });
  }
  const text = decodeUtf8Strict(bytes, file, 'GUIDANCE_INVALID');
  let value: unknown;
  try {
    value = JSON.parse(text.charCodeAt(0) === 0xfeff ? text.slice(1) : text);
  } catch (error) {
    const reason = error instanceof Error ? error.message : String(error);
    throw new StageBError('GUIDANCE_INVALID', `guidance file is not valid JSON: ${reason}`, { file, line: jsonErrorLine(text, reason) });
  }
  if (!value || typeof value !== 'object' || Array.isArray(value)) {
    throw new StageBError('GUIDANCE_INVALID', 'guidance file must be a JSON object keyed by mission', { file });
  }
  const byMission = value as Record<string, unknown>;
  if (!(mission in byMission)) {
    const known = Object.keys(byMission);
    throw new StageBError(
      'GUIDANCE_INVALID',
      `mission ${JSON.stringify(mission)} has no entry in the guidance file${known.length ? ` (it has ${known.map((k) => JSON.stringify(k)).join(', ')})` : ''}`,
      { file, field: mission },
    );
  }
  const entry = byMission[mission];
  const experiences = (entry as { experiences?: unknown } | null)?.experiences;
  if (experiences && typeof experiences === 'object' && !Array.isArray(experiences) && Object.keys(experiences).length === 0) {
    throw new StageBError('GUIDANCE_EMPTY_EXPERIENCES', `mission ${JSON.stringify(mission)} has no experiences; at least G0 (the mission checklist) is required`, {
      file,
      field: `${mission}.experiences`,
    });
  }
  const parsed = GuidanceStateSchema.safeParse(entry);
  if (!parsed.success) {
    const issue = describeZodIssue(parsed.error.issues[0]);
    const field = issue.field ? `${mission}.${issue.field}` : mission;
    throw new StageBError('GUIDANCE_INVALID', issue.message, { file, field }, parsed.error.issues);
  }
  const state = parsed.data;
  const blank = Object.entries(state.experiences).find(([, textValue]) => textValue.trim() === '');
  if (blank) {
    throw new StageBError('GUIDANCE_INVALID', `experience ${blank[0]} is empty`, { file, field: `${mission}.experiences.${blank[0]}` });
  }
  if (!('G0' in state.experiences)) {
    throw new StageBError('GUIDANCE_INVALID', 'experiences must include G0, the mission checklist', { file, field: `${mission}.experiences.G0` });
  }
  const tokens = await budget.countTokens(renderExperiences(state.experiences));
  if (tokens > budget.maxTokens) {
    throw new StageBError(
      'GUIDANCE_OVER_BUDGET',
      `the rendered experiences block is ${tokens} tokens, over guidance.max_tokens = ${budget.maxTokens}; shorten or merge experiences, or raise the budget`,
      { file, field: `${mission}.experiences` },
      { tokens, maxTokens: budget.maxTokens },
    );
  }
  return state;
}

/** V8 reports JSON errors by character position; people want the line. */
function jsonErrorLine(text: string, reason: string): number | undefined {
  const lineMatch = /line (\d+)/.exec(reason);
  if (lineMatch) return Number(lineMatch[1]);
  const positionMatch = /position (\d+)/.exec(reason);
  if (!positionMatch) return undefined;
  const position = Number(positionMatch[1]);
  let line = 1;
  for (let i = 0; i < position && i < text.length; i++) if (text.charCodeAt(i) === 10) line += 1;
  return line;
}
