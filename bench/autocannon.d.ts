declare module 'autocannon' {
  interface Result {
    requests: { average: number; total: number };
    latency: Record<string, number>;
    non2xx: number;
    errors: number;
    timeouts: number;
    /** Answers by HTTP status code. */
    statusCodeStats?: Record<string, { count: number }>;
  }
  interface Options {
    url: string;
    connections: number;
    /** Seconds to run; or else stop after `amount` requests. */
    duration?: number;
    amount?: number;
    /** Requests per second over all connections (default: as fast as they answer). */
    overallRate?: number;
    method?: string;
    headers?: Record<string, string>;
    body?: string;
    requests?: { method?: string; path?: string; headers?: Record<string, string>; body?: string; setupRequest?: (req: { path: string; body?: string }) => unknown }[];
  }
  function autocannon(opts: Options): Promise<Result>;
  export default autocannon;
}
