// The finance functions the model can call. Amounts cross this boundary as decimals in the account's
// currency (the model reads "-12.50 EUR" better than -1250 minor units); they are converted exactly. An amount
// may also come as text the user wrote ("85,20"): it is read strictly in the user's locale, and refused with
// what was expected (amount_invalid) rather than guessed.
import { z } from 'zod';
import { ToolError } from '../errors.js';
import { defineTool, type AnyTool } from '../registry.js';
import { monthRange } from './dates.js';
import { amountFromNumber, amountFromText, resolveAmount } from './locale-amounts.js';
import { formatMoney } from './money.js';
import type { FinanceService } from './service.js';
import type { Transaction } from './transactions.js';

const isoDate = z.iso.date();
const month = z.string().regex(/^\d{4}-(0[1-9]|1[0-2])$/, 'YYYY-MM').describe('Month as YYYY-MM');

/** A JSON number, or text in the user's locale. */
const amountArg = z.union([z.number(), z.string().min(1).max(50)]);

function toMinor(amount: number | string, currency: string, locale: string, sign: 'allow' | 'reject' = 'allow'): number {
  return typeof amount === 'number' ? amountFromNumber(amount, currency) : amountFromText(amount, currency, locale, { sign });
}

const brief = (t: Transaction) => ({
  id: t.id,
  date: t.date,
  amount: formatMoney(t.amount, t.currency),
  payee: t.payee,
  category: t.category,
  note: t.note || undefined,
  accountId: t.accountId,
});

export function financeTools(finance: FinanceService): AnyTool[] {
  const categoryId = (name: string | undefined): number | undefined => {
    if (name === undefined) return undefined;
    const c = finance.categories.findByName(name);
    if (!c) throw new ToolError('not_found', `no category named "${name}"; existing: ${finance.categories.list().map((x) => x.name).join(', ') || 'none'}`);
    return c.id;
  };
  // The user's accounts and categories, offered in the confirmation form (and named in its sentence).
  const accounts = () => finance.accounts.list().map((a) => ({ value: a.id, label: a.name, extra: { currency: a.currency } }));
  const categories = () => finance.categories.list().map((c) => ({ value: c.name, label: c.name }));
  return [
    defineTool({
      name: 'finance_list_accounts',
      title: 'List accounts',
      description: 'List the money accounts with their current balances.',
      input: z.object({}).strict(),
      mutates: false,
      handler: () => ({
        accounts: finance.summaries.balances().map((b) => ({ id: b.accountId, name: b.name, currency: b.currency, balance: formatMoney(b.balance, b.currency) })),
      }),
    }),
    defineTool({
      name: 'finance_list_categories',
      title: 'List categories',
      description: 'List the transaction categories.',
      input: z.object({}).strict(),
      mutates: false,
      handler: () => ({ categories: finance.categories.list().map((c) => ({ id: c.id, name: c.name, kind: c.kind })) }),
    }),
    defineTool({
      name: 'finance_search_transactions',
      title: 'Search transactions',
      description: 'Find transactions by words in the payee or note, category, account and date range (newest first).',
      input: z
        .object({
          query: z.string().max(100).optional().describe('Words to find in payee or note'),
          category: z.string().max(100).optional(),
          accountId: z.number().int().min(1).optional(),
          from: isoDate.optional(),
          to: isoDate.optional(),
          limit: z.number().int().min(1).max(50).default(20),
        })
        .strict(),
      mutates: false,
      handler: (a) => {
        const r = finance.transactions.list({
          ...(a.query ? { q: a.query } : {}),
          ...(a.category ? { categoryId: categoryId(a.category)! } : {}),
          ...(a.accountId ? { accountId: a.accountId } : {}),
          ...(a.from ? { from: a.from } : {}),
          ...(a.to ? { to: a.to } : {}),
          limit: a.limit,
        });
        return { total: r.total, transactions: r.transactions.map(brief) };
      },
    }),
    defineTool({
      name: 'finance_add_transaction',
      title: 'Add a transaction',
      confirm: 'Add {type=expense?an expense:type=income?an income:amount<0?an expense:an income} of {amount|abs}[ {accountId.currency}][ at {payee}][ for {category}] to {accountId} on {date}?',
      choices: () => ({ accountId: accounts(), category: categories() }),
      description: 'Record a transaction. amount is in the account currency, negative for money spent.',
      input: z
        .object({
          accountId: z.number().int().min(1),
          date: isoDate,
          amount: amountArg.describe('Decimal amount; negative = money out, unless type is given'),
          type: z.enum(['expense', 'income']).optional().describe('Money out or in; then give the amount without a sign'),
          payee: z.string().max(200).default(''),
          category: z.string().max(100).optional(),
          note: z.string().max(500).default(''),
        })
        .strict(),
      mutates: true,
      handler: (a) => {
        const account = finance.accounts.get(a.accountId);
        const cat = a.category !== undefined ? finance.categories.ensure(a.category) : undefined;
        const minor = toMinor(a.amount, account.currency, finance.locale(), a.type ? 'reject' : 'allow');
        const t = finance.transactions.create({
          accountId: account.id,
          date: a.date,
          amount: resolveAmount({ amount: a.type === 'expense' ? Math.abs(minor) : minor, kind: a.type }, account.currency, finance.locale())!,
          payee: a.payee,
          note: a.note,
          ...(cat ? { categoryId: cat.id } : {}),
        });
        return { created: brief(t) };
      },
    }),
    defineTool({
      name: 'finance_categorize_transaction',
      title: 'Categorize a transaction',
      confirm: 'Put transaction #{id} under {category}?',
      choices: () => ({ category: categories() }),
      description: 'Set the category of a transaction (the category is created if it does not exist).',
      input: z.object({ id: z.number().int().min(1), category: z.string().min(1).max(100) }).strict(),
      mutates: true,
      handler: (a) => ({ updated: brief(finance.transactions.update(a.id, { categoryId: finance.categories.ensure(a.category).id })) }),
    }),
    defineTool({
      name: 'finance_delete_transaction',
      title: 'Delete a transaction',
      confirm: 'Delete transaction #{id}?',
      description: 'Delete a transaction by id.',
      input: z.object({ id: z.number().int().min(1) }).strict(),
      mutates: true,
      handler: (a) => {
        const t = finance.transactions.get(a.id);
        finance.transactions.delete(a.id);
        return { deleted: brief(t) };
      },
    }),
    defineTool({
      name: 'finance_month_summary',
      title: 'Month summary',
      description: 'Income, expenses and net for a month, with spending per category.',
      input: z.object({ month }).strict(),
      mutates: false,
      handler: (a) => {
        const { from, to } = monthRange(a.month);
        return {
          month: a.month,
          totals: finance.summaries.byMonth({ from, to }).map((m) => ({
            currency: m.currency,
            income: formatMoney(m.income, m.currency),
            expenses: formatMoney(m.expenses, m.currency),
            net: formatMoney(m.net, m.currency),
            transactions: m.count,
          })),
          categories: finance.summaries
            .byCategory({ from, to })
            .filter((c) => c.expenses > 0)
            .map((c) => ({ category: c.category ?? '(uncategorized)', spent: formatMoney(c.expenses, c.currency) })),
        };
      },
    }),
    defineTool({
      name: 'finance_budget_status',
      title: 'Budget status',
      description: 'Budget against actual spending per category for a month.',
      input: z.object({ month }).strict(),
      mutates: false,
      handler: (a) => {
        const r = finance.summaries.budgetVsActual(a.month);
        return {
          month: r.month,
          lines: r.lines.map((l) => ({
            category: l.category,
            budget: l.budget === null ? null : formatMoney(l.budget, l.currency),
            spent: formatMoney(l.spent, l.currency),
            remaining: l.remaining === null ? null : formatMoney(l.remaining, l.currency),
            percentUsed: l.percentUsed,
            over: l.over,
          })),
        };
      },
    }),
    defineTool({
      name: 'finance_set_budget',
      title: 'Set a budget',
      confirm: 'Set the budget of {category} for {month} to {amount}[ {currency}]?',
      choices: () => ({ category: categories() }),
      description: 'Set the monthly budget of a category (the category is created if missing).',
      input: z
        .object({
          category: z.string().min(1).max(100),
          month,
          amount: amountArg.describe('Decimal amount the category may spend that month'),
          currency: z.string().regex(/^[A-Z]{3}$/).optional(),
        })
        .strict(),
      mutates: true,
      handler: (a) => {
        const cat = finance.categories.ensure(a.category);
        const currency = a.currency ?? finance.accounts.list()[0]?.currency ?? 'USD';
        const b = finance.budgets.set({ categoryId: cat.id, month: a.month, amount: toMinor(a.amount, currency, finance.locale(), 'reject'), currency });
        return { budget: { category: b.category, month: b.month, amount: formatMoney(b.amount, b.currency) } };
      },
    }),
  ];
}
