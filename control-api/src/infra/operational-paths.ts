/** The API's operational endpoints outside /api/v1, for probes, scrapers and deployment files. */
/** Liveness: the process answers. */
export const HEALTH_PATH = '/healthz';
/** Readiness: the database and Redis are reachable. */
export const READY_PATH = '/readyz';
/** Prometheus text of the API's own metrics; never routed to the outside. */
export const METRICS_PATH = '/metrics';
