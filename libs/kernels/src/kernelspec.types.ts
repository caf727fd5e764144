/** How a kernel wants to be interrupted: a SIGINT to its process group, or an `interrupt_request` on control. */
export type InterruptMode = 'signal' | 'message';

/** A kernel.json, with Jupyter's defaults applied. */
export interface KernelSpec {
  argv: string[];
  display_name: string;
  language: string;
  interrupt_mode: InterruptMode;
  env: Record<string, string>;
  metadata: Record<string, unknown>;
}

/** One entry of `GET /api/kernelspecs`: the spec, and its resource files as paths relative to the server root. */
export interface KernelSpecModel {
  name: string;
  spec: KernelSpec;
  resources: Record<string, string>;
}

/** Jupyter Server's `GET /api/kernelspecs` body. */
export interface KernelSpecsModel {
  default: string | null;
  kernelspecs: Record<string, KernelSpecModel>;
}
