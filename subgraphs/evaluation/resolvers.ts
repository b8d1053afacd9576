/**
 * Resolvers of the evaluation subgraph (schema/evaluation.graphql): the `rateCase` mutation,
 * `Case.evaluation` (visible to the applicant and the case's agency only) and the public
 * `Item.satisfaction`. Levels leave through the level table (label, gbCode, score). Complaints,
 * consultations and suggestions (feedback.ts), the follow-up of bad ratings (follow-up.ts) and
 * the agency rankings (rankings.ts).
 */
import type { KeyObject } from 'node:crypto';
import { isUuid } from '../../kernel/ids.ts';
import type { GraphQLResolverMap } from '@apollo/subgraph/dist/schema-helper/index.js';
import type { WorkingCalendar } from '../../kernel/calendar.ts';
import type { Clock } from '../../kernel/clock.ts';
import { AppError } from '../../kernel/errors.ts';
import type { Db } from '../../kernel/db.ts';
import type { SubgraphContext } from '../../kernel/subgraph.ts';
import { levelInfo } from './levels.ts';
import { batchLoader, type Load } from '../../kernel/loader.ts';
import { rateCase } from './rate.ts';
import { evaluationsByCaseIds, evaluationsByIds, levelCountsByItems, type EvaluationRecord } from './repository.ts';
import { summarise, type Satisfaction } from './satisfaction.ts';
import { canSeeEvaluation } from './visibility.ts';
import {
  answerFeedback, dispatchComplaint, feedbackById, isLate, listFeedback, pageSize, published, stepsOf, submitFeedback, viewOf,
  type FeedbackKind, type FeedbackPolicy, type FeedbackRecord, type Page,
} from './feedback.ts';
import {
  FOLLOW_UP_STATES, followUpQueue, followUpSummary, followUpsByEvaluation, rectifyBadRating, verifyBadRating,
  type FollowUpRecord, type FollowUpState,
} from './follow-up.ts';
import { FORMULA, latestBoard, latestRankings, type RankingRecord } from './rankings.ts';
import {
  chatOfFeedback, chatQueue, chatsOfAuthor, closeChat, messagesOf, openChat, sendMessage, takeChat, visibleChat,
  type ChatDeps, type ChatMessage, type ChatRecord, type ChatStatus,
} from './chat.ts';
import { issueTicket } from './chat-stream.ts';

export interface EvaluationLoaders {
  byCase: Load<string, EvaluationRecord | null>;
  byId: Load<string, EvaluationRecord | null>;
  satisfaction: Load<string, Satisfaction>;
  followUp: Load<string, FollowUpRecord | null>;
  ranking: Load<string, RankingRecord | null>;
}

export interface EvaluationRules {
  /** Live chats (R-EV-2): the chat side of the service, and the key that signs stream tickets. */
  chat: { deps: ChatDeps; ticketKey: KeyObject };
  feedback: FeedbackPolicy;
  calendar: WorkingCalendar;
  followUpWorkingDays: number;
}

export interface EvaluationContext extends SubgraphContext {
  loaders: EvaluationLoaders;
}


export function createLoaders(db: Db, clock: Clock): EvaluationLoaders {
  return {
    followUp: batchLoader(async (ids) => new Map((await followUpsByEvaluation(db, ids, clock.now())).map((f) => [f.evaluationId, f])), null),
    ranking: batchLoader(async (codes) => new Map((await latestRankings(db, codes)).map((r) => [r.agencyCode, r])), null),
    byCase: batchLoader(async (ids) => new Map((await evaluationsByCaseIds(db, ids)).map((e) => [e.caseId, e])), null),
    byId: batchLoader(async (ids) => new Map((await evaluationsByIds(db, ids)).map((e) => [e.id, e])), null),
    satisfaction: batchLoader(async (itemIds) => {
      const rows = await levelCountsByItems(db, itemIds);
      return new Map(itemIds.map((id) => [id, summarise(rows.filter((r) => r.itemId === id))]));
    }, { average: null, count: 0 }),
  };
}

/** The GraphQL shape of a rating: the stored level mapped through the level table. */
function toGraph(e: EvaluationRecord) {
  const l = levelInfo(e.level);
  return {
    id: e.id, caseId: e.caseId, level: l.level, label: l.label, gbCode: l.gbCode, score: l.score,
    reason: e.reason, channel: e.channel, createdAt: e.createdAt.toISOString(),
  };
}

const visible = (ctx: EvaluationContext, e: EvaluationRecord | null) => (e && canSeeEvaluation(ctx.caller, e) ? toGraph(e) : null);

const iso = (d: Date | null) => (d === null ? null : d.toISOString());

function followUpGraph(f: FollowUpRecord) {
  return {
    evaluationId: f.evaluationId, state: f.state, createdAt: iso(f.createdAt), dueAt: iso(f.dueAt), overdue: f.overdue,
    verificationNote: f.verificationNote, verifiedAt: iso(f.verifiedAt), measures: f.measures, answer: f.answer,
    answeredAt: iso(f.answeredAt), version: f.version,
  };
}

/** A feedback as the caller may see it: in full (author, staff of its agency) or published. */
function feedbackGraph(f: FeedbackRecord, full: boolean) {
  const v = full ? f : published(f);
  return {
    id: v.id, kind: v.kind, agencyCode: v.agencyCode, agency: { code: v.agencyCode }, itemId: v.itemId, item: v.itemId ? { id: v.itemId } : null,
    topic: v.topic, content: v.content, pageUrl: full ? v.pageUrl : null, public: v.public, status: v.status, authorName: v.authorName,
    submittedAt: iso(v.submittedAt), dueAt: iso(v.dueAt), answer: v.answer, answeredAt: iso(v.answeredAt),
    answerHours: v.answeredAt ? Math.round(((v.answeredAt.getTime() - v.submittedAt.getTime()) / 3_600_000) * 10) / 10 : null,
    version: v.version, _full: full, _record: f,
  };
}
type FeedbackGraph = ReturnType<typeof feedbackGraph>;

function pageGraph(p: Page, full: boolean) {
  return { nodes: p.nodes.map((f) => feedbackGraph(f, full)), endCursor: p.endCursor, hasNextPage: p.hasNextPage };
}

function rankingGraph(r: RankingRecord) {
  return {
    ...r, consultations: r.consultations ?? 0, consultationAnswerMinutes: r.consultationAnswerMinutes ?? null, agency: { code: r.agencyCode }, periodStart: iso(r.periodStart), periodEnd: iso(r.periodEnd), computedAt: iso(r.computedAt),
  };
}

function chatGraph(c: ChatRecord) {
  return {
    id: c.id, item: { id: c.itemId }, agencyCode: c.agencyCode, agency: { code: c.agencyCode }, status: c.status, authorName: c.authorName,
    staffName: c.staffName, openedAt: iso(c.openedAt), firstAnswerAt: iso(c.firstAnswerAt),
    firstAnswerSeconds: c.firstAnswerAt ? Math.round((c.firstAnswerAt.getTime() - c.openedAt.getTime()) / 1000) : null,
    closedAt: iso(c.closedAt), _feedbackId: c.feedbackId,
  };
}
const messageGraph = (m: ChatMessage) => ({ seq: m.seq, sender: m.sender, senderName: m.senderName, text: m.text, at: iso(m.at) });
const CHAT_STATUSES: readonly ChatStatus[] = ['WAITING', 'ACTIVE', 'CLOSED'];

const KINDS: readonly FeedbackKind[] = ['COMPLAINT', 'CONSULTATION', 'SUGGESTION'];
const kindArg = (k: unknown): FeedbackKind | null => (k === undefined || k === null ? null : KINDS.includes(k as FeedbackKind) ? k as FeedbackKind : null);

function requireStaff(c: EvaluationContext['caller']) {
  if (c.kind === 'anonymous') throw new AppError('UNAUTHENTICATED', '请先登录 / please log in');
  if (c.kind !== 'staff') throw new AppError('FORBIDDEN', 'staff only');
  return c;
}

export function evaluationResolvers(db: Db, clock: Clock, rules: EvaluationRules): GraphQLResolverMap<EvaluationContext> {
  const followUpRule = { calendar: rules.calendar, workingDays: rules.followUpWorkingDays };
  const submit = (kind: FeedbackKind) => async (_: unknown, args: { input: Record<string, unknown> }, ctx: EvaluationContext) =>
    feedbackGraph(await submitFeedback(db, clock, rules.calendar, rules.feedback, ctx.caller, kind, args.input), true);
  return {
    Query: {
      myFeedback: async (_: unknown, a: { kind?: string | null; first?: number; after?: string | null }, ctx: EvaluationContext) => {
        if (ctx.caller.kind === 'anonymous') throw new AppError('UNAUTHENTICATED', '请先登录 / please log in');
        const where = ['author_id = $1'], params: unknown[] = [ctx.caller.sub];
        const kind = kindArg(a.kind);
        if (kind) { params.push(kind); where.push(`kind = $${params.length}`); }
        return pageGraph(await listFeedback(db, { where, params, first: pageSize(a.first), after: a.after, order: 'desc' }), true);
      },
      feedbackQueue: async (_: unknown, a: { kind?: string | null; status?: string | null; first?: number; after?: string | null }, ctx: EvaluationContext) => {
        const staff = requireStaff(ctx.caller);
        const where = ['agency_code = $1', 'status = $2'], params: unknown[] = [staff.agency, a.status === 'ANSWERED' ? 'ANSWERED' : 'OPEN'];
        const kind = kindArg(a.kind);
        if (kind) { params.push(kind); where.push(`kind = $${params.length}`); }
        return pageGraph(await listFeedback(db, { where, params, first: pageSize(a.first), after: a.after, order: 'asc' }), true);
      },
      publicFeedback: async (_: unknown, a: { kind: string; agencyCode?: string | null; first?: number; after?: string | null }) => {
        const kind = kindArg(a.kind);
        if (!kind) throw new AppError('BAD_INPUT', 'unknown kind', { kind: KINDS.join('|') });
        const where = ['kind = $1', 'public', `status = 'ANSWERED'`], params: unknown[] = [kind];
        if (a.agencyCode) { params.push(a.agencyCode); where.push(`agency_code = $${params.length}`); }
        return pageGraph(await listFeedback(db, { where, params, first: pageSize(a.first), after: a.after, order: 'desc', timeColumn: 'answered_at' }), false);
      },
      followUpQueue: async (_: unknown, a: { state?: string | null; first?: number }, ctx: EvaluationContext) => {
        const staff = requireStaff(ctx.caller);
        const state = (FOLLOW_UP_STATES as readonly string[]).includes(a.state ?? 'VERIFYING') ? (a.state ?? 'VERIFYING') as FollowUpState : 'VERIFYING';
        return (await followUpQueue(db, staff.agency, state, pageSize(a.first ?? 50), clock.now())).map(followUpGraph);
      },
      followUpSummary: (_: unknown, a: { agencyCode: string }) => followUpSummary(db, a.agencyCode),
      chat: async (_: unknown, a: { id: string }, ctx: EvaluationContext) => {
        try {
          return chatGraph((await visibleChat(db, ctx.caller, a.id)).chat);
        } catch (e) {
          if (e instanceof AppError && e.code === 'CHAT_NOT_FOUND') return null;
          throw e;
        }
      },
      myChats: async (_: unknown, _a: unknown, ctx: EvaluationContext) => (await chatsOfAuthor(db, ctx.caller)).map(chatGraph),
      chatQueue: async (_: unknown, a: { status?: string | null }, ctx: EvaluationContext) =>
        (await chatQueue(db, ctx.caller, CHAT_STATUSES.includes(a.status as ChatStatus) ? a.status as ChatStatus : 'WAITING')).map(chatGraph),
      rankingBoard: async () => {
        const rows = await latestBoard(db);
        const first = rows[0];
        return {
          periodStart: first ? iso(first.periodStart) : null, periodEnd: first ? iso(first.periodEnd) : null,
          computedAt: first ? iso(first.computedAt) : null, formula: FORMULA, entries: rows.map(rankingGraph),
        };
      },
    },
    Mutation: {
      rateCase: async (_: unknown, args: { caseId: string; level: string; reason?: string | null; channel?: number | null }, ctx: EvaluationContext) =>
        toGraph(await rateCase(db, clock, ctx.caller, args, followUpRule)),
      submitComplaint: submit('COMPLAINT'),
      askConsultation: submit('CONSULTATION'),
      submitSuggestion: submit('SUGGESTION'),
      dispatchComplaint: async (_: unknown, a: { id: string; agencyCode: string; note: string; version?: number | null }, ctx: EvaluationContext) =>
        feedbackGraph(await dispatchComplaint(db, clock, ctx.caller, a.id, a.agencyCode, a.note, a.version), true),
      answerFeedback: async (_: unknown, a: { id: string; answer: string; version?: number | null }, ctx: EvaluationContext) =>
        feedbackGraph(await answerFeedback(db, clock, ctx.caller, a.id, a.answer, a.version), true),
      openChat: async (_: unknown, a: { itemId: string; text?: string | null }, ctx: EvaluationContext) =>
        chatGraph(await openChat(rules.chat.deps, ctx.caller, a.itemId, a.text)),
      takeChat: async (_: unknown, a: { id: string }, ctx: EvaluationContext) => chatGraph(await takeChat(rules.chat.deps, ctx.caller, a.id)),
      sendChatMessage: async (_: unknown, a: { chatId: string; text: string }, ctx: EvaluationContext) =>
        messageGraph(await sendMessage(rules.chat.deps, ctx.caller, a.chatId, a.text)),
      closeChat: async (_: unknown, a: { id: string }, ctx: EvaluationContext) => chatGraph(await closeChat(rules.chat.deps, ctx.caller, a.id)),
      chatStreamTicket: async (_: unknown, a: { chatId?: string | null }, ctx: EvaluationContext) => {
        if (a.chatId) {
          const { chat } = await visibleChat(db, ctx.caller, a.chatId);
          const t = issueTicket(rules.chat.ticketKey, ctx.caller, chat.id, clock.now());
          return { ticket: t.ticket, expiresAt: iso(t.expiresAt), path: `/chat/stream` };
        }
        const staff = requireStaff(ctx.caller);
        const t = issueTicket(rules.chat.ticketKey, staff, null, clock.now());
        return { ticket: t.ticket, expiresAt: iso(t.expiresAt), path: '/chat/stream' };
      },
      verifyBadRating: async (_: unknown, a: { evaluationId: string; upheld: boolean; note: string; version?: number | null }, ctx: EvaluationContext) =>
        followUpGraph(await verifyBadRating(db, clock, ctx.caller, a.evaluationId, a.upheld, a.note, a.version)),
      rectifyBadRating: async (_: unknown, a: { evaluationId: string; measures: string; answer: string; version?: number | null }, ctx: EvaluationContext) =>
        followUpGraph(await rectifyBadRating(db, clock, ctx.caller, a.evaluationId, a.measures, a.answer, a.version)),
    },
    Feedback: {
      __resolveReference: async (ref: { id: unknown }, ctx: EvaluationContext) => {
        const f = typeof ref.id === 'string' ? await feedbackById(db, ref.id) : null;
        const view = f ? viewOf(ctx.caller, f) : null;
        return f && view ? feedbackGraph(f, view === 'full') : null;
      },
      overdue: async (f: FeedbackGraph) => (f.status === 'OPEN' && clock.now() > f._record.dueAt) || isLate(db, f._record),
      chat: async (f: FeedbackGraph) => {
        const c = f._full && f.kind === 'CONSULTATION' ? await chatOfFeedback(db, f.id) : null;
        return c ? chatGraph(c) : null;
      },
      steps: async (f: FeedbackGraph) => (f._full
        ? (await stepsOf(db, f.id)).map((s) => ({ ...s, at: s.at.toISOString() }))
        : []),
    },
    Chat: {
      messages: async (c: { id: string }) => (await messagesOf(db, c.id)).map(messageGraph),
      consultation: async (c: { _feedbackId: string | null }) => {
        const f = c._feedbackId ? await feedbackById(db, c._feedbackId) : null;
        return f ? feedbackGraph(f, true) : null;
      },
    },
    RatingFollowUp: {
      evaluation: async (f: { evaluationId: string }, _: unknown, ctx: EvaluationContext) => visible(ctx, await ctx.loaders.byId(f.evaluationId)),
    },
    Agency: {
      __resolveReference: (ref: { code: string }) => ({ code: ref.code }),
      ranking: async (a: { code: string }, _: unknown, ctx: EvaluationContext) => {
        const r = await ctx.loaders.ranking(String(a.code));
        return r ? rankingGraph(r) : null;
      },
    },
    Evaluation: {
      __resolveReference: async (ref: { id: unknown }, ctx: EvaluationContext) =>
        (typeof ref.id === 'string' && isUuid(ref.id) ? visible(ctx, await ctx.loaders.byId(ref.id.toLowerCase())) : null),
      // Visible exactly where the rating is (the applicant, the agency's staff).
      followUp: async (e: { id: string }, _: unknown, ctx: EvaluationContext) => {
        const f = await ctx.loaders.followUp(e.id);
        return f ? followUpGraph(f) : null;
      },
    },
    Case: {
      __resolveReference: (ref: { id: string }) => ({ id: ref.id }),
      evaluation: async (c: { id: string }, _: unknown, ctx: EvaluationContext) => visible(ctx, await ctx.loaders.byCase(String(c.id))),
    },
    Item: {
      __resolveReference: (ref: { id: string }) => ({ id: ref.id }),
      satisfaction: (i: { id: string }, _: unknown, ctx: EvaluationContext) => ctx.loaders.satisfaction(String(i.id)),
    },
  };
}
