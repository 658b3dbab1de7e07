/** The hash-slot function ioredis itself uses (`cluster-key-slot` ships no types). */
declare module 'cluster-key-slot' {
  export default function calculateSlot(key: string | Buffer): number;
}
