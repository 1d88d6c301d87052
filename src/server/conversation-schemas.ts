// zod schemas of a conversation's settings and of the JSON export (which is also what an import takes):
// the export carries every branch, parents by id, so an import restores the same tree.
import { z } from 'zod';
import { SAMPLING_LIMITS as L, type ChatSettings } from '../storage/chat-presets.js';

const num = (l: { min: number; max: number }) => z.number().min(l.min).max(l.max);
const int = (l: { min: number; max: number }) => z.number().int().min(l.min).max(l.max);

export const chatSamplingSchema = z
  .object({
    temperature: num(L.temperature),
    topP: num(L.topP),
    topK: int(L.topK),
    minP: num(L.minP),
    repeatPenalty: num(L.repeatPenalty),
    maxTokens: int(L.maxTokens),
    seed: int(L.seed).nullable(),
    contextTokens: int(L.contextTokens).nullable(),
  })
  .strict();

export const chatSettingsSchema = z
  .object({
    preset: z.enum(['precise', 'balanced', 'creative', 'custom']),
    systemPrompt: z.string().max(100_000).nullable(),
    sampling: chatSamplingSchema,
  })
  .strict() satisfies z.ZodType<ChatSettings>;

const toolCallSchema = z.object({ id: z.string().min(1).max(200), name: z.string().min(1).max(200), arguments: z.unknown() }).strict();

export const messageMetaSchema = z
  .object({
    model: z.string().max(500).optional(),
    params: z.record(z.string().max(64), z.union([z.number(), z.string().max(500), z.boolean(), z.null()])).optional(),
    promptTokens: z.number().int().min(0).optional(),
    completionTokens: z.number().int().min(0).optional(),
    droppedMessages: z.number().int().min(0).optional(),
  })
  .strict();

/** A message as the routes take it (POST /api/conversations, …/messages). */
export const newMessageSchema = z
  .object({
    role: z.enum(['system', 'user', 'assistant', 'tool']),
    content: z.string().max(4_000_000),
    reasoning: z.string().max(4_000_000).optional(),
    thinkingMs: z.number().int().min(0).max(86_400_000).optional(),
    toolCalls: z.array(toolCallSchema).max(100).optional(),
    toolCallId: z.string().max(200).optional(),
    name: z.string().max(200).optional(),
    meta: messageMetaSchema.optional(),
  })
  .strict();

export const EXPORT_FORMAT = 'westfall.conversation';
export const EXPORT_VERSION = 1;

const exportedMessageSchema = newMessageSchema.extend({
  id: z.number().int().min(1),
  parentId: z.number().int().min(1).nullable(),
  createdAt: z.string().max(64).optional(),
});

/** The JSON export; an import is checked against it, and against its own references, before anything is saved. */
export const conversationExportSchema = z
  .object({
    format: z.literal(EXPORT_FORMAT, { error: `not a Westfall conversation export (format must be "${EXPORT_FORMAT}")` }),
    version: z.literal(EXPORT_VERSION, { error: `only version ${EXPORT_VERSION} exports can be imported` }),
    exportedAt: z.string().max(64).optional(),
    conversation: z
      .object({
        title: z.string().max(500),
        createdAt: z.string().max(64).optional(),
        updatedAt: z.string().max(64).optional(),
        settings: chatSettingsSchema.nullable(),
        leafId: z.number().int().min(1).nullable(),
        messages: z.array(exportedMessageSchema).max(10_000),
      })
      .strict(),
  })
  .strict()
  .superRefine((e, ctx) => {
    // Parents come first, so the tree can be rebuilt in one pass and has no cycles.
    const seen = new Set<number>();
    e.conversation.messages.forEach((m, i) => {
      if (seen.has(m.id)) ctx.addIssue({ code: 'custom', path: ['conversation', 'messages', i, 'id'], message: `message id ${m.id} appears twice` });
      if (m.parentId !== null && !seen.has(m.parentId))
        ctx.addIssue({ code: 'custom', path: ['conversation', 'messages', i, 'parentId'], message: `parent ${m.parentId} is not an earlier message of the export` });
      seen.add(m.id);
    });
    const leaf = e.conversation.leafId;
    if (leaf !== null && !seen.has(leaf)) ctx.addIssue({ code: 'custom', path: ['conversation', 'leafId'], message: `leafId ${leaf} is not a message of the export` });
  });
export type ConversationExport = z.infer<typeof conversationExportSchema>;
