// One configuration's measurement in its own process, so that its load time and RSS are its own.
//   node [--import tsx] worker.(ts|js) '<MeasureJob as JSON>'
// Writes JSON lines to stdout: { type: 'step', step } for each finished step, then
// { type: 'result', outcome } or { type: 'error', message, code }.
import { measureConfig, type MeasureJob } from './measure.js';

const send = (o: unknown) => process.stdout.write(`${JSON.stringify(o)}\n`);

async function main(): Promise<number> {
  const arg = process.argv[2];
  if (!arg) {
    send({ type: 'error', message: 'usage: worker <job json>', code: 'invalid_params' });
    return 2;
  }
  const job = JSON.parse(arg) as MeasureJob;
  try {
    const outcome = await measureConfig(job, (step) => send({ type: 'step', step }));
    // The kernel's high-water mark catches peaks between the 20 ms samples.
    outcome.peakRssBytes = Math.max(outcome.peakRssBytes, process.resourceUsage().maxRSS * 1024);
    send({ type: 'result', outcome });
    return 0;
  } catch (err) {
    const e = err as { message?: string; code?: string };
    send({ type: 'error', message: e?.message ?? String(err), code: e?.code ?? null });
    return 1;
  }
}

const code = await main();
// Flush stdout before leaving: the addon's threads must not keep the process alive.
process.stdout.write('', () => process.exit(code));
