import { useState } from 'react';
import { useStore } from 'zustand';
import { TextDiff } from '../../shared/monaco/TextDiff';
import { renderExperiences } from '../reflection/ruleDiff';
import { RuleIdDiffTable } from '../reflection/RuleIdDiffTable';
import { describeChange } from './guidanceNotice';
import type { GuidanceEditorStore } from './store';

/**
 * Shown when the guidance moved under the open editor, draft or not: the new step, who
 * wrote it, which rules changed (by rule_id) and the diff. It stays until acknowledged,
 * so a change made while the reader looked away is not missed.
 */
export function GuidanceNoticeView({ store }: { store: GuidanceEditorStore }) {
  const notice = useStore(store, (s) => s.notice);
  const dirty = useStore(store, (s) => s.dirty);
  const baseStep = useStore(store, (s) => s.baseStep);
  const conflict = useStore(store, (s) => s.conflict);
  const [showText, setShowText] = useState(false);
  if (!notice) return null;
  const { changes } = notice;
  return (
    <div className="notice" role="alert" aria-live="assertive" data-testid="guidance-notice">
      <div className="notice-head">
        <strong data-testid="notice-step">The guidance moved to step {notice.toStep}</strong>
        <span className="muted">{notice.steps > 1 ? `${notice.steps} steps since you looked (step ${notice.fromStep})` : `from step ${notice.fromStep}`}</span>
      </div>
      <p data-testid="notice-writer">Written by <strong>{notice.writer}</strong>.</p>
      {dirty && !conflict && (
        <p className="warn-text" data-testid="guidance-moved">Your unsaved edit is based on step {baseStep}; it is kept as a draft, and saving it opens the merge against step {notice.toStep}.</p>
      )}
      {!dirty && <p className="muted">The editor now shows step {notice.toStep}.</p>}
      <p data-testid="notice-changes">
        {changes.length === 0 ? 'No rule text changed.' : <>Changed rules: {changes.map((c) => <span key={c.rule_id} className={`tag change-${c.kind}`}>{describeChange(c, notice.latest)}</span>)}</>}
      </p>
      {changes.length > 0 && <RuleIdDiffTable before={notice.seen} after={notice.latest} testId="notice-diff" />}
      <div className="actions">
        <button onClick={() => setShowText(!showText)} aria-expanded={showText}>{showText ? 'Hide' : 'Show'} text diff</button>
        <button className="primary" onClick={() => store.getState().acknowledgeNotice()} data-testid="notice-ack">Got it</button>
      </div>
      {showText && <TextDiff original={renderExperiences(notice.seen.experiences)} modified={renderExperiences(notice.latest.experiences)} height={200} />}
    </div>
  );
}
