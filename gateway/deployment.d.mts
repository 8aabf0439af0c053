export declare const GATEWAY_DIR: string;
export declare const COMPOSE_DEPLOYMENT_DIR: string;

export declare function shippedUpstreamParameters(): string;

/** The shipped fail_timeout in milliseconds; throws when the parameter is missing. */
export declare function shippedFailTimeoutMs(): number;

export declare function upstreamAddress(baseUrl: string): string;

export interface DeploymentSettings {
  /** Loopback address to listen on. */
  host: string;
  port: number;
  /** `host:port` of each upstream server. */
  upstreams: readonly string[];
  certs: { certFile: string; keyFile: string; caFile: string };
  /** `proxy_bind`: the address the gateway connects to the instances from. */
  bindAddress?: string;
}

export interface WrittenDeployment {
  configFile: string;
  pidFile: string;
  accessLogPath: string;
  errorLogPath: string;
  /** nginx's arguments to run the deployment in the foreground. */
  args: string[];
}

export declare function writeDeployment(
  dir: string,
  settings: DeploymentSettings,
): WrittenDeployment;
