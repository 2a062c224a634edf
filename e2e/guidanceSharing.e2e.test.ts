import { mkdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import type { Page } from 'playwright-core';
import { ARTIFACTS_DIR, chromiumMissingReason } from './fixtures/browser';
import { writeGuidanceFromAnotherProcess } from './fixtures/cliGuidanceWrite';
import { FIXTURE_GUIDANCE_STEPS } from './fixtures/makeFixtureRun';
import { openFixtureRun, type WorkbenchSession, useWorkbenchSessions } from './fixtures/workbenchSession';
import { GuidanceStateSchema, type GuidanceState } from '../src/shared/schemas/guidance';
import { ReflectionLogRecordSchema } from '../src/shared/schemas/records';
import { ReviewProposalSchema, ReviewQueueEntrySchema } from '../src/shared/schemas/reviewQueue';
import { BatchUpdateArtifactSchema } from '../src/main/engine/reflection/reflectionArtifacts';

/**
 * Issue 16 in Chromium over the web transport: who wrote what (the reviewer name asked
 * once), the notice an open editor shows when the guidance moves under it, the review
 * queue of protected rules decided by keyboard, and the reflection timeline showing what
 * a rejected decision proposed.
 */
const missing = chromiumMissingReason();
if (missing) console.warn(missing);

const SHOTS_DIR = process.env.STAGEB_SHOTS_DIR ?? ARTIFACTS_DIR;

/** The same screen at the two widths the workbench is checked at. */
async function shoot(page: Page, name: string): Promise<void> {
  await mkdir(SHOTS_DIR, { recursive: true });
  for (const width of [1280, 1440]) {
    await page.setViewportSize({ width, height: 900 });
    await page.waitForTimeout(150); // layout settles (Monaco re-lays out on resize); a screenshot, not a measurement
    await page.screenshot({ path: path.join(SHOTS_DIR, `${name}-${width}.png`), fullPage: false });
  }
  await page.setViewportSize({ width: 1400, height: 900 });
}

async function guidanceOnDisk(session: WorkbenchSession): Promise<GuidanceState> {
  const file = JSON.parse(await readFile(session.fixture.guidancePath, 'utf8'));
  return GuidanceStateSchema.parse(file[session.fixture.mission]);
}

async function queueRows(session: WorkbenchSession) {
  const text = await readFile(path.join(session.fixture.missionDir, 'review_queue.jsonl'), 'utf8');
  return text.trim().split('\n').map((line) => ReviewQueueEntrySchema.parse(JSON.parse(line)));
}

/** Two proposals by reflection on protected rules, as the engine queues them (review_queue.jsonl). */
async function queueProposals(session: WorkbenchSession): Promise<void> {
  const current = await guidanceOnDisk(session);
  const proposal = (itemId: string, op: 'modify' | 'remove', key: string, text?: string) =>
    ReviewProposalSchema.parse({
      type: 'proposal', item_id: itemId, mission: session.fixture.mission, reflection_id: 'refl-e1-c3-5eed0001', epoch: 1, batch_index: 3, cycle: 3, guidance_step: current.step,
      operation: { op, key, ...(text ? { text } : {}), rationale: '标签模糊的工单被误判为通过', evidence: [`${session.fixture.mismatchGroupId}::fail`] },
      rule_ids: { [key]: current.metadata[key].rule_id },
      targets: [{ key, rule_id: current.metadata[key].rule_id, reason: key === 'G0' ? 'G0 is the mission checklist' : 'protected by reflection.protected_rules', text: current.experiences[key] }],
      created_at: '2025-03-01T10:00:00.000Z',
    });
  const rows = [proposal('rq-e1-c3-0', 'modify', 'G1', '接地线标签缺失、模糊、被遮挡或无法识别时判定为不通过。'), proposal('rq-e1-c3-1', 'remove', 'G2')];
  await writeFile(path.join(session.fixture.missionDir, 'review_queue.jsonl'), rows.map((r) => JSON.stringify(r)).join('\n') + '\n');
}

/**
 * The batch_update artifact of the rejected decision refl-e1-b0 (proposed on step 1):
 * remove G1 and modify the rule after it, which the dense keys renumber G2 → G1.
 */
async function writeRejectedProposal(session: WorkbenchSession): Promise<void> {
  const { missionDir } = session.fixture;
  const snapshotsDir = path.join(missionDir, 'snapshots');
  const { readdir } = await import('node:fs/promises');
  let step1: GuidanceState | null = null;
  for (const name of await readdir(snapshotsDir)) {
    const doc = JSON.parse(await readFile(path.join(snapshotsDir, name), 'utf8'));
    const state = GuidanceStateSchema.parse(doc[session.fixture.mission] ?? doc);
    if (state.step === 1) step1 = state;
  }
  expect(step1, 'the fixture keeps a snapshot of step 1').not.toBeNull();
  const base = step1!;
  const proposedText = '只显示部分设备时，必须由其他照片补全接地点与标签证据才可判定通过。';
  const proposed = {
    experiences: { G0: base.experiences.G0, G1: proposedText, S1: base.experiences.S1 },
    metadata: { G0: base.metadata.G0, G1: { ...base.metadata.G2, origin: 'reflection' as const, reflection_id: 'refl-e1-b0', updated_at: '2025-03-01T09:04:00.000Z' }, S1: base.metadata.S1 },
  };
  const name = 'epoch1_cycle0_batch_update.json';
  const header = { schema_version: 1 as const, mission: session.fixture.mission, epoch: 1, cycle: 0, batch_index: 0, guidance_step: 1, inputs_fingerprint: 'e2e', created_at: '2025-03-01T09:04:00.000Z' };
  const operations = [
    { op: 'remove' as const, key: 'G1', evidence: [`${session.fixture.mismatchGroupId}::fail`] },
    { op: 'modify' as const, key: 'G2', text: proposedText, evidence: [`${session.fixture.mismatchGroupId}::fail`] },
  ];
  const artifact = BatchUpdateArtifactSchema.parse({
    stage: 'batch_update', ...header,
    plan: { reflection_id: 'refl-e1-b0', plan_fingerprint: 'e2e', operations, queued: [], proposed_operations: operations, evidence_group_ids: [session.fixture.mismatchGroupId], uncertainty_note: null, dropped: [] },
    preview_guidance: proposed, proposed_guidance: proposed, key_map: { G2: 'G1' },
    provenance: { reflection_id: 'refl-e1-b0', mission: session.fixture.mission, epoch: 1, cycle: 0, batch_index: 0, guidance_step_before: 1, summary_artifact: 'reflection_cache/epoch1_cycle0_summary.json', critique_artifact: 'reflection_cache/epoch1_cycle0_critique.json', evidence_ticket_keys: [] },
  });
  await mkdir(path.join(missionDir, 'reflection_cache'), { recursive: true });
  await writeFile(path.join(missionDir, 'reflection_cache', name), JSON.stringify(artifact));
  const logFile = path.join(missionDir, 'reflection.jsonl');
  const lines = (await readFile(logFile, 'utf8')).trim().split('\n').map((line) => ReflectionLogRecordSchema.parse(JSON.parse(line)));
  const rewritten = lines.map((record) => {
    if (record.reflection.reflection_id !== 'refl-e1-b0') return record;
    return {
      ...record,
      reflection: {
        ...record.reflection,
        proposal: { ...record.reflection.proposal, operations },
        cache_artifacts: [...record.reflection.cache_artifacts, `reflection_cache/${name}`],
        decision_detail: 'holdout label_match 62.5% → 60.0% (uplift −2.5 points < apply_if_delta 0); P(uplift > 0) = 0.34 < min_uplift_probability 0.9',
      },
    };
  });
  await writeFile(logFile, rewritten.map((r) => JSON.stringify(r)).join('\n') + '\n');
}

describe.skipIf(Boolean(missing))('guidance that people and the engine share (issue 16)', () => {
  const sessions = useWorkbenchSessions();

  it('asks the reviewer name once, records it on the save, and shows a notice with step, writer and changed rules when the guidance moves under the open editor', async () => {
    const session = await sessions.open({ reviewer: null });
    const { page, fixture } = session;
    await openFixtureRun(session);
    await page.keyboard.press('4');
    await page.getByTestId('rule-G2').waitFor();
    await expect(page.getByTestId('rule-origin-G2').textContent()).resolves.toContain('refl-fixture-1');
    await page.getByTestId('add-rule').click();
    await page.getByTestId('rule-G3').fill('接地线末端悬空或未连接至地排时判定为不通过。');
    await page.getByTestId('guidance-save').click();
    const dialog = page.getByRole('dialog', { name: 'Who is reviewing?' });
    await dialog.waitFor();
    await expect(page.evaluate(() => document.activeElement?.getAttribute('data-testid'))).resolves.toBe('reviewer-name');
    await page.keyboard.press('Enter');
    await page.getByText('Enter a name, or continue without one.').waitFor();
    await page.keyboard.type('Alice');
    await shoot(page, '16-reviewer-dialog');
    await page.keyboard.press('Enter');
    await dialog.waitFor({ state: 'detached' });
    await page.getByTestId('guidance-saved').filter({ hasText: 'step 3' }).waitFor();
    let disk = await guidanceOnDisk(session);
    expect(disk.written_by).toMatchObject({ kind: 'save', author: 'Alice', step: 3 });
    expect(disk.metadata.G3).toMatchObject({ origin: 'annotator', author: 'Alice' });
    await expect(page.getByTestId('reviewer-badge').textContent()).resolves.toContain('Alice');
    await expect(page.getByTestId('rule-origin-G3').textContent()).resolves.toMatch(/annotator.*by Alice/);

    // Reflection rewrites G1 and removes G2: the annotator's G3 is renumbered to G2.
    const { G0, G1: _g1, G2: _g2, G3, S1 } = disk.experiences;
    writeGuidanceFromAnotherProcess({
      guidancePath: fixture.guidancePath, mission: fixture.mission, baseStep: 3,
      experiences: { G0, G1: '接地线标签缺失或模糊时判定为不通过。', G2: G3, S1 },
      by: { kind: 'reflection', author: null, reflection_id: 'refl-e2-c1-0badcafe', epoch: 2, batch_index: 1 },
      sendMetadata: false,
    });
    const notice = page.getByTestId('guidance-notice');
    await notice.waitFor({ timeout: 15_000 });
    await expect(page.getByTestId('notice-step').textContent()).resolves.toBe('The guidance moved to step 4');
    await expect(page.getByTestId('notice-writer').textContent()).resolves.toContain('reflection refl-e2-c1-0badcafe (epoch 2, batch 1)');
    const changes = await page.getByTestId('notice-changes').textContent();
    expect(changes).toContain('G1 modified');
    expect(changes).toContain('G2 removed');
    expect(changes).toContain('G3 → G2 renamed');
    await expect(page.locator('[data-testid="notice-diff"] tr[data-kind="renamed"]').textContent()).resolves.toContain('G3 → G2');
    expect(await page.getByTestId('guidance-saved').count(), 'no stale "Saved as step 3"').toBe(0);
    await expect(page.getByTestId('guidance-step').textContent()).resolves.toBe('step 4');
    await expect(page.getByTestId('rule-G2').inputValue()).resolves.toBe(G3);
    await expect(page.getByTestId('rule-origin-G2').textContent()).resolves.toContain('by Alice');
    await shoot(page, '16-guidance-notice');
    await page.getByTestId('notice-ack').click();
    await notice.waitFor({ state: 'detached' });

    // With a draft open, another annotator saves: the notice names them and the draft is kept.
    await page.getByTestId('rule-G1').fill('Alice 的草稿：标签被遮挡时判定为不通过。');
    disk = await guidanceOnDisk(session);
    writeGuidanceFromAnotherProcess({
      guidancePath: fixture.guidancePath, mission: fixture.mission, baseStep: 4,
      experiences: { ...disk.experiences, G3: '机柜接地线标签需与地排照片对应。' },
      by: { kind: 'save', author: 'Bob' },
      sendMetadata: false,
    });
    await page.getByTestId('notice-writer').filter({ hasText: 'Bob' }).waitFor({ timeout: 15_000 });
    await expect(page.getByTestId('notice-changes').textContent()).resolves.toContain('G3 added');
    await expect(page.getByTestId('guidance-moved').textContent()).resolves.toContain('based on step 4');
    await expect(page.getByTestId('rule-G1').inputValue()).resolves.toBe('Alice 的草稿：标签被遮挡时判定为不通过。');
    await shoot(page, '16-guidance-notice-draft');
    await page.getByTestId('guidance-save').click();
    await page.getByTestId('merge-view').waitFor();
    await page.getByTestId('save-merge').click();
    await page.getByTestId('guidance-saved').filter({ hasText: 'step 6' }).waitFor();
    expect(await page.getByTestId('reviewer-dialog').count(), 'the name is asked once').toBe(0);
    disk = await guidanceOnDisk(session);
    expect(disk.written_by).toMatchObject({ kind: 'merge', author: 'Alice' });
    expect(disk.experiences.G1).toBe('Alice 的草稿：标签被遮挡时判定为不通过。');
    expect(disk.experiences.G3).toBe('机柜接地线标签需与地排照片对应。');
  });

  it('accepts and dismisses queued proposals on protected rules by keyboard, with a note, recording who approved', async () => {
    const session = await sessions.open({ reviewer: null });
    const { page } = session;
    await queueProposals(session);
    await openFixtureRun(session);
    await page.keyboard.press('4');
    await page.getByTestId('guidance-pending-reviews').filter({ hasText: '2 proposals' }).waitFor();
    await page.keyboard.press('9');
    const list = page.getByTestId('review-list');
    await list.getByRole('option').first().waitFor();
    await expect(page.getByTestId('review-pending').textContent()).resolves.toBe('2 pending');
    // Newest first: the removal of G2 was queued after the change to G1.
    await expect(list.getByRole('option').nth(0).textContent()).resolves.toContain('remove G2');
    await page.keyboard.press('j');
    await page.getByTestId('review-detail').filter({ hasText: 'modify G1' }).waitFor();
    const rowG1 = page.getByTestId('review-row-G1');
    await expect(rowG1.locator('td.now').textContent()).resolves.toContain(FIXTURE_GUIDANCE_STEPS[2].G1);
    await expect(rowG1.locator('td.proposed').textContent()).resolves.toContain('被遮挡');
    await shoot(page, '16-review-queue');
    await expect(page.evaluate(() => document.activeElement?.getAttribute('data-testid'))).resolves.toBe('review-list');
    await page.keyboard.press('a');
    await page.getByTestId('decision-dialog').waitFor();
    await expect(page.evaluate(() => document.activeElement?.getAttribute('data-testid'))).resolves.toBe('decision-note');
    await page.keyboard.type('证据充分，同意');
    await shoot(page, '16-review-accept-dialog');
    await page.keyboard.press('Enter');
    // The first write of this reviewer asks the name once.
    await page.getByRole('dialog', { name: 'Who is reviewing?' }).waitFor();
    await page.keyboard.type('Carol');
    await page.keyboard.press('Enter');
    await page.getByTestId('review-done').filter({ hasText: 'Accepted by Carol: the guidance is now step 3.' }).waitFor();
    const disk = await guidanceOnDisk(session);
    expect(disk.experiences.G1).toBe('接地线标签缺失、模糊、被遮挡或无法识别时判定为不通过。');
    expect(disk.metadata.G1).toMatchObject({ approved_by: 'Carol', origin: 'reflection', reflection_id: 'refl-e1-c3-5eed0001' });
    expect(disk.written_by).toMatchObject({ kind: 'approval', author: 'Carol', review_item_id: 'rq-e1-c3-0' });
    await page.getByTestId('review-pending').filter({ hasText: /^1 pending$/ }).waitFor();

    await list.focus();
    await page.keyboard.press('d');
    await page.getByTestId('decision-dialog').waitFor();
    await page.keyboard.type('G2 仍然需要');
    await page.keyboard.press('Enter');
    await page.getByTestId('review-done').filter({ hasText: 'Dismissed by Carol' }).waitFor();
    expect(await page.getByTestId('reviewer-dialog').count(), 'the name is asked once').toBe(0);
    expect((await guidanceOnDisk(session)).experiences.G2).toBe(FIXTURE_GUIDANCE_STEPS[2].G2);
    const decisions = (await queueRows(session)).filter((row) => row.type === 'decision');
    expect(decisions.map((d) => [d.item_id, d.type === 'decision' && d.decision, d.type === 'decision' && d.by, d.type === 'decision' && d.note])).toEqual([
      ['rq-e1-c3-0', 'accepted', 'Carol', '证据充分，同意'],
      ['rq-e1-c3-1', 'dismissed', 'Carol', 'G2 仍然需要'],
    ]);
    await page.getByTestId('review-filter').selectOption('all');
    await list.getByRole('option').filter({ hasText: 'accepted by Carol' }).waitFor();
    await shoot(page, '16-review-queue-decided');

    // The name is kept across a reload and shown in the QA review it signs.
    // The reload restores the view: the review queue of the open run.
    await page.reload();
    await page.getByTestId('review-filter').waitFor();
    await expect(page.getByTestId('reviewer-badge').textContent()).resolves.toContain('Carol');
    await page.keyboard.press('6');
    await page.getByTestId('qa-list').getByRole('option').first().waitFor();
    await page.keyboard.press('r');
    await page.getByTestId('qa-list').getByRole('option').first().getByTestId('qa-review').filter({ hasText: 'reviewed: ok' }).waitFor();
    expect(await page.getByTestId('reviewer-dialog').count()).toBe(0);
    const reviews = await readFile(path.join(session.fixture.missionDir, 'qa_reviews.jsonl'), 'utf8');
    expect(reviews).toContain('"reviewer":"Carol"');
  });

  it('shows what a rejected decision proposed, diffed by rule_id (a renumbering reads as a rename), with the reason it was not applied', async () => {
    const session = await sessions.open();
    const { page } = session;
    await writeRejectedProposal(session);
    await openFixtureRun(session);
    await page.keyboard.press('3');
    const detail = page.getByTestId('reflection-detail');
    await detail.filter({ hasText: 'refl-e0-b1' }).waitFor();
    await page.getByTestId('reflection-list').focus();
    await page.keyboard.press('j');
    await detail.filter({ hasText: 'refl-e1-b0' }).waitFor();
    await expect(page.getByTestId('decision-detail').textContent()).resolves.toContain('apply_if_delta');
    await expect(page.getByTestId('decision-reason').textContent()).resolves.toBe('holdout_no_uplift');
    const diff = page.getByTestId('proposed-diff');
    await diff.waitFor();
    const kinds = await diff.locator('tr[data-kind]').evaluateAll((rows) => rows.map((r) => `${r.getAttribute('data-kind')}:${r.querySelector('code')?.textContent}`));
    expect(kinds).toEqual(['modified:G2 → G1', 'removed:G1']);
    await page.locator('[data-testid="monaco-diff"] .view-line').first().waitFor();
    await shoot(page, '16-reflection-proposed');
    // Decisions without an artifact say so instead of showing nothing.
    await page.getByTestId('reflection-list').focus();
    await page.keyboard.press('j');
    await detail.filter({ hasText: 'refl-e1-b2' }).waitFor();
    await page.getByTestId('no-proposal').waitFor();
    await page.locator('[data-testid="rule-diff"] tr[data-kind="modified"]').first().waitFor();
    await shoot(page, '16-reflection-applied');
  });
});
