import type { z } from 'zod';
import type { GuidanceState } from '../../../shared/schemas/guidance';
import type { IneligibleReason, ReflectionOperation } from '../../../shared/schemas/records';
import type { Ticket } from '../../../shared/schemas/stageARecord';
import type { ArtifactStore } from '../ports/ArtifactStore';
import type { BundleGroup, Eligibility } from './eligibility';
import { cacheArtifactPath, fingerprint, readCachedArtifact, reflectionCacheName } from './reflectionArtifacts';
import type { ReflectionContext } from './reflectOnBatch';

/** A decision that ends before the apply, as its record states it. */
export type DecisionEnd = {
  reason: IneligibleReason;
  operations?: ReflectionOperation[];
  uncertainty?: string | null;
  evidenceGroupIds?: string[];
  detail?: string | null;
};

/** Where one decision's cached artifacts are read and written, and how the record lists them. */
export type StageLedger = {
  store: ArtifactStore;
  /** The record's cache_artifacts, in the order they were used. */
  cacheArtifacts: string[];
  /** The record's debug_info.stages: how each artifact was got (reused, generated, failed…). */
  stages: Record<string, string>;
};

/** What a stage's run gives: its artifact, or the end of the decision (nothing is cached then). */
export type StageRun<A> = { artifact: A; llmCalls?: number } | { end: DecisionEnd; status: string; llmCalls?: number };

type CachedArtifact = { inputs_fingerprint: string };

/**
 * One cached step: the artifact named `file` is reused when it is well-formed and its
 * inputs_fingerprint is the fingerprint of `inputs`; otherwise `run` makes it (given that
 * fingerprint, which the artifact must carry) and it is written. Either way the file is
 * listed in the decision's cache_artifacts and its fate in debug_info.stages.
 */
export async function runCachedStage<A extends CachedArtifact>(
  ledger: StageLedger,
  stage: {
    /** The key in debug_info.stages. */
    label: string;
    /** The cache file name, or how it follows from the inputs' fingerprint. */
    file: string | ((inputsFingerprint: string) => string);
    schema: z.ZodType<A>;
    /** Everything the artifact is made from, and nothing that reads a clock. */
    inputs: unknown;
    run(inputsFingerprint: string): Promise<StageRun<A>>;
    /** The debug word for a made artifact. */
    madeAs?: string;
  },
): Promise<({ artifact: A } | { end: DecisionEnd }) & { llmCalls: number }> {
  const inputsFingerprint = fingerprint(stage.inputs);
  const file = typeof stage.file === 'string' ? stage.file : stage.file(inputsFingerprint);
  const cached = await readCachedArtifact(ledger.store, file, stage.schema, inputsFingerprint);
  if (cached.value) {
    ledger.stages[stage.label] = 'reused';
    ledger.cacheArtifacts.push(cacheArtifactPath(file));
    return { artifact: cached.value, llmCalls: 0 };
  }
  const made = await stage.run(inputsFingerprint);
  const llmCalls = made.llmCalls ?? 0;
  if ('end' in made) {
    ledger.stages[stage.label] = made.status;
    return { end: made.end, llmCalls };
  }
  await ledger.store.writeCacheArtifact(file, made.artifact);
  ledger.stages[stage.label] = `${stage.madeAs ?? 'generated'} (${cached.status})`;
  ledger.cacheArtifacts.push(cacheArtifactPath(file));
  return { artifact: made.artifact, llmCalls };
}

/** What every stage of one decision sees. */
export type ReflectionBatch = {
  ctx: ReflectionContext;
  /** The guidance read when the decision started; every stage works against it. */
  current: GuidanceState;
  experiencesFingerprint: string;
  /** The inputs the reflection id is a fingerprint of (the first stage's inputs). */
  decisionInputs: Record<string, unknown>;
  reflectionId: string;
  learnable: BundleGroup[];
  eligibility: Eligibility;
  tickets: ReadonlyMap<string, Ticket>;
  /** The header every stage artifact carries. */
  header: { mission: string; epoch: number; cycle: number; batch_index: number; guidance_step: number };
  /** The record's debug_info, for warnings and errors a stage notes. */
  debug: Record<string, unknown>;
};

/**
 * One stage of reflection (summary, critique, batch_update…): a module exports one and
 * reflectOnBatch lists it. Its artifact is cached as epoch{E}_cycle{C}_{name}.json.
 * Methods (not function-valued properties) so that a list of stages of different
 * artifact types is one array type.
 */
export type ReflectionStageDefinition<A extends CachedArtifact> = {
  name: string;
  schema: z.ZodType<A>;
  /** The artifact's inputs, fingerprinted: earlier stages' artifacts through `earlier`. */
  inputs(batch: ReflectionBatch, earlier: StageArtifacts): unknown;
  run(batch: ReflectionBatch, earlier: StageArtifacts, inputsFingerprint: string): Promise<StageRun<A>>;
  /** Looks at the artifact, reused or made; a DecisionEnd stops the decision there. */
  check?(artifact: A, batch: ReflectionBatch, earlier: StageArtifacts): DecisionEnd | null;
};

export type AnyReflectionStage = ReflectionStageDefinition<CachedArtifact>;

export function defineReflectionStage<A extends CachedArtifact>(stage: ReflectionStageDefinition<A>): ReflectionStageDefinition<A> {
  return stage;
}

/** The artifacts the stages of one decision got so far, by stage. */
export class StageArtifacts {
  private readonly byStage = new Map<AnyReflectionStage, unknown>();

  set<A extends CachedArtifact>(stage: ReflectionStageDefinition<A>, artifact: A): void {
    this.byStage.set(stage as unknown as AnyReflectionStage, artifact);
  }

  find<A extends CachedArtifact>(stage: ReflectionStageDefinition<A>): A | null {
    return (this.byStage.get(stage as unknown as AnyReflectionStage) as A | undefined) ?? null;
  }

  /** An earlier stage's artifact; a stage listed before the one that reads it always has one. */
  get<A extends CachedArtifact>(stage: ReflectionStageDefinition<A>): A {
    const artifact = this.find(stage);
    if (artifact === null) throw new Error(`the reflection stage ${stage.name} has not run before the stage that reads it; list it earlier`);
    return artifact;
  }
}

/** Runs the stages in order through runCachedStage; the first DecisionEnd stops them. */
export async function runReflectionStages(
  stages: readonly AnyReflectionStage[],
  batch: ReflectionBatch,
  ledger: StageLedger,
): Promise<{ artifacts: StageArtifacts; end: DecisionEnd | null; llmCalls: number }> {
  const artifacts = new StageArtifacts();
  let llmCalls = 0;
  for (const stage of stages) {
    const result = await runCachedStage(ledger, {
      label: stage.name,
      file: reflectionCacheName(batch.header.epoch, batch.header.cycle, stage.name),
      schema: stage.schema,
      inputs: stage.inputs(batch, artifacts),
      run: (inputsFingerprint) => stage.run(batch, artifacts, inputsFingerprint),
    });
    llmCalls += result.llmCalls;
    if ('end' in result) return { artifacts, end: result.end, llmCalls };
    artifacts.set(stage, result.artifact);
    const end = stage.check?.(result.artifact, batch, artifacts) ?? null;
    if (end) return { artifacts, end, llmCalls };
  }
  return { artifacts, end: null, llmCalls };
}
