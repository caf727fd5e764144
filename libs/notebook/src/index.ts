export * from './catalog/notebook-catalog.js';
export { appendOutput, clearOutputs, replaceOutputs, setExecutionCount } from './commands/output-commands.js';
export { settleRunningCells, syncExecution, type CellExecutionTarget } from './commands/sync-outputs.js';
export { ExecutionProjector } from './execution/execution-projector.js';
export { deleteCell, insertCell, moveCell, updateCell, type CellPatch, type NewCell } from './commands/cell-commands.js';
export { loadNotebook, setNotebookMetadata } from './commands/notebook-commands.js';
export { COMMAND_ORIGIN, type CommandResult } from './commands/run-command.js';
export { checkUpdate, duplicateCellIds, duplicatesIfApplied, type UpdateShape } from './changes/check-update.js';
export { describeUpdate } from './changes/describe-update.js';
export { changedCellIds, eventTypeFor, storedChangeFields } from './changes/event-type.js';
export { CELL_ID_PATTERN, isCellId, newCellId } from './ipynb/cell-id.js';
export type { Problem } from './ipynb/nbformat-schema.js';
export {
  CURRENT_NBFORMAT_MINOR,
  describeProblems,
  validateNotebook,
  type CellIdRename,
  type GeneratedCellId,
  type NotebookValidation,
} from './ipynb/validate-notebook.js';
export { CELL_TYPES, UNRECOGNIZED_CELL_KEY, isCellType, type CellType } from './model/cell-map.js';
export { exportCell, exportNotebook } from './model/export-notebook.js';
export { cellIds, cellsOf, findCell, metaOf, type CellMap } from './model/notebook-doc.js';
export { REPLAY_ORIGIN, encodeCheckpoint, rebuildDoc } from './replay/rebuild-doc.js';
export { documentAt, LiveNotebooks, type LiveNotebook, type LiveNotebooksOptions } from './service/live-notebooks.js';
export {
  NotebookService,
  type Actor,
  type Collaborator,
  type CollaboratorUpdateResult,
  type HistoryPoint,
  type NotebookServiceOptions,
  type NotebookSnapshot,
} from './service/notebook.service.js';
export { isEmptyUpdate, mergeCollaboratorUpdate, removeDuplicateCells, type CollaboratorResult } from './collab/collaborator-update.js';
export { cellSource, replayCellHistory, type CellHistoryEntry } from './history/cell-history.js';
export { forkNotebook, type ForkResult } from './history/fork-notebook.js';
export { HistoryDocument, UnsupportedHistoryContent } from './history/history-document.js';
export { HistoryDocuments, type HistoryDocumentsOptions } from './history/history-documents.js';
export { NotebookHistory, type NotebookDiff } from './history/notebook-history.js';
export { diffNotebooks, type CellChangeKind, type CellDiff } from './history/notebook-diff.js';
export { restoreNotebook, type RestoreResult } from './history/restore-notebook.js';
export { diffSequences, type DiffRun } from './history/sequence-diff.js';
