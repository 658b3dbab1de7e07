/** The bundle of an app under dist/. */
export declare function bundlePath(app: string): string;
/** Builds when any of the apps' bundles is missing or older than a source; exits with the build's code if it fails. */
export declare function buildIfStale(apps?: string[]): void;
