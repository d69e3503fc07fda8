/** The SHA-256 constructor the AWS SDK's SigV4 signer takes (the SDK ships its own; node:crypto does the same). */
import { createHash, createHmac } from 'node:crypto'

type SourceData = string | ArrayBuffer | ArrayBufferView

const bytes = (data: SourceData): string | Uint8Array =>
  typeof data === 'string'
    ? data
    : ArrayBuffer.isView(data)
      ? new Uint8Array(data.buffer, data.byteOffset, data.byteLength)
      : new Uint8Array(data)

export class Sha256 {
  private readonly hash
  constructor(secret?: SourceData) {
    this.hash = secret === undefined ? createHash('sha256') : createHmac('sha256', bytes(secret))
  }
  update(data: SourceData): void {
    this.hash.update(bytes(data))
  }
  reset(): void {}
  async digest(): Promise<Uint8Array> {
    return new Uint8Array(this.hash.digest())
  }
}
