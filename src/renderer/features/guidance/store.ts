import { createStore } from 'zustand/vanilla';
import type { ApiClient } from '../../../shared/api/transport';
import type { GuidanceWriteResult, RunRef } from '../../../shared/api/contract';
import type { GuidanceState } from '../../../shared/schemas/guidance';
import type { SerializedError } from '../../../shared/errors';
import { toSerializedError } from '../../shared/asyncState';
import { clearDrafts, latestDraft, saveDraft, type DraftStorage } from './draftPersistence';
import { buildMergeRows, pickRule, resolveMerge, unresolvedConflicts, type MergeRow, type RuleSide } from './threeWayMerge';
import { nextRuleKey, parseRawExperiences, validateGuidanceEdit, type EditIssue } from './validateGuidanceEdit';
import { noticeFor, type GuidanceNotice } from './guidanceNotice';

export type GuidanceConflict = {
  base: GuidanceState | null;
  theirs: GuidanceState;
  mine: Record<string, string>;
  rows: MergeRow[];
  error: SerializedError;
};

export type GuidanceEditorState = {
  ref: RunRef | null;
  server: GuidanceState | null;
  loading: boolean;
  loadError: SerializedError | null;
  /** The step the annotator's text is based on; what a save sends. */
  baseStep: number | null;
  experiences: Record<string, string>;
  rawText: string;
  mode: 'rules' | 'raw';
  issues: EditIssue[];
  dirty: boolean;
  /** Set when the file moved to another step while the annotator had unsaved text. */
  remoteStep: number | null;
  restoredDraftStep: number | null;
  saving: boolean;
  saveError: SerializedError | null;
  lastSavedStep: number | null;
  conflict: GuidanceConflict | null;
  /** The newest state seen on disk (server is what the annotator's text is based on). */
  remote: GuidanceState | null;
  /** Set when the guidance moved under the open editor, draft or not, until acknowledged. */
  notice: GuidanceNotice | null;
  /** "Discard" asked, waiting for the annotator's confirmation. */
  confirmingDiscard: boolean;
  /** The text the last discard threw away, until undone or edited over: undoDiscard brings it back. */
  discarded: { baseStep: number; rawText: string } | null;
  load(ref: RunRef): Promise<void>;
  poll(): Promise<void>;
  setRule(key: string, text: string): void;
  addRule(): string;
  removeRule(key: string): void;
  setRaw(text: string): void;
  setMode(mode: 'rules' | 'raw'): void;
  save(): Promise<void>;
  /** Picks a side for the merge row `id` (MergeRow.id: the rule_id). */
  pickMerge(id: string, side: RuleSide, custom?: string): void;
  saveMerge(): Promise<void>;
  /** Asks to discard the edits (ConfirmDialog); discardEdits does it, with an undo. */
  askDiscard(): void;
  cancelDiscard(): void;
  discardEdits(): void;
  undoDiscard(): void;
  acknowledgeNotice(): void;
};

export type GuidanceStoreOptions = {
  now?: () => string;
  /** The reviewer's name for a write (reviewerStore.requireName); null when none was given. */
  author?: () => Promise<string | null>;
};

const pretty = (experiences: Record<string, string>) => JSON.stringify(experiences, null, 2);

/** Why Save cannot do anything now (shown beside the disabled button), or null when it can. */
export function saveBlockedReason(s: Pick<GuidanceEditorState, 'dirty' | 'issues' | 'saving' | 'baseStep'>): string | null {
  if (s.saving) return 'Saving…';
  if (s.baseStep === null) return 'Nothing loaded yet.';
  if (!s.dirty) return 'No changes to save.';
  if (s.issues.length > 0) return `Fix ${s.issues.length} problem${s.issues.length === 1 ? '' : 's'} to save: ${s.issues.map((i) => (i.key ? `${i.key}: ${i.message}` : i.message)).join('; ')}`;
  return null;
}

/** Why the merge cannot be saved yet: conflicted rules not chosen, or a merged result the repository would refuse. */
export function mergeBlockedReason(conflict: GuidanceConflict): string | null {
  const open = unresolvedConflicts(conflict.rows);
  if (open.length > 0) return `Choose mine, theirs or an edit for ${open.length} conflicted rule${open.length === 1 ? '' : 's'} (${open.join(', ')}) to save.`;
  const issues = validateGuidanceEdit(resolveMerge(conflict.rows), conflict.theirs);
  if (issues.length > 0) return `The merged guidance has ${issues.length} problem${issues.length === 1 ? '' : 's'}: ${issues.map((i) => (i.key ? `${i.key}: ${i.message}` : i.message)).join('; ')}`;
  return null;
}

/**
 * The guidance editor: edits never get lost (every keystroke is a localStorage
 * draft keyed by run/mission/baseStep), a save names its base step, and a lost
 * race opens a per-rule merge of base / theirs / mine.
 */
export function createGuidanceStore(client: () => ApiClient, storage: DraftStorage, options: GuidanceStoreOptions = {}) {
  const now = options.now ?? (() => new Date().toISOString());
  const author = options.author ?? (async () => null);
  return createStore<GuidanceEditorState>()((set, get) => {
    function persist() {
      const { ref, baseStep, rawText } = get();
      if (ref && baseStep !== null) saveDraft(storage, { run: ref.runId, mission: ref.mission, baseStep, text: rawText, savedAt: now() });
    }

    function edit(experiences: Record<string, string>, rawText = pretty(experiences)) {
      set({ experiences, rawText, dirty: true, issues: validateGuidanceEdit(experiences, get().server, rawText), saveError: null, discarded: null });
      persist();
    }

    function adopt(state: GuidanceState) {
      set({ server: state, remote: state, baseStep: state.step, experiences: { ...state.experiences }, rawText: pretty(state.experiences), dirty: false, remoteStep: null, issues: [], restoredDraftStep: null });
    }

    async function handleWrite(result: GuidanceWriteResult, mine: Record<string, string>) {
      const { ref } = get();
      if (result.status === 'ok') {
        if (ref) clearDrafts(storage, ref.runId, ref.mission);
        adopt(result.state);
        // Saving (a merge included) is done with the moved guidance in view: the notice has served.
        set({ conflict: null, lastSavedStep: result.state.step, notice: null });
        return;
      }
      const { remote, notice, server, baseStep } = get();
      const basedOn = server && server.step === baseStep ? server : result.base;
      const moved = remote && result.theirs.step > remote.step ? noticeFor(notice, remote, result.theirs) : notice;
      set({
        // The editor's keys name the rules of the state its text is based on: that state's rule ids pair them with theirs.
        conflict: { base: result.base, theirs: result.theirs, mine, rows: buildMergeRows(basedOn ?? { experiences: {}, metadata: {} }, result.theirs, mine), error: result.error },
        remoteStep: result.theirs.step,
        remote: remote && result.theirs.step > remote.step ? result.theirs : remote,
        notice: moved,
        lastSavedStep: null,
      });
    }

    return {
      ref: null,
      server: null,
      loading: false,
      loadError: null,
      baseStep: null,
      experiences: {},
      rawText: '',
      mode: 'rules',
      issues: [],
      dirty: false,
      remoteStep: null,
      restoredDraftStep: null,
      saving: false,
      saveError: null,
      lastSavedStep: null,
      conflict: null,
      remote: null,
      notice: null,
      confirmingDiscard: false,
      discarded: null,
      async load(ref) {
        set({ ref, loading: true, loadError: null, conflict: null, saveError: null, notice: null, lastSavedStep: null });
        try {
          const { state } = await client().guidanceRead(ref);
          adopt(state);
          const draft = latestDraft(storage, ref.runId, ref.mission);
          if (draft && draft.text !== pretty(state.experiences)) {
            const parsed = parseRawExperiences(draft.text);
            const experiences = parsed.ok ? parsed.experiences : state.experiences;
            set({
              baseStep: draft.baseStep,
              rawText: draft.text,
              experiences,
              mode: parsed.ok ? get().mode : 'raw',
              dirty: true,
              restoredDraftStep: draft.baseStep,
              remoteStep: draft.baseStep !== state.step ? state.step : null,
              issues: parsed.ok ? validateGuidanceEdit(experiences, state, draft.text) : [parsed.issue],
            });
          }
        } catch (error) {
          set({ loadError: toSerializedError(error) });
        } finally {
          set({ loading: false });
        }
      },
      async poll() {
        const { ref } = get();
        if (!ref || get().saving) return;
        try {
          const { state } = await client().guidanceRead(ref);
          const { remote, dirty, notice } = get();
          // Steps only grow (a rollback is a new step too): an older answer is a poll that raced a save.
          if (get().ref !== ref || !remote || state.step <= remote.step) return;
          const next = noticeFor(notice, remote, state);
          if (!dirty) adopt(state);
          else set({ remote: state, remoteStep: state.step });
          set({ notice: next, lastSavedStep: null });
        } catch {
          // A failed poll is retried on the next tick; the editor keeps working.
        }
      },
      setRule(key, text) {
        edit({ ...get().experiences, [key]: text });
      },
      addRule() {
        const key = nextRuleKey(get().experiences);
        edit({ ...get().experiences, [key]: '' });
        return key;
      },
      removeRule(key) {
        const { [key]: _removed, ...rest } = get().experiences;
        edit(rest);
      },
      setRaw(text) {
        const parsed = parseRawExperiences(text);
        if (!parsed.ok) {
          set({ rawText: text, dirty: true, issues: [parsed.issue], discarded: null });
          persist();
          return;
        }
        edit(parsed.experiences, text);
      },
      setMode(mode) {
        if (mode === 'rules' && !parseRawExperiences(get().rawText).ok) return;
        set({ mode });
      },
      async save() {
        const { ref, baseStep, experiences, rawText, server } = get();
        if (!ref || baseStep === null) return;
        const parsed = parseRawExperiences(rawText);
        const issues = parsed.ok ? validateGuidanceEdit(parsed.experiences, server, rawText) : [parsed.issue];
        if (issues.length) {
          set({ issues });
          return;
        }
        set({ saving: true, saveError: null });
        try {
          const mine = parsed.ok ? parsed.experiences : experiences;
          const name = await author();
          await handleWrite(await client().guidanceSave({ ...ref, baseStep, experiences: mine, author: name, kind: 'save' }), mine);
        } catch (error) {
          set({ saveError: toSerializedError(error) });
        } finally {
          set({ saving: false });
        }
      },
      pickMerge(id, side, custom) {
        const { conflict } = get();
        if (!conflict) return;
        set({ conflict: { ...conflict, rows: pickRule(conflict.rows, id, side, custom) } });
      },
      async saveMerge() {
        const { ref, conflict } = get();
        if (!ref || !conflict) return;
        // Every conflicted rule must be chosen first (the button says how many are left).
        if (unresolvedConflicts(conflict.rows).length > 0) return;
        const merged = resolveMerge(conflict.rows);
        const issues = validateGuidanceEdit(merged, conflict.theirs);
        if (issues.length) {
          set({ issues });
          return;
        }
        // The merged text is now the annotator's text, based on the step on disk.
        set({ baseStep: conflict.theirs.step, server: conflict.theirs, experiences: merged, rawText: pretty(merged), dirty: true, saving: true, saveError: null });
        persist();
        try {
          const name = await author();
          await handleWrite(await client().guidanceSave({ ...ref, baseStep: conflict.theirs.step, experiences: merged, author: name, kind: 'merge' }), merged);
        } catch (error) {
          set({ saveError: toSerializedError(error) });
        } finally {
          set({ saving: false });
        }
      },
      askDiscard() {
        if (get().dirty || get().conflict) set({ confirmingDiscard: true });
      },
      cancelDiscard() {
        set({ confirmingDiscard: false });
      },
      discardEdits() {
        const { ref, dirty, baseStep, rawText } = get();
        if (!ref) return;
        clearDrafts(storage, ref.runId, ref.mission);
        set({ conflict: null, dirty: false, confirmingDiscard: false, discarded: dirty && baseStep !== null ? { baseStep, rawText } : null });
        void get().load(ref);
      },
      undoDiscard() {
        const { discarded, server, loading, mode } = get();
        // After the reload that discarding started: it would otherwise overwrite the text brought back.
        if (!discarded || loading) return;
        const parsed = parseRawExperiences(discarded.rawText);
        const experiences = parsed.ok ? parsed.experiences : get().experiences;
        set({
          discarded: null,
          baseStep: discarded.baseStep,
          rawText: discarded.rawText,
          experiences,
          mode: parsed.ok ? mode : 'raw',
          dirty: true,
          remoteStep: server && server.step !== discarded.baseStep ? server.step : null,
          issues: parsed.ok ? validateGuidanceEdit(experiences, server, discarded.rawText) : [parsed.issue],
          lastSavedStep: null,
        });
        persist();
      },
      acknowledgeNotice() {
        set({ notice: null });
      },
    };
  });
}

export type GuidanceEditorStore = ReturnType<typeof createGuidanceStore>;
