/** The bundle of an app under dist/. */
export declare function bundlePath(app: string): string;
/** Whether any of the apps' bundles is missing or older than a source. */
export declare function isStale(apps?: string[]): boolean;
/** Dates the bundles now (rspack does not rewrite a bundle whose content is unchanged). */
export declare function markBuilt(apps?: string[]): void;
/** Builds when any of the apps' bundles is missing or older than a source; exits with the build's code if it fails. */
export declare function buildIfStale(apps?: string[]): void;
