/** A MIME bundle: data keyed by MIME type. */
export type MimeBundle = Record<string, unknown>;

/** Transient data of a display: its display_id, kept so later updates find it; not part of nbformat. */
export interface OutputTransient {
  display_id?: string;
}

/** nbformat `stream` output. */
export interface StreamOutput {
  output_type: 'stream';
  name: 'stdout' | 'stderr';
  text: string;
}

/** nbformat `display_data` output (plus the transient display id). */
export interface DisplayDataOutput {
  output_type: 'display_data';
  data: MimeBundle;
  metadata: Record<string, unknown>;
  transient?: OutputTransient;
}

/** nbformat `execute_result` output (plus the transient display id). */
export interface ExecuteResultOutput {
  output_type: 'execute_result';
  execution_count: number | null;
  data: MimeBundle;
  metadata: Record<string, unknown>;
  transient?: OutputTransient;
}

/** nbformat `error` output. */
export interface ErrorOutput {
  output_type: 'error';
  ename: string;
  evalue: string;
  traceback: string[];
}

/** One nbformat v4 output of a code cell. */
export type NotebookOutput = StreamOutput | DisplayDataOutput | ExecuteResultOutput | ErrorOutput;
