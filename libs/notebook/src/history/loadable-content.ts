import type { INotebookContent } from '@jupyterlab/nbformat';
import { DomainError } from '@palimpsest/contracts';
import { describeProblems, validateNotebook } from '../ipynb/validate-notebook.js';

/** Past content exported from the log, checked and ready for `loadNotebook` (it was valid when written). */
export function loadableContent(content: INotebookContent): INotebookContent {
  const validation = validateNotebook(content);
  if (!validation.ok) throw new DomainError('INTERNAL', `the notebook's past content is not valid nbformat: ${describeProblems(validation.problems)}`);
  return validation.notebook;
}
