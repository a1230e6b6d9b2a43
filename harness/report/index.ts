/**
 * The report layer (SPEC §5): pure functions from a finished Report and its per-check logs
 * to an archivable report folder, and back (verify, merge). The lane runner needs
 * `decideGate`, `countTotals`, `logPathFor`, `writeReportFolder` and `evidenceLine`.
 */
export { countTotals, decideGate, exitCodeOf, formatLanesNotRun, type GateDecision, type GateMode, type LaneNotRun, listFailingChecks, listNotRun, type ParitySummary, withSelection } from './gate-decision.ts';
export { deriveLaneStatus } from './lane-summary.ts';
export { MANIFEST_FILE, SIGNATURE_FILE, type SignKey, type VerifyKey } from './manifest.ts';
export { MergeError, type MergeReportOptions, type MergeReportResult, mergeReportFolders } from './merge-reports.ts';
export { assertReportFolderFree, evidenceLine, prepareReportFolder, ReportFolderError, type ReportFolderResult, type WriteReportOptions, writeReportFolder } from './report-folder.ts';
export { logPathFor, ReportValidationError, validateReportSchema } from './report-validation.ts';
export { parseResultsTsv, RESULTS_TSV_HEADER } from './results-tsv.ts';
export { type VerifyReportOptions, type VerifyReportResult, verifyReportFolder } from './verify-report-folder.ts';
