/** The kinds of stream in the log, each the prefix of its stream ids (`notebook:<id>`). */
export type StreamKind = 'notebook' | 'kernel' | 'device' | 'widget' | 'function';

/** A stream id: `<kind>:<id>`. */
export type StreamId = `${StreamKind}:${string}`;

/** Builds the stream id of a notebook. */
export const notebookStream = (notebookId: string): StreamId => `notebook:${notebookId}`;

/** Builds the stream id of a kernel. */
export const kernelStream = (kernelId: string): StreamId => `kernel:${kernelId}`;

/** Splits a stream id into its kind and id, or returns null when it is not one. */
export function parseStreamId(stream: string): { kind: StreamKind; id: string } | null {
  const match = /^(notebook|kernel|device|widget|function):(.+)$/.exec(stream);
  return match ? { kind: match[1] as StreamKind, id: match[2] } : null;
}
