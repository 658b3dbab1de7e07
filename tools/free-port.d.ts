/** A TCP port nothing listens on right now: the OS picks it. Another process may take it before the caller binds it. */
export declare function freePort(host?: string): Promise<number>;
