// /api/finance: accounts, categories, transactions, monthly budgets, summaries, CSV import (with preview)
// and CSV export. Amounts are integers in minor units (cents) everywhere; a transaction or budget may instead
// give `amountText` as the user typed it, read strictly in `locale` (default: the user's setting), with
// `kind` (expense or income) saying which way the money goes.
import type { FastifyPluginAsync } from 'fastify';
import { z } from 'zod';
import { isSupportedLocale } from '../../locale/index.js';
import { columnMappingSchema, inspectCsv, resolveAmount, type FinanceService } from '../../tools/finance/index.js';
import { parseWith } from '../errors.js';
import { boolQuery, defined, idParams, isoDate, limitQuery, month, offsetQuery, sendCsv } from './tool-helpers.js';

export interface FinanceRoutesOptions {
  finance: FinanceService;
}

const currency = z.string().regex(/^[A-Za-z]{3}$/, 'an ISO 4217 code such as EUR');
const minor = z.number().int().min(-Number.MAX_SAFE_INTEGER).max(Number.MAX_SAFE_INTEGER);
const accountBody = z.object({ name: z.string().min(1).max(200), currency, kind: z.string().min(1).max(50).optional(), openingBalance: minor.optional() }).strict();
const categoryBody = z.object({ name: z.string().min(1).max(200), kind: z.enum(['expense', 'income', 'transfer']).optional() }).strict();
const localeTag = z.string().min(2).max(35).refine(isSupportedLocale, 'a locale such as de-DE or en-US');
const amountFields = {
  amountText: z.string().min(1).max(100).optional(),
  kind: z.enum(['expense', 'income']).optional(),
  locale: localeTag.optional(),
};
const transactionBody = z
  .object({
    accountId: z.number().int().min(1),
    date: isoDate,
    amount: minor.optional(),
    ...amountFields,
    currency: currency.optional(),
    categoryId: z.number().int().min(1).nullable().optional(),
    payee: z.string().max(500).optional(),
    note: z.string().max(5000).optional(),
  })
  .strict();
const transactionQuery = z.object({
  accountId: z.coerce.number().int().min(1).optional(),
  categoryId: z.coerce.number().int().min(1).optional(),
  uncategorized: boolQuery.optional(),
  from: isoDate.optional(),
  to: isoDate.optional(),
  q: z.string().max(200).optional(),
  minAmount: z.coerce.number().int().optional(),
  maxAmount: z.coerce.number().int().optional(),
  limit: limitQuery.default(100),
  offset: offsetQuery.default(0),
});
const periodQuery = z.object({ from: isoDate.optional(), to: isoDate.optional(), accountId: z.coerce.number().int().min(1).optional() });
const importBody = z
  .object({
    accountId: z.number().int().min(1),
    csv: z.string().max(64 * 1024 * 1024),
    mapping: columnMappingSchema,
    fileName: z.string().max(500).optional(),
    preview: z.boolean().default(false),
    /** Lines of duplicate rows to import all the same. */
    keep: z.array(z.number().int().min(1)).max(1_000_000).optional(),
  })
  .strict();
const inspectBody = z
  .object({
    csv: z.string().max(64 * 1024 * 1024),
    delimiter: z.enum([',', ';', '\t', '|']).optional(),
    skipLines: z.number().int().min(0).max(1000).optional(),
    hasHeader: z.boolean().optional(),
    limit: z.number().int().min(1).max(100).optional(),
  })
  .strict();
const budgetBody = z
  .object({ categoryId: z.number().int().min(1), month, amount: z.number().int().min(0).max(Number.MAX_SAFE_INTEGER).optional(), amountText: amountFields.amountText, locale: amountFields.locale, currency: currency.optional() })
  .strict()
  .refine((b) => (b.amount === undefined) !== (b.amountText === undefined), { message: 'give amount (minor units) or amountText', path: ['amount'] });

const financeRoutes: FastifyPluginAsync<FinanceRoutesOptions> = async (app, { finance }) => {
  // Accounts
  app.get('/api/finance/accounts', async (req) => {
    const q = parseWith(z.object({ includeArchived: boolQuery.optional() }), req.query, 'query');
    return { accounts: finance.accounts.list(defined({ includeArchived: q.includeArchived })) };
  });
  app.post('/api/finance/accounts', async (req, reply) => {
    const body = parseWith(accountBody, req.body);
    reply.code(201);
    return finance.accounts.create(defined(body));
  });
  app.get('/api/finance/accounts/:id', async (req) => finance.accounts.get(parseWith(idParams, req.params, 'parameters').id));
  app.patch('/api/finance/accounts/:id', async (req) => {
    const { id } = parseWith(idParams, req.params, 'parameters');
    const body = parseWith(accountBody.partial().extend({ archived: z.boolean().optional() }).strict(), req.body);
    return finance.accounts.update(id, defined(body));
  });
  app.delete('/api/finance/accounts/:id', async (req) => {
    const { id } = parseWith(idParams, req.params, 'parameters');
    const q = parseWith(z.object({ force: boolQuery.optional() }), req.query, 'query');
    finance.accounts.delete(id, defined({ force: q.force }));
    return { deleted: id };
  });

  // Categories
  app.get('/api/finance/categories', async () => ({ categories: finance.categories.list() }));
  app.post('/api/finance/categories', async (req, reply) => {
    const body = parseWith(categoryBody, req.body);
    reply.code(201);
    return finance.categories.create(body.name, body.kind);
  });
  app.patch('/api/finance/categories/:id', async (req) => {
    const { id } = parseWith(idParams, req.params, 'parameters');
    return finance.categories.update(id, defined(parseWith(categoryBody.partial().strict(), req.body)));
  });
  app.delete('/api/finance/categories/:id', async (req) => {
    const { id } = parseWith(idParams, req.params, 'parameters');
    finance.categories.delete(id);
    return { deleted: id };
  });

  // Transactions
  app.get('/api/finance/transactions', async (req) => finance.transactions.list(defined(parseWith(transactionQuery, req.query, 'query'))));
  app.post('/api/finance/transactions', async (req, reply) => {
    const { amountText, kind, locale, ...body } = parseWith(transactionBody.refine((b) => b.amount !== undefined || b.amountText !== undefined, { message: 'give amount (minor units) or amountText', path: ['amount'] }), req.body);
    const amount = resolveAmount({ amount: body.amount, amountText, kind, locale }, finance.accounts.get(body.accountId).currency, finance.locale())!;
    reply.code(201);
    return finance.transactions.create(defined({ ...body, amount }));
  });
  app.get('/api/finance/transactions/:id', async (req) => finance.transactions.get(parseWith(idParams, req.params, 'parameters').id));
  app.patch('/api/finance/transactions/:id', async (req) => {
    const { id } = parseWith(idParams, req.params, 'parameters');
    const { amountText, kind, locale, ...body } = parseWith(transactionBody.omit({ currency: true }).partial().strict(), req.body);
    const currency = body.accountId !== undefined ? finance.accounts.get(body.accountId).currency : finance.transactions.get(id).currency;
    const amount = resolveAmount({ amount: body.amount, amountText, kind, locale }, currency, finance.locale());
    return finance.transactions.update(id, defined({ ...body, amount }));
  });
  app.delete('/api/finance/transactions/:id', async (req) => {
    const { id } = parseWith(idParams, req.params, 'parameters');
    finance.transactions.delete(id);
    return { deleted: id };
  });

  // Budgets
  app.get('/api/finance/budgets', async (req) => {
    const q = parseWith(z.object({ month: month.optional() }), req.query, 'query');
    return { budgets: finance.budgets.list(q.month) };
  });
  app.put('/api/finance/budgets', async (req) => {
    const { amountText, locale, ...body } = parseWith(budgetBody, req.body);
    const cur = (body.currency ?? finance.budgets.defaultCurrency).toUpperCase();
    const amount = resolveAmount({ amount: body.amount, amountText, kind: 'income', locale }, cur, finance.locale())!;
    return finance.budgets.set(defined({ ...body, currency: cur, amount }));
  });
  app.delete('/api/finance/budgets/:categoryId/:month', async (req) => {
    const p = parseWith(z.object({ categoryId: z.coerce.number().int().min(1), month }), req.params, 'parameters');
    finance.budgets.delete(p.categoryId, p.month);
    return { deleted: p };
  });

  // Summaries
  app.get('/api/finance/summary/months', async (req) => ({ months: finance.summaries.byMonth(defined(parseWith(periodQuery, req.query, 'query'))) }));
  app.get('/api/finance/summary/categories', async (req) => ({ categories: finance.summaries.byCategory(defined(parseWith(periodQuery, req.query, 'query'))) }));
  app.get('/api/finance/summary/budget', async (req) => finance.summaries.budgetVsActual(parseWith(z.object({ month }), req.query, 'query').month));
  app.get('/api/finance/summary/balances', async (req) => {
    const q = parseWith(z.object({ asOf: isoDate.optional(), includeArchived: boolQuery.optional() }), req.query, 'query');
    return { balances: finance.summaries.balances(defined(q)) };
  });

  // CSV import and export
  app.post('/api/finance/import', { bodyLimit: 64 * 1024 * 1024 }, async (req) => {
    const body = parseWith(importBody, req.body);
    const opts = defined({ accountId: body.accountId, csv: body.csv, mapping: body.mapping, fileName: body.fileName, keep: body.keep });
    if (body.preview) return { preview: true, ...finance.importer.preview(opts) };
    return { preview: false, ...finance.importer.import(opts) };
  });
  app.post('/api/finance/import/inspect', { bodyLimit: 64 * 1024 * 1024 }, async (req) => {
    const body = parseWith(inspectBody, req.body);
    return { ...inspectCsv(body.csv, body), locale: finance.locale() };
  });
  app.get('/api/finance/export', async (req, reply) => {
    const q = parseWith(transactionQuery.omit({ limit: true, offset: true }), req.query, 'query');
    return sendCsv(reply, `transactions${q.from ? `-${q.from}` : ''}${q.to ? `-${q.to}` : ''}.csv`, finance.exportCsv(defined(q)));
  });
};

export default financeRoutes;
export { financeRoutes };
