/** A server of the comparison, listening on 127.0.0.1. */
export interface RunningServer {
  /** The bound port. */
  readonly port: number;
  /** Stops accepting, ends its connections and resolves once closed. */
  close(): Promise<void>;
}
