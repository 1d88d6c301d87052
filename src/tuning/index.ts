// Hardware tuning: sweep engine settings on this machine, recommend the best, save it as a profile the
// backend uses. See docs/tuning.md.
//
//   const report = await runSweep({ model, threads: [1, 2], batchSizes: [128, 512] });
//   const rec = recommend(report.results);
//   await writeReports(outDir, report, rec);
//   await saveProfile(dataDir, createProfile(report, rec));
//   const profile = await loadProfile(dataDir, modelPath);   // in the backend
export {
  runSweep,
  buildGrid,
  defaultConfig,
  configId,
  configLabel,
  machineInfo,
  SWEEP_DEFAULTS,
  type SweepOptions,
  type SweepEvent,
  type GridEnvironment,
} from './sweep.js';
export { measureConfig, engineSupportsKvCacheType, EngineLogReader, type MeasureJob, type MeasureOutcome, type MeasureStep } from './measure.js';
export { recommend, describeObjective, DEFAULT_OBJECTIVE, type Objective, type Recommendation, type Speedup } from './recommend.js';
export {
  tuningProfileSchema,
  profileSettingsSchema,
  createProfile,
  parseProfile,
  saveProfile,
  loadProfile,
  listProfiles,
  profilePath,
  profilesDir,
  profileToEngineOptions,
  PROFILE_SCHEMA_VERSION,
  type TuningProfile,
  type ProfileSettings,
  type ProfileMeasured,
} from './profile.js';
export { toCsv, toMarkdown, markdownTable, writeReports, CSV_COLUMNS, MARKDOWN_COLUMNS, type ReportFiles } from './report.js';
export { sweepChartSvg, renderSvg, svgDocument, h as svgElement, escapeXml, niceScale, type SvgElement, type ChartOptions } from './svg.js';
export {
  SYNTHETIC_SHAPES,
  SYNTHETIC_SHAPE_NAMES,
  QWEN2_1_5B_SPEC,
  QWEN2_3B_SPEC,
  ensureSyntheticShape,
  isSyntheticShapeName,
  type SyntheticShape,
  type SyntheticShapeName,
  type EnsureShapeOptions,
  type EnsureShapeResult,
} from './shapes.js';
export { describeModel, hashGgufHeader, estimateKvBytes } from './model-id.js';
export { median, summarize, type SampleSummary } from './stats.js';
export * from './types.js';
export { benchSplit, verdict as splitVerdict, type SplitBenchOptions, type SplitBenchResult } from './split.js';
