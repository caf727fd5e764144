import { DomainError } from '@palimpsest/contracts';
import * as Y from 'yjs';

/** A cell of the document: a Y.Map in the jupyter_ydoc schema. */
export type CellMap = Y.Map<unknown>;

/** Root `cells`: the Y.Array of cell maps, in notebook order. */
export function cellsOf(doc: Y.Doc): Y.Array<CellMap> {
  return doc.getArray<CellMap>('cells');
}

/** Root `meta`: nbformat, nbformat_minor, metadata (Y.Map) and unknown top-level notebook fields. */
export function metaOf(doc: Y.Doc): Y.Map<unknown> {
  return doc.getMap('meta');
}

/** The id of a cell map. */
export function cellIdOf(cell: CellMap): string {
  return cell.get('id') as string;
}

/** The ids of the document's cells, in order. */
export function cellIds(doc: Y.Doc): string[] {
  return cellsOf(doc).map(cellIdOf);
}

/** The cell with this id and its index; NOT_FOUND when there is none. */
export function findCell(doc: Y.Doc, cellId: string): { cell: CellMap; index: number } {
  const index = cellIds(doc).indexOf(cellId);
  if (index < 0) throw new DomainError('NOT_FOUND', `no cell ${cellId}`);
  return { cell: cellsOf(doc).get(index), index };
}
